"""Least privilege (migration 0010), attacked with raw SQL as every role's login.

Every function of the schema has a fixed search_path and no PUBLIC EXECUTE; no login can attach
the owner's trigger functions to a table of its own, and attached anyway (by a superuser) they
refuse to run; no application group can lock a case table or the chain head; case_claims and
attachments have row-level security (issue 8, "Why" 4, 5, 6 and 8, "Must deliver" 3).
"""

from __future__ import annotations

import psycopg2
import pytest
from alembic import command
from sqlalchemy import text

from app.domain.clock import SystemClock
from app.services.claims import ClaimService
from app.store import security
from app.store.commands import alembic_config, init_db, verify_audit
from app.store.engine import head_revision

try:
    from tests.store.hall import EVERYONE, OPERATIONAL, backend, event_sql, hall, refused, run, step  # noqa: F401
except ImportError:
    from tests.store.test_security import (  # noqa: F401
        EVERYONE,
        OPERATIONAL,
        backend,
        event_sql,
        hall,
        refused,
        run,
        step,
    )

pytestmark = pytest.mark.postgis

GROUPS = {security.group_role(r) for r in security.GROUP_ROLES}
OPERATIONAL_GROUPS = {security.group_role(r) for r in security.OPERATIONAL_ROLES}
#: The schema's own routines (PostGIS's, installed in the same schema, excepted).
OWN_FUNCTIONS = """
SELECT p.oid::regprocedure::text, p.proname, coalesce(p.proconfig, '{}'), p.prorettype = 'trigger'::regtype,
       p.prosecdef, p.prosrc, p.oid
  FROM pg_proc p
 WHERE p.pronamespace = current_schema()::regnamespace AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                              AND d.deptype = 'e')
 ORDER BY 1"""
CASE_TABLES = ("cases", "case_events", "attachments", "case_claims", "audit_head")
LOCK_MODES = ("SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE")


def su(hall, sql: str, args=()):
    """Run ``sql`` as the cluster's superuser (autocommit); the rows or the row count."""
    with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else cur.rowcount


def all_refused(hall, who: str, statements: list[str], match: str) -> None:
    """Each statement, on one connection as ``who``, is refused with ``match`` in the message."""
    conn = hall.connect(who)
    try:
        for sql in statements:
            with pytest.raises(psycopg2.Error) as info, conn.cursor() as cur:
                cur.execute(sql)
            conn.rollback()
            assert match in str(info.value), (who, sql, str(info.value))
    finally:
        conn.close()


def sweep_problems(cur) -> list[str]:
    """What the sweep of 0010 guarantees, as a list of violations (empty: all good)."""
    cur.execute("SELECT current_schema()")
    (schema,) = cur.fetchone()
    cur.execute(OWN_FUNCTIONS)
    problems = []
    for sig, _name, config, _trigger, _definer, _src, oid in cur.fetchall():
        if f"search_path={schema}, pg_temp" not in config:
            problems.append(f"{sig}: search_path not fixed ({config})")
        cur.execute("SELECT has_function_privilege('public', %s, 'EXECUTE')", (oid,))
        if cur.fetchone()[0]:
            problems.append(f"{sig}: PUBLIC may EXECUTE it")
    return problems


def executors(hall, function: str) -> set[str]:
    """The application groups that may EXECUTE ``function`` (a regprocedure text)."""
    return {g for g in GROUPS
            if su(hall, "SELECT has_function_privilege(%s, %s, 'EXECUTE')", (g, function))[0][0]}


def attachment_sql(case: int, event: int | None) -> tuple[str, tuple]:
    return ("INSERT INTO attachments (case_id, event_id, kind, filename, mime, size, sha256, data) "
            "VALUES (%s, %s, 'other', 'x.png', 'image/png', 1, %s, %s)",
            (case, event, "0" * 64, psycopg2.Binary(b"x")))


# --- the sweep -----------------------------------------------------------------------------------

