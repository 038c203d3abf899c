"""The live channel and locks (PostgreSQL): notifications carry no case data, and no login can freeze the hall.

Notifications (channel ``gridhall_cases``). Any login may ``pg_notify`` any channel and LISTEN
has no privilege check, so a payload can neither be trusted nor kept secret. It now carries
nothing about a case: ``{"chain": N}`` (the last link of the chain a statement appended) from
case_events, ``{"claims": true}`` from case_claims. A client takes it as a hint and reads what
changed itself, through its own row-level security (app/store/notify.py): a forged hint costs
one small read and shows nothing; a department reads only its own cases. The UPDATE trigger
on cases is gone: a case changes only with an event (migrations 0002/0006), whose link the
client reads.

Locks. Application logins get ``lock_timeout``, ``statement_timeout`` and
``idle_in_transaction_session_timeout`` as their defaults in this database (app/store/locks.py
has the values; logins created later get them where they are created). A login may set its
own to 0, so ``gridhall_release_blockers()`` (SECURITY DEFINER, EXECUTE for every group) ends
the application sessions of this database that have held a transaction with locks (a
transaction id: rows written or locked; a table lock above ROW EXCLUSIVE) for longer than
``RELEASE_AFTER_S`` and are not waiting for a lock themselves (or have waited longer than
``RELEASE_WAITING_AFTER_S``, which no application login's own limit allows); never a superuser's, the
owner's or the caller's own session. Each is recorded in ``lock_releases`` (readable by
administrators). The function's owner needs ``pg_signal_backend`` (to end sessions) and
``pg_read_all_stats`` (to see other logins' transactions): granted here when the migration
runs as a superuser, else a warning says what the superuser must run.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import importlib
import logging
from typing import Any

from alembic import op

from app.store.locks import RELEASE_AFTER_S, RELEASE_WAITING_AFTER_S, TIMEOUTS
from app.store.security import GROUP_ROLES, group_role

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

CHANNEL = "gridhall_cases"
#: What the release function's owner needs (granted by a superuser).
OWNER_NEEDS = ("pg_signal_backend", "pg_read_all_stats")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _scalar(sql: str) -> Any:
    return op.get_bind().exec_driver_sql(sql).scalar()


def _raw(sql: str) -> None:
    """Run DDL as it is (no bind-parameter or %-format processing of function bodies)."""
    raw: Any = op.get_bind().connection.dbapi_connection  # psycopg2's connection
    cur = raw.cursor()
    try:
        cur.execute(sql)
    finally:
        cur.close()


def _groups_array() -> str:
    return "ARRAY[" + ", ".join(_lit(group_role(r)) for r in GROUP_ROLES) + "]::name[]"


def _guard(schema: str, fn: str, table: str) -> str:
    return f"""IF TG_TABLE_SCHEMA <> {_lit(schema)} OR TG_TABLE_NAME <> {_lit(table)} THEN
    RAISE EXCEPTION '{fn}() runs only as the trigger of {schema}.{table}' USING ERRCODE = 'insufficient_privilege';
  END IF;"""


def _functions(schema: str) -> list[str]:
    path = f"SET search_path = {schema}, pg_temp"
    return [
        f"""
CREATE OR REPLACE FUNCTION gridhall_notify_case_events() RETURNS trigger LANGUAGE plpgsql {path} AS $$
DECLARE last_no integer;
BEGIN
  {_guard(schema, "gridhall_notify_case_events", "case_events")}
  SELECT max(chain_no) INTO last_no FROM new_events;
  IF last_no IS NOT NULL THEN  -- a hint only: clients read the new links themselves
    PERFORM pg_catalog.pg_notify('{CHANNEL}', pg_catalog.json_build_object('chain', last_no)::text);
  END IF;
  RETURN NULL;
END $$""",
        f"""
CREATE OR REPLACE FUNCTION gridhall_notify_claims() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
  {_guard(schema, "gridhall_notify_claims", "case_claims")}
  -- identical payloads of one transaction are delivered once
  PERFORM pg_catalog.pg_notify('{CHANNEL}', '{{"claims": true}}');
  RETURN NULL;
END $$""",
        """
CREATE TABLE lock_releases (
  id serial PRIMARY KEY,
  at timestamp(0) NOT NULL DEFAULT ((now() AT TIME ZONE 'Asia/Shanghai')::timestamp(0)),
  requested_by text NOT NULL,
  pid integer NOT NULL,
  login text NOT NULL,
  state text,
  transaction_started timestamp(0),
  holding text,
  ended boolean NOT NULL
)""",
        f"""
