"""The wall's windows over a real SpatiaLite copy of the tiny demo city (qtbot, QGIS offscreen):
the tiles show the store's figures, nothing can edit, stale data look stale and recover, a
change made at a workstation reaches the wall in place."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QAbstractButton, QAction, QComboBox, QLineEdit, QMenu, QTextEdit
from ui.forms.world import T0, street_point

from app.domain.clock import FixedClock
from app.domain.definitions import Level, Role
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from app.store.wall import open_wall_store
from app.views.wall.layout import DEFAULT, Screen, WallLayout
from app.views.wall.model import read_tiles

NOW = T0 + timedelta(minutes=1)


@pytest.fixture
def wall(qapp, desk_store):
    from app.wall import Wall

    store = open_wall_store(desk_store.path)
    layout = WallLayout(screens=(Screen(), Screen(top="none", main="playlist", side="urged", bottom="ticker")))
    made = Wall(store, FixedClock(NOW), layout, height=1080)
    for window in made.screens:
        window.resize(1920, 1080)
    made.load_now()
    yield made
    made.close()
    store.dispose()


def test_the_tiles_show_the_stores_figures(wall):
    expected = read_tiles(wall.store, NOW)
    strip = wall.screens[0].parts[0]
    for tile in expected:
        widget = strip.tiles[tile.key]
        assert widget.title.text() == tile.title
        assert widget.value.text() == tile.text
    assert wall.reads == 1 and len(wall.layers.feeder) == len(wall.state.rows) > 0
    assert len(wall.map.heat) == len(wall.model.snapshot.heat_points) > 0


def test_each_window_is_named_after_the_wall(wall):
    for window in wall.screens:  # what a window manager and the task list show (was "__main__.py")
        assert window.windowTitle().startswith("GridHall — ") and window.title.text() in window.windowTitle()


def test_no_editing_action_is_reachable(wall):
    from app.commands import default_registry

    titles = {c.title for c in default_registry()}
    assert titles
    for window in wall.screens:
        assert window.cursor().shape() == Qt.BlankCursor
        actions = window.findChildren(QAction)
        assert [a.text() for a in actions if a.text() in titles or a.shortcut().toString()] == []
        for kind in (QAbstractButton, QLineEdit, QTextEdit, QComboBox):
            assert window.findChildren(kind) == [], kind
        # QgsMapCanvas keeps an empty menu of its own; it never opens (no context menu on the canvas)
        assert all(m.parent() is wall.map.canvas and m.actions() == [] for m in window.findChildren(QMenu))
        assert window.contextMenuPolicy() != Qt.CustomContextMenu
    assert wall.map.canvas.mapTool() is None
    assert wall.map.canvas.contextMenuPolicy() == Qt.NoContextMenu


def test_the_type_is_sized_for_the_screen(qapp, desk_store):
    from app.ui.wall.widgets import Theme

    assert Theme(30, 2160).px() == 60 and Theme(30, 1080).px() == 30 and Theme(DEFAULT.min_text_px, 1080).px(2) == 60


def test_a_lost_store_looks_stale_and_a_reconnect_resyncs(qtbot, wall, desk_store):
    screen = wall.screens[0]
    assert screen.stale_banner.isHidden()
    path = desk_store.path
    desk_store.dispose()
    wall.store.dispose()
    moved = path.with_suffix(".away")
    os.rename(path, moved)
    try:
        wall.refresh()
        qtbot.waitUntil(lambda: wall.model.stale, timeout=10000)
        assert not screen.stale_banner.isHidden()
        assert f"数据截至 {NOW:%H:%M}" in screen.stale_banner.text()
        panels = [p for s in wall.screens for p in s.parts if hasattr(p, "stamp")]
        assert panels and all(p.stale and p.stamp.text() == f"数据截至 {NOW:%H:%M}" for p in panels)
        assert all(p.graphicsEffect() is not None for p in panels)  # greyed out
        assert screen.map_frame.graphicsEffect() is not None  # the map too
        assert screen.parts[0].tiles["reports"].value.text() != ""  # the last picture is kept
    finally:
        os.rename(moved, path)
    wall.clock.set(NOW + timedelta(minutes=5))
    reads = wall.reads
    wall.resync()
    qtbot.waitUntil(lambda: not wall.model.stale, timeout=10000)
    assert wall.reads == reads + 1 and screen.stale_banner.isHidden()
    panels = [p for s in wall.screens for p in s.parts if hasattr(p, "stamp")]
    assert all(not p.stale and p.graphicsEffect() is None and "更新于" in p.stamp.text() for p in panels)
    assert screen.map_frame.graphicsEffect() is None


def test_a_workstations_change_reaches_the_wall_in_place(qtbot, wall, desk, login_as):
    wall.start(live=True)
    qtbot.waitUntil(lambda: wall.live is not None and wall.live.status.value == "online", timeout=10000)
    before = wall.model.snapshot.tiles[0].value
    feature_ids = {r.id: wall.layers.feeder.feature_id(r.id) for r in wall.state.rows}
    x, y = street_point(desk)
    made = desk.cases.report(login_as(Role.ACCEPTOR), ReportDraft(
        category="event:06001", description="大屏实时测试", location=LocationInput(x=x, y=y), source="public",
        level=Level.URGENT.value, reporter_name="市民甲", reporter_phone="13800000000"))
    case_id = made.case.id
    qtbot.waitUntil(lambda: wall.state.summary(case_id) is not None, timeout=10000)
    assert wall.layers.feeder.feature_id(case_id) is not None
    # in place: every other case keeps its feature (no layer reload)
    assert all(wall.layers.feeder.feature_id(cid) == fid for cid, fid in feature_ids.items()
               if wall.state.summary(cid) is not None)
    banner = wall.screens[0].alert
    qtbot.waitUntil(lambda: not banner.isHidden(), timeout=10000)
    assert made.case.number in banner.text() and "紧急" in banner.text()
    qtbot.waitUntil(lambda: wall.model.snapshot.tiles[0].value == before + 1, timeout=10000)
    assert wall.screens[0].parts[0].tiles["reports"].value.text() == f"{before + 1:.0f}"


def test_each_window_goes_full_screen_on_its_screen(qapp, wall):
    wall.show(qapp, [0, 5])  # the second screen is not plugged in: its window waits where it is
    screen = qapp.screens()[0]  # offscreen: one 800x600 screen, smaller than the 1080-line theme's minimum
    placed = wall.screens[0].geometry()
    assert wall.screens[0].isVisible() and wall.screens[0].windowFlags() & Qt.FramelessWindowHint
    assert (placed.topLeft(), placed.width()) == (screen.geometry().topLeft(), screen.geometry().width())
    assert wall.screens[0].windowHandle().screen() is screen
    wall.screens[0].move(5000, 0)
    wall.place(qapp.screens())  # what screenAdded/screenRemoved do: back on its screen
    assert wall.screens[0].geometry().topLeft() == screen.geometry().topLeft()


def test_a_replugged_screen_gets_its_window_back(qapp, wall):
    """Qt's screenRemoved / screenAdded (a screen unplugged, then plugged back) put every window back."""
    wall.show(qapp, [0])
    screen = qapp.screens()[0]
    window = wall.screens[0]
    window.move(4000, 3000)
    qapp.screenRemoved.emit(screen)  # the one screen still listed: the window stays on it
    qapp.screenAdded.emit(screen)
    assert window.geometry().topLeft() == screen.geometry().topLeft()
    assert window.isFullScreen() and window.windowHandle().screen() is screen


