"""Read-only queries that build the views' value objects (app.domain.cases) in one round trip."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.domain.cases import CaseEventRecord, CaseSummary, PhotoRecord, TimerSpec
from app.domain.deadlines import urge_cap
from app.domain.definitions import OPEN_STATES, Basis, CaseState, Kind, Level, Source, Stage
from app.store.models import AdminArea, Attachment, Case, CaseEvent, Category, Component, Department, UnitGrid

_Community = aliased(AdminArea, name="community")
_Street = aliased(AdminArea, name="street")
_OPEN_VALUES = sorted(s.value for s in OPEN_STATES)


@functools.cache
def _summary_select() -> Select:
    """The summary statement, built once (statements are immutable: ``.where`` returns a copy)."""
    # Cases without a point fall back to their grid's centroid (coalesce short-circuits).
    x = func.coalesce(func.ST_X(Case.geom), func.ST_X(func.ST_Centroid(UnitGrid.geom)))
    y = func.coalesce(func.ST_Y(Case.geom), func.ST_Y(func.ST_Centroid(UnitGrid.geom)))
    return (
        select(
            Case.id, Case.number, Case.kind, Category.code.label("category_code"),
            Category.name.label("category_name"), Case.level, Case.state, Case.source,
            Case.reported_at, x.label("x"), y.label("y"), UnitGrid.code.label("grid_code"),
            _Street.name.label("street_name"), _Community.name.label("community_name"),
            Department.code.label("department_code"), Department.name.label("department_name"),
            Case.address, Case.description, Component.code.label("component_code"),
            Case.urge_count, Case.rework_count, Case.version, Case.deadline_at,
            Case.stage, Case.timer_basis, Case.limit_minutes, Case.timer_started_at,
            Case.paused_minutes, Case.paused_since, Case.extension_minutes,
            Case.urge_level, Case.urge_deadline_at,  # 督办 (migration 0015)
        )
        .join(Category, Category.id == Case.category_id)
        .outerjoin(UnitGrid, UnitGrid.id == Case.grid_id)
        .outerjoin(_Community, _Community.id == UnitGrid.community_id)
        .outerjoin(_Street, _Street.id == _Community.parent_id)
        .outerjoin(Department, Department.id == Case.department_id)
        .outerjoin(Component, Component.id == Case.component_id)
    )


def department_scope(department_id: int) -> ColumnElement[bool]:
    """The cases a department operator may read: those dispatched to its department and its own
    reports not yet dispatched (the first event recorded by that department).

    The same rule as PostGIS's row-level security (policy ``cases_department_read``); SpatiaLite
    has no such thing, so the reads below apply it when given a ``department_id`` scope.
    """
    first = aliased(CaseEvent, name="first_event")
    reported_here = exists().where(first.case_id == Case.id, first.seq == 1, first.department_id == department_id)
    return or_(Case.department_id == department_id, and_(Case.department_id.is_(None), reported_here))


def _scoped(stmt: Select, scope: int | None) -> Select:
    return stmt if scope is None else stmt.where(department_scope(scope))


def visible(session: Session, case_id: int, scope: int | None) -> bool:
    """Whether the case exists and is readable in ``scope`` (None: no scope, any existing case)."""
    return session.scalar(_scoped(select(Case.id).where(Case.id == case_id), scope)) is not None


_E = TypeVar("_E", bound=Enum)


def _lookup(enum: type[_E]) -> dict[str, _E]:
    return {m.value: m for m in enum}


# Dict lookups are several times faster than Enum(value) over 10,000 rows.
_KIND, _LEVEL, _STATE = _lookup(Kind), _lookup(Level), _lookup(CaseState)
_SOURCE, _STAGE, _BASIS = _lookup(Source), _lookup(Stage), _lookup(Basis)
_NAN = math.nan


def _summary(r: Sequence[Any]) -> CaseSummary:
    (id_, number, kind, cat_code, cat_name, level, state, source, reported_at, x, y, grid_code, street,
     community, dept_code, dept_name, address, description, comp_code, urge, rework, version, deadline,
     stage, basis, limit, started, paused_minutes, paused_since, extension, urge_level, urge_deadline) = r
    timer = None
    if stage and basis and limit is not None and started is not None:
        timer_stage = _STAGE[stage]
        timer = TimerSpec(stage=timer_stage, basis=_BASIS[basis], limit_minutes=limit, started_at=started,
                          paused_minutes=paused_minutes or 0, paused_since=paused_since,
                          extension_minutes=extension or 0, cap=urge_cap(timer_stage, urge_deadline))
    return CaseSummary(
        id=id_, number=number, kind=_KIND[kind], category_code=cat_code, category_name=cat_name,
        level=_LEVEL[level], state=_STATE[state], source=_SOURCE[source], reported_at=reported_at,
        x=_NAN if x is None else float(x), y=_NAN if y is None else float(y), grid_code=grid_code,
        street_name=street, community_name=community, department_code=dept_code,
        department_name=dept_name, address=address, description=description or "",
        component_code=comp_code, urge_count=urge or 0, rework_count=rework or 0, version=version or 0,
        timer=timer, deadline_at=deadline, urge_level=urge_level or 0, urge_deadline_at=urge_deadline,
    )


def open_case_summaries(session: Session, *, since: datetime | None = None,
                        scope: int | None = None) -> list[CaseSummary]:
    """Every open (non-terminal) case, oldest report first; ``since``: only those updated since;
    ``scope``: only what that department may read (:func:`department_scope`).

    x/y are the case point in EPSG:4549 (the grid centroid when the case has no point,
    NaN when it has neither).
    """
    stmt = _scoped(_summary_select().where(Case.state.in_(_OPEN_VALUES)), scope)
    if since is not None:
        stmt = stmt.where(Case.updated_at >= since)
    stmt = stmt.order_by(Case.reported_at, Case.id)
    # Core execution on the session's connection: no ORM row processing needed.
    return [_summary(r) for r in session.connection().execute(stmt)]


def case_summary(session: Session, case_id: int, *, scope: int | None = None) -> CaseSummary | None:
    """The summary of one case in any state, or None when it does not exist (or is outside ``scope``)."""
    row = session.connection().execute(_scoped(_summary_select().where(Case.id == case_id), scope)).first()
    return _summary(row) if row else None


def case_summaries(session: Session, ids: Iterable[int], *, scope: int | None = None) -> list[CaseSummary]:
    """The summaries of the cases ``ids`` in one query, in the order given (missing ones, and those
    outside ``scope``, left out)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    rows = session.connection().execute(_scoped(_summary_select().where(Case.id.in_(wanted)), scope))
    found = {s.id: s for s in map(_summary, rows)}
    return [found[i] for i in wanted if i in found]