def test_every_function_of_the_schema_has_a_fixed_search_path_and_no_public_execute(hall):
    with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
        cur.execute(OWN_FUNCTIONS)
        names = {r[1] for r in cur.fetchall()}
        assert {"gridhall_exempt", "gridhall_case_events_chain", "case_events_append_only",
                "gridhall_lock_chain", "gridhall_department_may_write"} <= names
        assert sweep_problems(cur) == []


def test_execute_is_granted_only_to_the_groups_that_call_a_function(hall):
    everyone = GROUPS
    for sig, _name, _config, trigger, *_ in su(hall, OWN_FUNCTIONS):
        if trigger:  # triggers fire without EXECUTE: nobody gets it (nobody can attach them)
            assert executors(hall, sig) == set(), sig
    assert executors(hall, "gridhall_has_role(text)") == everyone  # the client asks it
    assert executors(hall, "gridhall_current_department()") == everyone
    assert executors(hall, "gridhall_department_may_write(integer)") >= {"gridhall_department"}
    assert executors(hall, "gridhall_lock_chain()") == OPERATIONAL_GROUPS
    # Trigger WHEN clauses run as the writer: the writers of cases and case_events, nobody else.
    assert executors(hall, "gridhall_exempt()") == OPERATIONAL_GROUPS
    # Called only inside the owner's SECURITY DEFINER functions.
    for sig in ("gridhall_event_hash(case_events)", "gridhall_canonical_json(json)", "gridhall_json_number(text)",
                "gridhall_request_origin(integer)"):
        assert executors(hall, sig) == set(), sig


def test_every_trigger_function_refuses_to_run_on_a_foreign_table(hall):
    """Attached by someone who may (a superuser) to a table with case_events' very columns."""
    functions = [(sig, name) for sig, name, _c, trigger, *_ in su(hall, OWN_FUNCTIONS) if trigger]
    assert len(functions) >= 9
    head = su(hall, "SELECT chain_no, hash FROM audit_head")
    with hall.cluster.admin(hall.db) as conn:
        conn.autocommit = False
        cur = conn.cursor()
        for sig, name in functions:
            cur.execute("CREATE TEMP TABLE bait (LIKE case_events)")
            cur.execute("INSERT INTO bait SELECT * FROM case_events LIMIT 1")
            for when in ("AFTER INSERT", "BEFORE UPDATE", "BEFORE DELETE"):
                cur.execute(f"CREATE TRIGGER bait_{when.split()[1].lower()} {when} ON bait "
                            f"FOR EACH ROW EXECUTE FUNCTION {sig}")
            cur.execute("SAVEPOINT s")
            for sql in ("INSERT INTO bait SELECT * FROM case_events LIMIT 1", "UPDATE bait SET seq = seq",
                        "DELETE FROM bait"):
                with pytest.raises(psycopg2.Error) as info:
                    cur.execute(sql)
                cur.execute("ROLLBACK TO SAVEPOINT s")
                # Refused by the function itself, first thing (its own guard or 0010's), as a privilege error.
                assert info.value.pgcode == "42501" and name in str(info.value), (sig, sql, str(info.value))
            conn.rollback()
    assert su(hall, "SELECT chain_no, hash FROM audit_head") == head
    assert verify_audit(hall.store) is None


@pytest.mark.parametrize("who", EVERYONE)
def test_no_login_can_attach_the_owners_trigger_functions(hall, who):
    functions = [sig for sig, _n, _c, trigger, *_ in su(hall, OWN_FUNCTIONS) if trigger]
    conn = hall.connect(who)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TEMP TABLE bait (LIKE case_events)")  # temporary tables: anyone may
        cur.execute("SAVEPOINT s")
        for sig in functions:
            with pytest.raises(psycopg2.Error) as info:
                cur.execute(f"CREATE TRIGGER t AFTER INSERT ON bait REFERENCING NEW TABLE AS new_events "
                            f"FOR EACH STATEMENT EXECUTE FUNCTION {sig}")
            assert "permission denied for function" in str(info.value), (sig, str(info.value))
            cur.execute("ROLLBACK TO SAVEPOINT s")
    finally:
        conn.close()


