"""The report event's facts in the database (migration 0017), attacked with raw SQL as a login.

A report event is the evaluation's only record of what and where a case is (app.domain.indicators
never reads the mutable case row), so a login may not lie about it: a category, grid or source
that contradicts the case row is refused; facts left out are added from the case row, the event
is hashed again and the audit chain still verifies.
"""

from __future__ import annotations

import json

import pytest
from services.world import draft, service
from sqlalchemy import select

from app.domain.clock import FixedClock
from app.store.commands import verify_audit
from app.store.models import CaseEvent
from tests.store import hall as _hall
from tests.store.hall import event_sql, step
from tests.store.test_derive import db_now
from tests.store.test_hardening import NEW_CASE, _ids

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall


def _report(hall, number: str, payload: dict | None):
    """Insert a case and its report event as the acceptor's login in one transaction."""
    (cat,), = _ids(hall, "SELECT id FROM categories WHERE kind = 'event' ORDER BY id LIMIT 1")
    grid, gx, gy = _ids(hall, "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                              "FROM unit_grids ORDER BY id LIMIT 1")[0]
    conn = hall.connect("acceptor")
    try:
        with conn.cursor() as cur:
            cur.execute(NEW_CASE + " RETURNING id", (number, "event", cat, grid, None, gx, gy))
            (case_id,), = cur.fetchall()
            extra = {} if payload is None else {"payload": json.dumps(payload, ensure_ascii=False)}
            cur.execute(*event_sql(step(hall, "acceptor", case_id, "report", None, "reported", at=db_now(),
                                        **extra)))
        conn.commit()
        return case_id
    finally:
        conn.close()


def _facts(hall) -> dict:
    row = _ids(hall, "SELECT c.code, g.code, com.code, st.code FROM categories c, unit_grids g "
                          "LEFT JOIN admin_areas com ON com.id = g.community_id "
                          "LEFT JOIN admin_areas st ON st.id = com.parent_id "
                          "WHERE c.id = (SELECT id FROM categories WHERE kind = 'event' ORDER BY id LIMIT 1) "
                          "AND g.id = (SELECT id FROM unit_grids ORDER BY id LIMIT 1)")[0]
    return {"kind": "event", "category": row[0], "level": "general", "source": "hotline", "grid": row[1],
            "community": row[2], "street": row[3], "component": None}


def test_a_report_event_with_a_lying_category_is_refused(hall):
    import psycopg2

    for lie in ({"category": "NOPE"}, {"grid": "000000000000000"}, {"source": "supervisor"},
                {"level": "urgent"}, {"kind": "component"}):
        with pytest.raises(psycopg2.Error) as info:
            _report(hall, f"L{len(json.dumps(lie))}{next(iter(lie))[:3]}", lie)
        assert "contradicts the case" in str(info.value)
    assert verify_audit(hall.store) is None


def test_missing_facts_are_added_and_the_chain_verifies(hall):
    facts = _facts(hall)
    case = _report(hall, "F1", None)
    partial = _report(hall, "F2", {"category": facts["category"], "note": "kept"})
    honest = _report(hall, "F3", facts)
    with hall.store.session() as s:
        payloads = {c: s.scalars(select(CaseEvent.payload).where(CaseEvent.case_id == c, CaseEvent.seq == 1)).one()
                    for c in (case, partial, honest)}
    for c in (case, partial, honest):
        assert {k: payloads[c][k] for k in facts} == facts
    assert payloads[partial]["note"] == "kept"
    assert verify_audit(hall.store) is None


def test_the_service_report_and_dispatch_carry_their_facts(hall):
    svc = service(hall.store_as("acceptor"), FixedClock(db_now()))
    result = svc.report(hall.actor("acceptor"), draft())
    with hall.store.session() as s:
        payload = s.scalars(select(CaseEvent.payload).where(CaseEvent.case_id == result.case.id,
                                                            CaseEvent.seq == 1)).one()
    for key in ("kind", "category", "level", "source", "grid", "community", "street", "component"):
        assert key in payload
    assert payload["source"] == result.case.source and payload["street"] and payload["community"]
    assert payload["limit_minutes"] > 0 and payload["basis"] in ("working", "natural") and payload["deadline"]
    assert verify_audit(hall.store) is None
