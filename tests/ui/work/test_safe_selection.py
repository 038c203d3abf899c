"""A key press acts only on the case the user can see (issue 10, item 1), over a real store:
the current case is always the highlighted, scrolled-into-view row; a shortcut on a case the filter
hides or that was scrolled away is refused with a message; a disabled action says why; 办理下一件
skips paused, deferred and shelved cases."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from qtpy.QtCore import QItemSelectionModel, QModelIndex, QSettings

from app.commands import command_id
from app.domain.definitions import Action, CaseState, Role
from app.i18n import Catalogue
from app.ui.builtin import QUEUE_DOCK, builtin_docks, register_builtin_docks
from app.ui.main_window import MainWindow
from app.ui.work.install import MY_QUEUE_DOCK, install_work
from app.ui.work.my_queue import WAITING_STATES, MyQueueDock, next_case

from .helpers import wait_idle

pytestmark = pytest.mark.neutral


@contextmanager
def hall_window(qtbot, tmp_path, state, runner, desk, actor, *, show=True):
    """The main window with the case queue and detail docks and the desk, shown at 1920×1080."""
    settings = QSettings(str(tmp_path / "hall.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, capabilities=("cases",))
    qtbot.addWidget(window)
    register_builtin_docks(window.dock_registry, builtin_docks(state, desk.source, runner, Catalogue()))
    teardown = install_work(window, state, runner, desk, actor)
    window.dock_registry.dock(QUEUE_DOCK).raise_()
    window.resize(1920, 1080)
    if show:
        window.show()
        qtbot.waitExposed(window)
    try:
        yield window, teardown.desk, window.dock_registry.widget(QUEUE_DOCK)
    finally:
        runner.wait()
        teardown()
        window.dock_registry.unregister_all()


def _on_screen(dock, case_id) -> bool:
    row = dock.model.row_of(case_id)
    if row is None:
        return False
    rect = dock.table.visualRect(dock.model.index(row, 0))
    return dock.table.selectionModel().isRowSelected(row, QModelIndex()) and \
        dock.table.viewport().rect().intersects(rect)


def _filed(queue):
    return [queue.summary(i) for i in queue.visible_ids if queue.summary(i).state is CaseState.FILED]


def test_the_current_case_is_always_the_highlighted_row_scrolled_into_view(qtbot, tmp_path, desk, login_as, queue,
                                                                           runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        ids = queue.visible_ids
        assert len(ids) > 30  # more rows than the table shows at once
        last = ids[-1]
        queue.select(last)  # e.g. a map click or an alert: the row follows
        assert _on_screen(dock, last)
        queue.select(ids[0])
        assert _on_screen(dock, ids[0]) and not _on_screen(dock, last)
        # Qt moving the current index without selecting (what the table does when it gets the focus
        # back after a dialog) must not change the current case: detail, map and actions stay on it
        dock.table.selectionModel().setCurrentIndex(dock.model.index(5, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        assert queue.selected_id == ids[0]
        dock.table.clearFocus()
        dock.table.setFocus()
        assert queue.selected_id == ids[0]
        # a live update moves the case elsewhere in the order: the row follows it
        row = queue.summary(ids[0])
        from dataclasses import replace
        queue.upsert(replace(row, version=row.version + 1, timer=queue.summary(last).timer))
        assert queue.selected_id == ids[0] and _on_screen(dock, ids[0])


def test_after_a_dispatch_the_dispatched_row_stays_current_and_highlighted(qtbot, tmp_path, desk, login_as, queue,
                                                                           runner):
    dispatcher = login_as(Role.DISPATCHER)
    with hall_window(qtbot, tmp_path, queue, runner, desk, dispatcher) as (window, made, dock):
        case = _filed(queue)[-1]
        queue.select(case.id)
        wait_idle(qtbot, runner)
        suggestion = desk.cases.dispatch_suggestions(case.id)[0]
        desk.cases.dispatch(dispatcher, case.id, case.version, department=suggestion.department_id)
        qtbot.waitUntil(lambda: queue.summary(case.id).state is CaseState.DISPATCHED)
        wait_idle(qtbot, runner)
        assert queue.selected_id == case.id and _on_screen(dock, case.id)
        # the next Ctrl+D acts on that (now dispatched) case: 派遣 is disabled and says why
        action = window.action_registry.action(command_id(Action.DISPATCH))
        assert not action.isEnabled() and "待接收" in action.toolTip()


def test_a_shortcut_on_a_case_the_filter_hides_is_refused_with_a_message(qtbot, tmp_path, desk, login_as, queue,
                                                                         runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        case = _filed(queue)[0]
        queue.select(case.id)
        wait_idle(qtbot, runner)
        action = window.action_registry.action(command_id(Action.DISPATCH))
        assert action.isEnabled()
        dock.search.setText("没有这样的案卷-zz")  # the filter hides every row, the case stays current
        assert queue.selected_id == case.id and dock.model.row_of(case.id) is None
        assert case.number in dock.message.text()  # the header says the current case is hidden
        # 待我办理 lists it too, highlighted and on screen: there the user still sees what a key acts on
        assert made.widgets[MY_QUEUE_DOCK].list.shows(case.id) and action.isEnabled()
        window.dock_registry.dock(MY_QUEUE_DOCK).hide()  # the actions follow
        qtbot.waitUntil(lambda: not action.isEnabled())
        assert "被筛选隐藏" in action.toolTip()
        window.statusBar().clearMessage()
        assert made.actions.perform(Action.DISPATCH) is None  # as the shortcut would
        assert made.actions.open_dialog is None
        assert "不在列表的可见范围内" in window.statusBar().currentMessage()
        dock.clear_filters()
        assert _on_screen(dock, case.id) and action.isEnabled()
        assert made.actions.perform(Action.DISPATCH) is not None
        made.actions.open_dialog.reject()


def test_a_shortcut_on_a_case_scrolled_out_of_view_is_refused(qtbot, tmp_path, desk, login_as, queue, runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        # the other lists must not show it either: only the queue is on screen
        window.dock_registry.dock(MY_QUEUE_DOCK).hide()
        case = _filed(queue)[0]
        queue.select(case.id)
        wait_idle(qtbot, runner)
        assert _on_screen(dock, case.id)
        row = dock.model.row_of(case.id)
        bar = dock.table.verticalScrollBar()
        bar.setValue(bar.maximum() if row < dock.model.rowCount() // 2 else 0)
        assert not _on_screen(dock, case.id)
        assert made.actions.perform(Action.DISPATCH) is None
        assert made.actions.open_dialog is None
        assert "已滚出视野" in window.statusBar().currentMessage()


def test_every_disabled_case_action_says_why(qtbot, tmp_path, desk, login_as, queue, runner):
    with hall_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made, dock):
        registry = window.action_registry
        for command in made.actions.shown():
            action = registry.action(command.id)
            assert not action.isEnabled() and "没有选中的案卷" in action.toolTip(), command.id
        handling = next(queue.summary(i) for i in queue.visible_ids if queue.summary(i).state is CaseState.HANDLING)
        queue.select(handling.id)
        wait_idle(qtbot, runner)
        disabled = [registry.action(c.id) for c in made.actions.shown() if not registry.action(c.id).isEnabled()]
        assert disabled
        for action in disabled:
            assert action.toolTip().startswith("不可用：") and "处置中" in action.toolTip(), action.objectName()
        dispatch = registry.action(command_id(Action.DISPATCH))
        assert "待派遣" in dispatch.toolTip()  # where it would be possible
        assert registry.menu("办理").toolTipsVisible()  # the menu shows the reasons


def test_department_operator_is_told_a_case_is_not_theirs(qtbot, tmp_path, desk, login_as, queue, runner):
    operator = login_as(Role.DEPARTMENT)
    with hall_window(qtbot, tmp_path, queue, runner, desk, operator) as (window, made, dock):
        code = desk.department_code(operator.department_id)
        foreign = next(queue.summary(i) for i in queue.visible_ids
                       if queue.summary(i).state is CaseState.DISPATCHED and queue.summary(i).department_code != code)
        queue.select(foreign.id)
        wait_idle(qtbot, runner)
        accept = window.action_registry.action(command_id(Action.ACCEPT))
        assert not accept.isEnabled() and "不属于你的部门" in accept.toolTip()


def test_next_case_skips_paused_deferred_and_shelved_cases(qtbot, desk, login_as, queue, runner):
    leader = login_as(Role.SHIFT_LEADER)
    opened = []
    dock = MyQueueDock(queue, leader, perform=lambda action, case_id: opened.append((action, case_id)))
    qtbot.addWidget(dock)
    listed = [queue.summary(i) for i in dock.list.ids()]
    waiting = [r for r in listed if r.state in WAITING_STATES]
    assert waiting, "the demo needs a 缓办/挂账 case in the shift leader's list"
    # waiting and paused cases come after every case that can be acted on
    firsts = [r.state in WAITING_STATES for r in listed]
    assert firsts == sorted(firsts)
    dock.do_next()
    assert opened and opened[0][0] is not Action.RESTORE
    chosen = queue.summary(opened[0][1])
    assert chosen.state not in WAITING_STATES and not (queue.reading(chosen.id) and queue.reading(chosen.id).paused)
    assert queue.selected_id == chosen.id
    # with only waiting cases left, there is no next case and the button says why
    for row in listed:
        if row.state not in WAITING_STATES:
            queue.remove(row.id)
    assert next_case(queue, Role.SHIFT_LEADER) is None
    # the list coalesces a burst of changes (app/ui/work/throttle.py): the last one shows within 250 ms
    qtbot.waitUntil(lambda: not dock.next_button.isEnabled(), timeout=2000)
    assert "缓办" in dock.next_button.toolTip()
    opened.clear()
    dock.do_next()
    assert opened == []
    dock.teardown()
