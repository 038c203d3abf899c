"""Raw SQL as every role: an independent tester's matrix against a hall set up as docs/deploy.md says.

Every login of the hall (tests/store/hall.py: the six operational roles, a second department, the
analyst, the administrator) plus a wall login (``gridhall_wall``, made by the administrator) and an
Open311 intake login (``gridhall_open311``, made by the DBA) connects with psycopg2 and tries what
its role must not do. Each refusal is asserted with its SQLSTATE (42501 privilege, 23514 check,
23000 integrity, 22023 parameter, 55P03 lock) and, where the database words it, its message.
The holes these tests found are closed by migration 0026 (app/store/migrations/versions/0026_role_hardening.py).
"""

from __future__ import annotations

import secrets

import psycopg2
import pytest

from app.store import security
from app.store.commands import verify_audit
from app.store.open311 import create_intake_login
from tests.store.hall import DBA, EVERYONE, OPERATIONAL, backend, hall  # noqa: F401

pytestmark = pytest.mark.postgis

WALL, OPEN311 = "wall", "open311"
EVERY_LOGIN = [*EVERYONE, WALL, OPEN311]
GROUP_OF = {"acceptor": "acceptor", "shift_leader": "shift_leader", "dispatcher": "dispatcher",
            "supervisor": "supervisor", "dept_a": "department", "dept_b": "department", "leader": "leader",
            "analyst": "analyst", "admin": "admin", WALL: "wall", OPEN311: "open311"}
ALL_GROUPS = sorted({f"gridhall_{g}" for g in GROUP_OF.values()})
NOW = "(now() AT TIME ZONE 'Asia/Shanghai')::timestamp(0)"
PRIVILEGE, CHECK, INTEGRITY = "42501", "23514", "23000"


@pytest.fixture
def full_hall(hall):  # noqa: F811
    """The hall plus a wall login (by the administrator) and an Open311 login (by the superuser/DBA)."""
    wall = f"wall{secrets.token_hex(3)}"
    security.create_login(hall.store_as("admin"), wall, "wall", hall.password)
    hall.names[WALL] = wall  # the hall drops the logins it names afterwards
    intake = f"o311{secrets.token_hex(3)}"
    create_intake_login(hall.store.url.render_as_string(hide_password=False), intake, hall.password)
    hall.names[OPEN311] = intake
    return hall


def outcome(h, who: str, sql: str, args=(), *, commit: bool = True):
    """("OK", rows or rowcount) or (SQLSTATE, primary message) of ``sql`` run as ``who``."""
    conn = h.connect(who)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args or None)
            result = cur.fetchall() if cur.description else cur.rowcount
        conn.commit() if commit else conn.rollback()
        return "OK", result
    except psycopg2.Error as exc:
        return exc.pgcode, (exc.diag.message_primary or str(exc)).strip()
    finally:
        conn.close()


def refused(h, who: str, sql: str, args=(), *, code: str = PRIVILEGE, match: str | None = None) -> str:
    got, message = outcome(h, who, sql, args)
    assert got == code, (who, sql, got, message)
    if match is not None:
        assert match in message, (who, sql, message)
    return message


def su(h, sql: str, args=()):
    with h.cluster.admin(h.db) as conn, conn.cursor() as cur:
        cur.execute(sql, args or None)
        return cur.fetchall() if cur.description else cur.rowcount


def username(h, who: str) -> str:
    return h.names[who]


def event(h, who: str, case: int, action: str, from_state: str | None, to_state: str, **extra):
    """INSERT of a case event by ``who`` at the database's time (chain fields left to the database)."""
    role = "acceptor" if who == OPEN311 else GROUP_OF[who]
    department = h.actor(who).department_id if who in ("dept_a", "dept_b") else None
    columns = {"case_id": case, "action": action, "from_state": from_state, "to_state": to_state,
               "actor": username(h, who), "role": role, "department_id": department, **extra}
    at = columns.pop("at", None)
    names = ", ".join([*columns, "at"])
    marks = ", ".join(["%s"] * len(columns) + ["%s" if at is not None else NOW])
    return f"INSERT INTO case_events ({names}) VALUES ({marks})", (*columns.values(), *([at] if at else []))


# --- 1. SET ROLE: no login borrows another group's privileges ---------------------------------------

