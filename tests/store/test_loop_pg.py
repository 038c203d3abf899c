"""督办, 职责争议/协调裁定 and 回访 as the database derives and refuses them (migration 0015), by raw SQL as each role.

Issue 11, items 5–7 and 9: the database takes an urge's level and deadline, moves the running
deadline to an earlier urge deadline, gives a ruled case to the department its event names
(a fresh limit only when the department changes), refuses bad call-backs, and a department login
cannot rule; the Python services on SpatiaLite compute the same columns and payloads.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from services.loop_steps import closed, handling
from services.seed import seed_case
from services.world import T0, build_world, service
from sqlalchemy import select

from app.domain.clock import FixedClock
from app.domain.definitions import CaseState
from app.store.audit import LOOP_COLUMNS
from app.store.commands import verify_audit
from app.store.engine import open_store
from app.store.models import Case, CaseEvent
from tests.store import hall as _hall
from tests.store.hall import event_sql, refused, run, step

pytestmark = pytest.mark.postgis
backend = _hall.backend
hall = _hall.hall


def db_now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


def row(hall, case_id: int) -> Case:
    with hall.store.session() as s:
        c = s.get(Case, case_id)
        s.expunge(c)
        return c


def last_event(hall, case_id: int) -> CaseEvent:
    with hall.store.session() as s:
        e = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())).first()
        s.expunge(e)
        return e


def ev(hall, who, case, action, from_state, to_state, payload=None, **extra):
    cols = step(hall, who, case, action, from_state, to_state, at=extra.pop("at", None) or db_now(), **extra)
    if payload is not None:
        cols["payload"] = json.dumps(payload, ensure_ascii=False)
    return event_sql(cols)


def dispatched(hall, department: str = "JD001") -> tuple[int, datetime]:
    """The hall's filed case dispatched by the dispatcher's login 2 minutes ago: (case id, dispatch time).

    (Steps in the same second as the dispatch would look like the start of its limit, which
    migration 0017 records with the limit's minutes and basis.)
    """
    case, at = hall.cases["filed"], db_now() - timedelta(minutes=2)
    run(hall, "dispatcher", *ev(hall, "dispatcher", case, "dispatch", "filed", "dispatched",
                                department_id=hall.world.dept[department], at=at))
    return case, at


def test_the_database_derives_the_urge_level_and_the_earlier_deadline(hall):
    case, at = dispatched(hall)
    computed = row(hall, case).deadline_at
    soon = db_now() + timedelta(hours=1)
    stamp = f"{soon:%Y-%m-%d %H:%M:%S}"
    for payload, words in (({"urge_level": 4}, "urge_level"), ({"urge_level": "2"}, "urge_level"),
                           ({"urge_deadline": "2020-01-01 09:00:00"}, "urge_deadline"),
                           ({"urge_deadline": f"{soon:%Y-%m-%d}"}, "urge_deadline"),
                           ({"urge_deadline": "2026-13-45 10:00:00"}, "urge_deadline"),
                           ({"urge_level": 2, "deadline": "2099-01-01 00:00:00"}, "contradicts"),
                           ({"urge_level": 2, "urge_count": 7}, "contradicts")):
        refused(hall, "leader", *ev(hall, "leader", case, "urge", "dispatched", "dispatched", payload), match=words)
    assert (row(hall, case).urge_level, row(hall, case).urge_count) == (0, 0)
    run(hall, "leader", *ev(hall, "leader", case, "urge", "dispatched", "dispatched",
                            {"urge_level": 2, "urge_deadline": stamp}))
    c = row(hall, case)
    assert (c.urge_count, c.urge_level, c.urge_deadline_at) == (1, 2, soon)
    assert soon < computed and (c.deadline_at, c.handle_deadline_at, c.timer_started_at) == (soon, soon, at)
    assert last_event(hall, case).payload == {"urge_level": 2, "urge_deadline": stamp, "urge_count": 1,
                                              "deadline": stamp}
    run(hall, "leader", *ev(hall, "leader", case, "urge", "dispatched", "dispatched"))  # level 1 by default
    c = row(hall, case)
    assert (c.urge_count, c.urge_level, c.urge_deadline_at, c.deadline_at) == (2, 2, soon, soon)
    assert last_event(hall, case).payload == {"urge_level": 1, "urge_count": 2}
    refused(hall, "dispatcher", "UPDATE cases SET urge_level = 0, urge_deadline_at = NULL WHERE id = %s", (case,))
    assert verify_audit(hall.store) is None


def test_a_ruling_moves_the_case_to_the_department_its_event_names(hall):
    jd, hw, old = hall.world.dept["JD001"], hall.world.dept["HW"], hall.world.dept["OLD"]
    case, at = dispatched(hall)
    before = row(hall, case)
    run(hall, "dept_a", *ev(hall, "dept_a", case, "dispute", "dispatched", "disputed", reason="不属街道职责"))
    # A department's login rules nothing, not even for itself.
    refused(hall, "dept_a", *ev(hall, "dept_a", case, "rule", "disputed", "dispatched", {"ruling": "upheld"},
                                reason="自己裁定"), match="workflow")
    for dept, payload, words in ((None, {"ruling": "reassigned"}, "names its department"),
                                 (old, {"ruling": "reassigned"}, "inactive"),
                                 (hw, {}, "payload ruling"), (hw, {"ruling": "overruled"}, "payload ruling"),
                                 (hw, {"ruling": "upheld"}, "upheld ruling"),
                                 (jd, {"ruling": "reassigned"}, "reassigning ruling"),
                                 (hw, {"ruling": "reassigned", "responsible": "SZ"}, "responsible"),
                                 (hw, {"ruling": "remedial", "responsible": "HW"}, "responsible"),
                                 (hw, {"ruling": "reassigned", "department": "JD001"}, "contradicts")):
        refused(hall, "dispatcher", *ev(hall, "dispatcher", case, "rule", "disputed", "dispatched", payload,
                                        reason="裁定", department_id=dept), match=words)
    # Upheld: the same department, its running timer goes on.
    run(hall, "dispatcher", *ev(hall, "dispatcher", case, "rule", "disputed", "dispatched", {"ruling": "upheld"},
                                reason="属街道职责", department_id=jd))
    c = row(hall, case)
    assert (c.state, c.department_id, c.dispatched_at, c.timer_started_at, c.deadline_at) == \
        ("dispatched", jd, at, before.timer_started_at, before.deadline_at)
    assert last_event(hall, case).payload == {"ruling": "upheld", "department": "JD001",
                                              "department_name": "平江街道办事处"}
    # Reassigned (by the leader): another department, a fresh handling limit from the ruling.
    run(hall, "dept_a", *ev(hall, "dept_a", case, "dispute", "dispatched", "disputed", reason="仍有争议"))
    ruled = db_now()
    run(hall, "leader", *ev(hall, "leader", case, "rule", "disputed", "dispatched",
                            {"ruling": "remedial", "responsible": "SZ"}, reason="环卫所代整改", department_id=hw,
                            at=ruled))
    c = row(hall, case)
    assert (c.department_id, c.dispatched_at, c.timer_started_at) == (hw, ruled, ruled)
    assert c.deadline_at > ruled and c.handle_deadline_at == c.deadline_at
    payload = last_event(hall, case).payload
    # (the new deadline is recorded when it differs: out of working hours both limits may end alike)
    deadline = payload.pop("deadline", None)
    assert deadline in (None, f"{c.deadline_at:%Y-%m-%d %H:%M:%S}")
    if deadline is not None:  # a recorded deadline brings its limit (0017's event facts)
        assert (payload.pop("limit_minutes"), payload.pop("basis")) == (c.limit_minutes, c.timer_basis)
    assert payload == {"ruling": "remedial", "responsible": "SZ", "department": "HW",
                       "department_name": "区环境卫生管理所"}
    # The old department no longer sees the case; the new one works on it.
    assert run(hall, "dept_a", "SELECT count(*) FROM cases WHERE id = %s", (case,)) == [(0,)]
    run(hall, "dept_b", *ev(hall, "dept_b", case, "accept", "dispatched", "handling", department_id=hw))
    assert verify_audit(hall.store) is None


def test_another_department_cannot_dispute(hall):
    case = hall.cases["handling_a"]
    refused(hall, "dept_b", *ev(hall, "dept_b", case, "dispute", "handling", "disputed", reason="x"))
    refused(hall, "dispatcher", *ev(hall, "dispatcher", case, "dispute", "handling", "disputed", reason="x"),
            match="workflow")
    assert row(hall, case).state == "handling"


def test_call_backs_are_checked_by_the_database(hall):
    case = hall.cases["checked"]
    with hall.store.engine.begin() as conn:  # a public report (the owner may change it)
        conn.exec_driver_sql("UPDATE cases SET source = 'public' WHERE id = %s", (case,))
    run(hall, "shift_leader", *ev(hall, "shift_leader", case, "close", "checked", "closed", {"override": True},
                                  reason="照片由监督员现场核查补录"))  # the seeded case has no photos
    for payload, words in (({}, "payload result"), ({"result": "great"}, "payload result"),
                           ({"result": "satisfied", "note": 5}, "note is text"),
                           ({"result": "satisfied", "department": "HW"}, "contradicts")):
        refused(hall, "acceptor", *ev(hall, "acceptor", case, "callback", "closed", "closed", payload), match=words)
    refused(hall, "dispatcher", *ev(hall, "dispatcher", case, "callback", "closed", "closed",
                                    {"result": "satisfied"}), match="workflow")
    run(hall, "acceptor", *ev(hall, "acceptor", case, "callback", "closed", "closed",
                              {"result": "satisfied", "note": "满意"}))
    assert last_event(hall, case).payload == {"result": "satisfied", "note": "满意", "department": "JD001",
                                              "department_name": "平江街道办事处"}
    assert row(hall, case).state == "closed"
    quiet = seed_case(hall.store, hall.world, CaseState.CLOSED, at=T0)[0]  # a supervisor's report
    refused(hall, "acceptor", *ev(hall, "acceptor", quiet, "callback", "closed", "closed", {"result": "satisfied"}),
            match="who get replies")
    assert verify_audit(hall.store) is None


# --- the same steps on both backends derive the same columns and payloads ----------------------------

def _steps(store, world) -> dict[str, int]:
    clock = FixedClock(T0)
    svc, a = service(store, clock), world.actors
    cases = {}
    r = handling(svc, world, clock, source="public")
    cases["urged"] = r.case.id
    clock.advance(timedelta(hours=1))
    r = svc.urge(a["boss"], r.case.id, r.version, level=2, deadline=T0 + timedelta(days=10))  # later: no change
    r = svc.urge(a["boss"], r.case.id, r.version, level=3, deadline=T0 + timedelta(hours=3))
    r = svc.urge(a["boss"], r.case.id, r.version)
    r = svc.dispute(a["dept_jd"], r.case.id, r.version, reason="不属街道职责")
    clock.advance(timedelta(hours=1))
    r = svc.rule(a["dispatcher"], r.case.id, r.version, department="JD001", ruling="upheld", reason="属街道")
    r = svc.dispute(a["dept_jd"], r.case.id, r.version, reason="仍不属")
    clock.advance(timedelta(hours=1))
    r = svc.rule(a["boss"], r.case.id, r.version, department="HW", ruling="reassigned", reason="属环卫所")
    r = svc.accept(a["dept_hw"], r.case.id, r.version)
    r = svc.dispute(a["dept_hw"], r.case.id, r.version, reason="属市政")
    r = svc.rule(a["dispatcher"], r.case.id, r.version, department="JD001", ruling="remedial", responsible="SZ",
                 reason="街道代整改")
    r = closed(svc, world, clock)
    cases["called"] = r.case.id
    clock.advance(timedelta(days=1))
    r = svc.callback(a["acceptor"], r.case.id, r.version, result="unreachable")
    svc.callback(a["acceptor"], r.case.id, r.version, result="basically_satisfied", note="基本满意")
    return cases


def _snapshot(store, cases: dict[str, int]) -> dict:
    out = {}
    with store.session() as s:
        for name, cid in cases.items():
            c = s.get(Case, cid)
            events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq)).all()
            out[name] = ({col: getattr(c, col) for col in LOOP_COLUMNS},
                         [(e.seq, e.action, e.from_state, e.to_state, e.actor, e.department_id, e.at, e.reason,
                           dict(e.payload or {})) for e in events])
    return out


def test_the_database_derives_what_the_services_compute(store, _store_templates, tmp_path):
    path = tmp_path / "same.sqlite"
    shutil.copyfile(_store_templates.spatialite(), path)
    lite = open_store(path)
    try:
        on_pg = _snapshot(store, _steps(store, build_world(store)))
        on_lite = _snapshot(lite, _steps(lite, build_world(lite)))
    finally:
        lite.dispose()
    for name in on_lite:
        assert on_pg[name][0] == on_lite[name][0], name
        assert on_pg[name][1] == on_lite[name][1], name
    urged = on_pg["urged"][0]
    assert (urged["urge_level"], urged["urge_count"], urged["urge_deadline_at"]) == (3, 3, T0 + timedelta(hours=3))
    assert urged["state"] == "dispatched"
    assert verify_audit(store) is None
