"""Prompts for the case operations other than intake and dispatch: reason, outcome, minutes, photos."""

from __future__ import annotations

from dataclasses import dataclass

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from app.domain.definitions import Action, Level
from app.i18n import Catalogue
from app.ui.forms.common import (
    Banner,
    ConflictPanel,
    FieldError,
    Submitter,
    error_field,
    error_text,
    hold_claim,
)
from app.ui.forms.photo_picker import PhotoPicker
from app.ui.tasks import TaskRunner

WORKDAY_MINUTES = 480


@dataclass(frozen=True)
class Prompt:
    """What an operation asks for: its fields (in order) and which of them must be filled."""

    fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    hint: str = ""


#: Operations that run at once, without a prompt (frequent and with nothing to type).
DIRECT = frozenset({Action.ACCEPT, Action.SEND_VERIFY, Action.SEND_CHECK})

PROMPTS: dict[Action, Prompt] = {
    Action.SEND_VERIFY: Prompt(("note",)),
    Action.VERIFY: Prompt(("text", "confirmed", "photos"), ("text",), "写明现场是否属实及情况"),
    Action.FILE: Prompt(("standard", "level", "note")),
    Action.REJECT: Prompt(("reason",), ("reason",), "不予立案的理由（将回复举报人）"),
    Action.LINK: Prompt(("original", "reason"), ("original",), "本条与哪件案卷重复"),
    Action.ACCEPT: Prompt(),
    Action.REQUEST_RETURN: Prompt(("reason",), ("reason",), "为什么不属于本部门职责"),
    Action.REQUEST_EXTENSION: Prompt(("minutes", "reason"), ("reason",), "需要延长多久、为什么"),
    Action.REQUEST_DEFER: Prompt(("reason",), ("reason",), "缓办期间计时暂停"),
    Action.REQUEST_SHELVE: Prompt(("reason",), ("reason",), "长期无法解决的原因"),
    Action.REQUEST_VOID: Prompt(("reason",), ("reason",), "需值班长批准"),
    Action.APPROVE: Prompt(("note",)),
    Action.REFUSE: Prompt(("reason",), ("reason",), "不批准的理由（案卷回到申请前的状态）"),
    Action.FEEDBACK: Prompt(("text", "photos"), ("text",), "处置情况；附处置后照片"),
    Action.SEND_CHECK: Prompt(("note",)),
    Action.CHECK: Prompt(("outcome", "reason", "photos"), (), "不通过时必须写明理由（返工给原部门）"),
    Action.CLOSE: Prompt(("note",)),
    Action.REWORK: Prompt(("reason",), ("reason",), "处置不合格的原因"),
    Action.VOID: Prompt(("reason",), ("reason",), "作废的原因（记录保留）"),
    Action.URGE: Prompt(("note",)),
    Action.RESTORE: Prompt(("note",)),
    Action.REPLY: Prompt(("text",), ("text",), "回复举报人的内容"),
}

_LABELS = {"note": "备注", "reason": "理由", "text": "内容", "minutes": "延期时长", "outcome": "核查结果",
           "photos": "照片", "confirmed": "核实", "level": "等级", "original": "原案卷号", "standard": "立案标准"}
_PHOTO_KIND = {Action.FEEDBACK: "after", Action.CHECK: "after", Action.VERIFY: "other"}


