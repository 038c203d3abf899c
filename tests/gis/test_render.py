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


def _code_pixels(layer, scale, district) -> int:
    """How many grey grid-code text pixels the grid layer draws at 1:scale around a grid centre
    (the outlines are lighter: #c2c8d0 close up, #d9dce1 zoomed out)."""
    extent = extent_at_scale(QgsPointXY(*district.rel(150, 150)), scale, 400, 300)
    image = render_settings(map_settings([layer], extent, 400, 300))
    return sum(QColor(image.pixel(x, y)).red() < 170 for x in range(0, 400, 2) for y in range(0, 300, 2))


def test_grid_codes_appear_only_at_street_scale(map_layers, district):
    assert _code_pixels(map_layers.unit_grids, 2000, district) > 20
    assert _code_pixels(map_layers.unit_grids, 12000, district) == 0


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


def _labels_by_layer(layers, extent, width=400, height=300):
    """Placed labels of a render: layer id → label texts."""
    from qgis.core import QgsMapRendererParallelJob

    job = QgsMapRendererParallelJob(map_settings(layers, extent, width, height))
    job.start()
    job.waitForFinished()
    placed: dict[str, list[str]] = {}
    for label in job.takeLabelingResults().allLabels():
        placed.setdefault(label.layerID, []).append(label.labelText)
    return placed


def _one_case_layer(x, y):
    from app.gis.cases_layer import CaseLayerFeeder, new_case_layer
    from app.gis.layers import apply_style

    layer = new_case_layer()
    apply_style(layer, "cases")
    CaseLayerFeeder(layer).set_cases([(1, x, y, "red", "handling", "E0601202611219999")])
    return layer


def test_cases_and_grid_codes_stay_out_of_the_labelling_pass(map_layers, district):
    # Whatever the scale, neither cases nor grid codes register labels: a case change must not
    # invalidate the labels QGIS caches (it re-renders every labelled layer when one changes).
    centre = QgsPointXY(*district.rel(district.width / 2, district.height / 2))
    for scale in (2000, 4000, 8000):
        placed = _labels_by_layer(map_layers.top_down(), extent_at_scale(centre, scale, 900, 700), 900, 700)
        assert map_layers.cases.id() not in placed, scale
        assert map_layers.unit_grids.id() not in placed, scale


def test_a_case_is_drawn_over_the_grid_code_under_it(map_layers, district):
    cx, cy = district.rel(150, 150)
    covering = _one_case_layer(cx, cy - 6)  # just under the cell's centre, where its code is written
    settings = map_settings([covering, map_layers.unit_grids], extent_at_scale(QgsPointXY(cx, cy), 4000, 400, 300),
                            400, 300)
    assert is_red(_pixel(settings, render_settings(settings), cx, cy - 6))


def _dark_right_of(layer, x, y, scale) -> int:
    """Dark (text) pixels in a band right of (x, y) at 1:scale."""
    settings = map_settings([layer], extent_at_scale(QgsPointXY(x, y), scale, 300, 120), 300, 120)
    image = render_settings(settings)
    return sum(QColor(image.pixel(i, j)).red() < 110 for i in range(165, 300) for j in range(40, 80))


def test_case_numbers_only_close_up(district):
    x, y = district.rel(150, 150)
    layer = _one_case_layer(x, y)
    assert _dark_right_of(layer, x, y, 2000) > 30  # the number beside the circle
    assert _dark_right_of(layer, x, y, 5000) == 0


def _marker_width_px(layer, x, y, scale) -> int:
    """Width in pixels of what ``layer`` draws on the row through (x, y) at 1:scale."""
    settings = map_settings([layer], extent_at_scale(QgsPointXY(x, y), scale, 101, 101), 101, 101)
    image = render_settings(settings)
    return sum(QColor(image.pixel(i, 50)) != BACKGROUND for i in range(101))


def test_component_markers_grow_in_steps_when_zoomed_in(map_layers, district):
    x, y = district.rel(*district.components["01"])
    px_per_mm, outline = 96 / 25.4, 0.25  # markers carry a 0.25 mm white outline
    widths = {scale: _marker_width_px(map_layers.components, x, y, scale) for scale in (8000, 4000, 1500)}
    # 1:8,000 is thinned to a pale 0.9 mm dot without outline; closer, outlined markers.
    for scale, mm in ((8000, 0.9 - outline), (4000, 1.9), (1500, 2.4)):
        assert widths[scale] == pytest.approx((mm + outline) * px_per_mm, abs=1.6), (scale, widths)
    assert widths[8000] < widths[1500]
