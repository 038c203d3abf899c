"""MainWindow: actions as data, dock registry with teardown, status slots, saved layout."""

from __future__ import annotations

from datetime import datetime

import pytest
from qtpy.QtCore import QSettings
from qtpy.QtWidgets import QLabel

from app.i18n import Catalogue
from app.ui.actions import BUILTIN_ACTIONS, ActionSpec
from app.ui.builtin import DETAIL_DOCK, QUEUE_DOCK, builtin_docks, register_builtin_docks
from app.ui.docks import DockError, DockSpec
from app.ui.main_window import MainWindow
from app.views.queue_state import QueueState

pytestmark = pytest.mark.neutral


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings, capabilities=("cases",))
    qtbot.addWidget(win)
    yield win
    win.dock_registry.unregister_all()


class Panel(QLabel):
    """A dock widget that records its teardown."""

    torn_down = 0

    def teardown(self):
        Panel.torn_down += 1


def test_title_and_builtin_actions_with_shortcuts(window):
    assert window.windowTitle() == "GridHall 数字城管指挥大厅"
    registry = window.action_registry
    assert registry.action("gridhall.view.toggle_fullscreen").shortcut().toString() == "F11"
    assert registry.action("gridhall.map.zoom_full").shortcut().toString() == "Ctrl+0"
    assert registry.action("gridhall.queue.focus_filter").shortcut().toString() == "Ctrl+F"
    assert registry.action("gridhall.app.quit").shortcut().toString() == "Ctrl+Q"
    assert {spec.id for spec in BUILTIN_ACTIONS} <= set(registry.ids())


def test_string_callbacks_resolve_when_triggered(window):
    calls = []
    window.commands["zoom_full"] = lambda: calls.append("zoom")
    window.action_registry.action("gridhall.map.zoom_full").trigger()
    assert calls == ["zoom"]


def test_an_action_without_a_command_says_so_in_the_status_bar(window):
    window.action_registry.action("gridhall.queue.refresh").trigger()
    assert "不可用" in window.statusBar().currentMessage()


def test_registered_action_can_be_removed(window):
    handle = window.action_registry.register(ActionSpec("test.hello", "你好", menu="plugins", callback=print))
    menu = window.action_registry.menu("plugins")
    assert any(a.objectName() == "test.hello" for a in menu.actions())
    handle.remove()
    assert not any(a.objectName() == "test.hello" for a in menu.actions())
    with pytest.raises(ValueError, match="already registered"):
        window.action_registry.register(BUILTIN_ACTIONS[0])


def test_dock_register_and_unregister_tears_down(window):
    Panel.torn_down = 0
    spec_teardowns = []
    handle = window.dock_registry.register(
        DockSpec("test.panel", "测试面板", "left", lambda: Panel("内容"), teardown=lambda: spec_teardowns.append(1)))
    dock = window.dock_registry.dock("test.panel")
    assert dock.windowTitle() == "测试面板"
    assert dock.toggleViewAction() in window.panels_menu.actions()
    handle.remove()
    handle.remove()  # idempotent
    assert Panel.torn_down == 1 and spec_teardowns == [1]
    assert "test.panel" not in window.dock_registry.ids()
    assert dock.toggleViewAction() not in window.panels_menu.actions()


def test_dock_refusals_explain_themselves(window):
    with pytest.raises(DockError, match="requires map"):
        window.dock_registry.register(DockSpec("test.needs_map", "图", "left", QLabel, ("map",)))
    with pytest.raises(DockError, match="area 'middle'"):
        window.dock_registry.register(DockSpec("test.where", "图", "middle", QLabel))
    window.dock_registry.register(DockSpec("test.once", "一", "left", QLabel))
    with pytest.raises(DockError, match="already registered"):
        window.dock_registry.register(DockSpec("test.once", "一", "left", QLabel))


def test_builtin_docks_go_through_the_registry(window, calendar, source, runner):
    state = QueueState(calendar)
    register_builtin_docks(window.dock_registry, builtin_docks(state, source, runner, Catalogue()))
    assert window.dock_registry.ids() == [QUEUE_DOCK, DETAIL_DOCK]
    listeners = len(state.events.rows_reset)
    window.dock_registry.unregister(QUEUE_DOCK)
    assert len(state.events.rows_reset) == listeners - 2  # the dock and its model stopped listening
    assert window.dock_registry.ids() == [DETAIL_DOCK]


def test_status_bar_slots(window):
    window.set_backend("PostGIS db.example:5432/gridhall")
    window.set_map_scale(2500.4)
    window.set_cursor_position(40501000.04, 3551000.26)
    window.show_time(datetime(2026, 11, 20, 9, 5, 7))
    labels = {w.objectName(): w.text() for w in window.statusBar().findChildren(QLabel)}
    assert labels["statusBackend"] == "数据库：PostGIS db.example:5432/gridhall"
    assert labels["statusUser"] == "用户：未登录/演示"
    assert labels["statusScale"] == "比例尺 1:2,500"
    assert labels["statusCoords"] == "坐标 40501000.0, 3551000.3"
    assert labels["statusClock"] == "2026-11-20 09:05:07"


