"""The dispatch form (派遣): ranked department suggestions with reasons and the deadline preview.

The dispatch command's own form (its department picker is special); it runs through the command.
"""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from app.commands import Command
from app.domain.definitions import Action, Level
from app.i18n import Catalogue
from app.ui import plain
from app.ui.forms.common import (
    Banner,
    ConflictPanel,
    FieldError,
    Submitter,
    error_field,
    error_text,
    hold_claim,
)
from app.ui.tasks import TaskRunner

#: A department as a suggestion or a choice shows at most this many characters.
NAME_CHARS = 80


def load_dispatch_data(desk, case_id: int) -> dict:
    """Everything the form shows, read in one worker call."""
    cases = desk.cases
    return {"case": cases.get(case_id), "suggestions": cases.dispatch_suggestions(case_id),
            "departments": desk.departments(), "preview": cases.preview_deadline(case_id)}


class DispatchForm(QDialog):
    """Dispatch one case: pick a suggested department (or another one, with a reason).

    While open it claims the case (others see "…正在派遣此案卷"); ``claim_banner`` shows
    someone else's claim. A conflict keeps the input and explains who changed what.
    """

    dispatched = Signal(object)  # ActionResult

    def __init__(self, desk, actor, runner: TaskRunner, case_id: int, version: int | None = None,
                 catalogue: Catalogue | None = None, parent=None, command: Command | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dispatchForm")
        if command is None:
            from app.ui.forms.action_dialogs import command_for

            command = command_for(desk, Action.DISPATCH)
        self.command = command
        self.desk, self.actor, self.runner, self.case_id = desk, actor, runner, case_id
        self.version = version
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self.setWindowTitle(tr("派遣"))
        self.result_value = None
        self.suggested_ids: set[int] = set()
        # quotes the case's address and description: plain text, clamped (the whole in its tooltip)
        self.title = plain.PlainLabel(tr("正在加载…"), max_chars=200, max_lines=3, objectName="dispatchTitle")
        self.title.setStyleSheet("QLabel { font-weight:bold; font-size:12pt; color:#1f3a5f; }")
        self.banner = Banner(self, "dispatchBanner")
        self.claim_banner, self.keeper = hold_claim(self, desk, actor, runner, case_id, Action.DISPATCH)
        self.conflict = ConflictPanel(runner, desk, case_id, lambda: self.version, self._reloaded, self.banner,
                                      self.cat, self)
        self.suggestions = QTreeWidget(objectName="dispatchSuggestions")
        self.suggestions.setHeaderLabels([tr("序"), tr("部门"), tr("建议理由")])
        self.suggestions.setRootIsDecorated(False)
        self.suggestions.setAlternatingRowColors(True)
        self.suggestions.setColumnWidth(0, 36)
        self.suggestions.setColumnWidth(1, 250)
        self.suggestions.setWordWrap(True)  # reasons are the point of the list: never elide them
        self.suggestions.setUniformRowHeights(False)
        self.suggestions.setMinimumHeight(120)
        self.other = QComboBox(objectName="dispatchOther")
        self.level = QComboBox(objectName="dispatchLevel")
        for lvl in Level:
            self.level.addItem(self.cat.label(lvl), lvl.value)
        self.deadline = QLabel(objectName="dispatchDeadline")
        self.deadline.setTextFormat(Qt.TextFormat.RichText)  # our own markup; every value in it escaped
        self.deadline.setWordWrap(True)
        self.reason = QLineEdit(objectName="dispatchReason")
        self.reason.setPlaceholderText(tr("派遣给建议以外的部门时必填"))
        self.reason_error = FieldError("reason", self)
        self.department_error = FieldError("department", self)
        self.dispatch_button = QPushButton(tr("派遣"), objectName="dispatchButton")
        self.dispatch_button.setDefault(True)
        self.dispatch_button.setEnabled(False)
        cancel = QPushButton(tr("取消"), objectName="dispatchCancel")
        cancel.clicked.connect(self.reject)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow(tr("其他部门"), self.other)
        form.addRow("", self.department_error)
        form.addRow(tr("等级"), self.level)
        form.addRow(tr("处置时限"), self.deadline)
        form.addRow(tr("派遣理由"), self.reason)
        form.addRow("", self.reason_error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.dispatch_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.claim_banner)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        layout.addWidget(self.conflict)
        layout.addWidget(QLabel(tr("派遣建议（按优先顺序）")))
        layout.addWidget(self.suggestions, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.resize(780, 520)

        self.submitter = Submitter(runner, [self.dispatch_button])
        self.suggestions.currentItemChanged.connect(self._suggestion_picked)
        self.other.currentIndexChanged.connect(self._other_picked)
        self.level.currentIndexChanged.connect(self._level_changed)
        self.dispatch_button.clicked.connect(self.submit)
        runner.run_in_thread(lambda: load_dispatch_data(desk, case_id), self._loaded,
                             lambda exc: self.banner.show_message(error_text(exc, self.cat)), key=f"dispatch.load.{id(self)}")

    # ---- loading -------------------------------------------------------------------
    def _loaded(self, data: dict) -> None:
        case = data["case"]
        if self.version is None:
            self.version = case.version
        self._show_title(case)
        self.level.blockSignals(True)
        self.level.setCurrentIndex(self.level.findData(case.level.value))
        self.level.blockSignals(False)
        self.suggestions.clear()
        self.suggested_ids = set()
        for s in data["suggestions"]:
            reasons = "\n".join(self.cat.text(r) for r in s.reasons)
            name = plain.line(self.cat.tr("{value}（{label}）", value=s.name, label=s.code), NAME_CHARS)
            item = QTreeWidgetItem([str(s.rank), plain.breakable(name), plain.display(reasons, 600, 10)])
            item.setData(0, Qt.ItemDataRole.UserRole, s.department_id)
            item.setToolTip(2, plain.tooltip(reasons))
            self.suggestions.addTopLevelItem(item)
            self.suggested_ids.add(s.department_id)
        self.other.blockSignals(True)
        self.other.clear()
        self.other.addItem(self.cat.tr("（按上方建议）"), None)
        for dept_id, code, name in data["departments"]:
            self.other.addItem(plain.line(self.cat.tr("{value}（{label}）", value=name, label=code), NAME_CHARS), dept_id)
        self.other.blockSignals(False)
        self._show_preview(data["preview"])
        if self.suggestions.topLevelItemCount():
            self.suggestions.setCurrentItem(self.suggestions.topLevelItem(0))
        else:
            self.banner.show_message(self.cat.tr("没有派遣建议：请选择其他部门并填写理由"), "warn")
        self.dispatch_button.setEnabled(True)

    def _show_title(self, case) -> None:
        self.title.setText(f"{case.number}  {case.category_code} {case.category_name}  "
                           f"[{self.cat.label(case.state)}]\n{case.address or ''} {case.description[:60]}")

    def _reloaded(self, case) -> None:
        # 刷新后重试: only the version and the header change; the choices and the reason stay
        self.version = case.version
        self._show_title(case)

    def _show_preview(self, preview) -> None:
        when = f"{preview.deadline:%Y-%m-%d %H:%M}" if preview.deadline else "—"
        self.deadline.setText(self.cat.tr("<b>{limit}</b>，截止 <b>{deadline}</b>", limit=plain.html(preview.limit_text),
                                          deadline=plain.html(when))
                              + f"<br><span style='color:#444'>{plain.html(self.cat.text(preview.explanation))}</span>")
        self.deadline.setToolTip(self.cat.text(preview.source))

    def _level_changed(self) -> None:
        level = self.level.currentData()
        self.runner.run_in_thread(lambda: self.desk.cases.preview_deadline(self.case_id, level), self._show_preview,
                                  lambda exc: self.deadline.setText(plain.html(error_text(exc, self.cat))),
                                  key=f"dispatch.preview.{id(self)}")

    # ---- choosing ------------------------------------------------------------------
    def _suggestion_picked(self, current, _previous) -> None:
        if current is not None and self.other.currentIndex() != 0:
            self.other.setCurrentIndex(0)

    def _other_picked(self, index: int) -> None:
        if index > 0:
            self.suggestions.setCurrentItem(None)
            self.suggestions.clearSelection()

    def chosen_department(self) -> int | None:
        """The department id picked (another department wins over a suggestion)."""
        other = self.other.currentData()
        if other is not None:
            return int(other)
        item = self.suggestions.currentItem()
        return int(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else None

    def choose(self, department_id: int) -> None:
        """Pick ``department_id`` (a suggestion if it is one, else from the other list)."""
        for i in range(self.suggestions.topLevelItemCount()):
            item = self.suggestions.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == department_id:
                self.other.setCurrentIndex(0)
                self.suggestions.setCurrentItem(item)
                return
        self.other.setCurrentIndex(self.other.findData(department_id))

    # ---- submit --------------------------------------------------------------------
    def submit(self) -> bool:
        """Dispatch in a worker; the button stays disabled until the answer (one request per click)."""
        self.banner.clear_message()
        self.conflict.clear()
        self.reason_error.clear_error()
        self.department_error.clear_error()
        dept = self.chosen_department()
        if dept is None:
            self.department_error.show_error(self.cat.tr("请选择一个建议的部门，或在“其他部门”中选择"))
            return False
        reason = self.reason.text().strip()
        if dept not in self.suggested_ids and not reason:
            self.reason_error.show_error(self.cat.tr("所选部门不在派遣建议中：请填写派遣理由"))
            self.reason.setFocus()
            return False
        command, desk, actor, case_id, version = self.command, self.desk, self.actor, self.case_id, self.version
        values = {"department": dept, "level": self.level.currentData(), "reason": reason or None}
        return self.submitter.submit(lambda: command.run(desk, actor, case_id, version, values),
                                     self._done, self._failed)

    def _done(self, result) -> None:
        self.result_value = result
        self.dispatched.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        field = error_field(exc)
        target = {"reason": self.reason_error, "department": self.department_error}.get(field or "")
        if target is not None:
            target.show_error(error_text(exc, self.cat))
        self.banner.show_message(error_text(exc, self.cat))
        self.conflict.explain(exc)  # a conflict: who changed what since the form read the case
