"""The approvals queue (待审批): 回退/延期/缓办/挂账 requests for the dispatcher, 作废 for the shift leader."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.definitions import Action
from app.i18n import Catalogue
from app.ui.case_actions import SHORTCUTS, approvable_states
from app.ui.work.case_list import ID_ROLE, CaseList
from app.ui.work.throttle import Throttle
from app.views.events import Subscriptions
from app.views.queue_state import QueueState


class ApprovalsDock(QWidget):
    """Requests awaiting this role's decision, oldest first; 批准 / 不批准 the highlighted one."""

    def __init__(self, state: QueueState, actor, perform: Callable[[Action, int], object],
                 catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("approvals")
        self.state, self.actor, self.perform = state, actor, perform
        self.cat = catalogue or Catalogue()
        self.states = approvable_states(actor.role)
        self.summary = QLabel(objectName="approvalsSummary")
        self.list = CaseList(state, self.cat, self, "approvalsList")
        self.approve_button = QPushButton(self.cat.tr("批准"), objectName="approveButton")
        self.refuse_button = QPushButton(self.cat.tr("不批准"), objectName="refuseButton")
        self.approve_button.setToolTip(SHORTCUTS[Action.APPROVE])
        self.refuse_button.setToolTip(SHORTCUTS[Action.REFUSE])
        self.approve_button.clicked.connect(lambda: self._run(Action.APPROVE))
        self.refuse_button.clicked.connect(lambda: self._run(Action.REFUSE))
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.refuse_button)
        buttons.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        ev = state.events
        self._subs = Subscriptions()
        self._reload_soon = Throttle(self.reload, parent=self)  # a burst of changes: one reload per 250 ms
        self._subs.connect(ev.rows_reset, self._reload_soon)
        self._subs.connect(ev.rows_changed, lambda _ids: self._reload_soon())
        self._subs.connect(ev.selection_changed, lambda case_id: (self.list.follow(case_id), self._enable()))
        self.list.itemSelectionChanged.connect(self._enable)
        self.reload()

    def teardown(self) -> None:
        self._subs.close()

    def rows(self):
        rows = [r for r in self.state.rows if r.state in self.states]
        rows.sort(key=lambda r: (r.reported_at, r.number))
        return rows

    def reload(self) -> None:
        rows = self.rows()
        self.list.show_rows(rows, lambda r: f"{self.cat.label(r.state)} · {r.department_name or ''}")
        self.summary.setText(self.cat.tr("待审批 {n} 件", n=len(rows)))
        self.list.follow(self.state.selected_id)
        self._enable()

    def _chosen(self):
        """The highlighted request (never an unhighlighted top row)."""
        items = self.list.selectedItems()
        return items[0] if len(items) == 1 else None

    def _enable(self) -> None:
        item = self._chosen()
        if item is None:
            why = self.cat.tr("不可用：{why}", why=self.cat.tr("先在列表中选中一件申请") if self.list.topLevelItemCount()
                              else self.cat.tr("没有待审批的申请"))
        else:
            why = ""
        for button in (self.approve_button, self.refuse_button):
            button.setEnabled(item is not None)
            button.setToolTip(why)

    def _run(self, action: Action) -> None:
        item = self._chosen()
        if item is None:
            return
        case_id = item.data(0, ID_ROLE)
        self.state.select(case_id)
        self.perform(action, case_id)
