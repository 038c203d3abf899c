"""`gridhall evaluate` from the command line: JSON with every count behind every rate (an independent
recount from the case events agrees), CSV with a BOM, text, a department's own row with --as, and
one line (exit 2, nothing written) for an unknown subject or level, bad or reversed dates, a future
period and unwritable paths; an empty period is a valid, empty result that says so."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from services.world import PASSWORD, T0, build_world, draft, service
from sqlalchemy import text

from app.cli import main
from app.domain.clock import FixedClock
from app.services import auth

DAY = T0.date().isoformat()


@pytest.fixture
def eval_db(store, monkeypatch):
    """The tiny district with three cases on T0's day: JD001 closes one, HW handles one, one is
    returned by HW and dispatched to JD001; returns the --db argument."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    if store.backend == "spatialite":
        world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:  # PostGIS: --as X connects as X's own login gh_X
        from tests.store.hall import world_logins

        world = build_world(store)
        world_logins(store, world, PASSWORD)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    clock = FixedClock(T0)
    svc, a = service(store, clock), world.actors

    def handling(department: str, who: str):
        r = svc.report(a["supervisor"], draft(source="supervisor"))
        r = svc.file(a["leader_shift"], r.case.id, r.version)
        r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department=department)
        return svc.accept(a[who], r.case.id, r.version)

    r = handling("JD001", "dept_jd")
    clock.advance(timedelta(hours=1))
    r = svc.feedback(a["dept_jd"], r.case.id, r.version, text="已清运")
    r = svc.send_check(a["acceptor"], r.case.id, r.version)
    r = svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")
    svc.close(a["leader_shift"], r.case.id, r.version, override=True, note="照片稍后补")
    handling("HW", "dept_hw")
    r = handling("HW", "dept_hw")
    r = svc.request_return(a["dept_hw"], r.case.id, r.version, reason="不归环卫")
    r = svc.approve(a["dispatcher"], r.case.id, r.version)
    svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    yield str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    auth.configure_hasher()
    if store.backend == "postgis":
        from app.store import security

        for name in world.actors:
            security.drop_login(store, name)


def _run(capsys, *argv: str):
    code = main(["evaluate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_every_count_and_agrees_with_a_raw_recount(store, eval_db, capsys):
    code, out, err = _run(capsys, "--subject", "department", "--from", DAY, "--to", DAY, "--format", "json",
                          "--db", eval_db)
    assert code == 0, err
    data = json.loads(out)
    assert list(data)[:6] == ["subject", "level", "from", "to", "partial", "empty"]
    assert data["rules"]["version"] and len(data["rules"]["sha256"]) == 64 and not data["empty"]
    by = {r["code"]: r for r in data["results"]}
    for r in by.values():
        for figure in r["rates"].values():
            assert set(figure) == {"numerator", "denominator", "value"}
            if figure["denominator"]:
                assert figure["value"] == round(figure["numerator"] / figure["denominator"], 6)
    # an independent recount over the same rows: dispatches per department, returns approved
    with store.engine.connect() as conn:
        dispatched = dict(conn.execute(text(
            "SELECT d.code, count(*) FROM case_events e JOIN departments d ON d.id = e.department_id "
            "WHERE e.action = 'dispatch' GROUP BY d.code")).all())
    assert {c: r["counts"]["assigned"] for c, r in by.items()} == dispatched == {"JD001": 2, "HW": 2}
    assert by["JD001"]["rates"]["close_rate"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert by["HW"]["rates"]["return_share"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert by["JD001"]["flags"]["override"]["count"] == 1  # closed by the shift leader's override
    code, again, _ = _run(capsys, "--subject", "department", "--from", DAY, "--to", DAY, "--format", "json",
                          "--db", eval_db)
    assert again == out  # determinism


def test_text_csv_and_regions(eval_db, capsys, tmp_path):
    code, out, err = _run(capsys, "--subject", "region", "--level", "street", "--from", DAY, "--to", DAY,
                          "--db", eval_db)
    assert code == 0, err
    assert out.splitlines()[0].startswith("考核 region street：") and "结案率 1/3 = 33.3%" in out
    assert "案卷太少，不参与排名" in out
    target = tmp_path / "exports"
    target.mkdir()
    code, out, err = _run(capsys, "--subject", "position", "--from", DAY, "--to", DAY, "--format", "csv",
                          "--out", str(target / "岗位.csv"), "--db", eval_db)
    assert code == 0 and "已导出" in out, err
    raw = (target / "岗位.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("rank,level,code,name,score,grade,insufficient,base")
    assert "dispatch_on_time_rate.numerator" in lines[0] and any(",dispatcher,dispatcher," in x for x in lines)
    assert [p.name for p in target.iterdir()] == ["岗位.csv"]


def test_a_department_sees_its_own_row(eval_db, capsys):
    code, out, err = _run(capsys, "--subject", "department", "--from", DAY, "--to", DAY, "--format", "json",
                          "--as", "dept_hw", "--db", eval_db)
    assert code == 0, err
    assert [r["code"] for r in json.loads(out)["results"]] == ["HW"]


def test_an_empty_period_says_so(eval_db, capsys):
    code, out, err = _run(capsys, "--subject", "region", "--from", "2026-01-01", "--to", "2026-01-31",
                          "--format", "json", "--db", eval_db)
    assert code == 0, err
    data = json.loads(out)
    assert data["empty"] and data["results"] == [] and data["note"] == "该时间段没有可考核的案卷"
    code, out, err = _run(capsys, "--subject", "region", "--from", "2026-01-01", "--to", "2026-01-31",
                          "--db", eval_db, "--lang", "en")
    assert code == 0 and "no cases to evaluate" in out, err


@pytest.mark.parametrize(("argv", "words"), [
    (("--subject", "planets", "--from", DAY, "--to", DAY), "planets"),
    (("--subject", "region", "--level", "moon", "--from", DAY, "--to", DAY), "moon"),
    (("--subject", "department", "--level", "grid", "--from", DAY, "--to", DAY), "--level"),
    (("--subject", "region", "--from", "2026-13-01", "--to", DAY), "2026-13-01"),
    (("--subject", "region", "--from", "2026-03-05", "--to", "2026-03-01"), "晚于"),
    (("--subject", "region", "--from", "2999-01-01", "--to", "2999-01-31"), "未来"),
])
def test_bad_arguments_are_one_line(eval_db, capsys, argv, words):
    code, out, err = _run(capsys, *argv, "--db", eval_db)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err and "Traceback" not in err


def test_unwritable_paths_write_nothing(eval_db, capsys, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    for target, words in ((folder / "missing" / "x.json", "不存在"), (folder, "目录")):
        code, out, err = _run(capsys, "--subject", "region", "--from", DAY, "--to", DAY, "--format", "json",
                              "--out", str(target), "--db", eval_db)
        assert code == 2 and out == "" and err.count("\n") == 1 and words in err
    assert list(folder.iterdir()) == []


def test_the_cases_behind_each_rate_on_request(eval_db, capsys):
    code, out, err = _run(capsys, "--subject", "department", "--from", DAY, "--to", DAY, "--format", "json",
                          "--cases", "--db", eval_db)
    assert code == 0, err
    for r in json.loads(out)["results"]:
        for figure in r["rates"].values():
            assert len(figure["cases"]["numerator"]) == figure["numerator"]
            assert len(figure["cases"]["denominator"]) == figure["denominator"]
    hw = next(r for r in json.loads(out)["results"] if r["code"] == "HW")
    assert len(hw["rates"]["return_share"]["cases"]["numerator"]) == 1
