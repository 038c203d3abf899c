"""Base data in and out against hostile input (issue 15, an independent tester's findings): a reject
file never replaces an existing file (the source, the store, an earlier report) and is checked before
anything is read; an export never replaces the store's own file; unwritable places are one refusal; a
spreadsheet's reject file is a spreadsheet; an unknown .cpg is one refusal; the one input policy
(app/domain/text.py) holds for imported names, notes and case numbers; a cancelled write takes its
reject file back. Real files written by GDAL/OGR and openpyxl, both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from osgeo import ogr

from app.domain.base_rows import component_row, department_row, road_row
from app.domain.taxonomy import Taxonomy
from app.services import base_cases
from app.services import base_import as bi
from app.store.models import Component, UnitGrid
from services.test_base_import import P6, component, count, point, write_layer
from services.world import build_world

ogr.UseExceptions()


@pytest.fixture
def world_store(store):
    build_world(store)
    return store


def _bad_and_good(path: Path) -> Path:
    """One good component and one with an invalid status."""
    return write_layer(path, [component("32059901002000002"), component("32059901002000003", GLBJZT="坏了")],
                       [point(P6)] * 2)


def test_a_reject_file_never_replaces_the_source_or_another_file(world_store, tmp_path):
    source = _bad_and_good(tmp_path / "c.gpkg")
    before = source.read_bytes()
    other = tmp_path / "keep.gpkg"
    other.write_bytes(b"precious")
    for rejects in (source, other):
        with pytest.raises(bi.ImportRefused, match="已存在"):
            bi.import_file(world_store, source, "components", on_error="skip", rejects=str(rejects))
    assert source.read_bytes() == before and other.read_bytes() == b"precious"
    assert count(world_store, Component) == 1  # refused before anything was written


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_the_default_reject_file_takes_a_free_name(world_store, tmp_path, suffix):
    source = _bad_and_good(tmp_path / f"c{suffix}")
    first = bi.import_file(world_store, source, "components", on_error="skip")
    assert first.rejects_path == tmp_path / f"c_rejects{suffix}" and first.written == 1
    kept = first.rejects_path.read_bytes()
    stored = count(world_store, Component)
    second = bi.import_file(world_store, source, "components", on_error="skip")  # both rows bad now
    assert second.rejects_path == tmp_path / f"c_rejects_2{suffix}" and second.written == 0
    assert first.rejects_path.read_bytes() == kept and count(world_store, Component) == stored


def test_the_store_itself_is_never_a_reject_file(world_store, tmp_path):
    if world_store.path is None:
        pytest.skip("a SpatiaLite store is a file")
    source = _bad_and_good(tmp_path / "c.gpkg")
    with pytest.raises(bi.ImportRefused, match="已存在"):
        bi.import_file(world_store, source, "components", on_error="skip", rejects=str(world_store.path))
    assert count(world_store, Component) == 1 and count(world_store, UnitGrid) > 0


def test_an_export_never_replaces_the_store(world_store, tmp_path):
    if world_store.path is None:
        pytest.skip("a SpatiaLite store is a file")
    grids = count(world_store, UnitGrid)
    for target, fmt in ((world_store.path, "gpkg"), (world_store.path, "csv"),
                        (Path(f"{world_store.path}-wal"), "csv"), (world_store.path, "shp"),
                        (world_store.path, "xlsx")):
        with pytest.raises(bi.ImportRefused, match="数据库文件"):
            bi.export(world_store, "grids", target, fmt)
    assert count(world_store, UnitGrid) == grids


def test_unwritable_places_are_one_refusal_before_anything_is_written(world_store, tmp_path):
    source = _bad_and_good(tmp_path / "c.gpkg")
    with pytest.raises(bi.ImportRefused, match="不存在"):
        bi.import_file(world_store, source, "components", on_error="skip", rejects=str(tmp_path / "no" / "r.gpkg"))
    (tmp_path / "d.gpkg").mkdir()
    with pytest.raises(bi.ImportRefused, match="是目录"):
        bi.import_file(world_store, source, "components", on_error="skip", rejects=str(tmp_path / "d.gpkg"))
    assert count(world_store, Component) == 1
    with pytest.raises(bi.ImportRefused, match="不存在"):
        bi.export(world_store, "grids", tmp_path / "no" / "g.gpkg")
    with pytest.raises(bi.ImportRefused, match="是目录"):
        bi.export(world_store, "grids", tmp_path / "d.gpkg")
    assert not list((tmp_path).glob(".*part*"))


def test_a_spreadsheets_reject_file_is_a_spreadsheet(world_store, tmp_path):
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "部件"
    ws.append(["X", "Y", "GLBJBSM", "GLBJMC", "SZDYWGBSM", "GLBJZT"])
    ws.append([P6[0], P6[1], "32059901002000002", "井盖", "320599001001006", "完好"])
    ws.append([P6[0], P6[1], "32059901002000003", "井盖", "320599001001006", "坏了"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    report = bi.import_file(world_store, path, "components", on_error="skip", source_crs=4549, tr=_english)
    assert report.written == 1 and report.source.driver == "XLSX"
    assert report.rejects_path == tmp_path / "c_rejects.xlsx"
    rows = list(load_workbook(report.rejects_path).active.iter_rows(values_only=True))
    assert rows[0] == ("X", "Y", "GLBJBSM", "GLBJMC", "SZDYWGBSM", "GLBJZT", "REASON")
    assert rows[1][2] == "32059901002000003" and "invalid" in rows[1][-1] and len(rows) == 2


def _english(msg) -> str:
    from app.i18n import Catalogue

    return Catalogue("en").tr(msg)


def test_reject_reasons_in_the_users_language(world_store, tmp_path):
    source = _bad_and_good(tmp_path / "c.geojson")
    report = bi.import_file(world_store, source, "components", on_error="skip", tr=_english)
    ds = ogr.Open(str(report.rejects_path))
    reasons = [f.GetField("REASON") for f in ds.GetLayer(0)]
    assert len(reasons) == 1 and reasons[0].startswith("Component status '坏了' is invalid")


def test_a_cancelled_write_takes_its_reject_file_back(world_store, tmp_path):
    source = _bad_and_good(tmp_path / "c.gpkg")

    def cancel(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bi.import_file(world_store, source, "components", on_error="skip", progress=cancel)
    assert count(world_store, Component) == 1 and not (tmp_path / "c_rejects.gpkg").exists()


def test_an_unknown_cpg_encoding_is_one_refusal(world_store, tmp_path):
    shp = write_layer(tmp_path / "c.shp", [component("32059901002000002")], [point(P6)], geom_type=ogr.wkbPoint)
    shp.with_suffix(".cpg").write_text("WHATEVER-ENC")
    with pytest.raises(bi.ImportRefused, match=r"\.cpg.*whatever-enc"):
        bi.read_source(shp, "components")
    assert bi.read_source(shp, "components", encoding="utf-8").rows[0].ok  # --encoding overrides it


def test_a_shapefile_export_to_a_name_with_glob_characters(world_store, tmp_path):
    target = tmp_path / "grids[1].shp"
    n = bi.export(world_store, "grids", target)
    ds = ogr.Open(str(target))  # held while its layer is read (a layer outliving its dataset crashes GDAL)
    assert n > 0 and ds.GetLayer(0).GetFeatureCount() == n
    ds = None
    assert not list(tmp_path.glob(".*"))


# -- the one input policy (app/domain/text.py) for imported text --------------------------------------


def _problems(row) -> str:
    return "；".join(str(m) for m in row.problems)


def test_imported_component_text_passes_the_input_policy():
    from datetime import date

    from app.domain.base_rows import component_rows

    tax, today = Taxonomy.load(), date(2026, 12, 1)
    cases = {"name": ("井盖\x1b[31m", "U+001B"), "note": ("x" * 100_000, "1,000"), "data_source": ("实\x07测", "U+0007"),
             "legacy_code": ("1234567890123456789", "最多 16")}
    for key, (value, said) in cases.items():
        slow = component_row(1, {"code": "32059901002000002", key: value}, tax, today)
        assert said in _problems(slow), (key, slow.problems)
        fast = component_rows({"code": ["32059901002000002"], key: [value]}, 1, tax, today)[0]
        assert said in _problems(fast), (key, fast.problems)
    rlo = component_row(1, {"code": "32059901002000002", "name": "\u202e井盖"}, tax, today)
    assert "U+202E" in _problems(rlo)
    fine = component_rows({"code": ["32059901002000002"], "name": ["井盖😀"], "note": ["一行\n二行"]}, 1, tax, today)[0]
    assert fine.ok and fine.values["name"] == "井盖😀" and fine.values["note"] == "一行\n二行"


def test_imported_road_department_and_case_text_passes_the_input_policy():
    from datetime import date

    assert "U+202E" in _problems(road_row(1, {"name": "\u202e人民路"}))
    assert "U+001B" in _problems(department_row(1, {"code": "X1", "name": "城管\x1b局"}))
    case = base_cases.case_row(1, {"number": "A\x07B", "category_code": "01001", "description": "井盖丢失",
                                   "reported_at": "2025-01-01 08:00:00", "state": "不予立案"},
                               Taxonomy.load(), date(2026, 12, 1))
    assert "U+0007" in _problems(case)


def test_a_hostile_code_is_named_not_echoed_in_the_report(world_store, tmp_path):
    road = "路" * 100_000
    path = write_layer(tmp_path / "r.gpkg", [{"DLMC": road}], ["LINESTRING(0 0, 10 10)"])
    report = bi.validate(world_store, bi.read_source(path, "roads"))
    text = report.text()
    assert not report.ok and len(text) < 2000 and "路" * 40 + "…" in text


def test_unusable_coordinate_systems_are_one_refusal(world_store, tmp_path):
    from osgeo import osr

    shp = write_layer(tmp_path / "c.shp", [component("32059901002000002")], [point(P6)], geom_type=ogr.wkbPoint)
    shp.with_suffix(".prj").write_text('PROJCS["nonsense",GARBAGE')
    with pytest.raises(bi.ImportRefused, match="坐标系无法识别"):
        bi.read_source(shp, "components")
    assert bi.read_source(shp, "components", source_crs=4549).rows[0].ok  # --source-crs overrides it
    local = tmp_path / "l.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(local))
    srs = osr.SpatialReference()
    srs.SetLocalCS("a surveyor's local grid")
    lyr = ds.CreateLayer("l", srs, ogr.wkbPoint)
    lyr.CreateField(ogr.FieldDefn("GLBJBSM", ogr.OFTString))
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetField("GLBJBSM", "32059901002000002")
    f.SetGeometry(ogr.CreateGeometryFromWkt(point(P6)))
    lyr.CreateFeature(f)
    ds = None
    with pytest.raises(bi.ImportRefused, match="无法转换到 EPSG:4549"):
        bi.read_source(local, "components")
    with pytest.raises(bi.ImportRefused, match="EPSG:999999999999 未知"):
        bi.read_source(shp, "components", source_crs=999_999_999_999)


def test_a_historical_case_from_before_digital_urban_management_makes_no_sense():
    from datetime import date

    times = {"reported_at": "1900-01-01 08:00:00", "filed_at": "1900-01-01 08:10:00",
             "dispatched_at": "1900-01-01 08:20:00", "fed_back_at": "1900-01-01 09:00:00",
             "closed_at": "1900-01-01 10:00:00"}
    row = base_cases.case_row(1, {"number": "H-1", "category_code": "01001", "description": "井盖丢失",
                                  "department_code": "SZ", **times}, Taxonomy.load(), date(2026, 12, 1))
    assert "不合理：应在 1990-01-01 之后" in _problems(row)
    long = base_cases.case_row(1, {"number": "H-2", "category_code": "01001", "description": "长" * 100_000,
                                   "department_code": "SZ", **{k: v.replace("1900", "2025") for k, v in times.items()}},
                               Taxonomy.load(), date(2026, 12, 1))
    assert _problems(long) == "问题描述共 100,000 字，超过 2,000 字上限"  # (not also "问题描述为空")


def test_gdals_common_reasons_in_the_users_words(world_store, tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(bi.ImportRefused) as refused:
        bi.read_source(empty, "components")
    assert str(refused.value.msg) == f"无法读取 {empty}：格式无法识别"
    good = write_layer(tmp_path / "g.gpkg", [component("32059901002000002")], [point(P6)])
    broken = tmp_path / "b.gpkg"
    broken.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(bi.ImportRefused, match="文件已损坏"):
        bi.read_source(broken, "components")


def test_departments_and_cases_without_an_administrator_are_refused_before_reading(world_store, tmp_path):
    missing = tmp_path / "never-read.csv"  # not even opened: the refusal comes first
    with pytest.raises(bi.ImportRefused, match="请用 --as 指定管理员"):
        bi.import_file(world_store, missing, "departments")
    with pytest.raises(bi.ImportRefused, match="请用 --as 指定管理员"):
        bi.import_file(world_store, missing, "cases", on_error="skip")
    with pytest.raises(bi.ImportRefused, match="不存在"):
        bi.import_file(world_store, missing, "cases", dry_run=True)  # a dry run needs no administrator
