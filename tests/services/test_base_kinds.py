"""Departments, roads and historical cases in and out (issue 15, items 1 and 3), on both backends, with
real files written by GDAL/OGR, openpyxl and the csv module: departments through the configuration
service (history names the administrator), roads appended in one transaction, historical cases as the
events of their recorded times (the audit chain stays intact, the case row is what the events say), the
case export with every timing field and the queue's / archive's filters, xlsx for every kind, and the
round trip export → import giving the same rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from app.domain.definitions import STORE_SRID
from app.services import base_import as bi
from app.services.base_cases import export_rows
from app.services.config import ConfigService
from app.store.models import Case, CaseEvent, Road
from services.world import INSIDE, build_world

FORMATS = ["gpkg", "shp", "geojson", "csv", "xlsx"]


@pytest.fixture
def world(store):
    return store, build_world(store)


@pytest.fixture
def other_store(backend, request, tmp_path, _store_templates):
    """A second empty store on the same backend (a round trip between two cities' stores)."""
    import shutil

    from app.store.engine import open_store

    if backend == "spatialite":
        path = tmp_path / "other.sqlite"
        shutil.copyfile(_store_templates.spatialite(), path)
        opened = open_store(path)
        yield opened
        opened.dispose()
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database(template=_store_templates.postgis(cluster))
    opened = open_store(cluster.url(name))
    yield opened
    opened.dispose()
    cluster.drop_database(name)


def crs_for(fmt: str):
    return STORE_SRID if fmt in ("csv", "xlsx") else None


def roads(store) -> list[tuple]:
    with store.session() as s:
        return [(n, k, w, round(length, 2)) for n, k, w, length in s.execute(
            select(Road.name, Road.kind, Road.width_m, func.ST_Length(Road.geom)).order_by(Road.name))]


# -- departments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_departments_round_trip_changes_nothing(world, tmp_path, fmt):
    store, w = world
    before = ConfigService(store).departments()
    out = tmp_path / f"d.{fmt}"
    assert bi.export(store, "departments", out) == 6
    report = bi.import_file(store, out, "departments", actor=w.actors["admin"], source_crs=crs_for(fmt))
    assert report.ok, report.text()
    assert report.written == 0  # every row is already there, unchanged
    assert ConfigService(store).departments() == before


def test_departments_import_adds_and_changes_with_history(world, tmp_path):
    store, w = world
    path = tmp_path / "d.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("部门代码,部门名称,部门类型,上级部门代码,联系电话,是否启用\n"
                "GL01,园林一队,养护企业,YL2,0512-1,是\n"
                "YL2,园林二所,市级部门,,,是\n"
                "HW,区环境卫生管理所,市级部门,,0512-9,是\n")
    report = bi.import_file(store, path, "departments", actor=w.actors["admin"], reason="新城交接")
    assert report.ok, report.text()
    assert report.written == 3  # two new (the child before its parent in the file), one changed
    depts = {d["code"]: d for d in ConfigService(store).departments()}
    assert depts["GL01"]["parent"] == "YL2" and depts["GL01"]["kind"] == "company"
    assert depts["HW"]["phone"] == "0512-9"
    history = ConfigService(store).history("department", "GL01")
    assert history and history[-1]["actor"] == "admin" and history[-1]["reason"] == "新城交接"


def test_departments_bad_rows_refused_and_nothing_written(world, tmp_path):
    store, w = world
    path = tmp_path / "d.csv"
    path.write_text("BMDM,BMMC,BMLX,SJBMDM,SFQY\nA1,甲,火星部门,,是\nA2,乙,市级部门,NOPE,是\nA3,丙,市级部门,,也许\n"
                    "A4,丁,市级部门,,是\nA4,丁二,市级部门,,是\n", encoding="utf-8")
    before = ConfigService(store).departments()
    report = bi.import_file(store, path, "departments", actor=w.actors["admin"])
    reasons = {r.number: "；".join(str(m) for m in r.problems) for r in report.bad}
    assert "部门类型" in reasons[1] and "NOPE" in reasons[2] and "是否启用" in reasons[3] and "重复" in reasons[5]
    assert report.written == 0 and ConfigService(store).departments() == before


