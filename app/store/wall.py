"""The video wall's reads: headline counts, rankings, hotspots, the ticker and the 督办 list.

Every figure the wall shows is one query here (all SQL lives in the store), read through a
store opened with :func:`open_wall_store`, which refuses every write: on SpatiaLite each
connection runs with ``PRAGMA query_only``, on PostGIS every transaction is ``READ ONLY`` (on
top of the login's own grants: give the wall an analyst login, which only reads).

Windows are half-open ``[start, end)``; the wall compares ``[today 00:00, now)`` with
``[yesterday 00:00, now - 1 day)`` (the same hour yesterday, :mod:`app.domain.wall`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, text

from app.domain.definitions import OPEN_STATES, Action, CaseState
from app.store.engine import Store, open_store

_OPEN = tuple(sorted(s.value for s in OPEN_STATES))
_TERMINAL = tuple(sorted(s.value for s in CaseState if s.is_terminal))


def _in(name: str, values: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    keys = {f"{name}{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{k}" for k in keys) + ")", keys


def _dt(value: object) -> datetime | None:
    """A timestamp read by raw SQL (SQLite hands back text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _at(value: object) -> datetime:
    at = _dt(value)
    assert at is not None  # a NOT NULL column
    return at


def open_wall_store(url: str | os.PathLike) -> Store:
    """Open ``url`` for reading only: every connection of the returned store refuses writes (a
    SpatiaLite file is opened ``mode=ro`` with ``query_only``; PostgreSQL transactions are READ ONLY)."""
    store = open_store(url)
    if store.backend == "spatialite":
        from pathlib import Path

        uri = f"{Path(str(store.path)).as_uri()}?mode=ro"

        def open_read_only(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
            # mode=ro: a vanished file is an error, never a new empty database
            cargs[:] = [uri]
            cparams["uri"] = True

        event.listen(store.engine, "do_connect", open_read_only)

        def read_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA query_only = ON")
    else:
        def read_only(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cur.close()
            dbapi_conn.commit()
    event.listen(store.engine, "connect", read_only)
    store.engine.dispose()  # the connections opened by the checks were writable
    return store


@dataclass(frozen=True)
class WindowCounts:
    """What happened in one window: reports, filings, dispatches, closes, closes on time."""

    reports: int
    filed: int
    dispatched: int
    closed: int
    closed_timed: int  # closes of cases that had a handling deadline
    closed_on_time: int  # … whose handling was fed back by it


def window_counts(store: Store, start: datetime, end: datetime) -> WindowCounts:
    """Counts of the window ``[start, end)``; filed/dispatched/closed count the events, so a case
    filed twice (after a return) counts twice, as the hall's day sheet does."""
    sql = text("""
        SELECT
          (SELECT count(*) FROM cases WHERE reported_at >= :start AND reported_at < :end),
          (SELECT count(*) FROM case_events WHERE action = :file AND at >= :start AND at < :end),
          (SELECT count(*) FROM case_events WHERE action = :dispatch AND at >= :start AND at < :end),
          (SELECT count(*) FROM case_events WHERE action = :close AND at >= :start AND at < :end),
          (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
             WHERE e.action = :close AND e.at >= :start AND e.at < :end AND c.handle_deadline_at IS NOT NULL),
          (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
             WHERE e.action = :close AND e.at >= :start AND e.at < :end AND c.handle_deadline_at IS NOT NULL
               AND c.fed_back_at IS NOT NULL AND c.fed_back_at <= c.handle_deadline_at)
    """)
    with store.session() as s:
        row = s.execute(sql, {"start": start, "end": end, "file": Action.FILE.value,
                              "dispatch": Action.DISPATCH.value, "close": Action.CLOSE.value}).one()
    return WindowCounts(*(int(v or 0) for v in row))


def overdue_now(store: Store, now: datetime) -> int:
    """Open cases whose stored deadline has passed at ``now`` (a running pause stops the clock)."""
    states, keys = _in("s", _OPEN)
    sql = text(f"SELECT count(*) FROM cases WHERE state IN {states} AND deadline_at IS NOT NULL "
               "AND deadline_at < :now AND paused_since IS NULL")
    with store.session() as s:
        return int(s.execute(sql, {"now": now, **keys}).scalar_one())


def urgent_open_at(store: Store, at: datetime) -> int:
    """Urgent cases open at ``at``: reported by then and not closed, voided or refused by then
    (read from the events, so the same hour yesterday is counted as it stood then)."""
    states, keys = _in("t", _TERMINAL)
    sql = text(f"""
        SELECT count(*) FROM cases c WHERE c.level = 'urgent' AND c.reported_at <= :at
          AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.at <= :at
                          AND e.to_state IN {states})""")
    with store.session() as s:
        return int(s.execute(sql, {"at": at, **keys}).scalar_one())


@dataclass(frozen=True)
class DepartmentRow:
    name: str
    open: int
    overdue: int
    closed: int  # closes in the window


def department_ranking(store: Store, start: datetime, now: datetime, limit: int = 10) -> list[DepartmentRow]:
    """Departments by open cases (then overdue): open, overdue now, closed since ``start``."""
    states, keys = _in("s", _OPEN)
    sql = text(f"""
        SELECT d.name,
          (SELECT count(*) FROM cases c WHERE c.department_id = d.id AND c.state IN {states}),
          (SELECT count(*) FROM cases c WHERE c.department_id = d.id AND c.state IN {states}
             AND c.deadline_at IS NOT NULL AND c.deadline_at < :now AND c.paused_since IS NULL),
          (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
             WHERE c.department_id = d.id AND e.action = :close AND e.at >= :start AND e.at < :now)
        FROM departments d""")
    with store.session() as s:
        rows = [DepartmentRow(str(r[0]), int(r[1]), int(r[2]), int(r[3]))
                for r in s.execute(sql, {"now": now, "start": start, "close": Action.CLOSE.value, **keys})]
    rows = [r for r in rows if r.open or r.closed]
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.name))
    return rows[:limit]


def category_counts(store: Store, start: datetime, end: datetime) -> list[tuple[str, str, datetime]]:
    """(category code, name, reported_at) of the reports in ``[start, end)`` (the trend bins them)."""
    sql = text("SELECT k.code, k.name, c.reported_at FROM cases c JOIN categories k ON k.id = c.category_id "
               "WHERE c.reported_at >= :start AND c.reported_at < :end")
    with store.session() as s:
        return [(str(r[0]), str(r[1]), _at(r[2])) for r in s.execute(sql, {"start": start, "end": end})]


@dataclass(frozen=True)
class GridRow:
    code: str
    community: str
    reports: int
    open: int
    wkt: str | None = None


def hotspot_grids(store: Store, start: datetime, end: datetime, limit: int = 10) -> list[GridRow]:
    """Unit grids by reports in ``[start, end)``, with their open cases and outline (WKT)."""
    states, keys = _in("s", _OPEN)
    sql = text(f"""
        SELECT g.code, a.name, count(*) AS n,
               sum(CASE WHEN c.state IN {states} THEN 1 ELSE 0 END), ST_AsText(g.geom)
        FROM cases c JOIN unit_grids g ON g.id = c.grid_id JOIN admin_areas a ON a.id = g.community_id
        WHERE c.reported_at >= :start AND c.reported_at < :end
        GROUP BY g.code, a.name, g.geom ORDER BY n DESC, g.code LIMIT :limit""")
    with store.session() as s:
        return [GridRow(str(r[0]), str(r[1]), int(r[2]), int(r[3] or 0), r[4])
                for r in s.execute(sql, {"start": start, "end": end, "limit": limit, **keys})]


def report_points(store: Store, start: datetime, end: datetime) -> list[tuple[int, float, float]]:
    """(case id, x, y) of every case reported in ``[start, end)`` (the heatmap's points)."""
    sql = text("SELECT id, ST_X(geom), ST_Y(geom) FROM cases WHERE reported_at >= :start AND reported_at < :end "
               "AND geom IS NOT NULL")
    with store.session() as s:
        return [(int(r[0]), float(r[1]), float(r[2])) for r in s.execute(sql, {"start": start, "end": end})]


@dataclass(frozen=True)
class TickerRow:
    at: datetime
    number: str
    action: str
    category: str
    place: str
    level: str


def latest_events(store: Store, now: datetime, limit: int = 12) -> list[TickerRow]:
    """The newest case events until ``now`` (report, file, dispatch, feedback, close, urge …)."""
    sql = text("""
        SELECT e.at, c.number, e.action, k.name, coalesce(c.address, ''), c.level
        FROM case_events e JOIN cases c ON c.id = e.case_id JOIN categories k ON k.id = c.category_id
        WHERE e.at <= :now ORDER BY e.chain_no DESC LIMIT :limit""")
    with store.session() as s:
        return [TickerRow(_at(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]))
                for r in s.execute(sql, {"limit": limit, "now": now})]


