"""Render the district and sample pixels: cases show their light, the basemap its colour."""

from __future__ import annotations

import pytest
from qgis.core import QgsPointXY, QgsRectangle
from qgis.PyQt.QtGui import QColor

from app.gis.render import BACKGROUND, extent_at_scale, map_settings, render_settings

pytestmark = pytest.mark.qgis
W, H = 900, 700


def _render(layers, extent):
    settings = map_settings(layers, extent, W, H)
    return settings, render_settings(settings)


def _pixel(settings, image, x, y) -> QColor:
    p = settings.mapToPixel().transform(QgsPointXY(x, y))
    return QColor(image.pixel(round(p.x()), round(p.y())))


def _district_extent(district) -> QgsRectangle:
    (x1, y1), (x2, y2) = district.rel(-60, -60), district.rel(district.width + 60, district.height + 60)
    return QgsRectangle(x1, y1, x2, y2)


def is_red(c: QColor) -> bool:
    return c.red() > 170 and c.green() < 90 and c.blue() < 80


def is_yellow(c: QColor) -> bool:
    return c.red() > 200 and c.green() > 140 and c.blue() < 80


def is_green(c: QColor) -> bool:
    return c.green() > c.red() + 50 and c.green() > c.blue() + 40


def test_cases_render_in_their_light_colour(map_layers, district):
    settings, image = _render(map_layers.top_down(), _district_extent(district))
    checks = {"red": is_red, "yellow": is_yellow, "green": is_green}
    for _number, (x, y, state, light) in district.cases.items():
        colour = _pixel(settings, image, *district.rel(x, y))
        if state == "closed":
            assert not any(check(colour) for check in checks.values()), colour.name()
        else:
            assert checks[light](colour), f"{light} case drawn as {colour.name()}"


def test_background_is_the_basemap_colour_away_from_features(map_layers, district):
    settings, image = _render(map_layers.top_down(), _district_extent(district))
    assert _pixel(settings, image, *district.rel(-30, -30)) == BACKGROUND


def test_a_light_change_recolours_one_case_in_the_next_render(map_layers, district):
    feature = next(f for f in map_layers.cases.getFeatures() if f["light"] == "red")
    red_id, red = feature["case_id"], feature.geometry().asPoint()
    extent = _district_extent(district)
    settings, before = _render(map_layers.top_down(), extent)
    assert is_red(_pixel(settings, before, red.x(), red.y()))
    assert map_layers.feeder.update_lights({red_id: "green"}) == 1
    settings, after = _render(map_layers.top_down(), extent)
    assert is_green(_pixel(settings, after, red.x(), red.y()))


def _label_pixels(layer, scale, district) -> int:
    """How many pixels the grid layer's labels change at 1:scale around a grid centre."""
    extent = extent_at_scale(QgsPointXY(*district.rel(150, 150)), scale, 400, 300)
    with_labels = render_settings(map_settings([layer], extent, 400, 300))
    layer.setLabelsEnabled(False)
    try:
        without = render_settings(map_settings([layer], extent, 400, 300))
    finally:
        layer.setLabelsEnabled(True)
    return sum(with_labels.pixel(x, y) != without.pixel(x, y) for x in range(0, 400, 2)
               for y in range(0, 300, 2))


def test_grid_codes_appear_only_at_street_scale(map_layers, district):
    assert _label_pixels(map_layers.unit_grids, 2000, district) > 20
    assert _label_pixels(map_layers.unit_grids, 12000, district) == 0


def test_components_vanish_when_zoomed_out(map_layers, district):
    x, y = district.rel(*district.components["01"])
    layers = [map_layers.components]
    near = extent_at_scale(QgsPointXY(x, y), 5000, 200, 200)
    far = extent_at_scale(QgsPointXY(x, y), 30000, 200, 200)
    s_near, img_near = render_settings_pair(layers, near)
    s_far, img_far = render_settings_pair(layers, far)
    assert _pixel(s_near, img_near, x, y) != BACKGROUND
    assert _pixel(s_far, img_far, x, y) == BACKGROUND


def render_settings_pair(layers, extent):
    settings = map_settings(layers, extent, 200, 200)
    return settings, render_settings(settings)


def test_red_is_drawn_over_green_whatever_the_feed_order(qgis_app, district):
    from app.gis.cases_layer import CaseLayerFeeder, new_case_layer
    from app.gis.layers import apply_style

    layer = new_case_layer()
    apply_style(layer, "cases")
    x, y = district.rel(400, 300)
    feeder = CaseLayerFeeder(layer)
    extent = extent_at_scale(QgsPointXY(x, y), 2000, 200, 200)
    for order in (["red", "yellow", "green"], ["green", "yellow", "red"]):
        feeder.set_cases([(i, x, y, light, "handling", f"N{i}") for i, light in enumerate(order)])
        settings = map_settings([layer], extent, 200, 200)
        assert is_red(_pixel(settings, render_settings(settings), x, y)), order
