"""The prompt of a case command: its declared fields (reason, outcome, minutes, photos…), then its run.

Which fields, which are required, the hint and the service call all come from the command
(``app.commands``); this module only lays them out and reads them back.
"""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from app.commands import (
    WORKDAY_MINUTES,
    Command,
    CommandInputError,
    FieldKind,
    default_registry,
)
from app.commands.evidence import check_closing, needs_evidence
from app.domain.definitions import Action
from app.i18n import Catalogue
from app.ui import plain
from app.ui.forms.command_fields import field_label, field_value, field_widget, set_choices, set_departments
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

__all__ = ["WORKDAY_MINUTES", "ActionDialog", "command_for", "commands_of"]


def commands_of(desk):
    """The command registry an edge reaches through ``desk`` (the Core), else the process's."""
    registry = getattr(desk, "commands", None)
    return registry if registry is not None else default_registry()


def command_for(desk, command: Command | Action | str) -> Command:
    """A Command from a Command, a workflow Action or a command id."""
    if isinstance(command, Command):
        return command
    registry = commands_of(desk)
    if isinstance(command, Action):
        found = registry.for_action(command)
        if found is None:
            raise KeyError(f"no command for action '{command.value}'")
        return found
    return registry.get(command)


class ActionDialog(QDialog):
    """Asks for what the command needs (its declared fields), then runs it; on failure the input
    stays and the message shows.

    While open it claims the case for the command's action (others see who is working on it); a
    conflict explains what changed and 刷新后重试 takes the current version without touching the input.
    """

    performed = Signal(object)  # ActionResult

    def __init__(self, desk, actor, runner: TaskRunner, command: Command | Action | str, case,
                 catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.command = command_for(desk, command)
        self.action = self.command.action
        self.setObjectName(f"actionDialog_{self.action.value if self.action else self.command.verb}")
        self.desk, self.actor, self.case = desk, actor, case
        self.version = case.version  # what the save is checked against (刷新后重试 updates it)
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self.fields = [f for f in self.command.fields if f.prompt]
        self.setWindowTitle(plain.line(f"{tr(self.command.title)} · {case.number}", 120))
        self.result_value = None
        self.title = QLabel(objectName="actionTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)  # our own <b>; the case's words escaped
        self.title.setWordWrap(True)
        self._show_title(case)
        self.banner = Banner(self, "actionBanner")
        self.claim_banner, self.keeper = hold_claim(self, desk, actor, runner, case.id, self.action)
        self.conflict = ConflictPanel(runner, desk, case.id, lambda: self.version, self._reloaded, self.banner,
                                      self.cat, self)
        self.widgets: dict[str, object] = {}
        self.errors: dict[str, FieldError] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for f in self.fields:
            widget = field_widget(f, self.cat, case)
            self.widgets[f.name] = widget
            form.addRow(field_label(f, self.cat), widget)
            self.errors[f.name] = FieldError(f.name, self)
            form.addRow("", self.errors[f.name])
        self.ok_button = QPushButton(tr(self.command.title), objectName="actionOk")
        self.ok_button.setDefault(True)
        cancel = QPushButton(tr("取消"), objectName="actionCancel")
        cancel.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self.submit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.claim_banner)
        layout.addWidget(self.title)
        if self.command.hint:
            hint = plain.PlainLabel(tr(self.command.hint), objectName="actionHint")  # a plugin's command may bring it
            hint.setStyleSheet("QLabel { color:#555; }")
            layout.addWidget(hint)
        layout.addWidget(self.banner)
        layout.addWidget(self.conflict)
        # 结案: the closing evidence is checked before anything is sent (app.commands.evidence)
        self.runner = runner
        self.evidence_check = None
        self.evidence = plain.PlainLabel("", max_chars=600, max_lines=6, objectName="actionEvidence")
        self.evidence_ack = QCheckBox(tr("证据不完整，仍然结案（记录在案）"), objectName="actionEvidenceAck")
        self.evidence_ack.toggled.connect(lambda _on: self._enable_ok())
        self.evidence_ack.hide()
        note_widget = self.widgets.get("note")
        if needs_evidence(self.command) and hasattr(note_widget, "textChanged"):
            note_widget.textChanged.connect(lambda _text: self._enable_ok())  # an override needs its reason
        self.evidence.setVisible(needs_evidence(self.command))
        layout.addWidget(self.evidence)
        layout.addWidget(self.evidence_ack)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.setMinimumWidth(max(520, layout.minimumSize().width()))  # long translated labels stay whole
        self.submitter = Submitter(runner, [self.ok_button])
        self._load(runner)
        self._check_evidence()

    def _load(self, runner: TaskRunner) -> None:
        """Fill what the fields read from the store (立案标准, the department list) in workers."""
        cases, case_id = self.desk.cases, self.case.id
        for f in self.fields:
            widget = self.widgets[f.name]
            if f.kind is FieldKind.INFO and f.load is not None:
                runner.run_in_thread(lambda load=f.load: load(cases, case_id),
                                     lambda text, w=widget: self._show_info(w, text),
                                     lambda exc, w=widget: self._show_info(w, error_text(exc, self.cat)))
            elif f.kind is FieldKind.CHOICE and f.load is not None:  # e.g. the suggested supervisors
                runner.run_in_thread(lambda load=f.load: load(cases, case_id),
                                     lambda rows, w=widget: set_choices(w, rows, self.cat),
                                     lambda exc: self.banner.show_message(error_text(exc, self.cat)))
            elif f.kind is FieldKind.DEPARTMENT and hasattr(self.desk, "departments"):
                runner.run_in_thread(self.desk.departments, lambda rows, w=widget: set_departments(w, rows),
                                     lambda exc: self.banner.show_message(error_text(exc, self.cat)))

    # ---- closing evidence --------------------------------------------------------------
    def _check_evidence(self) -> None:
        if not needs_evidence(self.command):
            return
        self.evidence_check = None
        self.evidence.setText(self.cat.tr("正在检查结案证据…"))
        self._enable_ok()
        desk, case = self.desk, self.case
        self.runner.run_in_thread(lambda: check_closing(desk, case), self._evidence_loaded, self._evidence_failed)

    def _evidence_loaded(self, check) -> None:
        self.evidence_check = check
        tr = self.cat.tr

        def when(at) -> str:
            if at is not None:
                return tr("拍摄于 {time}", time=at.strftime("%Y-%m-%d %H:%M"))
            return tr("拍摄时间未知") if not check.times_known else tr("没有拍摄时间")

        lines = [tr("结案证据："),
                 tr("处置前照片：{state}", state=when(check.before_at) if check.has_before else tr("缺少")),
                 tr("处置后照片：{state}", state=when(check.after_at) if check.has_after else tr("缺少"))]
        self.evidence.setText("\n".join(lines))
        message = check.message()
        if message is not None:
            self.banner.show_message(self.cat.text(message), "error" if check.refused else "warn")
        self.evidence_ack.setVisible(bool(check.missing) and not check.refused)
        self._enable_ok()

    def _evidence_failed(self, exc: BaseException) -> None:
        self.evidence.setText(self.cat.tr("无法检查结案证据：{error}", error=error_text(exc, self.cat)))
        self._enable_ok()

    def evidence_problem(self) -> str | None:
        """Why the close cannot be sent yet because of its evidence (None: it may be sent)."""
        if not needs_evidence(self.command):
            return None
        check = self.evidence_check
        if check is None:
            return self.cat.tr("结案证据尚未检查完（或检查失败）：请稍候或重新打开")
        message = check.message()
        if message is None:
            return None
        if check.refused:
            return self.cat.text(message)
        if not self.evidence_ack.isChecked():
            return self.cat.tr("{missing}；确认要结案请勾选“证据不完整，仍然结案”", missing=self.cat.text(message))
        note = self.widgets.get("note")
        if note is not None and not (field_value(self._field("note"), note) or "").strip():
            return self.cat.tr("证据不完整仍然结案，须在备注中写明理由（记录在案）")
        return None

    def _field(self, name: str):
        return next(f for f in self.fields if f.name == name)

    def _enable_ok(self) -> None:
        if not needs_evidence(self.command):
            return
        why = self.evidence_problem()
        submitter = getattr(self, "submitter", None)
        self.ok_button.setEnabled(why is None and submitter is not None and not submitter.busy)
        self.ok_button.setToolTip("" if why is None else self.cat.tr("不可用：{why}", why=why))

    def _show_title(self, case) -> None:
        self.title.setText(f"<b>{plain.html(self.cat.tr(self.command.title))}</b>　{plain.html(case.number)}"
                           f"　{plain.html(plain.line(case.category_name, 120))}　[{plain.html(self.cat.label(case.state))}]")

    def _reloaded(self, case) -> None:
        # 刷新后重试: the version and the header change; every typed value stays
        self.case, self.version = case, case.version
        self._show_title(case)
        self._check_evidence()  # photos may have been added meanwhile

    def _show_info(self, widget, text: str) -> None:
        widget.setText(self.cat.text(text))  # a Msg (e.g. the generated filing standard) in the language
        self.adjustSize()  # the text arrives after the dialog was laid out: make room for it

    def values(self) -> dict:
        """What was typed, as the command's values."""
        values = {f.name: field_value(f, self.widgets[f.name]) for f in self.fields if f.kind is not FieldKind.INFO}
        if needs_evidence(self.command) and self.evidence_ack.isChecked() and not self.evidence_ack.isHidden() \
                and any(f.name == "override" for f in self.command.value_fields):
            values["override"] = True  # the shift leader's recorded override of incomplete evidence
        return values

    def submit(self) -> bool:
        """Check the values against the command's declarations, then run it in a worker (one request at a time)."""
        self.banner.clear_message()
        self.conflict.clear()
        for err in self.errors.values():
            err.clear_error()
        values = self.values()
        problems = self.command.problems(values)
        if problems:
            for problem in problems:
                target = self.errors.get(problem.field)
                if target is not None:
                    target.show_error(problem.message(self.cat))
                else:
                    self.banner.show_message(problem.message(self.cat))
            return False
        evidence = self.evidence_problem()
        if evidence is not None:  # named before anything is sent
            self.banner.show_message(evidence, "error")
            return False
        command, desk, actor, case_id, version = self.command, self.desk, self.actor, self.case.id, self.version
        return self.submitter.submit(lambda: command.run(desk, actor, case_id, version, values),
                                     self._done, self._failed)

    def _done(self, result) -> None:
        self.result_value = result
        self.performed.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, CommandInputError):
            for problem in exc.problems:
                if problem.field in self.errors:
                    self.errors[problem.field].show_error(problem.message(self.cat))
            self.banner.show_message(exc.problems[0].message(self.cat))
            self._enable_ok()
            return
        field = error_field(exc)
        if field in self.errors:
            self.errors[field].show_error(error_text(exc, self.cat))
        self.banner.show_message(error_text(exc, self.cat))
        self.conflict.explain(exc)  # a conflict: who changed what since the dialog read the case
        self._enable_ok()