def test_the_analysts_false_tamper_alarm_is_refused(hall):
    """Why 4: an analyst attached gridhall_case_events_advance_head() to a temp table and rewrote
    audit_head as the owner."""
    head = su(hall, "SELECT chain_no, hash FROM audit_head")
    refused(hall, "analyst", "CREATE TEMP TABLE bait (LIKE case_events); "
                             "INSERT INTO bait SELECT * FROM case_events; "
                             "UPDATE bait SET chain_no = chain_no + 1000, hash = repeat('f', 64); "
                             "CREATE TRIGGER t AFTER INSERT ON bait REFERENCING NEW TABLE AS new_events "
                             "FOR EACH STATEMENT EXECUTE FUNCTION gridhall_case_events_advance_head(); "
                             "INSERT INTO bait SELECT * FROM bait", match="permission denied for function")
    refused(hall, "dept_a", "CREATE TEMP TABLE bait (LIKE case_events); "
                            "CREATE TRIGGER t BEFORE INSERT ON bait FOR EACH ROW "
                            "EXECUTE FUNCTION gridhall_case_events_chain()", match="permission denied for function")
    assert su(hall, "SELECT chain_no, hash FROM audit_head") == head
    assert verify_audit(hall.store) is None


def test_a_department_learns_nothing_of_another_departments_case(hall):
    """Why 4: the chain trigger's message named the state of another department's case."""
    b, a = hall.cases["handling_b"], hall.cases["handling_a"]
    for action, from_state, to_state, extra in (
            ("accept", "dispatched", "handling", {}), ("feedback", "handling", "fed_back", {}),
            ("urge", "closed", "closed", {"seq": 9}), ("feedback", "handling", "fed_back", {"seq": 9}),
            ("feedback", "handling", "fed_back", {"chain_no": 1})):
        message = refused(hall, "dept_a", *event_sql(step(hall, "dept_a", b, action, from_state, to_state, **extra)),
                          match="row-level security")
        for secret in ("handling", "last recorded state", "next seq", "chain_no must be", "prev_hash"):
            assert secret not in message.split("CONTEXT")[0], message
    # On its own case the department still hears what is wrong.
    refused(hall, "dept_a", *event_sql(step(hall, "dept_a", a, "accept", "dispatched", "handling")),
            match="last recorded state is handling")


# --- attachments (Why 5) ------------------------------------------------------------------------------

def test_attachments_need_a_case_the_department_may_write_and_an_event_of_its_own(hall):
    filed, a, b = hall.cases["filed"], hall.cases["handling_a"], hall.cases["handling_b"]
    seed_event = su(hall, "SELECT id FROM case_events WHERE case_id = %s", (a,))[0][0]
    # A case nobody dispatched (reported by a login without a department): no.
    refused(hall, "dept_a", *attachment_sql(filed, None), match=None)
    refused(hall, "dept_a", *attachment_sql(b, None), match=None)
    # Its own case, but no event, or another's event: no.
    refused(hall, "dept_a", *attachment_sql(a, None), match=None)
    refused(hall, "dept_a", *attachment_sql(a, seed_event), match=None)
    refused(hall, "dispatcher", *attachment_sql(filed, None), match=None)
    refused(hall, "analyst", *attachment_sql(filed, None), match="permission denied")
    # (each refusal above comes from row-level security or, first, from the check that an attachment
    #  is stored in the transaction of its own event: migration 0006's attachments_check)
    for who, case, event in (("dept_a", filed, None), ("dept_a", a, seed_event), ("dispatcher", filed, None)):
        message = refused(hall, who, *attachment_sql(case, event))
        assert "row-level security" in message or "same transaction" in message, message
    assert su(hall, "SELECT count(*) FROM attachments")[0][0] == 0


