"""The statistics reads on both stores: the counts equal raw SQL over case_events, the trend's month counted
in the database lists the same cases a click reads, the map's points are the cases'."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from services.loop_steps import closed, handling
from services.world import T0
from sqlalchemy import text

from app.services import statistics
from app.store import statistics as store_stats

DAY = T0.date()
TODAY = DAY + timedelta(days=40)


@pytest.fixture(params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def history(svc, world, clock):
    made = [closed(svc, world, clock, source="hotline").case]
    clock.advance(timedelta(days=1))
    made.append(handling(svc, world, clock, department="HW").case)
    clock.advance(timedelta(days=31))  # next month
    made.append(closed(svc, world, clock, source="public").case)
    return made


def test_reads_equal_raw_sql(store, history):
    since, until = datetime(2026, 3, 1), datetime(2026, 4, 1)
    with store.engine.connect() as conn:
        raw = {a: sorted(n for (n,) in conn.execute(text(
            "SELECT c.number FROM case_events e JOIN cases c ON c.id = e.case_id "
            "WHERE e.action = :a AND e.at >= :s AND e.at < :u"), {"a": a, "s": since, "u": until}))
            for a in ("report", "close", "feedback")}
    with store.session() as s:
        reports = store_stats.reports(s, since, until)
        closes = store_stats.closures(s, since, until)
        handled = store_stats.handlings(s, since, until)
        monthly = store_stats.monthly(s, datetime(2026, 1, 1), datetime(2026, 6, 1))
        points = store_stats.case_points(s, [c.number for c in history])
    assert sorted(r[1] for r in reports) == raw["report"] and len(raw["report"]) == 2
    assert sorted(r[1] for r in closes) == raw["close"] and len(raw["close"]) == 1
    assert sorted(r[1] for r in handled) == raw["feedback"]
    assert all(dispatched < fed_back for _c, _n, dispatched, fed_back in handled)
    assert {f["source"] for _c, _n, _at, f in reports} == {"hotline", "supervisor"}
    assert monthly == {("2026-03", "report"): 2, ("2026-03", "close"): 1, ("2026-04", "report"): 1,
                       ("2026-04", "close"): 1}
    assert sorted(n for n, _x, _y in points) == sorted(c.number for c in history)


def test_the_trend_and_its_drill_agree(store, history):
    stats = statistics.compute(store, None, DAY, DAY + timedelta(days=40), today=TODAY)
    trend = stats.charts["trend"]
    for series, action in zip(trend.series, ("report", "close"), strict=True):
        for bar in series.bars:
            assert bar.query is not None and bar.query[0] == action
            assert len(statistics.month_cases(store, None, *bar.query)) == bar.value
    assert [b.value for b in trend.series[0].bars][-2:] == [2, 1]
    assert stats.reports == 3 and stats.closures == 2
