"""The case actions as ActionSpecs with shortcuts, shown per role and enabled per case state.

Only the actions the logged-in role can ever take are registered (a 专业部门操作员 never sees
派遣); each is enabled when the workflow allows it on the selected case, refined by the
services' ``allowed_actions`` (department binding). The services check again on every call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from qtpy.QtWidgets import QWidget

from app.domain.definitions import Action, CaseState, Role
from app.domain.workflow import WORKFLOW
from app.i18n import Catalogue
from app.ui.actions import ActionRegistry, ActionSpec
from app.ui.forms.action_dialogs import DIRECT, ActionDialog, call_service
from app.ui.forms.common import error_text
from app.ui.forms.dispatch_form import DispatchForm
from app.ui.tasks import TaskRunner
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

log = logging.getLogger(__name__)

MENU = "办理"

#: Every frequent case action and its shortcut (one place, so they never collide).
SHORTCUTS: dict[Action, str] = {
    Action.SEND_VERIFY: "Ctrl+Shift+V",
    Action.VERIFY: "Ctrl+Shift+Y",
    Action.FILE: "Ctrl+L",
    Action.REJECT: "Ctrl+Shift+N",
    Action.LINK: "Ctrl+Shift+K",
    Action.DISPATCH: "Ctrl+D",
    Action.ACCEPT: "Ctrl+J",
    Action.FEEDBACK: "Ctrl+Shift+F",
    Action.REQUEST_RETURN: "Ctrl+Shift+B",
    Action.REQUEST_EXTENSION: "Ctrl+Shift+E",
    Action.REQUEST_DEFER: "Ctrl+Shift+D",
    Action.REQUEST_SHELVE: "Ctrl+Shift+G",
    Action.REQUEST_VOID: "Ctrl+Shift+Z",
    Action.APPROVE: "Ctrl+Shift+A",
    Action.REFUSE: "Ctrl+Shift+X",
    Action.SEND_CHECK: "Ctrl+Shift+C",
    Action.CHECK: "Ctrl+K",
    Action.CLOSE: "Ctrl+E",
    Action.REWORK: "Ctrl+Shift+W",
    Action.VOID: "Ctrl+Shift+Del",
    Action.URGE: "Ctrl+U",
    Action.RESTORE: "Ctrl+Shift+H",
    Action.REPLY: "Ctrl+R",
}


def action_id(action: Action) -> str:
    """The stable id of a case action, e.g. ``gridhall.case.dispatch``."""
    return f"gridhall.case.{action.value}"


def role_actions(role: Role) -> list[Action]:
    """The case actions ``role`` may ever take (table order, without 上报: that is the intake form)."""
    found = {t.action for t in WORKFLOW.transitions if role in t.roles and t.action is not Action.REPORT}
    return [a for a in Action if a in found]


def can_act(role: Role, action: Action) -> bool:
    """Whether ``role`` may ever take ``action`` (上报 included, unlike :func:`role_actions`)."""
    if action is Action.REPORT:
        return any(role in t.roles for t in WORKFLOW.transitions if t.action is action)
    return action in role_actions(role)


def case_action_specs(role: Role, perform: Callable[[Action], None]) -> list[ActionSpec]:
    """ActionSpecs of the role's case actions, each calling ``perform(action)``."""
    return [ActionSpec(action_id(a), a.label, SHORTCUTS.get(a, ""), MENU, (lambda a=a: perform(a)),
                       tip=f"{a.label}（选中的案卷）") for a in role_actions(role)]


