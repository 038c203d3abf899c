"""`gridhall import|export grids|components`: the report on stdout (text, --report JSON, --lang en), exit
codes, --dry-run, --map, --source-crs, --on-error skip with its reject file, one line for broken input, a
kill in the middle of a large import leaving the store as before, and on PostGIS only the administrator's
login writing base data (both backends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from osgeo import ogr
from services.test_base_import import P6, component, components, count, point, write_layer
from services.world import PASSWORD, build_world
from sqlalchemy import delete

from app.cli import main
from app.services import auth
from app.store.models import Component

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(store, monkeypatch):
    """The tiny district with a login per user; returns (store, --db argument)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    if store.backend == "spatialite":
        world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:
        from tests.store.hall import world_logins

        world = build_world(store)
        world_logins(store, world, PASSWORD)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    yield store, (str(store.path) if store.path else store.url.render_as_string(hide_password=False))
    auth.configure_hasher()
    if store.backend == "postgis":
        from app.store import security

        for name in world.actors:
            security.drop_login(store, name)


def spatial_state(store) -> tuple:
    """The components' SpatiaLite triggers and R*Tree entries."""
    from sqlalchemy import text

    with store.session() as s:
        triggers = sorted(s.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                         "tbl_name = 'components'")).all())
        entries = s.execute(text("SELECT * FROM idx_components_geom ORDER BY pkid")).all()
    return triggers, entries


