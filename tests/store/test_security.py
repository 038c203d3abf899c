"""Security enforced by PostgreSQL itself: each rule attacked with raw SQL as each role's login."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from services.world import T0, draft, photo, service
from sqlalchemy import func, select

from app.domain.clock import FixedClock
from app.domain.definitions import CaseState, Role
from app.store import security
from app.store.commands import init_db, verify_audit
from app.store.engine import open_store
from app.store.models import Case, CaseEvent
from tests.store import hall as _hall
from tests.store.hall import EVERYONE, OPERATIONAL, ROLE_OF, Hall, event_sql, refused, run, step  # noqa: F401

pytestmark = pytest.mark.postgis


def _db_now() -> datetime:
    """The database's clock as clients record it (naive China Standard Time, whole seconds)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)

# The hall (set up as docs/deploy.md says) lives in tests/store/hall.py; these names stay importable
# from here too.
backend = _hall.backend
hall = _hall.hall

# --- roles and privileges ----------------------------------------------------------------------

def test_group_roles_exist_and_cannot_log_in(hall):
    with hall.cluster.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'gridhall\\_%'")
        groups = dict(cur.fetchall())
    assert {security.group_role(r) for r in security.GROUP_ROLES} <= set(groups)
    assert not any(groups[security.group_role(r)] for r in security.GROUP_ROLES)


def test_init_tolerates_roles_made_by_another_database(pg_url):
    # The roles already exist (made for the template store); a second hall database still builds.
    init_db(pg_url).dispose()
    opened = open_store(pg_url)
    try:
        with opened.engine.connect() as conn:
            n = conn.exec_driver_sql("SELECT count(*) FROM workflow_transitions").scalar()
        assert n == len(security.workflow_rows()) > 100
    finally:
        opened.dispose()


@pytest.mark.parametrize("who", EVERYONE)
def test_nobody_updates_deletes_or_truncates_the_history(hall, who):
    refused(hall, who, "UPDATE case_events SET reason = 'x' WHERE seq = 1")
    refused(hall, who, "DELETE FROM case_events WHERE seq = 1")
    refused(hall, who, "TRUNCATE case_events CASCADE")
    refused(hall, who, "DELETE FROM audit_head")
    if who in ("analyst", "admin"):
        refused(hall, who, "UPDATE cases SET version = 0", match="permission denied")
    assert run(hall, "admin", "SELECT count(*) FROM case_events")[0][0] == len(hall.cases)


def test_analyst_reads_everything_but_writes_nothing(hall):
    assert run(hall, "analyst", "SELECT count(*) FROM cases")[0][0] == len(hall.cases)
    refused(hall, "analyst", "INSERT INTO cases (number, kind, category_id, state, source, description, "
                             "reported_at, version, level, urge_count, rework_count, paused_minutes, "
                             "extension_minutes) SELECT 'X1', kind, category_id, 'reported', 'public', 'x', "
                             "now(), 0, 'general', 0, 0, 0, 0 FROM cases LIMIT 1", match="permission denied")
    refused(hall, "analyst", *event_sql({"case_id": hall.cases["filed"], "action": "urge", "from_state": "filed",
                                         "to_state": "filed", "actor": hall.names["analyst"], "role": "analyst",
                                         "at": T0}), match="permission denied")
    refused(hall, "analyst", "UPDATE departments SET name = 'x'", match="permission denied")


def test_password_hashes_are_for_nobody(hall):
    # Since 0007 the login's SCRAM verifier is the only password: administrators neither (test_roles.py).
    for who in ("dispatcher", "dept_a", "analyst", "leader", "admin"):
        refused(hall, who, "SELECT password_hash FROM users", match="permission denied")
        assert len(run(hall, who, "SELECT username, role, department_id FROM users")) == 9 + 10
    refused(hall, "dispatcher", "UPDATE users SET role = 'admin'", match="permission denied")


