"""CaseDetailDock: header, live timer and a timeline loaded in a worker."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from samples import MemoryCaseSource

from app.domain.cases import CaseEventRecord
from app.domain.definitions import Action
from app.ui.detail_dock import CaseDetailDock
from app.views.queue_state import QueueState

from .conftest import NOW

pytestmark = pytest.mark.neutral


def timeline(case_id):
    return [
        CaseEventRecord(1, NOW - timedelta(minutes=50), "report", None, "reported", "李明", "supervisor"),
        CaseEventRecord(2, NOW - timedelta(minutes=45), "dispatch", "filed", "dispatched", "赵强",
                        "dispatcher", reason=f"派遣 {case_id}"),
    ]


@pytest.fixture
def parts(qtbot, calendar, rows, runner):
    source = MemoryCaseSource(rows, {r.id: timeline(r.id) for r in rows})
    state = QueueState(calendar)
    state.reset(rows, NOW)
    dock = CaseDetailDock(state, source, runner)
    qtbot.addWidget(dock)
    yield state, source, dock
    dock.teardown()


def texts(dock):
    return [dock.timeline.item(i).text() for i in range(dock.timeline.count())]


def test_selecting_a_case_shows_header_timer_and_timeline(qtbot, parts):
    state, source, dock = parts
    state.select(2)
    assert dock.title.text().startswith(state.summary(2).number)
    assert dock.fields["类别"].text() == "01002 污水井盖"
    assert "黄灯" in dock.fields["计时"].text()
    assert "截止" in dock.explanation.text()
    qtbot.waitUntil(lambda: dock.timeline.count() == 2)
    first, second = texts(dock)
    assert "上报" in first and "李明（监督员）" in first
    assert "派遣" in second and "待派遣 → 待接收" in second and "派遣 2" in second


def test_a_stale_timeline_answer_is_dropped(qtbot, calendar, rows, runner):
    gate = threading.Event()

    class SlowFirst(MemoryCaseSource):
        def events(self, case_id):
            if case_id == 1:
                gate.wait(5)  # the first answer arrives after the second request
            return super().events(case_id)

    state = QueueState(calendar)
    state.reset(rows, NOW)
    dock = CaseDetailDock(state, SlowFirst(rows, {r.id: timeline(r.id) for r in rows}), runner)
    qtbot.addWidget(dock)
    state.select(1)
    state.select(3)
    qtbot.waitUntil(lambda: dock.timeline.count() == 2)
    gate.set()
    runner.wait()
    qtbot.waitUntil(lambda: not runner.is_busy())
    assert "派遣 3" in texts(dock)[1]
    dock.teardown()


def test_a_new_case_event_reloads_the_timeline(qtbot, parts):
    state, source, dock = parts
    state.select(1)
    qtbot.waitUntil(lambda: dock.timeline.count() == 2)
    source.timelines[1].append(
        CaseEventRecord(3, NOW, "urge", "handling", "handling", "陈局长", "leader", reason="加快"))
    state.upsert(state.summary(1), Action.URGE.value)
    qtbot.waitUntil(lambda: dock.timeline.count() == 3)
    assert "督办" in texts(dock)[2]


def test_clearing_the_selection_clears_the_dock(qtbot, parts):
    state, source, dock = parts
    state.select(4)
    assert dock.fields["计时"].text() == "无计时"
    state.remove(4)
    assert dock.title.text() == "未选择案卷"
