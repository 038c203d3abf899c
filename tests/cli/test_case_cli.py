"""`gridhall case …` end to end, in-process, on both backends."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from services.world import PASSWORD, T0, build_world, png_bytes

from app.cli import build_parser
from app.cli.case import add_case_commands, run_case
from app.commands import CommandRegistry, default_registry
from app.domain.clock import FixedClock
from app.services import auth


def _db_now() -> datetime:
    """The database's clock as clients record it (naive China Standard Time, whole seconds)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


@pytest.fixture
def cli(store, tmp_path, monkeypatch, capsys):
    """Run ``gridhall case …`` against the tiny district; returns (exit code, stdout, stderr)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)  # fast hashes for tests
    if store.backend == "spatialite":
        build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:  # PostGIS: --as X connects as X's own login gh_X (the password is the login's only)
        from tests.store.hall import world_logins

        world_logins(store, build_world(store), PASSWORD)
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    # as a login, an event is dated by the database's clock (within 5 minutes: migration 0006)
    clock = FixedClock(T0 if store.backend == "spatialite" else _db_now())

    def run(*argv: str):
        try:
            args = build_parser().parse_args(["case", *argv, "--db", db])  # the registry as it is now
        except SystemExit as exc:  # argparse refused the options
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        code = run_case(args, clock=clock)
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    auth.configure_hasher()


@pytest.fixture
def note_verb():
    """A command registered in the process's registry (as a plugin would), removed afterwards."""
    from commands.note import note_command

    handle = default_registry().register(note_command())
    yield handle
    handle.remove()


def _json(out: str) -> dict:
    return json.loads(out)


def test_full_loop_through_the_cli(cli, tmp_path, store):
    pic = tmp_path / "现场.png"
    pic.write_bytes(png_bytes())
    now = (T0 if store.backend == "spatialite" else _db_now()).strftime("%Y-%m-%d %H:%M:%S")  # the run's clock
    code, out, err = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "event:06010",
                         "--source", "public", "--description", "路边暴露垃圾", "--photo", str(pic),
                         "--photo-time", now, "--format", "json")
    assert code == 0, err
    case = _json(out)["case"]
    number = case["number"]
    assert case["state"] == "reported" and case["grid_code"] == "320599001001006"
    steps = [
        ("verify", number, "--as", "acceptor", "--send"),
        ("verify", number, "--as", "supervisor", "--result", "属实"),
        ("file", number, "--as", "leader_shift"),
    ]
    for argv in steps:
        code, out, err = cli(*argv)
        assert code == 0, (argv, err)
    assert "立案标准：垃圾暴露面积" in out and "回复举报人" in out and "派遣建议 1：区环境卫生管理所（HW）" in out
    code, out, err = cli("dispatch", number, "--as", "dispatcher", "--department", "JD001", "--format", "json")
    assert code == 0, err
    view = _json(out)
    assert view["case"]["state"] == "dispatched" and view["version"] == view["case"]["version"]
    assert [s["code"] for s in view["suggestions"]] == ["HW", "JD001"] and view["suggestions"][0]["reasons"]
    assert view["timer"]["stage"] == "handle" and "处置时限" in view["timer"]["explanation"]
    after = tmp_path / "after.png"
    after.write_bytes(png_bytes(color=(0, 200, 0)))
    for argv in [("accept", number, "--as", "dept_jd"),
                 ("request", number, "--as", "dept_jd", "--type", "extension", "--minutes", "60", "--reason", "需要吊车"),
                 ("approve", number, "--as", "dispatcher"),
                 ("feedback", number, "--as", "dept_jd", "--text", "已清运", "--before", str(pic), "--photo", str(after),
                  "--photo-time", now),
                 ("check", number, "--as", "acceptor", "--send"),
                 ("check", number, "--as", "supervisor", "--outcome", "passed")]:
        code, out, err = cli(*argv)
        assert code == 0, (argv, err)
    code, out, err = cli("close", number, "--as", "leader_shift", "--format", "json")
    assert code == 0, err
    closed = _json(out)
    assert closed["case"]["state"] == "closed" and closed["warnings"] == []
    assert closed["timer"]["running"] is False and "已处置完毕" in closed["details"]["replies"][0]
    code, out, err = cli("show", number, "--as", "boss")
    assert code == 0 and "延期" not in err
    assert "结案" in out and "回复举报人" in out and "申请延期 → 延期申请中：需要吊车" in out
    code, out, _ = cli("list", "--as", "boss", "--state", "closed", "--format", "json")
    assert [c["number"] for c in _json(out)["cases"]] == [number]


