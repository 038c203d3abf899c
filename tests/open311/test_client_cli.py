"""``gridhall exchange pull|push|replies|log`` end to end against the real Open311 server on loopback,
on both backends (on PostGIS as the acceptor's own login: migration 0023's grants and row security)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from services.world import PASSWORD, build_world

from app.cli import build_parser
from app.cli.exchange import KEY_ENV, run_exchange
from app.domain.clock import FixedClock
from app.services import auth
from open311.test_client_exchange import Platform

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def clock() -> FixedClock:
    """Now, standing still: on PostGIS a login's events must be within minutes of the database's clock."""
    from app.domain.clock import SystemClock

    return FixedClock(SystemClock().now().replace(microsecond=0))


@pytest.fixture
def platform(tmp_path, clock):
    p = Platform(tmp_path, clock)
    p.start()
    yield p
    p.stop()
    p.store.dispose()


@pytest.fixture
def cli(store, monkeypatch, capsys, clock):
    """Run ``gridhall exchange …`` against the tiny district; returns (exit code, stdout, stderr)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    if store.backend == "spatialite":
        world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:
        from tests.store.hall import world_logins

        world = build_world(store)
        world_logins(store, world, PASSWORD)
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv(KEY_ENV, raising=False)

    def run(*argv: str):
        try:
            args = build_parser().parse_args(["exchange", *argv, "--db", db])
        except SystemExit as exc:
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        code = run_exchange(args, clock=clock)
        out = capsys.readouterr()
        return code, out.out, out.err

    run.world = world  # type: ignore[attr-defined]
    yield run
    auth.configure_hasher()


def _remote(platform) -> list[str]:
    assert platform.base is not None
    return ["--endpoint", platform.base, "--api-key", platform.key, "--platform", "city", "--as", "acceptor"]


