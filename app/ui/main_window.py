"""The main window: a central slot (the map), docks, action menus and the status bar."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from qtpy.QtCore import QSettings, Qt
from qtpy.QtWidgets import QAction, QLabel, QMainWindow, QMessageBox, QWidget

from app.i18n import Catalogue
from app.ui.actions import BUILTIN_ACTIONS, ActionRegistry, ActionSpec
from app.ui.builtin import DETAIL_DOCK, QUEUE_DOCK
from app.ui.docks import DockRegistry
from app.ui.plain import ElidedLabel
from app.ui.plugin_dialog import PluginStatusDialog, PluginStatusRow
from app.views.queue_state import QueueState

VERSION = "0.1.0"
ORGANIZATION = "GridHall"
APPLICATION = "GridHall"
#: 视图 → 重置布局: back to the window mode's built-in layout.
RESET_LAYOUT = ActionSpec("gridhall.view.reset_layout", "重置布局", "Ctrl+Alt+0", "view", "reset_layout",
                          tip="恢复本窗口模式的内置布局")


def user_settings() -> QSettings:
    """The user's persistent settings (tests pass their own temp-file QSettings instead)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class MainWindow(QMainWindow):
    """Holds the central widget, the dock and action registries and the status fields.

    ``commands`` maps command names used by :data:`BUILTIN_ACTIONS` to callables; the
    composition root adds the ones that need other parts (``zoom_full``, ``refresh``).
    """

    def __init__(
        self,
        settings: QSettings,
        catalogue: Catalogue | None = None,
        capabilities: tuple[str, ...] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self.setObjectName("mainWindow")
        self.setWindowTitle(tr("GridHall 数字城管指挥大厅"))
        self.setDockNestingEnabled(True)
        # right-hand docks (details, plugins) run full height; the queue sits under the map
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCentralWidget(QWidget(objectName="centralPlaceholder"))

        self.commands: dict[str, Callable[..., object]] = {
            "quit": self.close,
            "toggle_fullscreen": self.set_fullscreen,
            "about": self.show_about,
            "help": self.show_help,
            "focus_filter": self.focus_queue_filter,
        }
        self.action_registry = ActionRegistry(self, self.commands, self.cat, on_missing=self._not_available)
        self.panels_menu = self.action_registry.menu("view").addMenu(tr("面板"))
        self.dock_registry = DockRegistry(self, capabilities, self.cat, self.panels_menu)
        for spec in (*BUILTIN_ACTIONS, RESET_LAYOUT):
            self.action_registry.register(spec)
        #: The window's layouts (``app.ui.layouts.WindowLayouts``), set by the composition root.
        self.layouts = None
        #: The case commands (``app.commands.CommandRegistry``) the help lists; set by the desk.
        self.command_registry = None
        self.help_dialog = None

        # the database path and the user's display name are data: plain, elided, whole in the tooltip
        self._backend = self._status_label("statusBackend", ElidedLabel(max_width=420))
        self._user = self._status_label("statusUser", ElidedLabel(max_width=320))
        self._scale = self._status_label("statusScale")
        self._coords = self._status_label("statusCoords")
        self._clock = self._status_label("statusClock")
        self._clock.setMinimumWidth(self._clock.fontMetrics().horizontalAdvance("0000-00-00 00:00:00") + 24)
        self.set_user(None)

    # ---- slots for the rest of the app ---------------------------------------------
    def set_central(self, widget: QWidget) -> None:
        """Put ``widget`` (the map canvas) in the middle of the window."""
        self.setCentralWidget(widget)

    def set_backend(self, text: str) -> None:
        """Show the database backend and path/host."""
        self._backend.setText(self.cat.tr("数据库：{backend}", backend=text))

    def set_user(self, text: str | None) -> None:
        """Show the signed-in user and role (None: not signed in / demo)."""
        self._user.setText(self.cat.tr("用户：{user}", user=text or self.cat.tr("未登录/演示")))

    def set_map_scale(self, scale: float) -> None:
        """Show the map scale denominator (the map calls this when it zooms)."""
        self._scale.setText(self.cat.tr("比例尺 1:{scale}", scale=f"{round(scale):,}"))

    def set_cursor_position(self, x: float, y: float) -> None:
        """Show the map cursor's coordinates in the store CRS."""
        self._coords.setText(self.cat.tr("坐标 {x}, {y}", x=f"{x:.1f}", y=f"{y:.1f}"))

    def show_time(self, now: datetime) -> None:
        """Show the injected clock's time (connected to the queue tick)."""
        self._clock.setText(now.strftime("%Y-%m-%d %H:%M:%S"))

    def bind_queue(self, state: QueueState) -> Callable[[], None]:
        """Follow ``state``'s tick in the status clock; returns the disconnector."""
        return state.events.tick.connect(self.show_time)

    def set_plugin_report(self, report: Callable[[], Iterable[PluginStatusRow]]) -> None:
        """Make 插件 → 插件状态… show ``report()`` (the plugin manager's statuses)."""
        self.commands["show_plugins"] = lambda: PluginStatusDialog(report(), self.cat, self).exec()

    # ---- commands ------------------------------------------------------------------
    def set_fullscreen(self, on: bool) -> None:
        """Full screen for the hall's big screen (F11)."""
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    def focus_queue_filter(self) -> None:
        """Ctrl+F: put the cursor in the case queue's search box (if the queue dock is there)."""
        if QUEUE_DOCK in self.dock_registry.ids():
            dock = self.dock_registry.dock(QUEUE_DOCK)
            dock.show()
            dock.raise_()
            dock.widget().focus_filter()

    def install_queue_menu(self) -> None:
        """Give the case queue's rows their right-click menu (:meth:`queue_row_actions`)."""
        if QUEUE_DOCK in self.dock_registry.ids() and hasattr(self.dock_registry.widget(QUEUE_DOCK), "row_actions"):
            self.dock_registry.widget(QUEUE_DOCK).row_actions = self.queue_row_actions

    def queue_row_actions(self, case_id: int) -> list:
        """A queue row's menu (the row is already the selected case): the case commands the user
        has (enabled or saying why not), then 在地图上定位 and 查看办理过程."""
        tr = self.cat.tr
        ids = {c.id for c in self.command_registry} if self.command_registry is not None else set()
        actions: list = [self.action_registry.action(i) for i in self.action_registry.ids() if i in ids]
        if actions:
            actions.append(None)
        locate = QAction(tr("在地图上定位"), self)
        locate.setObjectName("locateCase")
        locate.triggered.connect(lambda _checked=False: self.commands.get("locate_case", lambda _id: None)(case_id))
        history = QAction(tr("查看办理过程"), self)
        history.setObjectName("showHistory")
        history.triggered.connect(lambda _checked=False: self.show_history(case_id))
        return [*actions, locate, history]

    def show_history(self, case_id: int) -> None:
        """Raise the case detail (its timeline is the case's history) with the timeline focused."""
        if DETAIL_DOCK not in self.dock_registry.ids():
            return
        dock = self.dock_registry.dock(DETAIL_DOCK)
        dock.show()
        dock.raise_()
        timeline = getattr(dock.widget(), "timeline", None)
        if timeline is not None:
            timeline.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_help(self) -> None:
        """F1: the loop, each role's work and every shortcut (generated as it opens)."""
        from app.ui.help import HelpDialog

        if self.help_dialog is not None:
            self.help_dialog.close()
            self.help_dialog.deleteLater()
        self.help_dialog = HelpDialog(self.action_registry, self.command_registry, self.cat, self)
        self.help_dialog.show()
        self.help_dialog.raise_()

    def show_about(self) -> None:
        QMessageBox.about(
            self, self.cat.tr("关于 GridHall"),
            self.cat.tr("GridHall 数字城管指挥大厅客户端\n版本 {version}", version=VERSION),
        )

    def _not_available(self, name: str) -> None:
        self.statusBar().showMessage(self.cat.tr("该功能当前不可用：{name}", name=name), 5000)

    # ---- layout ----------------------------------------------------------------------
    def use_layouts(self, layouts) -> None:
        """Arrange docks with ``layouts`` (a ``WindowLayouts``): 重置布局 and saving on close."""
        self.layouts = layouts
        self.commands["reset_layout"] = self.reset_layout
        # off by default: a careless drag on a title bar must not tear a panel off the window
        if getattr(self, "floating_action", None) is not None:  # another WindowLayouts took over
            self.floating_action.deleteLater()
        self.floating_action = self.action_registry.menu("view").addAction(self.cat.tr("允许面板浮动"))
        self.floating_action.setObjectName("gridhall.view.allow_floating")
        self.floating_action.setCheckable(True)
        self.floating_action.setChecked(layouts.floatable)
        self.floating_action.setToolTip(self.cat.tr("打开后可把面板拖出主窗口；关闭时浮动的面板回到窗口中"))
        self.floating_action.toggled.connect(layouts.set_floatable)

    def reset_layout(self) -> None:
        """视图 → 重置布局: the mode's built-in layout again."""
        if self.layouts is None:
            self._not_available(self.cat.tr("重置布局"))
            return
        self.layouts.reset()
        self.statusBar().showMessage(self.cat.tr("已恢复内置布局：{name}", name=self.layouts.layout.name), 5000)

    def show_problems(self, problems) -> None:
        """Tell the user, in the status bar, what went wrong with the layout files (Msg values)."""
        if problems:
            separator = "; " if self.cat.language == "en" else "；"
            self.statusBar().showMessage(separator.join(self.cat.text(p) for p in problems), 20000)

    def closeEvent(self, event) -> None:
        if self.layouts is not None:
            self.layouts.save()
        super().closeEvent(event)

    def _status_label(self, name: str, label: QLabel | None = None) -> QLabel:
        label = label if label is not None else QLabel()
        label.setObjectName(name)
        self.statusBar().addPermanentWidget(label)
        return label
