"""Case state derived from events in the database (migration 0006), attacked with raw SQL as each role.

Issue 8, items 1–3: a login cannot rewrite a case's figures beside a legal event, backdate an
event, or write an anonymous 系统 reply; the columns PostgreSQL derives equal what the Python
services compute on SpatiaLite for the same loop with the same clock.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from services.world import T0, build_world, draft, photo, service
from sqlalchemy import select

from app.domain.clock import FixedClock
from app.domain.definitions import CaseState
from app.services.errors import ServiceError
from app.store.audit import LOOP_COLUMNS
from app.store.commands import verify_audit
from app.store.engine import open_store
from app.store.models import Case, CaseEvent, User

try:  # the hall's own module (docs/deploy.md's set-up), else where it lived before
    from tests.store.hall import Hall, backend, event_sql, hall, refused, run, step  # noqa: F401
except ImportError:
    from tests.store.test_security import Hall, backend, event_sql, hall, refused, run, step  # noqa: F401

pytestmark = pytest.mark.postgis


def db_now() -> datetime:
    """The database's clock as the clients record it (naive China Standard Time, whole seconds)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


def case_row(hall: Hall, case_id: int) -> dict:
    with hall.store.session() as s:
        c = s.get(Case, case_id)
        return {name: getattr(c, name) for name in (*LOOP_COLUMNS, "description", "address")}


def now_step(hall: Hall, who: str, case: int, action: str, from_state: str, to_state: str, **extra) -> dict:
    return step(hall, who, case, action, from_state, to_state, **{"at": db_now(), **extra})


def last_event(hall: Hall, case_id: int) -> CaseEvent:
    with hall.store.session() as s:
        return s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())).first()


# --- 1. no silent rewrites beside a legal event -------------------------------------------------

def test_a_department_cannot_move_its_deadline_counts_or_description(hall):
    case = hall.cases["handling_a"]
    before = case_row(hall, case)
    for sets in ("deadline_at = '2099-01-01'", "extension_minutes = 999999", "rework_count = 5",
                 "urge_count = 9", "description = '已整改'", "paused_minutes = 100000", "state = 'fed_back'"):
        refused(hall, "dept_a", f"UPDATE cases SET {sets} WHERE id = %s", (case,))
    # …nor with a legal event riding along in the same transaction.
    conn = hall.connect("dept_a")
    try:
        with pytest.raises(psycopg2.Error), conn.cursor() as cur:
            cur.execute(*event_sql(now_step(hall, "dept_a", case, "request_extension", "handling",
                                            "extension_requested", reason="材料未到", payload='{"minutes": 60}')))
            cur.execute("UPDATE cases SET deadline_at = '2099-01-01', extension_minutes = 999999 WHERE id = %s",
                        (case,))
    finally:
        conn.close()
    assert case_row(hall, case) == before
    assert verify_audit(hall.store) is None


def test_the_no_op_compare_and_set_still_takes_the_row_lock(hall):
    case = hall.cases["handling_a"]
    assert run(hall, "dept_a", "UPDATE cases SET version = version WHERE id = %s AND version = 1", (case,)) == 1
    assert run(hall, "dispatcher", "UPDATE cases SET version = version WHERE id = %s AND version = 9", (case,)) == 0


def test_an_acceptor_or_shift_leader_cannot_make_a_late_case_on_time(hall):
    case = hall.cases["checked"]
    before = case_row(hall, case)
    conn = hall.connect("shift_leader")
    try:
        with pytest.raises(psycopg2.Error), conn.cursor() as cur:
            cur.execute(*event_sql(now_step(hall, "shift_leader", case, "close", "checked", "closed")))
            cur.execute("UPDATE cases SET handle_deadline_at = '2099-01-01', department_id = %s WHERE id = %s",
                        (hall.world.dept["HW"], case))
    finally:
        conn.close()
    refused(hall, "acceptor", "UPDATE cases SET closed_at = '2026-01-01', handle_deadline_at = '2099-01-01' "
                              "WHERE id = %s", (case,))
    assert case_row(hall, case) == before


