"""FlatGeobuf under GDAL's limits (issue 15): a file with no feature is read to its end (GDAL 3.6's
columnar reader streams empty batches for ever from one), and an export whose rows lack a geometry
never reports rows that the format left out (GDAL 3.6's FlatGeobuf writer drops them silently)."""

from __future__ import annotations

import threading

import pytest
from osgeo import ogr

from app.services import base_import as bi
from app.store.models import Department
from services.test_base_import import component, count, write_layer
from services.world import build_world

ogr.UseExceptions()


@pytest.fixture
def world_store(store):
    build_world(store)
    return store


def _features(path) -> int:
    ds = ogr.Open(str(path))  # held while its layer is read (a layer outliving its dataset crashes GDAL)
    try:
        return ds.GetLayer(0).GetFeatureCount()
    finally:
        ds = None


def _within(seconds: float, fn):
    """fn() in a thread; its result, or a failure when it has not returned within ``seconds``."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still reading after {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_flatgeobuf_file_with_no_feature_is_read_to_its_end(world_store, tmp_path):
    # written with no geometry: GDAL 3.6 leaves both features out (a file with none); GDAL 3.10 refuses
    # them, and then the file is made with the fields and no feature
    empty = tmp_path / "none.fgb"
    try:
        write_layer(empty, [component("32059901002000002"), component("32059901002000003")], [None, None],
                    geom_type=ogr.wkbMultiPolygon)
    except RuntimeError:
        for leftover in tmp_path.glob("none.fgb*"):
            leftover.unlink()
        ds = ogr.GetDriverByName("FlatGeobuf").CreateDataSource(str(empty))
        lyr = ds.CreateLayer("components", None, ogr.wkbMultiPolygon)
        for name in component("32059901002000002"):
            lyr.CreateField(ogr.FieldDefn(name, ogr.OFTString))
        ds = lyr = None
    kept = _features(empty)
    one = write_layer(tmp_path / "one.fgb", [component("32059901002000002")], ["POINT(3 4)"])
    source = _within(60, lambda: bi.read_source(one, "components"))
    assert len(source.rows) == 1  # the same reader still reads a file that has features
    try:
        source = _within(60, lambda: bi.read_source(empty, "components"))
    except bi.ImportRefused:
        return  # refused with its reason is as good as read: what matters is that it ends
    assert len(source.rows) == kept


def test_an_export_never_reports_rows_the_format_left_out(world_store, tmp_path):
    departments = count(world_store, Department)
    target = tmp_path / "departments.fgb"
    try:
        written = bi.export(world_store, "departments", target)
    except bi.ImportRefused as exc:  # no feature without geometry in a FlatGeobuf file: refused before writing
        assert "没有几何" in str(exc) and "GeoPackage" in str(exc)
        assert not target.exists() and not list(tmp_path.glob(".departments.part*"))
    else:
        pytest.fail(f"{written} departments exported to FlatGeobuf, some without geometry")
    gpkg = tmp_path / "departments.gpkg"  # the formats the message names keep every row
    assert bi.export(world_store, "departments", gpkg) == departments
    assert _features(gpkg) == departments
