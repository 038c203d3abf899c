"""The bus bridge re-reads changed cases in a worker, one read at a time: the cases a bulk action
commits one after another reach the queue in a few batches, each one announcement for the views,
and none is lost."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

import pytest
from samples import case_row

from app.domain.calendar import WorkCalendar
from app.domain.definitions import Action
from app.services.bus import CaseBus, CaseChanged
from app.ui.work.install import BusBridge
from app.views.queue_state import QueueState

pytestmark = pytest.mark.neutral

NOW = datetime(2026, 11, 20, 10, 0)


class SlowSource:
    """Rows by id, each read taking a little time (a store round trip); counts the reads."""

    def __init__(self, rows):
        self.rows = {r.id: r for r in rows}
        self.reads = 0
        self.fail = set()
        self._lock = threading.Lock()

    def case(self, case_id):
        threading.Event().wait(0.01)
        with self._lock:
            self.reads += 1
            if case_id in self.fail:
                raise RuntimeError("the store went away")
            return self.rows.get(case_id)


def test_a_bulk_of_changes_reaches_the_queue_in_a_few_batches(qtbot, runner):
    rows = [case_row(i, NOW) for i in range(1, 21)]
    state = QueueState(WorkCalendar())
    state.reset(rows, NOW)
    source = SlowSource([replace(r, version=1, urge_count=1) for r in rows])
    source.fail = {7}
    bus = CaseBus()
    bridge = BusBridge(bus, source, state, runner)
    announced: list[object] = []
    state.events.rows_changed.connect(lambda ids: announced.append(ids))
    state.events.rows_reset.connect(lambda: announced.append("reset"))
    events: list[tuple[int, str]] = []
    state.events.case_event.connect(lambda case_id, action: events.append((case_id, action)))
    for row in rows:  # as a bulk action publishes: one case per commit, from its worker
        bus.publish(CaseChanged((row.id,), Action.URGE.value, "leader", versions={row.id: 1}))
    qtbot.waitUntil(lambda: sum(1 for r in state.rows if r.urge_count) == 19, timeout=10000)
    qtbot.wait(100)
    assert state.summary(7).urge_count == 0  # its read failed: logged, the others arrived
    assert sorted(i for i, _ in events) == [i for i in range(1, 21) if i != 7]
    assert len(announced) < 19  # batches, not one announcement per case
    bridge.teardown()


def test_a_case_already_current_is_not_read_again(qtbot, runner):
    row = replace(case_row(1, NOW), version=3)
    state = QueueState(WorkCalendar())
    state.reset([row], NOW)
    source = SlowSource([row])
    bus = CaseBus()
    bridge = BusBridge(bus, source, state, runner)
    bus.publish(CaseChanged((1,), Action.URGE.value, "leader", versions={1: 3}))
    qtbot.wait(100)
    assert source.reads == 0
    bridge.teardown()
