""""Needs my action" (待我办理): the queue rows on which the logged-in role has something to do."""

from __future__ import annotations

from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.cases import CaseSummary
from app.domain.definitions import Action, Role
from app.domain.workflow import WORKFLOW
from app.i18n import Catalogue
from app.ui.work.case_list import CaseList, urgency_key
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

#: Actions possible on (almost) every open case: they do not make a case "need" anyone.
REFRESH_EVERY_S = 10
SIDE_ACTIONS = frozenset({Action.URGE, Action.REPLY, Action.REQUEST_VOID, Action.VOID, Action.LINK})


def needed_actions(row: CaseSummary, role: Role, department_code: str | None = None) -> list[Action]:
    """What ``role`` has to do on ``row`` (department operators: only their department's cases)."""
    if role is Role.DEPARTMENT and (department_code is None or row.department_code != department_code):
        return []
    return [a for a in WORKFLOW.actions(row.state, role) if a not in SIDE_ACTIONS]


def my_rows(state: QueueState, role: Role, department_code: str | None = None) -> list[CaseSummary]:
    """The rows needing ``role``'s action, most urgent first."""
    rows = [r for r in state.rows if needed_actions(r, role, department_code)]
    rows.sort(key=urgency_key(state))
    return rows


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
        self._subs.connect(ev.rows_reset, self.reload)
        self._subs.connect(ev.rows_changed, lambda _ids: self.reload())
        self._subs.connect(ev.tick, self._tick)
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
            self.reload()

    def rows(self) -> list[CaseSummary]:
        return my_rows(self.state, self.actor.role, self.department_code)

    def reload(self) -> None:
        self._last = self.state.now
        rows = self.rows()
        self.list.show_rows(rows, lambda r: self.cat.tr("、").join(
            self.cat.label(a) for a in needed_actions(r, self.actor.role, self.department_code)))
        self.summary.setText(self.cat.tr("{role}待办 {n} 件", role=self.cat.label(self.actor.role), n=len(rows)))

    def do_next(self) -> None:
        """Select the most urgent case and start its first pending action."""
        rows = self.rows()
        if not rows:
            return
        row = rows[0]
        self.state.select(row.id)
        actions = needed_actions(row, self.actor.role, self.department_code)
        if actions and self.perform is not None:
            self.perform(actions[0], row.id)
