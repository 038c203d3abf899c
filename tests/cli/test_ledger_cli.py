"""`gridhall ledger`: the request ledger from the command line — JSON, CSV with a BOM, xlsx read back
with openpyxl, English headers with --lang en, a department's own cases with --as, and one line
(exit ≠ 0, nothing written) for bad dates, a start after the end and unwritable paths."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from services.world import PASSWORD, T0, build_world, draft, service

from app.cli import main
from app.domain.clock import FixedClock
from app.services import auth
from app.services.ledger import LedgerService, export

DAY = T0.date().isoformat()


@pytest.fixture
def ledger_db(store, monkeypatch):
    """The tiny district with three requests on T0's day (JD001: 延期 approved, 缓办 pending; HW: 回退
    refused); returns the --db argument."""
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
        r = svc.report(a["acceptor"], draft(source="supervisor", description="人民路边有一堆暴露垃圾=1+1"))
        r = svc.file(a["leader_shift"], r.case.id, r.version)
        r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department=department)
        return svc.accept(a[who], r.case.id, r.version)

    r = handling("JD001", "dept_jd")
    r = svc.request_extension(a["dept_jd"], r.case.id, r.version, minutes=480, reason="=HYPERLINK(\"x\")材料未到")
    clock.advance(timedelta(minutes=5))
    svc.approve(a["dispatcher"], r.case.id, r.version, minutes=240, note="先给半天")
    r = handling("JD001", "dept_jd")
    svc.request_defer(a["dept_jd"], r.case.id, r.version, reason="等天晴")
    r = handling("HW", "dept_hw")
    r = svc.request_return(a["dept_hw"], r.case.id, r.version, reason="不归环卫")
    svc.refuse(a["dispatcher"], r.case.id, r.version, reason="属于环卫")
    yield str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    auth.configure_hasher()
    if store.backend == "postgis":
        from app.store import security

        for name in world.actors:
            security.drop_login(store, name)


@pytest.fixture
def folder(tmp_path):
    """An empty folder for the exports (the SpatiaLite store lives in tmp_path itself)."""
    out = tmp_path / "exports"
    out.mkdir()
    return out


def _run(capsys, *argv: str):
    code = main(["ledger", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_to_standard_output_has_stable_keys(ledger_db, capsys):
    code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--format", "json", "--shares", "--db", ledger_db)
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["from", "to", "kind", "department", "count", "entries", "shares"]
    assert data["count"] == 3 and [e["kind"] for e in data["entries"]] == ["extension", "defer", "return"]
    ext = data["entries"][0]
    assert (ext["outcome"], ext["requested_minutes"], ext["granted_minutes"], ext["decided_by"]) == (
        "approved", 480, 240, "dispatcher")
    assert ext["requested_at"] == f"{DAY} 09:00:00" and ext["decided_at"] == f"{DAY} 09:05:00"
    assert data["entries"][1]["outcome"] == "pending" and data["entries"][2]["outcome"] == "refused"
    jd = next(s for s in data["shares"] if s["department"] == "JD001")
    assert (jd["month"], jd["dispatched"], jd["extension_count"], jd["extension_share"], jd["defer_share"]) == (
        T0.strftime("%Y-%m"), 2, 1, 0.5, 0.5)
    code, out, _ = _run(capsys, "--from", DAY, "--to", DAY, "--kind", "return", "--format", "json", "--db", ledger_db)
    assert [e["department"] for e in json.loads(out)["entries"]] == ["HW"] and "shares" not in json.loads(out)


def test_text_lists_every_entry(ledger_db, capsys):
    code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--shares", "--db", ledger_db)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"台账 {DAY} 至 {DAY}：3 条"
    assert "延期" in lines[1] and "已批准" in lines[1] and "申请 480 分钟" in lines[1] and "批准 240 分钟" in lines[1]
    assert "月度占比（申请数 / 派遣数）" in out and "延期申请数 1/2 = 50.0%" in out


def test_csv_has_a_bom_and_english_headers_on_request(ledger_db, capsys, folder):
    target = folder / "台账.csv"
    code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--format", "csv", "--out", str(target),
                          "--db", ledger_db)
    assert code == 0 and "台账已导出到" in out and "3 条" in out, err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("案卷号,类型,申请时间,申请人") and len(lines) == 4
    assert ',"\'=HYPERLINK' in lines[1]  # a formula typed as a reason is text in a spreadsheet
    code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--format", "csv", "--shares", "--lang", "en",
                          "--db", ledger_db)
    assert code == 0, err
    header = out.lstrip("\ufeff").splitlines()[0]
    assert header.startswith("Month,Department,Department name,Dispatched,Extensions,Extension rate")
    assert [p.name for p in folder.iterdir()] == ["台账.csv"]  # no temporary file left


def test_xlsx_reads_back_with_both_sheets(ledger_db, capsys, folder):
    target = folder / "ledger.xlsx"
    code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--format", "xlsx", "--out", str(target),
                          "--lang", "en", "--db", ledger_db)
    assert code == 0, err
    book = load_workbook(target)
    assert book.sheetnames == ["Ledger", "Monthly shares"]
    rows = list(book["Ledger"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Case no.", "Type", "Requested at", "Requested by") and len(rows) == 4
    assert rows[1][1] == "Extension" and rows[1][9] == "Approved" and rows[1][8] == 480 and rows[1][14] == 240
    shares = list(book["Monthly shares"].iter_rows(values_only=True))
    jd = next(r for r in shares[1:] if r[1] == "JD001")
    assert jd[3] == 2 and jd[4] == 1 and jd[5] == 0.5
    assert book["Monthly shares"].cell(row=2, column=6).number_format == "0.0%"
    assert sorted(p.name for p in folder.iterdir()) == ["ledger.xlsx"]


def test_a_department_sees_its_own_cases(ledger_db, capsys):
    code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--format", "json", "--as", "dept_hw", "--shares",
                          "--db", ledger_db)
    assert code == 0, err
    data = json.loads(out)
    assert [e["kind"] for e in data["entries"]] == ["return"]
    assert {s["department"] for s in data["shares"]} == {"HW"}
    code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--as", "dept_hw", "--db", ledger_db,
                          "--department", "NOPE")
    assert code == 1 and out == "" and err.count("\n") == 1 and "NOPE" in err


@pytest.mark.parametrize(("argv", "words"), [
    (("--from", "2026-13-01", "--to", DAY), "2026-13-01"),
    (("--from", "2026/03/01", "--to", DAY), "YYYY-MM-DD"),
    (("--from", DAY, "--to", "2026-03-01x"), "YYYY-MM-DD"),
    (("--from", "2026-03-05", "--to", "2026-03-01"), "晚于"),
    (("--from", DAY, "--to", DAY, "--format", "xlsx"), "--out"),
])
def test_bad_arguments_are_one_line(ledger_db, capsys, argv, words):
    code, out, err = _run(capsys, *argv, "--db", ledger_db)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err and "Traceback" not in err


def test_unwritable_paths_write_nothing(ledger_db, capsys, folder):
    for target, words in ((folder / "missing" / "x.csv", "不存在"), (folder, "目录")):
        code, out, err = _run(capsys, "--from", DAY, "--to", DAY, "--format", "csv", "--out", str(target),
                              "--db", ledger_db)
        assert code == 2 and out == "" and err.count("\n") == 1 and words in err and "Traceback" not in err
    code, _out, err = _run(capsys, "--from", "2026-13-01", "--to", DAY, "--db", ledger_db, "--lang", "en")
    assert code == 2 and "is not valid: use YYYY-MM-DD" in err
    assert list(folder.iterdir()) == []


def test_a_failed_export_leaves_no_file(store, ledger_db, folder):
    report = LedgerService(store).report(None, T0.date(), T0.date())
    with pytest.raises(ValueError):
        export(report, folder / "x.txt", "pdf", str)
    assert list(folder.iterdir()) == []
    (folder / "old.json").write_text("old")
    export(report, folder / "old.json", "json", str)  # replaced whole, never half-written
    assert json.loads((folder / "old.json").read_text())["count"] == 3
