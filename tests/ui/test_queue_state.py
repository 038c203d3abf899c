"""QueueState: readings, lights, filters, sorting and selection, without Qt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.definitions import Action, CaseState, Light
from app.ui.events import Signal
from app.ui.queue_state import QueueFilter, QueueState, SortKey
from app.ui.sample import case_row

from .conftest import NOW


@pytest.fixture
def state(calendar, rows):
    s = QueueState(calendar)
    s.reset(rows, NOW)
    return s


def record(signal):
    calls = []
    signal.connect(lambda *args: calls.append(args))
    return calls


def test_counters_count_lights_pauses_and_urgings(state):
    c = state.counters
    assert (c.open, c.red, c.yellow, c.green, c.paused, c.urged) == (5, 1, 1, 2, 1, 1)
    assert c.by_stage == {"handle": 4}


def test_light_turns_yellow_after_80_percent_and_red_after_100(calendar):
    s = QueueState(calendar)
    s.reset([case_row(1, NOW, limit_minutes=100, started_minutes_ago=79)], NOW)
    assert s.reading(1).light is Light.GREEN
    s.tick(NOW + timedelta(minutes=2))  # 81 %
    assert s.reading(1).light is Light.YELLOW
    s.tick(NOW + timedelta(minutes=22))  # 101 %
    assert s.reading(1).light is Light.RED
    assert s.reading(1).overdue


def test_tick_reports_changed_counters_only_when_they_change(calendar):
    s = QueueState(calendar)
    s.reset([case_row(1, NOW, limit_minutes=100, started_minutes_ago=10)], NOW)
    changed = record(s.events.counters_changed)
    ticks = record(s.events.tick)
    s.tick(NOW + timedelta(seconds=1))
    assert ticks and not changed
    s.tick(NOW + timedelta(minutes=75))
    assert changed[-1][0].yellow == 1


def test_sort_by_remaining_puts_overdue_first_and_untimed_last(state):
    state.set_sort(SortKey.REMAINING)
    assert state.visible_ids == (3, 2, 1, 5, 4)


def test_sort_by_other_columns_and_descending(state):
    state.set_sort(SortKey.CATEGORY)
    assert [state.summary(i).category_code for i in state.visible_ids][:2] == ["01002", "06010"]
    state.set_sort(SortKey.URGED, descending=True)
    assert state.visible_ids[0] == 2


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (QueueFilter(states=frozenset({CaseState.FILED})), {3}),
        (QueueFilter(lights=frozenset({Light.RED, Light.YELLOW})), {2, 3}),
        (QueueFilter(category="06"), {1, 4, 5}),
        (QueueFilter(category="01002"), {2}),
        (QueueFilter(category="小广告"), {3}),
        (QueueFilter(department_code="D01"), {1, 5}),
        (QueueFilter(grid_code="320582002"), {3, 5}),
        (QueueFilter(text="人民路2号"), {2}),
        (QueueFilter(department_code="D01", grid_code="320582002"), {5}),
    ],
)
def test_filters(state, spec, expected):
    state.set_filter(spec)
    assert set(state.visible_ids) == expected


def test_light_filter_follows_the_clock(state):
    state.update_filter(lights=frozenset({Light.RED}))
    assert state.visible_ids == (3,)
    resets = record(state.events.rows_reset)
    state.tick(NOW + timedelta(minutes=15))  # case 2 passes 100 %
    assert set(state.visible_ids) == {2, 3}
    assert resets


def test_selection_is_announced_once_with_coordinates(state):
    seen = []
    state.on_case_selected(lambda *args: seen.append(args))
    state.select(2)
    state.select(2)
    assert seen == [(2, 1002.0, 2002.0)]
    with pytest.raises(KeyError, match="not in the queue"):
        state.select(99)


def test_upsert_announces_the_action_and_updates_the_timer(state):
    events = record(state.events.case_event)
    row = case_row(1, NOW, limit_minutes=100, started_minutes_ago=95, urge_count=1)
    state.upsert(row, Action.URGE.value)
    assert events == [(1, "urge")]
    assert state.reading(1).light is Light.YELLOW
    assert state.counters.urged == 2


def test_remove_clears_selection(state):
    selections = record(state.events.selection_changed)
    state.select(3)
    state.remove(3, Action.CLOSE.value)
    assert state.summary(3) is None and state.selected_id is None
    assert selections == [(3,), (None,)]


def test_departments_and_states_offered_to_the_filter_bar(state):
    assert dict(state.departments()) == {"D01": "区环卫所", "D02": "区排水公司", "D03": "城东街道办"}
    assert state.states() == [CaseState.VERIFYING, CaseState.FILED, CaseState.HANDLING]


def test_explain_mentions_the_deadline(state):
    assert "截止" in state.explain(1)
    assert state.explain(4) == ""


def test_a_failing_listener_does_not_starve_the_others(caplog):
    signal = Signal("demo")
    got = []
    signal.connect(lambda: 1 / 0)
    signal.connect(lambda: got.append(True))
    signal.emit()
    assert got == [True]
    assert "ZeroDivisionError" in caplog.text