def test_refusals_exit_non_zero_with_the_reason(cli, tmp_path, monkeypatch):
    code, out, err = cli("report", "--as", "supervisor", "--at", "557150,3464450", "--category", "06010",
                         "--description", "垃圾", "--format", "json")
    number = _json(out)["case"]["number"]
    code, out, err = cli("file", number, "--as", "supervisor")
    assert code == 1 and out == "" and "「监督员」无权执行「立案」" in err
    code, _, err = cli("file", number, "--as", "leader_shift", "--expect-version", "0")
    assert code == 1 and "请刷新后重试" in err
    code, _, err = cli("report", "--as", "acceptor", "--at", "560000,3470000", "--category", "06010",
                       "--description", "垃圾")
    assert code == 1 and "位置不在本区任何单元网格内" in err
    code, _, err = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                       "--description", "")
    assert code == 1 and "问题描述不能为空" in err
    text = tmp_path / "notes.jpg"
    text.write_text("这不是照片")
    code, _, err = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                       "--description", "垃圾", "--photo", str(text))
    assert code == 1 and "不是图片" in err
    code, _, err = cli("report", "--as", "acceptor", "--component", "32059901002999999", "--category",
                       "component:01002", "--description", "井盖破损")
    assert code == 1 and "不存在" in err
    code, _, err = cli("request", number, "--as", "dept_jd", "--type", "extension", "--reason", "x")
    assert code == 1
    monkeypatch.setenv("GRIDHALL_PASSWORD", "wrong-password")
    code, out, err = cli("show", number, "--as", "dispatcher")
    assert code == 1 and out == "" and "密码" in err
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    code, out, _ = cli("show", number, "--as", "dispatcher", "--format", "json")
    assert code == 0 and _json(out)["case"]["version"] == 1  # nothing above was written


def test_the_older_combined_forms_and_their_checks(cli):
    code, out, err = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                         "--description", "垃圾", "--source", "public", "--format", "json")
    number = _json(out)["case"]["number"]
    code, _, err = cli("verify", number, "--as", "acceptor", "--send", "--result", "属实")
    assert code == 1 and "「派发核实」不接受 --result" in err
    code, _, err = cli("send-verify", number, "--as", "acceptor", "--note", "请核实")  # the command's own verb
    assert code == 0, err
    code, _, err = cli("verify", number, "--as", "supervisor")
    assert code == 1 and "核实结果不能为空（--result）" in err
    code, out, err = cli("reject", number, "--as", "acceptor", "--duplicate-of", number, "--format", "json")
    assert code == 1 and "不能把案卷关联到它自己" in err
    code, _, err = cli("check", number, "--as", "supervisor", "--outcome", "failed")
    assert code == 1 and "核查不通过时理由不能为空" in err
    code, out, _ = cli("show", number, "--as", "boss", "--format", "json")
    assert _json(out)["case"]["version"] == 2  # only 派发核实 was written


def test_a_registered_command_is_a_verb_without_touching_the_cli(cli, note_verb, store):
    args = build_parser().parse_args(["case", "note", "S1", "--as", "boss", "--text", "加快"])
    assert (args.case_verb, args.opt_text) == ("note", "加快")  # build_parser() knows the new verb
    code, out, err = cli("report", "--as", "supervisor", "--at", "557150,3464450", "--category", "06010",
                         "--description", "垃圾", "--format", "json")
    number = _json(out)["case"]["number"]
    code, _, err = cli("note", number, "--as", "boss", "--text", "加快处理")
    assert code == 1 and "不能" in err  # 已上报: the command's states do not include it
    assert cli("file", number, "--as", "leader_shift")[0] == 0
    code, _, err = cli("note", number, "--as", "boss")
    assert code == 2 and "--text" in err  # argparse: the required field is a required option
    code, out, err = cli("note", number, "--as", "boss", "--text", "加快处理", "--format", "json")
    assert code == 0, err
    view = _json(out)
    assert view["action"] == "urge" and view["case"]["urge_count"] == 1
    code, out, _ = cli("show", number, "--as", "boss")
    assert "督办 → 待派遣：加快处理" in out


def test_the_verbs_follow_the_registry_given():
    import argparse

    parser = argparse.ArgumentParser(prog="gridhall")
    add_case_commands(parser.add_subparsers(dest="command", required=True), CommandRegistry())
    assert parser.parse_args(["case", "show", "S1", "--as", "boss"]).case_command == "show"
    with pytest.raises(SystemExit):
        parser.parse_args(["case", "dispatch", "S1", "--as", "boss"])  # an empty registry: read verbs only


# ---- plugins' commands (their manifests' Qt-free hooks) ----------------------------------------

