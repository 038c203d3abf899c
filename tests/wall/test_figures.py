"""Each headline tile against an independent count over the raw rows of the store (sqlite3, not the store's SQL)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from ui.forms.world import T0

from app.domain.definitions import CaseState
from app.domain.wall import Tile, daily_trend, windows
from app.store import wall as q
from app.store.wall import open_wall_store
from app.views.wall.model import read_snapshot, read_tiles

TERMINAL = {s.value for s in CaseState if s.is_terminal}


def _dt(text):
    return None if text is None else datetime.fromisoformat(text)


@pytest.fixture
def raw(desk_store):
    """Every case and event row, read with plain sqlite3."""
    conn = sqlite3.connect(f"file:{desk_store.path}?mode=ro", uri=True)
    cases = {r[0]: dict(id=r[0], reported_at=_dt(r[1]), fed_back_at=_dt(r[2]), handle_deadline_at=_dt(r[3]),
                        deadline_at=_dt(r[4]), paused_since=_dt(r[5]), state=r[6], level=r[7])
             for r in conn.execute("SELECT id, reported_at, fed_back_at, handle_deadline_at, deadline_at, "
                                   "paused_since, state, level FROM cases")}
    events = [dict(case_id=r[0], action=r[1], at=_dt(r[2]), to_state=r[3])
              for r in conn.execute("SELECT case_id, action, at, to_state FROM case_events")]
    conn.close()
    return cases, events


def _expected(raw, now: datetime) -> dict[str, Tile]:
    cases, events = raw
    (t0, t1), (y0, y1) = windows(now)

    def counts(a, b):
        def n(action):
            return sum(1 for e in events if e["action"] == action and a <= e["at"] < b)
        closes = [cases[e["case_id"]] for e in events if e["action"] == "close" and a <= e["at"] < b]
        timed = [c for c in closes if c["handle_deadline_at"] is not None]
        on_time = [c for c in timed if c["fed_back_at"] is not None and c["fed_back_at"] <= c["handle_deadline_at"]]
        return dict(reports=sum(1 for c in cases.values() if a <= c["reported_at"] < b),
                    filed=n("file"), dispatched=n("dispatch"), closed=n("close"),
                    rate=None if not timed else 100 * len(on_time) / len(timed))

    def urgent_at(at):
        ended = {e["case_id"] for e in events if e["at"] <= at and e["to_state"] in TERMINAL}
        return sum(1 for c in cases.values() if c["level"] == "urgent" and c["reported_at"] <= at and c["id"] not in ended)

    today, yesterday = counts(t0, t1), counts(y0, y1)
    overdue = sum(1 for c in cases.values() if c["state"] not in TERMINAL and c["deadline_at"] is not None
                  and c["deadline_at"] < now and c["paused_since"] is None)
    tiles = [Tile(k, today[k], yesterday[k]) for k in ("reports", "filed", "dispatched", "closed")]
    tiles += [Tile("on_time", today["rate"], yesterday["rate"], percent=True), Tile("overdue", overdue, None),
              Tile("urgent", urgent_at(now), urgent_at(y1))]
    return {t.key: t for t in tiles}


@pytest.mark.parametrize("now", [T0, T0 + timedelta(hours=6), T0 - timedelta(days=1, hours=2)])
def test_each_tile_against_the_raw_rows(desk_store, raw, now):
    store = open_wall_store(desk_store.path)
    try:
        tiles = {t.key: t for t in read_tiles(store, now)}
    finally:
        store.dispose()
    expected = _expected(raw, now)
    assert list(tiles) == ["reports", "filed", "dispatched", "closed", "on_time", "overdue", "urgent"]
    for key, tile in tiles.items():
        want = expected[key]
        assert (tile.value, tile.yesterday) == pytest.approx((want.value, want.yesterday)), key
    if now == T0:  # the demo's morning is busy: the figures are not trivially zero
        assert tiles["reports"].value > 0 and tiles["filed"].value > 0 and tiles["overdue"].value > 0


def test_the_tile_text_and_colours():
    assert Tile("reports", 12, 9).delta_text == "较昨日同时 ▲3" and Tile("reports", 12, 9).trend == "good"
    assert Tile("overdue", 5, 3).trend == "bad" and Tile("urgent", 1, 4).trend == "good"
    assert Tile("on_time", 90.0, 95.5, percent=True).text == "90.0%"
    assert Tile("on_time", 90.0, 95.5, percent=True).delta_text == "较昨日同时 ▼5.5点"
    assert Tile("on_time", None, 95.5, percent=True).text == "—" and Tile("overdue", 3, None).delta_text == ""
    assert Tile("closed", 4, 4).delta_text == "较昨日同时 持平"


def test_panels_against_the_raw_rows(desk_store, raw):
    cases, events = raw
    store = open_wall_store(desk_store.path)
    try:
        snap = read_snapshot(store, T0)
        points = q.report_points(store, T0 - timedelta(hours=24), T0)
    finally:
        store.dispose()
    day_ago = T0 - timedelta(hours=24)
    assert len(points) == sum(1 for c in cases.values() if day_ago <= c["reported_at"] < T0)
    assert sum(g.reports for g in snap.hotspots) <= len(points)
    assert [g.reports for g in snap.hotspots] == sorted((g.reports for g in snap.hotspots), reverse=True)
    assert all(t.at <= T0 for t in snap.ticker) and len(snap.ticker) == min(12, sum(1 for e in events if e["at"] <= T0))
    assert all(u.level > 0 for u in snap.urged)
    days, trend = daily_trend([("a", "甲", T0), ("a", "甲", T0 - timedelta(days=1)), ("b", "乙", T0),
                               ("c", "丙", T0 - timedelta(days=9))], T0.date(), days=3)
    assert days[-1] == T0.date() and trend == [("甲", [0, 1, 1]), ("乙", [0, 0, 1])]


def test_the_wall_store_refuses_writes(desk_store):
    store = open_wall_store(desk_store.path)
    try:
        from app.store.errors import StoreError

        with pytest.raises(Exception) as caught, store.session() as s, s.begin():
            from sqlalchemy import text

            s.execute(text("UPDATE cases SET description = 'x'"))
        assert "readonly" in str(caught.value).lower() or "read-only" in str(caught.value).lower() \
            or isinstance(caught.value, StoreError)
    finally:
        store.dispose()
