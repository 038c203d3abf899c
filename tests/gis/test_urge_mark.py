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
