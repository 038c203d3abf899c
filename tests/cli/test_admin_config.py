"""`gridhall admin export|import|check|department|category|route|limit …` end to end, in-process, on
both backends (on PostGIS as the users' own logins): the export/import round trip changes nothing,
a dry run shows the diff and saves nothing, bad input is one clear line."""

from __future__ import annotations

import json

import pytest
from services.world import PASSWORD, T0, build_world

from app.cli import build_parser
from app.cli.admin import run_admin
from app.domain.clock import FixedClock
from app.services import auth
from app.store import calendar_years as years_store


@pytest.fixture
def cli(store, monkeypatch, capsys):
    """Run ``gridhall admin …`` against the tiny district; returns (exit code, stdout, stderr)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    if store.backend == "spatialite":
        build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:
        from tests.store.hall import world_logins

        world_logins(store, build_world(store), PASSWORD)
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)

    def run(*argv: str, who: str = "admin"):
        try:
            args = build_parser().parse_args(["admin", *argv, "--db", db, "--as", who])
        except SystemExit as exc:
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        code = run_admin(args, clock=FixedClock(T0))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    auth.configure_hasher()


def _changes(store) -> int:
    with store.engine.connect() as conn:
        return years_store.config_version(conn)


def test_export_import_round_trip_and_dry_run(cli, store, tmp_path):
    path = tmp_path / "hall.toml"
    code, out, err = cli("export", str(path))
    assert code == 0 and "已导出配置到" in out and "部门 6 个" in out, err
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# GridHall configuration") and "[[departments]]" in text and "[[limits]]" in text
    assert "[[calendar]]" in text and "[[routes]]" in text

    before = _changes(store)
    code, out, err = cli("import", str(path), "--reason", "原样导回")
    assert code == 0 and "配置与已存的相同，未做修改" in out, err
    assert _changes(store) == before

    edited = text.replace('name = "区园林绿化管理所"', 'name = "区园林局"')
    edited = edited.replace('code = "06010"\nlevel = "general"\nstage = "handle"\nminutes = 240',
                            'code = "06010"\nlevel = "general"\nstage = "handle"\nminutes = 300')
    assert edited.count("区园林局") == 1 and "minutes = 300" in edited
    path.write_text(edited, encoding="utf-8")
    code, out, err = cli("import", str(path), "--dry-run")
    assert code == 0, err
    assert "~ 部门 YL：name: 区园林绿化管理所 → 区园林局" in out
    assert "~ 时限 event:06010:general:handle：minutes: 240 → 300" in out
    assert "预览：以上 2 项变更未保存" in out
    assert _changes(store) == before
    code, out, err = cli("import", str(path), "--reason", "测试厅规则迁到正式厅")
    assert code == 0 and "已保存 2 项变更" in out, err
    assert _changes(store) == before + 2
    code, out, err = cli("import", str(path))  # what was imported: nothing more
    assert code == 0 and "未做修改" in out and _changes(store) == before + 2


def test_verbs_and_validation_messages(cli, store, tmp_path):
    code, out, err = cli("department", "set", "CG", "--name", "区城管执法局", "--kind", "bureau", "--reason", "新设")
    assert code == 0 and "+ 部门 CG" in out and "已保存 1 项变更" in out, err
    code, out, err = cli("department", "list", who="analyst")
    assert code == 0 and "CG  区城管执法局  bureau" in out
    code, out, err = cli("department", "set", "CG", "--name", "x")
    assert code == 1 and err.count("\n") == 1 and "请写明修改原因" in err
    code, out, err = cli("department", "set", "CG", "--phone", "1", "--reason", "r", who="dispatcher")
    assert code == 1 and "只有管理员可以修改配置" in err
    code, out, err = cli("limit", "set", "--kind", "event", "--code", "06010", "--level", "general", "--stage",
                         "handle", "--minutes", "0", "--basis", "working", "--reason", "r")
    assert code == 1 and "时限须为正整数分钟" in err and "Traceback" not in err
    code, out, err = cli("limit", "set", "--kind", "event", "--code", "06010", "--level", "general", "--stage",
                         "handle", "--minutes", "600", "--basis", "working", "--reason", "放宽",
                         "--effective-at", "2026-04-01")
    assert code == 0 and "minutes: 240 → 600" in out, err
    code, out, err = cli("limit", "list", "--at", "2026-04-02")
    assert code == 0 and "event:06010  general  handle  600 working  from 2026-04-01 00:00:00" in out
    code, out, err = cli("limit", "list")
    assert "event:06010  general  handle  240 working" in out  # now: still the old one
    code, out, err = cli("route", "set", "--scope", "category:event:06012", "--area", "320599001", "--department", "YL",
                         "--priority", "100", "--reason", "r")
    assert code == 0, err
    code, out, err = cli("route", "set", "--scope", "category:event:06012", "--area", "320599001", "--department", "SZ",
                         "--reason", "r")
    assert code == 1 and "派遣规则重叠" in err
    code, out, err = cli("route", "explain", "event:06012", "--x", "557150", "--y", "3464450", who="dispatcher")
    assert code == 0 and "派往 区园林绿化管理所（YL）" in out and "因为" in out, err
    code, out, err = cli("category", "set", "event:06010", "--close-evidence", "refuse", "--closing-standard",
                         "清理干净", "--reason", "结案标准", "--dry-run")
    assert code == 0 and "close_evidence: override → refuse" in out and "未保存" in out, err
    code, out, err = cli("check")
    assert code == 0 and "没有任何派遣规则或默认处置部门" in out
    code, out, err = cli("history", "--entity", "department", who="analyst")
    assert code == 0 and "admin：新设" in out and "+ 部门 CG" in out, err
    code, out, err = cli("history", "--entity", "time_limit", "--format", "json")
    [limit] = json.loads(out)
    assert limit["key"] == "event:06010:general:handle" and limit["reason"] == "放宽"
    assert (limit["before"]["minutes"], limit["after"]["minutes"], limit["after"]["valid_from"]) == (
        240, 600, "2026-04-01 00:00:00")

    bad = tmp_path / "bad.toml"
    bad.write_text('format = 1\n[[limits]]\nkind = "event"\nlevel = "general"\nstage = "handle"\nminutes = 0\n'
                   'basis = "working"\n', encoding="utf-8")
    before = _changes(store)
    code, out, err = cli("import", str(bad))
    assert code == 1 and "配置文件第 1 个 [[limits]]" in err and "时限须为正整数分钟" in err
    bad.write_text("format = 1\n[[departments\n", encoding="utf-8")
    code, out, err = cli("import", str(bad))
    assert code == 1 and "不是有效的 TOML" in err
    assert _changes(store) == before
