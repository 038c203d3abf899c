"""The statistics dock's 生成月报 (the monthly bulletin as a job: where to save, progress, cancel
with no file left behind) and its exports (exactly the listed cases, every chart's figures) to
.xlsx and CSV — on a real SpatiaLite store, the real bulletin builder (QGIS map page, PDF)."""

from __future__ import annotations

import csv
import threading
from datetime import timedelta

import pytest
from qtpy.QtCore import Qt
from services.loop_steps import closed, handling
from services.world import T0

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.jobs import JobRunner, JobState
from app.reports.build import build_bulletin
from app.services import statistics
from app.services.bulletin import Month
from app.ui.jobs import JobEvents
from app.ui.stats.dock import StatsDock

DAY = T0.date()
TODAY = DAY + timedelta(days=40)


@pytest.fixture
def history(svc, world, clock):
    made = [closed(svc, world, clock, source="public").case]
    clock.advance(timedelta(minutes=30))
    made.append(handling(svc, world, clock, department="HW").case)
    return made


@pytest.fixture
def out(tmp_path):
    """The output folder (the store lives in tmp_path itself)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def jobs(qtbot):
    runner = JobRunner(max_workers=1, name="test-stats-bulletin")
    events = JobEvents(runner)
    yield runner, events
    events.close()
    runner.shutdown(timeout=30)


def _dock(qtbot, store, jobs, *, bulletin=None, ask=None, lang="zh_CN"):
    def run(start, end, feedback):
        return statistics.compute(store, None, start, end, today=TODAY, feedback=feedback)

    def build(first_day, out, feedback):
        return build_bulletin(store, None, Month(first_day.year, first_day.month), out, FixedClock(T0 + timedelta(days=40)),
                              Catalogue(lang).text, lang=lang, by="analyst", feedback=feedback)

    dock = StatsDock(run, TODAY, Catalogue(lang), jobs=jobs[0], job_events=jobs[1], bulletin=bulletin or build,
                     ask_path=ask)
    qtbot.addWidget(dock)
    dock.resize(1600, 600)
    dock.set_period("month", DAY)
    return dock, build


def test_the_button_asks_where_and_builds_the_months_bulletin(qtbot, store, history, jobs, out):
    asked = []
    target = out / "简报"

    def ask(suggested, filters):
        asked.append((suggested, filters))
        return str(target)  # no suffix: .pdf is added

    dock, _build = _dock(qtbot, store, jobs, ask=ask)
    assert dock.bulletin_button.isVisible() or not dock.isVisible()
    assert dock.bulletin_month() == DAY.replace(day=1)
    qtbot.mouseClick(dock.bulletin_button, Qt.MouseButton.LeftButton)
    assert asked == [(f"简报-{DAY:%Y-%m}.pdf", "PDF 文件 (*.pdf)")]
    assert dock.bulletin_job is not None and not dock.bulletin_button.isEnabled() and dock.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dock.bulletin_job is None, timeout=120000)
    job = dock.last_bulletin
    assert job.state is JobState.DONE, job.error
    pdf = out / "简报.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and job.result.pages >= 3
    assert "简报已生成" in dock.status.text() and str(pdf) in dock.status.text()
    assert dock.bulletin_button.isEnabled() and not dock.cancel_button.isEnabled()


def test_a_dismissed_dialog_starts_nothing(qtbot, store, history, jobs):
    dock, _build = _dock(qtbot, store, jobs, ask=lambda _s, _f: None)
    qtbot.mouseClick(dock.bulletin_button, Qt.MouseButton.LeftButton)
    assert dock.bulletin_job is None and dock.last_bulletin is None


def test_cancel_from_the_button_leaves_no_file(qtbot, store, history, jobs, out):
    started, release = threading.Event(), threading.Event()
    holder = {}

    def gated(first_day, out, feedback):
        started.set()
        release.wait(30)
        return holder["build"](first_day, out, feedback)

    dock, holder["build"] = _dock(qtbot, store, jobs, bulletin=gated)
    job = dock.build_bulletin(str(out / "b.pdf"))
    assert job is not None
    qtbot.waitUntil(started.is_set, timeout=10000)
    qtbot.mouseClick(dock.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: dock.bulletin_job is None, timeout=60000)
    assert job.state is JobState.CANCELLED
    assert list(out.iterdir()) == []  # neither the PDF nor a temporary file
    assert "已取消" in dock.status.text() and "没有留下文件" in dock.status.text()


def test_cancel_while_the_pdf_is_written_leaves_no_file(qtbot, store, history, jobs, out):
    holder = {}

    def late_cancel(first_day, out, feedback):  # the user cancels while the PDF is being laid out
        feedback.subscribe(lambda fraction, _message: fraction >= 0.8 and feedback.cancel())
        return holder["build"](first_day, out, feedback)

    dock, holder["build"] = _dock(qtbot, store, jobs, bulletin=late_cancel)
    job = dock.build_bulletin(str(out / "b.pdf"))
    qtbot.waitUntil(lambda: dock.bulletin_job is None, timeout=120000)
    assert job.state is JobState.CANCELLED
    assert list(out.iterdir()) == []


def test_a_future_month_is_refused_in_one_line(qtbot, store, history, jobs, out):
    dock, _build = _dock(qtbot, store, jobs)
    dock.set_period("month", TODAY + timedelta(days=40))
    assert dock.build_bulletin(str(out / "b.pdf")) is None
    assert "尚未开始" in dock.status.text() and list(out.iterdir()) == []


def test_exports_exactly_the_listed_cases_and_every_chart(qtbot, store, history, jobs, out):
    from openpyxl import load_workbook

    dock, _build = _dock(qtbot, store, jobs)
    assert not dock.export_button.isEnabled() and not dock.tables_button.isEnabled()
    dock.run()
    qtbot.waitUntil(lambda: dock.job is None, timeout=30000)
    assert dock.tables_button.isEnabled()
    daily = dock.stats.charts["daily"]
    index = next(i for i, b in enumerate(daily.series[0].bars) if b.value)
    dock.pick("daily", 0, index)
    listed = list(dock.cases)
    assert listed and dock.export_button.isEnabled()
    dock.export_cases(str(out / "cases.xlsx"))
    sheet = load_workbook(out / "cases.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "案卷号", "图形") and [r[1] for r in rows[1:]] == listed
    dock.export_cases(str(out / "cases.csv"))
    with open(out / "cases.csv", encoding="utf-8-sig", newline="") as f:
        assert [r[1] for r in list(csv.reader(f))[1:]] == listed
    dock.export_tables(str(out / "charts"))  # no suffix: .xlsx
    table = list(load_workbook(out / "charts.xlsx").active.iter_rows(values_only=True))
    assert table[0] == ("图表", "系列", "项目", "数值", "案卷数")
    charts = {r[0] for r in table[1:]}
    assert len(charts) >= 5
    reports = sum(r[3] for r in table[1:] if r[0] == Catalogue().text(daily.title) and r[1] == Catalogue().text(
        daily.series[0].name))
    assert reports == sum(b.value for b in daily.series[0].bars)
    assert "已导出" in dock.status.text()


def test_an_unwritable_export_says_so_and_writes_nothing(qtbot, store, history, jobs, out):
    dock, _build = _dock(qtbot, store, jobs)
    dock.run()
    qtbot.waitUntil(lambda: dock.job is None, timeout=30000)
    dock.export_tables(str(out / "missing" / "t.csv"))
    assert "导出失败" in dock.status.text()
    assert not (out / "missing").exists()


def test_from_a_departments_grade_to_its_late_cases_on_the_map_and_out(qtbot, store, history, jobs, out):
    """The analyst's path: last month, a department's bar (its grade in the tooltip note), its late
    cases only, those on the map, and exactly those exported."""
    from openpyxl import load_workbook

    hits: list = []
    dock, _build = _dock(qtbot, store, jobs)
    dock.points = lambda numbers: statistics.case_points(store, None, numbers)
    dock.on_hits = hits.extend
    dock.run()
    qtbot.waitUntil(lambda: dock.job is None, timeout=30000)
    bars = dock.stats.charts["departments"].series[0].bars
    index = next(i for i, b in enumerate(bars) if b.late)
    dock.pick("departments", 0, index)
    assert dock.late_only.isEnabled() and "按期处置" in dock.cases_title.text()
    dock.late_only.setChecked(True)
    late = list(bars[index].late)
    assert dock.cases == late and history[1].number in late
    dock.show_on_map()
    assert len(hits) == len(late)
    dock.export_cases(str(out / "late.xlsx"))
    rows = list(load_workbook(out / "late.xlsx").active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == late
