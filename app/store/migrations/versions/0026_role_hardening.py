"""Role hardening (PostgreSQL): holes found by attacking every role with raw SQL (tests/store/test_roles_raw_sql.py).

1. **The Open311 login could become an acceptor.** ``gridhall_open311`` was a NOINHERIT member of
   ``gridhall_acceptor`` (0022) so that the workflow triggers accepted its report events as 受理员
   events. NOINHERIT only stops privileges flowing by themselves: on PostgreSQL 15 every member may
   ``SET ROLE gridhall_acceptor`` and then read reporters' names and phones, every event's reason and
   payload, attachments, users' phones, and write the exchange tables. The membership is revoked;
   ``gridhall_has_role('acceptor')`` (the triggers' and policies' test) now also answers yes for a
   member of ``gridhall_open311``, and ``gridhall_release_blockers`` counts the group's sessions as
   application sessions (``app.store.locks.application_groups`` too, for the session limits).
2. **Program logins could be given a person's role.** An administrator inserting a ``users`` row under
   a wall login's name and changing its role made ``gridhall_accounts.users_login_group`` grant that
   login a second group (dispatcher besides wall). The function now refuses a login that belongs to a
   group other than the eight people's groups.
3. **Table-level UPDATE let a login lock whole tables.** 0016–0025 granted ``UPDATE`` on whole tables
   (``exchange_cursors`` to acceptors; ``calendar_years``, ``statutory_days``, ``open311_keys``,
   ``department_areas``, ``routing_areas`` and the gazetteer to administrators), and a table-level
   UPDATE is what ``LOCK TABLE … IN SHARE/EXCLUSIVE/ACCESS EXCLUSIVE MODE`` asks for: an
   administrator could hold ``statutory_days`` (read by every event's deadline) or ``open311_keys``
   exclusively. Each such grant becomes the same UPDATE column by column (docs/deploy.md: "no
   application group holds a table-level UPDATE"). Table-level DELETE (acceptors on
   ``exchange_links``, administrators on the gazetteer) cannot be split by column and stays.
4. **Bulletin builds were forgeable.** ``bulletins`` had no guard: an analyst could record a build
   under a leader's name, name a chain link with any hash, and the owner could edit or delete rows.
   A trigger now refuses UPDATE, DELETE and TRUNCATE to everyone (the owner included), and for a
   login: a ``built_by`` naming another account (a name that is no account is replaced by the
   login's own), a ``head_hash`` that is not the hash of link ``chain_no``, a hash without a link.
5. **Reply deliveries were forgeable.** ``public_replies`` took any ``case_id``, ``after``, ``due_at``
   and ``done_at`` from a login: a late reply could be recorded as on time. For a login the trigger
   now requires the event to be one of the case, ``after`` to be the event's action, ``due_at`` to
   be the event's time + 24 hours (app.services.replies.REPLY_WITHIN) and ``done_at`` within 5 minutes
   of the database clock (the events' tolerance). Rows are never updated or deleted (owner included).

6. **The programs read people's data.** The wall's group read whole ``cases`` and ``case_events`` rows
   (reporters' names and phones, reasons, payloads) and, like the Open311 intake's, every row of
   ``config_changes``, where each account change names a user, role, department and why. The wall now
   reads those two tables column by column without :data:`app.store.wall_role.WALL_HIDDEN`, and
   ``config_changes`` gets row-level security: the eight groups read every row, the wall and the
   intake no ``entity = 'user'`` row (:data:`app.store.wall_role.WALL_ROWS`).

Like 0007 and 0025, this revision needs a superuser once (it revokes a membership of a cluster-wide
group and rewrites a function of ``gridhall_usermgr``); run by anyone else it stops with a message.
SpatiaLite: nothing (no roles).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08
"""

from __future__ import annotations

import re
from typing import Any

from alembic import op

from app.domain.definitions import Role
from app.store.security import ACCOUNTS_SCHEMA, GROUP_PREFIX, GROUP_ROLES, group_role
from app.store.wall_role import WALL_GROUP, WALL_HIDDEN, WALL_POLICY, WALL_ROWS, sync_wall_role

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

OPEN311 = GROUP_PREFIX + "open311"
ACCEPTOR = group_role(Role.ACCEPTOR)
GROUP_FN = f"{ACCOUNTS_SCHEMA}.users_login_group()"
RELEASE_FN = "gridhall_release_blockers()"
BULLETINS_FN = "gridhall_bulletins_guard"
REPLIES_FN = "gridhall_public_replies_guard"
#: The table-level UPDATE grants of 0016–0025 (group, table) that 0026 splits into column grants (downgrade).
TABLE_UPDATES = (
    (ACCEPTOR, "exchange_cursors"),
    *((group_role(Role.ADMIN), t) for t in ("calendar_years", "statutory_days", "open311_keys", "department_areas",
                                            "routing_areas", "house_numbers", "landmarks", "landmark_aliases",
                                            "road_segments")),
)
#: Marks the lines 0026 adds to the account function (the downgrade takes them out again).
MARK_BEGIN = "-- 0026: a program's login (wall, Open311) never gets a person's group"
MARK_END = "-- 0026 end"
PROGRAM_POLICY = "config_changes_s_o311"
CLOCK = "(pg_catalog.now() AT TIME ZONE 'Asia/Shanghai')::timestamp(0)"


