"""The statistics dock computes when it is first seen (PyQt only: the dock draws with pyqtgraph)."""

from __future__ import annotations

from datetime import date

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDockWidget, QLabel, QMainWindow

from app.jobs import JobRunner
from app.ui.jobs import JobEvents
from app.ui.sight import out_of_sight
from app.ui.stats.dock import StatsDock


def _window(qtbot, content):
    """A shown main window whose bottom area holds a queue stand-in and ``content`` as two tabs."""
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QLabel("map"))
    front = QDockWidget("front")
    front.setObjectName("front")
    front.setWidget(QLabel("queue"))
    back = QDockWidget("back")
    back.setObjectName("back")
    back.setWidget(content)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, front)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, back)
    window.tabifyDockWidget(front, back)
    front.raise_()
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: out_of_sight(content))
    return window, front, back


def test_statistics_behind_a_tab_are_computed_only_once_the_tab_is_raised(qtbot):
    """The statistics dock computes when it is first seen, not when its window opens with it as a tab
    behind the queue: seconds of evaluation in the desk's interpreter that nobody looks at."""
    asked: list[tuple] = []

    def compute(start, end, _feedback):
        asked.append((start, end))
        raise RuntimeError("no statistics in this test")  # the dock reports a failed job

    runner = JobRunner(max_workers=1, name="test-sight")
    events = JobEvents(runner)
    try:
        dock = StatsDock(compute, date(2026, 11, 20), jobs=runner, job_events=events)
        _window_, _front, back = _window(qtbot, dock)
        qtbot.wait(200)
        assert asked == [] and dock.job is None
        back.raise_()
        qtbot.waitUntil(lambda: len(asked) == 1, timeout=5000)
        qtbot.waitUntil(lambda: dock.job is None, timeout=5000)
        _front.raise_()
        back.raise_()
        qtbot.wait(200)
        assert len(asked) == 1  # once: a second showing does not compute again by itself
    finally:
        events.close()
        runner.shutdown(timeout=10)


def test_the_statistics_buttons_say_when_they_can_be_used(qtbot):
    """Issue 10: every disabled action says why — the dock's cancel, 只看超时 and map buttons too."""
    runner = JobRunner(max_workers=1, name="test-sight-tips")
    events = JobEvents(runner)
    try:
        dock = StatsDock(lambda *_a: None, date(2026, 11, 20), jobs=runner, job_events=events)
        qtbot.addWidget(dock)
        for widget in (dock.cancel_button, dock.late_only, dock.map_button):
            assert not widget.isEnabled() and widget.toolTip(), widget.objectName()
    finally:
        events.close()
        runner.shutdown(timeout=10)
