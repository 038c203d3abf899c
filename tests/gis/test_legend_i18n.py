"""The legend follows the interface language: the QML styles' labels go through the catalogue."""

from __future__ import annotations

import re

import pytest

from app.gis.layers import build_layers, legend_labels
from app.i18n import Catalogue

pytestmark = pytest.mark.qgis

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_legend_labels_are_translated_for_english(qgis_app, district_store):
    layers = build_layers(district_store, Catalogue("en").tr)
    labels = {key: legend_labels(layer) for key, layer in layers.by_key().items()}
    assert labels["cases"] == ["Red", "Yellow", "Green", "No timer"]
    assert "Expressway" in labels["roads"] and "Grid cell" in labels["unit_grids"]
    assert "Street boundary" in labels["admin_areas"]
    assert [text for texts in labels.values() for text in texts if HAN.search(text)] == []


def test_chinese_legend_keeps_the_style_labels(qgis_app, district_store):
    layers = build_layers(district_store, Catalogue().tr)
    assert legend_labels(layers.cases) == ["红灯", "黄灯", "绿灯", "无计时"]
    assert "快速路" in legend_labels(layers.roads)
