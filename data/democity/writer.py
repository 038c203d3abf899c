"""Which tables the demo fills (the writing itself is app.store.bulk.BulkLoad)."""

from __future__ import annotations

from app.store.models import (
    AdminArea,
    Case,
    CaseEvent,
    Component,
    Department,
    Road,
    RoutingRule,
    UnitGrid,
    User,
)

#: Tables a demo fills; any row in one of them means the database is not empty.
FILLED = tuple(m.__table__ for m in (AdminArea, Department, User, UnitGrid, Road, RoutingRule, Component, Case,
                                     CaseEvent))
