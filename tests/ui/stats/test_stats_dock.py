"""The statistics dock over a real SpatiaLite store: the charts' figures equal the evaluation and raw SQL
counts, a click on a bar lists exactly the cases behind it, cancel stops the job, English labels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from qtpy.QtCore import Qt
from services.loop_steps import closed, handling
from services.world import T0
from sqlalchemy import text

from app.i18n import Catalogue
from app.jobs import JobRunner, JobState
from app.services import statistics
from app.services.evaluation import EvaluationService
from app.ui.jobs import JobEvents
from app.ui.stats.dock import StatsDock

DAY = T0.date()
TODAY = DAY + timedelta(days=30)


@pytest.fixture
def history(svc, world, clock):
    """Three cases on T0's day: one closed (public report), two handling at HW and JD001."""
    made = [closed(svc, world, clock, source="public").case]
    clock.advance(timedelta(minutes=30))
    made.append(handling(svc, world, clock, department="HW").case)
    clock.advance(timedelta(minutes=30))
    made.append(handling(svc, world, clock, department="JD001").case)
    return made


@pytest.fixture
def jobs(qtbot):
    runner = JobRunner(max_workers=1, name="test-stats")
    events = JobEvents(runner)
    yield runner, events
    events.close()
    runner.shutdown(timeout=10)


def _dock(qtbot, store, jobs, lang="zh_CN", compute=None, hits=None):
    def run(start, end, feedback):
        return statistics.compute(store, None, start, end, today=TODAY, feedback=feedback)

    dock = StatsDock(compute or run, TODAY, Catalogue(lang), jobs=jobs[0], job_events=jobs[1],
                     points=lambda numbers: statistics.case_points(store, None, numbers),
                     on_hits=hits.extend if hits is not None else None)
    qtbot.addWidget(dock)
    dock.resize(1600, 600)
    dock.set_period("day", DAY)
    return dock


def _computed(qtbot, dock):
    job = dock.run()
    assert job is not None
    qtbot.waitUntil(lambda: dock.job is None, timeout=30000)
    return job


def _sql(store, sql: str, **params) -> list:
    with store.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def test_figures_equal_the_evaluation_and_raw_counts(qtbot, store, history, jobs):
    dock = _dock(qtbot, store, jobs)
    assert dock.period() == (DAY, DAY)
    job = _computed(qtbot, dock)
    assert job.state is JobState.DONE
    stats = dock.stats
    since, until = str(T0.replace(hour=0)), str(T0.replace(hour=0) + timedelta(days=1))
    per_action = dict(_sql(store, "SELECT action, count(*) FROM case_events WHERE at >= :a AND at < :b "
                                  "AND action IN ('report', 'close') GROUP BY action", a=since, b=until))
    daily = stats.charts["daily"]
    assert [b.value for b in daily.series[0].bars] == [per_action["report"]] == [3]
    assert [b.value for b in daily.series[1].bars] == [per_action["close"]] == [1]
    # sources: the report payloads' counted by SQL
    channels = {b.key: b.value for b in stats.charts["channels"].series[0].bars}
    assert channels == {"public": 1, "supervisor": 2}
    # department ranking: the scores and grades are Core.evaluate's
    ev = EvaluationService(store, today=lambda: TODAY).evaluate(None, "department", DAY, DAY)
    bars = stats.charts["departments"].series[0].bars
    assert [(b.key, b.value) for b in bars] == [(r.code, round(r.score or 0.0, 2)) for r in ev.results]
    for b, r in zip(bars, ev.results, strict=True):
        assert list(b.cases) == r.behind("handle_on_time_rate")[1]
    # category Pareto and hotspots total the reports
    assert sum(b.value for b in stats.charts["pareto"].series[0].bars) == 3
    assert sum(g.reports for g in stats.grids.values()) == 3
    # handling time: one feedback in the period
    assert sum(b.value for b in stats.charts["handling"].series[0].bars) == 1
    # the trend's month counted in the database
    trend = {b.key: b.value for b in stats.charts["trend"].series[0].bars}
    assert trend[DAY.strftime("%Y-%m")] == 3 and sum(trend.values()) == 3