def test_a_dispatch_moves_the_case_to_the_department_its_event_names(hall):
    case, jd, hw = hall.cases["filed"], hall.world.dept["JD001"], hall.world.dept["HW"]
    # The payload may not name another department than the event, nor invent a deadline.
    refused(hall, "dispatcher", *event_sql(now_step(hall, "dispatcher", case, "dispatch", "filed", "dispatched",
                                                    department_id=jd, payload='{"department": "HW"}')),
            match="contradicts the database")
    refused(hall, "dispatcher", *event_sql(now_step(hall, "dispatcher", case, "dispatch", "filed", "dispatched",
                                                    department_id=jd, payload='{"deadline": "2099-01-01 00:00:00"}')),
            match="contradicts the database")
    refused(hall, "dispatcher", *event_sql(now_step(hall, "dispatcher", case, "dispatch", "filed", "dispatched")),
            match="names its department")
    # The legal step: the database sets the department, the timer, and records the deadline.
    at = db_now()
    run(hall, "dispatcher", *event_sql(now_step(hall, "dispatcher", case, "dispatch", "filed", "dispatched",
                                                department_id=jd, at=at)))
    row = case_row(hall, case)
    assert (row["state"], row["version"], row["department_id"], row["dispatched_at"]) == ("dispatched", 2, jd, at)
    assert (row["stage"], row["timer_started_at"]) == ("handle", at) and row["deadline_at"] > at
    assert row["handle_deadline_at"] == row["deadline_at"]
    ev = last_event(hall, case)
    assert ev.payload["department"] == "JD001" and ev.payload["deadline"] == f"{row['deadline_at']:%Y-%m-%d %H:%M:%S}"
    # The department's own events never move it; nobody moves it directly.
    refused(hall, "dispatcher", "UPDATE cases SET department_id = %s WHERE id = %s", (hw, case))
    run(hall, "dept_a", *event_sql(now_step(hall, "dept_a", case, "accept", "dispatched", "handling",
                                            department_id=jd)))
    assert case_row(hall, case)["department_id"] == jd
    assert verify_audit(hall.store) is None


def test_extensions_are_what_was_asked_and_granted_within_bounds(hall):
    case = hall.cases["extension"]  # seeded with a request for 60 minutes
    refused(hall, "dispatcher", *event_sql(now_step(hall, "dispatcher", case, "approve", "extension_requested",
                                                    "handling", payload='{"minutes": 999999}')),
            match="grants 1 to")
    run(hall, "dispatcher", *event_sql(now_step(hall, "dispatcher", case, "approve", "extension_requested",
                                                "handling")))
    assert case_row(hall, case)["extension_minutes"] == 60
    assert last_event(hall, case).payload == {"minutes": 60, "request": "extension_requested",
                                              "deadline": last_event(hall, case).payload["deadline"]}
    refused(hall, "dept_a", *event_sql(now_step(hall, "dept_a", case, "request_extension", "handling",
                                                "extension_requested", reason="x", payload='{"minutes": 999999}')),
            match="asks for 1 to")
    assert verify_audit(hall.store) is None


def test_a_new_case_starts_with_its_loop_columns_empty(hall):
    base = ("INSERT INTO cases (number, kind, category_id, state, source, description, reported_at, version, level, "
            "urge_count, rework_count, paused_minutes, extension_minutes{extra}) SELECT 'N{n}', kind, category_id, "
            "'reported', 'public', 'x', now(), 0, 'general', 0, {rework}, 0, 0{values} FROM cases LIMIT 1")
    refused(hall, "acceptor", base.format(extra=", deadline_at", values=", '2099-01-01'", n=1, rework=0),
            match="starts with its department")
    refused(hall, "acceptor", base.format(extra="", values="", n=2, rework=5), match="starts with its department")
    refused(hall, "dispatcher", base.format(extra=", department_id", values=f", {hall.world.dept['HW']}", n=3,
                                            rework=0), match="starts with its department")


def test_a_disabled_or_locked_user_s_open_session_cannot_append(hall):
    case = hall.cases["handling_a"]
    for column, value in (("active", False), ("locked", True)):
        conn = hall.connect("dept_a")  # opened while the user is still enabled
        try:
            with hall.store.session() as s, s.begin():
                s.execute(User.__table__.update().where(User.username == hall.names["dept_a"])
                          .values(**{column: value}))
            with pytest.raises(psycopg2.Error), conn.cursor() as cur:
                cur.execute(*event_sql(now_step(hall, "dept_a", case, "feedback", "handling", "fed_back")))
            if not conn.closed:  # (the session may have been ended when the user was disabled)
                conn.rollback()
        finally:
            conn.close()
            with hall.store.session() as s, s.begin():
                s.execute(User.__table__.update().where(User.username == hall.names["dept_a"])
                          .values(active=True, locked=False))
    assert case_row(hall, case)["state"] == "handling"


