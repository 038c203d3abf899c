"""The statistics dock's reads (issue 13, item 2): case events only, set-based, SpatiaLite and PostGIS.

Each read is one statement over ``case_events`` (plus the case number): the report events of a
period with the facts they record (older report events without facts: the case row's, through
:func:`app.store.evaluation.case_row_facts`), the close events, the feedback events with the latest
dispatch before each, and report/close counts per month (GROUP BY in the database). ``scope``: a
department id on SpatiaLite (PostGIS: the login's row-level security), as in app/store/evaluation.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.domain.indicators import FACT_KEYS
from app.store.evaluation import BATCH, case_row_facts
from app.store.models import Case, CaseEvent, Category, UnitGrid
from app.store.queries import department_scope


def _events(action: str, start: datetime, end: datetime, scope: int | None, *columns: Any) -> Any:
    stmt = (select(CaseEvent.case_id, Case.number, CaseEvent.at, *columns)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.action == action, CaseEvent.at >= start, CaseEvent.at < end))
    if scope is not None:
        stmt = stmt.where(department_scope(scope))
    return stmt.order_by(CaseEvent.at, CaseEvent.case_id, CaseEvent.seq)


def reports(session: Session, start: datetime, end: datetime, *,
            scope: int | None = None) -> list[tuple[int, str, datetime, dict[str, Any]]]:
    """``(case id, number, at, facts)`` of the report events at ``start`` ≤ at < ``end``."""
    rows = []
    missing = []
    for case_id, number, at, payload in session.execute(_events("report", start, end, scope, CaseEvent.payload)):
        p = payload if isinstance(payload, dict) else {}
        facts = {k: p[k] for k in FACT_KEYS if k in p}
        if set(facts) != set(FACT_KEYS):
            missing.append(case_id)
        rows.append((case_id, number, at, facts))
    if missing:
        older: dict[int, dict[str, Any]] = {}
        for n in range(0, len(missing), BATCH):
            older.update(case_row_facts(session, missing[n:n + BATCH]))
        rows = [(c, no, at, {**older.get(c, {}), **facts}) for c, no, at, facts in rows]  # the event wins
    return rows


def closures(session: Session, start: datetime, end: datetime, *,
             scope: int | None = None) -> list[tuple[int, str, datetime]]:
    """``(case id, number, at)`` of the close events at ``start`` ≤ at < ``end``."""
    return [(r[0], r[1], r[2]) for r in session.execute(_events("close", start, end, scope))]


def handlings(session: Session, start: datetime, end: datetime, *,
              scope: int | None = None) -> list[tuple[int, str, datetime, datetime]]:
    """``(case id, number, dispatched at, fed back at)`` of the feedback events in the period, each
    with the latest dispatch (or ruling to a department) of its case before it."""
    d = aliased(CaseEvent, name="d")
    latest = (select(func.max(d.at)).where(d.case_id == CaseEvent.case_id, d.seq < CaseEvent.seq,
                                            d.action.in_(("dispatch", "rule")), d.department_id.is_not(None))
              .correlate(CaseEvent).scalar_subquery())
    stmt = _events("feedback", start, end, scope, latest.label("dispatched"))
    return [(c, no, dispatched, at) for c, no, at, dispatched in session.execute(stmt) if dispatched is not None]


def _month(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def monthly(session: Session, start: datetime, end: datetime, *,
            scope: int | None = None) -> dict[tuple[str, str], int]:
    """``{("YYYY-MM", "report"|"close"): events}`` at ``start`` ≤ at < ``end`` (counted in the database)."""
    month = _month(session, CaseEvent.at).label("month")
    stmt = (select(month, CaseEvent.action, func.count())
            .where(CaseEvent.action.in_(("report", "close")), CaseEvent.at >= start, CaseEvent.at < end))
    if scope is not None:
        stmt = stmt.join(Case, Case.id == CaseEvent.case_id).where(department_scope(scope))
    stmt = stmt.group_by(month, CaseEvent.action)
    return {(str(m), str(a)): int(n) for m, a, n in session.execute(stmt)}


def category_names(session: Session) -> dict[str, str]:
    """``{category code: name}``."""
    return {c: n for c, n in session.execute(select(Category.code, Category.name))}


def case_points(session: Session, numbers: list[str], *, scope: int | None = None) -> list[tuple[str, float, float]]:
    """``(number, x, y)`` of the cases numbered ``numbers`` (a case without a point: its grid's centroid)."""
    x = func.coalesce(func.ST_X(Case.geom), func.ST_X(func.ST_Centroid(UnitGrid.geom)))
    y = func.coalesce(func.ST_Y(Case.geom), func.ST_Y(func.ST_Centroid(UnitGrid.geom)))
    out: list[tuple[str, float, float]] = []
    unique = sorted(set(numbers))
    for n in range(0, len(unique), BATCH):
        stmt = (select(Case.number, x, y).outerjoin(UnitGrid, UnitGrid.id == Case.grid_id)
                .where(Case.number.in_(unique[n:n + BATCH])))
        if scope is not None:
            stmt = stmt.where(department_scope(scope))
        out += [(no, float(px), float(py)) for no, px, py in session.execute(stmt) if px is not None and py is not None]
    return out


__all__ = ["case_points", "category_names", "closures", "handlings", "monthly", "reports"]