#: The BEFORE INSERT check of attachments (0006).
ATTACHMENTS_FN = "gridhall_attachments_check"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _scalar(sql: str, *args: object) -> Any:
    raw: Any = op.get_bind().connection.dbapi_connection
    with raw.cursor() as cur:  # psycopg2 directly: function bodies with % need no escaping
        cur.execute(sql, args or None)
        row = cur.fetchone() if cur.description else None
    return row[0] if row else None


def _exec(sql: str) -> None:
    raw: Any = op.get_bind().connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute(sql)


def _groups_sql(extra: tuple[str, ...] = ()) -> str:
    return "ARRAY[" + ",".join(f"'{g}'" for g in (*(group_role(r) for r in GROUP_ROLES), *extra)) + "]"


def _definition(signature: str) -> str | None:
    return str(_scalar("SELECT pg_catalog.pg_get_functiondef(pg_catalog.to_regprocedure(%s))", signature)) \
        if _scalar("SELECT pg_catalog.to_regprocedure(%s) IS NOT NULL", signature) else None


class _AsSession:
    """``SET LOCAL ROLE NONE`` (the superuser itself) for a block, then back to the migration's role."""

    def __enter__(self) -> None:
        self.current = str(_scalar("SELECT current_user"))
        _exec("SET LOCAL ROLE NONE")

    def __exit__(self, *_exc: object) -> None:
        if self.current != str(_scalar("SELECT session_user")):
            _exec(f'SET LOCAL ROLE "{self.current}"')


def _has_role_sql(schema: str, with_open311: bool) -> str:
    extra = (f"\n      OR (role = 'acceptor' AND to_regrole('{OPEN311}') IS NOT NULL"
             f"\n          AND pg_has_role(session_user, '{OPEN311}', 'MEMBER'))") if with_open311 else ""
    return f"""
CREATE OR REPLACE FUNCTION gridhall_has_role(role text) RETURNS boolean LANGUAGE sql STABLE
SET search_path = {schema}, pg_temp AS $$
  SELECT (to_regrole('gridhall_' || role) IS NOT NULL
          AND pg_has_role(session_user, 'gridhall_' || role, 'MEMBER')){extra}
$$"""


# --- 4. bulletins ------------------------------------------------------------------------------

def _bulletins_guard(schema: str) -> str:
    return f"""
CREATE FUNCTION {BULLETINS_FN}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $$
DECLARE me text; link text;
BEGIN
  IF TG_TABLE_SCHEMA IS DISTINCT FROM '{schema}' OR TG_TABLE_NAME <> 'bulletins' THEN
    RAISE EXCEPTION 'trigger function {BULLETINS_FN} runs only on {schema}.bulletins, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'bulletins is append-only: % is not allowed', TG_OP
      USING ERRCODE = 'insufficient_privilege', HINT = 'the build history only grows; a new build is a new row';
  END IF;
  IF gridhall_exempt() THEN
    RETURN NEW;
  END IF;
  me := gridhall_username(session_user);
  IF NEW.built_by IS DISTINCT FROM me THEN
    IF EXISTS (SELECT 1 FROM users WHERE username = NEW.built_by) THEN
      RAISE EXCEPTION 'bulletins: login % records its builds under its own name, not %', session_user, NEW.built_by
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.built_by := me;  -- a name that is no account (the scripts' "gridhall") is the login's own
  END IF;
  IF NEW.chain_no IS NULL THEN
    IF NEW.head_hash IS NOT NULL THEN
      RAISE EXCEPTION 'bulletins: a head hash names its link of the audit chain (chain_no is empty)'
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  SELECT e.hash INTO link FROM case_events e WHERE e.chain_no = NEW.chain_no;
  IF NOT FOUND OR link IS DISTINCT FROM NEW.head_hash THEN
    RAISE EXCEPTION 'bulletins: % is not the hash of link % of the audit chain', NEW.head_hash, NEW.chain_no
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$"""


# --- 5. public_replies -------------------------------------------------------------------------