# --- 2. no backdated events -------------------------------------------------------------------------

@pytest.mark.parametrize("at", [datetime(2020, 1, 1, 9), "future"])
def test_events_are_dated_by_the_database_clock(hall, at):
    case = hall.cases["handling_a"]
    when = db_now() + timedelta(minutes=30) if at == "future" else at
    refused(hall, "dept_a", *event_sql(now_step(hall, "dept_a", case, "feedback", "handling", "fed_back", at=when)),
            match="from the database's clock")
    assert case_row(hall, case)["state"] == "handling"


def test_the_owner_import_path_keeps_its_own_times_and_columns(hall):
    case = hall.cases["handling_b"]
    with hall.store.engine.begin() as conn:  # the owner (a superuser here)
        conn.exec_driver_sql("SET LOCAL gridhall.import = 'on'")
        conn.exec_driver_sql(
            "INSERT INTO case_events (case_id, action, from_state, to_state, actor, role, at) "
            "VALUES (%s, 'feedback', 'handling', 'fed_back', 'import', 'system', '2020-01-01 09:00')", (case,))
        conn.exec_driver_sql("UPDATE cases SET state = 'fed_back', version = 2, fed_back_at = '2020-01-01 09:00' "
                             "WHERE id = %s", (case,))
    row = case_row(hall, case)
    assert (row["state"], row["version"], row["fed_back_at"]) == ("fed_back", 2, datetime(2020, 1, 1, 9))
    # A login setting the flag gains nothing.
    conn = hall.connect("dispatcher")
    try:
        with pytest.raises(psycopg2.Error, match="database's clock"), conn.cursor() as cur:
            cur.execute("SET LOCAL gridhall.import = 'on'")
            cur.execute(*event_sql(step(hall, "dispatcher", case, "request_void", "fed_back", "void_requested",
                                        reason="x", at=datetime(2020, 1, 2))))
    finally:
        conn.close()
    assert verify_audit(hall.store) is None


# --- 3. no anonymous replies --------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["acceptor", "shift_leader", "dispatcher", "supervisor", "dept_a", "leader"])
def test_no_login_writes_a_system_reply(hall, who):
    case = hall.cases["handling_a"]
    refused(hall, who, *event_sql({"case_id": case, "action": "reply", "from_state": "handling",
                                   "to_state": "handling", "actor": "system", "role": "system", "at": db_now(),
                                   "payload": '{"text": "已处理完毕，案卷已结案", "auto": true}'}),
            match="may not record a system event")
    assert case_row(hall, case)["version"] == 1


def test_the_database_writes_the_reply_and_records_who_caused_it(hall):
    case = hall.cases["checked"]
    with hall.store.engine.begin() as conn:  # a public report (the owner may change it)
        conn.exec_driver_sql("UPDATE cases SET source = 'public' WHERE id = %s", (case,))
    run(hall, "shift_leader", *event_sql(now_step(hall, "shift_leader", case, "close", "checked", "closed",
                                                  payload='{"override": true}', reason="照片另行归档")))  # seeded: no photos
    reply = last_event(hall, case)
    with hall.store.session() as s:
        c = s.get(Case, case)
        assert (c.state, c.version, c.closed_at is not None, c.stage) == ("closed", 3, True, None)
        number = c.number
    assert (reply.action, reply.actor, reply.role, reply.seq) == ("reply", "system", "system", 3)
    assert reply.payload["caused_by"] == hall.names["shift_leader"] and reply.payload["after"] == "close"
    assert reply.payload["auto"] is True and number in reply.payload["text"] and "已处置完毕" in reply.payload["text"]
    assert verify_audit(hall.store) is None