def test_a_missing_department_means_no(hall):
    mine = {hall.cases["checked"], hall.cases["handling_a"], hall.cases["extension"]}  # JD001's
    may = "SELECT id FROM cases WHERE gridhall_department_may_write(id)"
    everything = {r[0] for r in su(hall, "SELECT id FROM cases")}
    assert {r[0] for r in run(hall, "dept_a", "SELECT id FROM unnest(%s::int[]) AS id "
                                              "WHERE gridhall_department_may_write(id)", (list(everything),))} == mine
    assert {r[0] for r in run(hall, "dept_a", may)} == mine
    assert run(hall, "dept_a", "SELECT gridhall_department_may_write(-1)") == [(False,)]
    # A department login whose users row lost its department may write nothing, not everything.
    su(hall, "UPDATE users SET department_id = NULL WHERE username = %s", (hall.names["dept_a"],))
    assert run(hall, "dept_a", "SELECT count(*) FROM unnest(%s::int[]) AS id "
                               "WHERE gridhall_department_may_write(id)", (list(everything),)) == [(0,)]


def test_a_department_reports_and_feeds_back_with_photos_as_its_login(hall):
    """The legitimate path still works: photos with the login's own event, on its own cases."""
    from services.world import draft, photo, service

    me, s = hall.actor("dept_a"), service(hall.store_as("dept_a"), SystemClock())
    reported = s.report(me, draft(photos=(photo(),)))
    a = hall.cases["handling_a"]
    version = su(hall, "SELECT version FROM cases WHERE id = %s", (a,))[0][0]
    s.feedback(me, a, version, text="已清运", photos=(photo("after", "后.png"),))
    counts = "SELECT e.actor, count(*) FROM attachments t JOIN case_events e ON e.id = t.event_id " \
             "WHERE t.case_id = %s GROUP BY 1"
    assert su(hall, counts, (reported.case.id,)) == [(me.username, 1)]
    assert su(hall, counts, (a,)) == [(me.username, 1)]
    assert verify_audit(hall.store) is None


# --- claims (Why 6) ---------------------------------------------------------------------------------

def claim_sql(case: int, holder: str, role: str, expires: str = "now() + interval '2 minutes'",
              upsert: bool = False) -> str:
    sql = ("INSERT INTO case_claims (case_id, holder, role, claimed_at, expires_at) "
           f"VALUES ({case}, '{holder}', '{role}', (now() AT TIME ZONE 'Asia/Shanghai')::timestamp(0), "
           f"(({expires}) AT TIME ZONE 'Asia/Shanghai')::timestamp(0))")
    if upsert:
        sql += " ON CONFLICT (case_id) DO UPDATE SET holder = excluded.holder, role = excluded.role"
    return sql


def test_a_department_neither_sees_nor_rewrites_another_departments_claim(hall):
    b = hall.cases["handling_b"]
    claims_b = ClaimService(hall.store_as("dept_b"), SystemClock())
    assert claims_b.claim(hall.actor("dept_b"), b, "WS-B", action="feedback").granted
    name_a, name_d = hall.names["dept_a"], hall.names["dispatcher"]
    # Not seen by the other department; seen by the staff.
    assert run(hall, "dept_a", "SELECT count(*) FROM case_claims") == [(0,)]
    assert run(hall, "dispatcher", "SELECT holder FROM case_claims WHERE case_id = %s", (b,)) == \
        [(hall.names["dept_b"],)]
    # Rewriting the holder: invisible to the department, a live claim for the staff.
    assert run(hall, "dept_a", "UPDATE case_claims SET holder = %s WHERE case_id = %s", (name_a, b)) == 0
    assert run(hall, "dispatcher", "UPDATE case_claims SET holder = %s WHERE case_id = %s", (name_d, b)) == 0
    refused(hall, "dept_a", claim_sql(b, name_a, "department", upsert=True), match="row-level security")
    refused(hall, "dispatcher", claim_sql(b, name_d, "dispatcher", upsert=True), match="row-level security")
    for who in OPERATIONAL:
        refused(hall, who, "DELETE FROM case_claims", match="permission denied")
    refused(hall, "analyst", claim_sql(hall.cases["filed"], hall.names["analyst"], "analyst"),
            match="permission denied")
    assert su(hall, "SELECT holder FROM case_claims WHERE case_id = %s", (b,)) == [(hall.names["dept_b"],)]


