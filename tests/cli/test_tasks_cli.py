"""`gridhall task …` and `case verify/check --send --supervisor` end to end, in-process, on both backends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from services.seed import seed_case
from services.world import PASSWORD, T0, build_world

from app.cli import _run, build_parser
from app.domain.clock import FixedClock
from app.domain.definitions import CaseState, Role
from app.services import auth
from app.store.models import User

INSIDE = "557150,3464450"


def _db_now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


@pytest.fixture
def gh(store, monkeypatch, capsys):
    """Run ``gridhall …`` against the tiny district plus a second supervisor ``sup2``;
    returns run(*argv, clock=None) → (exit code, stdout, stderr)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    hashed = auth.hash_password(PASSWORD) if store.backend == "spatialite" else None
    world = build_world(store, password_hash=hashed)
    with store.session() as s, s.begin():
        s.add(User(username="sup2", display_name="巡查员乙", role=Role.SUPERVISOR.value, active=True,
                   failed_attempts=0, locked=False, password_hash=hashed))
    if store.backend == "postgis":
        from app.store import security
        from tests.store.hall import world_logins

        world_logins(store, world, PASSWORD)
        security.create_login(store, "sup2", Role.SUPERVISOR, PASSWORD)
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    now = T0 if store.backend == "spatialite" else _db_now()

    def run(*argv: str, clock: FixedClock | None = None):
        from app.cli import case as case_cli
        from app.cli import tasks as task_cli

        try:
            args = build_parser().parse_args([*argv, "--db", db])
        except SystemExit as exc:
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        given = clock or FixedClock(now)
        if args.command == "task":
            code = task_cli.run_task(args, clock=given)
        elif args.command == "case":
            code = case_cli.run_case(args, clock=given)
        else:
            code = _run(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    run.world, run.now = world, now
    yield run
    if store.backend == "postgis":
        from app.store import security

        for name in (*world.actors, "sup2"):
            security.drop_login(store, name)
    auth.configure_hasher()


def _report(gh) -> str:
    code, out, err = gh("case", "report", "--as", "supervisor", "--at", INSIDE, "--category", "event:06010",
                        "--source", "supervisor", "--description", "路边暴露垃圾", "--format", "json")
    assert code == 0, err
    return json.loads(out)["case"]["number"]


def test_send_to_a_named_supervisor_then_list_the_tasks(gh):
    number = _report(gh)
    code, out, err = gh("case", "verify", number, "--send", "--supervisor", "sup2", "--as", "acceptor",
                        "--format", "json")
    assert code == 0, err
    assert json.loads(out)["case"]["state"] == "verifying"
    code, out, err = gh("task", "list", "--as", "sup2", "--format", "json")
    assert code == 0, err
    tasks = json.loads(out)["tasks"]
    assert [(t["number"], t["stage"], t["supervisor"], t["light"]) for t in tasks] == [
        (number, "verify", "sup2", "green")]
    assert tasks[0]["remaining_minutes"] > 0 and tasks[0]["sent_by"] == "acceptor"
    code, out, _ = gh("task", "list", "--as", "supervisor", "--format", "json")  # not theirs
    assert code == 0 and json.loads(out)["tasks"] == []
    code, out, _ = gh("task", "list", "--as", "acceptor")  # text: the desk sees every supervisor's
    assert code == 0 and number in out and "核实" in out and "sup2" in out and "绿灯" in out
    code, out, _ = gh("task", "list", "--as", "acceptor", "--supervisor", "supervisor")
    assert code == 0 and out.strip() == "（没有任务）"
    code, _, err = gh("task", "list", "--as", "sup2", "--supervisor", "supervisor")
    assert code == 1 and "只能查看自己的任务" in err and "Traceback" not in err


def test_overdue_tasks(gh):
    number = _report(gh)
    assert gh("case", "verify", number, "--send", "--supervisor", "sup2", "--as", "acceptor")[0] == 0
    code, out, _ = gh("task", "list", "--as", "acceptor", "--overdue", "--format", "json")
    assert code == 0 and json.loads(out)["tasks"] == []
    later = FixedClock(gh.now + timedelta(minutes=90))  # the verify limit: 60 natural minutes
    code, out, err = gh("task", "list", "--as", "acceptor", "--overdue", "--format", "json", clock=later)
    assert code == 0, err
    [task] = json.loads(out)["tasks"]
    assert (task["number"], task["light"], task["overdue"]) == (number, "red", True)
    assert task["remaining_minutes"] < 0


def test_a_refused_supervisor_writes_nothing(gh):
    number = _report(gh)
    for name, words in (("dispatcher", "不是监督员"), ("nobody", "不存在")):
        code, _, err = gh("case", "verify", number, "--send", "--supervisor", name, "--as", "acceptor")
        assert code == 1 and words in err and "Traceback" not in err
    code, out, _ = gh("case", "show", number, "--as", "acceptor", "--format", "json")
    assert json.loads(out)["case"]["state"] == "reported"
    code, _, err = gh("case", "verify", number, "--supervisor", "sup2", "--result", "属实", "--as", "supervisor")
    assert code == 1 and "--supervisor" in err  # the option belongs to --send


def test_check_send_and_the_default_suggestion(gh, store):
    world = gh.world
    cid, _version = seed_case(store, world, CaseState.FED_BACK, at=T0)
    code, out, err = gh("task", "position", "--as", "sup2", "--at", "557160,3464450", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["position"]["on_duty"] is True
    code, out, err = gh("task", "suggest", str(cid), "--as", "acceptor")
    assert code == 0, err
    assert "1. 巡查员乙（sup2）" in out and "距案卷 10 米" in out
    code, out, err = gh("case", "check", str(cid), "--send", "--as", "acceptor", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["details"]["supervisor"]["username"] == "sup2"
    code, out, _ = gh("task", "list", "--as", "sup2", "--format", "json")
    assert [t["stage"] for t in json.loads(out)["tasks"]] == ["check"]
    code, out, err = gh("task", "position", "--as", "sup2", "--off-duty")
    assert code == 0 and "不在岗" in out
    code, out, _ = gh("task", "suggest", str(cid), "--as", "acceptor")
    assert "没有可建议的监督员" in out
    code, _, err = gh("task", "position", "--as", "acceptor", "--at", "557160,3464450")
    assert code == 1 and "只有监督员" in err


def test_the_administrator_assigns_a_grid(gh):
    code, out, err = gh("task", "assign", "320599001001006", "sup2", "--as", "admin")
    assert code == 0, err
    assert "sup2" in out
    number = _report(gh)
    code, out, _ = gh("task", "suggest", number, "--as", "acceptor", "--format", "json")
    [first] = json.loads(out)["suggestions"]
    assert (first["username"], first["assigned"]) == ("sup2", True)
    code, _, err = gh("task", "assign", "320599001001006", "sup2", "--as", "acceptor")
    assert code == 1 and "只有管理员" in err