def _replies_guard(schema: str) -> str:
    return f"""
CREATE FUNCTION {REPLIES_FN}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $$
DECLARE e record; clock timestamp := {CLOCK};
BEGIN
  IF TG_TABLE_SCHEMA IS DISTINCT FROM '{schema}' OR TG_TABLE_NAME <> 'public_replies' THEN
    RAISE EXCEPTION 'trigger function {REPLIES_FN} runs only on {schema}.public_replies, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'public_replies is append-only: % is not allowed', TG_OP
      USING ERRCODE = 'insufficient_privilege', HINT = 'a delivered reply stays recorded';
  END IF;
  IF gridhall_exempt() THEN
    RETURN NEW;
  END IF;
  SELECT ce.case_id, ce.action, ce.at INTO e FROM case_events ce WHERE ce.id = NEW.event_id;
  IF NOT FOUND OR e.case_id IS DISTINCT FROM NEW.case_id THEN
    RAISE EXCEPTION 'public_replies: event % is not an event of case %', NEW.event_id, NEW.case_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.after IS DISTINCT FROM e.action THEN
    RAISE EXCEPTION 'public_replies: the reply answers the event''s %, not %', e.action, NEW.after
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.due_at IS DISTINCT FROM e.at + interval '24 hours' THEN
    RAISE EXCEPTION 'public_replies: a reply is due 24 hours after its event (%), not %', e.at + interval '24 hours', NEW.due_at
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.done_at IS NULL OR NEW.done_at > clock + interval '5 minutes' OR NEW.done_at < clock - interval '5 minutes' THEN
    RAISE EXCEPTION 'public_replies: the delivery time % is more than 5 minutes from the database''s clock (%)', NEW.done_at, clock
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$"""


def _guard(table: str, fn: str, schema: str, body: str) -> None:
    _exec(body)
    # owned by the table's owner, as the other guards (a superuser runs this revision)
    _exec(f"""DO $$ BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION {fn}() OWNER TO %I',
    (SELECT relowner::regrole::text FROM pg_catalog.pg_class WHERE oid = '{table}'::regclass));
END $$""")
    _exec(f"REVOKE ALL ON FUNCTION {fn}() FROM PUBLIC")
    op.execute(f"CREATE TRIGGER {table}_guard BEFORE INSERT OR UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {fn}()")
    op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()")


# --- 2. the account function -------------------------------------------------------------------

def _with_program_check(definition: str) -> str:
    if MARK_BEGIN in definition:
        return definition
    anchor = re.search(r"login_oid := [a-z_]+\.check_login\(login\);[^\n]*\n", definition)
    if anchor is None:
        raise RuntimeError("0026: gridhall_accounts.users_login_group() is not the function of 0025")
    check = f"""  {MARK_BEGIN}
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
              WHERE m.member = login_oid AND NOT (r.rolname = ANY({_groups_sql()}::text[]))) THEN
    RAISE EXCEPTION 'gridhall_accounts: login % belongs to a program''s group (the wall, Open311): a users row gives it no role', login
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  {MARK_END}
"""
    return definition[:anchor.end()] + check + definition[anchor.end():]


def _without_program_check(definition: str) -> str:
    return re.sub(rf"  {re.escape(MARK_BEGIN)}\n.*?{re.escape(MARK_END)}\n", "", definition, flags=re.S)


# --- 1. the release function's list of application groups ---------------------------------------

_RELEASE_ARRAY = re.compile(r"(ARRAY\[(?:'gridhall_[a-z0-9_]+',?\s*)+)\]::name\[\]")


def _release_with_open311(definition: str) -> str:
    if f"'{OPEN311}'" in definition:
        return definition
    changed, n = _RELEASE_ARRAY.subn(lambda m: m.group(1).rstrip() + f", '{OPEN311}']::name[]", definition, count=1)
    if n != 1:
        raise RuntimeError("0026: gridhall_release_blockers() has no list of application groups")
    return changed


def _release_without_open311(definition: str) -> str:
    return definition.replace(f", '{OPEN311}']::name[]", "]::name[]")


def _require_superuser() -> None:
    if not _scalar("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user"):
        raise RuntimeError("升级到第 0026 版需要 PostgreSQL 超级用户运行一次（它收回 gridhall_open311 的 gridhall_acceptor 成员身份，"
                           "并修改 gridhall_accounts 中的函数）：请由 DBA 以超级用户执行 gridhall db upgrade，见 docs/deploy.md")


def upgrade() -> None:
    if not _postgres():
        return
    _require_superuser()
    schema = str(_scalar("SELECT current_schema()"))
    # As the superuser itself: the objects of a hall upgraded without SET ROLE may belong to it or to
    # gridhall_owner; a superuser's GRANT/REVOKE acts as the owner, CREATE OR REPLACE keeps the owner.
    with _AsSession():
        _upgrade(schema)


