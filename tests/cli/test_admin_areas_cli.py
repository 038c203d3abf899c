"""`gridhall admin department jurisdiction`, `admin route set --area grids:/polygon:/jurisdiction`,
`admin route component` and `admin route explain --component`, and `gridhall user set|retire|
reactivate|history`, in-process on SpatiaLite: saved with the reason, bad input one clear line."""

from __future__ import annotations

import pytest
from services.world import MANHOLE, PASSWORD, T0, X0, Y0, build_world

from app.cli import build_parser
from app.cli.admin import run_admin
from app.cli.user import run_user
from app.domain.clock import FixedClock
from app.services import auth

WEST = f"POLYGON(({X0} {Y0},{X0 + 200} {Y0},{X0 + 200} {Y0 + 400},{X0} {Y0 + 400},{X0} {Y0}))"


@pytest.fixture
def backend() -> str:
    return "spatialite"


@pytest.fixture
def cli(store, monkeypatch, capsys):
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    build_world(store, password_hash=auth.hash_password(PASSWORD))
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)

    def run(*argv: str, group: str = "admin"):
        tail = ["--db", str(store.path)] + (["--as", "admin"] if group == "admin" else [])
        try:
            args = build_parser().parse_args([group, *argv, *tail])
        except SystemExit as exc:
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        code = run_admin(args, clock=FixedClock(T0)) if group == "admin" else run_user(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    auth.configure_hasher()


def test_jurisdiction_area_rules_and_component_rule(cli):
    code, out, err = cli("department", "jurisdiction", "YL", "--wkt", WEST, "--reason", "园林所辖区")
    assert code == 0 and "已保存" in out, err
    code, out, err = cli("route", "set", "--scope", "category:event:06012", "--area", "jurisdiction",
                         "--department", "YL", "--priority", "10", "--reason", "按辖区")
    assert code == 0, err
    code, out, err = cli("route", "explain", "event:06012", "--x", str(X0 + 150), "--y", str(Y0 + 150))
    assert code == 0 and "部门辖区" in out and "（YL）" in out, err
    code, out, err = cli("route", "set", "--scope", "kind:event", "--area", "grids:x", "--grids", "NOPE",
                         "--department", "SZ", "--reason", "r")
    assert code == 1 and err.count("\n") == 1 and "不存在" in err
    code, out, err = cli("route", "component", "--scope", "major:component:01", "--by", "owner", "--reason", "按权属")
    assert code == 0, err
    code, out, err = cli("route", "explain", "component:01002", "--component", MANHOLE)
    assert code == 0 and "部件派遣规则" in out, err
    code, out, err = cli("department", "jurisdiction", "YL", "--clear", "--reason", "清除")
    assert code == 1 and "仍被派遣规则使用" in err


def test_user_set_retire_reactivate_history(cli):
    code, out, err = cli("set", "dispatcher", "--role", "leader", "--reason", "提拔", group="user")
    assert code == 0 and "领导" in out, err
    code, out, err = cli("set", "dispatcher", "--role", "department", "--reason", "x", group="user")
    assert code == 1 and "必须绑定一个部门" in err and err.count("\n") == 1
    code, out, err = cli("retire", "dispatcher", "--reason", "离职", group="user")
    assert code == 0, err
    code, out, err = cli("reactivate", "dispatcher", "--reason", "返聘", group="user")
    assert code == 0, err
    code, out, err = cli("history", "dispatcher", group="user")
    assert code == 0 and out.count("\n") == 3 and "提拔" in out and "离职" in out and "返聘" in out, err
    code, out, err = cli("retire", "dispatcher", group="user")
    assert code == 1 and "修改原因" in err