def test_departments_need_an_administrator(world, tmp_path):
    store, _ = world
    out = tmp_path / "d.gpkg"
    bi.export(store, "departments", out)
    path = tmp_path / "new.csv"
    path.write_text("BMDM,BMMC\nNEW1,新部门\n", encoding="utf-8")
    with pytest.raises(bi.ImportRefused, match="--as"):
        bi.import_file(store, path, "departments")


# -- roads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_roads_round_trip(world, tmp_path, fmt):
    store, _ = world
    before = roads(store)
    out = tmp_path / f"r.{fmt}"
    assert bi.export(store, "roads", out) == 2
    again = bi.import_file(store, out, "roads", dry_run=True, source_crs=crs_for(fmt))
    assert all("已在库中" in str(r.problems[0]) for r in again.bad) and len(again.bad) == 2
    with store.session() as s, s.begin():
        s.execute(delete(Road))
    report = bi.import_file(store, out, "roads", source_crs=crs_for(fmt))
    assert report.ok and report.written == 2, report.text()
    assert roads(store) == before


def test_roads_checks(world, tmp_path):
    store, _ = world
    x, y = INSIDE
    path = tmp_path / "r.geojson"
    from services.test_base_import import write_layer

    write_layer(path, [{"道路名称": "新路", "道路等级": "次干路", "宽度": "15"},
                       {"道路名称": "新路", "道路等级": "次干路", "宽度": "15"},
                       {"道路名称": "怪路", "道路等级": "高速", "宽度": "x"},
                       {"道路名称": "点路"}],
                [f"LINESTRING({x} {y},{x + 50} {y})"] * 3 + [f"POINT({x} {y})"])
    report = bi.import_file(store, path, "roads")
    reasons = {r.number: "；".join(str(m) for m in r.problems) for r in report.bad}
    assert set(reasons) == {2, 3, 4}
    assert "重复" in reasons[2] and "道路等级" in reasons[3] and "应为线" in reasons[4]
    assert report.written == 0 and len(roads(store)) == 2
    report = bi.import_file(store, path, "roads", on_error="skip")
    assert report.written == 1 and ("新路", "secondary", 15.0, 50.0) in roads(store)


# -- historical cases -----------------------------------------------------------------------------

CASE_ROWS = [
    {"案卷编号": "H20250303-0001", "案卷类型": "事件", "类别代码": "01001", "案卷状态": "已结案", "案卷来源": "监督员上报",
     "问题描述": "井盖松动", "处置部门代码": "SZ", "上报时间": "2025-03-03 09:10:00", "立案时间": "2025-03-03 09:30",
     "派遣时间": "2025/03/03 09:40:00", "反馈时间": "2025-03-03 13:00:00", "结案时间": "2025-03-03 15:00:00",
     "X": INSIDE[0], "Y": INSIDE[1]},
    {"案卷编号": "H20250304-0001", "案卷类型": "部件", "类别代码": "01002", "案卷状态": "不予立案", "案卷来源": "公众举报",
     "问题描述": "重复上报", "上报时间": "2025-03-04 10:00:00", "X": INSIDE[0] + 10, "Y": INSIDE[1]},
]


