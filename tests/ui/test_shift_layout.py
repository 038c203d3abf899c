"""A layout for an eight-hour shift: the dispatcher's desk at 1920×1080 on the real desk docks,
the UI scale for 4K, docks that do not float on a careless drag, 重置布局 for the current
screen, arrangements kept per user *and* screen size, windows kept on screen, English headers."""

from __future__ import annotations

import os

import pytest
from qtpy.QtCore import QRect, QSettings, Qt
from qtpy.QtWidgets import QApplication, QDockWidget, QLabel

from app.domain.definitions import CaseState, Role
from app.i18n import Catalogue
from app.ui.builtin import DETAIL_DOCK, QUEUE_DOCK, builtin_docks, register_builtin_docks
from app.ui.docks import DockSpec
from app.ui.layouts import FLOATABLE_KEY, WindowLayouts
from app.ui.main_window import MainWindow
from app.ui.queue_dock import CaseQueueDock
from app.ui.style import apply_theme, auto_ui_scale, choose_ui_scale
from app.views.layouts import builtin_layout, clamp_rect, parse_layout, screen_bucket
from app.views.queue_state import QueueState
from ui.forms.world import desk, desk_store, desk_template, login_as, queue  # noqa: F401  (fixtures)

pytestmark = pytest.mark.neutral

LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
FHD = ((1920, 1080), QRect(0, 0, 1920, 1040))
UHD = ((3840, 2160), QRect(0, 0, 3840, 2120))
LAYOUT = """
format = 1
[areas.bottom]
size = "50%"
[[areas.bottom.groups]]
docks = ["gridhall.queue"]
[areas.right]
size = "25%"
[[areas.right.groups]]
docks = ["gridhall.detail"]
"""


@pytest.fixture
def themed():
    """The hall font and stylesheet, as the client has them (put back afterwards)."""
    app = QApplication.instance()
    font, sheet = app.font(), app.styleSheet()
    apply_theme(app)
    yield app
    app.setFont(font)
    app.setStyleSheet(sheet)