def test_services_as_logins_read_back_what_the_database_derived(hall):
    clock = FixedClock(db_now())
    s, me = service(hall.store_as("acceptor"), clock), hall.actor("acceptor")
    r = s.report(me, draft(source="hotline", reporter_name="市民乙", photos=(photo(),)))
    assert (r.case.state, r.version, r.case.timer is not None) == (CaseState.REPORTED, 1, True)
    r = s.send_verify(me, r.case.id, r.version)  # a hotline report is verified on site before filing
    r = service(hall.store_as("supervisor"), clock).verify(hall.actor("supervisor"), r.case.id, r.version, result="属实")
    s, me = service(hall.store_as("shift_leader"), clock), hall.actor("shift_leader")
    r = s.file(me, r.case.id, r.version)
    assert r.version == 5 and "已立案" in r.details["replies"][0]  # the event and the database's reply
    s, me = service(hall.store_as("dispatcher"), clock), hall.actor("dispatcher")
    r = s.dispatch(me, r.case.id, r.version, department="JD001")
    assert r.case.department_code == "JD001" and r.case.deadline_at is not None
    # A workstation whose clock is off by an hour is refused with one clear message.
    late = service(hall.store_as("dept_a"), FixedClock(db_now() - timedelta(hours=1)))
    with pytest.raises(ServiceError, match="时钟"):
        late.accept(hall.actor("dept_a"), r.case.id, r.version)
    assert verify_audit(hall.store) is None


# --- the same loop on both backends derives the same columns ---------------------------------------------

def _loop(store, world) -> dict[str, int]:
    clock = FixedClock(T0)
    svc, a = service(store, clock), world.actors
    cases = {}
    r = svc.report(a["acceptor"], draft(source="public", reporter_name="市民甲", photos=(photo(),)))
    cases["main"] = cid = r.case.id
    number = r.case.number
    r = svc.send_verify(a["acceptor"], cid, r.version)
    clock.advance(timedelta(minutes=20))
    r = svc.verify(a["supervisor"], cid, r.version, result="现场属实")
    r = svc.file(a["leader_shift"], cid, r.version, level="urgent")
    r = svc.dispatch(a["dispatcher"], cid, r.version, department="JD001", level="general")
    r = svc.accept(a["dept_jd"], cid, r.version)
    clock.advance(timedelta(hours=2))
    r = svc.request_extension(a["dept_jd"], cid, r.version, minutes=240, reason="设备未到")
    r = svc.approve(a["dispatcher"], cid, r.version, minutes=120)
    r = svc.request_defer(a["dept_jd"], cid, r.version, reason="雨天")
    r = svc.approve(a["dispatcher"], cid, r.version)
    clock.advance(timedelta(days=3, hours=1))
    r = svc.restore(a["dispatcher"], cid, r.version)
    r = svc.urge(a["boss"], cid, r.version, note="尽快")
    r = svc.feedback(a["dept_jd"], cid, r.version, text="已清运", photos=(photo("after", "后.png"),))
    r = svc.send_check(a["acceptor"], cid, r.version)
    r = svc.check(a["supervisor"], cid, r.version, outcome="failed", reason="仍有残留")
    clock.advance(timedelta(hours=5))
    r = svc.accept(a["dept_jd"], cid, r.version)
    r = svc.request_return(a["dept_jd"], cid, r.version, reason="非本部门")
    r = svc.approve(a["dispatcher"], cid, r.version)
    r = svc.dispatch(a["dispatcher"], cid, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], cid, r.version)
    r = svc.request_void(a["acceptor"], cid, r.version, reason="误报？")
    before = (r.case.timer, r.case.deadline_at)
    r = svc.urge(a["boss"], cid, r.version, note="作废申请期间督办")  # a same-state step keeps the timer
    assert r.case.timer is not None and (r.case.timer, r.case.deadline_at) == before
    r = svc.refuse(a["leader_shift"], cid, r.version, reason="属实")
    r = svc.feedback(a["dept_jd"], cid, r.version, text="已彻底清理")
    r = svc.send_check(a["acceptor"], cid, r.version)
    r = svc.check(a["supervisor"], cid, r.version, outcome="passed")
    r = svc.rework(a["leader_shift"], cid, r.version, reason="缺照片")
    r = svc.accept(a["dept_jd"], cid, r.version)
    r = svc.feedback(a["dept_jd"], cid, r.version, text="补拍", photos=(photo("after", "后2.png"),))
    r = svc.send_check(a["acceptor"], cid, r.version)
    r = svc.check(a["supervisor"], cid, r.version, outcome="passed")
    clock.advance(timedelta(days=1))
    svc.close(a["leader_shift"], cid, r.version, override=True, note="照片无拍摄时间，值班长确认")
    r = svc.report(a["acceptor"], draft(source="hotline"), link_to=number)  # ids differ by backend, numbers do not
    cases["linked"] = r.case.id
    r = svc.report(a["acceptor"], draft(source="public", description="重复？"))
    cases["rejected"] = r.case.id
    svc.reject(a["leader_shift"], r.case.id, r.version, reason="不在辖区")
    r = svc.report(a["supervisor"], draft())
    cases["shelved"] = r.case.id
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], r.case.id, r.version)
    r = svc.request_shelve(a["dept_jd"], r.case.id, r.version, reason="长期")
    r = svc.approve(a["dispatcher"], r.case.id, r.version)
    r = svc.request_void(a["acceptor"], r.case.id, r.version, reason="重复")
    clock.advance(timedelta(hours=3))
    svc.refuse(a["leader_shift"], r.case.id, r.version, reason="不重复")
    # 督办 with a deadline: it caps the handling deadline; a pause does not move it; a later one changes nothing
    r = svc.report(a["supervisor"], draft())
    cases["urged"] = cid = r.case.id
    r = svc.file(a["leader_shift"], cid, r.version)
    r = svc.dispatch(a["dispatcher"], cid, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], cid, r.version)
    r = svc.urge(a["boss"], cid, r.version, level=3, deadline=clock.now() + timedelta(hours=1))
    assert r.case.deadline_at == r.case.urge_deadline_at == clock.now() + timedelta(hours=1)
    r = svc.request_defer(a["dept_jd"], cid, r.version, reason="雨天")
    r = svc.approve(a["dispatcher"], cid, r.version)
    clock.advance(timedelta(hours=2))
    r = svc.restore(a["dispatcher"], cid, r.version)
    assert r.case.deadline_at == r.case.urge_deadline_at
    r = svc.urge(a["boss"], cid, r.version, level=1, deadline=clock.now() + timedelta(days=3))
    assert r.case.deadline_at == r.case.urge_deadline_at and r.case.urge_level == 3
    return cases