@pytest.mark.parametrize("who", EVERY_LOGIN)
def test_no_login_can_set_role_to_any_group_but_its_own(full_hall, who):
    own = f"gridhall_{GROUP_OF[who]}"
    targets = [*ALL_GROUPS, security.OWNER_ROLE, security.ACCOUNTS_ROLE, "pg_read_server_files",
               "pg_write_server_files", "pg_execute_server_program", "pg_signal_backend", "pg_read_all_data",
               "pg_database_owner"]
    for target in targets:
        got, message = outcome(full_hall, who, f"SET ROLE {target}", commit=False)
        if target == own:
            assert got == "OK", (who, target, message)
        else:
            assert got == PRIVILEGE and "permission denied to set role" in message, (who, target, got, message)
    refused(full_hall, who, "SET SESSION AUTHORIZATION DEFAULT; SET SESSION AUTHORIZATION gridhall",
            match="permission denied to set session authorization")


def test_the_open311_login_cannot_become_an_acceptor_to_read_what_it_may_not(full_hall):
    """Hole 1 (0022): NOINHERIT membership in gridhall_acceptor still let the intake SET ROLE to it."""
    refused(full_hall, OPEN311, "SET ROLE gridhall_acceptor; SELECT reporter_phone, reporter_name FROM cases",
            match="permission denied to set role")
    refused(full_hall, OPEN311, "SELECT reporter_phone FROM cases", match="permission denied for table cases")
    refused(full_hall, OPEN311, "SELECT phone FROM users", match="permission denied")
    refused(full_hall, OPEN311, "SELECT reason FROM case_events", match="permission denied")
    refused(full_hall, OPEN311, "SELECT * FROM public_replies", match="permission denied")
    refused(full_hall, OPEN311, "INSERT INTO exchange_cursors (endpoint, direction, mark, updated_at) "
                                "VALUES ('x', 'pull', '0', now())", match="permission denied")
    assert su(full_hall, "SELECT pg_has_role('gridhall_open311', 'gridhall_acceptor', 'MEMBER')") == [(False,)]
    # … while the workflow still takes its report events as 受理员 events, and nothing more
    assert outcome(full_hall, OPEN311, "SELECT gridhall_has_role('acceptor'), gridhall_has_role('dispatcher')",
                   commit=False) == ("OK", [(True, False)])
    assert outcome(full_hall, "dispatcher", "SELECT gridhall_has_role('acceptor')", commit=False) == ("OK", [(False,)])
    # its sessions count as application sessions for the lock release and the session limits
    assert su(full_hall, "SELECT prosrc LIKE '%''gridhall_open311''%' FROM pg_proc "
                         "WHERE oid = 'gridhall_release_blockers()'::regprocedure") == [(True,)]
    intake = full_hall.store_as(OPEN311)  # the application's connection of the intake (the Open311 server's)
    with intake.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "5s"


# --- 2. history: no UPDATE, DELETE or TRUNCATE for anyone -------------------------------------------

HISTORY = ("case_events", "cases", "audit_head", "config_changes", "base_changes", "bulletins", "public_replies",
           "exchange_log", "open311_tokens", "attachments", "users", "lock_releases")
#: (table, a column no login may update) of the history tables.
HISTORY_COLUMN = {"case_events": "reason", "cases": "state", "audit_head": "chain_no", "config_changes": "after",
                  "base_changes": "after", "bulletins": "sha256", "public_replies": "done_at",
                  "exchange_log": "outcome", "open311_tokens": "media_url", "attachments": "sha256",
                  "users": "password_hash", "lock_releases": "login"}


@pytest.mark.parametrize("who", EVERY_LOGIN)
def test_no_login_updates_deletes_or_truncates_history(full_hall, who):
    for table in HISTORY:
        column = HISTORY_COLUMN[table]
        for sql in (f'UPDATE "{table}" SET "{column}" = "{column}"', f'DELETE FROM "{table}"',
                    f'TRUNCATE "{table}" CASCADE', f'LOCK TABLE "{table}" IN SHARE MODE',
                    f'ALTER TABLE "{table}" DISABLE TRIGGER ALL', f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
                    f'DROP TABLE "{table}" CASCADE'):
            message = refused(full_hall, who, sql)
            assert "permission denied" in message or "must be owner" in message, (who, sql, message)


