"""Bulk runs of a case command on a selection (批量派遣, 批量结案, any command declared ``bulk``):
each case its own transaction through the command layer, then a summary."""

from __future__ import annotations

from collections.abc import Iterable

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from app.commands import BulkOutcome, Command, FieldKind, run_bulk
from app.commands.bulk import BulkSummary, summarize
from app.commands.evidence import closing_precheck, needs_evidence, strict_evidence
from app.domain.definitions import Action
from app.i18n import Catalogue
from app.ui import plain
from app.ui.forms.action_dialogs import command_for
from app.ui.forms.command_fields import FIRST_SUGGESTION, field_label, field_value, field_widget
from app.ui.forms.common import Banner, Submitter, error_text
from app.ui.tasks import LoopGate, TaskRunner
from app.views.queue_state import QueueState

__all__ = ["TOP_SUGGESTION", "BulkDialog", "BulkOutcome", "bulk_fields", "bulk_work", "run_bulk"]

TOP_SUGGESTION = FIRST_SUGGESTION  # department choice meaning "each case's first suggestion"
#: Kinds a bulk form does not ask for (per-case matters: photos, levels, read-only text).
_NOT_IN_BULK = (FieldKind.PHOTOS, FieldKind.LEVEL, FieldKind.INFO)


def _on_change(widget, callback) -> None:
    """Call ``callback()`` whenever a field widget's value changes."""
    if isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(lambda _i: callback())
    elif isinstance(widget, QCheckBox):
        widget.toggled.connect(lambda _on: callback())
    elif isinstance(widget, QSpinBox):
        widget.valueChanged.connect(lambda _v: callback())
    elif isinstance(widget, QPlainTextEdit):
        widget.textChanged.connect(callback)
    elif hasattr(widget, "textChanged"):
        widget.textChanged.connect(lambda _t: callback())


def bulk_work(command: Command | str, desk, actor, rows, values=None, precheck=None,
              gate: LoopGate | None = None):
    """The work of a bulk run, for a worker thread: each case its own transaction, and between two
    cases a wait at ``gate`` for the GUI's event loop (the dialog's run, and the desk benchmark's)."""
    between = gate.wait if gate is not None else None
    return lambda: run_bulk(command, desk, actor, rows, values, precheck=precheck, between=between)


def bulk_fields(command: Command):
    """The fields a bulk run of ``command`` asks for (once, for every case)."""
    return [f for f in command.fields if f.prompt and f.kind not in _NOT_IN_BULK]