def write_cases(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        out.writeheader()
        out.writerows(rows)
    return path


def events_of(store, number: str) -> list[tuple]:
    with store.session() as s:
        return [tuple(r) for r in s.execute(
            select(CaseEvent.seq, CaseEvent.action, CaseEvent.to_state, CaseEvent.at, CaseEvent.actor)
            .join(Case, Case.id == CaseEvent.case_id).where(Case.number == number).order_by(CaseEvent.seq))]


def test_historical_cases_enter_as_their_events(world, tmp_path):
    store, w = world
    path = write_cases(tmp_path / "old.csv", CASE_ROWS)
    report = bi.import_file(store, path, "cases", actor=w.actors["admin"], source_crs=STORE_SRID)
    assert report.ok and report.written == 2, report.text()
    events = events_of(store, "H20250303-0001")
    assert [e[1] for e in events] == ["report", "file", "dispatch", "accept", "feedback", "send_check", "check",
                                      "close"]
    assert str(events[0][3]) == "2025-03-03 09:10:00" and str(events[-1][3]) == "2025-03-03 15:00:00"
    assert {e[4] for e in events} == {"admin"}
    with store.session() as s:
        case = s.scalars(select(Case).where(Case.number == "H20250303-0001")).one()
        assert case.state == "closed" and case.version == 8
        assert str(case.dispatched_at) == "2025-03-03 09:40:00" and case.handle_deadline_at is not None
        report_event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 1)).one()
        payload = report_event.payload
        assert payload["category"] == "01001" and payload["grid"] == "320599001001006"
        assert payload["community"] and payload["street"] and payload["imported_from"] == "old.csv"
        dispatch = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 3)).one()
        assert dispatch.payload["department"] == "SZ" and dispatch.payload["deadline"]
    assert [e[1] for e in events_of(store, "H20250304-0001")] == ["report", "reject"]
    from app.store.commands import verify_audit

    assert verify_audit(store) is None


def test_open_or_inconsistent_cases_are_refused_and_nothing_written(world, tmp_path):
    store, w = world
    rows = [dict(CASE_ROWS[0], 案卷状态="处置中"), dict(CASE_ROWS[0], 结案时间="2025-03-03 08:00:00"),
            dict(CASE_ROWS[0], 派遣时间=None), dict(CASE_ROWS[0], 处置部门代码="NOPE"),
            dict(CASE_ROWS[0], 类别代码="99999"), dict(CASE_ROWS[0], X=1.0, Y=1.0)]
    path = write_cases(tmp_path / "bad.csv", rows)
    with store.session() as s:
        before = s.scalar(select(func.count()).select_from(CaseEvent))
    report = bi.import_file(store, path, "cases", actor=w.actors["admin"], source_crs=STORE_SRID)
    reasons = {r.number: "；".join(str(m) for m in r.problems) for r in report.bad}
    assert set(reasons) == {1, 2, 3, 4, 5, 6}, reasons
    assert "处置中" in reasons[1] and "早于" in reasons[2] and "派遣时间" in reasons[3] and "NOPE" in reasons[4]
    assert "99999" in reasons[5] and "辖区之外" in reasons[6]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == before


@pytest.mark.parametrize("fmt", ["gpkg", "csv", "xlsx", "shp"])
def test_cases_round_trip_between_stores(world, tmp_path, fmt, other_store):
    store, w = world
    assert bi.import_file(store, write_cases(tmp_path / "old.csv", CASE_ROWS), "cases", actor=w.actors["admin"],
                          source_crs=STORE_SRID).written == 2
    out = tmp_path / f"out.{fmt}"
    assert bi.export(store, "cases", out) == 2
    other = other_store
    w2 = build_world(other)
    report = bi.import_file(other, out, "cases", actor=w2.actors["admin"], source_crs=crs_for(fmt))
    assert report.ok and report.written == 2, report.text()
    assert export_rows(other, {}) == export_rows(store, {})


def test_case_export_every_timing_field_and_filters(world, tmp_path):
    store, w = world
    bi.import_file(store, write_cases(tmp_path / "old.csv", CASE_ROWS), "cases", actor=w.actors["admin"],
                   source_crs=STORE_SRID)
    from openpyxl import load_workbook

    out = tmp_path / "c.xlsx"
    assert bi.export(store, "cases", out, filters={"states": ["已结案"]}) == 1
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    for name in ("SBSJ", "LASJ", "PQSJ", "FKSJ", "JASJ", "CZSX", "JSJD", "JSFS", "SXFZ", "JSKS", "ZTKS", "ZTFZ",
                 "YQFZ", "DQJZ", "DBCS", "DBJB", "DBSX", "FGCS"):
        assert name in header
    assert bi.export(store, "cases", tmp_path / "q.csv", filters={"query": "状态:不予立案"}) == 1
    assert bi.export(store, "cases", tmp_path / "i.csv", filters={"ids": []}) == 0
    with pytest.raises(bi.ImportRefused):
        bi.export(store, "cases", tmp_path / "x.csv", filters={"states": ["火星"]})