def test_a_claim_is_taken_only_in_ones_own_name_role_and_for_a_while(hall):
    filed, name_d = hall.cases["filed"], hall.names["dispatcher"]
    refused(hall, "dispatcher", claim_sql(filed, hall.names["shift_leader"], "shift_leader"),
            match="row-level security")
    refused(hall, "dispatcher", claim_sql(filed, name_d, "shift_leader"), match="row-level security")
    refused(hall, "dispatcher", claim_sql(filed, name_d, "dispatcher", expires="timestamptz '2099-01-01'"),
            match="row-level security")
    refused(hall, "dept_a", claim_sql(filed, hall.names["dept_a"], "department"), match="row-level security")
    assert run(hall, "dispatcher", claim_sql(filed, name_d, "dispatcher")) == 1
    # Once taken, the holder may not hand it to someone else either.
    refused(hall, "dispatcher", "UPDATE case_claims SET holder = %s WHERE case_id = %s",
            (hall.names["shift_leader"], filed), match="row-level security")


def test_claims_through_the_service_as_logins(hall):
    a = hall.cases["handling_a"]
    me, other = hall.actor("dept_a"), hall.actor("dispatcher")
    mine = ClaimService(hall.store_as("dept_a"), SystemClock())
    theirs = ClaimService(hall.store_as("dispatcher"), SystemClock())
    assert mine.claim(me, a, "WS-A", action="feedback").granted
    assert mine.claim(me, a, "WS-A", action="feedback").granted  # renewed
    outcome = theirs.claim(other, a, "WS-D")
    assert not outcome.granted and outcome.claim.holder == me.username
    assert not theirs.release(other, a)
    assert mine.release(me, a)
    assert not mine.release(me, a)  # released once
    assert mine.holder(a) is None
    assert theirs.claim(other, a, "WS-D").granted  # a released claim is free
    assert mine.held_by_others(me, a).holder == other.username


# --- locks (Why 8) ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who", EVERYONE)
def test_no_login_can_lock_a_case_table_or_the_chain_head(hall, who):
    statements = [f"LOCK TABLE {t} IN {m} MODE" for t in CASE_TABLES for m in LOCK_MODES]
    statements += [f"SELECT chain_no FROM audit_head FOR {lock}" for lock in ("UPDATE", "NO KEY UPDATE", "SHARE",
                                                                                "KEY SHARE")]
    statements += ["UPDATE audit_head SET chain_no = chain_no", "UPDATE cases SET state = state",
                   "UPDATE cases SET department_id = department_id", "UPDATE case_claims SET case_id = case_id"]
    # the administrator included: it edits reference data column by column and deletes none
    statements += [f"LOCK TABLE {t} IN {m} MODE" for t in ("users", "departments", "categories",
                                                            "workflow_transitions", "time_limits", "calendar_days")
                   for m in ("SHARE", "EXCLUSIVE", "ACCESS EXCLUSIVE")]
    all_refused(hall, who, statements, "permission denied")


def test_the_administrator_edits_reference_data_but_deletes_and_locks_none(hall):
    assert run(hall, "admin", "UPDATE departments SET phone = '0571-1' WHERE code = 'JD001'") == 1
    refused(hall, "admin", "DELETE FROM calendar_days", match="permission denied")
    refused(hall, "admin", "DELETE FROM departments WHERE code = 'JD001'", match="permission denied")