def _run(capsys, *argv: str):
    code = main([*argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_reports_then_writes_as_the_administrator(db, tmp_path, capsys):
    store, url = db
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002"), component("3205990102000003")],
                       [point(P6)] * 2)
    code, out, err = _run(capsys, "import", "components", str(path), "--dry-run", "--db", url, "--as", "admin")
    assert code == 0, err
    assert "合格 2 条" in out and "试运行" in out and count(store, Component) == 1
    report = tmp_path / "r.json"
    code, out, err = _run(capsys, "import", "components", str(path), "--db", url, "--as", "admin",
                          "--report", str(report), "--lang", "en")
    assert code == 0, err
    assert "2 good" in out and "2 rows written" in out and "converted to 32059901002000003" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["written"] == 2 and data["mapping"]["code"] == "GLBJBSM" and data["notes"][0]["row"] == 2
    assert components(store)["32059901002000003"][1] == "3205990102000003"


def test_only_the_administrator_imports(db, tmp_path, capsys):
    store, url = db
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002")], [point(P6)])
    code, out, err = _run(capsys, "import", "components", str(path), "--db", url, "--as", "dispatcher")
    assert code == 1 and err.count("\n") == 1 and "只有管理员" in err
    assert count(store, Component) == 1


@pytest.mark.postgis
def test_postgis_grants_refuse_other_logins(db, tmp_path):
    """Below the command line: a dispatcher's own database login cannot insert components at all."""
    from app.domain.clock import SystemClock
    from app.services import base_import as bi
    from app.services.hall_login import hall_login

    store, url = db
    if store.backend != "postgis":
        pytest.skip("grants are PostgreSQL's")
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002")], [point(P6)])
    as_dispatcher, _ = hall_login(url, "dispatcher", PASSWORD, clock=SystemClock())
    try:
        report = bi.validate(as_dispatcher, bi.read_source(path, "components"))
        assert report.ok
        with pytest.raises(Exception, match="(?i)permission denied"):
            bi.write(as_dispatcher, report)
    finally:
        as_dispatcher.dispose()
    assert count(store, Component) == 1


def test_abort_and_skip_exit_codes_and_reject_file(db, tmp_path, capsys):
    store, url = db
    rows = [component("32059901002000002"), component("32059901002000002", GLBJZT="坏了")]
    path = write_layer(tmp_path / "c.shp", rows, [point(P6)] * 2, geom_type=ogr.wkbPoint)
    code, out, err = _run(capsys, "import", "components", str(path), "--db", url)
    assert code == 1 and "未写入任何数据" in out and "部件状态「坏了」无效" in out and count(store, Component) == 1
    code, out, err = _run(capsys, "import", "components", str(path), "--db", url, "--on-error", "skip")
    assert code == 0 and "已写入 1 条" in out and count(store, Component) == 2
    rejects = tmp_path / "c_rejects.shp"
    assert rejects.exists() and rejects.with_suffix(".cpg").exists()
    ds = ogr.Open(str(rejects))  # kept: a layer outlives its dataset only in a crash
    assert [f.GetField("REASON") for f in ds.GetLayer(0)] == ["部件状态「坏了」无效：应为 完好、破损、丢失、废弃或移除；"
                                                           "编码 32059901002000002 重复（与第 1 条相同）"]


def test_map_and_source_crs_for_a_csv_with_chinese_headers(db, tmp_path, capsys):
    store, url = db
    csv = tmp_path / "c.csv"
    csv.write_text(f"编号,名称,X,Y\n32059901002000002,井盖,{P6[0]},{P6[1]}\n", encoding="utf-8")
    code, out, err = _run(capsys, "import", "components", str(csv), "--db", url)
    assert code == 1 and err.count("\n") == 1 and "缺少字段 code" in err
    code, out, err = _run(capsys, "import", "components", str(csv), "--db", url, "--map", "code=编号")
    assert code == 1 and "没有坐标系" in err
    code, out, err = _run(capsys, "import", "components", str(csv), "--db", url, "--map", "code=编号",
                          "--map", "name=名称", "--source-crs", "4549")
    assert code == 0, err
    assert components(store)["32059901002000002"][3] == "井盖"


def test_broken_input_is_one_line(db, tmp_path, capsys):
    store, url = db
    (tmp_path / "junk.gpkg").write_bytes(b"\x00" * 100)
    shp = write_layer(tmp_path / "n.shp", [component("32059901002000002")], [point(P6)], geom_type=ogr.wkbPoint)
    shp.with_suffix(".dbf").unlink()
    for argv in (["import", "components", str(tmp_path / "junk.gpkg")], ["import", "grids", str(shp)],
                 ["import", "components", str(tmp_path / "none.gpkg")],
                 ["import", "components", str(shp), "--encoding", "klingon"],
                 ["import", "components", str(shp), "--map", "colour=x"],
                 ["export", "components", str(tmp_path / "out.txt")]):
        code, out, err = _run(capsys, *argv, "--db", url)
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert count(store, Component) == 1


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv", "xlsx"])
def test_export_then_import_round_trip(db, tmp_path, capsys, fmt):
    store, url = db
    out = tmp_path / f"c.{fmt}"
    code, text, err = _run(capsys, "export", "components", str(out), "--db", url)
    assert code == 0 and "已导出 1 条" in text, err
    if fmt == "xlsx":
        return  # a spreadsheet for people, not an import format
    before = components(store)
    with store.session() as s, s.begin():
        s.execute(delete(Component))
    extra = ["--source-crs", "4549"] if fmt == "csv" else []
    code, text, err = _run(capsys, "import", "components", str(out), "--db", url, *extra)
    assert code == 0, err + text
    assert components(store) == before


def test_kill_in_the_middle_of_a_large_import_leaves_the_store_as_before(db, tmp_path):
    store, url = db
    before_spatial = spatial_state(store) if store.backend == "spatialite" else None
    n = 12_000
    path = write_layer(tmp_path / "big.gpkg", [component(f"320599010020{i:05d}") for i in range(2, n + 2)],
                       [point(P6)] * n)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    # SpatiaLite: killed when every row is in and the first of the dropped spatial triggers is back (the
    # R*Tree filled): the rows, the R*Tree entries and the dropped triggers all come back as they were.
    # PostGIS: killed right after the rows went in, before the commit.
    when = "2:CREATE TRIGGER" if store.backend == "spatialite" else "1"
    proc = subprocess.run([sys.executable, str(ROOT / "tests/cli/kill_during_import.py"), when, "import",
                           "components", str(path), "--db", url], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr
    assert count(store, Component) == 1
    if store.backend == "spatialite":
        assert spatial_state(store) == before_spatial
    code = main(["import", "components", str(path), "--db", url])  # and the same import then goes through
    assert code == 0 and count(store, Component) == n + 1


def test_departments_roads_and_cases_from_the_command_line(db, tmp_path, capsys):
    """Departments need --as (the configuration history names who); historical cases too; the case export
    takes --query and --state; --query on another kind is one line."""
    from services.test_base_kinds import CASE_ROWS, write_cases

    store, url = db
    depts = tmp_path / "d.csv"
    depts.write_text("部门代码,部门名称,部门类型\nXJ1,新建养护队,养护企业\n", encoding="utf-8")
    code, out, err = _run(capsys, "import", "departments", str(depts), "--db", url)
    assert code == 1 and "--as" in err and err.count("\n") == 1
    code, out, err = _run(capsys, "import", "departments", str(depts), "--db", url, "--as", "admin",
                          "--reason", "交接")
    assert code == 0, err
    assert "已写入 1 条" in out
    cases = write_cases(tmp_path / "old.csv", CASE_ROWS)
    code, out, err = _run(capsys, "import", "cases", str(cases), "--source-crs", "4549", "--db", url, "--as", "admin")
    assert code == 0 and "已写入 2 条" in out, err
    code, out, err = _run(capsys, "export", "cases", str(tmp_path / "closed.csv"), "--state", "已结案", "--db", url)
    assert code == 0 and "已导出 1 条" in out, err
    code, out, err = _run(capsys, "export", "cases", str(tmp_path / "q.xlsx"), "--query", "状态:不予立案", "--db", url)
    assert code == 0 and "已导出 1 条" in out, err
    code, out, err = _run(capsys, "export", "roads", str(tmp_path / "r.gpkg"), "--query", "x", "--db", url)
    assert code == 1 and "--query" in err and err.count("\n") == 1
    code, out, err = _run(capsys, "export", "roads", str(tmp_path / "r.gpkg"), "--db", url, "--lang", "en")
    assert code == 0 and "Exported 2 rows" in out, err


def test_export_grids_in_use_or_with_the_retired_ones(db, tmp_path, capsys):
    from datetime import date

    from sqlalchemy import update

    from app.store.models import UnitGrid

    store, url = db
    with store.session() as s, s.begin():
        s.execute(update(UnitGrid).where(UnitGrid.code == "320599001001001").values(retired_on=date(2026, 11, 1)))
    out = tmp_path / "g.csv"
    code, text, err = _run(capsys, "export", "grids", str(out), "--db", url)
    assert code == 0 and "已导出 15 条" in text, err
    assert "320599001001001" not in out.read_text(encoding="utf-8")
    code, text, err = _run(capsys, "export", "grids", str(out), "--include-retired", "--db", url)
    assert code == 0 and "已导出 16 条" in text, err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert "retired_on" in lines[0] and any("320599001001001" in x and "20261101" in x for x in lines[1:])
    code, text, err = _run(capsys, "export", "roads", str(tmp_path / "r.csv"), "--include-retired", "--db", url,
                           "--lang", "en")
    assert code == 1 and "--include-retired applies to exporting grids only" in err and "Traceback" not in err