def test_closing_saves_the_arrangement_per_user_and_mode_in_the_given_settings(qtbot, tmp_path):
    from app.ui.layouts import WindowLayouts
    from app.views.layouts import parse_layout

    path = str(tmp_path / "layout.ini")
    first = MainWindow(QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.dock_registry.register(DockSpec("test.a", "甲", "left", QLabel))
    first.dock_registry.register(DockSpec("test.b", "乙", "right", QLabel))
    layouts = WindowLayouts(first, first.dock_registry, parse_layout("format = 1"), first.settings,
                            user="zhang", mode="desk")
    first.use_layouts(layouts)
    first.show()
    first.dock_registry.dock("test.b").hide()
    first.close()  # saves
    screen = layouts.bucket()  # kept per screen size too: the offscreen screen here
    assert QSettings(path, QSettings.Format.IniFormat).value(f"layouts/zhang/desk/{screen}/state") is not None
    layouts.close()

    second = MainWindow(QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.dock_registry.register(DockSpec("test.a", "甲", "left", QLabel))
    second.dock_registry.register(DockSpec("test.b", "乙", "right", QLabel))
    layouts = WindowLayouts(second, second.dock_registry, parse_layout("format = 1"), second.settings,
                            user="zhang", mode="desk")
    layouts.apply(sizes=False)
    assert layouts.start(restore=True)
    second.show()
    assert second.dock_registry.dock("test.a").isVisible()
    assert not second.dock_registry.dock("test.b").isVisible()
    layouts.close()


def test_view_menu_has_reset_layout(window):
    action = window.action_registry.action("gridhall.view.reset_layout")
    assert action in window.action_registry.menu("view").actions()
    assert action.text() == "重置布局"


def test_english_on_request(qtbot, settings):
    win = MainWindow(settings, Catalogue("en"))
    qtbot.addWidget(win)
    assert win.windowTitle() == "GridHall Digital Urban Management Command Hall"
    assert win.action_registry.menu("view").title() == "View"
    assert win.action_registry.action("gridhall.view.toggle_fullscreen").text() == "Full screen"


def test_plugin_status_dialog_lists_failures(qtbot):
    from types import SimpleNamespace

    from app.ui.plugin_dialog import PluginStatusDialog

    rows = [SimpleNamespace(id="good", name="好", version="1.0", state="enabled", error=""),
            SimpleNamespace(id="bad", name="坏", version="", state="failed", error="manifest: missing")]
    dialog = PluginStatusDialog(rows)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(0, 3).text() == "已启用"
    assert dialog.table.item(1, 3).text() == "失败"
    assert dialog.table.item(1, 4).text() == "manifest: missing"


def test_ctrl_f_command_focuses_the_queue_search_box(qtbot, window, calendar, source, runner):
    state = QueueState(calendar)
    register_builtin_docks(window.dock_registry, builtin_docks(state, source, runner, Catalogue()))
    window.show()
    window.activateWindow()
    window.action_registry.action("gridhall.queue.focus_filter").trigger()
    qtbot.waitUntil(window.dock_registry.widget(QUEUE_DOCK).search.hasFocus)


def test_a_menu_made_later_goes_before_help_which_stays_last(window):
    registry = window.action_registry
    registry.register(ActionSpec("test.handle.new", "新上报", "", "办理", "nothing"))
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "帮助"
    assert titles.index("办理") == titles.index("帮助") - 1
    assert titles[:3] == ["文件", "视图", "地图"]
    registry.unregister("test.handle.new")


def test_a_disabled_button_and_menu_entry_look_disabled_in_the_hall_theme(qtbot):
    """The theme sets every widget's text colour; a disabled button or menu entry must still look
    disabled (greyed), not like one that can be pressed."""
    from collections import Counter

    from qtpy.QtWidgets import QPushButton, QVBoxLayout, QWidget

    from app.ui.style import load_stylesheet

    def darkest(widget) -> int:
        image = widget.grab().toImage()
        colours = Counter(image.pixelColor(x, y).lightness() for x in range(image.width())
                          for y in range(image.height()))
        return min(colours)

    box = QWidget()
    qtbot.addWidget(box)
    box.setStyleSheet(load_stylesheet("hall"))
    layout = QVBoxLayout(box)
    on, off = QPushButton("接收"), QPushButton("接收")
    off.setEnabled(False)
    layout.addWidget(on)
    layout.addWidget(off)
    box.show()
    qtbot.waitExposed(box)
    assert darkest(on) < 80  # dark text
    assert darkest(off) > 110  # grey text: it cannot be pressed
