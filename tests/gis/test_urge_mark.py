"""督办 on the map: an urged case is ringed in the mark's colour (thicker with its level), drawn by the
case's own symbol (no label: the case layer stays out of the labelling pass), kept up to date
from the queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from qgis.core import QgsPointXY
from qgis.PyQt.QtGui import QColor
from samples import case_row

from app.domain.calendar import WorkCalendar
from app.gis.case_sync import CaseLayerSync
from app.gis.cases_layer import CaseLayerFeeder, CaseRow, new_case_layer
from app.gis.export_styles import URGE_COLOUR
from app.gis.layers import apply_style
from app.gis.render import extent_at_scale, render_layers
from app.ui.queue_model import URGE_COLOUR as QUEUE_URGE_COLOUR
from app.views.queue_state import QueueState

pytestmark = pytest.mark.qgis
NOW = datetime(2026, 11, 20, 10, 30)
X, Y = 512400.0, 3466300.0
W, H, SCALE = 240, 120, 2000  # 1:2,000: 1 px ≈ 0.53 m at 96 dpi


def _ring_pixels(image, cx: int, cy: int, radius: int = 22) -> int:
    """How many pixels near (cx, cy) have the mark's colour."""
    mark = QColor(URGE_COLOUR)
    found = 0
    for x in range(max(0, cx - radius), min(image.width(), cx + radius)):
        for y in range(max(0, cy - radius), min(image.height(), cy + radius)):
            c = QColor(image.pixel(x, y))
            if abs(c.red() - mark.red()) + abs(c.green() - mark.green()) + abs(c.blue() - mark.blue()) < 60:
                found += 1
    return found


def _render(rows):
    layer = new_case_layer()
    apply_style(layer, "cases")
    CaseLayerFeeder(layer).set_cases(rows)
    return layer, render_layers([layer], extent_at_scale(QgsPointXY(X, Y), SCALE, W, H), W, H)


def test_an_urged_case_is_ringed_and_the_ring_grows_with_the_level(qgis_app):
    metres = SCALE * 0.0254 / 96  # per pixel
    left, right = (X - 30, Y), (X + 30, Y)
    px = [(int(W / 2 + (x - X) / metres), int(H / 2)) for x, _y in (left, right)]
    layer, image = _render([CaseRow(1, *left, "green", "handling", "A1", urge=3),
                            CaseRow(2, *right, "green", "handling", "A2", urge=0)])
    assert not layer.labelsEnabled()  # the mark is a symbol layer, not a label
    urged, plain = _ring_pixels(image, *px[0]), _ring_pixels(image, *px[1])
    assert urged > 40 and plain == 0, (urged, plain)
    _layer, weaker = _render([CaseRow(1, *left, "green", "handling", "A1", urge=1)])
    assert 0 < _ring_pixels(weaker, *px[0]) < urged
    assert URGE_COLOUR == QUEUE_URGE_COLOUR  # one mark colour on the map and in the lists


def test_the_layer_follows_an_urge_from_the_queue(qgis_app):
    layer = new_case_layer()
    state = QueueState(WorkCalendar())
    state.reset([case_row(1, NOW, started_minutes_ago=10), case_row(2, NOW, started_minutes_ago=10)], NOW)
    sync = CaseLayerSync(state, CaseLayerFeeder(layer))
    try:
        assert {f["case_id"]: f["urge"] for f in layer.getFeatures()} == {1: 0, 2: 0}
        row = state.summary(2)
        state.upsert(replace(row, urge_level=2, urge_count=1, version=row.version + 1), "urge")
        assert {f["case_id"]: f["urge"] for f in layer.getFeatures()} == {1: 0, 2: 2}
    finally:
        sync.close()


@pytest.fixture(scope="module")
def urged_city(tmp_path_factory):
    """A generated tiny demo store with two open cases urged (3 级 and 1 级) through the service."""
    from sqlalchemy import text

    from app.core import build_core
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.services.actors import Actor
    from app.store.engine import open_store
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("urged") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=NOW)
    store = open_store(path)
    try:
        with store.engine.connect() as conn:
            leader = conn.execute(text("SELECT username FROM users WHERE role = 'leader' LIMIT 1")).scalar_one()
            ids = [r[0] for r in conn.execute(text(
                "SELECT id FROM cases WHERE state IN ('dispatched', 'handling') AND urge_level = 0 "
                "ORDER BY id DESC LIMIT 2"))]
        core = build_core(store, FixedClock(NOW))
        boss = Actor(leader, "领导", Role.LEADER)
        for case_id, level in zip(ids, (3, 1), strict=True):
            core.cases.urge(boss, case_id, core.cases.get(case_id).version, level=level, note="尽快")
    finally:
        store.dispose()
    return path, ids


@pytest.mark.parametrize(("role", "first"), [("dispatcher", True), ("leader", False)])
def test_the_desk_puts_urged_cases_first_for_the_dispatcher_only(qtbot, qgis_app, urged_city, tmp_path, role,
                                                                 first):
    import shutil

    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.services.actors import Actor
    from app.store.engine import open_store

    source, (top, second) = urged_city
    path = tmp_path / "hall.sqlite"
    shutil.copyfile(source, path)
    store = open_store(path)
    hall = build_hall(store, clock=FixedClock(NOW), plugins=False, live=False, actor=Actor("x", "某人", Role(role)),
                      settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    try:
        hall.controller.start()
        qtbot.waitUntil(lambda: len(hall.state.rows) > 2, timeout=20000)
        assert hall.state.urged_first is first
        levels = [hall.state.summary(i).urge_level for i in hall.state.visible_ids]
        assert levels.count(0) and len(levels) - levels.count(0) >= 2
        # the dispatcher: 3 级, then 2 级, then 1 级, then the rest; the leader: the time order alone
        assert (levels == sorted(levels, reverse=True)) is first
        layer = hall.map_view.layers.feeder.layer
        marks = {f["case_id"]: f["urge"] for f in layer.getFeatures() if f["urge"]}
        assert marks.get(top) == 3 and marks.get(second) == 1
    finally:
        hall.teardown()
