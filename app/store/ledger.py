"""The request ledger's reads (台账, issue 11 item 3): case events only, never the cases' mutable columns.

Three statements: the events of every case with a ledger action (a request, a 职责争议, a direct 作废)
in the period — the whole history of those cases, so a request is paired with a resolution that came
later and with the department responsible when it was made —; the dispatches per month and
department of the period (the shares' denominators); the departments' codes and names.

Scope: on PostGIS the login's row-level security limits the rows (a department's login reads its
department's cases); on SpatiaLite pass ``scope`` (a department id, ``app.services.case_source.read_scope``)
and the same rule is applied here (:func:`app.store.queries.department_scope`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.domain.definitions import Action
from app.domain.ledger import LEDGER_ACTIONS, LedgerEvent
from app.store.models import Case, CaseEvent, Department
from app.store.queries import department_scope

_LEDGER_VALUES = sorted(a.value for a in LEDGER_ACTIONS)


def ledger_events(session: Session, start: datetime, end: datetime, *, scope: int | None = None) -> list[LedgerEvent]:
    """Every event, in case and seq order, of the cases with a ledger action at ``start`` ≤ at < ``end``."""
    opened = select(CaseEvent.case_id).where(CaseEvent.action.in_(_LEDGER_VALUES), CaseEvent.at >= start,
                                             CaseEvent.at < end)
    if scope is not None:
        opened = opened.join(Case, Case.id == CaseEvent.case_id).where(department_scope(scope))
    stmt = (select(CaseEvent.case_id, Case.number, CaseEvent.seq, CaseEvent.action, CaseEvent.from_state,
                   CaseEvent.to_state, CaseEvent.actor, CaseEvent.role, CaseEvent.department_id, CaseEvent.at,
                   CaseEvent.reason, CaseEvent.payload)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.case_id.in_(opened.distinct().scalar_subquery()))
            .order_by(CaseEvent.case_id, CaseEvent.seq))
    return [LedgerEvent(*row) for row in session.execute(stmt)]


def _month(session: Session) -> ColumnElement[str]:
    """``YYYY-MM`` of an event's time on this backend."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(CaseEvent.at, "YYYY-MM")
    return func.strftime("%Y-%m", CaseEvent.at)


def dispatch_counts(session: Session, start: datetime, end: datetime, *,
                    scope: int | None = None) -> dict[tuple[str, int], int]:
    """``{(YYYY-MM, department_id): dispatches}`` of the events at ``start`` ≤ at < ``end``."""
    month = _month(session).label("month")
    stmt = (select(month, CaseEvent.department_id, func.count())
            .where(CaseEvent.action == Action.DISPATCH.value, CaseEvent.at >= start, CaseEvent.at < end,
                   CaseEvent.department_id.is_not(None))
            .group_by(month, CaseEvent.department_id))
    if scope is not None:
        stmt = stmt.join(Case, Case.id == CaseEvent.case_id).where(department_scope(scope))
    return {(str(m), d): int(n) for m, d, n in session.execute(stmt) if d is not None}


def department_names(session: Session) -> dict[int, tuple[str, str]]:
    """``{id: (code, name)}`` of every department, active or not (old entries name old departments)."""
    return {i: (c, n) for i, c, n in session.execute(select(Department.id, Department.code, Department.name))}


def department_id(session: Session, code: str) -> int | None:
    """The id of the department with ``code`` (None: no such department)."""
    return session.scalar(select(Department.id).where(Department.code == code))


__all__ = ["department_id", "department_names", "dispatch_counts", "ledger_events"]