# -- broken files (item 6) for the new kinds --------------------------------------------------------


def test_a_gbk_csv_is_reported_then_read_with_the_encoding_given(world, tmp_path):
    store, w = world
    path = tmp_path / "d.csv"
    path.write_bytes("部门代码,部门名称\nGBK1,园林养护三队\n".encode("gbk"))
    before = ConfigService(store).departments()
    with pytest.raises(bi.MappingError):  # not even the header reads as UTF-8
        bi.import_file(store, path, "departments", actor=w.actors["admin"])
    path.write_bytes("BMDM,BMMC\nGBK1,园林养护三队\n".encode("gbk"))
    report = bi.import_file(store, path, "departments", actor=w.actors["admin"])
    assert not report.ok and "无法按 utf-8 解码" in report.text() and report.written == 0
    assert ConfigService(store).departments() == before
    report = bi.import_file(store, path, "departments", actor=w.actors["admin"], encoding="GBK")
    assert report.ok and {d["code"]: d["name"] for d in ConfigService(store).departments()}["GBK1"] == "园林养护三队"


def test_truncated_and_junk_files_of_the_new_kinds_write_nothing(world, tmp_path):
    store, w = world
    out = tmp_path / "r.gpkg"
    bi.export(store, "roads", out)
    data = out.read_bytes()
    (tmp_path / "cut.gpkg").write_bytes(data[: len(data) // 3])
    (tmp_path / "junk.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with store.session() as s, s.begin():
        s.execute(delete(Road))
    for bad in ("cut.gpkg", "junk.xlsx"):
        with pytest.raises(bi.ImportRefused):
            bi.import_file(store, tmp_path / bad, "roads")
    assert roads(store) == []
    cases = write_cases(tmp_path / "c.csv", CASE_ROWS)
    with pytest.raises(bi.ImportRefused, match="没有坐标系"):
        bi.import_file(store, cases, "cases", actor=w.actors["admin"])
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_historical_cases_land_in_the_grid_of_their_day(world, tmp_path):
    """0024: grid ...006 split on 2026-11-01; a case of 2025 lies in ...006 (retired since), one of
    2026-11-05 at the same place in the east part that replaced it; a grid named is kept if the case lies in it."""
    from app.domain.clock import FixedClock
    from app.services.base_maintenance import BaseMaintenance
    from app.store.models import UnitGrid
    from services.world import T0

    store, w = world
    codes = BaseMaintenance(store, FixedClock(T0)).split_grid(
        w.actors["admin"], "320599001001006", [(INSIDE[0] - 30, INSIDE[1] - 60), (INSIDE[0] - 30, INSIDE[1] + 60)],
        on="2026-11-01", reason="拆分").codes
    with store.session() as s:
        east = s.scalar(select(UnitGrid.code).where(UnitGrid.code.in_(codes), UnitGrid.retired_on.is_(None),
                                                    func.ST_X(func.ST_Centroid(UnitGrid.geom)) > INSIDE[0] - 30))
    late = {**CASE_ROWS[0], "案卷编号": "H20261105-0001", "上报时间": "2026-11-05 09:10:00",
            "立案时间": "2026-11-05 09:30", "派遣时间": "2026-11-05 09:40:00", "反馈时间": "2026-11-05 13:00:00",
            "结案时间": "2026-11-05 15:00:00"}
    named = {**late, "案卷编号": "H20261105-0002", "网格编码": "320599001001006"}
    path = write_cases(tmp_path / "old.csv", [CASE_ROWS[0], late, named])
    report = bi.import_file(store, path, "cases", actor=w.actors["admin"], source_crs=STORE_SRID)
    assert report.ok and report.written == 3, report.text()
    with store.session() as s:
        got = dict(s.execute(select(Case.number, UnitGrid.code).join(UnitGrid, UnitGrid.id == Case.grid_id)).all())
    assert got == {"H20250303-0001": "320599001001006", "H20261105-0001": east,
                   "H20261105-0002": "320599001001006"}
