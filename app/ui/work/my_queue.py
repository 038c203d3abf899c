""""Needs my action" (待我办理): the queue rows on which the logged-in role has something to do."""

from __future__ import annotations

from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.cases import CaseSummary
from app.domain.definitions import Action, CaseState, Role
from app.domain.workflow import WORKFLOW
from app.i18n import Catalogue
from app.ui.work.case_list import CaseList, urgency_key
from app.ui.work.throttle import Throttle
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

#: Actions possible on (almost) every open case: they do not make a case "need" anyone.
REFRESH_EVERY_S = 10
SIDE_ACTIONS = frozenset({Action.URGE, Action.REPLY, Action.REQUEST_VOID, Action.VOID, Action.LINK, Action.EDIT})


def needed_actions(row: CaseSummary, role: Role, department_code: str | None = None) -> list[Action]:
    """What ``role`` has to do on ``row`` (department operators: only their department's cases)."""
    if role is Role.DEPARTMENT and (department_code is None or row.department_code != department_code):
        return []
    return [a for a in WORKFLOW.actions(row.state, role) if a not in SIDE_ACTIONS]


#: States whose case waits (缓办, 挂账): listed, but never "the next case" (恢复 is a decision, not a to-do).
WAITING_STATES = frozenset({CaseState.DEFERRED, CaseState.SHELVED})


def my_rows(state: QueueState, role: Role, department_code: str | None = None) -> list[CaseSummary]:
    """The rows needing ``role``'s action, most urgent first (paused and waiting cases last)."""
    rows = [r for r in state.rows if needed_actions(r, role, department_code)]
    key = urgency_key(state)
    rows.sort(key=lambda r: (not actionable_now(state, r), key(r)))
    return rows


def actionable_now(state: QueueState, row: CaseSummary) -> bool:
    """Whether the case is work to do now: not 缓办/挂账 and its timer not paused."""
    if row.state in WAITING_STATES:
        return False
    reading = state.reading(row.id) if row.timer is not None else None
    return not (reading is not None and reading.paused)


def next_case(state: QueueState, role: Role, department_code: str | None = None) -> CaseSummary | None:
    """The case 办理下一件 opens: the most urgent one ``role`` can act on now (never a paused,
    缓办 or 挂账 case)."""
    return next((r for r in my_rows(state, role, department_code) if actionable_now(state, r)), None)


class MyQueueDock(QWidget):
    """The role's to-do list over the shared QueueState; clicking a row selects the case."""

    def __init__(self, state: QueueState, actor, catalogue: Catalogue | None = None,
                 department_code: str | None = None, perform=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("myQueue")
        self.state, self.actor = state, actor
        self.cat = catalogue or Catalogue()
        self.department_code = department_code
        self.perform = perform
        self.summary = QLabel(objectName="myQueueSummary")
        self.list = CaseList(state, self.cat, self, "myQueueList")
        self.next_button = QPushButton(self.cat.tr("办理下一件"), objectName="myQueueNext")
        self.next_button.setToolTip(self.cat.tr("选中最紧急的一件并打开它的第一个待办操作"))
        self.next_button.clicked.connect(self.do_next)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list)
        ev = state.events
        self._subs = Subscriptions()
        self._reload_soon = Throttle(self.reload, parent=self)  # a burst of changes: one reload per 250 ms
        self._subs.connect(ev.rows_reset, self._reload_soon)
        self._subs.connect(ev.rows_changed, lambda _ids: self._reload_soon())
        self._subs.connect(ev.tick, self._tick)
        self._subs.connect(ev.selection_changed, self.list.follow)
        self._last = None
        self.reload()

    def teardown(self) -> None:
        self._subs.close()

    def set_department_code(self, code: str | None) -> None:
        self.department_code = code
        self.reload()

    def _tick(self, now) -> None:
        # the countdowns and the urgency order drift with the clock: re-read now and then, not every second
        if self._last is None or (now - self._last).total_seconds() >= REFRESH_EVERY_S:
            self._reload_soon()  # waits while the list is out of sight

    def rows(self) -> list[CaseSummary]:
        return my_rows(self.state, self.actor.role, self.department_code)

    def reload(self) -> None:
        self._last = self.state.now
        rows = self.rows()
        self.list.show_rows(rows, lambda r: self.cat.tr("、").join(
            self.cat.label(a) for a in needed_actions(r, self.actor.role, self.department_code)))
        self.list.follow(self.state.selected_id)
        self.summary.setText(self.cat.tr("{role}待办 {n} 件", role=self.cat.label(self.actor.role), n=len(rows)))
        has_next = next_case(self.state, self.actor.role, self.department_code) is not None
        self.next_button.setEnabled(has_next)
        self.next_button.setToolTip(self.cat.tr("选中最紧急的一件并打开它的第一个待办操作") if has_next else
                                    self.cat.tr("不可用：{why}", why=self.cat.tr(
                                        "没有现在可办理的案卷（暂停、缓办、挂账的案卷不计）")))

    def do_next(self) -> None:
        """Select the most urgent case the role can act on now (skipping paused, 缓办 and 挂账 cases)
        and start its first pending action."""
        row = next_case(self.state, self.actor.role, self.department_code)
        if row is None:
            return
        self.state.select(row.id)
        actions = needed_actions(row, self.actor.role, self.department_code)
        if actions and self.perform is not None:
            self.perform(actions[0], row.id)
