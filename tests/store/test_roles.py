"""Roles without borrowed power (migration 0007), attacked with raw SQL on a hall set up as docs/deploy.md says.

No login holds CREATEROLE; the schema belongs to the NOLOGIN ``gridhall_owner``; logins are
managed only through the guarded functions of ``gridhall_accounts`` (owned by the memberless
``gridhall_usermgr``, EXECUTE for ``gridhall_admin``); the login's SCRAM verifier is the only
password; disabled and locked users are refused by the database and their sessions ended;
``gridhall case --as X`` on PostGIS acts as X's own login.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import psycopg2
import pytest
from sqlalchemy import select

from app.cli import build_parser
from app.cli.case import run_case
from app.domain.clock import FixedClock
from app.domain.definitions import Role
from app.services.auth import LOCK_AFTER, AuthError, login
from app.services.users import disable_user, enable_user, list_users, set_password, unlock_user
from app.store import locks, security
from app.store.models import Case
from tests.store import hall as _hall
from tests.store.hall import DBA, EVERYONE, refused, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

CLOCK = FixedClock(datetime(2026, 12, 7, 9, 0))
GROUPS = [security.group_role(r) for r in security.GROUP_ROLES]


def _admin(hall, sql: str, args=()):
    with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else cur.rowcount


def _verifier(hall, login: str, password: str) -> str:
    conn = hall.connect("admin")
    try:
        return psycopg2.extensions.encrypt_password(password, login, conn, "scram-sha-256")
    finally:
        conn.close()


def _can_log_in(hall, who: str) -> bool:
    return _admin(hall, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (hall.login(who),))[0][0]


# --- who owns what -------------------------------------------------------------------------------

def test_no_login_holds_createrole_and_the_owner_cannot_log_in(hall):
    assert _admin(hall, "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolcreaterole AND NOT rolsuper") == []
    owner, usermgr = (_admin(hall, "SELECT rolcanlogin, rolcreaterole, rolcreatedb, rolsuper FROM pg_roles "
                                   "WHERE rolname = %s", (name,))[0]
                      for name in (security.OWNER_ROLE, security.ACCOUNTS_ROLE))
    assert owner == (False, False, False, False)
    assert usermgr == (False, True, False, False)
    # nobody can become the account manager: it has no member at all
    assert _admin(hall, "SELECT count(*) FROM pg_auth_members WHERE roleid = %s::regrole",
                  (security.ACCOUNTS_ROLE,))[0][0] == 0
    # the DBA's login is a member of the owner, nothing more
    assert _admin(hall, "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                        "WHERE m.member = %s::regrole", (hall.login(DBA),)) == [(security.OWNER_ROLE,)]


def test_the_schema_objects_are_owned_by_the_nologin_owner(hall):
    not_extension = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')")
    relations = _admin(hall, "SELECT c.relname, c.relowner::regrole::text FROM pg_class c "
                             "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','v','m','S','p') "
                             "AND " + not_extension.format(oid="c.oid"))
    functions = _admin(hall, "SELECT p.proname, p.proowner::regrole::text FROM pg_proc p "
                             "WHERE p.pronamespace = 'public'::regnamespace AND " + not_extension.format(oid="p.oid"))
    assert {"cases", "case_events", "users", "audit_head", "alembic_version"} <= {n for n, _ in relations}
    assert "gridhall_case_events_chain" in {n for n, _ in functions}
    assert {owner for _, owner in relations + functions} == {security.OWNER_ROLE}
    accounts = _admin(hall, "SELECT p.proname, p.proowner::regrole::text, p.proacl::text, p.proconfig::text, "
                            "p.prosecdef FROM pg_proc p WHERE p.pronamespace = %s::regnamespace",
                      (security.ACCOUNTS_SCHEMA,))
    assert {n for n, *_ in accounts} == {"create_login", "set_password", "set_enabled", "check_login",
                                         "end_sessions", "users_login_state", "users_login_group"}
    for name, owner, acl, config, definer in accounts:
        assert owner == security.ACCOUNTS_ROLE
        assert not re.search(r"[{,]=X/", acl or ""), f"{name}: PUBLIC may execute it"  # "=X/…": PUBLIC's
        assert config == "{\"search_path=pg_catalog, pg_temp\"}", name
        granted = {g for g in GROUPS if re.search(rf"[{{,]{g}=X/", acl or "")}
        triggers = ("users_login_state", "users_login_group")  # fire without EXECUTE: granted to nobody
        assert granted == ({"gridhall_admin"} if definer and name not in triggers else set()), name


# --- user management through the functions -------------------------------------------------------

def test_the_admin_login_manages_users_through_the_functions(hall):
    # the hall fixture made every login with the administrator's own login (docs/deploy.md)
    members = dict(_admin(hall, "SELECT u.rolname, g.rolname FROM pg_auth_members m "
                                "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
                                "WHERE u.rolname = ANY(%s)", ([hall.login(w) for w in EVERYONE],)))
    assert members == {hall.login(w): security.group_role(_hall.ROLE_OF[w]) for w in EVERYONE}
    admin = hall.store_as("admin")
    name = hall.names["analyst"]
    set_password(admin, name, "Another#pass-7")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        hall.connect("analyst")
    disable_user(admin, name)
    assert not _can_log_in(hall, "analyst")
    enable_user(admin, name)
    assert _can_log_in(hall, "analyst")
    # a login made through the function has the application logins' limits as its defaults
    settings = _admin(hall, "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                            "WHERE s.setrole = %s::regrole AND d.datname = current_database()",
                      (hall.login("analyst"),))
    assert settings and {f"{k}={v}" for k, v in locks.TIMEOUTS} <= set(settings[0][0])
    infos = {i.username: i for i in list_users(admin)}  # no password_hash read: the admin may not
    assert infos[name].has_password and infos[name].status == "正常"
    # a clerk's login may not call them at all
    refused(hall, "dispatcher", "SELECT gridhall_accounts.set_enabled(%s, false)", (hall.login("analyst"),),
            match="permission denied")


@pytest.mark.parametrize("grant", ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files",
                                   "gridhall_owner", "gridhall_usermgr", "pg_signal_backend"])
def test_an_admin_cannot_grant_itself_anything(hall, grant):
    me = hall.login("admin")
    refused(hall, "admin", f"GRANT {grant} TO {me}")
    refused(hall, "admin", f"SET ROLE {grant}")
    # nor through the functions: only gh_ logins, only GridHall's groups
    verifier = _verifier(hall, "gh_evil", "Evil#pass-123")
    refused(hall, "admin", "SELECT gridhall_accounts.create_login('gh_evil', %s, %s)", (grant, verifier),
            match="is not a GridHall group")
    assert not _admin(hall, "SELECT pg_has_role(%s, %s, 'MEMBER')", (me, grant))[0][0]
    assert not _admin(hall, "SELECT count(*) FROM pg_roles WHERE rolname = 'gh_evil'")[0][0]


def test_an_admin_cannot_touch_roles_outside_the_hall(hall):
    me = hall.login("admin")
    for attribute in ("SUPERUSER", "CREATEROLE", "CREATEDB", "BYPASSRLS", "REPLICATION"):
        refused(hall, "admin", f"ALTER ROLE {me} {attribute}")
    refused(hall, "admin", "CREATE ROLE gh_raw LOGIN", match="permission denied")
    verifier = _verifier(hall, "gridhall", "Taken#over-123")
    for target in ("gridhall", hall.login(DBA), "gridhall_owner", "gridhall_admin", "postgres"):
        refused(hall, "admin", "SELECT gridhall_accounts.set_password(%s, %s)", (target, verifier),
                match="is not a GridHall login")
        refused(hall, "admin", "SELECT gridhall_accounts.set_enabled(%s, false)", (target,),
                match="is not a GridHall login")
    # a gh_ login a superuser gave more power is the superuser's business
    _admin(hall, "CREATE ROLE gh_special LOGIN IN ROLE gridhall_analyst, pg_read_all_data")
    try:
        refused(hall, "admin", "SELECT gridhall_accounts.set_password('gh_special', %s)",
                (_verifier(hall, "gh_special", "Special#pass-1"),), match="beyond the GridHall groups")
    finally:
        _admin(hall, "DROP ROLE gh_special")
    # a password in clear, or SQL, is not a verifier
    for bad in ("Plain#password-1", "x' SUPERUSER --", "SCRAM-SHA-256$4096:x"):
        refused(hall, "admin", "SELECT gridhall_accounts.set_password(%s, %s)", (hall.login("analyst"), bad),
                match="SCRAM-SHA-256 verifier")
    for bad in ("gh_x; DROP TABLE users", "gh_X", "gh_", "evil"):
        refused(hall, "admin", "SELECT gridhall_accounts.create_login(%s, 'gridhall_admin', %s)",
                (bad, verifier), match="is not a GridHall login")


def test_the_dba_owns_the_schema_but_cannot_make_roles(hall):
    assert run(hall, DBA, "SELECT gridhall_exempt()")[0][0]  # the owner's member: exempt
    refused(hall, DBA, "CREATE ROLE gh_dba_made LOGIN", match="permission denied")
    refused(hall, DBA, f"GRANT pg_execute_server_program TO {hall.login(DBA)}")
    refused(hall, DBA, "SET ROLE gridhall_usermgr")
    refused(hall, DBA, "SELECT gridhall_accounts.set_enabled(%s, false)", (hall.login("analyst"),),
            match="permission denied")
    # nor can it borrow the account functions through a trigger of its own
    refused(hall, DBA, "CREATE TABLE public.users_copy (username text, active boolean, locked boolean); "
                       "CREATE TRIGGER t AFTER UPDATE ON public.users_copy FOR EACH ROW "
                       "EXECUTE FUNCTION gridhall_accounts.users_login_state()", match="permission denied")


def test_the_account_trigger_refuses_to_run_for_another_table(hall):
    # even attached by a superuser to some other users table, the trigger function refuses
    _admin(hall, "CREATE TABLE public.other (username text, active boolean, locked boolean)")
    _admin(hall, "CREATE TRIGGER t AFTER UPDATE ON public.other FOR EACH ROW "
                 "EXECUTE FUNCTION gridhall_accounts.users_login_state()")
    _admin(hall, "INSERT INTO public.other VALUES (%s, true, false)", (hall.names["analyst"],))
    with pytest.raises(psycopg2.Error, match="runs only as the AFTER UPDATE row trigger"):
        _admin(hall, "UPDATE public.other SET active = false")
    assert _can_log_in(hall, "analyst")


# --- passwords ----------------------------------------------------------------------------------

def test_no_role_but_the_owner_reads_or_writes_password_hash(hall):
    roles = [*GROUPS, *(hall.login(w) for w in EVERYONE)]
    for role in roles:
        for privilege in ("SELECT", "INSERT", "UPDATE", "REFERENCES"):
            assert not _admin(hall, "SELECT has_column_privilege(%s, 'users', 'password_hash', %s)",
                              (role, privilege))[0][0], (role, privilege)
    assert _admin(hall, "SELECT has_column_privilege(%s, 'users', 'password_hash', 'SELECT')",
                  (security.OWNER_ROLE,))[0][0]
    for who in ("admin", "analyst", "dispatcher"):
        refused(hall, who, "SELECT password_hash FROM users", match="permission denied")
        refused(hall, who, "UPDATE users SET password_hash = 'x'", match="permission denied")
    # and there is nothing to read: even the owner cannot store a copy
    assert _admin(hall, "SELECT count(password_hash) FROM users")[0][0] == 0
    refused(hall, DBA, "UPDATE users SET password_hash = '$argon2id$v=19$x' WHERE username = %s",
            (hall.names["analyst"],), match="users_password_in_the_database")


def test_login_on_postgis_proves_the_password_with_the_login_and_locks_it(hall):
    name = hall.names["leader"]
    assert login(hall.store, name, hall.password, clock=CLOCK).role is Role.LEADER
    for attempt in range(LOCK_AFTER):
        with pytest.raises(AuthError):
            login(hall.store, name, f"wrong-{attempt}-password", clock=CLOCK)
    # locked after five failures: the database itself now refuses the login
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        hall.connect("leader")
    with pytest.raises(AuthError, match="锁定"):
        login(hall.store, name, hall.password, clock=CLOCK)
    unlock_user(hall.store_as("admin"), name)
    hall.connect("leader").close()


# --- locked and disabled users -------------------------------------------------------------------

@pytest.mark.parametrize("how", ["disable", "lock"])
def test_a_disabled_or_locked_users_open_session_is_ended(hall, how):
    victim = hall.connect("dept_b")
    with victim.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases")
        assert cur.fetchone()[0] == 1
    victim.commit()
    if how == "disable":
        disable_user(hall.store_as("admin"), hall.names["dept_b"])
    else:  # raw SQL by the administrator: the trigger on users does the rest
        assert run(hall, "admin", "UPDATE users SET locked = true WHERE username = %s",
                   (hall.names["dept_b"],)) == 1
    with pytest.raises(psycopg2.OperationalError), victim.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases")
    victim.close()
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        hall.connect("dept_b")
    assert _admin(hall, "SELECT count(*) FROM pg_stat_activity WHERE usename = %s",
                  (hall.login("dept_b"),))[0][0] == 0


# --- gridhall case --as on PostGIS ---------------------------------------------------------------

def _case(monkeypatch, capsys, hall, *argv, password: str | None = None, url: str | None = None):
    if password is None:
        monkeypatch.delenv("GRIDHALL_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("GRIDHALL_PASSWORD", password)
    db = url or hall.store.url.render_as_string(hide_password=False)  # the superuser's URL
    args = build_parser(["case", *argv, "--no-plugins"]).parse_args(["case", *argv, "--db", db, "--no-plugins"])
    code = run_case(args, clock=CLOCK)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_case_as_acts_as_the_users_own_login(hall, monkeypatch, capsys, tmp_path):
    with hall.store.session() as s:
        numbers = {k: s.scalar(select(Case.number).where(Case.id == v)) for k, v in hall.cases.items()}
    mine, theirs = numbers["handling_a"], numbers["handling_b"]
    code, out, err = _case(monkeypatch, capsys, hall, "list", "--as", hall.names["dept_a"], password=hall.password)
    assert code == 0, err
    assert mine in out and theirs not in out  # row-level security of gh_dept_a, not the URL's superuser
    code, _, err = _case(monkeypatch, capsys, hall, "show", theirs, "--as", hall.names["dept_a"],
                         password=hall.password)
    assert code == 1 and theirs in err
    # the department's step on another department's case is refused by the database
    code, _, err = _case(monkeypatch, capsys, hall, "accept", theirs, "--as", hall.names["dept_a"],
                         password=hall.password)
    assert code == 1
    # the URL's account and password are never used: a wrong password for X is refused
    code, _, err = _case(monkeypatch, capsys, hall, "list", "--as", hall.names["dept_a"],
                         password="not-the-password")
    assert code == 1 and "用户名或密码错误" in err
    # the password file works too (no GRIDHALL_PASSWORD)
    pgpass = tmp_path / "pgpass"
    security.write_pgpass("127.0.0.1", hall.cluster.port, hall.db, hall.login("dept_a"), hall.password, path=pgpass)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    code, out, err = _case(monkeypatch, capsys, hall, "list", "--as", hall.names["dept_a"])
    assert code == 0 and mine in out and theirs not in out, err
    # a disabled user's script is refused by the database
    disable_user(hall.store_as("admin"), hall.names["dept_a"])
    code, _, err = _case(monkeypatch, capsys, hall, "list", "--as", hall.names["dept_a"], password=hall.password)
    assert code == 1 and "停用" in err


def test_case_as_someone_without_a_login_is_refused(hall, monkeypatch, capsys):
    ghost = f"ghost{secrets.token_hex(3)}"
    code, _, err = _case(monkeypatch, capsys, hall, "list", "--as", ghost, password=hall.password)
    assert code == 1 and "用户名或密码错误" in err