class BulkDialog(QDialog):
    """Pick cases and run one command on them, after an explicit confirmation.

    Nothing is ticked unless the user selected it in the queue (``preselected``); 全选 ticks every
    eligible shown row on request. A summary (cases per action and per department: where each
    case goes for 派遣, where it lies otherwise) follows every tick and field change. The run
    button is never the default button and Return/Enter never runs it: the user ticks
    「我已核对清单」(which unticks itself whenever the list or the values change) and then presses
    the button, so a stray Enter cannot send work.
    """

    completed = Signal(object)  # BulkOutcome

    def __init__(self, desk, actor, runner: TaskRunner, state: QueueState, command: Command | Action | str,
                 preselected: Iterable[int] = (), departments: list[tuple[int, str, str]] | None = None,
                 catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.command = command_for(desk, command)
        self.action = self.command.action
        self.setObjectName(f"bulk_{self.action.value if self.action else self.command.verb}")
        self.desk, self.actor, self.state, self.runner = desk, actor, state, runner
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        title = tr(self.command.title)
        self.setWindowTitle(tr("批量{action}", action=title))
        self.outcome: BulkOutcome | None = None
        self.departments = {dept_id: name for dept_id, _code, name in (departments or [])}
        self.suggested: dict[int, str | None] = {}  # case id -> first suggestion's department name
        visible = set(state.visible_ids)
        role = actor.role
        self.rows = [r for r in state.rows if r.id in visible and self.command.allows(role, r.state)]
        self.rows.sort(key=lambda r: r.number)
        picked = set(preselected)
        chosen = picked & {r.id for r in self.rows}
        self.banner = Banner(self, "bulkBanner")
        self.list = QListWidget(objectName="bulkList")
        for r in self.rows:
            item = QListWidgetItem(plain.line(f"{r.number}  {r.category_name}  {r.street_name or ''}{r.community_name or ''}",
                                              300))
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if r.id in chosen else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.select_all = QPushButton(tr("全选"), objectName="bulkSelectAll")
        self.select_none = QPushButton(tr("全不选"), objectName="bulkSelectNone")
        self.select_all.clicked.connect(lambda: self._tick_all(True))
        self.select_none.clicked.connect(lambda: self._tick_all(False))
        picks = QHBoxLayout()
        picks.addWidget(QLabel(tr("勾选要处理的案卷："), objectName="bulkListTitle"), 1)
        picks.addWidget(self.select_all)
        picks.addWidget(self.select_none)
        form = QFormLayout()
        self.fields = bulk_fields(self.command)
        self.widgets: dict[str, object] = {}
        for f in self.fields:
            widget = field_widget(f, self.cat, None, departments,
                                  first_suggestion=self.command.bulk_prepare is not None)
            self.widgets[f.name] = widget
            form.addRow(field_label(f, self.cat), widget)
            _on_change(widget, self._changed)
        self.summary = QLabel(objectName="bulkSummary")
        plain.plain_text_label(self.summary)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("QLabel { background:#f3f6fa; border:1px solid #c9d3df; padding:6px; }")
        self.details = QPlainTextEdit(objectName="bulkDetails")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(130)
        self.details.hide()
        self.count = QLabel(objectName="bulkCount")
        # 结案: each case's closing evidence is checked before its close is sent
        self.evidence_ack = QCheckBox(tr("也结案证据不完整的案卷（记录在案）"), objectName="bulkEvidenceAck")
        self.evidence_ack.setVisible(needs_evidence(self.command) and not strict_evidence(desk))
        self.evidence_ack.toggled.connect(lambda _on: self._changed())
        self.confirm = QCheckBox(objectName="bulkConfirm")
        self.confirm.toggled.connect(lambda _on: self._enable())
        self.run_button = QPushButton(objectName="bulkRun")
        close = QPushButton(tr("关闭"), objectName="bulkClose")
        for button in (self.run_button, close, self.select_all, self.select_none):
            button.setAutoDefault(False)  # Return on a focused button must not press it
            button.setDefault(False)
        close.clicked.connect(self.reject)
        self.run_button.clicked.connect(self.submit)
        self.list.itemChanged.connect(lambda _i: self._changed())
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        buttons.addWidget(close)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.details)
        layout.addLayout(picks)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.evidence_ack)
        layout.addWidget(self.confirm)
        layout.addLayout(buttons)
        self.resize(620, 560)
        self.submitter = Submitter(runner, [self.run_button])
        self.gate = LoopGate(self)  # the run lets the GUI's event loop come round between cases
        self._changed()
        self._load_suggestions()
        if not self.rows:
            states = self.command.allowed_states or frozenset()
            if len(states) == 1:
                self.banner.show_message(tr("当前筛选下没有「{state}」的案卷", state=self.cat.label(next(iter(states)))),
                                         "warn")
            else:
                self.banner.show_message(tr("当前筛选下没有可{action}的案卷", action=title), "warn")
        elif len(picked) > 1 and len(picked) > len(chosen):
            # picked in the queue but not eligible here: said, never silently dropped
            self.banner.show_message(tr("在队列中选中的 {picked} 件案卷中有 {n} 件不能{action}（状态不符），未勾选",
                                        picked=len(picked), n=len(picked) - len(chosen), action=title), "warn")

    # ---- Return never runs ---------------------------------------------------------
    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()  # never the run (nor any other button): confirmation is explicit
            return
        super().keyPressEvent(event)

    # ---- the summary ---------------------------------------------------------------
    def _department_field(self):
        return next((f for f in self.fields if f.kind is FieldKind.DEPARTMENT), None)

    def target_department(self, row) -> str | None:
        """Where ``row`` goes (派遣: the chosen department or its first suggestion) or lies."""
        f = self._department_field()
        if f is None:
            return row.department_name or self.cat.tr("（无责任部门）")
        chosen = field_value(f, self.widgets[f.name])
        if chosen is not None:
            return self.departments.get(chosen, str(chosen))
        return self.suggested.get(row.id)

    def summary_of(self) -> BulkSummary:
        return summarize(self.command, self.checked_rows(), self.target_department)

    def _load_suggestions(self) -> None:
        if self.command.bulk_prepare is None or self._department_field() is None or not self.rows:
            return
        ids = [r.id for r in self.rows]
        cases = self.desk.cases

        def look_up() -> dict[int, str | None]:
            found = {}
            for case_id in ids:
                try:
                    suggestions = cases.dispatch_suggestions(case_id)
                except Exception:  # noqa: BLE001 — shown as "to be decided"; the run reports it
                    suggestions = []
                found[case_id] = suggestions[0].name if suggestions else self.cat.tr("（无派遣建议）")
            return found

        self.runner.run_in_thread(look_up, self._suggestions_loaded,
                                  lambda exc: self.banner.show_message(error_text(exc, self.cat)))

    def _suggestions_loaded(self, found: dict[int, str | None]) -> None:
        self.suggested.update(found)
        self._show_summary()

    def _show_summary(self) -> None:
        summary = self.summary_of()
        lines = summary.lines(self.cat)
        if summary.total == 0:
            lines = [self.cat.tr("尚未勾选案卷：在列表中勾选要处理的案卷")]
        elif needs_evidence(self.command):
            lines.append(self.cat.tr("结案前逐件检查结案证据（处置前、处置后照片及拍摄时间）；") + (
                self.cat.tr("证据不完整的案卷也会结案") if self.evidence_ack.isChecked() and not self.evidence_ack.isHidden()
                else self.cat.tr("证据不完整的案卷不会结案，结果中列出缺少什么")))
        self.summary.setText(plain.clean("\n".join(lines)))
        self.summary.setToolTip(plain.tooltip("\n".join(lines)))

    def values(self) -> dict:
        """The values typed once for every case."""
        return {f.name: field_value(f, self.widgets[f.name]) for f in self.fields}

    def checked_rows(self):
        ids = {self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
               if self.list.item(i).checkState() == Qt.CheckState.Checked}
        return [r for r in self.rows if r.id in ids]

    def _tick_all(self, on: bool) -> None:
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsEnabled:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._changed()

    def _changed(self) -> None:
        """The list or a value changed: the summary follows and the confirmation must be given again."""
        n = len(self.checked_rows())
        title = self.cat.tr(self.command.title)
        self.confirm.blockSignals(True)
        self.confirm.setChecked(False)
        self.confirm.blockSignals(False)
        self.confirm.setText(self.cat.tr("我已核对以上清单和汇总（{n} 件）", n=n))
        self.run_button.setText(self.cat.tr("批量{action} {n} 件", action=title, n=n))
        self.count.setText(self.cat.tr("已选 {n} / {total} 件", n=n, total=len(self.rows)))
        self._show_summary()
        self._enable()

    def _enable(self) -> None:
        n = len(self.checked_rows())
        self.confirm.setEnabled(n > 0 and not self.submitter.busy)
        ready = n > 0 and self.confirm.isChecked() and not self.submitter.busy
        self.run_button.setEnabled(ready)
        if n == 0:
            self.run_button.setToolTip(self.cat.tr("先勾选要处理的案卷"))
        elif not self.confirm.isChecked():
            self.run_button.setToolTip(self.cat.tr("先核对清单并勾选「我已核对」"))
        else:
            self.run_button.setToolTip("")

    def submit(self) -> bool:
        """Run on the ticked rows; refused (False) without rows, with a refused value (named in the
        banner) or without the confirmation."""
        rows = self.checked_rows()
        if not rows:
            return False
        values = self.values()
        if self.command.bulk_prepare is None:  # else each case's values are completed (and checked) in the run
            problems = self.command.problems(values)
            if problems:
                self.banner.show_message(problems[0].message(self.cat))
                return False
        if not self.confirm.isChecked():
            self.banner.show_message(self.cat.tr("先核对清单并勾选「我已核对」"), "warn")
            return False
        if needs_evidence(self.command) and self.evidence_ack.isChecked() and not self.evidence_ack.isHidden():
            # the shift leader's override of incomplete evidence is recorded with its reason (the note)
            if not (values.get("note") or "").strip():
                self.banner.show_message(self.cat.tr("证据不完整仍然结案，须在备注中写明理由（记录在案）"), "warn")
                return False
            values = {**values, "override": True}
        command, desk, actor = self.command, self.desk, self.actor
        precheck = closing_precheck(desk, accept_incomplete=self.evidence_ack.isChecked()) \
            if needs_evidence(command) else None
        self.banner.show_message(self.cat.tr("正在处理 {n} 件…", n=len(rows)), "info")
        return self.submitter.submit(bulk_work(command, desk, actor, rows, values, precheck, self.gate),
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
        self._changed()  # the done rows are unticked: a second run needs a new confirmation
        self.completed.emit(outcome)
