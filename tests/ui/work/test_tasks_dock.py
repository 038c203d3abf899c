"""我的任务 (issue 11, item 4) on the tiny demo store: the supervisor's dock lists exactly the verify/check
tasks sent to it with light and time left; the acceptor's send dialog shows the suggested supervisors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qtpy.QtCore import Qt

from app.domain.definitions import Action, CaseState, Light, Role
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from app.ui.forms.action_dialogs import ActionDialog
from app.ui.style import LIGHT_COLOURS
from app.ui.tasks_dock import TASKS_DOCK, TasksDock, supervisor_tasks
from ui.forms.world import T0, street_point

from .helpers import desk_window, wait_idle

pytestmark = pytest.mark.neutral


def _reported(desk, login_as):
    x, y = street_point(desk)
    return desk.cases.report(login_as(Role.SUPERVISOR), ReportDraft(
        category="event:06001", description="待核实的上报", location=LocationInput(x=x, y=y), source="supervisor"))


def test_the_dock_lists_the_supervisor_s_tasks_with_light_and_time_left(qtbot, desk, login_as, queue, runner):
    me, acceptor = login_as(Role.SUPERVISOR), login_as(Role.ACCEPTOR)
    mine = _reported(desk, login_as)
    mine = desk.cases.send_verify(acceptor, mine.case.id, mine.version, supervisor=me.username)
    other = _reported(desk, login_as)
    other = desk.cases.send_verify(acceptor, other.case.id, other.version)  # → the suggested patrol supervisor
    assert other.details["supervisor"]["username"] != me.username
    queue.reset(desk.source.open_cases(), T0)
    dock = TasksDock(queue, runner, supervisor_tasks(desk, me))
    qtbot.addWidget(dock)
    wait_idle(qtbot, runner)
    assert dock.ids() == [mine.case.id]
    assert dock.summary.text() == "我的任务 1 件，超时 0 件"
    item = dock.tree.topLevelItem(0)
    assert item.text(1) == "核实" and item.text(2) == "01:00:00" and item.text(3) != "—"
    assert item.foreground(2).color().name() == LIGHT_COLOURS[Light.GREEN].lower()
    queue.tick(T0 + timedelta(hours=3))  # past the verify limit: red, overdue
    dock.refresh()
    item = dock.tree.topLevelItem(0)
    assert item.text(2).startswith("-") and item.foreground(2).color().name() == LIGHT_COLOURS[Light.RED].lower()
    assert dock.summary.text() == "我的任务 1 件，超时 1 件"
    dock.tree.itemClicked.emit(item, 0)
    assert queue.selected_id == mine.case.id
    # the supervisor verifies: the task leaves the list when the queue learns of it
    done = desk.cases.verify(me, mine.case.id, mine.version, result="现场属实")
    queue.upsert(done.case, Action.VERIFY.value)
    qtbot.waitUntil(lambda: dock.ids() == [], timeout=5000)
    assert dock.summary.text() == "没有待办的核实/核查任务"
    dock.teardown()


def test_the_supervisor_s_desk_has_the_dock_and_others_do_not(qtbot, tmp_path, desk, login_as, queue, runner):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.SUPERVISOR)) as (window, made):
        assert isinstance(made.widgets.get(TASKS_DOCK), TasksDock)
        assert window.dock_registry.dock(TASKS_DOCK).windowTitle() == "我的任务"
        wait_idle(qtbot, runner)
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.ACCEPTOR)) as (window, made):
        assert TASKS_DOCK not in made.widgets


def test_the_send_dialog_shows_the_suggested_supervisors_and_sends_to_the_first(qtbot, desk, login_as, queue,
                                                                                 runner):
    acceptor = login_as(Role.ACCEPTOR)
    reported = _reported(desk, login_as)
    queue.reset(desk.source.open_cases(), T0)
    dialog = ActionDialog(desk, acceptor, runner, Action.SEND_VERIFY, queue.summary(reported.case.id))
    qtbot.addWidget(dialog)
    wait_idle(qtbot, runner)
    shown = dialog.widgets["suggestion"].text()
    assert "本网格的责任监督员" in shown and shown.splitlines()[1].startswith("1. ")
    first = shown.splitlines()[1].split("（", 1)[1].split("）", 1)[0]
    picker = dialog.widgets["supervisor"]
    assert picker.currentIndex() == 0 and picker.currentData() == ""  # the first suggestion, by default
    assert picker.itemText(0) == f"首选建议：{picker.itemText(1)[3:].split('（')[0]}（{first}）"
    assert picker.itemData(1) == first and picker.count() > 2  # then the others, every supervisor offered
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, runner)
    assert dialog.result_value is not None, dialog.banner.text()
    assert dialog.result_value.case.state is CaseState.VERIFYING
    assert dialog.result_value.details["supervisor"] == {**dialog.result_value.details["supervisor"],
                                                         "username": first, "suggested": True}


def test_the_send_dialog_sends_to_the_supervisor_picked(qtbot, desk, login_as, queue, runner):
    acceptor = login_as(Role.ACCEPTOR)
    reported = _reported(desk, login_as)
    queue.reset(desk.source.open_cases(), T0)
    dialog = ActionDialog(desk, acceptor, runner, Action.SEND_VERIFY, queue.summary(reported.case.id))
    qtbot.addWidget(dialog)
    wait_idle(qtbot, runner)
    picker = dialog.widgets["supervisor"]
    picker.setCurrentIndex(picker.count() - 1)  # the last one offered: not among the suggestions
    picked = picker.currentData()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, runner)
    assert dialog.result_value is not None, dialog.banner.text()
    assert dialog.result_value.details["supervisor"]["username"] == picked
    assert not dialog.result_value.details["supervisor"]["suggested"]