def test_even_the_owner_cannot_rewrite_bulletins_or_reply_deliveries(full_hall):
    """Hole 4/5 for the DBA: bulletins and public_replies were plain tables of the owner."""
    h = full_hall
    su(h, "INSERT INTO bulletins (kind, month, built_at, built_by, file_name, sha256, pages, lang) "
          "VALUES ('monthly', '2026-03', now(), 'tester', 'b.pdf', repeat('a', 64), 3, 'zh')")
    event_id = su(h, "SELECT id FROM case_events WHERE case_id = %s ORDER BY seq LIMIT 1", (h.cases["filed"],))[0][0]
    su(h, "INSERT INTO public_replies (case_id, event_id, after, channel, text, due_at, done_at, done_by) "
          "SELECT case_id, id, action, 'hotline', '您好', at + interval '24 hours', now(), 'tester' "
          "FROM case_events WHERE id = %s", (event_id,))
    for table, column in (("bulletins", "sha256"), ("public_replies", "done_at")):
        refused(h, DBA, f"UPDATE {table} SET {column} = {column}", match=f"{table} is append-only: UPDATE")
        refused(h, DBA, f"DELETE FROM {table}", match=f"{table} is append-only: DELETE")
        refused(h, DBA, f"TRUNCATE {table}", match=f"{table} is append-only: TRUNCATE")
    refused(h, DBA, "DELETE FROM case_events", code="P0001", match="case_events is append-only: DELETE")
    refused(h, DBA, "TRUNCATE cases CASCADE", code="P0001", match="append-only: TRUNCATE")
    refused(h, DBA, "DELETE FROM cases WHERE id = %s", (h.cases["filed"],), code="23503")
    refused(h, DBA, "DELETE FROM config_changes", match="config_changes is append-only: DELETE")
    assert verify_audit(h.store) is None


# --- 3. forged events and derived columns ------------------------------------------------------------

#: A step each login may really take on a case of the hall (so only the forged field is wrong).
VALID_STEP = {
    "acceptor": ("filed", "request_void", "filed", "void_requested", "重复"),
    "shift_leader": ("filed", "void", "filed", "voided", "重复"),
    "dispatcher": ("filed", "request_void", "filed", "void_requested", "重复"),
    "dept_a": ("handling_a", "request_extension", "handling", "extension_requested", "材料未到"),
    "leader": ("filed", "urge", "filed", "filed", None),
}


@pytest.mark.parametrize("who", [*OPERATIONAL, OPEN311])
def test_forged_events_are_refused(full_hall, who):
    h = full_hall
    other = h.cases["handling_b"]
    # a case the login sees, in its state (a department sees only its own)
    case, state = (h.cases["handling_a"], "handling") if who == "dept_a" else (h.cases["filed"], "filed")
    someone_else = username(h, "leader" if who != "leader" else "acceptor")
    other_role = "leader" if who != "leader" else "dispatcher"
    refused(h, who, *event(h, who, case, "urge", state, state, actor=someone_else),
            match="must record its events as actor")
    refused(h, who, *event(h, who, case, "urge", state, state, role=other_role), match="is not a member of")
    refused(h, who, *event(h, who, case, "reply", state, state, role="system", actor="system"),
            match="may not record a system event")
    refused(h, who, *event(h, who, case, "close", state, "closed"), code=CHECK)  # a state jump
    refused(h, who, *event(h, who, case, "urge", "dispatched", "dispatched"), code=CHECK)  # not its last state
    refused(h, who, *event(h, who, case, "urge", state, state, chain_no=1), code=INTEGRITY, match="chain_no")
    refused(h, who, *event(h, who, case, "urge", state, state, prev_hash="f" * 64), code=INTEGRITY,
            match="prev_hash")
    refused(h, who, *event(h, who, case, "urge", state, state, seq=1), code=INTEGRITY, match="seq")
    if who in VALID_STEP:
        case, action, src, dst, reason = VALID_STEP[who]
        sql, args = event(h, who, h.cases[case], action, src, dst, reason=reason, hash="0" * 64)
        refused(h, who, sql, args, code=INTEGRITY, match="does not match the event's content")
        # backdated, even with the owner's import switch set: the switch is honoured for the owner only
        sql, args = event(h, who, h.cases[case], action, src, dst, reason=reason, at="2026-03-02 10:00:00")
        refused(h, who, "SET gridhall.import = 'on'; " + sql, args, code=CHECK, match="more than 5 minutes")
    if who == "dept_a":  # another department's case, or its own case named for another department
        refused(h, who, *event(h, who, other, "feedback", "handling", "fed_back"),
                match="row-level security")
        refused(h, who, *event(h, who, h.cases["handling_a"], "request_extension", "handling", "extension_requested",
                               reason="x", department_id=h.actor("dept_b").department_id),
                match="records events for its own department")
    if who == OPEN311:  # anything but a new public report
        refused(h, who, *event(h, who, case, "request_void", "filed", "void_requested", reason="x"),
                match="records only new public reports")
    assert verify_audit(h.store) is None


