"""Put a case straight into any state (with one consistent event) for the transition matrix."""

from __future__ import annotations

import itertools
from datetime import datetime

from geoalchemy2 import WKTElement
from sqlalchemy import select

from app.domain.definitions import Action, CaseState, Role
from app.domain.workflow import REQUEST_ACTIONS, WORKFLOW
from app.store.audit import append_event
from app.store.models import Case, Category

_serial = itertools.count(1)


def origin_of(state: CaseState) -> CaseState | None:
    """The state a request into ``state`` is taken to come from (the first in state order)."""
    origins = WORKFLOW.request_origins(state)
    return next((s for s in CaseState if s in origins), None)


def seed_case(store, world, state: CaseState, *, at: datetime, department: str | None = "JD001",
              category: tuple[str, str] = ("event", "06010")) -> tuple[int, int]:
    """A case in ``state`` recorded by one system event; returns (id, version)."""
    with store.session() as s, s.begin():
        cat = s.scalars(select(Category).where(Category.kind == category[0], Category.code == category[1])).one()
        case = Case(number=f"T{next(_serial):08d}{state.value[:3]}", kind=category[0], category_id=cat.id,
                    level="general", state=state.value, source="supervisor",
                    grid_id=world.grids["320599001001006"], description="种子案卷", reported_at=at,
                    department_id=world.dept[department] if department else None, version=0,
                    urge_count=0, rework_count=0, paused_minutes=0, extension_minutes=0,
                    geom=WKTElement("POINT(557150 3464450)", srid=4549))
        s.add(case)
        s.flush()
        origin = origin_of(state)
        if origin is not None:  # a request: record it, so that 不批准 knows where to return
            action = next(t.action for t in WORKFLOW.transitions
                          if t.action in REQUEST_ACTIONS and t.to_state == state)
            payload = {"minutes": 60} if action is Action.REQUEST_EXTENSION else None
            append_event(s, case, action=action, from_state=origin, to_state=state, actor="seed",
                         role=Role.SYSTEM, at=at, reason="种子申请", payload=payload)
        else:
            append_event(s, case, action=Action.REPORT, to_state=state, actor="seed", role=Role.SYSTEM, at=at)
        return case.id, case.version
