"""The 台账 dock: the ledger read in a worker from a real store, filtered by kind, the monthly shares,
a double click selecting the case (also a closed one), exports as jobs read back, English headers."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from services.world import T0, build_world, draft, service

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.jobs import JobRunner
from app.services.case_source import StoreCaseSource
from app.services.errors import ValidationError
from app.services.ledger import LedgerService
from app.ui.jobs import JobEvents
from app.ui.ledger_dock import LedgerDock
from app.views.queue_state import QueueState


@pytest.fixture
def backend() -> str:
    return "spatialite"  # (the reads are tested on both stores in tests/services/test_ledger.py)


@pytest.fixture
def ledger_store(store):
    """JD001: a 延期 approved then the case closed; a 缓办 pending. HW: a 回退 refused."""
    world = build_world(store)
    clock = FixedClock(T0)
    svc, a = service(store, clock), world.actors

    def handling(department: str, who: str):
        r = svc.report(a["acceptor"], draft(source="supervisor"))
        r = svc.file(a["leader_shift"], r.case.id, r.version)
        r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department=department)
        return svc.accept(a[who], r.case.id, r.version)

    r = handling("JD001", "dept_jd")
    r = svc.request_extension(a["dept_jd"], r.case.id, r.version, minutes=480, reason="材料未到")
    clock.advance(timedelta(minutes=5))
    r = svc.approve(a["dispatcher"], r.case.id, r.version, minutes=240)
    r = svc.feedback(a["dept_jd"], r.case.id, r.version, text="已处置")
    r = svc.send_check(a["acceptor"], r.case.id, r.version)
    r = svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")
    closed = r.case.id
    r = handling("JD001", "dept_jd")
    svc.request_defer(a["dept_jd"], r.case.id, r.version, reason="等天晴")
    r = handling("HW", "dept_hw")
    r = svc.request_return(a["dept_hw"], r.case.id, r.version, reason="不归环卫")
    svc.refuse(a["dispatcher"], r.case.id, r.version, reason="属于环卫")
    return store, closed


@pytest.fixture
def jobs(qtbot):
    runner = JobRunner(max_workers=1, name="test-job")
    events = JobEvents(runner)
    yield runner, events
    events.close()
    runner.shutdown(timeout=5)


def _dock(qtbot, ledger_store, runner, jobs, calendar, lang="zh_CN", load=None):
    store, _closed = ledger_store
    state = QueueState(calendar)
    service_ = LedgerService(store)
    dock = LedgerDock(load or (lambda start, end, kind: service_.report(None, start, end, kind=kind)), runner,
                      T0.date(), Catalogue(lang), jobs=jobs[0], job_events=jobs[1], state=state,
                      fetch=StoreCaseSource(store).case)
    qtbot.addWidget(dock)
    dock.resize(1200, 420)
    return dock, state


def _search(qtbot, dock):
    answers = []
    dock.search(done=answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    return answers[0]


def _cells(table, row):
    return [table.item(row, c).text() if table.item(row, c) else "" for c in range(table.columnCount())]


def test_the_ledger_and_its_shares_are_read_in_a_worker(qtbot, ledger_store, runner, jobs, calendar, tmp_path):
    dock, _state = _dock(qtbot, ledger_store, runner, jobs, calendar)
    assert dock.period() == (T0.date().replace(day=1), T0.date())
    assert not dock.xlsx_button.isEnabled()  # nothing to export yet
    report = _search(qtbot, dock)
    assert len(report.entries) == 3 and dock.table.rowCount() == 3
    first = _cells(dock.table, 0)
    assert first[:2] == [report.entries[0].case_number, "延期"] and "已批准" in first and "240" in first
    assert "未批准" in _cells(dock.table, 2)
    assert dock.status.text() == "共 3 条" and dock.xlsx_button.isEnabled()
    shares = {_cells(dock.shares, r)[1]: _cells(dock.shares, r) for r in range(dock.shares.rowCount())}
    assert shares["JD001"][3] == "2" and shares["JD001"][5] == "50.0%" and shares["HW"][7] == "100.0%"
    dock.kind.setCurrentIndex(dock.kind.findData("return"))
    assert [x.kind.value for x in _search(qtbot, dock).entries] == ["return"] and dock.table.rowCount() == 1
    dock.grab().save(str(tmp_path / "ledger_dock.png"))


def test_a_double_click_makes_the_case_current_even_a_closed_one(qtbot, ledger_store, runner, jobs, calendar):
    dock, state = _dock(qtbot, ledger_store, runner, jobs, calendar)
    _search(qtbot, dock)
    closed = ledger_store[1]
    row = next(r for r, x in enumerate(dock.report.entries) if x.case_id == closed)
    dock.open_row(row)
    qtbot.waitUntil(lambda: state.selected_id == closed, timeout=10_000)
    assert state.archived_id == closed  # not in the queue: shown as found
    dock.open_row(99)  # no such row: nothing happens


def test_exports_run_as_jobs_and_read_back(qtbot, ledger_store, runner, jobs, calendar, tmp_path):
    dock, _state = _dock(qtbot, ledger_store, runner, jobs, calendar, lang="en")
    assert dock.table.horizontalHeaderItem(0).text() == "Case no."
    assert dock.tabs.tabText(1) == "Monthly shares"
    _search(qtbot, dock)
    target = tmp_path / "ledger.xlsx"
    job = dock.export_to(str(target), "xlsx")
    assert job is not None and not dock.xlsx_button.isEnabled()
    assert dock.export_to(str(tmp_path / "again.xlsx"), "xlsx") is None  # one at a time
    qtbot.waitUntil(lambda: dock.last_export is job, timeout=10_000)
    assert str(target) in dock.status.text() and dock.xlsx_button.isEnabled()
    book = load_workbook(target)
    assert book.sheetnames == ["Ledger", "Monthly shares"] and book["Ledger"].max_row == 4
    job = dock.export_to(str(tmp_path / "ledger.csv"), "csv")
    qtbot.waitUntil(lambda: dock.last_export is job, timeout=10_000)
    with open(tmp_path / "ledger.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["Case no.", "Type"] and len(rows) == 4
    job = dock.export_to(str(tmp_path / "missing" / "x.csv"), "csv")
    qtbot.waitUntil(lambda: dock.last_export is job, timeout=10_000)
    assert "does not exist" in dock.status.text() and not (tmp_path / "missing").exists()


def test_a_refused_read_says_why(qtbot, ledger_store, runner, jobs, calendar):
    def refuse(start, end, kind):
        raise ValidationError("period", "开始日期晚于结束日期")

    dock, _state = _dock(qtbot, ledger_store, runner, jobs, calendar, load=refuse)
    answer = _search(qtbot, dock)
    assert isinstance(answer, ValidationError)
    assert "开始日期晚于结束日期" in dock.status.text() and dock.table.rowCount() == 0
    assert not dock.csv_button.isEnabled()


def test_the_first_show_reads_this_month(qtbot, ledger_store, runner, jobs, calendar):
    dock, _state = _dock(qtbot, ledger_store, runner, jobs, calendar)
    assert dock.report is None
    dock.show()
    qtbot.waitUntil(lambda: dock.report is not None, timeout=10_000)
    assert dock.table.rowCount() == 3
    dock.hide()
    dock.show()  # not again: the user asks with 查询
    assert not dock.busy