@pytest.mark.parametrize("who", [*OPERATIONAL, OPEN311, "analyst", "admin", WALL])
def test_no_login_writes_a_derived_column_of_a_case(full_hall, who):
    case = full_hall.cases["handling_a"]
    for column, value in (("state", "'closed'"), ("deadline_at", "'2099-01-01'"), ("department_id", "NULL"),
                          ("urge_count", "0"), ("closed_at", "now()"), ("limit_minutes", "999999"),
                          ("description", "'x'")):
        refused(full_hall, who, f"UPDATE cases SET {column} = {value} WHERE id = %s", (case,),
                match="permission denied for table cases")
    if who not in ("analyst", "admin", WALL, OPEN311):  # the compare-and-set column: only a no-op passes
        refused(full_hall, who, "UPDATE cases SET version = version + 1 WHERE id = %s", (case,))


# --- 4. a department sees its own cases only -----------------------------------------------------------

def test_a_department_login_sees_only_its_departments_cases(full_hall):
    h = full_hall
    mine = {r[0] for r in su(h, "SELECT c.id FROM cases c JOIN departments d ON d.id = c.department_id "
                                "WHERE d.code = 'JD001'")}
    assert {h.cases["handling_a"], h.cases["extension"]} <= mine and h.cases["handling_b"] not in mine
    assert {r[0] for r in outcome(h, "dept_a", "SELECT id FROM cases", commit=False)[1]} == mine
    for table in ("case_events", "attachments", "case_search", "case_claims", "open311_tokens"):
        rows = outcome(h, "dept_a", f"SELECT DISTINCT case_id FROM {table}", commit=False)
        assert rows[0] == "OK" and {r[0] for r in rows[1]} <= mine, (table, rows)
    for table in ("public_replies", "exchange_links", "exchange_log"):
        refused(h, "dept_a", f"SELECT * FROM {table}", match="permission denied")
    refused(h, "dept_a", "SET row_security = off; SELECT id FROM cases", match="row-level security")
    refused(h, "dept_a", "SELECT gridhall_open311_reason(%s)", (h.cases["handling_b"],), match="permission denied")
    assert outcome(h, "dept_a", "SELECT gridhall_department_may_write(%s), gridhall_reported_by_me(%s)",
                   (h.cases["handling_b"],) * 2, commit=False) == ("OK", [(False, False)])


# --- 5. secrets, files, objects --------------------------------------------------------------------------

@pytest.mark.parametrize("who", EVERY_LOGIN)
def test_no_login_reads_secrets_or_files_or_makes_objects(full_hall, who):
    h = full_hall
    for sql in ("SELECT password_hash FROM users", "SELECT rolpassword FROM pg_authid", "SELECT passwd FROM pg_shadow",
                "SELECT pg_read_file('/etc/passwd')", "SELECT lo_import('/etc/passwd')",
                "COPY cases TO '/tmp/gridhall-leak'", "COPY categories FROM '/etc/hostname'",
                "COPY (SELECT 1) TO PROGRAM 'id'", "CREATE TABLE public.bait (a int)", "CREATE SCHEMA bait",
                "CREATE FUNCTION public.bait() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                "CREATE EXTENSION IF NOT EXISTS dblink", "SET session_replication_role = replica",
                "ALTER ROLE CURRENT_USER BYPASSRLS", "ALTER ROLE CURRENT_USER CREATEROLE",
                "GRANT gridhall_admin TO CURRENT_USER", "DROP TRIGGER case_events_chain ON case_events"):
        refused(h, who, sql)
    if who != "admin":  # the account functions: the administrator's alone
        refused(h, who, "SELECT gridhall_accounts.set_password('gh_x', 'SCRAM-SHA-256$4096:a$b:c')",
                match="permission denied for schema gridhall_accounts")
    if who not in ("admin", OPEN311):  # the keys' hashes: the administrator manages them, the intake checks one
        refused(h, who, "SELECT key_hash FROM open311_keys", match="permission denied")
    if who in (WALL, OPEN311):  # programs read no account at all
        refused(h, who, "SELECT username FROM users", match="permission denied")