def _snapshot(store, cases: dict[str, int]) -> dict:
    """Each case's loop columns and events, case ids by the cases' names (ids differ by backend)."""
    name_of = {cid: name for name, cid in cases.items()}
    out = {}
    with store.session() as s:
        for name, cid in cases.items():
            c = s.get(Case, cid)
            columns = {col: getattr(c, col) for col in LOOP_COLUMNS}
            columns["duplicate_of_id"] = name_of.get(columns["duplicate_of_id"], columns["duplicate_of_id"])
            events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq)).all()
            rows = []
            for e in events:
                payload = dict(e.payload or {})
                if "duplicate_of_id" in payload:
                    payload["duplicate_of_id"] = name_of.get(payload["duplicate_of_id"])
                rows.append((e.seq, e.action, e.from_state, e.to_state, e.actor, e.role, e.department_id, e.at,
                             e.reason, payload))
            out[name] = (columns, rows)
    return out


def test_the_database_derives_what_the_python_services_compute(store, _store_templates, tmp_path):
    path = tmp_path / "same.sqlite"
    shutil.copyfile(_store_templates.spatialite(), path)
    lite = open_store(path)
    try:
        on_pg = _snapshot(store, _loop(store, build_world(store)))
        on_lite = _snapshot(lite, _loop(lite, build_world(lite)))
    finally:
        lite.dispose()
    for name in on_lite:
        assert on_pg[name][0] == on_lite[name][0], name
        assert on_pg[name][1] == on_lite[name][1], name
    main = on_pg["main"][0]
    assert (main["state"], main["rework_count"], main["urge_count"]) == ("closed", 2, 2)
    shelved = on_pg["shelved"][0]
    assert shelved["paused_since"] is not None and shelved["stage"] == "handle"
    deadlines = [p["deadline"] for *_, p in on_pg["main"][1] if "deadline" in p]
    assert len(deadlines) >= 6  # every new deadline of the loop recorded, identical on both backends
    assert verify_audit(store) is None