def _upgrade(schema: str) -> None:
    # 1. the Open311 group stands for an acceptor in the triggers without being one
    _exec(_has_role_sql(schema, with_open311=True))
    release = _definition(RELEASE_FN)
    if release is not None:
        _exec(_release_with_open311(release))
    _exec(f"""DO $$ BEGIN
  IF to_regrole('{OPEN311}') IS NOT NULL AND pg_has_role('{OPEN311}', '{ACCEPTOR}', 'MEMBER') THEN
    REVOKE {ACCEPTOR} FROM {OPEN311};
  END IF;
  IF to_regrole('{OPEN311}') IS NOT NULL AND pg_has_role('{OPEN311}', '{ACCEPTOR}', 'MEMBER') THEN
    RAISE EXCEPTION '{OPEN311} is still a member of {ACCEPTOR} (granted by another role): a superuser must revoke it';
  END IF;
END $$""")
    # 2. program logins get no person's group through a users row
    group_fn = _definition(GROUP_FN)
    if group_fn is not None:
        _exec(_with_program_check(group_fn))
    # 3. every table-level UPDATE held by an application group becomes column grants
    groups = _groups_sql((OPEN311, GROUP_PREFIX + "wall"))
    _exec(f"""DO $$ DECLARE g record; cols text; BEGIN
  FOR g IN SELECT c.oid AS rel, c.relname, r.rolname
             FROM pg_catalog.pg_class c, LATERAL pg_catalog.aclexplode(c.relacl) a
             JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
              AND a.privilege_type = 'UPDATE' AND r.rolname = ANY({groups}::name[]) LOOP
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_catalog.pg_attribute WHERE attrelid = g.rel AND attnum > 0 AND NOT attisdropped;
    EXECUTE pg_catalog.format('REVOKE UPDATE ON %I FROM %I', g.relname, g.rolname);
    EXECUTE pg_catalog.format('GRANT UPDATE (%s) ON %I TO %I', cols, g.relname, g.rolname);
  END LOOP;
END $$""")
    # 4–5. append-only, attributed bulletin builds and reply deliveries
    _guard("bulletins", BULLETINS_FN, schema, _bulletins_guard(schema))
    _guard("public_replies", REPLIES_FN, schema, _replies_guard(schema))
    # 6. the programs (wall, Open311) read no account change, the wall no reporter, reason or payload
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    op.execute("ALTER TABLE config_changes ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY config_changes_read ON config_changes FOR SELECT TO {everyone} USING (true)")
    op.execute(f"CREATE POLICY config_changes_write ON config_changes FOR INSERT TO {group_role(Role.ADMIN)} "
               "WITH CHECK (true)")
    if _scalar("SELECT to_regrole(%s) IS NOT NULL", OPEN311):
        op.execute(f"CREATE POLICY {PROGRAM_POLICY} ON config_changes FOR SELECT TO {OPEN311} "
                   f"USING ({WALL_ROWS['config_changes']})")
    sync_wall_role(op.get_bind())  # WALL_HIDDEN and WALL_ROWS (app/store/wall_role.py)
    # 7. the attachments check reads its event's xmin (0006), a system column no column grant covers:
    #    as the definer, so a login with column grants on case_events (Open311's photos) can store one
    op.execute(f"ALTER FUNCTION {ATTACHMENTS_FN}() SECURITY DEFINER")


def downgrade() -> None:
    if not _postgres():
        return
    _require_superuser()
    schema = str(_scalar("SELECT current_schema()"))
    with _AsSession():
        _downgrade(schema)


def _downgrade(schema: str) -> None:
    op.execute(f"ALTER FUNCTION {ATTACHMENTS_FN}() SECURITY INVOKER")
    for policy in ("config_changes_read", "config_changes_write", PROGRAM_POLICY, WALL_POLICY):
        op.execute(f"DROP POLICY IF EXISTS {policy} ON config_changes")
    op.execute("ALTER TABLE config_changes DISABLE ROW LEVEL SECURITY")
    if _scalar("SELECT to_regrole(%s) IS NOT NULL", WALL_GROUP):
        for table in WALL_HIDDEN:
            op.execute(f"GRANT SELECT ON {table} TO {WALL_GROUP}")
    for table, fn in (("public_replies", REPLIES_FN), ("bulletins", BULLETINS_FN)):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
    for group, table in TABLE_UPDATES:
        if _scalar("SELECT to_regclass(%s) IS NOT NULL", table):
            op.execute(f"GRANT UPDATE ON {table} TO {group}")
    group_fn = _definition(GROUP_FN)
    if group_fn is not None:
        _exec(_without_program_check(group_fn))
    _exec(f"""DO $$ BEGIN
  IF to_regrole('{OPEN311}') IS NOT NULL AND NOT pg_has_role('{OPEN311}', '{ACCEPTOR}', 'MEMBER') THEN
    GRANT {ACCEPTOR} TO {OPEN311};
  END IF;
END $$""")
    release = _definition(RELEASE_FN)
    if release is not None:
        _exec(_release_without_open311(release))
    _exec(_has_role_sql(schema, with_open311=False))