def test_the_account_functions_refuse_hostile_arguments(full_hall):
    h = full_hall
    verifier = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"
    for login, group in (("gh_evil", security.OWNER_ROLE), ("gh_evil", "pg_execute_server_program"),
                         ("gh_evil", "gridhall_open311"), ("postgres", "gridhall_admin"), ("gh_Evil;drop", "gridhall_admin")):
        refused(h, "admin", "SELECT gridhall_accounts.create_login(%s, %s, %s)", (login, group, verifier),
                match="gridhall_accounts:")
    refused(h, "admin", "SELECT gridhall_accounts.create_login('gh_evil', 'gridhall_admin', 'secret')", code="22023")
    refused(h, "admin", "SELECT gridhall_accounts.set_password(%s, %s)", (h.login(DBA), verifier),
            match="is not a GridHall login")
    refused(h, "admin", "SELECT gridhall_accounts.set_enabled(%s, false)", (h.login(OPEN311),),
            match="holds powers beyond the GridHall groups")
    for who in ("analyst", WALL, OPEN311, "dept_a"):
        refused(h, who, "SELECT gridhall_accounts.set_enabled(%s, false)", (h.login("admin"),),
                match="permission denied for schema gridhall_accounts")
    for who in ("analyst", WALL):
        refused(h, who, "SELECT gridhall_release_blockers()", match="permission denied for function")
        refused(h, who, "SELECT gridhall_lock_chain()", match="permission denied for function")
    refused(h, "dispatcher", "SELECT gridhall_case_events_chain()", match="permission denied for function")
    refused(h, "dispatcher", "SELECT * FROM gridhall_open311_replies(ARRAY[1])", match="permission denied for function")
    # the intake's own functions: a NULL, a huge list, a case that is not ended give nothing away
    assert outcome(h, OPEN311, "SELECT count(*) FROM gridhall_open311_replies(NULL)", commit=False) == ("OK", [(0,)])
    assert outcome(h, OPEN311, "SELECT count(*) FROM gridhall_open311_replies(array(SELECT generate_series(1, 100000)))",
                   commit=False) == ("OK", [(0,)])
    assert outcome(h, OPEN311, "SELECT gridhall_open311_reason(%s)", (h.cases["handling_a"],),
                   commit=False) == ("OK", [(None,)])


