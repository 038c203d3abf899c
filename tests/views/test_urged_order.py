"""督办 raises the priority: urged cases first (highest level first) in the dispatcher's and the
department operator's time orders, kept exact as the clock runs; other roles' order unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from samples import case_row
from ui.conftest import NOW

from app.domain.definitions import Basis, Role
from app.domain.ticktable import TickTable
from app.views.queue_order import RemainingOrder, urge_tier, urged_first
from app.views.queue_state import QueueState, SortKey
from views.test_queue_state import START, brute_order, queues


def test_urged_first_is_for_the_dispatcher_and_the_department_only():
    assert urged_first(Role.DISPATCHER) and urged_first("department")
    assert not any(urged_first(r) for r in (Role.LEADER, Role.ACCEPTOR, Role.SHIFT_LEADER, Role.SUPERVISOR))
    assert not urged_first(None) and not urged_first("nobody")
    assert urge_tier(3) < urge_tier(2) < urge_tier(1) < urge_tier(0) == urge_tier(None) == 0


def _rows():
    # 1: most time left, 督办 3 级; 2: overdue, not urged; 3: little left, 督办 1 级; 4: half left, 督办 3 级
    return [
        replace(case_row(1, NOW, limit_minutes=100, started_minutes_ago=5), urge_level=3, urge_count=1),
        case_row(2, NOW, limit_minutes=100, started_minutes_ago=130),
        replace(case_row(3, NOW, limit_minutes=100, started_minutes_ago=90), urge_level=1, urge_count=2),
        replace(case_row(4, NOW, limit_minutes=100, started_minutes_ago=50), urge_level=3, urge_count=1),
        case_row(5, NOW, limit_minutes=100, started_minutes_ago=60),
    ]


@pytest.mark.parametrize("key", [SortKey.REMAINING, SortKey.LIGHT])
def test_urged_cases_come_first_by_level_then_by_time(calendar, key):
    s = QueueState(calendar, urged_first=True)
    s.reset(_rows(), NOW)
    s.set_sort(key)
    assert s.visible_ids == (4, 1, 3, 2, 5)  # 3 级 by remaining time, then 1 级, then the rest
    s.set_sort(key, descending=True)  # the most time left first, urged cases still first
    assert s.visible_ids == (1, 4, 3, 5, 2)


def test_without_urged_first_the_time_order_is_as_before(calendar):
    s = QueueState(calendar)
    s.reset(_rows(), NOW)
    assert s.visible_ids == (2, 3, 5, 4, 1)


def test_a_column_the_user_sorts_by_is_taken_as_asked(calendar):
    s = QueueState(calendar, urged_first=True)
    s.reset(_rows(), NOW)
    s.set_sort(SortKey.NUMBER)
    assert s.visible_ids == (1, 2, 3, 4, 5)


def test_an_urge_moves_the_case_to_the_top_at_once_and_time_keeps_the_tiers(calendar):
    s = QueueState(calendar, urged_first=True)
    s.reset(_rows(), NOW)
    s.upsert(replace(s.summary(5), urge_level=2, urge_count=1, version=s.summary(5).version + 1), "urge")
    assert s.visible_ids == (4, 1, 5, 3, 2)
    for minutes in (30, 90, 600, 3000):  # the 1 级 case goes red, the 3 级 ones too: tiers stay
        s.tick(NOW + timedelta(minutes=minutes))
        assert s.visible_ids == (4, 1, 5, 3, 2)


def _tiered_brute_order(state, calendar, now):
    base = brute_order(state, calendar, now)  # stable: sorting by the tier keeps the time order
    return tuple(sorted(base, key=lambda i: urge_tier(state.summary(i).urge_level)))


@settings(deadline=None, max_examples=50)
@given(queues, st.lists(st.integers(1, 3 * 86_400), min_size=1, max_size=8), st.booleans(),
       st.sampled_from([SortKey.REMAINING, SortKey.LIGHT]), st.data())
def test_the_tiered_order_matches_a_full_recomputation(calendar, spec_numbers, deltas, descending, key, data):
    rows = []
    for case_id, (spec, number) in enumerate(spec_numbers, start=1):
        level = data.draw(st.sampled_from([0, 0, 1, 2, 3]))
        rows.append(replace(case_row(case_id, START), number=f"N{number:03d}", timer=spec, urge_level=level))
    s = QueueState(calendar, urged_first=True)
    s.reset(rows, START)
    s.set_sort(key, descending)
    now = START
    assert s.visible_ids == _tiered_brute_order(s, calendar, now)
    for seconds in deltas:
        now += timedelta(seconds=max(seconds, 30) if key is SortKey.LIGHT else seconds)
        s.tick(now)
        assert s.visible_ids == _tiered_brute_order(s, calendar, now)
        if data.draw(st.booleans()):  # an urge (or a new level) arrives between ticks
            case_id = data.draw(st.sampled_from([r.id for r in s.rows]))
            row = s.summary(case_id)
            s.upsert(replace(row, urge_level=data.draw(st.integers(0, 3)), version=row.version + 1), "urge")
            if key is SortKey.LIGHT:
                s.tick(now + timedelta(seconds=30))
                now += timedelta(seconds=30)
            assert s.visible_ids == _tiered_brute_order(s, calendar, now)


def test_rows_of_different_tiers_are_never_swapped_by_the_clock(calendar):
    from app.domain.cases import TimerSpec
    from app.domain.definitions import Stage

    start = NOW.replace(hour=16, minute=50)
    # 1 is urged with plenty of time on the working clock; 2 is not urged and has little left
    table = TickTable(calendar, [(1, TimerSpec(Stage.HANDLE, Basis.WORKING, 600, start)),
                                 (2, TimerSpec(Stage.HANDLE, Basis.NATURAL, 5, start))])
    table.advance(start)
    order = RemainingOrder(table, {1: 0, 2: 1}, [1, 2], tier={1: -2, 2: 0}.__getitem__)
    assert order.ids == [1, 2]
    for hours in (1, 10, 100):
        table.advance(start + timedelta(hours=hours))
        order.advance()
        assert order.ids == [1, 2]
