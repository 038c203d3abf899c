"""考核与提醒 (settings) page: the evaluation weights, count bands and grades, and the alert rules, edited as
the TOML the hall ships (resources/evaluation.toml, resources/alerts.toml) and stored as an audited
override through ``ConfigService.set_setting``.

The page shows the stored override when there is one, else the shipped file. 预览并保存… reads the text
as TOML (a syntax error is named with its line), runs the editor as a dry run (the service checks
the whole setting: weights, bands, grades; alert layers), shows what changes and asks why, then
stores it — recorded in the configuration history like every change.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtpy.QtGui import QFontDatabase
from qtpy.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from app.config import RESOURCES
from app.domain.messages import Msg
from app.i18n import Catalogue
from app.services import config as service
from app.services.actors import Actor
from app.services.errors import ValidationError
from app.ui.admin.common import AdminPage, ask_change
from app.ui.admin.config_pages import PREVIEW_REASON
from app.ui.tasks import TaskRunner
from app.views.config_diff import diff_lines

#: The settings and what they are called.
SETTING_LABELS = {"evaluation": "考核权重、计数档与等级", "alerts": "提醒规则",
                  "component_routing": "部件派遣规则（权属/养护）"}
#: What applies without a stored component rule (no shipped file): the maintainer decides.
COMPONENT_ROUTING_DEFAULT = """# Which of a named component's departments decides the route (docs/config.md):
# maintainer, owner, authority or none (the area rules decide).
default = "maintainer"

# [[rules]]
# scope = "major:component:01"
# by = "owner"
"""


def shipped(name: str) -> str:
    """The shipped file of a setting (what applies without an override)."""
    if name == "component_routing":
        return COMPONENT_ROUTING_DEFAULT
    return (Path(RESOURCES) / f"{name}.toml").read_text(encoding="utf-8")


def parse_toml(text: str) -> dict[str, Any]:
    """The text as a TOML table, or ValidationError naming the problem (with its line)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("setting", Msg("TOML 格式有误：{error}", error=str(exc)[:200])) from None


class SettingsPage(AdminPage):
    """A setting chosen, its TOML, 预览并保存…."""

    def __init__(self, config: service.ConfigService, actor: Actor, runner: TaskRunner, catalogue: Catalogue,
                 on_saved: Callable[[], None] | None = None, parent=None) -> None:
        super().__init__(runner, catalogue, "adminSettings", parent)
        tr = self.tr
        self.config, self.actor, self.on_saved = config, actor, on_saved
        self.which = QComboBox(objectName="settingName")
        for name, label in SETTING_LABELS.items():
            self.which.addItem(tr(label), name)
        self.origin = QLabel(objectName="settingOrigin")
        self.edit = QPlainTextEdit(objectName="settingText")
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.save_button = QPushButton(tr("预览并保存…"), objectName="settingSave")
        self.reload_button = QPushButton(tr("重新读取"), objectName="settingReload")
        bar = QHBoxLayout()
        bar.addWidget(self.which)
        bar.addWidget(self.origin, 1)
        bar.addWidget(self.reload_button)
        bar.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.status)
        self.stored: dict[str, Any] | None = None
        self.which.currentIndexChanged.connect(lambda _i: self.reload())
        self.reload_button.clicked.connect(lambda: self.reload())
        self.save_button.clicked.connect(lambda: self.save())

    def _busy_changed(self) -> None:
        self.save_button.setEnabled(not self.busy)
        self.reload_button.setEnabled(not self.busy)

    def name(self) -> str:
        return str(self.which.currentData())

    def reload(self, done: Callable[[Any], None] | None = None) -> None:
        name, store = self.name(), self.config.store
        self.say(Msg("正在读取…"))

        def read() -> tuple[dict[str, Any] | None, str]:
            stored = service.stored_setting(store, name)
            return stored, service.dumps_toml(stored) if stored is not None else shipped(name)

        def show(answer: tuple[dict[str, Any] | None, str]) -> None:
            self.stored, text = answer
            self.edit.setPlainText(text)
            self.origin.setText(self.tr("已保存的设置（覆盖随程序提供的文件）") if self.stored is not None
                                else self.tr("随程序提供的文件（尚未修改）"))
            self.say(Msg("已读取"))
            if done is not None:
                done(answer)

        self.call("read", read, show)

    def save(self) -> None:
        name, text, config, actor = self.name(), self.edit.toPlainText(), self.config, self.actor
        shipped_value = self.stored

        def plan() -> tuple[service.ConfigResult, dict[str, Any] | None]:
            value = parse_toml(text)
            before = shipped_value if shipped_value is not None else parse_toml(shipped(name))
            return config.set_setting(actor, name, value, reason=PREVIEW_REASON, dry_run=True), before

        def confirm(answer: tuple[service.ConfigResult, dict[str, Any] | None]) -> None:
            result, before = answer
            after = result.changes[0].after if result.changes else None
            lines = diff_lines(before, after) if after is not None else []
            if not result.changes or not lines:
                self.say(Msg("没有变化，未保存"))
                return
            ask_change(self, self.cat.text(Msg("保存设置：{name}", name=Msg(SETTING_LABELS[name]))),
                       [self.cat.text(x) for x in lines], lambda reason: self._apply(name, text, reason))

        self.say(Msg("正在检查…"))
        self.call("plan", plan, confirm)

    def _apply(self, name: str, text: str, reason: str) -> None:
        config, actor = self.config, self.actor

        def saved(result: service.ConfigResult) -> None:
            said = (Msg("已保存（配置变更第 {seqs} 条）", seqs=[str(s) for s in result.seqs]) if result.seqs
                    else Msg("没有变化，未保存"))
            self.reload(lambda _answer: self.say(said))
            if self.on_saved is not None:
                self.on_saved()

        self.say(Msg("正在保存…"))
        self.call("write", lambda: config.set_setting(actor, name, parse_toml(text), reason=reason), saved)


__all__ = ["SETTING_LABELS", "SettingsPage", "parse_toml", "shipped"]
