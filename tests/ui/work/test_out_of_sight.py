"""A list nobody sees (its dock a tab behind another, or closed) does not follow every change of the
queue; it catches up once when it comes into sight."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget
from samples import case_row

from app.domain.calendar import WorkCalendar
from app.domain.definitions import CaseState, Role
from app.services.actors import Actor
from app.ui.sight import out_of_sight
from app.views.queue_state import QueueState

pytestmark = pytest.mark.neutral

NOW = datetime(2026, 11, 20, 10, 0)


def _window(qtbot, content: QWidget):
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
    window.resize(900, 700)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: out_of_sight(content))
    return window, front, back


def test_a_tab_behind_another_is_out_of_sight_though_qt_calls_it_visible(qtbot):
    content = QLabel("list")
    _window_, front, back = _window(qtbot, content)
    assert content.isVisible()  # Qt 5 moves the dock away rather than hiding it
    assert out_of_sight(content)
    back.raise_()
    qtbot.waitUntil(lambda: not out_of_sight(content))


def test_a_widget_in_a_window_not_yet_shown_counts_as_seen(qtbot):
    widget = QLabel("list")
    qtbot.addWidget(widget)
    assert not out_of_sight(widget)


def test_throttled_reloads_wait_for_a_hidden_tab_and_run_once_when_it_is_raised(qtbot):
    from app.ui.work.throttle import Throttle

    content = QLabel("list")
    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), interval_ms=50, parent=content)
    _window_, _front, back = _window(qtbot, content)
    for _ in range(50):
        throttle()
    qtbot.wait(150)
    assert calls == [] and throttle.pending()
    back.raise_()
    qtbot.waitUntil(lambda: calls == [1])
    qtbot.wait(150)
    assert calls == [1] and not throttle.pending()
    throttle()  # in sight now: at once, as before
    assert calls == [1, 1]


def test_a_closed_dock_catches_up_when_opened_again(qtbot):
    from app.ui.work.throttle import Throttle

    content = QLabel("list")
    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), interval_ms=50, parent=content)
    _window_, _front, back = _window(qtbot, content)
    back.raise_()
    qtbot.waitUntil(lambda: not out_of_sight(content))
    back.close()
    throttle()
    throttle()
    qtbot.wait(100)
    assert calls == []
    back.show()
    back.raise_()  # reopened among its tabs: brought to the front
    qtbot.waitUntil(lambda: calls == [1])


def test_the_to_do_list_behind_the_queue_shows_a_new_case_once_its_tab_is_raised(qtbot):
    from app.ui.work.my_queue import MyQueueDock

    state = QueueState(WorkCalendar())
    state.reset([case_row(1, NOW, state=CaseState.FILED)], NOW)
    dock = MyQueueDock(state, Actor("d1", "调度员", Role.DISPATCHER, None, 1))
    _window_, _front, back = _window(qtbot, dock)
    assert dock.list.ids() == [1]
    reloads: list[int] = []
    original = dock.reload
    dock._reload_soon._fn = lambda: (reloads.append(1), original())
    with state.batch():
        for i in range(2, 30):
            state.upsert(case_row(i, NOW, state=CaseState.FILED))
    state.upsert(replace(state.summary(1), version=5, urge_count=1))
    qtbot.wait(300)
    assert reloads == [] and dock.list.ids() == [1]  # nobody sees it: nothing rebuilt
    back.raise_()
    qtbot.waitUntil(lambda: len(dock.list.ids()) == 29)
    assert reloads == [1]

