"""MapView: identify by clicking, zoom to a case, layer tree, render-wait."""

from __future__ import annotations

import pytest
from qgis.core import QgsPointXY
from qgis.PyQt.QtCore import QPoint, Qt

from app.gis.canvas import format_scale

pytestmark = pytest.mark.qgis


def _click(qtbot, view, x, y):
    p = view.canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    with qtbot.waitSignal(view.identified, timeout=3000) as blocker:
        qtbot.mouseClick(view.canvas.viewport(), Qt.LeftButton, pos=QPoint(round(p.x()), round(p.y())))
    return blocker.args


def test_layers_and_crs(view):
    assert view.canvas.mapSettings().destinationCrs().authid() == "EPSG:4549"
    names = [layer.name() for layer in view.canvas.layers()]
    assert names == ["案卷", "部件", "街道/社区", "单元网格", "道路"]
    grids = view.layers.unit_grids.extent()
    assert view.canvas.extent().contains(grids)


def test_click_identifies_case_before_component_before_grid(qtbot, view, district):
    number = next(n for n, (_x, _y, _s, light) in district.cases.items() if light == "red")
    x, y, _state, _light = district.cases[number]
    kind, attrs = _click(qtbot, view, *district.rel(x, y))
    assert kind == "case" and attrs["number"] == number and attrs["light"] == "red"

    view.zoom_to_case(*district.rel(*district.components["02"]), scale=4000, flash=False)
    assert view.wait_rendered(15000)
    kind, attrs = _click(qtbot, view, *district.rel(*district.components["02"]))
    assert kind == "component" and attrs["code"][6:8] == "02"

    kind, attrs = _click(qtbot, view, *district.rel(140, 160))  # an empty spot in a grid
    assert kind == "grid" and len(attrs["code"]) == 15


def test_zoom_to_case_centres_at_scale_and_flashes(view, district):
    x, y = district.rel(525, 75)
    view.zoom_to_case(x, y, scale=2000)
    assert view.scale() == pytest.approx(2000, rel=0.01)
    centre = view.canvas.center()
    assert centre.x() == pytest.approx(x, abs=1) and centre.y() == pytest.approx(y, abs=1)
    assert view.scale_text() == "1:2,000"


def test_following_the_current_case_moves_the_map_only_when_it_must(view, district):
    from qgis.core import QgsRectangle

    x, y = district.rel(525, 75)
    assert view.follow_case(x, y, scale=2000)  # from the whole district: zoomed to the case
    assert view.scale() == pytest.approx(2000, rel=0.01)
    assert view.wait_rendered(15000)
    extent = QgsRectangle(view.canvas.extent())
    # a case well inside the view: the ring moves there, the map stays (no new render of every layer)
    nx, ny = x + extent.width() * 0.2, y - extent.height() * 0.2
    assert not view.follow_case(nx, ny, scale=2000)
    assert view.canvas.extent() == extent
    point = view.highlight_point()
    assert (point.x(), point.y()) == (nx, ny)
    # one in the outer band of the view, or beyond it: re-centred on it
    ex = x + extent.width() * 0.45
    assert view.follow_case(ex, y, scale=2000)
    assert view.canvas.center().x() == pytest.approx(ex, abs=1)
    # zoomed far out: the case is inside the view, yet the map zooms in to it
    view.canvas.zoomScale(20000)
    assert view.follow_case(ex, y, scale=2000)
    assert view.scale() == pytest.approx(2000, rel=0.01)


def test_hiding_a_layer_in_the_tree_hides_it_on_the_canvas(qtbot, view):
    tree = view.make_layer_tree()
    node = view.project.layerTreeRoot().findLayer(view.layers.cases.id())
    node.setItemVisibilityChecked(False)
    # The bridge updates the canvas on the next event-loop turn.
    qtbot.waitUntil(lambda: view.layers.cases not in view.canvas.layers(), timeout=3000)
    assert tree.layerTreeModel().rowCount() == 5
    tree.deleteLater()


def test_render_to_image_matches_the_canvas_view(view, district):
    image = view.render_to_image(400, 300)
    assert (image.width(), image.height()) == (400, 300)
    assert not image.isNull()


def test_format_scale():
    assert format_scale(5000.4) == "1:5,000"
    assert format_scale(0) == "1:—"


def test_flash_point_rings_the_spot(view, district):
    from app.gis.flash import flash_point

    x, y = district.rel(525, 75)
    disc = flash_point(view.canvas, x, y, radius_px=10)
    centre = disc.centroid().asPoint()
    assert centre.x() == pytest.approx(x, abs=0.5) and centre.y() == pytest.approx(y, abs=0.5)
    assert disc.boundingBox().width() == pytest.approx(20 * view.canvas.mapUnitsPerPixel(), rel=0.05)


def _is_magenta(c) -> bool:
    # Antialiased ring edges are paler; nothing else on the map is this hue.
    return c.red() > 150 and c.blue() > 100 and c.green() < min(c.red(), c.blue()) - 60


def _ring_pixels(view, x, y):
    """Colours on the ring's circle (N, S, E, W of the point) in a grab of the canvas."""
    from app.gis.flash import HIGHLIGHT_DIAMETER_PX

    radius_px = (HIGHLIGHT_DIAMETER_PX - 1) // 2
    image = view.canvas.viewport().grab().toImage()
    p = view.canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    cx, cy = round(p.x()), round(p.y())
    return [image.pixelColor(cx + dx, cy + dy) for dx, dy in
            ((radius_px, 0), (-radius_px, 0), (0, radius_px), (0, -radius_px))]


def test_zoom_to_case_rings_the_case_until_cleared(view, district):
    from app.gis.flash import HIGHLIGHT_COLOUR

    x, y = district.rel(*district.cases["E0601202611210003"][:2])
    view.zoom_to_case(x, y, scale=2000, flash=False)
    assert view.wait_rendered(15000)
    point = view.highlight_point()
    assert point is not None and (point.x(), point.y()) == (x, y)
    assert _is_magenta(HIGHLIGHT_COLOUR)
    assert all(_is_magenta(c) for c in _ring_pixels(view, x, y)), "no ring around the selected case"

    # Selecting another case moves the ring; the old spot is left clean.
    x2, y2 = district.rel(*district.cases["E0601202611210001"][:2])
    view.zoom_to_case(x2, y2, scale=2000, flash=False)
    assert view.wait_rendered(15000)
    assert all(_is_magenta(c) for c in _ring_pixels(view, x2, y2))
    view.canvas.setCenter(QgsPointXY((x + x2) / 2, (y + y2) / 2))
    view.canvas.zoomScale(8000)
    assert view.wait_rendered(15000)
    ring = _ring_pixels(view, x2, y2)
    assert all(_is_magenta(c) for c in ring), ("the ring must follow a zoom", [c.name() for c in ring])
    assert not any(_is_magenta(c) for c in _ring_pixels(view, x, y))

    view.clear_highlight()
    assert view.highlight_point() is None
    assert view.wait_rendered(15000)
    assert not any(_is_magenta(c) for c in _ring_pixels(view, x2, y2))


def test_zoom_without_highlight_leaves_no_ring(view, district):
    x, y = district.rel(525, 75)
    view.zoom_to_case(x, y, scale=2000, flash=False, highlight=False)
    assert view.wait_rendered(15000)
    assert view.highlight_point() is None
    assert not any(_is_magenta(c) for c in _ring_pixels(view, x, y))