@dataclass(frozen=True)
class UrgedRow:
    number: str
    level: int
    deadline: datetime | None
    category: str
    department: str
    state: str


def urged_open(store: Store, limit: int = 12) -> list[UrgedRow]:
    """Open cases under 督办, highest level first, then the earliest urge deadline."""
    states, keys = _in("s", _OPEN)
    sql = text(f"""
        SELECT c.number, c.urge_level, c.urge_deadline_at, k.name, coalesce(d.name, ''), c.state
        FROM cases c JOIN categories k ON k.id = c.category_id LEFT JOIN departments d ON d.id = c.department_id
        WHERE c.state IN {states} AND c.urge_level > 0
        ORDER BY c.urge_level DESC, CASE WHEN c.urge_deadline_at IS NULL THEN 1 ELSE 0 END,
                 c.urge_deadline_at, c.number LIMIT :limit""")
    with store.session() as s:
        return [UrgedRow(str(r[0]), int(r[1]), _dt(r[2]), str(r[3]), str(r[4]), str(r[5]))
                for r in s.execute(sql, {"limit": limit, **keys})]


def ping(store: Store) -> None:
    """One cheap read: raises when the store cannot be reached (the stale check)."""
    with store.session() as s:
        s.execute(text("SELECT 1 FROM audit_head LIMIT 1")).all()


__all__ = ["DepartmentRow", "GridRow", "TickerRow", "UrgedRow", "WindowCounts", "category_counts",
           "department_ranking", "hotspot_grids", "latest_events", "open_wall_store", "overdue_now", "ping",
           "report_points", "urged_open", "urgent_open_at", "window_counts"]
