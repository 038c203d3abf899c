"""The evaluation's reads (考核评价, issue 13): case events only, set-based, on SpatiaLite and PostGIS.

Statements:
1. every event, up to the period's end, of the cases with an event in the period (one query: the
   cases are chosen by a subquery on ``case_events(at)``; the case number comes along);
2. the facts of the cases whose report event predates migration 0017 and does not carry them
   (``kind, category, level, source, grid, community, street, component``) — only for those, in
   batches: a join on the case row, its category, grid, areas and component. This is the one place
   the evaluation reads a case row, and only for events written before the report recorded its
   facts (a category or grid edited since would show through there; new events are immune);
3. the reference data: department codes and names, unit grids per community and street, each
   grid's assigned supervisor (the current assignment: 漏报 is judged against it), user names.

Scope: on PostGIS the login's row-level security limits the rows (a department's login reads its
department's cases); on SpatiaLite pass ``scope`` (a department id,
``app.services.case_source.read_scope``) and the same rule applies (:func:`app.store.queries.department_scope`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.domain.indicators import FACT_KEYS, CaseHistory, Event
from app.store.models import AdminArea, Case, CaseEvent, Category, Component, Department, UnitGrid, User
from app.store.queries import department_scope

#: Cases per fallback statement (an IN list).
BATCH = 500


def histories(session: Session, start: datetime, end: datetime, *, scope: int | None = None) -> list[CaseHistory]:
    """The cases with an event at ``start`` ≤ at < ``end``, each with its events before ``end``."""
    touched = select(CaseEvent.case_id).where(CaseEvent.at >= start, CaseEvent.at < end)
    if scope is not None:
        touched = touched.join(Case, Case.id == CaseEvent.case_id).where(department_scope(scope))
    stmt = (select(CaseEvent.case_id, Case.number, CaseEvent.seq, CaseEvent.action, CaseEvent.from_state,
                   CaseEvent.to_state, CaseEvent.actor, CaseEvent.role, CaseEvent.department_id, CaseEvent.at,
                   CaseEvent.payload)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.case_id.in_(touched.distinct().scalar_subquery()), CaseEvent.at < end)
            .order_by(CaseEvent.case_id, CaseEvent.seq))
    events: dict[int, list[Event]] = defaultdict(list)
    numbers: dict[int, str] = {}
    facts: dict[int, dict[str, Any]] = {}
    # Core rows (the session's connection): no ORM result processing for what are plain columns
    for case_id, number, seq, action, from_state, to_state, actor, role, dept, at, payload in \
            session.connection().execute(stmt).all():
        numbers[case_id] = number
        events[case_id].append(Event(seq, action, from_state, to_state, actor, role, dept, at, payload))
        if action == "report" and case_id not in facts:
            p = payload if isinstance(payload, dict) else {}
            facts[case_id] = {k: p[k] for k in FACT_KEYS if k in p}
    missing = [c for c in events if set(facts.get(c, {})) != set(FACT_KEYS)]
    for n in range(0, len(missing), BATCH):
        for case_id, row in case_row_facts(session, missing[n:n + BATCH]).items():
            facts[case_id] = {**row, **facts.get(case_id, {})}  # what the event says wins
    return [CaseHistory(c, numbers[c], facts.get(c, {}), evs) for c, evs in events.items()]


def touched_count(session: Session, start: datetime, end: datetime, *, scope: int | None = None) -> int:
    """How many cases have an event at ``start`` ≤ at < ``end`` (what ``histories`` would return)."""
    touched = select(CaseEvent.case_id).where(CaseEvent.at >= start, CaseEvent.at < end)
    if scope is not None:
        touched = touched.join(Case, Case.id == CaseEvent.case_id).where(department_scope(scope))
    return int(session.scalar(select(func.count()).select_from(touched.distinct().subquery())) or 0)


def sees_whole_history(session: Session) -> bool:
    """Whether this connection's login reads every case event (PostGIS: not a department login
    behind row-level security, whose view of the chain has gaps; SpatiaLite: always)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return True
    return not bool(session.execute(text(
        "SELECT gridhall_has_role('department') AND NOT EXISTS "
        "(SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls))")).scalar())


def case_row_facts(session: Session, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The facts of older cases from their rows (events written before migration 0017)."""
    community, street = aliased(AdminArea, name="community"), aliased(AdminArea, name="street")
    stmt = (select(Case.id, Case.kind, Category.code, Case.level, Case.source, UnitGrid.code, community.code,
                   street.code, Component.code)
            .join(Category, Category.id == Case.category_id)
            .outerjoin(UnitGrid, UnitGrid.id == Case.grid_id)
            .outerjoin(community, community.id == UnitGrid.community_id)
            .outerjoin(street, street.id == community.parent_id)
            .outerjoin(Component, Component.id == Case.component_id)
            .where(Case.id.in_(case_ids)))
    return {row[0]: dict(zip(FACT_KEYS, row[1:], strict=True)) for row in session.execute(stmt)}


def department_names(session: Session) -> dict[int, tuple[str, str]]:
    """``{id: (code, name)}`` of every department, active or not."""
    return {i: (c, n) for i, c, n in session.execute(select(Department.id, Department.code, Department.name))}


def department_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Department.id).where(Department.code == code))


def area_names(session: Session) -> dict[str, str]:
    """``{code: name}`` of the admin areas and grids (grids are named by their code)."""
    names = {c: n for c, n in session.execute(select(AdminArea.code, AdminArea.name))}
    names["district"] = session.scalar(select(AdminArea.name).where(AdminArea.parent_id.is_(None))
                                       .order_by(AdminArea.id).limit(1)) or "district"
    return names


def grids_per_area(session: Session) -> dict[str, int]:
    """Unit grids per community and per street code, and under ``district`` all of them."""
    community, street = aliased(AdminArea, name="community"), aliased(AdminArea, name="street")
    out: dict[str, int] = defaultdict(int)
    stmt = (select(community.code, street.code, func.count(UnitGrid.id))
            .join(community, community.id == UnitGrid.community_id)
            .outerjoin(street, street.id == community.parent_id)
            .where(UnitGrid.retired_on.is_(None))  # grids in use (split/merged ones are retired, 0024)
            .group_by(community.code, street.code))
    for c, s, n in session.execute(stmt):
        out[c] += n
        if s:
            out[s] += n
        out["district"] += n
    return dict(out)


def grid_supervisors(session: Session) -> dict[str, str]:
    """``{grid code: username}`` of the grids with an assigned supervisor (the current assignment)."""
    stmt = select(UnitGrid.code, User.username).join(User, User.id == UnitGrid.supervisor_id)
    return {g: u for g, u in session.execute(stmt)}


def user_names(session: Session) -> dict[str, str]:
    """``{username: display name}``."""
    return {u: n for u, n in session.execute(select(User.username, User.display_name))}


__all__ = ["area_names", "case_row_facts", "sees_whole_history", "touched_count", "department_id", "department_names", "grid_supervisors",
           "grids_per_area", "histories", "user_names"]
