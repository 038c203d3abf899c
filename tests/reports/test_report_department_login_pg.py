"""`gridhall report department … --as <department login>` on PostGIS: a department's login sees its own
cases only (row-level security), so it cannot verify the whole audit chain. The report is refused in
one clear line that says why (a permission, not a broken chain) and how to build it; nothing is
written. The same report built by an analyst's login verifies the chain and is written."""

from __future__ import annotations

import pytest
from services.world import PASSWORD, T0, build_world, draft, service

from app.cli import main
from app.domain.clock import FixedClock
from app.services import auth

pytestmark = pytest.mark.postgis
MONTH = T0.strftime("%Y-%m")


@pytest.fixture
def backend() -> str:
    return "postgis"


@pytest.fixture
def report_db(store, monkeypatch):
    from tests.store.hall import world_logins

    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    world = build_world(store)
    world_logins(store, world, PASSWORD)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    svc, a = service(store, FixedClock(T0)), world.actors
    for department in ("JD001", "HW"):
        r = svc.report(a["acceptor"], draft(source="supervisor"))
        r = svc.file(a["leader_shift"], r.case.id, r.version)
        svc.dispatch(a["dispatcher"], r.case.id, r.version, department=department)
    yield store.url.render_as_string(hide_password=False)
    auth.configure_hasher()
    from app.store import security

    for name in world.actors:
        security.drop_login(store, name)


def test_a_department_login_is_told_why_and_nothing_is_written(report_db, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    code = main(["report", "department", "JD001", "--month", MONTH, "--out", str(out / "jd.pdf"), "--no-map",
                 "--db", report_db, "--as", "dept_jd"])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "无法校验整条审计链" in err and "--as <分析员账户>" in err and "department JD001" in err
    assert "审计链校验未通过" not in err and "被改动，请先运行" not in err  # no false alarm of tampering
    assert list(out.iterdir()) == []


def test_in_english(report_db, tmp_path, capsys):
    code = main(["report", "department", "JD001", "--month", MONTH, "--out", str(tmp_path / "jd.pdf"), "--no-map",
                 "--lang", "en", "--db", report_db, "--as", "dept_jd"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot verify the whole audit chain" in err and "the chain is not broken" in err


def test_an_analysts_login_builds_the_departments_report(report_db, tmp_path, capsys):
    target = tmp_path / "jd.pdf"
    code = main(["report", "department", "JD001", "--month", MONTH, "--out", str(target), "--no-map",
                 "--db", report_db, "--as", "analyst"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert target.read_bytes()[:5] == b"%PDF-" and "简报已生成" in captured.out