def test_an_administrator_cannot_turn_a_program_login_into_a_person(full_hall):
    """Hole 2 (0025): a users row under the wall login's name and a role change gave it a second group."""
    h = full_hall
    wall = username(h, WALL)
    refused(h, "admin", "INSERT INTO users (username, display_name, role, active, failed_attempts, locked, created_at) "
                        "VALUES (%s, 'w', 'analyst', true, 0, false, now()); "
                        "UPDATE users SET role = 'dispatcher' WHERE username = %s", (wall, wall),
            match="belongs to a program's group")
    assert su(h, "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                 "WHERE m.member = %s::regrole", (h.login(WALL),)) == [("gridhall_wall",)]
    intake = username(h, OPEN311)  # the intake's users row exists: its role is not the administrator's to change
    refused(h, "admin", "UPDATE users SET role = 'dispatcher' WHERE username = %s", (intake,))


# --- 6. session settings the triggers read -------------------------------------------------------------

def test_a_forged_chain_lock_setting_forks_nothing(full_hall):
    """``gridhall.chain_locked`` tells the chain trigger the chain lock is already held: a login may set it,
    but two appends that skip the lock still cannot both become the next link."""
    h = full_hall
    first, second = h.connect("leader"), h.connect("leader")
    try:
        for conn in (first, second):
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('gridhall.chain_locked', txid_current()::text, true)")
        with first.cursor() as cur:
            cur.execute(*event(h, "leader", h.cases["filed"], "urge", "filed", "filed"))
        with second.cursor() as cur, pytest.raises(psycopg2.Error) as info:
            cur.execute("SET LOCAL lock_timeout = '1s'")
            cur.execute(*event(h, "leader", h.cases["checked"], "urge", "checked", "checked"))
        assert info.value.pgcode == "55P03"  # waits for the first's link instead of forking the chain
        second.rollback()
        first.commit()
    finally:
        first.close()
        second.close()
    assert verify_audit(h.store) is None


# --- 7. no whole-table locks through table-level UPDATE ---------------------------------------------------

def test_no_application_group_holds_a_table_level_update(full_hall):
    """Hole 3: table-level UPDATE (0016–0025) is what LOCK TABLE … SHARE/EXCLUSIVE asks for."""
    rows = su(full_hall, """
        SELECT r.rolname, c.relname, a.privilege_type
          FROM pg_class c, LATERAL aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
           AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND r.rolname = ANY(%s)
         ORDER BY 1, 2""", (ALL_GROUPS,))
    assert rows == [("gridhall_acceptor", "exchange_links", "DELETE"),  # stale claims of the exchange
                    *((("gridhall_admin", t, "DELETE")) for t in ("house_numbers", "landmark_aliases", "landmarks",
                                                                   "road_segments"))]  # a gazetteer re-import
    for who, table in (("admin", "statutory_days"), ("admin", "calendar_years"), ("admin", "open311_keys"),
                       ("admin", "department_areas"), ("admin", "routing_areas"), ("acceptor", "exchange_cursors")):
        refused(full_hall, who, f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", match="permission denied")
    # the column grants still let them do their work
    assert outcome(full_hall, "admin", "UPDATE calendar_years SET status = status")[0] == "OK"
    assert outcome(full_hall, "acceptor", "UPDATE exchange_cursors SET mark = mark")[0] == "OK"


# --- 8. bulletin builds and reply deliveries ---------------------------------------------------------------

BULLETIN = ("INSERT INTO bulletins (kind, month, built_at, built_by, file_name, sha256, chain_no, head_hash, pages, "
            "lang) VALUES ('monthly', '2026-03', now(), %s, 'b.pdf', repeat('a', 64), %s, %s, 4, 'zh') RETURNING built_by")


def test_a_bulletin_build_is_recorded_under_the_login_and_names_a_real_link(full_hall):
    """Hole 4: any builder's name, any chain head."""
    h = full_hall
    link, link_hash = su(h, "SELECT chain_no, hash FROM case_events ORDER BY chain_no DESC LIMIT 1")[0]
    refused(h, "analyst", BULLETIN, (username(h, "leader"), link, link_hash), match="under its own name")
    refused(h, "analyst", BULLETIN, (username(h, "analyst"), link, "0" * 64), code=INTEGRITY,
            match="is not the hash of link")
    refused(h, "analyst", BULLETIN, (username(h, "analyst"), link + 99, link_hash), code=INTEGRITY)
    refused(h, "leader", BULLETIN, (username(h, "leader"), None, link_hash), code=CHECK, match="names its link")
    assert outcome(h, "analyst", BULLETIN, (username(h, "analyst"), link, link_hash)) == (
        "OK", [(username(h, "analyst"),)])
    # a script's placeholder is no account: the database writes the login's own name
    assert outcome(h, "admin", BULLETIN, ("gridhall", None, None)) == ("OK", [(username(h, "admin"),)])
    for who in ("acceptor", "dept_a", WALL, OPEN311):
        refused(h, who, BULLETIN, (username(h, who), None, None), match="permission denied")


REPLY = ("INSERT INTO public_replies (case_id, event_id, after, channel, text, due_at, done_at, done_by) "
         "VALUES (%s, %s, %s, 'hotline', '您好', %s, " + NOW + " + %s::interval, %s)")


def test_a_reply_delivery_is_the_events_own_and_recorded_now(full_hall):
    """Hole 5: a late reply recorded as on time, or against another case's event."""
    h = full_hall
    case = h.cases["filed"]
    event_id, action, at = su(h, "SELECT id, action, at FROM case_events WHERE case_id = %s ORDER BY seq DESC LIMIT 1",
                              (case,))[0]
    from datetime import timedelta

    due = at + timedelta(hours=24)
    me = username(h, "acceptor")
    refused(h, "acceptor", REPLY, (h.cases["checked"], event_id, action, due, "0", me), code=CHECK,
            match="is not an event of case")
    refused(h, "acceptor", REPLY, (case, event_id, "close", due, "0", me), code=CHECK, match="answers the event's")
    refused(h, "acceptor", REPLY, (case, event_id, action, due + timedelta(days=30), "0", me), code=CHECK,
            match="due 24 hours after its event")
    refused(h, "acceptor", REPLY, (case, event_id, action, due, "-3 days", me), code=CHECK, match="more than 5 minutes")
    refused(h, "acceptor", REPLY, (case, event_id, action, due, "0", username(h, "shift_leader")),
            match="row-level security")
    for who in ("dispatcher", "dept_a", "analyst", "admin", WALL, OPEN311):
        refused(h, who, REPLY, (case, event_id, action, due, "0", username(h, who)), match="permission denied")
    assert outcome(h, "acceptor", REPLY, (case, event_id, action, due, "0", me)) == ("OK", 1)
    refused(h, "shift_leader", REPLY, (case, event_id, action, due, "0", username(h, "shift_leader")),
            code="23505")  # one delivery per event


# --- 9. the wall writes nothing and reads no secret ----------------------------------------------------------

def test_the_wall_login_writes_nothing_and_reads_no_secret(full_hall):
    h = full_hall
    refused(h, WALL, *event(h, "leader", h.cases["filed"], "urge", "filed", "filed"), match="permission denied")
    for sql in ("INSERT INTO bulletins (kind, month, built_at, built_by, file_name, sha256, pages, lang) "
                "VALUES ('monthly', '2026-03', now(), 'w', 'b', 'x', 1, 'zh')",
                "INSERT INTO config_changes (seq, entity, key, actor, at, prev_hash, hash) VALUES (999, 'x', 'x', 'x', now(), 'x', 'y')",
                "SELECT nextval('cases_id_seq')", "SELECT * FROM open311_tokens", "SELECT * FROM public_replies",
                "SELECT * FROM attachments", "SELECT * FROM case_claims", "SELECT * FROM exchange_links",
                "SELECT * FROM supervisor_positions", "SELECT gridhall_current_department()",
                "SELECT 1 FROM cases FOR SHARE", "NOTIFY gridhall_cases; SELECT nextval('case_events_id_seq')"):
        refused(h, WALL, sql, match="permission denied")
    got, rows = outcome(h, WALL, "SELECT count(*) FROM cases", commit=False)
    assert got == "OK" and rows[0][0] == su(h, "SELECT count(*) FROM cases")[0][0]  # every case, read-only


def test_the_programs_read_no_reporter_reason_payload_or_account_change(full_hall):
    """Hole 6: the wall read reporters' phones and every event's text; wall and intake the account changes."""
    h = full_hall
    for sql in ("SELECT reporter_phone FROM cases", "SELECT reporter_name FROM cases", "SELECT * FROM cases",
                "SELECT reason FROM case_events", "SELECT payload FROM case_events"):
        refused(h, WALL, sql, match="permission denied")
    got, rows = outcome(h, WALL, "SELECT number, state, address, description FROM cases", commit=False)
    assert got == "OK" and len(rows) == su(h, "SELECT count(*) FROM cases")[0][0]
    from datetime import datetime

    from app.store.calendar_years import append_change

    with h.store.engine.begin() as conn:  # an account change (app.services.users records each one)
        append_change(conn, entity="user", key=username(h, "dept_a"), before={"role": "department", "active": True},
                      after={"role": "department", "active": False}, actor="tester", at=datetime(2026, 3, 2, 10),
                      reason="调离岗位")
    accounts = su(h, "SELECT count(*) FROM config_changes WHERE entity = 'user'")[0][0]
    everything = su(h, "SELECT count(*) FROM config_changes")[0][0]
    assert accounts > 0 and everything > accounts
    for who in (WALL, OPEN311):
        assert outcome(h, who, "SELECT count(*) FROM config_changes WHERE entity = 'user'", commit=False) == (
            "OK", [(0,)])
        assert outcome(h, who, "SELECT count(*) FROM config_changes", commit=False) == (
            "OK", [(everything - accounts,)])
    for who in ("analyst", "admin", "dept_a", "acceptor"):  # the people's groups read the whole history
        assert outcome(h, who, "SELECT count(*) FROM config_changes", commit=False) == ("OK", [(everything,)])
