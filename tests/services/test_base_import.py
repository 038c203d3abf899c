"""Base-data import and export (issue 15): real files written by GDAL/OGR — GeoPackage, Shapefile in GBK
without .cpg and with a lying .cpg, GeoJSON, FlatGeobuf, CSV — in current, legacy and Chinese field names,
broken ones (no CRS, wrong CRS, bow-tie, duplicates, truncated, no .dbf), the validation report, abort and
skip with a reject file, and the round trip export → import, on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from osgeo import gdal, ogr, osr
from sqlalchemy import delete, func, select

from app.domain import field_names
from app.domain.base_rows import component_row, grid_row
from app.domain.definitions import STORE_SRID
from app.domain.taxonomy import Taxonomy
from app.services import base_import as bi
from app.store.models import Component, UnitGrid
from services.world import INSIDE, MANHOLE, X0, Y0, build_world

ogr.UseExceptions()
TODAY = date(2026, 12, 1)
# Points inside grids 320599001001006 (INSIDE) and 320599001002001 (col 2, row 0).
P6 = INSIDE
P_OTHER = (X0 + 250.0, Y0 + 50.0)


def write_layer(path: Path, rows: list[dict], geoms: list[str | None], *, driver: str | None = None, epsg: int | None = STORE_SRID,
                options: list[str] | None = None, geom_type=ogr.wkbUnknown) -> Path:
    """A file written by OGR: ``rows`` of string attributes with WKT geometries (None: no geometry)."""
    driver = driver or {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".fgb": "FlatGeobuf",
                        ".csv": "CSV"}[path.suffix]
    # QGIS, once started in this process, sets SHAPE_ENCODING="" (no recoding at all), which would
    # write the Chinese of a GBK test file as UTF-8 bytes: the test files are written as asked.
    before = gdal.GetConfigOption("SHAPE_ENCODING")
    gdal.SetConfigOption("SHAPE_ENCODING", None)
    try:
        return _write_layer(path, rows, geoms, driver, epsg, options, geom_type)
    finally:
        gdal.SetConfigOption("SHAPE_ENCODING", before)


def _write_layer(path: Path, rows: list[dict], geoms: list[str | None], driver: str, epsg: int | None,
                 options: list[str] | None, geom_type) -> Path:
    ds = ogr.GetDriverByName(driver).CreateDataSource(str(path))
    srs = None
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
    if options is None and driver == "ESRI Shapefile":
        options = ["ENCODING=UTF-8"]  # GDAL's default (ISO-8859-1) would turn Chinese into "?"
    layer = ds.CreateLayer(path.stem, srs, geom_type, options or [])
    columns = list(dict.fromkeys(k for r in rows for k in r))
    for c in columns:
        layer.CreateField(ogr.FieldDefn(c, ogr.OFTString))
    for r, wkt in zip(rows, geoms, strict=True):
        f = ogr.Feature(layer.GetLayerDefn())
        for k, v in r.items():
            if v is not None:
                f.SetField(k, v)
        if wkt is not None:
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(f)
    ds = None
    return path


def point(xy) -> str:
    return f"POINT({xy[0]} {xy[1]})"


def square(x: float, y: float, size: float = 100.0) -> str:
    return f"POLYGON(({x} {y},{x + size} {y},{x + size} {y + size},{x} {y + size},{x} {y}))"


def component(code: str, grid: str = "320599001001006", **extra) -> dict:
    return {"GLBJBSM": code, "GLBJMC": "污水井盖", "ZGBMDM": "SZ", "SZDYWGBSM": grid, "GLBJZT": "完好",
            "CSRQ": "20200301", **extra}


def count(store, model) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def components(store) -> dict[str, tuple]:
    with store.session() as s:
        rows = s.execute(select(Component.code, Component.legacy_code, Component.category_id, Component.name,
                                Component.grid_id, Component.authority_department_id, Component.owner_department_id,
                                Component.maintainer_department_id, Component.status, Component.initial_date,
                                Component.changed_date, Component.data_source, Component.note,
                                func.ST_X(Component.geom), func.ST_Y(Component.geom)))
        return {r[0]: tuple(round(v, 3) if isinstance(v, float) else v for v in r) for r in rows}


def grids(store) -> dict[str, tuple]:
    with store.session() as s:
        rows = s.execute(select(UnitGrid.code, UnitGrid.community_id, UnitGrid.area_m2,
                                func.ST_Area(UnitGrid.geom)))
        return {r[0]: (r[1], round(r[2], 2), round(r[3], 2)) for r in rows}


def no_grids(store) -> None:
    with store.session() as s, s.begin():
        s.execute(delete(Component))
        s.execute(delete(UnitGrid))


@pytest.fixture
def world_store(store):
    build_world(store)
    return store


# -- pure ------------------------------------------------------------------------------------------


def test_field_names_current_legacy_chinese_and_overrides():
    assert field_names.resolve("components", ["GLBJBSM", "glbjmc", "SZDYWGBSM"]) == {
        "code": "GLBJBSM", "name": "glbjmc", "grid_code": "SZDYWGBSM"}
    legacy = field_names.resolve("components", ["ObjID", "ObjName", "DeptCode1", "DeptCode2", "DeptCode3", "BGID",
                                                "ObjState", "ORDate", "CHDate"])
    assert legacy == {"code": "ObjID", "name": "ObjName", "authority_code": "DeptCode1", "owner_code": "DeptCode2",
                      "maintainer_code": "DeptCode3", "grid_code": "BGID", "status": "ObjState",
                      "initial_date": "ORDate", "changed_date": "CHDate"}
    chinese = field_names.resolve("components", ["管理部件标识码", "部件名称", "所在单元网格标识码", "初始日期"])
    assert chinese == {"code": "管理部件标识码", "name": "部件名称", "grid_code": "所在单元网格标识码",
                       "initial_date": "初始日期"}
    over = field_names.parse_overrides(["code=编号", "grid_code = 网格"], "components")
    assert field_names.resolve("components", ["编号", "网格", "ObjID"], over)["code"] == "编号"
    with pytest.raises(field_names.MappingError, match="缺少字段 code"):
        field_names.resolve("components", ["名称"])
    with pytest.raises(field_names.MappingError, match="字段 colour 未知"):
        field_names.parse_overrides(["colour=x"], "components")
    with pytest.raises(field_names.MappingError, match="字段=列名"):
        field_names.parse_overrides(["code"], "grids")
    assert field_names.resolve("grids", ["BGID"]) == {"code": "BGID"}


def test_rows_convert_legacy_ids_and_refuse_nonsense():
    tax = Taxonomy.load()
    row = component_row(1, {"code": "3205990102000001", "status": "破损", "initial_date": "2019-05-01"}, tax, TODAY)
    assert row.ok and row.values["code"] == MANHOLE and row.values["legacy_code"] == "3205990102000001"
    assert row.values["status"] == "damaged" and row.values["name"] and "已转换" in row.notes[0]
    bad = component_row(2, {"code": "32059901002000001", "status": "好", "initial_date": "20300101",
                            "changed_date": "20200101"}, tax, TODAY)
    assert any("部件状态" in m for m in bad.problems) and any("不合理" in m for m in bad.problems)
    worse = component_row(3, {"code": "32059901002000001", "initial_date": "20200101", "changed_date": "20190101"},
                          tax, TODAY)
    assert any("早于初始日期" in m for m in worse.problems)
    assert not component_row(4, {"code": "3205990199000001"}, tax, TODAY).ok  # unmapped legacy category
    assert not component_row(5, {"code": "12345"}, tax, TODAY).ok
    assert not component_row(6, {"code": "32059999999000001"}, tax, TODAY).ok  # category not in the taxonomy
    assert grid_row(1, {"code": "320599001001001"}).values["community_code"] == "320599001001"
    assert not grid_row(2, {"code": "320599001001001", "community_code": "320599001002"}).ok


def test_the_columnar_fast_path_gives_what_the_row_check_gives():
    """``component_rows`` (each distinct value checked once, no messages for a good row) answers exactly
    as ``component_row`` does row by row, for good rows and every kind of bad one."""
    from app.domain.base_rows import component_rows

    tax = Taxonomy.load()
    rows = [{"code": "32059901002000001", "status": "完好", "initial_date": "20200101", "grid_code": "320599001001006"},
            {"code": " 32059901002000002 ", "name": "井盖甲", "status": "damaged", "initial_date": date(2019, 1, 2),
             "changed_date": "2020-02-03", "data_source": "实测", "note": "备注", "authority_code": "SZ"},
            {"code": "3205990102000001", "status": "破损"},  # legacy: the slow path converts it
            {"code": "32059901002000003", "status": "好"}, {"code": "32059901002000004", "initial_date": "20300101"},
            {"code": "32059901002000005", "initial_date": "20200101", "changed_date": "20190101"},
            {"code": "32059901002000006", "grid_code": "1234"}, {"code": "32059901002000007", "name": "长" * 65},
            {"code": "32059901002000008", "data_source": "来" * 17}, {"code": "３２０５９９０１００２０００００９"},
            {"code": "32059901002000000"}, {"code": None}, {"code": "32059999999000001"},
            {"code": "32059901002000010", "initial_date": "not a date"}, {"code": 32059901002000011.0}]
    keys = sorted({k for r in rows for k in r})
    columns = {k: [r.get(k) for r in rows] for k in keys}
    fast = component_rows(columns, len(rows), tax, TODAY)
    slow = [component_row(i, {k: r.get(k) for k in keys}, tax, TODAY) for i, r in enumerate(rows, 1)]
    assert [(r.number, r.values, [str(m) for m in r.problems], [str(m) for m in r.notes]) for r in fast] == \
        [(r.number, r.values, [str(m) for m in r.problems], [str(m) for m in r.notes]) for r in slow]
    assert sum(r.ok for r in fast) == 5  # 1, 2, the legacy id, the full-width digits, the spreadsheet float


# -- components ------------------------------------------------------------------------------------


def test_components_import_current_fields_reprojected_from_geographic(world_store, tmp_path):
    store = world_store
    ct = osr.CoordinateTransformation(*[_srs(e) for e in (STORE_SRID, 4490)])
    lon, lat, _ = ct.TransformPoint(*P6)
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002", BZ="新增", SJLY="实测")],
                       [f"POINT({lon} {lat})"], epsg=4490)
    report = bi.import_file(store, path, "components")
    assert report.ok and report.written == 1 and report.source.srs_name == "EPSG:4490"
    row = components(store)["32059901002000002"]
    assert row[3] == "污水井盖" and row[11] == "实测" and row[12] == "新增"
    assert row[13] == pytest.approx(P6[0], abs=0.01) and row[14] == pytest.approx(P6[1], abs=0.01)


@pytest.mark.parametrize("packed", [False, True], ids=["inserted", "packed"])
def test_spatial_index_and_triggers_intact_after_a_large_import(world_store, tmp_path, monkeypatch, packed):
    """The import drops SpatiaLite's per-row insert triggers and fills the R*Tree once (entry by entry, or
    for a large import the whole tree rebuilt packed): afterwards SQLite's own check and SpatiaLite's
    agree with the table, a window query finds what it should, the triggers are back and a later ORM
    insert is indexed as usual."""
    store = world_store
    if store.backend != "spatialite":
        pytest.skip("SpatiaLite's spatial index")
    from sqlalchemy import text

    from app.store import base_load

    monkeypatch.setattr(base_load, "PACK_MIN_ROWS", 1 if packed else 10**9)

    def triggers():
        with store.session() as s:
            return sorted(s.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                         "AND tbl_name = 'components'")).all())

    before = triggers()
    n = 3000
    path = write_layer(tmp_path / "c.gpkg", [component(f"320599010020{i:05d}") for i in range(2, n + 2)],
                       [point((P6[0] + (i % 50), P6[1] + (i // 50) % 50)) for i in range(n)])
    assert bi.import_file(store, path, "components").written == n
    assert triggers() == before
    with store.session() as s:
        assert s.scalar(text("SELECT CheckSpatialIndex('components', 'geom')")) == 1
        assert s.scalar(text("SELECT count(*) FROM idx_components_geom")) == n + 1
        hits = s.scalar(text("SELECT count(*) FROM components WHERE ROWID IN (SELECT pkid FROM idx_components_geom "
                             "WHERE xmin <= :x1 AND xmax >= :x0 AND ymin <= :y1 AND ymax >= :y0)"),
                        {"x0": P6[0] - 0.5, "x1": P6[0] + 9.5, "y0": P6[1] - 0.5, "y1": P6[1] + 0.5})
    assert hits == 21  # ten new points on the first row, ten more where the pattern repeats (i = 2500…), the world's own
    with store.session() as s:
        assert s.scalar(text("SELECT rtreecheck('idx_components_geom')")) == "ok"
        depth = s.scalar(text("SELECT hex(substr(data, 1, 2)) FROM idx_components_geom_node WHERE nodeno = 1"))
        assert depth == "0002"  # 3,001 entries, at most 51 a node: two levels under the root
    from geoalchemy2 import WKTElement

    from app.store.models import Component

    with store.session() as s, s.begin():  # the triggers are back: an ordinary insert is indexed
        s.add(Component(code="32059901002099999", category_id=s.scalar(text(
            "SELECT id FROM categories WHERE kind = 'component' AND code = '01002'")), name="井盖",
            status="intact", geom=WKTElement(f"POINT({P6[0] + 1000} {P6[1]})", srid=STORE_SRID)))
    with store.session() as s:
        assert s.scalar(text("SELECT CheckSpatialIndex('components', 'geom')")) == 1
        assert s.scalar(text("SELECT rtreecheck('idx_components_geom')")) == "ok"
        assert s.scalar(text("SELECT count(*) FROM idx_components_geom WHERE xmin >= :x"), {"x": P6[0] + 999}) == 1


def _srs(epsg: int):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def test_legacy_shapefile_in_gbk_without_cpg(world_store, tmp_path):
    store = world_store
    rows = [{"ObjID": "3205990102000002", "ObjName": "污水井盖（旧）", "DeptCode1": "SZ", "DeptCode3": "PS",
             "BGID": "320599001001006", "ObjState": "破损", "ORDate": "20150601", "CHDate": "20200101"}]
    path = write_layer(tmp_path / "legacy.shp", rows, [point(P6)], options=["ENCODING=GBK"], geom_type=ogr.wkbPoint)
    path.with_suffix(".cpg").unlink()
    report = bi.import_file(store, path, "components")
    assert report.ok, report.text()
    got = components(store)["32059901002000002"]
    assert got[1] == "3205990102000002" and got[3] == "污水井盖（旧）" and got[8] == "damaged"
    assert got[9] == date(2015, 6, 1) and got[10] == date(2020, 1, 1)
    assert "已转换" in report.text()


def test_wrong_encoding_is_reported_and_the_override_reads_it(world_store, tmp_path):
    store = world_store
    path = write_layer(tmp_path / "gbk.shp", [component("32059901002000003", GLBJMC="井盖甲乙丙")], [point(P6)],
                       options=["ENCODING=GBK"], geom_type=ogr.wkbPoint)
    path.with_suffix(".cpg").write_text("UTF-8")  # the .cpg lies
    report = bi.import_file(store, path, "components")
    assert not report.ok and "无法按 utf-8 解码" in report.text() and count(store, Component) == 1
    report = bi.import_file(store, path, "components", encoding="GBK")
    assert report.ok and components(store)["32059901002000003"][3] == "井盖甲乙丙"


def test_missing_crs_refused_and_wrong_crs_lands_outside(world_store, tmp_path):
    store = world_store
    csv = tmp_path / "c.csv"
    csv.write_text(f"ObjID,ObjName,X,Y\n32059901002000004,井盖,{P6[0]},{P6[1]}\n", encoding="utf-8")
    with pytest.raises(bi.ImportRefused, match="没有坐标系"):
        bi.import_file(store, csv, "components")
    report = bi.import_file(store, csv, "components", source_crs=4547)  # another zone (CM 114°E): miles away
    assert not report.ok and "辖区之外" in report.text() and count(store, Component) == 1
    report = bi.import_file(store, csv, "components", source_crs=STORE_SRID)
    assert report.ok and report.written == 1
    assert components(store)["32059901002000004"][4] is not None  # grid found from the position


def test_validation_report_then_abort_writes_nothing(world_store, tmp_path):
    store = world_store
    rows = [component("32059901002000005"),
            component("32059901002000005"),  # duplicate in the file
            component(MANHOLE),  # already stored
            component("32059901002000006", grid="320599001002001"),  # lies in ...006
            component("32059901002000007", CSRQ="20991231"),
            component("32059901002000008", ZGBMDM="NOPE"),
            component("32059901002000009")]
    path = write_layer(tmp_path / "c.geojson", rows, [point(P6)] * 6 + [None])
    report = bi.import_file(store, path, "components")
    text = report.text()
    assert len(report.bad) == 6 and len(report.good) == 1 and report.written == 0
    for needle in ("重复（与第 1 条相同）", "已在库中", "与其位置所在的网格 320599001001006 不符", "不合理",
                   "NOPE 不在部门表中", "几何为空"):
        assert needle in text
    assert count(store, Component) == 1
    as_json = report.as_dict()
    assert as_json["rejected"] == 6 and as_json["problems"][0]["row"] == 2


def test_skip_writes_good_rows_and_a_reject_file_in_the_source_format(world_store, tmp_path):
    store = world_store
    rows = [component("32059901002000010"), component("32059901002000010"), component("32059901002000011")]
    path = write_layer(tmp_path / "c.fgb", rows, [point(P6), point(P6), point(P_OTHER)], geom_type=ogr.wkbPoint)
    report = bi.import_file(store, path, "components", on_error="skip")
    assert report.written == 1 and count(store, Component) == 2  # ...011's grid code names the wrong grid
    rejects = report.rejects_path
    assert rejects is not None and rejects.suffix == ".fgb"
    ds = ogr.Open(str(rejects))
    reasons = sorted(f.GetField("REASON") for f in ds.GetLayer(0))  # FlatGeobuf reads in spatial order
    assert len(reasons) == 2 and "不符" in reasons[0] and "重复" in reasons[1]


def test_broken_files_refused_in_one_message(world_store, tmp_path):
    store = world_store
    path = write_layer(tmp_path / "c.gpkg", [component(f"320599010020{i:05d}") for i in range(1, 2000)],
                       [point(P6)] * 1999)
    data = path.read_bytes()
    (tmp_path / "cut.gpkg").write_bytes(data[: len(data) // 3])
    with pytest.raises(bi.ImportRefused):
        bi.import_file(store, tmp_path / "cut.gpkg", "components")
    shp = write_layer(tmp_path / "nodbf.shp", [component("32059901002000012")], [point(P6)], geom_type=ogr.wkbPoint)
    shp.with_suffix(".dbf").unlink()
    with pytest.raises(bi.ImportRefused, match="缺少属性表"):
        bi.import_file(store, shp, "components")
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage at all")
    with pytest.raises(bi.ImportRefused):
        bi.import_file(store, tmp_path / "junk.gpkg", "components")
    with pytest.raises(field_names.MappingError):
        bi.import_file(store, write_layer(tmp_path / "nocode.geojson", [{"名称": "x"}], [point(P6)]), "components")
    assert count(store, Component) == 1


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv", "fgb"])
def test_components_round_trip(world_store, tmp_path, fmt):
    store = world_store
    more = [component(f"3205990100200{i:04d}", CHDate="20240101", BZ=f"备注{i}", QSDWDM="PS", YHDWDM="PS")
            for i in range(20, 30)]
    assert bi.import_file(store, write_layer(tmp_path / "in.gpkg", more, [point(P6)] * 10), "components").ok
    before = components(store)
    out = tmp_path / f"out.{fmt}"
    assert bi.export(store, "components", out) == 11
    if fmt == "shp":
        assert out.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    with store.session() as s, s.begin():
        s.execute(delete(Component))
    report = bi.import_file(store, out, "components", source_crs=STORE_SRID if fmt == "csv" else None)
    assert report.ok, report.text()
    assert components(store) == before


def test_export_xlsx_has_the_standard_headers(world_store, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "c.xlsx"
    assert bi.export(world_store, "components", out) == 1
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["GLBJBSM", "GLBJMC", "ZGBMDM"] and "SZDYWGBSM" in header and header[-2:] == ["X", "Y"]
    assert ws.cell(2, 1).value == MANHOLE


# -- grids -----------------------------------------------------------------------------------------


def _grid_rows(skip=()):
    rows, geoms = [], []
    seq = {0: 0, 1: 0}
    for col in range(4):
        for row in range(4):
            half = 0 if col < 2 else 1
            seq[half] += 1
            code = f"320599001{half + 1:03d}{seq[half]:03d}"
            if code in skip:
                continue
            rows.append({"BGID": code})
            geoms.append(square(X0 + col * 100, Y0 + row * 100))
    return rows, geoms


def test_grids_import_and_round_trip(world_store, tmp_path):
    store = world_store
    before = grids(store)
    no_grids(store)
    rows, geoms = _grid_rows()
    report = bi.import_file(store, write_layer(tmp_path / "g.shp", rows, geoms), "grids")
    assert report.ok, report.text()
    assert grids(store) == {k: (v[0], v[1], v[2]) for k, v in before.items()}
    out = tmp_path / "out.gpkg"
    assert bi.export(store, "grids", out) == 16
    no_grids(store)
    assert bi.import_file(store, out, "grids").ok and grids(store) == before


def test_grids_bow_tie_overlap_gap_and_safe_repair(world_store, tmp_path):
    store = world_store
    no_grids(store)
    rows, geoms = _grid_rows(skip={"320599001001006"})  # col 1,row 1: an inner cell missing -> a gap
    x, y = X0, Y0  # ...001001: a spike back along an edge (invalid, repaired without changing the area)
    geoms[0] = f"POLYGON(({x} {y},{x + 100} {y},{x + 100} {y + 100},{x + 100} {y + 150},{x + 100} {y + 100}," \
               f"{x} {y + 100},{x} {y}))"
    x, y = X0 + 300, Y0 + 300  # the last one: a bow-tie
    geoms[-1] = f"POLYGON(({x} {y},{x + 100} {y + 100},{x + 100} {y},{x} {y + 100},{x} {y}))"
    geoms[-2] = square(X0 + 250, Y0 + 200)  # ...002007 shifted west: half over ...002003
    path = write_layer(tmp_path / "g.gpkg", rows, geoms)
    report = bi.import_file(store, path, "grids")
    text = report.text()
    assert not report.ok and count(store, UnitGrid) == 0
    assert "修复为一个面" in text and "蝴蝶结" in text and "与 320599001002003 重叠 5000.0 平方米" in text
    assert "空隙" in text and "10000.0 平方米" in text
    assert report.source.rows[0].ok  # the repaired one is good


def test_grid_in_an_unknown_community_or_outside(world_store, tmp_path):
    store = world_store
    no_grids(store)
    path = write_layer(tmp_path / "g.geojson", [{"网格编码": "320599001009001"}, {"网格编码": "320599001001001"}],
                       [square(X0, Y0), square(X0 + 5000, Y0)])
    report = bi.import_file(store, path, "grids", on_error="skip")
    assert "社区 320599001009 不在库中" in report.text() and "辖区之外" in report.text()
    assert report.written == 0 and report.rejects_path.exists()


# -- retired grids (0024: split or merged away, the code never reused) ------------------------------


def _retire(store, code: str, on: date = date(2026, 11, 1)) -> None:
    from sqlalchemy import update

    with store.session() as s, s.begin():
        s.execute(update(UnitGrid).where(UnitGrid.code == code).values(retired_on=on))


def _split_006(store, world_actor):
    """Grid ...006 split west|east at x = X0 + 120 by the maintenance service; (east, west) codes."""
    from app.domain.clock import FixedClock
    from app.services.base_maintenance import BaseMaintenance
    from services.world import T0

    codes = BaseMaintenance(store, FixedClock(T0)).split_grid(
        world_actor, "320599001001006", [(X0 + 120, Y0 + 90), (X0 + 120, Y0 + 210)], on="2026-11-01",
        reason="拆分").codes
    new = [c for c in codes if c != "320599001001006"]
    with store.session() as s:
        east = s.scalar(select(UnitGrid.code).where(UnitGrid.code.in_(new),
                                                    func.ST_X(func.ST_Centroid(UnitGrid.geom)) > X0 + 120))
    return east, next(c for c in new if c != east)


def test_grid_export_is_the_grids_in_use_unless_retired_ones_are_asked_for(store, tmp_path):
    world = build_world(store)
    east, west = _split_006(store, world.actors["admin"])
    out = tmp_path / "in_use.gpkg"
    assert bi.export(store, "grids", out) == 17  # 16 - 1 + 2
    ds = ogr.Open(str(out))
    lyr = ds.GetLayer(0)
    codes = {f.GetField("DYWGBSM") for f in lyr}
    fields = [lyr.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(lyr.GetLayerDefn().GetFieldCount())]
    ds = None
    assert "320599001001006" not in codes and {east, west} <= codes and bi.RETIRED_ON_FIELD not in fields
    every = tmp_path / "every.geojson"
    assert bi.export(store, "grids", every, include_retired=True) == 18
    ds = ogr.Open(str(every))
    retired = {f.GetField("DYWGBSM"): f.GetField(bi.RETIRED_ON_FIELD) for f in ds.GetLayer(0)}
    ds = None
    assert retired["320599001001006"] == "20261101" and retired[east] is None and len(retired) == 18
    with pytest.raises(bi.ImportRefused):
        bi.export(store, "components", tmp_path / "c.gpkg", include_retired=True)
    # the grids in use go back in as they came out (a retired code stays taken)
    before = {k: v for k, v in grids(store).items() if k != "320599001001006"}
    with store.session() as s, s.begin():
        s.execute(delete(Component))
        s.execute(delete(UnitGrid).where(UnitGrid.retired_on.is_(None)))
    report = bi.import_file(store, out, "grids")
    assert report.ok, report.text()
    assert {k: v for k, v in grids(store).items() if k != "320599001001006"} == before


def test_overlaps_and_gaps_against_the_grids_in_use_and_a_retired_code_still_refused(world_store, tmp_path):
    store = world_store
    _retire(store, "320599001001001")  # the corner cell: retired, nothing in its place yet
    new = write_layer(tmp_path / "g.gpkg", [{"BGID": "320599001001017"}], [square(X0, Y0)])
    report = bi.import_file(store, new, "grids", dry_run=True)
    assert report.ok and "重叠" not in report.text(), report.text()  # it overlaps only the retired grid
    # the retired code is refused for ever (and is no grid to overlap)
    path = write_layer(tmp_path / "g2.gpkg", [{"BGID": "320599001001001"}], [square(X0, Y0)])
    report = bi.import_file(store, path, "grids", on_error="skip")
    text = report.text()
    assert "网格编码 320599001001001 已于 2026-11-01 注销，不能再用" in text, text
    assert "重叠" not in text and report.written == 0
    _retire(store, "320599001001002")  # an edge cell: its place is outside, not a hole
    report = bi.import_file(store, new, "grids", dry_run=True)
    assert report.ok and "空隙" not in report.text(), report.text()
    _retire(store, "320599001001007")  # an inner cell: now a hole among the grids in use
    report = bi.import_file(store, new, "grids", dry_run=True)
    assert "空隙" in report.text() and "10000.0 平方米" in report.text(), report.text()
    assert bi.import_file(store, new, "grids", on_error="skip").written == 1


def test_a_component_lies_in_and_names_a_grid_in_use(world_store, tmp_path):
    store = world_store
    _retire(store, "320599001001006")
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000009", grid="320599001001006")],
                       [point(P6)])
    report = bi.import_file(store, path, "components", dry_run=True)
    assert "所在网格 320599001001006 已于 2026-11-01 注销" in report.text(), report.text()
