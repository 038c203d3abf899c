"""Several queue rows picked at once (Shift/Ctrl+click, Shift+arrows) feed the bulk actions, while a
single-case shortcut still acts only on one case the user can see (issue 10, item 1). Over a real
store, in the main window at 1920×1080."""

from __future__ import annotations

from dataclasses import replace

import pytest
from qtpy.QtCore import QPoint, Qt

from app.commands import command_id
from app.domain.definitions import Action, CaseState, Role

from .helpers import wait_idle
from .test_safe_selection import MY_QUEUE_DOCK, hall_window

pytestmark = pytest.mark.neutral


def click_row(qtbot, dock, case_id, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    row = dock.model.row_of(case_id)
    dock.table.scrollTo(dock.model.index(row, 0))
    rect = dock.table.visualRect(dock.model.index(row, 2))
    qtbot.mouseClick(dock.table.viewport(), Qt.MouseButton.LeftButton, modifier, QPoint(rect.center()))


def _filed_rows(queue):
    ids = [i for i in queue.visible_ids if queue.summary(i).state is CaseState.FILED]
    assert len(ids) >= 3
    return ids


def test_shift_and_ctrl_click_pick_rows_and_the_clicked_one_is_current(qtbot, tmp_path, desk, login_as, queue,
                                                                        runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        window.dock_registry.dock(MY_QUEUE_DOCK).hide()
        ids = list(queue.visible_ids)
        click_row(qtbot, dock, ids[2])
        assert dock.picked_ids() == [ids[2]] and queue.selected_id == ids[2]
        click_row(qtbot, dock, ids[5], Qt.KeyboardModifier.ShiftModifier)
        assert dock.picked_ids() == ids[2:6] and queue.selected_id == ids[5]
        click_row(qtbot, dock, ids[8], Qt.KeyboardModifier.ControlModifier)
        assert dock.picked_ids() == [*ids[2:6], ids[8]] and queue.selected_id == ids[8]
        # Ctrl+click on the current row unpicks it: another picked row becomes current, never an unpicked one
        click_row(qtbot, dock, ids[8], Qt.KeyboardModifier.ControlModifier)
        assert dock.picked_ids() == ids[2:6] and queue.selected_id in ids[2:6]
        # a plain click picks that row alone again
        click_row(qtbot, dock, ids[1])
        assert dock.picked_ids() == [ids[1]] and queue.selected_id == ids[1]


def test_shift_arrows_extend_the_pick_from_the_current_row(qtbot, tmp_path, desk, login_as, queue, runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        ids = list(queue.visible_ids)
        click_row(qtbot, dock, ids[3])
        dock.table.setFocus()
        for _ in range(3):
            qtbot.keyClick(dock.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
        assert dock.picked_ids() == ids[3:7] and queue.selected_id == ids[6]
        qtbot.keyClick(dock.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
        assert dock.picked_ids() == ids[3:6] and queue.selected_id == ids[5]
        qtbot.keyClick(dock.table, Qt.Key.Key_Down)  # a plain arrow: one row again
        assert dock.picked_ids() == [ids[6]] and queue.selected_id == ids[6]


def test_a_single_case_shortcut_is_refused_while_several_rows_are_picked(qtbot, tmp_path, desk, login_as, queue,
                                                                         runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        window.dock_registry.dock(MY_QUEUE_DOCK).hide()
        filed = _filed_rows(queue)
        action = window.action_registry.action(command_id(Action.DISPATCH))
        click_row(qtbot, dock, filed[0])
        wait_idle(qtbot, runner)
        assert action.isEnabled()
        click_row(qtbot, dock, filed[1], Qt.KeyboardModifier.ControlModifier)
        wait_idle(qtbot, runner)
        assert queue.selected_id == filed[1]  # selected and on screen, but one of two picked rows
        assert not action.isEnabled() and "已选中 2 件" in action.toolTip()
        window.statusBar().clearMessage()
        assert made.actions.perform(Action.DISPATCH) is None  # as Ctrl+D would
        assert made.actions.open_dialog is None
        assert "已选中 2 件" in window.statusBar().currentMessage()
        assert all(desk.cases.get(i).state is CaseState.FILED for i in filed[:2])
        click_row(qtbot, dock, filed[1])  # one row again: the key acts on it
        wait_idle(qtbot, runner)
        assert action.isEnabled()
        assert made.actions.perform(Action.DISPATCH) is not None
        made.actions.open_dialog.reject()


def test_bulk_dispatch_starts_with_the_picked_rows_and_still_needs_the_confirmation(qtbot, tmp_path, desk, login_as,
                                                                                   queue, runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        window.dock_registry.dock(MY_QUEUE_DOCK).hide()
        filed = _filed_rows(queue)
        other = next(i for i in queue.visible_ids if queue.summary(i).state is not CaseState.FILED)
        click_row(qtbot, dock, filed[0])
        for case_id in (filed[2], other):
            click_row(qtbot, dock, case_id, Qt.KeyboardModifier.ControlModifier)
        assert set(made.actions.picked_cases()) == {filed[0], filed[2], other}
        window.action_registry.action("gridhall.desk.bulk_dispatch").trigger()
        qtbot.waitUntil(lambda: "bulk_dispatch" in made.widgets, timeout=15000)
        dialog = made.widgets["bulk_dispatch"]
        try:
            assert {r.id for r in dialog.checked_rows()} == {filed[0], filed[2]}  # 派遣 takes only 已立案
            assert "3 件" in dialog.banner.text() and "1 件" in dialog.banner.text()  # the one left out is named
            assert "派遣：2 件" in dialog.summary.text()
            assert not dialog.confirm.isChecked() and not dialog.run_button.isEnabled()
            qtbot.keyClick(dialog, Qt.Key.Key_Return)
            wait_idle(qtbot, runner)
            assert dialog.outcome is None
            assert all(desk.cases.get(i).state is CaseState.FILED for i in filed)
        finally:
            dialog.reject()


def test_the_picks_survive_a_reload_and_go_when_another_case_becomes_current(qtbot, tmp_path, desk, login_as, queue,
                                                                            runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        ids = list(queue.visible_ids)
        click_row(qtbot, dock, ids[1])
        click_row(qtbot, dock, ids[3], Qt.KeyboardModifier.ShiftModifier)
        picked = set(ids[1:4])
        queue.set_sort(queue.sort_key, not queue.descending)  # the rows are rebuilt in another order
        assert set(dock.picked_ids()) == picked and queue.selected_id == ids[3]
        row = queue.summary(ids[2])
        queue.upsert(replace(row, version=row.version + 1))  # a live change of a picked case
        assert set(dock.picked_ids()) == picked
        queue.select(ids[10])  # a map click or an alert: that case alone is picked
        assert dock.picked_ids() == [ids[10]]
