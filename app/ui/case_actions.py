"""The case commands as QActions with shortcuts, shown per role and enabled per case state.

One QAction per command of the registry (``app.commands``) the logged-in role may ever take (a
专业部门操作员 never sees 派遣); it follows the registry, so a plugin's command appears and goes
with it. Each is enabled when the command's declarations allow it on the selected case, refined
by the services' ``allowed_actions`` (department binding). The services check again on every call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from qtpy.QtWidgets import QWidget

from app.commands import Command, CommandRegistry, builtin_commands
from app.domain.definitions import Action, CaseState, Role
from app.domain.workflow import WORKFLOW
from app.i18n import Catalogue
from app.ui.actions import ActionRegistry, ActionSpec
from app.ui.forms.action_dialogs import ActionDialog, commands_of
from app.ui.forms.common import error_text
from app.ui.forms.dispatch_form import DispatchForm
from app.ui.tasks import TaskRunner
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

log = logging.getLogger(__name__)

MENU = "办理"

#: The built-in commands' shortcuts by action (declared with the commands, so they never collide).
SHORTCUTS: dict[Action, str] = {c.action: c.shortcut for c in builtin_commands()
                                if c.action is not None and c.on_case and c.shortcut}


def role_actions(role: Role) -> list[Action]:
    """The case actions ``role`` may ever take (table order, without 上报: that is the intake form)."""
    found = {t.action for t in WORKFLOW.transitions if role in t.roles and t.action is not Action.REPORT}
    return [a for a in Action if a in found]


def can_act(role: Role, action: Action) -> bool:
    """Whether ``role`` may ever take ``action`` (上报 included, unlike :func:`role_actions`)."""
    if action is Action.REPORT:
        return any(role in t.roles for t in WORKFLOW.transitions if t.action is action)
    return action in role_actions(role)


def command_spec(command: Command, perform: Callable[[Command], object]) -> ActionSpec:
    """The menu entry of a case command (its title and shortcut), calling ``perform(command)``."""
    return ActionSpec(command.id, command.title, command.shortcut, MENU, lambda c=command: perform(c),
                      tip=command.tip or f"{command.title}（选中的案卷）")


def case_action_specs(role: Role, perform: Callable[[object], None],
                      commands: CommandRegistry | None = None) -> list[ActionSpec]:
    """ActionSpecs of the role's case commands, each calling ``perform(action)`` (the command when
    it has no workflow action)."""
    registry = commands if commands is not None else commands_of(None)
    return [command_spec(c, lambda c: perform(c.action or c)) for c in registry.for_role(role, on_case=True)]


class CaseActions:
    """Registers the actor's case commands and runs them on the selected case."""

    ALLOWED_KEY = "case_actions.allowed"

    def __init__(self, registry: ActionRegistry, state: QueueState, runner: TaskRunner, desk, actor,
                 parent: QWidget | None = None, catalogue: Catalogue | None = None,
                 notify: Callable[[str], None] | None = None, commands: CommandRegistry | None = None) -> None:
        self.registry, self.state, self.runner, self.desk, self.actor = registry, state, runner, desk, actor
        self.parent = parent
        self.cat = catalogue or Catalogue()
        self.notify = notify or (lambda _text: None)
        self.commands = commands if commands is not None else commands_of(desk)
        self._shown: dict[str, Command] = {}
        self._registrations: dict[str, object] = {}
        self._refined_for: tuple[int, frozenset[Action]] | None = None
        self._blocked_for: int | None = None  # the case ``_blocked`` is about
        self._blocked: dict[Action, object] = {}  # why a gate refuses an action (CaseService.action_blocks)
        self._subs = Subscriptions()
        for command in self.commands:
            self._add(command)
        self._subs.connect(self.commands.added, self._added)
        self._subs.connect(self.commands.removed, self._removed)
        self._subs.connect(state.events.selection_changed, lambda _id: self.refresh())
        self._subs.connect(state.events.rows_changed, self._rows_changed)
        self._subs.connect(state.events.rows_reset, self._enable_from_rules)  # a filter may hide the case
        #: ``shows(case_id)`` of each list that can show the selected case on screen (see :meth:`add_view`).
        self._views: list[Callable[[int], bool]] = []
        self._queue_view: Callable[[int], bool] | None = None
        #: ``(shows, picked)`` of the lists where several rows can be picked at once (for bulk actions).
        self._pickers: list[tuple[Callable[[int], bool], Callable[[], list[int]]]] = []
        self.open_dialog = None
        self.refresh()

    def teardown(self) -> None:
        self._subs.close()
        for r in self._registrations.values():
            r.remove()
        self._registrations.clear()
        self._shown.clear()
        self.runner.cancel(self.ALLOWED_KEY)

    # ---- following the registry ----------------------------------------------------
    def _add(self, command: Command) -> None:
        if not command.on_case or not command.may(self.actor.role) or command.id in self._shown:
            return
        self._registrations[command.id] = self.registry.register(command_spec(command, self.perform))
        self._shown[command.id] = command

    def _added(self, command: Command) -> None:
        self._add(command)
        if command.id in self._shown:
            self._enable_from_rules()

    def _removed(self, command: Command) -> None:
        registration = self._registrations.pop(command.id, None)
        self._shown.pop(command.id, None)
        if registration is not None:
            registration.remove()

    @property
    def actions(self) -> list[Action]:
        """The workflow actions of the shown commands."""
        return [c.action for c in self._shown.values() if c.action is not None]

    def shown(self) -> list[Command]:
        """The commands that have a menu entry for this actor."""
        return list(self._shown.values())

    # ---- enabling ------------------------------------------------------------------
    def refresh(self) -> None:
        """Enable what the declarations allow on the selected case; then ask the services to refine it."""
        case_id = self.state.selected_id
        row = self.state.summary(case_id) if case_id is not None else None
        self._refined_for = None
        self._enable_from_rules()
        if row is not None:
            self.runner.run_in_thread(lambda: self._ask_allowed(case_id),
                                      lambda acts: self._refined(case_id, acts),
                                      lambda exc: self._refine_failed(case_id, exc), key=self.ALLOWED_KEY)

    def _enable_from_rules(self) -> None:
        case_id = self.state.selected_id
        row = self.state.summary(case_id) if case_id is not None else None
        refined = self._refined_for[1] if self._refined_for and self._refined_for[0] == case_id else None
        listed = case_id is not None and (case_id in set(self.state.visible_ids) or self._listed_elsewhere(case_id))
        many = self.picked_with(case_id) if row is not None else 1
        for command in self._shown.values():
            why = self.why_disabled(command, row, refined, listed)
            if why is None and many > 1:
                why = self._many_text(many)
            action = self.registry.action(command.id)
            action.setEnabled(why is None)
            if why is not None:
                tip = self.cat.tr("不可用：{why}", why=why)
            elif command.tip:
                tip = self.cat.tr(command.tip)
            else:
                tip = self.cat.tr("{title}（选中的案卷）", title=self.cat.tr(command.title))
            action.setToolTip(tip)
            action.setStatusTip(tip)

    def enable_from_rules(self, *_args) -> None:
        """Re-enable the actions from what is known (a list was shown or hidden)."""
        self._enable_from_rules()

    def why_disabled(self, command: Command, row, refined=None, listed: bool = True) -> str | None:
        """Why ``command`` cannot run on ``row`` now, in the user's language (None: it can)."""
        tr = self.cat.tr
        if row is None:
            return tr("没有选中的案卷：请先在队列中选择一件案卷")
        if not listed:
            return tr("所选案卷 {number} 不在当前列表中（被筛选隐藏）：清除筛选或重新选择", number=row.number)
        if not command.allows(self.actor.role, row.state):
            states = command.allowed_states
            if states and not any(command.allows(self.actor.role, s) for s in states):
                return tr("你的角色「{role}」不能{action}", role=self.cat.label(self.actor.role),
                          action=tr(command.title))
            wanted = tr("、").join(self.cat.label(s) for s in CaseState
                                  if states and s in states and command.allows(self.actor.role, s))
            return tr("案卷当前为「{state}」；{action}只能用于：{states}", state=self.cat.label(row.state),
                      action=tr(command.title), states=wanted or "—")
        if refined is not None and command.action is not None and command.action not in refined:
            blocked = self._blocked.get(command.action) if self._blocked_for == row.id else None
            if blocked is not None:  # a gate of the loop (立案 before 核实): say why and what to do
                return self.cat.text(blocked)
            if self.actor.role is Role.DEPARTMENT:
                return tr("该案卷不属于你的部门")
            return tr("服务端规则不允许对该案卷{action}", action=tr(command.title))
        return None

    # ---- which case an action may act on -------------------------------------------
    def add_view(self, shows: Callable[[int], bool], *, queue: bool = False,
                 picked: Callable[[], list[int]] | None = None) -> Callable[[], None]:
        """Register a list that shows cases: ``shows(case_id)`` is True when the case's row is selected
        and on screen there. ``queue``: the case queue's table itself (without one, a case the queue's
        filter shows counts as shown). ``picked()``: the ids of the rows picked there (a list where
        several rows can be selected): while the current case is one of several picked rows, a
        single-case action is refused (it would act on one case of a selection that looks like
        many) and the bulk actions start with the picked rows. Returns the remover."""
        if queue:
            self._queue_view = shows
        else:
            self._views.append(shows)
        pair = (shows, picked) if picked is not None else None
        if pair is not None:
            self._pickers.append(pair)
        self._enable_from_rules()

        def remove() -> None:
            if queue and self._queue_view is shows:
                self._queue_view = None
            elif shows in self._views:
                self._views.remove(shows)
            if pair is not None and pair in self._pickers:
                self._pickers.remove(pair)
        return remove

    def picked_cases(self) -> list[int]:
        """The cases a bulk action starts with: the rows picked in the list showing the current case
        (several after Shift/Ctrl+click or Shift+arrows), else the current case alone, else none."""
        case_id = self.state.selected_id
        if case_id is None:
            return []
        for shows, picked in self._pickers:
            ids = picked()
            if case_id in ids and shows(case_id):
                return ids
        return [case_id]

    def picked_with(self, case_id: int | None) -> int:
        """How many rows are picked together with ``case_id`` in the list showing it (1: it alone)."""
        if case_id is None:
            return 0
        counts = [len(ids) for shows, picked in self._pickers if case_id in (ids := picked()) and shows(case_id)]
        return max(counts, default=1)

    def _many_text(self, n: int) -> str:
        return self.cat.tr("已选中 {n} 件案卷：单件操作只用于一件案卷，请只选中一件；"
                           "多件请用「办理」菜单中的批量操作", n=n)

    def _listed_elsewhere(self, case_id: int | None) -> bool:
        return case_id is not None and any(view(case_id) for view in self._views)

    def on_screen(self, case_id: int) -> bool:
        """Whether ``case_id`` is selected and on screen in a list (the queue, or a registered list)."""
        if self._queue_view is not None:
            if self._queue_view(case_id):
                return True
        elif case_id in set(self.state.visible_ids):
            return True
        return self._listed_elsewhere(case_id)

    def target(self) -> tuple[int | None, str | None]:
        """The case a shortcut or menu entry acts on, or why there is none: the selected case, if it is
        shown in a list (on screen, when a list is registered with :meth:`add_view`)."""
        case_id = self.state.selected_id
        row = self.state.summary(case_id) if case_id is not None else None
        if row is None:
            return None, self.cat.tr("请先在队列中选择一件案卷")
        if not self.on_screen(case_id):
            return None, self.cat.tr("所选案卷 {number} 不在列表的可见范围内（被筛选隐藏或已滚出视野）："
                                     "请在列表中重新选择后再操作", number=row.number)
        many = self.picked_with(case_id)
        if many > 1:
            return None, self._many_text(many)
        return case_id, None

    def _refine_failed(self, case_id: int, exc: BaseException) -> None:
        # the declarations' answer stays enabled and the services check again on every call: log, do not nag
        log.warning("asking which actions are allowed on case %s failed: %s", case_id, exc)

    def _ask_allowed(self, case_id: int):
        """(worker) What the services allow on the case, and why a gate refuses what it refuses."""
        from app.services.errors import NotFound

        cases = self.desk.cases
        try:
            allowed = cases.allowed_actions(self.actor, case_id)
        except NotFound:  # outside the reader's scope (another department's case): nothing to do on it
            return [], {}
        blocks = getattr(cases, "action_blocks", None)
        return allowed, (blocks(self.actor, case_id) if blocks is not None else {})

    def _refined(self, case_id: int, answer) -> None:
        actions, blocked = answer if isinstance(answer, tuple) else (answer, {})
        if case_id == self.state.selected_id:
            self._blocked_for, self._blocked = case_id, dict(blocked)
            self._refined_for = (case_id, frozenset(actions))
            self._enable_from_rules()

    def _rows_changed(self, ids) -> None:
        if self.state.selected_id in ids:
            self.refresh()

    # ---- running -------------------------------------------------------------------
    def command(self, which: Command | Action | str) -> Command:
        """The command meant by a Command, a workflow Action or a command id."""
        if isinstance(which, Command):
            return which
        if isinstance(which, Action):
            found = self.commands.for_action(which)
            if found is None:
                raise KeyError(f"no command for action '{which.value}'")
            return found
        return self.commands.get(which)

    def perform(self, which: Command | Action | str, case_id: int | None = None):
        """Run a command on ``case_id``, or (shortcut, menu) on the selected case if it is shown in a
        list: its own form, a prompt or at once. A hidden or scrolled-away case is refused with a
        status message, so a key press never acts on a case the user cannot see."""
        command = self.command(which)
        if case_id is None:
            case_id, why = self.target()
            if why is not None:
                self.notify(why)
                return None
        row = self.state.summary(case_id) if case_id is not None else None
        if row is None:
            self.notify(self.cat.tr("请先在队列中选择一件案卷"))
            return None
        if case_id != self.state.selected_id:
            self.state.select(case_id)  # the lists, the detail and the map follow the case acted on
        if command.form == "dispatch":
            dialog = DispatchForm(self.desk, self.actor, self.runner, row.id, row.version, self.cat, self.parent,
                                  command=command)
            dialog.dispatched.connect(self._done)
        elif command.direct:
            actor, desk = self.actor, self.desk
            self.runner.run_in_thread(lambda: command.run(desk, actor, row.id, row.version, {}),
                                      self._done, lambda exc: self._failed(row, command, exc))
            return None
        else:
            dialog = ActionDialog(self.desk, self.actor, self.runner, command, row, self.cat, self.parent)
            dialog.performed.connect(self._done)
        self.open_dialog = dialog
        dialog.finished.connect(lambda _code: setattr(self, "open_dialog", None))
        dialog.open()
        return dialog

    def _done(self, result) -> None:
        text = self.cat.tr("{number}：{action}完成，现为「{state}」", number=result.case.number,
                           action=self.cat.label(result.action), state=self.cat.label(result.case.state))
        if result.warnings:
            text += self.cat.tr("；") + self.cat.tr("；").join(self.cat.text(w) for w in result.warnings)
        self.notify(text)

    def _failed(self, row, command: Command, exc: BaseException) -> None:
        # no modal box: the hall keeps working; the status bar and the alert banner carry it
        self.notify(self.cat.tr("{number} 未能{action}：{error}", number=row.number,
                                action=self.cat.tr(command.title), error=error_text(exc, self.cat)))


#: States each role's approvals queue holds (requests only those roles decide).
def approvable_states(role: Role) -> set[CaseState]:
    """Request states in which ``role`` may approve or refuse."""
    return {s for s in CaseState if s.value.endswith("_requested")
            and Action.APPROVE in WORKFLOW.actions(s, role)}
