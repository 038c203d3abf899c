"""No login can freeze the hall: every application login holds a lock as long as it likes, the others keep working.

Each blocker turns its own limits off (a hostile login can) and holds what it may lock in an
open transaction; the other workstations read the queue and append events on another case and
on the blocked case through ``locks.run_releasing``: after one lock timeout the database ends
the blocker's session (``gridhall_release_blockers``) and the operation goes through.
"""

from __future__ import annotations

import threading

import psycopg2
import pytest
from services.seed import seed_case
from services.world import T0, service
from sqlalchemy import event, text

from app.domain.clock import SystemClock
from app.domain.definitions import CaseState
from app.services.case_source import StoreCaseSource
from app.store import locks
from tests.store import hall as _hall
from tests.store.hall import EVERYONE, OPERATIONAL, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

#: Generous: only a frozen hall ever waits this long (the lock timeout is 5 s).
BOUND_S = 60
#: Statements a blocker tries (each in a savepoint: what its privileges refuse is skipped).
FREEZES = (
    "LOCK TABLE cases IN ACCESS EXCLUSIVE MODE",
    "LOCK TABLE case_events IN ACCESS EXCLUSIVE MODE",
    "LOCK TABLE audit_head IN ACCESS EXCLUSIVE MODE",
    "LOCK TABLE case_claims IN ACCESS EXCLUSIVE MODE",
    "LOCK TABLE categories IN ACCESS EXCLUSIVE MODE",
    "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
    "SELECT 1 FROM audit_head FOR UPDATE",
    "SELECT 1 FROM audit_head FOR SHARE",
    "SELECT 1 FROM cases WHERE id = %(case)s FOR UPDATE",
    "SELECT 1 FROM cases FOR SHARE",
)
NO_LIMITS = "SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0"


