"""The map toolbar and the 地图 menu: tools, navigation, go-to, bookmarks, export; the map's
right-click menu entries.

Binding-neutral: the map side (``app.gis.tools.controller.MapTools``) is reached through a
*port*, any object with the methods :class:`MapPort` lists; the GUI root passes it in. The
actions are declared as data (:data:`MAP_ACTIONS`) like the window's own, so they are in the
menu, the help (F1) and the shortcut table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QActionGroup,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPushButton,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.i18n import Catalogue
from app.ui import plain
from app.ui.actions import ActionSpec
from app.ui.plain import ElidedLabel

MENU = "map"
#: Declared map actions: (spec, tool name for the checkable tools, or "").
MAP_TOOLS: tuple[tuple[ActionSpec, str], ...] = (
    (ActionSpec("gridhall.map.browse", "浏览/识别", "Alt+I", MENU, "map_tool_browse", checkable=True,
                tip="点击识别网格、部件或案卷，拖动平移"), "browse"),
    (ActionSpec("gridhall.map.pan", "平移", "Alt+P", MENU, "map_tool_pan", checkable=True,
                tip="拖动地图平移"), "pan"),
    (ActionSpec("gridhall.map.zoom_box", "拉框放大", "Alt+Z", MENU, "map_tool_zoom_box", checkable=True,
                tip="单击或拉框放大"), "zoom_box"),
    (ActionSpec("gridhall.map.measure_distance", "测量距离", "Alt+M", MENU, "map_tool_measure_distance",
                checkable=True, tip="单击添加节点，右键或双击结束，Esc 清除"), "measure_distance"),
    (ActionSpec("gridhall.map.measure_area", "测量面积", "Alt+A", MENU, "map_tool_measure_area",
                checkable=True, tip="单击添加节点，右键或双击结束，Esc 清除"), "measure_area"),
)
MAP_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("gridhall.map.zoom_in", "放大", "Ctrl+=", MENU, "map_zoom_in", tip="放大一级"),
    ActionSpec("gridhall.map.zoom_out", "缩小", "Ctrl+-", MENU, "map_zoom_out", tip="缩小一级"),
    ActionSpec("gridhall.map.extent_back", "上一视图", "Alt+Left", MENU, "map_back", tip="回到上一个地图范围"),
    ActionSpec("gridhall.map.extent_forward", "下一视图", "Alt+Right", MENU, "map_forward",
               tip="前进到下一个地图范围"),
    ActionSpec("gridhall.map.goto", "定位到…", "Ctrl+G", MENU, "map_goto",
               tip="输入网格编码、部件编码、x,y（EPSG:4549）或 经度,纬度"),
    ActionSpec("gridhall.map.bookmark_add", "添加书签…", "Ctrl+B", MENU, "map_bookmark_add",
               tip="把当前地图范围存为书签"),
    ActionSpec("gridhall.map.bookmarks", "书签管理…", "Ctrl+Alt+B", MENU, "map_bookmarks",
               tip="前往或删除书签"),
    ActionSpec("gridhall.map.export", "导出地图…", "Ctrl+P", MENU, "map_export",
               tip="把当前地图导出为 PNG 或 PDF（含标题、图例、比例尺、指北针和时间）"),
)
#: Toolbar order (ids; "" is a separator; zoom_full is the window's own action).
TOOLBAR = ("gridhall.map.browse", "gridhall.map.pan", "gridhall.map.zoom_box", "gridhall.map.zoom_in",
           "gridhall.map.zoom_out", "gridhall.map.zoom_full", "gridhall.map.extent_back",
           "gridhall.map.extent_forward", "", "gridhall.map.measure_distance", "gridhall.map.measure_area",
           "", "gridhall.map.bookmark_add", "gridhall.map.export")


class MapPort(Protocol):
    """What the toolbar needs from the map (``MapTools`` has all of it)."""

    tool_changed: Any  # signal(str)
    measured: Any  # signal(str, bool)

    def set_tool(self, name: str) -> None: ...
    def active_tool(self) -> str: ...
    def zoom_in(self) -> None: ...
    def zoom_out(self) -> None: ...
    def back(self) -> bool: ...
    def forward(self) -> bool: ...
    def goto(self, text: str) -> Any: ...
    def add_bookmark(self, name: str) -> Any: ...
    def goto_bookmark(self, name: str) -> bool: ...


class BookmarksDialog(QDialog):
    """The user's bookmarks: go to one or delete it."""

    def __init__(self, names: list[str], goto: Callable[[str], object], remove: Callable[[str], object],
                 catalogue: Catalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tr = catalogue.tr
        self.setObjectName("bookmarksDialog")
        self.setWindowTitle(tr("书签管理"))
        self._goto, self._remove = goto, remove
        self.list = QListWidget(objectName="bookmarkList")
        for name in names:
            item = QListWidgetItem(plain.line(name, 80))
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        self.goto_button = QPushButton(tr("前往"), objectName="bookmarkGoto")
        self.delete_button = QPushButton(tr("删除"), objectName="bookmarkDelete")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.goto_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.goto_button.clicked.connect(self.goto_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.list.itemDoubleClicked.connect(lambda _item: self.goto_selected())
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _name(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def goto_selected(self) -> None:
        name = self._name()
        if name is not None:
            self._goto(name)

    def delete_selected(self) -> None:
        name = self._name()
        if name is not None:
            self._remove(name)
            self.list.takeItem(self.list.currentRow())


class MapToolsUi:
    """Registers the map actions, builds the toolbar and keeps the checked tool in step.

    ``export(path)`` starts the export job (None when one is already running); ``bookmarks``
    has ``names()`` and ``remove(name)``.
    """

    def __init__(self, window: QMainWindow, port: MapPort, bookmarks, catalogue: Catalogue,
                 export: Callable[[str], object] | None = None, icons: dict | None = None,
                 geocode: Callable[[str], Any] | None = None) -> None:
        self.window, self.port, self.bookmarks, self.cat = window, port, bookmarks, catalogue
        self.export = export
        tr = catalogue.tr
        registry = window.action_registry
        commands = window.commands
        for spec, tool in MAP_TOOLS:
            commands[spec.callback] = lambda checked=True, t=tool: self._tool_toggled(t, checked)
        commands.update({
            "map_zoom_in": port.zoom_in, "map_zoom_out": port.zoom_out,
            "map_back": self._back, "map_forward": self._forward,
            "map_goto": self.focus_goto, "map_bookmark_add": self.ask_bookmark,
            "map_bookmarks": self.show_bookmarks, "map_export": self.ask_export,
        })
        self._registrations = [registry.register(spec) for spec, _tool in MAP_TOOLS]
        self._registrations += [registry.register(spec) for spec in MAP_ACTIONS]
        self.group = QActionGroup(window)
        self.group.setExclusive(True)
        self._tool_actions = {}
        for spec, tool in MAP_TOOLS:
            action = registry.action(spec.id)
            self.group.addAction(action)
            self._tool_actions[tool] = action

        self.toolbar = QToolBar(tr("地图工具"), window)
        self.toolbar.setObjectName("mapToolbar")
        # icons (the map's theme) when the map gives them: the toolbar stays one row in English too;
        # the tooltip names the action and its shortcut
        icons = icons or {}
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly if icons
                                        else Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action_id in TOOLBAR:
            if not action_id:
                self.toolbar.addSeparator()
            elif action_id in registry.ids():
                action = registry.action(action_id)
                if action_id in icons:
                    action.setIcon(icons[action_id])
                if action.shortcut().toString():
                    action.setToolTip(f"{action.text()} ({action.shortcut().toString()})")
                self.toolbar.addAction(action)
        self.bookmark_button = QToolButton(objectName="bookmarkButton")
        self.bookmark_button.setText(tr("书签"))
        self.bookmark_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.bookmark_menu = QMenu(self.bookmark_button)
        self.bookmark_menu.aboutToShow.connect(self._fill_bookmark_menu)
        self.bookmark_button.setMenu(self.bookmark_menu)
        self.toolbar.addWidget(self.bookmark_button)
        self.toolbar.addSeparator()
        self.goto_edit = QLineEdit(objectName="mapGoto")
        self.goto_edit.setPlaceholderText(tr("定位：网格/部件编码、x,y 或 经度,纬度"))
        self.goto_edit.setClearButtonEnabled(True)
        self.goto_edit.setMinimumWidth(self.goto_edit.fontMetrics().horizontalAdvance("0") * 30)
        self.goto_edit.setMaximumWidth(self.goto_edit.fontMetrics().horizontalAdvance("0") * 44)
        self.goto_edit.returnPressed.connect(lambda: self.goto(self.goto_edit.text()))
        self.toolbar.addWidget(self.goto_edit)
        self.address_search = None
        if geocode is not None:  # addresses too: suggestions as you type (app/ui/address_search.py)
            from app.ui.address_search import AddressSuggest

            self.address_search = AddressSuggest(self.goto_edit, geocode)
            self.address_search.picked.connect(lambda _label, x, y: self.goto(f"{x:.1f},{y:.1f}"))
        self.measure_label = ElidedLabel(max_width=420, objectName="measureResult")
        self.toolbar.addWidget(self.measure_label)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

        port.tool_changed.connect(self._follow_tool)
        port.measured.connect(self._show_measure)
        self._follow_tool(port.active_tool())

    def teardown(self) -> None:
        for signal, slot in ((self.port.tool_changed, self._follow_tool), (self.port.measured, self._show_measure)):
            with contextlib.suppress(TypeError, RuntimeError):  # already gone with the map
                signal.disconnect(slot)
        for registration in self._registrations:
            registration.remove()
        if self.address_search is not None:
            self.address_search.shutdown()
        self.window.removeToolBar(self.toolbar)
        self.toolbar.deleteLater()

    # ---- tools -----------------------------------------------------------------------
    def _tool_toggled(self, tool: str, checked: bool) -> None:
        if checked:
            self.port.set_tool(tool)
        elif self.port.active_tool() == tool:
            self.port.set_tool("browse")  # unchecking the current tool goes back to browsing

    def _follow_tool(self, tool: str) -> None:
        action = self._tool_actions.get(tool)
        if action is not None:
            action.setChecked(True)
        else:  # a tool not on the toolbar (picking a location): nothing checked
            checked = self.group.checkedAction()
            if checked is not None:
                self.group.setExclusive(False)
                checked.setChecked(False)
                self.group.setExclusive(True)
        if not tool.startswith("measure"):
            self.measure_label.setText("")

    def _show_measure(self, text: str, final: bool) -> None:
        self.measure_label.setText(self.cat.tr("测量：{value}", value=text) if text else "")

    def _status(self, text: str, ms: int = 6000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def _back(self) -> None:
        if not self.port.back():
            self._status(self.cat.tr("没有上一视图"))

    def _forward(self) -> None:
        if not self.port.forward():
            self._status(self.cat.tr("没有下一视图"))

    # ---- go to -------------------------------------------------------------------------
    def focus_goto(self) -> None:
        self.toolbar.show()
        self.goto_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.goto_edit.selectAll()

    def goto(self, text: str) -> bool:
        """Go to what ``text`` names; a bad entry says why in the status bar (nothing moves)."""
        try:
            target = self.port.goto(text)
        except Exception as exc:  # MsgError: one message in the user's language
            self._status(self.cat.error(exc), 10000)
            return False
        kinds = {"grid": "网格", "component": "部件", "xy": "坐标", "lonlat": "经纬度"}
        self._status(self.cat.tr("已定位到{kind} {what}", kind=self.cat.tr(kinds.get(target.kind, "")),
                                 what=plain.line(target.what, 60)))
        return True

    # ---- bookmarks ---------------------------------------------------------------------
    def ask_bookmark(self) -> None:
        name, ok = QInputDialog.getText(self.window, self.cat.tr("添加书签"), self.cat.tr("书签名称："))
        if ok:
            self.add_bookmark(name)

    def add_bookmark(self, name: str) -> bool:
        try:
            bookmark = self.port.add_bookmark(name)
        except Exception as exc:
            self._status(self.cat.error(exc), 10000)
            return False
        self._status(self.cat.tr("已添加书签：{name}", name=plain.line(bookmark.name, 60)))
        return True

    def _fill_bookmark_menu(self) -> None:
        self.bookmark_menu.clear()
        names = self.bookmarks.names()
        for name in names:
            action = self.bookmark_menu.addAction(plain.line(name, 60))
            action.triggered.connect(lambda _checked=False, n=name: self.port.goto_bookmark(n))
        if names:
            self.bookmark_menu.addSeparator()
        self.bookmark_menu.addAction(self.window.action_registry.action("gridhall.map.bookmark_add"))
        self.bookmark_menu.addAction(self.window.action_registry.action("gridhall.map.bookmarks"))

    def show_bookmarks(self) -> BookmarksDialog:
        dialog = BookmarksDialog(self.bookmarks.names(), self.port.goto_bookmark, self.bookmarks.remove,
                                 self.cat, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # ---- export ------------------------------------------------------------------------
    def ask_export(self) -> None:
        if self.export is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self.window, self.cat.tr("导出地图"), "gridhall-map.pdf", "PDF (*.pdf);;PNG (*.png)")
        if path:
            self.start_export(path)

    def start_export(self, path: str):
        """Start exporting to ``path``; the job strip shows its progress."""
        if self.export is None:
            return None
        job = self.export(path)
        if job is None:
            self._status(self.cat.tr("地图导出正在进行"))
        return job


def map_context_entries(catalogue: Catalogue, *, identify: Callable[[float, float], object],
                        coordinate_text: Callable[[float, float], str],
                        zoom_here: Callable[[float, float], object],
                        new_case: Callable[[float, float], object] | None = None,
                        notify: Callable[[str], None] | None = None) -> list:
    """The map's right-click entries: (title, callback(x, y)); None is a separator."""
    tr = catalogue.tr

    def copy(x: float, y: float) -> None:
        text = coordinate_text(x, y)
        QApplication.clipboard().setText(text)
        if notify is not None:
            notify(tr("已复制坐标：{coordinate}", coordinate=text))

    entries: list = [(tr("识别此处"), identify), (tr("复制坐标"), copy)]
    if new_case is not None:
        entries.append((tr("在此新建上报"), new_case))
    entries += [None, (tr("缩放至此"), zoom_here)]
    return entries