def _window(qtbot, path, calendar, source, runner) -> MainWindow:
    window = MainWindow(QSettings(str(path), QSettings.Format.IniFormat), capabilities=("cases", "map"))
    qtbot.addWidget(window)
    register_builtin_docks(window.dock_registry, builtin_docks(QueueState(calendar), source, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    window.resize(1900, 1000)
    return window


def _use(window, screen, user="alice") -> WindowLayouts:
    layouts = WindowLayouts(window, window.dock_registry, parse_layout(LAYOUT), window.settings,
                            user=user, mode="desk", screen=lambda: screen)
    layouts.apply()
    window.use_layouts(layouts)
    return layouts


def _close(window):
    if window.layouts is not None:
        window.layouts.close()
    window.dock_registry.unregister_all()


# ---- the dispatcher's desk at 1920×1080 -------------------------------------------------------
def test_the_dispatchers_desk_at_1080p_shows_15_rows_and_the_case_without_scrolling(
        qtbot, tmp_path, themed, login_as, queue, runner, desk, source):  # noqa: F811
    from app.ui.work.install import install_work

    window = MainWindow(QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat), capabilities=("cases", "map"))
    qtbot.addWidget(window)
    register_builtin_docks(window.dock_registry, builtin_docks(queue, desk.cases, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    actor = login_as(Role.DISPATCHER)
    teardown = install_work(window, queue, runner, desk, actor)
    layout, problems = builtin_layout("desk", actor.role.value)
    assert problems == [] and layout.name == "desk_dispatcher"
    window.menuBar().addMenu("地图")  # the real window has a toolbar row and menus above the docks
    window.addToolBar("地图工具").addWidget(QLabel("定位：网格/部件编码"))
    layouts = WindowLayouts(window, window.dock_registry, layout, window.settings, user=actor.username,
                            screen=lambda: FHD)
    try:
        layouts.apply(sizes=False)
        window.resize(1920, 1080 - 40)  # a taskbar under the maximised window
        window.show()
        qtbot.waitExposed(window)
        layouts.start(restore=True)
        QApplication.processEvents()
        table = window.dock_registry.widget(QUEUE_DOCK).table
        rows = table.viewport().height() // table.verticalHeader().defaultSectionSize()
        assert rows >= 15, f"the queue shows {rows} rows"

        case_id = queue.visible_ids[0]
        queue.select(case_id)
        detail = window.dock_registry.widget(DETAIL_DOCK)
        qtbot.waitUntil(lambda: detail.fields["计时"].text() != "", timeout=10000)
        QApplication.processEvents()
        for label in (detail.title, *(detail.fields[k] for k in ("状态", "责任部门", "描述", "计时"))):
            assert label.text()
            seen = label.visibleRegion().boundingRect()
            assert seen == label.rect(), f"{label.objectName()} is cut or needs scrolling: {seen} of {label.rect()}"
        assert "灯" in detail.fields["计时"].text()  # the timer carries its light
    finally:
        layouts.close()
        runner.wait()
        teardown()
        window.dock_registry.unregister_all()


# ---- UI scale ---------------------------------------------------------------------------------
def test_the_ui_scale_follows_the_screen_so_text_keeps_its_physical_size():
    assert auto_ui_scale(1920, 1080) == 1
    assert auto_ui_scale(3840, 2160) == 2
    assert auto_ui_scale(2560, 1440) == 1.25
    assert auto_ui_scale(3840, 1080) == 1  # two 1080p monitors side by side
    assert auto_ui_scale(1366, 768) == 1  # never below 1
    assert auto_ui_scale(3840, 2160, logical_dpi=192) == 1  # the desktop already scales (Xft.dpi)
    assert auto_ui_scale(7680, 4320) == 3  # capped
    assert choose_ui_scale(1.5, 2.0, (3840, 2160, 96.0)) == 1.5  # --ui-scale wins
    assert choose_ui_scale(None, 1.25, (3840, 2160, 96.0)) == 1.25  # then a layout's scale
    assert choose_ui_scale(None, None, None) == 1  # no screen known: Qt's own scaling


def test_a_ui_scale_is_set_for_qt_at_3840x2160(monkeypatch):
    from app.bootstrap import _scale_from_layout

    monkeypatch.delenv("QT_SCALE_FACTOR", raising=False)
    _scale_from_layout("desk", None, None, (3840, 2160, 96.0))
    assert os.environ["QT_SCALE_FACTOR"] == "2"
    monkeypatch.delenv("QT_SCALE_FACTOR")
    _scale_from_layout("desk", None, 1.5, (3840, 2160, 96.0))
    assert os.environ["QT_SCALE_FACTOR"] == "1.5"
    monkeypatch.delenv("QT_SCALE_FACTOR")
    _scale_from_layout("desk", None, None, (1920, 1080, 96.0))
    assert "QT_SCALE_FACTOR" not in os.environ


def test_a_bad_ui_scale_is_refused_in_the_users_language(monkeypatch, capsys):
    from app.cli import build_parser, main

    for given, parsed in (("auto", "auto"), ("1.5", 1.5), ("2", 2.0)):  # "auto" beats $GRIDHALL_UI_SCALE
        assert build_parser(["run"]).parse_args(["run", "--ui-scale", given]).ui_scale == parsed
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--ui-scale", "huge"])
    assert exit_.value.code == 2
    assert "UI scale must be auto or a number" in capsys.readouterr().err
    monkeypatch.setenv("GRIDHALL_UI_SCALE", "9")
    monkeypatch.setenv("GRIDHALL_LANG", "en")
    assert main(["run", "--lang", "en", "--screenshot", "/nonexistent/x.png"]) != 0
    err = capsys.readouterr().err
    assert "GRIDHALL_UI_SCALE must be auto or a number between 0.5 and 4, not 9" in err
    assert "Traceback" not in err


# ---- floating, reset ---------------------------------------------------------------------------
def test_docks_do_not_float_unless_the_user_allows_it(qtbot, tmp_path, calendar, source, runner):
    window = _window(qtbot, tmp_path / "user.ini", calendar, source, runner)
    try:
        layouts = _use(window, FHD)
        floatable = QDockWidget.DockWidgetFeature.DockWidgetFloatable
        for dock_id in window.dock_registry.ids():
            features = window.dock_registry.dock(dock_id).features()
            assert not features & floatable and features & QDockWidget.DockWidgetFeature.DockWidgetMovable
        window.floating_action.setChecked(True)  # 视图 → 允许面板浮动
        detail = window.dock_registry.dock(DETAIL_DOCK)
        assert detail.features() & floatable
        detail.setFloating(True)
        window.floating_action.setChecked(False)
        assert not detail.isFloating() and not detail.features() & floatable  # docked back
        assert window.settings.value(FLOATABLE_KEY) in (False, "false")
        window.dock_registry.register(DockSpec("plugin.late", "插件", "left", QLabel))  # a plugin, later
        assert not window.dock_registry.dock("plugin.late").features() & floatable
        assert layouts.floatable is False
    finally:
        _close(window)


def test_reset_layout_sizes_the_builtin_layout_for_the_current_window(qtbot, tmp_path, calendar, source, runner):
    window = _window(qtbot, tmp_path / "user.ini", calendar, source, runner)
    try:
        _use(window, FHD)
        window.show()
        qtbot.waitExposed(window)
        window.addDockWidget(LEFT, window.dock_registry.dock(DETAIL_DOCK))
        window.resize(1600, 900)
        window.move(900, 600)  # half off the screen
        QApplication.processEvents()
        window.reset_layout()  # Ctrl+Alt+0
        QApplication.processEvents()
        assert window.dockWidgetArea(window.dock_registry.dock(DETAIL_DOCK)) == RIGHT
        frame = window.frameGeometry()
        assert FHD[1].contains(frame), frame
        width = window.dock_registry.dock(DETAIL_DOCK).width()
        assert abs(width - window.width() * 0.25) < 40, (width, window.width())
    finally:
        _close(window)


# ---- per user and screen size; on screen ------------------------------------------------------
def test_arrangements_are_kept_per_user_and_screen_size(qtbot, tmp_path, calendar, source, runner):
    path = tmp_path / "user.ini"
    window = _window(qtbot, path, calendar, source, runner)
    try:
        _use(window, FHD)
        window.show()
        qtbot.waitExposed(window)
        window.addDockWidget(LEFT, window.dock_registry.dock(DETAIL_DOCK))  # alice's 1080p desk
        window.close()
    finally:
        _close(window)
    assert QSettings(str(path), QSettings.Format.IniFormat).value("layouts/alice/desk/1920x1080/state") is not None

    for user, screen, restored, area in (("alice", FHD, True, LEFT), ("alice", UHD, False, RIGHT),
                                         ("bob", FHD, False, RIGHT)):
        other = _window(qtbot, path, calendar, source, runner)
        try:
            layouts = _use(other, screen, user=user)
            assert layouts.start(restore=True) is restored, (user, screen[0])
            assert other.dockWidgetArea(other.dock_registry.dock(DETAIL_DOCK)) == area
        finally:
            _close(other)


def test_a_saved_window_off_the_screen_is_brought_back(qtbot, tmp_path, calendar, source, runner):
    path = tmp_path / "user.ini"
    window = _window(qtbot, path, calendar, source, runner)
    try:
        _use(window, UHD)  # saved on a 4K screen: big, far to the right and down
        window.show()
        qtbot.waitExposed(window)
        window.resize(3000, 2000)
        window.move(2500, 1500)
        QApplication.processEvents()
        window.close()
    finally:
        _close(window)
    # the same size class but the window comes back somewhere odd, and on a 1080p screen
    again = _window(qtbot, path, calendar, source, runner)
    try:
        layouts = _use(again, UHD)
        layouts.screen = lambda: (UHD[0], FHD[1])  # the usable area shrank (another monitor)
        assert layouts.start(restore=True)
        frame = again.frameGeometry()
        assert FHD[1].contains(frame), frame  # title bar and status bar reachable
    finally:
        _close(again)


def test_clamp_rect_and_screen_buckets():
    assert clamp_rect((2500, 1500, 3000, 2000), (0, 0, 1920, 1040)) == (0, 0, 1920, 1040)
    assert clamp_rect((1500, 900, 800, 600), (0, 0, 1920, 1040)) == (1120, 440, 800, 600)
    assert clamp_rect((-300, -50, 800, 600), (1920, 0, 1920, 1040)) == (1920, 0, 800, 600)
    assert clamp_rect((100, 100, 800, 600), (0, 0, 1920, 1040)) == (100, 100, 800, 600)
    assert screen_bucket(1920, 1080) == "1920x1080"
    assert screen_bucket(3840, 2160) == "3840x2160"
    assert screen_bucket(1917, 1083) == "1920x1080"


# ---- English headers -----------------------------------------------------------------------------
def test_english_column_headers_and_state_labels_are_not_truncated(qtbot, themed, calendar):
    state = QueueState(calendar)
    dock = CaseQueueDock(state, Catalogue("en"))
    qtbot.addWidget(dock)
    header = dock.table.horizontalHeader()
    cells = dock.table.fontMetrics()
    for col in range(dock.model.columnCount()):
        if header.sectionResizeMode(col) == header.ResizeMode.Stretch:
            continue
        title = dock.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        needed = header.fontMetrics().horizontalAdvance(title) + 16  # text, margins and the sort arrow
        assert dock.table.columnWidth(col) >= needed, (title, dock.table.columnWidth(col), needed)
    longest = max(cells.horizontalAdvance(dock.cat.label(s)) for s in CaseState)
    assert dock.table.columnWidth(3) >= longest + 8


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_urge_cell_of_a_level_3_case_urged_a_dozen_times_is_not_truncated(qtbot, themed, calendar, lang):
    from qtpy.QtGui import QFont, QFontMetrics

    from app.ui.queue_model import URGED_COLUMN

    dock = CaseQueueDock(QueueState(calendar), Catalogue(lang))
    qtbot.addWidget(dock)
    bold = QFont(dock.table.font())
    bold.setBold(True)  # an urged case's 督办 cell is bold
    text = dock.cat.tr("{level} 级 · {n} 次", level=3, n=12)
    assert dock.table.columnWidth(URGED_COLUMN) >= QFontMetrics(bold).horizontalAdvance(text) + 8