@pytest.fixture
def plugin_cli(store, monkeypatch, capsys):
    """``gridhall case …`` with the parser built as ``main`` builds it (the plugins' hooks loaded)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    build_world(store, password_hash=auth.hash_password(PASSWORD))
    db = str(store.path)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)

    def run(*argv: str):
        full = ["case", *argv, "--db", db]
        try:
            args = build_parser(full).parse_args(full)
        except SystemExit as exc:
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        code = run_case(args, clock=FixedClock(T0))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    auth.configure_hasher()


@pytest.mark.parametrize("backend", ["spatialite"])
def test_a_plugins_command_is_a_verb_and_runs_on_a_real_store(plugin_cli):
    code, out, err = plugin_cli("report", "--as", "supervisor", "--at", "557150,3464450", "--category", "06010",
                                "--description", "垃圾", "--format", "json")
    assert code == 0 and err == "", err  # no plugin failed to load
    number = _json(out)["case"]["number"]
    assert plugin_cli("file", number, "--as", "leader_shift")[0] == 0
    code, _, err = plugin_cli("duban-note", number, "--as", "boss")
    assert code == 2 and "--text" in err
    code, _, err = plugin_cli("duban-note", number, "--as", "leader_shift", "--text", "加快处理")
    assert code == 1 and "无权" in err  # the workflow's 督办 roles: a leader only
    code, out, err = plugin_cli("duban-note", number, "--as", "boss", "--text", "周五前清运", "--format", "json")
    assert code == 0, err
    view = _json(out)
    assert view["action"] == "urge" and view["case"]["urge_count"] == 1
    code, out, _ = plugin_cli("show", number, "--as", "boss")
    assert "督办 → 待派遣：周五前清运" in out
    code, _, err = plugin_cli("duban-note", number, "--as", "boss", "--text", "x", "--no-plugins")
    assert code == 2 and "invalid choice" in err  # --no-plugins: the built-in verbs only


def test_case_help_lists_the_plugins_verbs_unless_no_plugins(capsys):
    from app.cli import main

    with pytest.raises(SystemExit):
        main(["case", "--help"])
    assert "duban-note" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["case", "--no-plugins", "--help"])
    out = capsys.readouterr().out
    assert "duban-note" not in out and "dispatch" in out
    assert "duban-note" not in str(build_parser().format_help())  # a parser built without argv: no plugins


def test_a_plugin_whose_hook_fails_is_skipped_with_one_line(tmp_path, monkeypatch, capsys):
    import sys
    import uuid

    from app.cli.case import with_plugin_commands

    package = f"gh_cli_plugins_{uuid.uuid4().hex[:8]}"
    root = tmp_path / package
    for name, body in {"good": "from commands.note import note_command\n\n"
                               "def register(registry):\n    return registry.register(note_command())\n",
                       "bad": "import no_such_module_here\n"}.items():
        (root / name).mkdir(parents=True)
        (root / name / "MANIFEST.toml").write_text(
            f'id = "{name}"\nname = "{name}"\nversion = "1.0"\napi_version = "1.0"\n'
            f'commands = "{package}.{name}.commands:register"\n', encoding="utf-8")
        (root / name / "__init__.py").write_text("")
        (root / name / "commands.py").write_text(body, encoding="utf-8")
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = with_plugin_commands(default_registry(), root)
    finally:
        for name in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[name]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "插件「bad」" in err and "ModuleNotFoundError" in err
    assert registry.by_verb("note") is not None  # the good plugin's command
    assert default_registry().by_verb("note") is None  # added to a copy: the process's registry is untouched


def test_no_password_and_no_terminal_is_one_clear_line_and_spends_no_login_attempt(cli, store, monkeypatch):
    """A script run from a pipe without $GRIDHALL_PASSWORD: one line, exit 1, no failed attempt counted."""
    import io

    from app.store.models import User

    monkeypatch.delenv("GRIDHALL_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))  # not a terminal: nothing to ask on
    code, out, err = cli("list", "--as", "dispatcher")
    assert code == 1 and out == ""
    assert err.startswith("gridhall: ") and "GRIDHALL_PASSWORD" in err and "Traceback" not in err
    with store.session() as session:
        user = session.query(User).filter_by(username="dispatcher").one()
        assert not user.failed_attempts


@pytest.mark.parametrize("argv", [
    ("list", "--limit", "99999999999999999999999"),
    ("list", "--limit", "-5"),
    ("list", "--state", "filed", "--limit", "0"),
    ("urge", "S20260302-0001", "--expect-version", "99999999999999999999999"),
])
def test_numbers_out_of_range_are_refused_by_the_parser(cli, argv):
    code, out, err = cli(*argv[:1], "--as", "dispatcher", *argv[1:])
    assert code == 2 and out == "" and "Traceback" not in err and "之间" in err


def test_a_value_refused_by_a_command_reads_in_english_with_gridhall_lang(cli, monkeypatch):
    code, out, _ = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                       "--description", "垃圾", "--format", "json")
    number = _json(out)["case"]["number"]
    monkeypatch.setenv("GRIDHALL_LANG", "en")
    code, out, err = cli("check", number, "--as", "supervisor", "--outcome", "failed")
    assert code == 1 and out == ""
    assert err.startswith("gridhall: ") and not any("\u4e00" <= ch <= "\u9fff" for ch in err), err


def test_a_locked_database_is_one_line_and_nothing_written(cli, store, monkeypatch):
    """Another program holds the SpatiaLite file locked: the driver's refusal is one clear line, exit 1."""
    if store.path is None:
        pytest.skip("a file lock is a SpatiaLite matter")
    import sqlite3

    from app.store import engine

    code, out, _ = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                       "--description", "垃圾", "--format", "json")
    number = _json(out)["case"]["number"]
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)  # do not wait long for the lock
    other = sqlite3.connect(str(store.path), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        code, out, err = cli("urge", number, "--as", "boss")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.startswith("gridhall: ") and "锁定" in err
    code, out, _ = cli("show", number, "--as", "dispatcher", "--format", "json")
    assert code == 0 and _json(out)["case"]["urge_count"] == 0