class CaseActions:
    """Registers the actor's case actions and runs them on the selected case."""

    ALLOWED_KEY = "case_actions.allowed"

    def __init__(self, registry: ActionRegistry, state: QueueState, runner: TaskRunner, desk, actor,
                 parent: QWidget | None = None, catalogue: Catalogue | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        self.registry, self.state, self.runner, self.desk, self.actor = registry, state, runner, desk, actor
        self.parent = parent
        self.cat = catalogue or Catalogue()
        self.notify = notify or (lambda _text: None)
        self.actions = role_actions(actor.role)
        self._registrations = [registry.register(s) for s in case_action_specs(actor.role, self.perform)]
        self._subs = Subscriptions()
        self._subs.connect(state.events.selection_changed, lambda _id: self.refresh())
        self._subs.connect(state.events.rows_changed, self._rows_changed)
        self.open_dialog = None
        self.refresh()

    def teardown(self) -> None:
        self._subs.close()
        for r in self._registrations:
            r.remove()
        self.runner.cancel(self.ALLOWED_KEY)

    def enabled_actions(self) -> list[Action]:
        """The registered actions that are enabled now."""
        return [a for a in self.actions if self.registry.action(action_id(a)).isEnabled()]

    def refresh(self) -> None:
        """Enable what the workflow allows on the selected case; then ask the services to refine it."""
        case_id = self.state.selected_id
        row = self.state.summary(case_id) if case_id is not None else None
        allowed = set(WORKFLOW.actions(row.state, self.actor.role)) if row is not None else set()
        self._enable(allowed)
        if row is not None:
            self.runner.run_in_thread(lambda: self.desk.cases.allowed_actions(self.actor, case_id),
                                      lambda acts: self._refined(case_id, acts),
                                      lambda exc: self._refine_failed(case_id, exc), key=self.ALLOWED_KEY)

    def _refine_failed(self, case_id: int, exc: BaseException) -> None:
        # the workflow's answer stays enabled and the services check again on every call: log, do not nag
        log.warning("asking which actions are allowed on case %s failed: %s", case_id, exc)

    def _refined(self, case_id: int, actions) -> None:
        if case_id == self.state.selected_id:
            self._enable(set(actions))

    def _enable(self, allowed: set[Action]) -> None:
        for a in self.actions:
            self.registry.action(action_id(a)).setEnabled(a in allowed)

    def _rows_changed(self, ids) -> None:
        if self.state.selected_id in ids:
            self.refresh()

    # ---- running -------------------------------------------------------------------
    def perform(self, action: Action, case_id: int | None = None):
        """Run ``action`` on ``case_id`` (default: the selected case): a form, a prompt or at once."""
        case_id = case_id if case_id is not None else self.state.selected_id
        row = self.state.summary(case_id) if case_id is not None else None
        if row is None:
            self.notify(self.cat.tr("请先在队列中选择一件案卷"))
            return None
        if action is Action.DISPATCH:
            dialog = DispatchForm(self.desk, self.actor, self.runner, row.id, row.version, self.cat, self.parent)
            dialog.dispatched.connect(self._done)
        elif action in DIRECT:
            actor, cases = self.actor, self.desk.cases
            self.runner.run_in_thread(lambda: call_service(cases, actor, action, row.id, row.version, {}),
                                      self._done, lambda exc: self._failed(row, action, exc))
            return None
        else:
            dialog = ActionDialog(self.desk, self.actor, self.runner, action, row, self.cat, self.parent)
            dialog.performed.connect(self._done)
        self.open_dialog = dialog
        dialog.finished.connect(lambda _code: setattr(self, "open_dialog", None))
        dialog.open()
        return dialog

    def _done(self, result) -> None:
        text = self.cat.tr("{number}：{action}完成，现为「{state}」", number=result.case.number,
                           action=self.cat.label(result.action), state=self.cat.label(result.case.state))
        if result.warnings:
            text += "；" + "；".join(result.warnings)
        self.notify(text)

    def _failed(self, row, action: Action, exc: BaseException) -> None:
        # no modal box: the hall keeps working; the status bar and the alert banner carry it
        self.notify(self.cat.tr("{number} 未能{action}：{error}", number=row.number,
                                action=self.cat.label(action), error=error_text(exc)))


#: States each role's approvals queue holds (requests only those roles decide).
def approvable_states(role: Role) -> set[CaseState]:
    """Request states in which ``role`` may approve or refuse."""
    return {s for s in CaseState if s.value.endswith("_requested")
            and Action.APPROVE in WORKFLOW.actions(s, role)}
