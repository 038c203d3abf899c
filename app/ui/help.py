"""F1 help: the loop, each role's work and every shortcut, in the window's language.

The prose (the loop, one line per role) lives in ``resources/help/guide.toml``. Everything that
could drift is generated when the help opens: the window's shortcuts from the action registry
(built-in, desk, plugin actions as registered now), and each role's case commands with their
shortcuts and bulk shortcuts from the command declarations (``app.commands``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from app.config import RESOURCES
from app.domain.definitions import Role
from app.i18n import Catalogue

GUIDE = RESOURCES / "help" / "guide.toml"
#: Roles that work cases at a desk, in the order the help lists them.
DESK_ROLES = (Role.ACCEPTOR, Role.DISPATCHER, Role.SHIFT_LEADER, Role.SUPERVISOR, Role.DEPARTMENT, Role.LEADER,
              Role.ANALYST, Role.ADMIN)
#: Keys that belong to widgets rather than to declared actions (Chinese source text).
FIXED_KEYS = (
    ("↑ / ↓", "在案卷列表中移动；选中的案卷即当前案卷，详情和地图随之变化"),
    ("Esc", "关闭对话框，不提交"),
    ("Tab / Shift+Tab", "在对话框的输入项之间移动"),
    ("Space", "勾选/取消勾选（如批量对话框的案卷和“我已核对”）；按下有焦点的按钮"),
    ("Return", "在批量对话框中不执行任何操作：批量操作只能勾选“我已核对”后点击按钮执行"),
    ("Ctrl+Return", "在上报表单中：上报（与“上报”按钮相同）"),
)


@dataclass(frozen=True)
class ShortcutRow:
    """One line of the shortcut table: where it is, what it does, its key."""

    menu: str
    title: str
    key: str
    tip: str = ""


def _md(text: str) -> str:
    """``text`` as literal Markdown table/inline text (a plugin's title is data)."""
    text = text.replace("\\", "\\\\").replace("\n", " ")
    return re.sub(r"([|*_`<>\[\]#])", r"\\\1", text)


@lru_cache(maxsize=4)
def _guide(path: Path = GUIDE) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


def _prose(entry: dict | None, language: str) -> str:
    if not entry:
        return ""
    return str(entry.get(language) or entry.get("zh_CN") or "").strip()


def window_shortcuts(registry) -> list[ShortcutRow]:
    """Every registered action that has a key, as the window has them now (menu order)."""
    rows = []
    for spec in registry.specs():
        action = registry.action(spec.id)
        key = action.shortcut().toString()
        if key:
            rows.append(ShortcutRow(registry.menu(spec.menu).title().replace("&", ""), action.text(), key,
                                    action.statusTip()))
    return rows


def help_markdown(catalogue: Catalogue, shortcuts: Iterable[ShortcutRow], commands=None) -> str:
    """The whole help as Markdown: the loop, each role's work and commands, every shortcut."""
    cat = catalogue
    tr = cat.tr
    language = "en" if cat.language == "en" else "zh_CN"
    guide = _guide()
    contents = tr("、").join([tr("办理闭环"), tr("各角色的工作"), tr("快捷键")])
    out = [f"# {tr('GridHall 帮助')}", "", tr("内容：{sections}", sections=contents), "",
           f"## {tr('办理闭环')}", "", _prose(guide.get("loop"), language), ""]

    out += [f"## {tr('各角色的工作')}", ""]
    roles = guide.get("roles", {})
    for role in DESK_ROLES:
        out += [f"### {_md(cat.label(role))}", "", _prose(roles.get(role.value), language), ""]
        if commands is not None:
            mine = [c for c in commands.for_role(role) if c.on_case]
            if mine:
                parts = []
                for c in mine:
                    keys = " / ".join(k for k in (c.shortcut, c.bulk_shortcut and tr("批量 {key}", key=c.bulk_shortcut))
                                      if k)
                    parts.append(f"{_md(tr(c.title))}" + (f" (`{keys}`)" if keys else ""))
                out += [tr("可办理：") + tr("、").join(parts), ""]

    out += [f"## {tr('快捷键')}", "", f"### {tr('本窗口')}", "",
            f"| {tr('菜单')} | {tr('命令')} | {tr('快捷键')} |", "|---|---|---|"]
    for row in shortcuts:
        out.append(f"| {_md(row.menu)} | {_md(row.title)} | `{row.key}` |")
    out.append("")
    if commands is not None:
        out += [f"### {tr('所有办理命令（按角色）')}", "",
                f"| {tr('命令')} | {tr('快捷键')} | {tr('批量')} | {tr('角色')} |", "|---|---|---|---|"]
        for c in commands:
            if not c.on_case:
                continue
            who = tr("、").join(cat.label(r) for r in Role if r in c.allowed_roles)
            out.append(f"| {_md(tr(c.title))} | {('`' + c.shortcut + '`') if c.shortcut else '—'} | "
                       f"{('`' + c.bulk_shortcut + '`') if c.bulk_shortcut else '—'} | {_md(who)} |")
        out.append("")
    out += [f"### {tr('列表和对话框中的按键')}", "", f"| {tr('按键')} | {tr('作用')} |", "|---|---|"]
    for key, what in FIXED_KEYS:
        out.append(f"| `{key}` | {_md(tr(what))} |")
    out.append("")
    return "\n".join(out)


class HelpDialog(QDialog):
    """A non-modal help window (F1): the Markdown above in a browser that can be searched with the eyes."""

    def __init__(self, registry, commands=None, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("helpDialog")
        self.cat = catalogue or Catalogue()
        self.setWindowTitle(self.cat.tr("GridHall 帮助"))
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.browser = QTextBrowser(objectName="helpText")
        self.browser.setOpenExternalLinks(False)
        self.markdown = help_markdown(self.cat, window_shortcuts(registry), commands)
        self.browser.setMarkdown(self.markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.cat.tr("关闭"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(900, 760)

    def text(self) -> str:
        """The help as the user reads it (plain text)."""
        return self.browser.toPlainText()


__all__ = ["DESK_ROLES", "FIXED_KEYS", "HelpDialog", "ShortcutRow", "help_markdown", "window_shortcuts"]