def test_a_click_lists_exactly_the_cases_behind_the_bar(qtbot, store, history, jobs):
    hits: list = []
    dock = _dock(qtbot, store, jobs, hits=hits)
    dock.show()
    qtbot.waitUntil(lambda: dock.stats is not None and dock.job is None, timeout=30000)
    view = dock.views["daily"]
    closures = _sql(store, "SELECT c.number FROM case_events e JOIN cases c ON c.id = e.case_id "
                           "WHERE e.action = 'close' ORDER BY c.number")
    # a real mouse click on the closures' bar (series 1, the day's index 0)
    vb = view.getPlotItem().getViewBox()
    scene = vb.mapViewToScene(view.centre(1, 0))
    pos = view.mapFromScene(scene)
    with qtbot.waitSignal(view.picked, timeout=5000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert dock.cases == [n for (n,) in closures]
    assert dock.table.rowCount() == 1 and dock.table.item(0, 1).text() == closures[0][0]
    # the reports' bar: the three cases
    dock.pick("daily", 0, 0)
    assert sorted(dock.cases) == sorted(c.number for c in history)
    # show them on the map: one point per case
    assert dock.map_button.isEnabled()
    dock.show_on_map()
    assert len(hits) == 3


def test_cancel_stops_the_job(qtbot, store, history, jobs):
    docks: list = []

    def run(start, end, feedback):  # the real computation, cancelled through the dock at its first progress
        feedback.subscribe(lambda _fraction, _message: docks[0].cancel())
        return statistics.compute(store, None, start, end, today=TODAY, feedback=feedback)

    dock = _dock(qtbot, store, jobs, compute=run)
    docks.append(dock)
    job = dock.run()
    qtbot.waitUntil(lambda: dock.job is None, timeout=30000)
    assert job.state is JobState.CANCELLED
    assert dock.stats is None
    assert "已取消" in dock.status.text()
    assert dock.compute_button.isEnabled() and not dock.cancel_button.isEnabled()


def test_english(qtbot, store, history, jobs):
    dock = _dock(qtbot, store, jobs, lang="en")
    _computed(qtbot, dock)
    assert dock.compute_button.text() == "Compute"
    assert dock.views["daily"].getPlotItem().titleLabel.text == "Daily reports and closures"
    assert "reports 3" in dock.status.text()
    dock.set_period("quarter", date(2026, 3, 2))
    assert dock.period() == (date(2026, 1, 1), date(2026, 3, 31))


def test_the_map_colours_grids_by_density_or_by_the_evaluations_grade(qtbot, store, history, jobs):
    shaded: list = []

    def run(start, end, feedback):
        return statistics.compute(store, None, start, end, today=TODAY, feedback=feedback)

    dock = StatsDock(run, TODAY, Catalogue(), jobs=jobs[0], job_events=jobs[1],
                     shade=lambda colours, legend: shaded.append((colours, legend)),
                     unshade=lambda: shaded.append(None))
    qtbot.addWidget(dock)
    dock.set_period("day", DAY)
    _computed(qtbot, dock)
    colours, legend = shaded[-1]  # density by default: every grid with a report, yellow to red
    grids = EvaluationService(store, today=lambda: TODAY).evaluate(None, "region", DAY, DAY, level="grid")
    assert set(colours) == {r.code for r in grids.results}
    assert legend and all(c in {colour for colour, _l in legend} for c in colours.values())
    dock.map_mode.setCurrentIndex(2)  # by score: the grade colours of the grid evaluation
    colours, legend = shaded[-1]
    assert colours == {r.code: r.colour for r in grids.results if r.colour}
    assert sorted(label for _c, label in legend) == sorted({r.grade for r in grids.results if r.grade})
    dock.map_mode.setCurrentIndex(0)
    assert shaded[-1] is None  # the grid layer's own style back


def test_a_future_period_is_refused_in_one_line_and_an_empty_one_says_so(qtbot, store, history, jobs):
    dock = _dock(qtbot, store, jobs)
    dock.set_period("month", TODAY + timedelta(days=62))
    job = _computed(qtbot, dock)
    assert job.state is JobState.FAILED and dock.stats is None
    assert dock.status.text().startswith("统计失败：") and "未来" in dock.status.text()
    dock.set_period("month", DAY - timedelta(days=70))  # before any case
    _computed(qtbot, dock)
    assert dock.stats is not None and dock.stats.empty
    assert "该时间段没有案卷" in dock.status.text()
    assert all(dock.stats.charts[k].empty for k in ("daily", "pareto", "departments", "channels", "hotspots"))