def test_reference_tables_are_written_by_administrators_only(hall):
    refused(hall, "dispatcher", "UPDATE categories SET name = 'x'", match="permission denied")
    refused(hall, "dept_a", "DELETE FROM routing_rules", match="permission denied")
    assert run(hall, "admin", "UPDATE departments SET phone = '0512-1' WHERE code = 'HW'") == 1


# --- the state machine --------------------------------------------------------------------------

def test_a_case_cannot_skip_stages(hall):
    filed, checked = hall.cases["filed"], hall.cases["checked"]
    # No transition leads from 待派遣 to 已结案, and a login may not set a case's state at all:
    # it holds UPDATE (version) only, the compare-and-set (migration 0010).
    refused(hall, "dispatcher", "UPDATE cases SET state = 'closed' WHERE id = %s", (filed,),
            match="permission denied for table cases")
    refused(hall, "shift_leader", "UPDATE cases SET state = 'closed', version = version + 1 WHERE id = %s",
            (filed,), match="permission denied for table cases")
    # 结案 from 待结案 is legal for a shift leader, but only as its event.
    refused(hall, "shift_leader", "UPDATE cases SET state = 'closed' WHERE id = %s", (checked,),
            match="permission denied for table cases")
    # A new case must start at the beginning.
    refused(hall, "acceptor", "INSERT INTO cases (number, kind, category_id, state, source, description, "
                              "reported_at, version, level, urge_count, rework_count, paused_minutes, "
                              "extension_minutes) SELECT 'X2', kind, category_id, 'closed', 'public', 'x', "
                              "now(), 0, 'general', 0, 0, 0, 0 FROM cases LIMIT 1", match="starts in state reported")
    # Silently re-routing a case (no event) is refused too.
    refused(hall, "dispatcher", "UPDATE cases SET department_id = %s WHERE id = %s",
            (hall.world.dept["HW"], filed), match="permission denied for table cases")
    with hall.store.session() as s:
        assert s.get(Case, filed).state == "filed" and s.get(Case, checked).state == "checked"


def test_events_follow_the_state_machine_and_the_login(hall):
    filed = hall.cases["filed"]
    # An acceptor may not dispatch, nor pretend to be a dispatcher or someone else.
    refused(hall, "acceptor", *event_sql(step(hall, "acceptor", filed, "dispatch", "filed", "dispatched")),
            match="may not take action dispatch")
    refused(hall, "acceptor", *event_sql(step(hall, "acceptor", filed, "dispatch", "filed", "dispatched",
                                              role="dispatcher")), match="not a member of gridhall_dispatcher")
    refused(hall, "dispatcher", *event_sql(step(hall, "dispatcher", filed, "dispatch", "filed", "dispatched",
                                                actor=hall.names["shift_leader"])), match="as actor")
    # Skipping: straight from 待派遣 to 已结案 is no transition at all.
    refused(hall, "shift_leader", *event_sql(step(hall, "shift_leader", filed, "close", "filed", "closed")),
            match="may not take action close")
    # The event must start from the case's last recorded state.
    refused(hall, "shift_leader", *event_sql(step(hall, "shift_leader", filed, "close", "checked", "closed")),
            match="last recorded state is filed")
    # 不予立案 needs a reason; 系统 events other than automatic replies belong to the owner.
    refused(hall, "shift_leader", *event_sql(step(hall, "shift_leader", filed, "void", "filed", "voided")),
            match="needs a reason")
    refused(hall, "dispatcher", *event_sql(step(hall, "dispatcher", filed, "dispatch", "filed", "dispatched",
                                                actor="system", role="system")), match="system event")


def test_refusal_returns_exactly_to_the_state_before_the_request(hall):
    case = hall.cases["return"]  # 待接收 → 回退申请中 (回退 may also come from 处置中)
    refused(hall, "dispatcher", *event_sql(step(hall, "dispatcher", case, "refuse", "return_requested",
                                                "handling", reason="理由不足")), match="state before its request")
    conn = hall.connect("dispatcher")
    with conn, conn.cursor() as cur:  # the database moves the case itself (migration 0006)
        cur.execute(*event_sql(step(hall, "dispatcher", case, "refuse", "return_requested", "dispatched",
                                    reason="理由不足", at=_db_now())))
    conn.close()
    with hall.store.session() as s:
        assert (s.get(Case, case).state, s.get(Case, case).version) == ("dispatched", 2)
    assert verify_audit(hall.store) is None


