"""`gridhall user …` in-process on both backends, password from $GRIDHALL_PASSWORD."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

import pytest

from app.cli.user import PASSWORD_ENV, add_user_commands, run_user
from app.domain.clock import FixedClock
from app.domain.definitions import Role
from app.services.auth import AuthError, login
from app.store.models import Department

PASSWORD = "Zhiban#2026"
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0))


@pytest.fixture
def db(store, monkeypatch):
    """The URL of an initialised store holding one department, with the password in the environment."""
    with store.session() as s, s.begin():
        s.add(Department(code="JD01", name="东城街道办事处", kind="street_office"))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    # From the store itself: on PostGIS `store_url` requested beside `store` names another database.
    return str(store.path) if store.path else store.url.render_as_string(hide_password=False)


def gridhall_user(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="gridhall")
    add_user_commands(parser.add_subparsers(dest="command", required=True))
    return run_user(parser.parse_args(["user", *argv]))


def test_add_then_login_and_list(db, store, capsys):
    assert gridhall_user("add", "zhang", "--role", "派遣员", "--display-name", "张伟", "--db", db) == 0
    assert "已创建用户 zhang（张伟，派遣员）" in capsys.readouterr().out
    assert gridhall_user("add", "op1", "--role", "department", "--department", "JD01", "--db", db) == 0
    assert login(store, "zhang", PASSWORD, clock=CLOCK).role is Role.DISPATCHER
    assert gridhall_user("list", "--db", db) == 0
    text = capsys.readouterr().out
    assert "zhang" in text and "东城街道办事处" in text and "$argon2" not in text


def test_list_json_parses_and_has_no_hash(db, capsys):
    gridhall_user("add", "zhang", "--role", "dispatcher", "--db", db)
    capsys.readouterr()
    assert gridhall_user("list", "--db", db, "--format", "json") == 0
    out = capsys.readouterr().out
    [row] = json.loads(out)
    assert (row["username"], row["role"], row["status"]) == ("zhang", "dispatcher", "正常")
    assert set(row) == {"id", "username", "display_name", "role", "role_label", "department_code",
                        "department_name", "active", "locked", "failed_attempts", "has_password", "phone",
                        "created_at", "status"}  # the keys `user list --help` documents
    assert "$argon2" not in out and PASSWORD not in out and not any("hash" in k for k in row)


@pytest.mark.parametrize("argv, message", [
    (["add", "x1", "--role", "boss"], "未知角色“boss”"),
    (["add", "x1", "--role", "department"], "必须绑定一个部门"),
    (["add", "x1", "--role", "department", "--department", "NOPE"], "“NOPE”不存在"),
    (["add", "张三", "--role", "leader"], "用户名“张三”无效"),
    (["passwd", "ghost"], "“ghost”不存在"),
    (["disable", "ghost"], "“ghost”不存在"),
])
def test_bad_input_is_one_clear_line_and_exit_1(db, capsys, argv, message):
    assert gridhall_user(*argv, "--db", db) == 1
    err = capsys.readouterr().err
    assert err.startswith("gridhall: ") and message in err and err.count("\n") == 1


def test_duplicate_and_short_password(db, capsys, monkeypatch):
    assert gridhall_user("add", "zhang", "--role", "leader", "--db", db) == 0
    assert gridhall_user("add", "zhang", "--role", "leader", "--db", db) == 1
    assert "已被使用" in capsys.readouterr().err
    monkeypatch.setenv(PASSWORD_ENV, "short")
    assert gridhall_user("passwd", "zhang", "--db", db) == 1
    assert "至少需要 8 个字符" in capsys.readouterr().err


def test_disable_passwd_and_unlock(db, store, monkeypatch):
    gridhall_user("add", "zhang", "--role", "acceptor", "--db", db)
    assert gridhall_user("disable", "zhang", "--db", db) == 0
    with pytest.raises(AuthError, match="已停用"):
        login(store, "zhang", PASSWORD, clock=CLOCK)
    assert gridhall_user("enable", "zhang", "--db", db) == 0
    for _ in range(5):
        with pytest.raises(AuthError):
            login(store, "zhang", "wrong-password", clock=CLOCK)
    with pytest.raises(AuthError, match="已锁定"):
        login(store, "zhang", PASSWORD, clock=CLOCK)
    assert gridhall_user("unlock", "zhang", "--db", db) == 0
    assert login(store, "zhang", PASSWORD, clock=CLOCK).username == "zhang"
    monkeypatch.setenv(PASSWORD_ENV, "New#Password9")
    assert gridhall_user("passwd", "zhang", "--db", db) == 0
    assert login(store, "zhang", "New#Password9", clock=CLOCK).username == "zhang"


def test_no_password_and_no_terminal_is_refused(db, capsys, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert gridhall_user("add", "zhang", "--role", "leader", "--db", db) == 1
    assert PASSWORD_ENV in capsys.readouterr().err


def test_missing_database_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert gridhall_user("list", "--db", str(tmp_path / "none.sqlite")) == 1
    err = capsys.readouterr().err
    assert "不存在" in err and err.count("\n") == 1


def test_prompt_asks_twice_and_refuses_a_mismatch(db, capsys, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    answers = iter(["Typed#Password1", "Typed#Password2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))  # stands in for the terminal
    assert gridhall_user("add", "zhang", "--role", "leader", "--db", db) == 1
    assert "两次输入的密码不一致" in capsys.readouterr().err
    answers = iter(["Typed#Password1", "Typed#Password1"])
    assert gridhall_user("add", "zhang", "--role", "leader", "--db", db) == 0