def test_the_map_scales_with_the_screen(qtbot, qapp, desk_store):
    """Points, labels and lines are drawn at the screen's DPI × the theme's magnification (3 at 2160
    lines: 60 px street names), again after the window moves to another screen, with the whole
    district in view."""
    from app.ui.wall.widgets import Theme
    from app.wall import Wall

    assert Theme(30, 2160).map_magnification == pytest.approx(3.0)
    assert Theme(30, 1080).map_magnification == pytest.approx(1.5)
    store = open_wall_store(desk_store.path)
    made = Wall(store, FixedClock(NOW), WallLayout(screens=(Screen(),)), height=2160)
    try:
        made.load_now()
        window = made.screens[0]
        window.resize(1920, 1080)
        window.show()
        qtbot.waitExposed(window)
        logical = window.windowHandle().screen().logicalDotsPerInch()
        assert made.map.output_dpi() == pytest.approx(logical * 3.0)
        visible = made.map.canvas.mapSettings().visibleExtent()
        district = made.map.full_extent()
        assert visible.contains(district) and visible.width() < district.width() * 2.5
        # a screen change makes QgsMapCanvas reset its DPI to the screen's: the wall magnifies again
        window.windowHandle().screenChanged.emit(window.windowHandle().screen())
        qtbot.waitUntil(lambda: made.map.output_dpi() == pytest.approx(logical * 3.0), timeout=5000)
    finally:
        made.close()
        store.dispose()


def test_screen_blanking_is_switched_off(tmp_path, monkeypatch):
    """With an X display the wall runs xset s off, -dpms, s noblank (here a stand-in xset on PATH
    that records its arguments: the test machine has no X server); without a display, nothing."""
    from app.cli.wall import _keep_screen_awake

    log = tmp_path / "xset.log"
    xset = tmp_path / "xset"
    xset.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    xset.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DISPLAY", raising=False)
    _keep_screen_awake()
    assert not log.exists()
    monkeypatch.setenv("DISPLAY", ":0")
    _keep_screen_awake()
    assert log.read_text().splitlines() == ["s off", "-dpms", "s noblank"]