def test_forged_links_are_refused(hall):
    filed = hall.cases["filed"]
    with hall.store.engine.connect() as conn:
        head_no, head_hash = conn.exec_driver_sql("SELECT chain_no, hash FROM audit_head").one()
    base = step(hall, "dispatcher", filed, "dispatch", "filed", "dispatched")
    refused(hall, "dispatcher", *event_sql({**base, "hash": "f" * 64}), match="does not match")
    refused(hall, "dispatcher", *event_sql({**base, "prev_hash": "0" * 64}), match="prev_hash must be")
    refused(hall, "dispatcher", *event_sql({**base, "chain_no": head_no + 2}), match="chain_no must be")
    refused(hall, "dispatcher", *event_sql({**base, "seq": 5}), match="next seq is 2")
    refused(hall, "dispatcher", "UPDATE audit_head SET chain_no = chain_no + 1",
            match="permission denied for table audit_head")  # no login may write it (migration 0010)
    # A well-formed event dated by the client (here: in the past) is refused: the database dates events.
    refused(hall, "dispatcher", *event_sql(base), match="from the database's clock")
    with hall.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT chain_no, hash FROM audit_head").one() == (head_no, head_hash)
    assert verify_audit(hall.store) is None


def test_a_raw_sql_client_can_take_a_legal_step_and_the_database_hashes_it(hall):
    filed = hall.cases["filed"]
    conn = hall.connect("dispatcher")
    with conn, conn.cursor() as cur:
        # The event alone: the database moves the case and records the deadline (migration 0006).
        cur.execute(*event_sql(step(hall, "dispatcher", filed, "dispatch", "filed", "dispatched",
                                    department_id=hall.world.dept["JD001"], at=_db_now(),
                                    payload='{"minutes":480,"名":"甲"}')))
    conn.close()
    with hall.store.session() as s:
        ev = s.scalars(select(CaseEvent).where(CaseEvent.case_id == filed).order_by(CaseEvent.seq.desc())).first()
        assert (ev.seq, ev.chain_no, len(ev.hash)) == (2, len(hall.cases) + 1, 64)
        assert s.execute(select(func.max(CaseEvent.chain_no))).scalar() == ev.chain_no
        assert ev.payload["deadline"] == f"{s.get(Case, filed).deadline_at:%Y-%m-%d %H:%M:%S}"
        assert (s.get(Case, filed).state, s.get(Case, filed).department_id) == ("dispatched",
                                                                               hall.world.dept["JD001"])
    assert verify_audit(hall.store) is None


# --- row-level security -------------------------------------------------------------------------

def test_department_sees_and_changes_only_its_own_cases(hall):
    a, b = hall.cases["handling_a"], hall.cases["handling_b"]
    seen = {r[0] for r in run(hall, "dept_a", "SELECT id FROM cases")}
    assert seen == {a, hall.cases["extension"], hall.cases["checked"]}
    assert {r[0] for r in run(hall, "dept_a", "SELECT DISTINCT case_id FROM case_events")} == seen
    assert {r[0] for r in run(hall, "dept_b", "SELECT id FROM cases")} == {b}
    assert len(run(hall, "dispatcher", "SELECT id FROM cases")) == len(hall.cases)
    assert run(hall, "dept_a", "UPDATE cases SET version = version WHERE id = %s", (b,)) == 0  # not seen
    assert run(hall, "dept_a", "SELECT count(*) FROM attachments WHERE case_id = %s", (b,))[0][0] == 0
    refused(hall, "dept_a", "UPDATE cases SET department_id = %s WHERE id = %s", (hall.world.dept["HW"], a),
            match="permission denied for table cases")
    refused(hall, "dept_a", *event_sql(step(hall, "dept_a", b, "feedback", "handling", "fed_back")),
            match="row-level security")


# --- the normal path ------------------------------------------------------------------------------