def call_service(cases, actor, action: Action, case_id: int, version: int, values: dict):
    """Run ``action`` through the case service with the prompt's ``values``; returns the ActionResult."""
    v = values
    calls = {
        Action.SEND_VERIFY: lambda: cases.send_verify(actor, case_id, version, note=v.get("note")),
        Action.VERIFY: lambda: cases.verify(actor, case_id, version, result=v.get("text", ""),
                                            confirmed=v.get("confirmed", True), photos=v.get("photos", ())),
        Action.FILE: lambda: cases.file(actor, case_id, version, level=v.get("level"), note=v.get("note")),
        Action.REJECT: lambda: cases.reject(actor, case_id, version, reason=v.get("reason", "")),
        Action.LINK: lambda: cases.link(actor, case_id, version, original=v.get("original", ""),
                                        reason=v.get("reason")),
        Action.ACCEPT: lambda: cases.accept(actor, case_id, version),
        Action.REQUEST_RETURN: lambda: cases.request_return(actor, case_id, version, reason=v.get("reason", "")),
        Action.REQUEST_EXTENSION: lambda: cases.request_extension(actor, case_id, version,
                                                                  minutes=v.get("minutes", WORKDAY_MINUTES),
                                                                  reason=v.get("reason", "")),
        Action.REQUEST_DEFER: lambda: cases.request_defer(actor, case_id, version, reason=v.get("reason", "")),
        Action.REQUEST_SHELVE: lambda: cases.request_shelve(actor, case_id, version, reason=v.get("reason", "")),
        Action.REQUEST_VOID: lambda: cases.request_void(actor, case_id, version, reason=v.get("reason", "")),
        Action.APPROVE: lambda: cases.approve(actor, case_id, version, note=v.get("note")),
        Action.REFUSE: lambda: cases.refuse(actor, case_id, version, reason=v.get("reason", "")),
        Action.FEEDBACK: lambda: cases.feedback(actor, case_id, version, text=v.get("text", ""),
                                                photos=v.get("photos", ())),
        Action.SEND_CHECK: lambda: cases.send_check(actor, case_id, version, note=v.get("note")),
        Action.CHECK: lambda: cases.check(actor, case_id, version, outcome=v.get("outcome", "passed"),
                                          reason=v.get("reason"), photos=v.get("photos", ())),
        Action.CLOSE: lambda: cases.close(actor, case_id, version, note=v.get("note")),
        Action.REWORK: lambda: cases.rework(actor, case_id, version, reason=v.get("reason", "")),
        Action.VOID: lambda: cases.void(actor, case_id, version, reason=v.get("reason", "")),
        Action.URGE: lambda: cases.urge(actor, case_id, version, note=v.get("note")),
        Action.RESTORE: lambda: cases.restore(actor, case_id, version, note=v.get("note")),
        Action.REPLY: lambda: cases.reply(actor, case_id, version, text=v.get("text", "")),
    }
    return calls[action]()