def test_a_failing_panel_keeps_its_last_picture_greyed_and_the_others_go_on(wall, desk_store):
    from app.ui.wall.widgets import TablePanel
    from app.views.wall.model import read_snapshot

    screen = next(s for s in wall.screens if any(isinstance(p, TablePanel) for p in s.parts))
    broken = next(p for p in screen.parts if isinstance(p, TablePanel))
    others = [p for s in wall.screens for p in s.parts if hasattr(p, "stamp") and p is not broken]
    before = broken.table.text()
    rows = broken._rows

    def fail(_snapshot):  # a fault in one panel's drawing code
        raise ZeroDivisionError("a panel's bug")

    broken._rows = fail
    later = NOW + timedelta(minutes=10)
    wall.model.apply(read_snapshot(wall.store, later))  # no exception reaches the event loop
    assert broken.table.text() == before  # its last picture, greyed, with its own age
    assert broken.stale and broken.graphicsEffect() is not None
    assert broken.stamp.text() == f"数据截至 {NOW:%H:%M}"
    assert others and all(not p.stale and f"{later:%H:%M}" in p.stamp.text() for p in others)
    broken._rows = rows  # fixed (the next snapshot): live again
    wall.model.apply(read_snapshot(wall.store, later + timedelta(minutes=1)))
    assert not broken.stale and broken.graphicsEffect() is None


def test_reads_never_queue_up(qtbot, wall):
    """Asked again and again while a read runs, the wall reads once more when it ends (a resync
    asked meanwhile wins): a loaded machine never builds a backlog of reads."""
    reads = wall.reads
    for _ in range(10):
        wall.refresh()
    wall.resync()
    wall.refresh()
    qtbot.waitUntil(lambda: wall.reads == reads + 2 and not wall._reading, timeout=20000)
    qtbot.wait(300)
    assert wall.reads == reads + 2 and wall._again is None


def test_a_running_render_finishes_and_what_changed_meanwhile_is_drawn_after(qtbot, wall):
    """The render gate: repaints asked while the map draws do not cancel that render (QgsMapCanvas
    would, and under a stream of changes no render would ever finish); one more render follows."""
    m = wall.map
    m.wait_rendered()
    renders, asked = m.renders, []

    def changes_while_drawing() -> None:  # connected after the gate's own slot: the canvas is frozen
        if not asked:
            asked.append(True)
            for _ in range(20):
                m.heat.layer.triggerRepaint()

    m.canvas.renderStarting.connect(changes_while_drawing)
    try:
        m.canvas.refresh()
        qtbot.waitUntil(lambda: m.renders >= renders + 2 and not m._rendering, timeout=20000)
    finally:
        m.canvas.renderStarting.disconnect(changes_while_drawing)
    assert asked and not m._dirty and not m.canvas.isFrozen()


def test_no_text_on_the_wall_is_below_the_layouts_minimum(wall):
    """min_text_px is the smallest type on the wall (docs/wall.md): the tiles' deltas and the panels'
    data-age stamps were drawn at 0.8 of it (24 px on a 1080-line screen for a 30 px minimum)."""
    import re

    from qgis.PyQt.QtWidgets import QLabel

    least = wall.theme.px()
    for window in wall.screens:
        sizes = [int(m.group(1)) for label in window.findChildren(QLabel)
                 if (m := re.search(r"font-size: (\d+)px", label.styleSheet()))]
        assert sizes and min(sizes) >= least, sorted(sizes)[:5]


def test_a_delta_too_wide_for_its_tile_keeps_its_figure(qapp):
    """A delta wider than its tile (English at 1920×1080: 'vs yesterday ▼124') is cut on the left:
    the arrow and the figure at its end stay on screen."""
    from qgis.PyQt.QtGui import QImage

    from app.domain.wall import TILE_KEYS, Tile
    from app.ui.wall.widgets import Theme, TileWidget

    def tail(text: str) -> QImage:
        tile = TileWidget(Theme(30, 1080))
        tile.show_tile(Tile(key=TILE_KEYS[0], value=1, yesterday=125))
        tile.delta.setText(text)
        tile.resize(200, 200)
        tile.layout().activate()
        image = tile.delta.grab().toImage()
        assert 100 < image.width() < 200
        return image.copy(image.width() - 70, 0, 70, image.height())

    assert tail("vs same hour yesterday, a long caption ▼124") == tail("▼124")


def test_a_store_file_moved_away_under_a_live_wall_looks_stale_and_comes_back(qtbot, wall, desk_store):
    """The wall's open connections kept reading a SpatiaLite file moved away (or replaced by a
    restore): the wall showed its data as live ('更新于') with no file at the path. Now the feed
    goes offline, the wall goes stale, and it resyncs when the file is back."""
    wall.start(live=True)
    qtbot.waitUntil(lambda: wall.live is not None and wall.live.status.value == "online", timeout=10000)
    screen = wall.screens[0]
    path = desk_store.path
    desk_store.dispose()  # the workstation; the wall keeps its own connections open
    moved = path.with_suffix(".away")
    os.rename(path, moved)
    try:
        qtbot.waitUntil(lambda: wall.model.stale, timeout=10000)
        assert not screen.stale_banner.isHidden()
    finally:
        os.rename(moved, path)
    qtbot.waitUntil(lambda: not wall.model.stale, timeout=20000)
    assert screen.stale_banner.isHidden()
