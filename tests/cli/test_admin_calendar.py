"""`gridhall admin calendar …` end to end, in-process, on both backends (on PostGIS as the users' own logins)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from services.world import PASSWORD, T0, build_world

from app.cli import build_parser
from app.cli.admin import run_admin
from app.domain.clock import FixedClock
from app.services import auth
from app.services.calendar import load_calendar

NOTICE = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）"


@pytest.fixture
def cli(store, monkeypatch, capsys):
    """Run ``gridhall admin calendar …`` against the tiny district; returns (exit code, stdout, stderr)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    if store.backend == "spatialite":
        build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:
        from tests.store.hall import world_logins

        world_logins(store, build_world(store), PASSWORD)
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)

    def run(*argv: str):
        try:
            args = build_parser().parse_args(["admin", "calendar", *argv, "--db", db])
        except SystemExit as exc:
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        code = run_admin(args, clock=FixedClock(T0))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    auth.configure_hasher()


def test_show_set_and_the_deadline_moves(cli, store):
    code, out, err = cli("show", "2027", "--as", "dispatcher")
    assert code == 0, err
    assert "2027 年：推算" in out and "2027-02-08 春节" in out and "gridhall db" in out
    before = load_calendar(store).add_working_minutes(datetime(2027, 2, 4, 17), 3 * 480)
    code, out, err = cli("set", "2027", "--as", "admin", "--holiday", "2027-01-01=元旦", "2027-02-05..2027-02-10=春节",
                         "--workday", "2027-02-14", "--official", "--source", NOTICE, "--reason", "国务院通知已发布")
    assert code == 0 and "已保存 2027 年的日历" in out, err
    after = load_calendar(store).add_working_minutes(datetime(2027, 2, 4, 17), 3 * 480)
    assert (before, after) == (datetime(2027, 2, 15, 17), datetime(2027, 2, 14, 17))
    code, out, err = cli("show", "2027", "--as", "analyst", "--format", "json")
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "official" and shown["source"] == NOTICE
    assert shown["workdays"] == ["2027-02-14"] and shown["updated_by"] == "admin"
    assert [h["reason"] for h in shown["history"]][-1] == "国务院通知已发布"
    assert shown["history"][-1]["before_status"] == "estimated" and shown["history"][-1]["after_status"] == "official"
    code, out, _ = cli("set", "2027", "--as", "admin", "--workday", "2027-02-14", "--official")
    assert code == 0 and "未做修改" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--holiday", "2026-12-31"], "日期不在 2027 年内"),
    (["--holiday", "2027-02-06", "--workday", "2027-02-06"], "既是节假日又是调休工作日"),
    (["--holiday", "2027-01-01..2027-12-31"], "没有任何工作日"),
    (["--workday", "2027-2-31"], "日期“2027-2-31”无效"),
])
def test_a_wrong_year_is_one_clear_line_and_nothing_is_written(cli, store, argv, message):
    version = load_calendar(store).version
    code, out, err = cli("set", "2027", "--as", "admin", "--official", *argv)
    assert code == 1 and out == "" and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert load_calendar(store).version == version


def test_only_an_administrator_changes_the_calendar(cli, store):
    version = load_calendar(store).version
    code, _, err = cli("set", "2027", "--as", "dispatcher", "--workday", "2027-02-14", "--official")
    assert code == 1 and ("只有管理员" in err or "permission denied" in err), err
    code, _, err = cli("estimate", "2030", "--as", "boss")
    assert code == 1
    assert load_calendar(store).version == version


def test_import_and_estimate(cli, store, tmp_path):
    csv_file = tmp_path / "2027.csv"
    csv_file.write_text("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-05..2027-02-10,holiday,春节\n"
                        "2027-02-14,workday,\n", encoding="utf-8")
    code, out, err = cli("import", str(csv_file), "--as", "admin", "--official", "--source", NOTICE)
    assert code == 0 and "已保存 2027 年的日历" in out, err
    cal = load_calendar(store)
    assert cal.year_status(2027) == "official" and cal.is_workday(datetime(2027, 2, 14).date())
    code, _, err = cli("estimate", "2027", "--as", "admin")
    assert code == 1 and "不能用推算覆盖" in err
    code, out, err = cli("estimate", "2030", "--as", "admin")
    assert code == 0, err
    assert load_calendar(store).year_status(2030) == "estimated"
    missing = tmp_path / "none.toml"
    code, _, err = cli("import", str(missing), "--as", "admin")
    assert code == 1 and "无法读取日历文件" in err
    code, _, err = cli("show", "20270", "--as", "admin")
    assert code == 2 and "year" in err
