"""The case layer feeder: open cases only, lights changed in place."""

from __future__ import annotations

import pytest

from app.domain.definitions import Light
from app.gis.cases_layer import CaseLayerFeeder, CaseRow, new_case_layer, read_open_cases

pytestmark = pytest.mark.qgis


def _lights(layer):
    return {f["number"]: f["light"] for f in layer.getFeatures()}


def test_only_open_cases_are_read(qgis_app, district_store, district):
    rows = read_open_cases(district_store)
    open_numbers = {n for n, (_x, _y, state, _l) in district.cases.items() if state != "closed"}
    assert {r.number for r in rows} == open_numbers
    assert all(r.light == "none" for r in rows)


def test_update_lights_changes_only_what_changed(qgis_app):
    layer = new_case_layer()
    feeder = CaseLayerFeeder(layer)
    feeder.set_cases([CaseRow(1, 10, 20, "green", "handling", "A1"),
                      (2, 30, 40, Light.YELLOW, "filed", "A2", "06001", "urgent")])
    assert layer.featureCount() == 2
    fid_before = feeder.feature_id(1)
    assert feeder.update_lights({1: Light.RED, 2: "yellow", 99: "red"}) == 1
    assert _lights(layer) == {"A1": "red", "A2": "yellow"}
    assert feeder.feature_id(1) == fid_before  # changed in place, not re-added
    assert feeder.update_lights({1: "red"}) == 0


def test_upsert_and_remove(qgis_app):
    layer = new_case_layer()
    feeder = CaseLayerFeeder(layer)
    feeder.set_cases([])
    feeder.upsert(CaseRow(5, 1, 2, "green", "handling", "N5"))
    feeder.upsert(CaseRow(5, 3, 4, "red", "handling", "N5"))
    assert layer.featureCount() == 1
    assert next(layer.getFeatures()).geometry().asPoint().x() == 3
    assert feeder.remove(5) and not feeder.remove(5)
    assert layer.featureCount() == 0


def test_an_unknown_light_is_refused(qgis_app):
    feeder = CaseLayerFeeder(new_case_layer())
    with pytest.raises(ValueError, match="purple"):
        feeder.set_cases([CaseRow(1, 0, 0, "purple", "handling", "X")])


def test_a_layer_without_case_fields_is_refused(qgis_app):
    from qgis.core import QgsVectorLayer

    with pytest.raises(ValueError, match="light"):
        CaseLayerFeeder(QgsVectorLayer("Point?crs=EPSG:4549&field=case_id:integer", "x", "memory"))
