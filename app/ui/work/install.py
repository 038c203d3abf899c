"""Puts the desk into a main window: docks and actions per role, the bus feeding the queue."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from qtpy.QtCore import QObject, Qt, QTimer, Signal
from qtpy.QtWidgets import QSizePolicy

from app.domain.definitions import Action, Role
from app.i18n import Catalogue
from app.services.live import apply_row
from app.ui import plain
from app.ui.actions import ActionSpec
from app.ui.builtin import LAYERS_DOCK, QUEUE_DOCK
from app.ui.case_actions import CaseActions, can_act
from app.ui.docks import DockSpec
from app.ui.forms.action_dialogs import commands_of
from app.ui.forms.intake_form import IntakeForm
from app.ui.tasks import TaskRunner
from app.ui.work.alerts import ACK_SHORTCUT, AlertBanner, AlertCenter
from app.ui.work.approvals import ApprovalsDock
from app.ui.work.bulk import BulkDialog
from app.ui.work.case_media import CaseMediaDock
from app.ui.work.my_queue import MyQueueDock
from app.ui.work.timers_dock import TimersDock
from app.ui.work.workbench import DepartmentWorkbench
from app.views.queue_state import QueueState

log = logging.getLogger(__name__)

ALERTS_DOCK = "gridhall.desk.alerts"
TIMERS_DOCK = "gridhall.desk.timers"
MEDIA_DOCK = "gridhall.desk.media"
INTAKE_DOCK = "gridhall.desk.intake"
MY_QUEUE_DOCK = "gridhall.desk.my_queue"
APPROVALS_DOCK = "gridhall.desk.approvals"
WORKBENCH_DOCK = "gridhall.desk.workbench"
INTAKE_WIDTH = 440


class BusBridge(QObject):
    """Carries CaseBus changes (published on whatever thread committed) to the GUI thread,
    re-reads the changed rows in a worker and updates the QueueState.

    One read runs at a time; the cases that change meanwhile (a bulk action commits one case after
    another) are read together next and reach the queue as one batch (``QueueState.batch``): the
    views repaint once per batch, not once per case."""

    changed = Signal(object)

    def __init__(self, bus, source, state: QueueState, runner: TaskRunner) -> None:
        super().__init__()
        from app.ui.tasks import LoopGate, PacedReads

        self._gate = LoopGate(self)  # the reads of a bulk action's cases let the GUI's loop come round
        self.source, self.state, self.runner = PacedReads(source, self._gate), state, runner
        self._waiting: dict[int, str] = {}  # case id -> action, for the next read
        self._reading = False
        self.changed.connect(self._apply)
        self._unsubscribe = bus.subscribe(self.changed.emit)

    def teardown(self) -> None:
        self._gate.close()
        self._unsubscribe()

    def _apply(self, change) -> None:
        versions = getattr(change, "versions", None) or {}
        for case_id in change.case_ids:
            known = self.state.summary(case_id)
            if known is not None and case_id in versions and known.version >= versions[case_id]:
                continue  # already current (e.g. delivered by live sync): no second read
            self._waiting.pop(case_id, None)
            self._waiting[case_id] = change.action  # the latest action, in the order of the changes
        self._read_next()

    def _read_next(self) -> None:
        if self._reading or not self._waiting:
            return
        actions, self._waiting = self._waiting, {}
        self._reading = True
        ids = list(actions)

        def read() -> list[tuple[int, object, BaseException | None]]:
            rows = []
            for case_id in ids:
                try:
                    rows.append((case_id, self.source.case(case_id), None))
                except Exception as exc:  # noqa: BLE001 — one failed read must not drop the others
                    rows.append((case_id, None, exc))
            return rows

        self.runner.run_in_thread(read, lambda rows: self._update(rows, actions), self._failed)

    def _update(self, rows, actions: dict[int, str]) -> None:
        self._reading = False
        with self.state.batch():
            for case_id, row, exc in rows:
                if exc is not None:
                    log.error("reloading a changed case failed: %s", exc)
                    continue
                apply_row(self.state, case_id, row, actions[case_id])
        self._read_next()

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        log.error("reloading changed cases failed: %s", exc)
        self._read_next()


class Desk:
    """Everything ``install_work`` created, for tests and teardown."""

    def __init__(self) -> None:
        self.registrations: list = []
        self.teardowns: list[Callable[[], None]] = []
        self.widgets: dict[str, object] = {}
        self.actions: CaseActions | None = None
        self.alerts: AlertCenter | None = None
        self.bridge: BusBridge | None = None

    def teardown(self) -> None:
        for fn in reversed(self.teardowns):
            try:
                fn()
            except Exception:
                log.exception("desk teardown step failed")
        self.teardowns.clear()
        for reg in reversed(self.registrations):
            reg.remove()
        self.registrations.clear()


def install_work(window, state: QueueState, runner: TaskRunner, desk, actor, *, pick=None,
                 catalogue: Catalogue | None = None, unpick=None) -> Callable[[], None]:
    """Register the desk docks/actions for ``actor`` (None: read-only) in ``window``; returns the teardown.

    ``pick(callback)`` arms the map for the intake form's 地图选点; ``unpick()`` takes the picked
    point's marker off the map again (the report sent or the form emptied).

    The returned callable also carries the :class:`Desk` as ``.desk`` (tests look inside).
    """
    cat = catalogue or Catalogue()
    made = Desk()
    docks, registry = window.dock_registry, window.action_registry

    def status(text: str, ms: int = 8000) -> None:
        window.statusBar().showMessage(plain.line(text, 500), ms)  # one line; controls made visible

    window.command_registry = commands_of(desk)  # the F1 help lists every role's commands
    made.teardowns.append(lambda: setattr(window, "command_registry", None))
    made.bridge = BusBridge(desk.bus, desk.source, state, runner)
    made.teardowns.append(made.bridge.teardown)
    made.alerts = AlertCenter(state, cat)
    made.teardowns.append(made.alerts.teardown)

    def add(dock_id: str, title: str, area: str, factory) -> None:
        def build():
            widget = factory()
            made.widgets[dock_id] = widget
            return widget
        made.registrations.append(docks.register(DockSpec(dock_id, title, area, build)))

    add(ALERTS_DOCK, "提醒", "top", lambda: AlertBanner(
        made.alerts, state, cat, status, settings=getattr(window, "settings", None),
        user=getattr(actor, "username", None), role=actor.role.value if actor is not None else None))
    banner = made.widgets[ALERTS_DOCK]
    banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def notify(text: str) -> None:
        banner.notify(text)
        status(text)

    made.registrations.append(registry.register(ActionSpec(
        "gridhall.desk.sound", "提示音", "", "view", banner.set_sound, checkable=True,
        tip="新案卷、黄灯、红灯时发出提示音（默认关闭）")))
    made.registrations.append(registry.register(ActionSpec(
        "gridhall.desk.ack_alert", "确认提醒", ACK_SHORTCUT, "view", banner.acknowledge,
        tip="确认提醒栏当前显示的提醒")))
    add(TIMERS_DOCK, "时限监控", "right", lambda: TimersDock(state, cat))
    add(MEDIA_DOCK, "照片与回复", "right", lambda: CaseMediaDock(state, desk, runner, cat))
    _tabify(window, docks, TIMERS_DOCK, [MEDIA_DOCK])
    docks.dock(TIMERS_DOCK).raise_()
    if actor is None:
        return _finish(made)

    made.actions = CaseActions(registry, state, runner, desk, actor, window, cat, notify)
    made.teardowns.append(made.actions.teardown)
    perform = made.actions.perform
    panels: list[str] = []
    role = actor.role
    if can_act(role, Action.REPORT):
        add(INTAKE_DOCK, "上报登记", "left", lambda: IntakeForm(desk, actor, runner, cat, pick, unpick=unpick))
        panels.append(INTAKE_DOCK)

        def new_report() -> None:
            dock = docks.dock(INTAKE_DOCK)
            dock.show()
            dock.raise_()
            made.widgets[INTAKE_DOCK].category.edit.setFocus()

        made.registrations.append(registry.register(ActionSpec("gridhall.desk.new_report", "新上报", "Ctrl+N", "办理",
                                                               new_report)))
    add(MY_QUEUE_DOCK, "待我办理", "bottom", lambda: MyQueueDock(state, actor, cat, perform=perform))
    panels.append(MY_QUEUE_DOCK)
    if role is Role.SUPERVISOR:  # 我的任务: the verify/check tasks sent to this supervisor (issue 11)
        from app.ui.tasks_dock import TASKS_DOCK, TasksDock, supervisor_tasks
        add(TASKS_DOCK, "我的任务", "bottom", lambda: TasksDock(state, runner, supervisor_tasks(desk, actor), cat))
        panels.append(TASKS_DOCK)
    if role is Role.DEPARTMENT:
        add(WORKBENCH_DOCK, "部门工作台", "bottom", lambda: DepartmentWorkbench(state, actor, perform, cat))
        panels.append(WORKBENCH_DOCK)
        _department_code(made, runner, desk, actor)
    if can_act(role, Action.APPROVE):
        add(APPROVALS_DOCK, "待审批", "bottom", lambda: ApprovalsDock(state, actor, perform, cat))
        panels.append(APPROVALS_DOCK)
    if role in (Role.ACCEPTOR, Role.SHIFT_LEADER):  # 待回复: replies owed to the public (issue 16, item 5)
        from app.ui.replies_dock import PHONE_ROLES, REPLIES_DOCK, RepliesDock, desk_replies
        load, mark = desk_replies(desk, actor)
        add(REPLIES_DOCK, "待回复", "bottom", lambda: RepliesDock(
            state, runner, load, mark, desk.clock.now, cat, fetch=desk.source.case, show_phone=role in PHONE_ROLES))
        made.teardowns.append(lambda: made.widgets[REPLIES_DOCK].teardown())
        panels.append(REPLIES_DOCK)
    _follow_bulk_commands(made, registry, window, state, runner, desk, actor, cat)
    # a shortcut acts only on a case shown (selected, on screen) in one of these lists
    if QUEUE_DOCK in docks.ids() and hasattr(docks.dock(QUEUE_DOCK).widget(), "shows"):
        queue_dock = docks.dock(QUEUE_DOCK).widget()
        made.teardowns.append(made.actions.add_view(queue_dock.shows, queue=True,
                                                    picked=getattr(queue_dock, "picked_ids", None)))
        if hasattr(queue_dock, "picked_ids"):  # picking more rows or fewer changes what a key may do
            _follow_picks(made, queue_dock.table.selectionModel().selectionChanged)
    for dock_id in (MY_QUEUE_DOCK, WORKBENCH_DOCK, APPROVALS_DOCK):
        widget = made.widgets.get(dock_id)
        if widget is not None:
            made.teardowns.append(made.actions.add_view(widget.list.shows, picked=widget.list.selected_ids))
            _follow_picks(made, widget.list.itemSelectionChanged)
            # a list coming into view (its tab raised) or going away changes what a key may act on;
            # after the event, when the dock's children have followed it
            def follow(_visible, actions=made.actions) -> None:
                QTimer.singleShot(0, actions.enable_from_rules)

            docks.dock(dock_id).visibilityChanged.connect(follow)
            made.teardowns.append(lambda d=docks.dock(dock_id), f=follow: _disconnect(d.visibilityChanged, f))
    # The to-do lists are other views of the queue: they share its tab group; the intake form
    # needs the full height, so it shares the layer tree's and comes to the front.
    lists = [d for d in panels if d != INTAKE_DOCK]
    anchor = QUEUE_DOCK if QUEUE_DOCK in docks.ids() else (lists[0] if lists else None)
    if anchor is not None:
        _tabify(window, docks, anchor, [d for d in lists if d != anchor])
        front = WORKBENCH_DOCK if WORKBENCH_DOCK in lists else anchor  # an operator lives in the workbench
        docks.dock(front).raise_()
    if INTAKE_DOCK in panels:
        _tabify(window, docks, LAYERS_DOCK if LAYERS_DOCK in docks.ids() else INTAKE_DOCK, [INTAKE_DOCK])
        intake = docks.dock(INTAKE_DOCK)
        intake.raise_()
        # wide enough for the form (a saved layout restored afterwards still wins)
        window.resizeDocks([intake], [INTAKE_WIDTH], Qt.Orientation.Horizontal)
    return _finish(made)


def _follow_bulk_commands(made: Desk, registry, window, state, runner, desk, actor, cat) -> None:
    """A bulk entry (批量派遣, 批量结案, …) per command declared ``bulk`` that the actor may take,
    following the command registry as commands come and go."""
    commands = made.actions.commands
    shown: dict[str, object] = {}

    def add(command) -> None:
        if not (command.bulk and command.on_case and command.may(actor.role)) or command.id in shown:
            return
        shown[command.id] = registry.register(ActionSpec(
            f"gridhall.desk.bulk_{command.verb}", f"批量{command.title}…", command.bulk_shortcut, "办理",
            lambda c=command: open_bulk(window, state, runner, desk, actor, c, cat, made)))

    def drop(command) -> None:
        handle = shown.pop(command.id, None)
        if handle is not None:
            handle.remove()

    for command in commands:
        add(command)
    made.teardowns.append(commands.added.connect(add))
    made.teardowns.append(commands.removed.connect(drop))
    made.teardowns.append(lambda: [shown.pop(i).remove() for i in list(shown)])


def _follow_picks(made: Desk, signal) -> None:
    """Re-enable the case actions whenever ``signal`` says the picked rows of a list changed."""
    def follow(*_args, actions=made.actions) -> None:
        actions.enable_from_rules()

    signal.connect(follow)
    made.teardowns.append(lambda: _disconnect(signal, follow))


def _disconnect(signal, slot) -> None:
    with contextlib.suppress(TypeError, RuntimeError):  # already gone with its widget
        signal.disconnect(slot)


def _tabify(window, docks, anchor: str, others: list[str]) -> None:
    """Put ``others`` in ``anchor``'s tab group (in the anchor's dock area)."""
    for other in others:
        if other != anchor:
            window.tabifyDockWidget(docks.dock(anchor), docks.dock(other))


def _finish(made: Desk) -> Callable[[], None]:
    def teardown() -> None:
        made.teardown()
    teardown.desk = made  # type: ignore[attr-defined]
    return teardown


def _department_code(made: Desk, runner: TaskRunner, desk, actor) -> None:
    def got(code) -> None:
        for dock_id in (MY_QUEUE_DOCK, WORKBENCH_DOCK):
            widget = made.widgets.get(dock_id)
            if widget is not None:
                widget.set_department_code(code)
    runner.run_in_thread(lambda: desk.department_code(actor.department_id), got,
                         lambda exc: log.error("department of %s not found: %s", actor.username, exc))


def open_bulk(window, state, runner, desk, actor, command, cat, made: Desk):
    """Open the bulk dialog of ``command`` (a Command or an Action) on the queue's shown rows, the
    rows picked in the list showing the current case ticked (the departments are loaded first when
    the command asks for one)."""
    from app.commands import FieldKind
    from app.ui.forms.action_dialogs import command_for

    command = command_for(desk, command)
    if made.actions is not None:
        preselected = made.actions.picked_cases()
    else:
        preselected = [state.selected_id] if state.selected_id is not None else []

    def show(departments) -> None:
        dialog = BulkDialog(desk, actor, runner, state, command, preselected, departments, cat, window)
        made.widgets[dialog.objectName()] = dialog
        dialog.open()

    if any(f.kind is FieldKind.DEPARTMENT for f in command.fields):
        runner.run_in_thread(desk.departments, show, lambda exc: window.statusBar().showMessage(str(exc), 8000))
    else:
        show([])