def test_pull_push_replies_and_log(cli, platform, clock, store):
    first = platform.post("人民路边有一堆暴露垃圾")
    clock.advance(timedelta(minutes=1))
    code, out, err = cli("pull", *_remote(platform))
    assert code == 0, err
    assert "pull" in out and first in out and "新建案卷 1" in out
    since = (clock.now() - timedelta(days=1)).date().isoformat()
    code, out, err = cli("pull", *_remote(platform), "--since", since, "--format", "json")
    summary = json.loads(out)
    assert code == 0 and summary["counts"] == {"known": 1} and summary["error"] is None

    # the pulled report is filed in the hall: its reply is owed through the platform
    from app.core import build_core

    core = build_core(store, clock)  # the store's own account (PostGIS: the owner) files it
    a = cli.world.actors
    case = core.cases.list_cases(limit=5)[0]
    r = core.cases.send_verify(a["acceptor"], case.id, case.version)
    r = core.cases.verify(a["supervisor"], case.id, r.version, result="现场属实")
    core.cases.file(a["leader_shift"], case.id, r.version)
    code, out, err = cli("replies")
    assert code == 0 and "platform" in out and "已立案" in out and "立案" in out, err
    code, out, err = cli("push", *_remote(platform), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["counts"] == {"updated": 1}
    assert [u["status"] for u in platform.app.updates] == ["ACTION_SCHEDULED"]
    code, out, err = cli("replies", "--format", "json")
    assert code == 0 and json.loads(out) == []
    code, out, err = cli("replies", "--done")
    assert code == 0 and "platform" in out and "acceptor" in out
    code, out, err = cli("log", "--platform", "city", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["outcome"] for r in rows][:1] == ["updated"] and "created" in [r["outcome"] for r in rows]


def test_a_hotline_reply_is_listed_and_marked_done_at_the_desk(cli, store, clock, monkeypatch):
    from services.world import draft

    from app.core import build_core

    core = build_core(store, clock)
    a = cli.world.actors
    r = core.cases.report(a["acceptor"], draft(source="hotline", reporter_name="市民甲", reporter_phone="13800000000"))
    from services.world import verified

    r = verified(core.cases, cli.world, r)
    core.cases.file(a["leader_shift"], r.case.id, r.version)
    code, out, err = cli("replies", "--channel", "hotline", "--format", "json")
    (owed,) = json.loads(out)
    assert code == 0 and owed["after"] == "file" and owed["reporter_phone"] == "13800000000"
    code, out, err = cli("replies", "--mark-done", str(owed["event_id"]), "--as", "acceptor", "--note", "已电话告知")
    assert code == 0 and "已登记" in out, err
    code, out, err = cli("replies", "--mark-done", str(owed["event_id"]), "--as", "acceptor")
    assert code == 1 and out == "" and err.count("\n") == 1 and "已登记过" in err
    code, out, err = cli("replies", "--mark-done", str(owed["event_id"]), "--as", "dispatcher")
    assert code == 1 and "受理员或值班长" in err
    code, out, err = cli("replies", "--mark-done", "150000", "--as", "acceptor")  # a city's event ids pass 100,000
    assert code == 1 and err.count("\n") == 1 and "没有编号为 150000 的案卷事件" in err, err
    code, out, err = cli("replies", "--mark-done", str(2**31), "--as", "acceptor")
    assert code == 2 and "out of range" in err
    monkeypatch.setenv("GRIDHALL_LANG", "en")
    code, out, err = cli("replies")
    assert code == 0 and out.strip() == "no replies are owed"


def test_replies_in_english(cli, store, clock, monkeypatch):
    if store.backend == "postgis":
        pytest.skip("the language is the catalogue's, not the store's")
    from services.world import draft, verified

    from app.core import build_core

    core = build_core(store, clock)
    a = cli.world.actors
    r = verified(core.cases, cli.world, core.cases.report(a["acceptor"], draft(source="public")))
    core.cases.file(a["leader_shift"], r.case.id, r.version)
    monkeypatch.setenv("GRIDHALL_LANG", "en")
    code, out, err = cli("replies")
    assert code == 0, err
    assert "has been filed" in out and f"on {clock.now():%Y-%m-%d}" in out and "reply by" in out


def test_refusals_are_one_line(cli, platform):
    code, out, err = cli("pull", "--endpoint", "ftp://x", "--api-key", "k", "--as", "acceptor")
    assert code == 1 and out == "" and err.count("\n") == 1 and "http://" in err
    code, out, err = cli("pull", "--endpoint", platform.base, "--as", "acceptor")
    assert code == 1 and err.count("\n") == 1 and KEY_ENV in err
    code, out, err = cli("pull", "--endpoint", "http://127.0.0.1:9", "--api-key", "k", "--as", "acceptor")
    assert code == 1 and "连不上上级平台" in err and "再次运行" in err and "Traceback" not in err
    code, out, err = cli("pull", "--endpoint", platform.base, "--api-key", "gh311_wrong", "--as", "acceptor")
    assert code == 1 and "403" in err and "Traceback" not in err
    code, out, err = cli("push", *_remote(platform), "--send-new", "nonsense")
    assert code == 1 and err.count("\n") == 1 and "nonsense" in err

def test_hostile_times_on_the_command_line_are_one_line(cli, platform):
    """An offset that overflows, a year out of range, --until before --since: refused before any call."""
    for since, code_wanted in (("0001-01-01T00:00:00+09:00", 2), ("9999-12-31T23:59:59", 2), ("1000-01-01", 2)):
        code, out, err = cli("pull", *_remote(platform), "--since", since)
        assert code == code_wanted and "Traceback" not in err and "--since" in err, (since, err)
    code, out, err = cli("pull", *_remote(platform), "--since", "2026-12-08", "--until", "2026-01-01")
    assert code == 1 and err.count("\n") == 1 and "--until 早于 --since" in err
    code, out, err = cli("pull", *_remote(platform), "--since", "2026-03-01T00:00:00Z", "--until", "2026-03-02T00:00:00+08:00")
    assert code == 0, err


def test_ctrl_c_keeps_what_was_done_and_the_next_run_goes_on(cli, platform, clock, store, monkeypatch):
    from app.open311.client import Exchange

    for i in range(3):
        platform.post(f"人民路边有一堆暴露垃圾 {i}")
    told = Exchange._told

    def interrupt_after_first(self, summary, outcome, remote_id, case_id):
        told(self, summary, outcome, remote_id, case_id)
        if outcome == "created":
            raise KeyboardInterrupt

    monkeypatch.setattr(Exchange, "_told", interrupt_after_first)
    code, out, err = cli("pull", *_remote(platform))
    assert code == 130 and err.count("\n") == 1 and "中断前完成的条目已保存" in err
    monkeypatch.setattr(Exchange, "_told", told)
    code, out, err = cli("pull", *_remote(platform), "--format", "json")
    assert code == 0 and json.loads(out)["counts"] == {"known": 1, "created": 2}, err
    from app.store.exchange import links

    with store.session() as s:
        assert len(links(s, "city")) == 3