def test_only_the_compare_and_set_update_is_left_on_cases(hall):
    for group in OPERATIONAL_GROUPS:
        assert su(hall, "SELECT has_table_privilege(%s, 'cases', 'UPDATE'), "
                        "has_column_privilege(%s, 'cases', 'version', 'UPDATE'), "
                        "has_any_column_privilege(%s, 'audit_head', 'UPDATE'), "
                        "has_table_privilege(%s, 'case_claims', 'DELETE'), "
                        "has_column_privilege(%s, 'case_claims', 'case_id', 'UPDATE')",
                  (group,) * 5) == [(False, True, False, False, False)]
    filed = hall.cases["filed"]
    assert run(hall, "dispatcher", "UPDATE cases SET version = version WHERE id = %s AND version = 1", (filed,)) == 1


def test_the_chain_lock_is_taken_through_the_owners_function(hall):
    head = su(hall, "SELECT chain_no, hash FROM audit_head")
    for who in OPERATIONAL:
        assert run(hall, who, "SELECT * FROM gridhall_lock_chain()") == head
    for who in ("analyst", "admin"):
        refused(hall, who, "SELECT * FROM gridhall_lock_chain()", match="permission denied")


def test_every_table_with_case_data_has_row_level_security(hall):
    tables = {r[0]: r[1] for r in su(hall, """
        SELECT c.relname, c.relrowsecurity FROM pg_class c
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
           AND (c.relname = 'cases' OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                                                 AND a.attname = 'case_id' AND NOT a.attisdropped))""")}
    assert {"cases", "case_events", "attachments", "case_claims"} <= set(tables)
    assert [t for t, secured in tables.items() if not secured] == []


def test_no_view_reads_past_row_level_security(hall):
    """A view runs as its owner unless security_invoker is set: it would show a department every case."""
    views = su(hall, """
        SELECT c.relname FROM pg_class c
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('v', 'm')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                      AND d.deptype = 'e')
           AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)""")
    assert views == []


# --- the migration itself ------------------------------------------------------------------------

def _at(store, revision: str) -> None:
    with store.engine.begin() as conn:
        if revision == "head":
            command.upgrade(alembic_config(conn), revision)
        else:
            command.downgrade(alembic_config(conn), revision)


def test_downgrade_restores_the_earlier_privileges_and_upgrade_brings_them_back(pg_url):
    opened = init_db(pg_url)
    try:
        def state():
            with opened.engine.connect() as conn:
                return conn.execute(text("""
                    SELECT has_function_privilege('public', 'gridhall_exempt()', 'EXECUTE'),
                           has_table_privilege('gridhall_dispatcher', 'cases', 'UPDATE'),
                           has_column_privilege('gridhall_dispatcher', 'audit_head', 'hash', 'UPDATE'),
                           has_table_privilege('gridhall_department', 'case_claims', 'DELETE'),
                           (SELECT relrowsecurity FROM pg_class WHERE oid = 'case_claims'::regclass),
                           (SELECT prosrc LIKE '%gridhall 0010 guard%' FROM pg_proc
                             WHERE oid = 'gridhall_case_events_chain()'::regprocedure),
                           to_regprocedure('gridhall_lock_chain()') IS NOT NULL,
                           (SELECT prosrc LIKE '%coalesce(%), true))%' FROM pg_proc
                             WHERE oid = 'gridhall_department_may_write(integer)'::regprocedure)""")).one()

        assert tuple(state()) == (False, False, False, False, True, True, True, False)
        _at(opened, "0009")
        assert tuple(state()) == (True, True, True, True, False, False, False, True)
        with opened.engine.connect() as conn:
            chain = conn.exec_driver_sql("SELECT prosrc FROM pg_proc WHERE proname = 'gridhall_case_events_chain'")
            assert "TG_TABLE_SCHEMA" not in chain.scalar_one()
        _at(opened, "head")
        assert tuple(state()) == (False, False, False, False, True, True, True, False)
        raw = opened.engine.raw_connection()
        try:
            assert sweep_problems(raw.cursor()) == []
        finally:
            raw.close()
    finally:
        opened.dispose()


def test_the_migration_is_a_no_op_on_spatialite(tmp_path):
    opened = init_db(tmp_path / "s.sqlite")
    try:
        _at(opened, "0009")
        _at(opened, "head")
        with opened.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == head_revision()
    finally:
        opened.dispose()
