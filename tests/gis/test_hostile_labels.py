"""Map labels show names from the data as text, never markup.

Road, street, community, grid and case names come from imports and, later, from strangers. QGIS
renders a label as HTML only when its text format allows it: every style keeps that off, and a
road named ``<font color="red" size="6">…</font>`` renders in the style's grey (a positive control
with HTML allowed shows the red).
"""

from __future__ import annotations

import re

import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsRuleBasedLabeling, QgsVectorLayer

from app.gis.layers import STYLES_DIR, apply_style
from app.gis.render import extent_at_scale, render_layers

pytestmark = pytest.mark.qgis

HOSTILE = '<font color="red" size="6">RED-BIG</font><a href="x">A</a>'
X, Y = 512400.0, 3466300.0
W, H = 640, 120
#: style → memory layer geometry and fields
LAYERS = {
    "roads": "LineString?field=name:string&field=kind:string",
    "admin_areas": "Polygon?field=name:string&field=level:string&field=code:string",
    "unit_grids": "Polygon?field=code:string",
    "components": "Point?field=code:string&field=status:string&field=major_code:string",
    "cases": "Point?field=case_id:integer&field=number:string&field=light:string&field=state:string",
}


def _layer(style: str) -> QgsVectorLayer:
    layer = QgsVectorLayer(f"{LAYERS[style]}&crs=EPSG:4549", style, "memory")
    assert layer.isValid()
    apply_style(layer, style)
    return layer


def _label_settings(layer: QgsVectorLayer) -> list:
    labeling = layer.labeling()
    if labeling is None:
        return []
    if isinstance(labeling, QgsRuleBasedLabeling):
        return [rule.settings() for rule in labeling.rootRule().descendants() if rule.settings() is not None]
    return [labeling.settings()]


def test_every_style_keeps_html_labels_off(qgis_app):
    for qml in sorted(STYLES_DIR.glob("*.qml")):
        flags = re.findall(r'allowHtml="(\d)"', qml.read_text(encoding="utf-8"))
        assert set(flags) <= {"0"}, qml.name
    checked = 0
    for style in LAYERS:
        layer = _layer(style)  # held while its labeling's settings are read: they belong to it (trixie aborted)
        for settings in _label_settings(layer):
            assert not settings.format().allowHtmlFormatting(), style
            checked += 1
        del layer
    assert checked >= 3  # roads, streets, communities (grid codes and case numbers are font markers)


def _road(name: str) -> QgsVectorLayer:
    layer = _layer("roads")
    feature = QgsFeature(layer.fields())
    feature.setGeometry(QgsGeometry.fromPolylineXY([QgsPointXY(X - 300, Y), QgsPointXY(X + 300, Y)]))
    feature.setAttributes([name, "main"])
    assert layer.dataProvider().addFeatures([feature])[0]
    layer.updateExtents()
    return layer


def _pixels(image) -> tuple[int, int]:
    """(pure red pixels, dark label-text pixels) in ``image``."""
    red = text = 0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixel(x, y)
            r, g, b = (pixel >> 16) & 255, (pixel >> 8) & 255, pixel & 255
            red += r >= 200 and g <= 60 and b <= 60
            text += r <= 110 and g <= 110 and b <= 120
    return red, text


def test_a_road_named_with_markup_is_labelled_as_text(qgis_app):
    extent = extent_at_scale(QgsPointXY(X, Y), 4000, W, H)
    layer = _road(HOSTILE)
    red, text = _pixels(render_layers([layer], extent, W, H))
    assert red == 0 and text > 100  # the label is drawn, in the style's grey, tags and all
    # positive control: the same label with HTML allowed would be red
    labeling = layer.labeling().clone()
    settings = labeling.settings()
    fmt = settings.format()
    fmt.setAllowHtmlFormatting(True)
    settings.setFormat(fmt)
    labeling.setSettings(settings)
    layer.setLabeling(labeling)
    red, _text = _pixels(render_layers([layer], extent, W, H))
    assert red > 20
