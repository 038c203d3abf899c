"""Bulk runs of a case command on a selection (批量派遣, 批量结案, any command declared ``bulk``):
each case its own transaction through the command layer, then a summary."""

from __future__ import annotations

from collections.abc import Iterable

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from app.commands import BulkOutcome, Command, FieldKind, run_bulk
from app.domain.definitions import Action
from app.i18n import Catalogue
from app.ui import plain
from app.ui.forms.action_dialogs import command_for
from app.ui.forms.command_fields import FIRST_SUGGESTION, field_label, field_value, field_widget
from app.ui.forms.common import Banner, Submitter, error_text
from app.ui.tasks import TaskRunner
from app.views.queue_state import QueueState

__all__ = ["TOP_SUGGESTION", "BulkDialog", "BulkOutcome", "bulk_fields", "run_bulk"]

TOP_SUGGESTION = FIRST_SUGGESTION  # department choice meaning "each case's first suggestion"
#: Kinds a bulk form does not ask for (per-case matters: photos, levels, read-only text).
_NOT_IN_BULK = (FieldKind.PHOTOS, FieldKind.LEVEL, FieldKind.INFO)


def bulk_fields(command: Command):
    """The fields a bulk run of ``command`` asks for (once, for every case)."""
    return [f for f in command.fields if f.prompt and f.kind not in _NOT_IN_BULK]


class BulkDialog(QDialog):
    """Pick cases (pre-checked: the queue's current selection, else all eligible shown rows) and run."""

    completed = Signal(object)  # BulkOutcome

    def __init__(self, desk, actor, runner: TaskRunner, state: QueueState, command: Command | Action | str,
                 preselected: Iterable[int] = (), departments: list[tuple[int, str, str]] | None = None,
                 catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.command = command_for(desk, command)
        self.action = self.command.action
        self.setObjectName(f"bulk_{self.action.value if self.action else self.command.verb}")
        self.desk, self.actor, self.state = desk, actor, state
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        title = tr(self.command.title)
        self.setWindowTitle(tr("批量{action}", action=title))
        self.outcome: BulkOutcome | None = None
        visible = set(state.visible_ids)
        role = actor.role
        self.rows = [r for r in state.rows if r.id in visible and self.command.allows(role, r.state)]
        self.rows.sort(key=lambda r: r.number)
        chosen = set(preselected) & {r.id for r in self.rows}
        self.banner = Banner(self, "bulkBanner")
        self.list = QListWidget(objectName="bulkList")
        for r in self.rows:
            item = QListWidgetItem(plain.line(f"{r.number}  {r.category_name}  {r.street_name or ''}{r.community_name or ''}",
                                              300))
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if (not chosen or r.id in chosen) else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        form = QFormLayout()
        self.fields = bulk_fields(self.command)
        self.widgets: dict[str, object] = {}
        for f in self.fields:
            widget = field_widget(f, self.cat, None, departments,
                                  first_suggestion=self.command.bulk_prepare is not None)
            self.widgets[f.name] = widget
            form.addRow(field_label(f, self.cat), widget)
        self.details = QPlainTextEdit(objectName="bulkDetails")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(130)
        self.details.hide()
        self.count = QLabel(objectName="bulkCount")
        self.run_button = QPushButton(tr("批量{action}", action=title), objectName="bulkRun")
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
            states = self.command.allowed_states or frozenset()
            if len(states) == 1:
                self.banner.show_message(tr("当前筛选下没有「{state}」的案卷", state=self.cat.label(next(iter(states)))),
                                         "warn")
            else:
                self.banner.show_message(tr("当前筛选下没有可{action}的案卷", action=title), "warn")

    def values(self) -> dict:
        """The values typed once for every case."""
        return {f.name: field_value(f, self.widgets[f.name]) for f in self.fields}

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
        values = self.values()
        if self.command.bulk_prepare is None:  # else each case's values are completed (and checked) in the run
            problems = self.command.problems(values)
            if problems:
                self.banner.show_message(problems[0].message(self.cat))
                return False
        command, desk, actor = self.command, self.desk, self.actor
        self.banner.show_message(self.cat.tr("正在处理 {n} 件…", n=len(rows)), "info")
        return self.submitter.submit(lambda: run_bulk(command, desk, actor, rows, values),
                                     self._done, lambda exc: self.banner.show_message(error_text(exc, self.cat)))

    def _done(self, outcome: BulkOutcome) -> None:
        self.outcome = outcome
        head, _, rest = outcome.text(self.cat, lambda exc: error_text(exc, self.cat)).partition("\n")
        self.banner.show_message(head, "warn" if outcome.failed else "info")
        self.details.setPlainText(plain.clean(rest))  # plain text already; controls made visible
        self.details.setVisible(bool(rest))
        done_numbers = {n for n, _m in outcome.done}
        for i in range(self.list.count()):
            item = self.list.item(i)
            row = next(r for r in self.rows if r.id == item.data(Qt.ItemDataRole.UserRole))
            if row.number in done_numbers:
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        self.completed.emit(outcome)