CREATE FUNCTION gridhall_release_blockers() RETURNS integer LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE r record; n integer := 0; owner_oid oid; ok boolean;
BEGIN
  IF NOT (pg_catalog.pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
          AND pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')) THEN
    RAISE WARNING 'gridhall_release_blockers: its owner % lacks pg_signal_backend or pg_read_all_stats; '
                  'a superuser must run: GRANT pg_signal_backend, pg_read_all_stats TO %', current_user, current_user;
    RETURN 0;
  END IF;
  SELECT relowner INTO owner_oid FROM pg_catalog.pg_class WHERE oid = '{schema}.case_events'::regclass;
  FOR r IN
    SELECT a.pid, a.usename::text AS login, a.state, a.xact_start,
           (SELECT pg_catalog.string_agg(DISTINCT CASE WHEN l.locktype = 'relation'
                                                       THEN l.mode || ' ' || l.relation::regclass::text
                                                       ELSE l.locktype || ' ' || l.mode END, ', ')
              FROM pg_catalog.pg_locks l
             WHERE l.pid = a.pid AND l.granted AND l.locktype IN ('relation', 'transactionid')
               AND (l.locktype <> 'relation' OR l.database = a.datid)) AS holding
      FROM pg_catalog.pg_stat_activity a
      JOIN pg_catalog.pg_roles u ON u.oid = a.usesysid
     WHERE a.datname = pg_catalog.current_database()
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND a.backend_type = 'client backend'
       AND NOT u.rolsuper
       AND NOT pg_catalog.pg_has_role(a.usesysid, owner_oid, 'MEMBER')
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
                    WHERE g.rolname = ANY({_groups_array()}) AND pg_catalog.pg_has_role(a.usesysid, g.oid, 'MEMBER'))
       AND a.state IN ('idle in transaction', 'active')
       AND a.xact_start < pg_catalog.clock_timestamp() - interval '{RELEASE_AFTER_S} seconds'
       -- idle in its transaction (no honest workstation idles there), or at it for longer than any
       -- honest step takes: calling this function at will cannot end a workstation's honest work
       AND ((a.state = 'idle in transaction'
             AND a.state_change < pg_catalog.clock_timestamp() - interval '{RELEASE_AFTER_S} seconds')
            OR a.xact_start < pg_catalog.clock_timestamp() - interval '{RELEASE_WAITING_AFTER_S} seconds')
       -- a waiter is a victim, unless it has waited longer than any application login may
       AND (a.wait_event_type IS DISTINCT FROM 'Lock'
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_locks w WHERE w.pid = a.pid AND NOT w.granted
                        AND w.waitstart < pg_catalog.clock_timestamp() - interval '{RELEASE_WAITING_AFTER_S} seconds'))
       AND (a.backend_xid IS NOT NULL  -- it wrote or row-locked something
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_locks l  -- or holds a table lock the application's statements wait for
                        WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation' AND l.database = a.datid
                          AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')))
  LOOP
    ok := pg_catalog.pg_terminate_backend(r.pid, 3000);
    INSERT INTO lock_releases (requested_by, pid, login, state, transaction_started, holding, ended)
    VALUES (session_user, r.pid, r.login, r.state,
            (r.xact_start AT TIME ZONE 'Asia/Shanghai')::timestamp(0), r.holding, ok);
    IF ok THEN n := n + 1; END IF;
  END LOOP;
  IF n > 0 THEN
    RAISE NOTICE 'gridhall_release_blockers: ended % session(s) that held locks in a transaction for over % s', n, {RELEASE_AFTER_S};
  END IF;
  RETURN n;
END $$""",
    ]


_NEW_FUNCTIONS = ("gridhall_notify_case_events()", "gridhall_notify_claims()", "gridhall_release_blockers()")


def _own(owner: str, *objects: str) -> str:
    """Give ``objects`` to the owner of the schema's tables (when this run is someone else); its quoted name."""
    quoted = '"' + owner.replace('"', '""') + '"'
    for obj in objects:
        if str(_scalar(f"SELECT pg_get_userbyid({_owner_column(obj)})")) != owner:
            op.execute(f"ALTER {obj} OWNER TO {quoted}")
    return quoted


def _owner_column(obj: str) -> str:
    kind, name = obj.split(" ", 1)
    if kind == "TABLE":
        return f"(SELECT relowner FROM pg_class WHERE oid = {_lit(name)}::regclass)"
    return f"(SELECT proowner FROM pg_proc WHERE oid = {_lit(name)}::regprocedure)"


def _as_session_user(statements: list[str], what: str) -> None:
    """Run ``statements`` as the session's own login (0007 may have SET ROLE to the owner), each in
    a block that turns a missing privilege into a warning (a DBA then runs them as a superuser)."""
    current = _scalar("SELECT current_user")
    op.execute("SET LOCAL ROLE NONE")
    try:
        for sql in statements:
            _raw(f"""
DO $do$ BEGIN
  {sql};
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'GridHall 0008: % needs a superuser: %', {_lit(what)}, {_lit(sql)};
END $do$""")
    finally:
        op.execute(f'SET LOCAL ROLE "{current}"')


def _logins_sql() -> str:
    """The application logins: members of a GridHall group, not superusers."""
    return f"""
SELECT DISTINCT u.rolname FROM pg_catalog.pg_roles u
 WHERE u.rolcanlogin AND NOT u.rolsuper
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                WHERE m.member = u.oid AND g.rolname = ANY({_groups_array()}))
 ORDER BY 1"""


def _role_defaults(login: str, database: str, reset: bool = False) -> list[str]:
    ident = '"' + login.replace('"', '""') + '"'
    db = '"' + database.replace('"', '""') + '"'
    if reset:
        return [f"ALTER ROLE {ident} IN DATABASE {db} RESET {name}" for name, _ in TIMEOUTS]
    return [f"ALTER ROLE {ident} IN DATABASE {db} SET {name} = {_lit(value)}" for name, value in TIMEOUTS]


def upgrade() -> None:
    if not _postgres():
        return
    schema = str(_scalar("SELECT current_schema()"))
    owner = str(_scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'case_events'::regclass"))
    database = str(_scalar("SELECT current_database()"))
    op.execute("DROP TRIGGER IF EXISTS cases_notify ON cases")
    op.execute("DROP FUNCTION IF EXISTS gridhall_notify_cases()")
    op.execute("DROP FUNCTION IF EXISTS gridhall_notify_ids(integer[], jsonb)")
    for sql in _functions(schema):
        _raw(sql)
    quoted_owner = _own(owner, "TABLE lock_releases", *(f"FUNCTION {fn}" for fn in _NEW_FUNCTIONS))
    for fn in _NEW_FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
    callers = ", ".join(group_role(r) for r in GROUP_ROLES if r.value != "analyst")  # analysts are never blocked
    op.execute(f"GRANT EXECUTE ON FUNCTION gridhall_release_blockers() TO {callers}")
    op.execute(f"GRANT SELECT ON lock_releases TO {group_role('admin')}")
    missing = [r for r in OWNER_NEEDS if not _scalar(f"SELECT pg_has_role({_lit(owner)}, {_lit(r)}, 'USAGE')")]
    statements = [f"GRANT {', '.join(missing)} TO {quoted_owner}"] if missing else []
    for (login,) in op.get_bind().exec_driver_sql(_logins_sql()).all():
        statements += _role_defaults(login, database)
    if statements:
        _as_session_user(statements, "the lock limits of the application logins and the release function's rights")
    if missing and not all(_scalar(f"SELECT pg_has_role({_lit(owner)}, {_lit(r)}, 'USAGE')") for r in OWNER_NEEDS):
        log.warning("GridHall 0008: ask a superuser to run: GRANT %s TO %s (so that a blocked workstation "
                    "can end the session that freezes the hall)", ", ".join(OWNER_NEEDS), quoted_owner)


def downgrade() -> None:
    if not _postgres():
        return
    database = str(_scalar("SELECT current_database()"))
    op.execute("DROP FUNCTION IF EXISTS gridhall_release_blockers()")
    op.execute("DROP TABLE IF EXISTS lock_releases")
    statements: list[str] = []
    for (login,) in op.get_bind().exec_driver_sql(_logins_sql()).all():
        statements += _role_defaults(login, database, reset=True)
    if statements:
        _as_session_user(statements, "resetting the lock limits of the application logins")
    # The owner keeps pg_signal_backend / pg_read_all_stats: a DBA may have granted them for other reasons.
    # 0003's notifications, as they were.
    op.execute("DROP TRIGGER IF EXISTS case_claims_notify ON case_claims")
    op.execute("DROP TRIGGER IF EXISTS case_events_notify ON case_events")
    op.execute("DROP FUNCTION IF EXISTS gridhall_notify_claims()")
    op.execute("DROP FUNCTION IF EXISTS gridhall_notify_case_events()")
    live = importlib.import_module("app.store.migrations.versions.0003_live")
    _raw(live._FUNCTIONS)
    for sql in live._TRIGGERS:
        _raw(sql)
    owner = str(_scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'case_events'::regclass"))
    _own(owner, *(f"FUNCTION {fn}" for fn in ("gridhall_notify_ids(integer[], jsonb)", "gridhall_notify_case_events()",
                                               "gridhall_notify_cases()", "gridhall_notify_claims()")))