def test_the_whole_loop_runs_through_the_services_as_database_logins(hall):
    clock = FixedClock(_db_now())  # events are dated by the database's clock (±5 minutes)

    def svc(who):
        return service(hall.store_as(who), clock), hall.actor(who)

    s, me = svc("acceptor")
    r = s.report(me, draft(source="public", reporter_name="市民甲", photos=(photo(taken_at=clock.now()),)))
    cid = r.case.id
    r = s.send_verify(me, cid, r.version)
    s, me = svc("supervisor")
    r = s.verify(me, cid, r.version, result="现场属实")
    s, me = svc("shift_leader")
    r = s.file(me, cid, r.version)  # adds the automatic reply (系统) in the same transaction
    s, me = svc("dispatcher")
    r = s.dispatch(me, cid, r.version, department="JD001")
    s, me = svc("dept_a")
    r = s.accept(me, cid, r.version)
    clock.advance(timedelta(minutes=3))  # within the database clock's 5 minutes
    r = s.feedback(me, cid, r.version, text="已清运", photos=(photo("after", "后.png", taken_at=clock.now()),))
    s, me = svc("acceptor")
    r = s.send_check(me, cid, r.version)
    s, me = svc("supervisor")
    r = s.check(me, cid, r.version, outcome="passed")
    s, me = svc("leader")
    r = s.urge(me, cid, r.version, note="尽快结案")
    s, me = svc("shift_leader")
    r = s.close(me, cid, r.version)
    assert r.case.state is CaseState.CLOSED
    assert verify_audit(hall.store) is None
    # The other department never saw it.
    assert cid not in {row[0] for row in run(hall, "dept_b", "SELECT id FROM cases")}


def test_a_department_report_is_visible_to_its_department_only(hall):
    s = service(hall.store_as("dept_a"), FixedClock(_db_now()))
    r = s.report(hall.actor("dept_a"), draft(photos=(photo(),)))
    assert r.case.state is CaseState.REPORTED
    assert r.case.id in {row[0] for row in run(hall, "dept_a", "SELECT id FROM cases")}
    assert r.case.id not in {row[0] for row in run(hall, "dept_b", "SELECT id FROM cases")}
    assert verify_audit(hall.store) is None


# --- login management -------------------------------------------------------------------------------

def test_login_lifecycle(hall):
    name = f"tmp{secrets.token_hex(3)}"
    with pytest.raises(security.SecurityError, match="必须绑定部门"):
        security.create_login(hall.store, name, Role.DEPARTMENT, "pw-123456")
    with pytest.raises(security.SecurityError, match="没有对应的数据库组角色"):
        security.create_login(hall.store, name, Role.SYSTEM, "pw-123456")
    assert not security.login_exists(hall.store, name)
    try:
        assert security.create_login(hall.store, name, "analyst", "first-pass-1")
        assert security.login_exists(hall.store, name)
        with pytest.raises(security.SecurityError, match="已存在"):
            security.create_login(hall.store, name, "analyst", "first-pass-1")

        def connect(pw):
            return psycopg2.connect(host="127.0.0.1", port=hall.cluster.port, dbname=hall.db,
                                    user=security.login_name(name), password=pw)

        connect("first-pass-1").close()
        assert security.set_login_password(hall.store, name, "second-pass-2")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            connect("first-pass-1")
        connect("second-pass-2").close()
        assert security.disable_login(hall.store, name)
        with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
            connect("second-pass-2")
        assert security.enable_login(hall.store, name)
        connect("second-pass-2").close()
        # The password never reaches the server in clear: only a SCRAM verifier is stored.
        with hall.cluster.admin() as conn, conn.cursor() as cur:
            cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (security.login_name(name),))
            stored = cur.fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$") and "second-pass-2" not in stored
    finally:
        assert security.drop_login(hall.store, name)
    assert not security.login_exists(hall.store, name)