def _version(hall, case_id: int) -> int:
    with hall.store.engine.connect() as conn:
        return conn.execute(text("SELECT version FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()


def _alive(hall, pid: int) -> bool:
    with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cur.fetchone()[0] == 1


def _bounded(fn, what: str):
    """Run ``fn`` in a thread; fail if it has not returned within BOUND_S (a frozen hall)."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # re-raised below, in the test's thread
            result["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(BOUND_S)
    assert not worker.is_alive(), f"{what} did not complete within {BOUND_S} s: the hall is frozen"
    if "error" in result:
        raise result["error"]
    return result["value"]


class Workstation:
    """Another login's desk: reads the queue and appends events, through the release path."""

    def __init__(self, hall, who: str) -> None:
        self.hall = hall
        self.who = who
        self.store = hall.store_as(who)
        self.svc = service(self.store, SystemClock())
        self.actor = hall.actor(who)

    def read_queue(self) -> list:
        source = StoreCaseSource(self.store)
        return _bounded(lambda: locks.run_releasing(self.store, source.open_cases), f"{self.who} reading the queue")

    def append(self, case_id: int):
        if self.who == "acceptor":
            def op():
                return self.svc.reply(self.actor, case_id, _version(self.hall, case_id), text="已收到，正在处理")
        else:
            def op():
                return self.svc.urge(self.actor, case_id, _version(self.hall, case_id), note="请抓紧")
        return _bounded(lambda: locks.run_releasing(self.store, op), f"{self.who} appending on case {case_id}")


def _worker_for(blocker: str) -> str:
    return "acceptor" if blocker == "leader" else "leader"


def _releases(hall, pid: int) -> list[tuple]:
    with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
        cur.execute("SELECT login, ended, holding FROM lock_releases WHERE pid = %s", (pid,))
        return cur.fetchall()


# --- the limits -----------------------------------------------------------------------------

def _settings(store) -> tuple:
    with store.engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT current_setting('{name}')")).scalar() for name, _ in locks.TIMEOUTS)


def test_application_logins_get_the_limits_and_the_owner_does_not(hall):
    wanted = tuple(value for _, value in locks.TIMEOUTS)
    for who in EVERYONE:
        assert _settings(hall.store_as(who)) == wanted, who
    assert _settings(hall.store) == ("0", "0", "0")  # the superuser's migrations and bulk writes
    assert _settings(hall.store_as(_hall.DBA)) == ("0", "0", "0")  # a member of the owner


def test_role_defaults_apply_without_the_client(hall):
    login = hall.login("dispatcher")
    assert locks.set_role_defaults(hall.store, login)
    conn = hall.connect("dispatcher")  # a raw client: no connect-time SET
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW lock_timeout")
            assert cur.fetchone()[0] == locks.LOCK_TIMEOUT
    finally:
        conn.close()
    # … and what create_login-style PL/pgSQL would run
    body = locks.plpgsql_role_defaults("p_login")
    assert body.count("ALTER ROLE %I IN DATABASE %I SET") == 3 and "p_login" in body


def test_the_release_function_is_the_owners_and_everyone_but_analysts_may_call_it(hall):
    for who in EVERYONE:
        if who == "analyst":  # reads only: never blocked, so no reason to end anybody's session
            with pytest.raises(psycopg2.Error, match="permission denied"):
                run(hall, who, locks.RELEASE_SQL)
        else:
            assert run(hall, who, locks.RELEASE_SQL) == [(0,)]
    with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
        cur.execute("SELECT prosecdef, proconfig, has_function_privilege('public', oid, 'EXECUTE') "
                    "FROM pg_proc WHERE proname = %s", (locks.RELEASE_FUNCTION,))
        definer, config, public = cur.fetchone()
    assert definer and any(c.startswith("search_path=") for c in config) and not public
    conn = hall.connect("dispatcher")
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.Error, match="permission denied"):
            cur.execute("SELECT * FROM lock_releases")
    finally:
        conn.close()


# --- holding locks --------------------------------------------------------------------------

@pytest.mark.parametrize("who", [*OPERATIONAL, "analyst", "admin"])
def test_a_raw_session_holding_what_it_can_does_not_freeze_the_hall(hall, who):
    target = hall.cases["handling_a"]  # visible to dept_a too
    blocker = hall.connect(who)
    held: list[str] = []
    try:
        with blocker.cursor() as cur:
            cur.execute(NO_LIMITS)
            blocker.commit()
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
            for sql in FREEZES:
                cur.execute("SAVEPOINT try")
                try:
                    cur.execute(sql, {"case": target})
                    held.append(sql)
                    cur.execute("RELEASE SAVEPOINT try")
                except psycopg2.Error:
                    cur.execute("ROLLBACK TO SAVEPOINT try")
        # the blocker now idles in its transaction, holding whatever it got
        ws = Workstation(hall, _worker_for(who))
        assert ws.read_queue()
        ws.append(hall.cases["handling_b"])  # another case
        ws.append(target)  # the case it may have locked
        blocking = bool(held)  # every statement of FREEZES that succeeds holds a lock others wait for
        if blocking:
            assert not _alive(hall, pid), f"{who} held {held} and still runs"
            assert [(r[0], r[1]) for r in _releases(hall, pid)] == [(hall.login(who), True)]
        else:
            assert _alive(hall, pid)  # holding nothing that blocks: left alone
    finally:
        blocker.close()
    if who in ("analyst", "admin"):
        assert held == []  # reads (and column-wise edits of reference data): no lock that blocks others
    if who in OPERATIONAL:  # the compare-and-set's row locks, no more
        assert held and not any(s.startswith("LOCK TABLE") or "audit_head" in s for s in held), held


#: (case, operation) a blocker takes in the application: it holds the case's row lock and the chain lock.
BLOCKER_STEPS = {
    "acceptor": ("filed", lambda svc, me, cid, v: svc.reply(me, cid, v, text="已收到")),
    "shift_leader": ("filed", lambda svc, me, cid, v: svc.request_void(me, cid, v, reason="重复上报")),
    "dispatcher": ("filed", lambda svc, me, cid, v: svc.request_void(me, cid, v, reason="重复上报")),
    "supervisor": ("checking", lambda svc, me, cid, v: svc.check(me, cid, v, outcome="passed")),
    "dept_a": ("handling_a", lambda svc, me, cid, v: svc.feedback(me, cid, v, text="已清运")),
    "leader": ("filed", lambda svc, me, cid, v: svc.urge(me, cid, v, note="抓紧")),
}


@pytest.mark.parametrize("who", OPERATIONAL)
def test_a_workstation_stuck_before_its_commit_does_not_freeze_the_hall(hall, who):
    hall.cases["checking"] = seed_case(hall.store, hall.world, CaseState.CHECKING, at=T0, department="JD001")[0]
    key, operation = BLOCKER_STEPS[who]
    target = hall.cases[key]
    store = hall.store_as(who)
    store.engine.dispose()  # new connections: the limits turned off after the client's own SET

    @event.listens_for(store.engine, "connect")
    def no_limits(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute(NO_LIMITS)
        dbapi_conn.commit()

    stuck, go_on, seen = threading.Event(), threading.Event(), {}

    @event.listens_for(store.engine, "commit")
    def hold(conn):  # the operation is written, locks held: now it idles before COMMIT
        seen["pid"] = conn.connection.dbapi_connection.get_backend_pid()
        stuck.set()
        go_on.wait(BOUND_S)

    svc, me = service(store, SystemClock()), hall.actor(who)

    def blocked():
        try:
            operation(svc, me, target, _version(hall, target))
        except Exception as exc:  # its session was ended: the commit fails
            seen["error"] = exc

    thread = threading.Thread(target=blocked, daemon=True)
    thread.start()
    try:
        assert stuck.wait(BOUND_S)
        ws = Workstation(hall, _worker_for(who))
        assert ws.read_queue()
        ws.append(hall.cases["handling_b"])  # another case: waits for the chain lock
        ws.append(target)  # the same case: waits for its row lock
        assert not _alive(hall, seen["pid"])
        assert [(r[0], r[1]) for r in _releases(hall, seen["pid"])] == [(hall.login(who), True)]
    finally:
        go_on.set()
        thread.join(BOUND_S)
    assert "error" in seen  # nothing of the stuck operation was written


def test_a_session_that_waits_for_its_own_accomplice_is_ended_too(hall):
    # One session holds an advisory lock (no transaction); a second holds the case's row lock and
    # waits, without limits, for that advisory lock: a "victim" that waits longer than any
    # application login's own limit allows is a blocker.
    target = hall.cases["handling_a"]
    accomplice, blocker = hall.connect("dept_a"), hall.connect("dept_a")
    accomplice.autocommit = True
    try:
        accomplice.cursor().execute("SELECT pg_advisory_lock(42)")
        with blocker.cursor() as cur:
            cur.execute(NO_LIMITS)
            blocker.commit()
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
            cur.execute("SELECT 1 FROM cases WHERE id = %s FOR UPDATE", (target,))
        waiting = threading.Thread(target=lambda: _quietly(blocker, "SELECT pg_advisory_lock(42)"), daemon=True)
        waiting.start()
        with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
            waited = 0.0
            while waited <= locks.RELEASE_WAITING_AFTER_S:  # the condition the release needs, not a timing
                cur.execute("SELECT coalesce(extract(epoch FROM clock_timestamp() - waitstart), 0) FROM pg_locks "
                            "WHERE pid = %s AND NOT granted", (pid,))
                row = cur.fetchone()
                waited = float(row[0]) if row else 0.0
                threading.Event().wait(0.2)
        Workstation(hall, "leader").append(target)
        waiting.join(BOUND_S)
        assert not _alive(hall, pid)
    finally:
        blocker.close()
        accomplice.close()


def _quietly(conn, sql: str) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    except psycopg2.Error:  # its session was ended
        pass
