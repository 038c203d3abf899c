"""Bulk dispatch and bulk close on a selection: each case its own transaction, then a summary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from app.domain.definitions import Action, CaseState
from app.i18n import Catalogue
from app.ui.forms.common import Banner, Submitter, error_text
from app.ui.tasks import TaskRunner
from app.views.queue_state import QueueState

#: The state a case must be in for each bulk action.
BULK_STATES = {Action.DISPATCH: CaseState.FILED, Action.CLOSE: CaseState.CHECKED}
TOP_SUGGESTION = None  # department choice meaning "each case's first suggestion"


@dataclass
class BulkOutcome:
    """What a bulk run did: (number, message) per success and per failure."""

    done: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"成功 {len(self.done)} 件，失败 {len(self.failed)} 件"]
        lines += [f"✗ {n}：{m}" for n, m in self.failed]
        lines += [f"✓ {n}：{m}" for n, m in self.done]
        return "\n".join(lines)


def run_bulk(cases, actor, action: Action, rows, *, department: int | None = None, reason: str | None = None,
             note: str | None = None) -> BulkOutcome:
    """Apply ``action`` to each row in turn (worker thread); one failure never stops the others."""
    outcome = BulkOutcome()
    for row in rows:
        try:
            if action is Action.DISPATCH:
                dept = department
                if dept is None:
                    suggestions = cases.dispatch_suggestions(row.id)
                    if not suggestions:
                        raise ValueError("没有派遣建议：请单独派遣并选择部门")
                    dept = suggestions[0].department_id
                result = cases.dispatch(actor, row.id, row.version, department=dept, reason=reason)
                outcome.done.append((row.number, f"派遣给 {result.case.department_name}"))
            else:
                result = cases.close(actor, row.id, row.version, note=note)
                extra = f"（{'；'.join(result.warnings)}）" if result.warnings else ""
                outcome.done.append((row.number, f"已结案{extra}"))
        except Exception as exc:  # noqa: BLE001 — every failure is reported in the summary
            outcome.failed.append((row.number, error_text(exc)))
    return outcome


class BulkDialog(QDialog):
    """Pick cases (pre-checked: the queue's current selection, else all eligible shown rows) and run."""

    completed = Signal(object)  # BulkOutcome

    def __init__(self, desk, actor, runner: TaskRunner, state: QueueState, action: Action,
                 preselected: Iterable[int] = (), departments: list[tuple[int, str, str]] | None = None,
                 catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(f"bulk_{action.value}")
        self.desk, self.actor, self.state, self.action = desk, actor, state, action
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self.setWindowTitle(tr("批量{action}", action=self.cat.label(action)))
        self.outcome: BulkOutcome | None = None
        wanted = BULK_STATES[action]
        visible = set(state.visible_ids)
        self.rows = [r for r in state.rows if r.state is wanted and r.id in visible]
        self.rows.sort(key=lambda r: r.number)
        chosen = set(preselected) & {r.id for r in self.rows}
        self.banner = Banner(self, "bulkBanner")
        self.list = QListWidget(objectName="bulkList")
        for r in self.rows:
            item = QListWidgetItem(f"{r.number}  {r.category_name}  {r.street_name or ''}{r.community_name or ''}")
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if (not chosen or r.id in chosen) else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        form = QFormLayout()
        self.department = QComboBox(objectName="bulkDepartment")
        self.reason = QLineEdit(objectName="bulkReason")
        if action is Action.DISPATCH:
            self.department.addItem(tr("按各案卷的首选建议"), TOP_SUGGESTION)
            for dept_id, code, name in departments or []:
                self.department.addItem(f"{name}（{code}）", dept_id)
            form.addRow(tr("派遣给"), self.department)
            self.reason.setPlaceholderText(tr("派遣给建议以外的部门时必填"))
            form.addRow(tr("理由"), self.reason)
        else:
            self.reason.setPlaceholderText(tr("结案备注（选填）"))
            form.addRow(tr("备注"), self.reason)
        self.details = QPlainTextEdit(objectName="bulkDetails")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(130)
        self.details.hide()
        self.count = QLabel(objectName="bulkCount")
        self.run_button = QPushButton(tr("批量{action}", action=self.cat.label(action)), objectName="bulkRun")
        self.run_button.setDefault(True)
        close = QPushButton(tr("关闭"), objectName="bulkClose")
        close.clicked.connect(self.reject)
        self.run_button.clicked.connect(self.submit)
        self.list.itemChanged.connect(lambda _i: self._count())
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        buttons.addWidget(close)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.details)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.resize(560, 460)
        self.submitter = Submitter(runner, [self.run_button])
        self._count()
        if not self.rows:
            self.banner.show_message(tr("当前筛选下没有「{state}」的案卷", state=self.cat.label(wanted)), "warn")

    def checked_rows(self):
        ids = {self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
               if self.list.item(i).checkState() == Qt.CheckState.Checked}
        return [r for r in self.rows if r.id in ids]

    def _count(self) -> None:
        n = len(self.checked_rows())
        self.count.setText(self.cat.tr("已选 {n} / {total} 件", n=n, total=len(self.rows)))
        self.run_button.setEnabled(n > 0 and not self.submitter.busy)

    def submit(self) -> bool:
        rows = self.checked_rows()
        if not rows:
            return False
        cases, actor, action = self.desk.cases, self.actor, self.action
        dept = self.department.currentData() if action is Action.DISPATCH else None
        text = self.reason.text().strip() or None
        self.banner.show_message(self.cat.tr("正在处理 {n} 件…", n=len(rows)), "info")
        return self.submitter.submit(
            lambda: run_bulk(cases, actor, action, rows, department=dept, reason=text, note=text),
            self._done, lambda exc: self.banner.show_message(error_text(exc)))

    def _done(self, outcome: BulkOutcome) -> None:
        self.outcome = outcome
        head, _, rest = outcome.text().partition("\n")
        self.banner.show_message(head, "warn" if outcome.failed else "info")
        self.details.setPlainText(rest)
        self.details.setVisible(bool(rest))
        done_numbers = {n for n, _m in outcome.done}
        for i in range(self.list.count()):
            item = self.list.item(i)
            row = next(r for r in self.rows if r.id == item.data(Qt.ItemDataRole.UserRole))
            if row.number in done_numbers:
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        self.completed.emit(outcome)