def test_logins_are_no_ops_on_spatialite(tmp_path):
    opened = init_db(tmp_path / "s.sqlite")
    try:
        assert security.create_login(opened, "zhang", Role.DISPATCHER, "pw-123456") is False
        assert security.login_exists(opened, "zhang") is False
        assert security.disable_login(opened, "zhang") is False
    finally:
        opened.dispose()


def test_write_pgpass_keeps_one_private_line_per_login(hall, tmp_path):
    path = tmp_path / "home" / ".pgpass"
    path.parent.mkdir()
    path.write_text("# my servers\nother:5432:*:bob:secret\n")
    login = security.login_name(hall.names["dispatcher"])
    security.write_pgpass("127.0.0.1", hall.cluster.port, hall.db, login, "wrong:pass\\word", path=path)
    security.write_pgpass("127.0.0.1", hall.cluster.port, hall.db, login, hall.password, path=path)
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# my servers", "other:5432:*:bob:secret"] and len(lines) == 3
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    security.write_pgpass("127.0.0.1", hall.cluster.port, hall.db, "x:y", "p:w\\", path=path)
    assert path.read_text().splitlines()[-1] == f"127.0.0.1:{hall.cluster.port}:{hall.db}:x\\:y:p\\:w\\\\"
    # libpq finds the password there: the URL carries none.
    conn = psycopg2.connect(host="127.0.0.1", port=hall.cluster.port, dbname=hall.db, user=login,
                            passfile=str(path))
    conn.close()
    assert "@" in security.login_url(hall.cluster.url(hall.db), "zhang")
    assert ":" not in security.login_url(hall.cluster.url(hall.db), "zhang").split("@")[0].split("//")[1]


# --- backup and restore -------------------------------------------------------------------------------

def test_pg_dump_and_pg_restore_round_trip_a_demo_hall(pg_cluster, tmp_path):
    from data.democity.generate import generate

    bindir = pg_cluster.bindir  # the server binaries the cluster runs (app.store.cluster.find_bindir)
    source = pg_cluster.create_database()
    target = pg_cluster.create_database(postgis=False)  # empty, like a new server's database
    try:
        generate(pg_cluster.url(source), scale="tiny", seed=3)
        env = {**os.environ, "PGPASSWORD": pg_cluster.password}
        dump = tmp_path / "hall.dump"
        common = ["-h", "127.0.0.1", "-p", str(pg_cluster.port), "-U", "gridhall"]
        subprocess.run([f"{bindir}/pg_dump", *common, "-Fc", "-f", str(dump), source], env=env, check=True,
                       capture_output=True)
        subprocess.run([f"{bindir}/pg_restore", *common, "--exit-on-error", "-d", target, str(dump)],
                       env=env, check=True, capture_output=True)
        counts = "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_events), " \
                 "(SELECT chain_no FROM audit_head), (SELECT count(*) FROM workflow_transitions)"
        stores = [open_store(pg_cluster.url(name)) for name in (source, target)]
        try:
            found = []
            for opened in stores:
                with opened.engine.connect() as conn:
                    found.append(conn.exec_driver_sql(counts).one())
                assert verify_audit(opened) is None
            assert found[0] == found[1] and found[0][0] > 100
            with stores[1].engine.connect() as conn:  # triggers and policies came back too
                assert conn.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE tgname IN "
                                            "('case_events_chain', 'case_events_append_only')").scalar() == 2
                assert conn.exec_driver_sql("SELECT count(*) FROM pg_policies").scalar() >= 10
        finally:
            for opened in stores:
                opened.dispose()
    finally:
        pg_cluster.drop_database(source)
        pg_cluster.drop_database(target)


def test_verify_audit_refuses_a_department_login_instead_of_a_false_tamper_alarm(hall):
    """Row-level security hides other departments' events from a department login: the chain's
    gaps must not read as tampering. The owner and a staff login verify the whole chain."""
    from app.store.commands import verify_audit
    from app.store.errors import StoreError

    dept = hall.store_as("dept_a")
    with pytest.raises(StoreError, match="专业部门账户"):
        verify_audit(dept)
    assert verify_audit(hall.store_as("shift_leader")) is None
    assert verify_audit(hall.store) is None
