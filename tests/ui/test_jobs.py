"""Jobs in the window: events arrive on the GUI thread, the status strip shows and cancels them."""

from __future__ import annotations

import threading

import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QMainWindow

from app.i18n import Catalogue
from app.jobs import Cancelled, Job, JobRunner, JobState
from app.ui.jobs import STEPS, JobEvents, JobStatusWidget, job_command, report_outcome

pytestmark = pytest.mark.neutral


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    assert r.shutdown(timeout=10)


@pytest.fixture
def events(qtbot, runner):
    ev = JobEvents(runner)
    yield ev
    ev.close()


def test_the_strip_shows_progress_and_its_cancel_button_cancels(qtbot, runner, events):
    window = QMainWindow()
    qtbot.addWidget(window)
    widget = JobStatusWidget(events, Catalogue())
    window.statusBar().addPermanentWidget(widget)
    window.show()
    assert widget.isHidden()
    halfway, first_look = threading.Event(), threading.Event()

    def work(fb):
        first_look.wait(10)  # the test sees the row before any fraction: a busy bar
        fb.progress(0.5, "已处理 50 条")
        halfway.set()
        while True:
            fb.check()
            threading.Event().wait(0.01)

    job = runner.run("导入部件", work)
    qtbot.waitUntil(lambda: widget.row(job) is not None)
    row = widget.row(job)
    assert widget.isVisible() and (row.bar.minimum(), row.bar.maximum()) == (0, 0)
    assert row.label.text() == "导入部件"
    first_look.set()
    qtbot.waitUntil(lambda: row.bar.value() == STEPS // 2)
    assert row.label.text() == row.label.toolTip() == "导入部件：已处理 50 条" and row.cancel_button.isEnabled()
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert job.cancel_requested and not row.cancel_button.isEnabled()
    assert row.label.text() == "导入部件：正在取消…"
    qtbot.waitUntil(lambda: widget.row(job) is None)
    assert job.state is JobState.CANCELLED and widget.isHidden()


def test_events_arrive_on_the_gui_thread_and_progress_bursts_coalesce(qtbot, runner, events):
    seen = []
    gui = threading.get_ident()
    for name in ("started", "progressed", "finished"):
        getattr(events, name).connect(lambda job, n=name: seen.append((n, job.message, threading.get_ident())))

    def work(fb):
        for i in range(1, 10_001):
            fb.progress(i / 10_000, f"第 {i} 条")
        return "ok"

    job = runner.run("一万次进度", work)
    assert job.wait(10)  # the GUI thread was busy all along: nothing was delivered yet
    assert seen == []
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert [s[0] for s in seen] == ["started", "progressed", "finished"]  # one progress update, the newest
    assert seen[1][1] == "第 10000 条" and {s[2] for s in seen} == {gui}


def test_a_closed_adapter_delivers_nothing(qtbot, runner):
    events = JobEvents(runner)
    seen = []
    events.finished.connect(seen.append)
    events.close()
    job = runner.run("关闭之后", lambda fb: 1)
    assert job.wait(10)
    qtbot.wait(50)
    assert seen == []


def test_a_job_command_runs_once_at_a_time_and_reports_the_outcome(qtbot, runner, events):
    window = QMainWindow()
    qtbot.addWidget(window)
    cat = Catalogue()
    gate = threading.Event()
    outcomes = []

    def work(fb):
        gate.wait(10)
        fb.check()
        return None

    def on_finished(job):
        outcomes.append((job.state, threading.get_ident()))
        report_outcome(window, cat, job, lambda result: ("一切正常", False))

    command = job_command(runner, events, "校验审计链", work, on_finished)
    first = command()
    assert isinstance(first, Job) and command() is None  # still running: not started twice
    gate.set()
    qtbot.waitUntil(lambda: len(outcomes) == 1)
    assert outcomes == [(JobState.DONE, threading.get_ident())]
    assert window.statusBar().currentMessage() == "一切正常"
    gate.clear()
    second = command()
    assert second is not first
    second.cancel()
    gate.set()
    qtbot.waitUntil(lambda: len(outcomes) == 2)
    assert outcomes[1][0] is JobState.CANCELLED
    assert window.statusBar().currentMessage() == "已取消：校验审计链"
    command.disconnect()


def test_report_outcome_warns_about_a_problem_and_a_failure(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    cat = Catalogue("en")
    broken = Job("Verify", lambda fb: "chain broken at 7")
    broken.run()
    box = report_outcome(window, cat, broken, lambda result: (f"broken: {result}", True))
    assert box is not None and box.isVisible() and box.text() == "broken: chain broken at 7"
    box.close()
    failed = Job("Verify", lambda fb: 1 / 0)
    failed.run()
    box = report_outcome(window, cat, failed, lambda result: ("", False))
    assert box is not None and box.text().startswith("Verify failed: division by zero")
    box.close()
    cancelled = Job("Verify", lambda fb: (_ for _ in ()).throw(Cancelled()))
    cancelled.run()
    assert report_outcome(window, cat, cancelled, lambda result: ("", False)) is None
    assert window.statusBar().currentMessage() == "Cancelled: Verify"


def test_a_long_message_is_elided_and_whole_in_the_tooltip(qtbot):
    from app.ui.jobs import LABEL_WIDTH, JobRow

    job = Job("导入", lambda fb: None)
    job.feedback.progress(0.1, "很长的消息" * 40)
    row = JobRow(job, Catalogue())
    qtbot.addWidget(row)
    assert row.label.toolTip() == "导入：" + "很长的消息" * 40
    assert "…" in row.label.text() and row.label.fontMetrics().horizontalAdvance(row.label.text()) <= LABEL_WIDTH
