"""回访 (issue 11, item 6): results on closed public/hotline cases, and the satisfied share per department."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.services.errors import InvalidTransition, PermissionDenied, ValidationError
from app.store.callbacks import satisfaction
from app.store.models import Case, CaseEvent
from services.loop_steps import closed, handling


def last_event(store, case_id: int) -> CaseEvent:
    with store.session() as s:
        e = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())
                      .limit(1)).one()
        s.expunge(e)
        return e


def test_a_call_back_records_result_note_and_the_department_evaluated(svc, world, clock, store):
    r = closed(svc, world, clock)
    clock.advance(timedelta(days=1))
    r = svc.callback(world.actors["acceptor"], r.case.id, r.version, result="基本满意", note=" 清理及时 ")
    e = last_event(store, r.case.id)
    assert (e.action, e.from_state, e.to_state, e.role) == ("callback", "closed", "closed", "acceptor")
    assert e.payload == {"result": "basically_satisfied", "note": "清理及时", "department": "JD001",
                         "department_name": "平江街道办事处"}
    with store.session() as s:
        assert s.get(Case, r.case.id).state == "closed"


def test_call_backs_only_for_closed_cases_of_reporters_who_get_replies(svc, world, clock, store):
    a = world.actors
    r = closed(svc, world, clock, source="supervisor")
    with pytest.raises(ValidationError, match="回访"):
        svc.callback(a["acceptor"], r.case.id, r.version, result="satisfied")
    assert last_event(store, r.case.id).action != "callback"
    r = handling(svc, world, clock, source="hotline")
    with pytest.raises(InvalidTransition):
        svc.callback(a["acceptor"], r.case.id, r.version, result="satisfied")
    r = closed(svc, world, clock, source="hotline")
    with pytest.raises(ValidationError) as info:
        svc.callback(a["acceptor"], r.case.id, r.version, result="还行")
    assert info.value.field == "result"
    with pytest.raises(PermissionDenied):
        svc.callback(a["dispatcher"], r.case.id, r.version, result="satisfied")
    svc.callback(a["acceptor"], r.case.id, r.version, result="unsatisfied")


def test_the_satisfied_share_per_department_comes_from_the_call_backs(svc, world, clock, store):
    a = world.actors
    start = clock.now()
    results = ["satisfied", "basically_satisfied", "unsatisfied", "unreachable"]
    ids = []
    for result in results:
        r = closed(svc, world, clock)
        ids.append(r.case.id)
        svc.callback(a["acceptor"], r.case.id, r.version, result=result)
    # a second call-back of the unreachable reporter reaches them: only a case's latest counts
    r = svc.get(ids[-1])
    clock.advance(timedelta(minutes=30))
    svc.callback(a["acceptor"], r.id, r.version, result="satisfied")
    end = clock.now() + timedelta(seconds=1)
    rows = satisfaction(store, start, end)
    assert [(x.department, x.satisfied, x.basically_satisfied, x.unsatisfied, x.unreachable) for x in rows] == \
        [("JD001", 2, 1, 1, 0)]
    (jd,) = rows
    assert (jd.numerator, jd.denominator, jd.share) == (3, 4, 0.75)
    assert satisfaction(store, datetime(2020, 1, 1), datetime(2020, 2, 1)) == []


def test_a_call_back_without_its_department_counts_for_the_last_dispatch(svc, world, clock, store, backend):
    if backend != "spatialite":
        pytest.skip("PostGIS adds the department to every call-back (migration 0015); imports aside")
    from app.domain.definitions import Action, Role
    from app.store.audit import append_event

    r = closed(svc, world, clock)
    start = clock.now()
    with store.session() as s, s.begin():  # an imported call-back: no department in its payload
        case = s.get(Case, r.case.id)
        append_event(s, case, action=Action.CALLBACK, from_state="closed", to_state="closed", actor="import",
                     role=Role.ACCEPTOR, at=start, payload={"result": "unsatisfied"})
    (row,) = satisfaction(store, start, start + timedelta(minutes=1))
    assert (row.department, row.unsatisfied, row.share) == ("JD001", 1, 0.0)
