"""A case found in the archive (closed, voided, not queued) can be the current case until another
one is chosen; the queue's rows, counters and filter never see it (issue 10, item 2)."""

from __future__ import annotations

from samples import case_row

from app.domain.definitions import CaseState
from app.views.queue_state import QueueState
from views.conftest import NOW


def _state(calendar, rows) -> QueueState:
    state = QueueState(calendar)
    state.reset(rows, NOW)
    return state


def test_a_closed_case_becomes_current_without_joining_the_queue(calendar, rows):
    state = _state(calendar, rows)
    counters = state.counters
    shown = state.visible_ids
    closed = case_row(99, NOW, limit_minutes=None, state=CaseState.CLOSED)
    selected, located = [], []
    state.events.selection_changed.connect(selected.append)
    state.on_case_selected(lambda case_id, x, y: located.append((case_id, x, y)))

    state.select_found(closed)
    assert state.selected_id == 99 and state.archived_id == 99
    assert state.summary(99) is closed
    assert selected == [99] and located == [(99, closed.x, closed.y)]
    assert state.visible_ids == shown and state.counters == counters and 99 not in {r.id for r in state.rows}
    assert state.reading(99) is None

    state.reset(rows, NOW)  # a reload keeps the archived case current
    assert state.selected_id == 99

    state.select(1)  # another case: the archived one is gone
    assert state.archived_id is None and state.summary(99) is None


def test_a_found_case_the_queue_holds_selects_its_queue_row(calendar, rows):
    state = _state(calendar, rows)
    state.select_found(case_row(2, NOW))
    assert state.selected_id == 2 and state.archived_id is None
    assert state.summary(2) is state.rows[1]
