"""The map layers over a real store: valid, complete, in EPSG:4549, styled from the QML files."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.gis.layers import LAYER_NAMES, STYLES_DIR, LayerError, apply_style, build_layers

pytestmark = pytest.mark.qgis

STORE_TABLES = ["roads", "admin_areas", "unit_grids", "components"]


def test_layers_over_both_backends_match_the_database(qgis_app, store, district):
    district.fill(store)
    layers = build_layers(store).by_key()
    with store.engine.connect() as conn:
        for table in STORE_TABLES:
            layer = layers[table]
            assert layer.isValid(), table
            assert layer.name() == LAYER_NAMES[table]
            assert layer.crs().authid() == "EPSG:4549"
            expected = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            assert expected > 0
            assert layer.featureCount() == expected, table
            assert sum(1 for _ in layer.getFeatures()) == expected, table


def test_every_layer_loads_its_shipped_style(map_layers):
    for table, layer in map_layers.by_key().items():
        assert (STYLES_DIR / f"{table}.qml").is_file()
        assert layer.renderer() is not None, table
    # Components: by major category 01–05 (full markers close up, pale dots further out), hidden
    # when zoomed out beyond 1:10,000.
    comp = map_layers.components
    filters = [r.filterExpression() for r in comp.renderer().rootRule().descendants() if r.filterExpression()]
    assert sorted({f.split("'")[1] for f in filters}) == ["01", "02", "03", "04", "05"]
    assert len(filters) == 10
    assert comp.isInScaleRange(5000) and comp.isInScaleRange(9000) and not comp.isInScaleRange(12000)
    # Cases: one symbol per light, drawn red last (on top).
    cases = map_layers.cases.renderer()
    assert {c.value() for c in cases.categories()} == {"red", "yellow", "green", "none"}
    assert cases.orderByEnabled()


def test_grid_codes_are_drawn_by_the_grid_symbol_not_labelled(map_layers):
    from qgis.core import QgsSymbolLayer

    grids = map_layers.unit_grids
    assert not grids.labelsEnabled()  # out of the shared labelling pass
    layers = [layer for rule in grids.renderer().rootRule().descendants() if rule.symbol()
              for layer in rule.symbol().symbolLayers() if layer.layerType() == "GeometryGenerator"]
    assert len(layers) == 1
    enabled = layers[0].dataDefinedProperties().property(QgsSymbolLayer.PropertyLayerEnabled)
    assert enabled.isActive() and "6000" in enabled.expressionString()


def test_the_case_layer_takes_no_part_in_labelling(map_layers):
    assert not map_layers.cases.labelsEnabled()
    assert map_layers.cases.labeling() is None or not map_layers.cases.labelsEnabled()


def test_component_major_comes_from_the_standard_code(map_layers):
    majors = {f["code"][6:8] for f in map_layers.components.getFeatures()}
    assert majors == {"01", "02", "03", "04", "05"}


def test_a_missing_style_says_which_file(qgis_app, tmp_path):
    from app.gis.cases_layer import new_case_layer

    with pytest.raises(LayerError, match="cases.qml"):
        apply_style(new_case_layer(), "cases", styles_dir=tmp_path)


def test_a_missing_table_is_a_clear_error(qgis_app, district_store):
    from app.gis.layers import store_layer

    with pytest.raises(LayerError, match="no_such_table"):
        store_layer(district_store, "no_such_table", style="roads")


def test_store_layers_read_through_the_spatial_index(map_layers):
    # Panning fetches only what the view shows: the provider must see the R*Tree indexes
    # the migration creates (a lost index turns every render into a full table scan).
    from qgis.core import QgsFeatureSource

    for table in STORE_TABLES:
        provider = map_layers.by_key()[table].dataProvider()
        assert provider.hasSpatialIndex() == QgsFeatureSource.SpatialIndexPresent, table


def test_layer_names_follow_the_interface_language(district_store):
    from app.gis.layers import build_layers
    from app.i18n import Catalogue

    layers = build_layers(district_store, Catalogue("en").tr)
    try:
        names = [layer.name() for layer in layers.top_down()]
    finally:
        for layer in layers.top_down():
            layer.deleteLater()
    assert names == ["Cases", "Component", "Street/community", "Grid cell", "Roads"]
