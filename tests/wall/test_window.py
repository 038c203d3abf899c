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