def case_events(session: Session, case_id: int, *, scope: int | None = None) -> list[CaseEventRecord]:
    """The timeline of one case, in order (empty when the case is outside ``scope``)."""
    if scope is not None and not visible(session, case_id, scope):
        return []
    # how many attachments each event stored (through the case_id index: a case has few)
    photos = (select(func.count(Attachment.id))
              .where(Attachment.case_id == case_id, Attachment.event_id == CaseEvent.id)
              .correlate(CaseEvent).scalar_subquery())
    stmt = (
        select(CaseEvent.seq, CaseEvent.at, CaseEvent.action, CaseEvent.from_state, CaseEvent.to_state,
               CaseEvent.actor, CaseEvent.role, Department.name.label("department_name"),
               CaseEvent.reason, CaseEvent.payload, photos.label("photos"))
        .outerjoin(Department, Department.id == CaseEvent.department_id)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.seq)
    )
    return [
        CaseEventRecord(seq=r.seq, at=r.at, action=r.action, from_state=r.from_state, to_state=r.to_state,
                        actor=r.actor, role=r.role, department_name=r.department_name, reason=r.reason,
                        payload=dict(r.payload or {}), photos=r.photos or 0)
        for r in session.execute(stmt)
    ]


def layer_extent(session: Session) -> tuple[float, float, float, float] | None:
    """(xmin, ymin, xmax, ymax) of all unit grids in EPSG:4549, or None when there are none."""
    g = UnitGrid.geom
    if session.get_bind().dialect.name == "sqlite":
        cols = (func.min(func.MbrMinX(g)), func.min(func.MbrMinY(g)),
                func.max(func.MbrMaxX(g)), func.max(func.MbrMaxY(g)))
    else:
        cols = (func.min(func.ST_XMin(g)), func.min(func.ST_YMin(g)),
                func.max(func.ST_XMax(g)), func.max(func.ST_YMax(g)))
    row = session.execute(select(*cols)).first()
    if row is None or row[0] is None:
        return None
    return tuple(float(v) for v in row)  # type: ignore[return-value]


def case_photos(session: Session, case_id: int, *, scope: int | None = None) -> list[PhotoRecord]:
    """The case's photos, oldest first (none when the case is outside ``scope``)."""
    if scope is not None and not visible(session, case_id, scope):
        return []
    rows = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)).all()
    return [PhotoRecord(r.id, r.kind, r.filename, r.mime, bytes(r.data), r.event_id, r.taken_at) for r in rows]


def active_departments(session: Session) -> list[tuple[int, str, str]]:
    """(id, code, name) of every active department, by code."""
    rows = session.execute(select(Department.id, Department.code, Department.name)
                           .where(Department.active.isnot(False)).order_by(Department.code)).all()
    return [(r[0], r[1], r[2]) for r in rows]


def department_code(session: Session, department_id: int) -> str | None:
    """The code of a department id (None for an unknown id)."""
    return session.scalar(select(Department.code).where(Department.id == department_id))
