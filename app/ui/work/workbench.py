"""The department workbench (部门工作台): the department's cases with accept, feedback and the requests."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.definitions import Action, CaseState
from app.domain.workflow import WORKFLOW
from app.i18n import Catalogue
from app.ui.case_actions import SHORTCUTS
from app.ui.work.case_list import ID_ROLE, CaseList, urgency_key
from app.ui.work.throttle import Throttle
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

WORKBENCH_ACTIONS = (Action.ACCEPT, Action.FEEDBACK, Action.REQUEST_RETURN, Action.REQUEST_EXTENSION,
                     Action.REQUEST_DEFER, Action.REQUEST_SHELVE)


class DepartmentWorkbench(QWidget):
    """Cases dispatched to the operator's department; buttons act on the highlighted one."""

    def __init__(self, state: QueueState, actor, perform: Callable[[Action, int], object],
                 catalogue: Catalogue | None = None, department_code: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("departmentWorkbench")
        self.state, self.actor, self.perform = state, actor, perform
        self.cat = catalogue or Catalogue()
        self.department_code = department_code
        self.summary = QLabel(objectName="workbenchSummary")
        self.list = CaseList(state, self.cat, self, "workbenchList", place="location")
        self.buttons: dict[Action, QPushButton] = {}
        grid = QGridLayout()
        grid.setSpacing(4)
        for i, action in enumerate(WORKBENCH_ACTIONS):
            button = QPushButton(self.cat.label(action), objectName=f"workbench_{action.value}")
            button.setToolTip(SHORTCUTS.get(action, ""))
            button.clicked.connect(lambda _c=False, a=action: self._run(a))
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[action] = button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(grid)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        ev = state.events
        self._subs = Subscriptions()
        self._reload_soon = Throttle(self.reload, parent=self)  # a burst of changes: one reload per 250 ms
        self._subs.connect(ev.rows_reset, self._reload_soon)
        self._subs.connect(ev.rows_changed, lambda _ids: self._reload_soon())
        self._subs.connect(ev.selection_changed, lambda _id: self._follow_selection())
        self.reload()

    def teardown(self) -> None:
        self._subs.close()

    def set_department_code(self, code: str | None) -> None:
        self.department_code = code
        self.reload()

    def rows(self):
        if not self.department_code:
            return []
        rows = [r for r in self.state.rows if r.department_code == self.department_code]
        rows.sort(key=urgency_key(self.state))
        return rows

    def reload(self) -> None:
        rows = self.rows()
        self.list.show_rows(rows, lambda r: self.cat.text(self.state.explain(r.id)))
        waiting = sum(1 for r in rows if r.state is CaseState.DISPATCHED)
        handling = sum(1 for r in rows if r.state is CaseState.HANDLING)
        self.summary.setText(self.cat.tr("本部门在办 {n} 件 · 待接收 {w} · 处置中 {h}", n=len(rows), w=waiting,
                                         h=handling))
        self._follow_selection()

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(0, ID_ROLE) if item is not None and item.isSelected() else None

    def _follow_selection(self) -> None:
        self.list.follow(self.state.selected_id)
        self._update_buttons()

    def _update_buttons(self) -> None:
        case_id = self.current_id()
        row = self.state.summary(case_id) if case_id is not None else None
        allowed = set(WORKFLOW.actions(row.state, self.actor.role)) if row is not None else set()
        for action, button in self.buttons.items():
            on = action in allowed
            button.setEnabled(on)
            shortcut = SHORTCUTS.get(action, "")
            if on:
                button.setToolTip(shortcut)
            elif row is None:
                button.setToolTip(self.cat.tr("不可用：{why}", why=self.cat.tr("先在列表中选中一件案卷")))
            else:
                states = self.cat.tr("、").join(self.cat.label(s) for s in CaseState
                                  if action in WORKFLOW.actions(s, self.actor.role))
                button.setToolTip(self.cat.tr("不可用：{why}", why=self.cat.tr(
                    "案卷当前为「{state}」；{action}只能用于：{states}", state=self.cat.label(row.state),
                    action=self.cat.label(action), states=states or "—")))

    def _run(self, action: Action) -> None:
        case_id = self.current_id()
        if case_id is not None:
            if self.state.selected_id != case_id:
                self.state.select(case_id)
            self.perform(action, case_id)
