"""Actions as data: every menu command is an :class:`ActionSpec` with a stable id."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QAction, QMainWindow, QMenu

from app.i18n import Catalogue
from app.views.handles import Registration

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionSpec:
    """A command: ``callback`` is a callable or the name of a window command."""

    id: str
    title: str  # Chinese source text; translated by the catalogue
    shortcut: str = ""
    menu: str = "file"  # key of MENUS, or a new Chinese menu title
    callback: Callable[..., object] | str | None = None
    checkable: bool = False
    tip: str = ""


#: Menu keys in menu-bar order, with their (Chinese source) titles.
MENUS: dict[str, str] = {
    "file": "文件", "view": "视图", "map": "地图", "cases": "案卷", "plugins": "插件", "help": "帮助",
}

BUILTIN_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("gridhall.queue.refresh", "刷新", "F5", "file", "refresh"),
    ActionSpec("gridhall.app.quit", "退出", "Ctrl+Q", "file", "quit"),
    ActionSpec("gridhall.view.toggle_fullscreen", "全屏", "F11", "view", "toggle_fullscreen", checkable=True),
    ActionSpec("gridhall.map.zoom_full", "全图", "Ctrl+0", "map", "zoom_full"),
    ActionSpec("gridhall.queue.focus_filter", "筛选案卷", "Ctrl+F", "cases", "focus_filter"),
    ActionSpec("gridhall.plugins.status", "插件状态…", "", "plugins", "show_plugins"),
    ActionSpec("gridhall.help.guide", "帮助", "F1", "help", "help",
               tip="办理闭环、各角色的工作和所有快捷键"),
    ActionSpec("gridhall.help.about", "关于", "", "help", "about"),
)


class ActionRegistry:
    """Creates QActions from specs in the window's menus; string callbacks resolve late."""

    def __init__(
        self,
        window: QMainWindow,
        commands: Mapping[str, Callable[..., object]],
        catalogue: Catalogue | None = None,
        on_missing: Callable[[str], None] | None = None,
    ) -> None:
        self._window = window
        self._commands = commands  # looked up on trigger, so bootstrap may add commands later
        self._cat = catalogue or Catalogue()
        self._on_missing = on_missing
        self._menus: dict[str, QMenu] = {}
        self._actions: dict[str, QAction] = {}
        self._specs: dict[str, ActionSpec] = {}
        for key in MENUS:
            self.menu(key)

    def menu(self, key: str) -> QMenu:
        """The menu ``key`` (created on first use: after the built-in ones, yet before 帮助, which
        stays last in the menu bar)."""
        if key not in self._menus:
            title = self._cat.tr(MENUS.get(key, key))
            bar, last = self._window.menuBar(), self._menus.get("help")
            if last is not None:
                menu = QMenu(title, bar)
                bar.insertMenu(last.menuAction(), menu)
            else:
                menu = bar.addMenu(title)
            menu.setObjectName(f"menu_{key}")
            menu.setToolTipsVisible(True)  # a disabled entry says why
            self._menus[key] = menu
        return self._menus[key]

    def action(self, action_id: str) -> QAction:
        """The QAction registered under ``action_id``; KeyError naming the known ids otherwise."""
        try:
            return self._actions[action_id]
        except KeyError:
            known = ", ".join(sorted(self._actions))
            raise KeyError(f"no action '{action_id}'; registered: {known}") from None

    def ids(self) -> list[str]:
        return list(self._actions)

    def specs(self) -> list[ActionSpec]:
        """The registered specs, in menu order then registration order (the help lists them)."""
        order = {key: i for i, key in enumerate(self._menus)}
        return sorted(self._specs.values(), key=lambda s: order.get(s.menu, len(order)))

    def register(self, spec: ActionSpec) -> Registration:
        """Add ``spec`` to its menu; ValueError if the id is taken."""
        if spec.id in self._actions:
            raise ValueError(f"action id '{spec.id}' is already registered; choose a unique id")
        action = QAction(self._cat.tr(spec.title), self._window)
        action.setObjectName(spec.id)
        if spec.shortcut:
            action.setShortcut(QKeySequence(spec.shortcut))
        if spec.tip:
            action.setStatusTip(self._cat.tr(spec.tip))
        action.setCheckable(spec.checkable)
        action.triggered.connect(lambda checked=False, s=spec: self._trigger(s, checked))
        self.menu(spec.menu).addAction(action)
        self._window.addAction(action)  # shortcuts work even when the menu bar is hidden (F11)
        self._actions[spec.id] = action
        self._specs[spec.id] = spec
        return Registration("action", spec.id, lambda: self.unregister(spec.id))

    def unregister(self, action_id: str) -> None:
        """Remove an action from its menu and the window."""
        action = self._actions.pop(action_id, None)
        self._specs.pop(action_id, None)
        if action is None:
            return
        for menu in self._menus.values():
            menu.removeAction(action)
        self._window.removeAction(action)
        action.deleteLater()

    def _trigger(self, spec: ActionSpec, checked: bool) -> None:
        callback = spec.callback
        if isinstance(callback, str):
            callback = self._commands.get(callback)
        if callback is None:
            log.warning("action %s has no command to run", spec.id)
            if self._on_missing is not None:
                self._on_missing(self._cat.tr(spec.title))
            return
        if spec.checkable:
            callback(checked)
        else:
            callback()