class ActionDialog(QDialog):
    """Asks for what ``action`` needs, then runs it; on failure the input stays and the message shows.

    While open it claims the case for ``action`` (others see who is working on it); a conflict
    explains what changed and 刷新后重试 takes the current version without touching the input.
    """

    performed = Signal(object)  # ActionResult

    def __init__(self, desk, actor, runner: TaskRunner, action: Action, case, catalogue: Catalogue | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(f"actionDialog_{action.value}")
        self.desk, self.actor, self.action, self.case = desk, actor, action, case
        self.version = case.version  # what the save is checked against (刷新后重试 updates it)
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self.prompt = PROMPTS[action]
        self.setWindowTitle(f"{self.cat.label(action)} · {case.number}")
        self.result_value = None
        self.title = QLabel(objectName="actionTitle")
        self._show_title(case)
        self.banner = Banner(self, "actionBanner")
        self.claim_banner, self.keeper = hold_claim(self, desk, actor, runner, case.id, action)
        self.conflict = ConflictPanel(runner, desk, case.id, lambda: self.version, self._reloaded, self.banner,
                                      self.cat, self)
        self.widgets: dict[str, object] = {}
        self.errors: dict[str, FieldError] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for name in self.prompt.fields:
            widget = self._field(name)
            self.widgets[name] = widget
            label = tr(_LABELS[name]) + (" *" if name in self.prompt.required else "")
            form.addRow(label, widget)
            self.errors[name] = FieldError(name, self)
            form.addRow("", self.errors[name])
        self.ok_button = QPushButton(self.cat.label(action), objectName="actionOk")
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
        if self.prompt.hint:
            hint = QLabel(tr(self.prompt.hint), objectName="actionHint")
            hint.setStyleSheet("QLabel { color:#555; }")
            layout.addWidget(hint)
        layout.addWidget(self.banner)
        layout.addWidget(self.conflict)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)
        self.submitter = Submitter(runner, [self.ok_button])
        if "standard" in self.widgets:
            runner.run_in_thread(lambda: desk.cases.filing_standard(case.id), self._show_standard,
                                 lambda exc: self._show_standard(error_text(exc)))

    def _show_title(self, case) -> None:
        self.title.setText(f"<b>{self.cat.label(self.action)}</b>　{case.number}　{case.category_name}"
                           f"　[{self.cat.label(case.state)}]")

    def _reloaded(self, case) -> None:
        # 刷新后重试: the version and the header change; every typed value stays
        self.case, self.version = case, case.version
        self._show_title(case)

    def _show_standard(self, text: str) -> None:
        self.widgets["standard"].setText(text)
        self.adjustSize()  # the text arrives after the dialog was laid out: make room for it

    def _field(self, name: str):
        tr = self.cat.tr
        if name in ("note", "reason", "original"):
            edit = QLineEdit(objectName=f"field_{name}")
            if name == "original":
                edit.setPlaceholderText(tr("案卷号，如 SJ2026112000001"))
            return edit
        if name == "text":
            edit = QPlainTextEdit(objectName="field_text")
            edit.setFixedHeight(90)
            return edit
        if name == "minutes":
            spin = QSpinBox(objectName="field_minutes")
            spin.setRange(1, 60 * 24 * 365)
            spin.setSingleStep(WORKDAY_MINUTES)
            spin.setValue(WORKDAY_MINUTES)
            spin.setSuffix(tr(" 分钟（1 个工作日 = 480 分钟）"))
            return spin
        if name == "outcome":
            combo = QComboBox(objectName="field_outcome")
            combo.addItem(tr("通过（待结案）"), "passed")
            combo.addItem(tr("不通过（返工）"), "failed")
            return combo
        if name == "confirmed":
            box = QCheckBox(tr("问题属实"), objectName="field_confirmed")
            box.setChecked(True)
            return box
        if name == "level":
            combo = QComboBox(objectName="field_level")
            for lvl in Level:
                combo.addItem(self.cat.label(lvl), lvl.value)
            combo.setCurrentIndex(combo.findData(self.case.level.value))
            return combo
        if name == "standard":
            label = QLabel(tr("正在加载立案标准…"), objectName="field_standard")
            label.setWordWrap(True)
            return label
        return PhotoPicker(self.cat)

    def values(self) -> dict:
        """What was typed, as keyword values for :func:`call_service`."""
        out: dict = {}
        for name, w in self.widgets.items():
            if name in ("note", "reason", "original"):
                out[name] = w.text().strip() or None
            elif name == "text":
                out[name] = w.toPlainText().strip()
            elif name == "minutes":
                out[name] = int(w.value())
            elif name in ("outcome", "level"):
                out[name] = w.currentData()
            elif name == "confirmed":
                out[name] = w.isChecked()
            elif name == "photos":
                out[name] = w.photos(_PHOTO_KIND.get(self.action, "other"))
        return out

    def submit(self) -> bool:
        """Check the required fields, then run the operation in a worker (one request at a time)."""
        self.banner.clear_message()
        self.conflict.clear()
        for err in self.errors.values():
            err.clear_error()
        values = self.values()
        missing = [n for n in self.prompt.required if not values.get(n)]
        if self.action is Action.CHECK and values.get("outcome") == "failed" and not values.get("reason"):
            missing.append("reason")
        if missing:
            for name in missing:
                self.errors[name].show_error(self.cat.tr("{label}不能为空", label=self.cat.tr(_LABELS[name])))
            return False
        cases, actor, action, case_id, version = self.desk.cases, self.actor, self.action, self.case.id, self.version
        return self.submitter.submit(lambda: call_service(cases, actor, action, case_id, version, values),
                                     self._done, self._failed)

    def _done(self, result) -> None:
        self.result_value = result
        self.performed.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        field = error_field(exc)
        if field in self.errors:
            self.errors[field].show_error(error_text(exc))
        self.banner.show_message(error_text(exc))
        self.conflict.explain(exc)  # a conflict: who changed what since the dialog read the case
