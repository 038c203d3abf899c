"""QueueState: a row change moves that row alone under every column sort, and a batch of changes
is announced once (a burst of live changes or a bulk action's results)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from samples import case_row
from ui.conftest import NOW

from app.domain.definitions import Action, CaseState, Level, Source
from app.views.queue_state import QueueState, SortKey

START = NOW
STATIC_KEYS = [k for k in SortKey if k not in (SortKey.LIGHT, SortKey.REMAINING)]
STATES = [CaseState.FILED, CaseState.DISPATCHED, CaseState.HANDLING, CaseState.VERIFYING]


def record(signal):
    calls = []
    signal.connect(lambda *args: calls.append(args))
    return calls


def _row(case_id: int, number: int, variant: int):
    """A row whose every column value comes from ``variant`` (few values, so ties happen)."""
    row = case_row(case_id, START, started_minutes_ago=variant % 7, urge_count=variant % 3,
                   state=STATES[variant % len(STATES)],
                   category=(("06010", "暴露垃圾"), ("01002", "井盖"))[variant % 2],
                   department=(("D01", "区环卫所"), ("D02", "区城管局"), None)[variant % 3],
                   grid_code=f"32058200100{variant % 4}")
    return replace(row, number=f"N{number:03d}", level=list(Level)[variant % len(Level)],
                   source=list(Source)[variant % len(Source)],
                   street_name=("城东街道", "城西街道", None)[variant % 3],
                   community_name=("明珠社区", "")[variant % 2])


def full_sort(state: QueueState) -> tuple[int, ...]:
    """The order a fresh sort of every row gives (what set_sort computes from scratch)."""
    fresh = QueueState(state.calendar)
    fresh.reset(state.rows, START)
    fresh.set_filter(state.filter)
    fresh.set_sort(state.sort_key, state.descending)
    return fresh.visible_ids


changes = st.lists(st.one_of(
    st.tuples(st.just("upsert"), st.integers(1, 12), st.integers(0, 30), st.integers(0, 11)),
    st.tuples(st.just("remove"), st.integers(1, 12)),
), min_size=1, max_size=14)


@settings(deadline=None, max_examples=80)
@given(st.lists(st.integers(0, 11), min_size=1, max_size=12), changes, st.sampled_from(STATIC_KEYS),
       st.booleans(), st.booleans())
def test_a_changed_row_lands_where_a_full_sort_puts_it(calendar, variants, ops, key, descending, batched):
    s = QueueState(calendar)
    s.reset([_row(i, 30 - i, v) for i, v in enumerate(variants, start=1)], START)
    s.set_sort(key, descending)
    s.update_filter(states=frozenset(STATES[:3]))  # some rows are hidden, and come and go
    resets = record(s.events.rows_reset)
    with s.batch() if batched else nullcontext():
        for op in ops:
            if op[0] == "upsert":
                _, case_id, number, variant = op
                old = s.summary(case_id)
                s.upsert(replace(_row(case_id, number, variant), version=(old.version + 1 if old else 0)))
            else:
                s.remove(op[1])
            assert s.visible_ids == full_sort(s)
    if batched:
        assert len(resets) <= 1


def test_a_batch_is_announced_once_after_its_last_change(calendar):
    s = QueueState(calendar)
    s.reset([case_row(i, NOW, started_minutes_ago=i) for i in range(1, 6)], NOW)
    s.set_sort(SortKey.URGED, descending=True)
    changed, reset, counters = record(s.events.rows_changed), record(s.events.rows_reset), record(s.events.counters_changed)
    events = record(s.events.case_event)
    with s.batch():
        s.upsert(replace(s.summary(2), version=2, address="新地址"), Action.URGE.value)
        s.upsert(replace(s.summary(4), version=2, address="新地址"), Action.URGE.value)
        assert s.summary(2).address == "新地址"  # the state is current inside the batch
        assert not (changed or reset or counters or events)  # the views hear nothing yet
    assert changed == [([2, 4],)] and not reset  # the order did not change: one rows_changed
    assert len(counters) == 1
    assert events == [(2, Action.URGE.value), (4, Action.URGE.value)]


def test_a_batch_that_moves_rows_is_one_reset(calendar):
    s = QueueState(calendar)
    s.reset([case_row(i, NOW, started_minutes_ago=i) for i in range(1, 6)], NOW)
    s.set_sort(SortKey.URGED, descending=True)
    changed, reset = record(s.events.rows_changed), record(s.events.rows_reset)
    with s.batch():
        with s.batch():  # nested: the outermost batch announces
            s.upsert(replace(s.summary(5), version=2, urge_count=3), Action.URGE.value)
        assert not reset
        s.remove(1, Action.CLOSE.value, version=9)
        s.upsert(case_row(7, NOW, started_minutes_ago=2))
    assert len(reset) == 1 and not changed
    assert s.visible_ids[0] == 5 and 1 not in s.visible_ids and 7 in s.visible_ids


def test_an_empty_batch_announces_nothing(calendar):
    s = QueueState(calendar)
    s.reset([case_row(1, NOW)], NOW)
    heard = record(s.events.rows_changed) + record(s.events.rows_reset) + record(s.events.counters_changed)
    with s.batch():
        s.upsert(replace(s.summary(1), version=-1))  # older than the row held: ignored
    assert heard == []


def test_removing_the_current_case_in_a_batch_clears_the_selection_at_once(calendar):
    s = QueueState(calendar)
    s.reset([case_row(i, NOW) for i in (1, 2)], NOW)
    s.select(1)
    selections = record(s.events.selection_changed)
    with s.batch():
        s.remove(1, Action.CLOSE.value)
        assert selections == [(None,)] and s.selected_id is None
    assert s.visible_ids == (2,)


def test_a_batch_that_raises_still_announces_what_it_changed(calendar):
    s = QueueState(calendar)
    s.reset([case_row(i, NOW) for i in (1, 2)], NOW)
    changed = record(s.events.rows_changed)
    try:
        with s.batch():
            s.upsert(replace(s.summary(1), version=2, urge_count=1))
            raise RuntimeError("a later row failed")
    except RuntimeError:
        pass
    assert changed == [([1],)]
    s.upsert(replace(s.summary(2), version=2, urge_count=1))  # and the next change is heard at once
    assert changed[-1] == ([2],)


def test_sorting_by_every_column_is_stable_by_case_number(calendar):
    s = QueueState(calendar)
    rows = [_row(i, 20 - i, v) for i, v in enumerate([0, 4, 8, 1, 5, 9, 2], start=1)]
    s.reset(rows, NOW + timedelta(minutes=1))
    for key in STATIC_KEYS:
        for descending in (False, True):
            s.set_sort(key, descending)
            ids = s.visible_ids
            for a, b in zip(ids, ids[1:], strict=False):
                va, vb = _value(s.summary(a), key), _value(s.summary(b), key)
                assert (va > vb if descending else va < vb) or (va == vb and s.summary(a).number < s.summary(b).number)


def _value(row, key: SortKey):
    return {
        SortKey.NUMBER: row.number, SortKey.STATE: list(CaseState).index(row.state),
        SortKey.CATEGORY: row.category_code, SortKey.LEVEL: row.level.value, SortKey.GRID: row.grid_code or "",
        SortKey.PLACE: (row.street_name or "", row.community_name or ""),
        SortKey.DEPARTMENT: row.department_name or "", SortKey.SOURCE: row.source.value,
        SortKey.REPORTED: row.reported_at, SortKey.URGED: row.urge_count,
    }[key]
