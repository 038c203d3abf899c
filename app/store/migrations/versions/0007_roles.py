"""Roles without borrowed power (PostgreSQL): a NOLOGIN schema owner, user management through guarded functions, no argon2 copy of passwords.

Who owns what, who may do what (docs/deploy.md sections 1–2 say how a hall is set up):

- ``gridhall_owner`` (NOLOGIN, no CREATEROLE/CREATEDB) owns every table, sequence and
  function of the schema. The DBA logs in as their own login, member of it; migrations
  run as it (``SET ROLE``, app.store.commands) so new objects are owned by it too.
- ``gridhall_usermgr`` (NOLOGIN, CREATEROLE, member of ``pg_signal_backend``, and no member:
  nobody can become it) owns the schema ``gridhall_accounts`` and its SECURITY DEFINER
  functions, the only way logins are created (with the session limits of app.store.locks as
  their defaults in the hall's database), given a password, disabled and enabled.
  EXECUTE on them is granted to ``gridhall_admin`` only. They accept only ``gh_`` logins that
  hold no power but GridHall's groups, grant only those groups, accept a password only as a
  SCRAM-SHA-256 verifier, and end the sessions of a login they disable. They read nothing in
  the hall's schema (whose owner could make a read run its code) and name no object outside
  ``pg_catalog`` and their own schema (``search_path = pg_catalog, pg_temp``).
- ``users.active``/``users.locked`` are kept by the database: an AFTER UPDATE trigger (a
  function of ``gridhall_usermgr``, guarded to run for ``<schema>.users`` only) makes the
  login NOLOGIN and ends its sessions when the user is disabled or locked, LOGIN again when
  enabled and unlocked.
- ``users.password_hash`` is NULL on PostgreSQL (a CHECK constraint keeps it so): the login's
  SCRAM verifier is the only password. No group may read or write the column; ``gridhall_admin``
  keeps column privileges on the others.

This revision needs a superuser once (it creates roles and functions owned by a role nobody
can become); run by anyone else before that, it stops with a message saying so.
On PostgreSQL 16 and later a CREATEROLE role manages only roles it has ADMIN OPTION on: the
groups (and logins made before this revision) are granted to ``gridhall_usermgr`` WITH ADMIN
OPTION, INHERIT FALSE, SET FALSE; on 15, CREATEROLE alone suffices and the functions' guards
are what keep it to GridHall's logins.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

from app.store.locks import plpgsql_role_defaults
from app.store.security import (
    ACCOUNTS_ROLE,
    ACCOUNTS_SCHEMA,
    GROUP_ROLES,
    LOGIN_PATTERN,
    LOGIN_PREFIX,
    OWNER_ROLE,
    group_role,
)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

USER_COLUMNS = ("id", "username", "display_name", "role", "department_id", "active", "failed_attempts",
                "locked", "phone", "created_at")
ADMIN_INSERT = ("username", "display_name", "role", "department_id", "active", "failed_attempts", "locked",
                "phone", "created_at")
ADMIN_UPDATE = ("display_name", "role", "department_id", "active", "failed_attempts", "locked", "phone")
API_FUNCTIONS = ("create_login(text, text, text)", "set_password(text, text)", "set_enabled(text, boolean)")
INTERNAL_FUNCTIONS = ("check_login(text)", "end_sessions(text)", "users_login_state()")
NO_HASH = "users_password_in_the_database"


def _spatialite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _scalar(sql: str) -> object:
    return op.get_bind().exec_driver_sql(sql).scalar()


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _groups() -> list[str]:
    return [group_role(r) for r in GROUP_ROLES]


def _groups_sql() -> str:
    return "ARRAY[" + ",".join(_lit(g) for g in _groups()) + "]::text[]"


def _require_superuser(what: str) -> None:
    op.execute(f"""
DO $$ BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user) THEN
    RAISE EXCEPTION '{what}需要 PostgreSQL 超级用户运行一次（它建立无人可以登录的角色 {OWNER_ROLE}、{ACCOUNTS_ROLE} 及其管理账户的函数）：'
      '请由 DBA 以超级用户执行 gridhall db upgrade（例如 sudo -u postgres gridhall db upgrade --db postgresql:///库名），见 docs/deploy.md'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$""")


def _functions(schema: str) -> list[str]:
    s, path = ACCOUNTS_SCHEMA, "SET search_path = pg_catalog, pg_temp"
    groups = _groups_sql()
    return [
        # A login these functions may touch: gh_…, no attribute beyond LOGIN, member of GridHall's
        # groups only (a gh_ role a superuser gave other powers stays the superuser's business).
        f"""
CREATE FUNCTION {s}.check_login(p_login text) RETURNS oid LANGUAGE plpgsql STABLE {path} AS $$
DECLARE r record;
BEGIN
  IF p_login IS NULL OR p_login !~ {_lit(LOGIN_PATTERN)} OR octet_length(p_login) > 63 THEN
    RAISE EXCEPTION 'gridhall_accounts: % is not a GridHall login (gh_ followed by a-z 0-9 _ . -)', quote_nullable(p_login)
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT oid, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls INTO r
    FROM pg_catalog.pg_roles WHERE rolname = p_login;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gridhall_accounts: login % does not exist', p_login USING ERRCODE = 'undefined_object';
  END IF;
  IF r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                 WHERE m.member = r.oid AND NOT (g.rolname = ANY({groups}))) THEN
    RAISE EXCEPTION 'gridhall_accounts: login % holds powers beyond the GridHall groups; only a superuser manages it', p_login
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN r.oid;
END $$""",
        f"""
CREATE FUNCTION {s}.end_sessions(p_login text) RETURNS integer LANGUAGE plpgsql {path} AS $$
DECLARE n integer := 0; p integer;
BEGIN
  FOR p IN SELECT a.pid FROM pg_catalog.pg_stat_activity a
            WHERE a.usename = p_login AND a.pid <> pg_catalog.pg_backend_pid() LOOP
    IF pg_catalog.pg_terminate_backend(p) THEN n := n + 1; END IF;
  END LOOP;
  RETURN n;
END $$""",
        f"""
CREATE FUNCTION {s}.create_login(p_login text, p_group text, p_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  IF p_login IS NULL OR p_login !~ {_lit(LOGIN_PATTERN)} OR octet_length(p_login) > 63 THEN
    RAISE EXCEPTION 'gridhall_accounts: % is not a GridHall login (gh_ followed by a-z 0-9 _ . -)', quote_nullable(p_login)
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_group IS NULL OR NOT (p_group = ANY({groups})) THEN
    RAISE EXCEPTION 'gridhall_accounts: % is not a GridHall group; a login joins one of %', quote_nullable(p_group), {groups}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_verifier IS NULL OR p_verifier !~ '^SCRAM-SHA-256\\$[0-9]+:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
    RAISE EXCEPTION 'gridhall_accounts: a password is accepted only as a SCRAM-SHA-256 verifier, never in clear'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = p_login) THEN
    RAISE EXCEPTION 'gridhall_accounts: login % already exists', p_login USING ERRCODE = 'duplicate_object';
  END IF;
  EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
                            'INHERIT PASSWORD %L IN ROLE %I', p_login, p_verifier, p_group);
  -- the lock, statement and idle limits of an application login (app.store.locks, migration 0008)
  {plpgsql_role_defaults("p_login")}
END $$""",
        f"""
CREATE FUNCTION {s}.set_password(p_login text, p_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  PERFORM {s}.check_login(p_login);
  IF p_verifier IS NULL OR p_verifier !~ '^SCRAM-SHA-256\\$[0-9]+:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
    RAISE EXCEPTION 'gridhall_accounts: a password is accepted only as a SCRAM-SHA-256 verifier, never in clear'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE pg_catalog.format('ALTER ROLE %I PASSWORD %L', p_login, p_verifier);
END $$""",
        # Disabling also ends the login's open sessions (in every database of the cluster).
        f"""
CREATE FUNCTION {s}.set_enabled(p_login text, p_enabled boolean) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  PERFORM {s}.check_login(p_login);
  IF p_enabled THEN
    EXECUTE pg_catalog.format('ALTER ROLE %I LOGIN', p_login);
    RETURN 0;
  END IF;
  EXECUTE pg_catalog.format('ALTER ROLE %I NOLOGIN', p_login);
  RETURN {s}.end_sessions(p_login);
END $$""",
        # users.active / users.locked decide whether the login may log in (AFTER UPDATE trigger).
        f"""
CREATE FUNCTION {s}.users_login_state() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE login text;
BEGIN
  IF TG_TABLE_SCHEMA <> {_lit(schema)} OR TG_TABLE_NAME <> 'users' OR TG_OP <> 'UPDATE'
     OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'ROW' THEN
    RAISE EXCEPTION 'gridhall_accounts.users_login_state() runs only as the AFTER UPDATE row trigger of {schema}.users, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  login := {_lit(LOGIN_PREFIX)} || NEW.username;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = login) THEN
    RETURN NULL;  -- an account without a database login (made before the hall had logins)
  END IF;
  PERFORM {s}.set_enabled(login, NEW.active IS NOT FALSE AND NEW.locked IS NOT TRUE);
  RETURN NULL;
END $$""",
    ]


def _own_everything(schema: str) -> None:
    """Every object of the schema (but PostGIS's, an extension's) owned by gridhall_owner."""
    op.execute(f"""
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid, c.relkind FROM pg_catalog.pg_class c
            WHERE c.relnamespace = {_lit(schema)}::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND c.relowner <> {_lit(OWNER_ROLE)}::regrole
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e') LOOP
    EXECUTE pg_catalog.format('ALTER %s %s OWNER TO {OWNER_ROLE}',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      r.oid::regclass);
  END LOOP;
  -- sequences not owned by a table's column (those followed their table)
  FOR r IN SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.relnamespace = {_lit(schema)}::regnamespace AND c.relkind = 'S'
              AND c.relowner <> {_lit(OWNER_ROLE)}::regrole
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i')) LOOP
    EXECUTE pg_catalog.format('ALTER SEQUENCE %s OWNER TO {OWNER_ROLE}', r.oid::regclass);
  END LOOP;
  FOR r IN SELECT p.oid FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = {_lit(schema)}::regnamespace AND p.proowner <> {_lit(OWNER_ROLE)}::regrole
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_proc'::regclass
                               AND d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE pg_catalog.format('ALTER ROUTINE %s OWNER TO {OWNER_ROLE}', r.oid::regprocedure);
  END LOOP;
  FOR r IN SELECT t.oid FROM pg_catalog.pg_type t
            WHERE t.typnamespace = {_lit(schema)}::regnamespace AND t.typowner <> {_lit(OWNER_ROLE)}::regrole
              AND (t.typtype IN ('e', 'd')
                   OR (t.typtype = 'c' AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c'))
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_type'::regclass
                               AND d.objid = t.oid AND d.deptype = 'e') LOOP
    EXECUTE pg_catalog.format('ALTER TYPE %s OWNER TO {OWNER_ROLE}', r.oid::regtype);
  END LOOP;
END $$""")


def _roles() -> None:
    # Roles are cluster-wide: another database of the cluster may have made them already.
    op.execute(f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {_lit(OWNER_ROLE)}) THEN
    CREATE ROLE {OWNER_ROLE} NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {_lit(ACCOUNTS_ROLE)}) THEN
    CREATE ROLE {ACCOUNTS_ROLE} NOLOGIN;
  END IF;
END $$""")
    # The owner of earlier documentation was a login with CREATEROLE: no more.
    op.execute(f"ALTER ROLE {OWNER_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
               "PASSWORD NULL")
    op.execute(f"ALTER ROLE {ACCOUNTS_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS "
               "INHERIT PASSWORD NULL")
    # Nobody can become the account manager: whoever was made a member is not any more.
    op.execute(f"""
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT m.member::regrole AS member FROM pg_catalog.pg_auth_members m
            WHERE m.roleid = {_lit(ACCOUNTS_ROLE)}::regrole LOOP
    EXECUTE pg_catalog.format('REVOKE {ACCOUNTS_ROLE} FROM %s CASCADE', r.member);
  END LOOP;
END $$""")
    op.execute(f"GRANT pg_signal_backend TO {ACCOUNTS_ROLE}")
    if int(str(_scalar("SHOW server_version_num"))) >= 160000:
        # 16+: CREATEROLE acts only on roles held WITH ADMIN OPTION (made by it, or granted here).
        for group in _groups():
            op.execute(f"GRANT {group} TO {ACCOUNTS_ROLE} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE")
        op.execute(f"""
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT DISTINCT u.rolname FROM pg_catalog.pg_roles u
             JOIN pg_catalog.pg_auth_members m ON m.member = u.oid
             JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
            WHERE left(u.rolname, {len(LOGIN_PREFIX)}) = {_lit(LOGIN_PREFIX)} AND NOT u.rolsuper
              AND g.rolname = ANY({_groups_sql()}) LOOP
    EXECUTE pg_catalog.format('GRANT %I TO {ACCOUNTS_ROLE} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE', r.rolname);
  END LOOP;
END $$""")


def upgrade() -> None:
    if _spatialite():
        return
    _require_superuser("升级到第 0007 版（数据库角色）")
    op.execute("SET LOCAL ROLE NONE")  # the superuser itself, whatever role the migration ran as
    schema = str(_scalar("SELECT current_schema()"))
    _roles()
    _own_everything(schema)
    op.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {OWNER_ROLE}")
    # Passwords: the login's SCRAM verifier only.
    op.execute("UPDATE users SET password_hash = NULL WHERE password_hash IS NOT NULL")
    op.execute(f"ALTER TABLE users ADD CONSTRAINT {NO_HASH} CHECK (password_hash IS NULL)")
    admin = group_role("admin")
    op.execute(f"REVOKE ALL ON users FROM {admin}")
    op.execute(f"GRANT SELECT ({', '.join(USER_COLUMNS)}) ON users TO {admin}")
    op.execute(f"GRANT INSERT ({', '.join(ADMIN_INSERT)}) ON users TO {admin}")
    op.execute(f"GRANT UPDATE ({', '.join(ADMIN_UPDATE)}) ON users TO {admin}")
    # The account functions, in a schema of a role nobody can become.
    op.execute(f"CREATE SCHEMA {ACCOUNTS_SCHEMA} AUTHORIZATION {ACCOUNTS_ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA {ACCOUNTS_SCHEMA} FROM PUBLIC")
    for sql in _functions(schema):
        op.execute(sql)
    for fn in (*API_FUNCTIONS, *INTERNAL_FUNCTIONS):
        op.execute(f"ALTER FUNCTION {ACCOUNTS_SCHEMA}.{fn} OWNER TO {ACCOUNTS_ROLE}")
        op.execute(f"REVOKE ALL ON FUNCTION {ACCOUNTS_SCHEMA}.{fn} FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA {ACCOUNTS_SCHEMA} TO {admin}")
    for fn in API_FUNCTIONS:
        op.execute(f"GRANT EXECUTE ON FUNCTION {ACCOUNTS_SCHEMA}.{fn} TO {admin}")
    op.execute(f"CREATE TRIGGER users_login_state AFTER UPDATE OF active, locked ON users FOR EACH ROW "
               f"WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.locked IS DISTINCT FROM NEW.locked) "
               f"EXECUTE FUNCTION {ACCOUNTS_SCHEMA}.users_login_state()")
    # The logins of users already disabled or locked may not log in either.
    op.execute(f"""
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT {_lit(LOGIN_PREFIX)} || u.username AS login FROM users u
            WHERE (u.active IS FALSE OR u.locked IS TRUE)
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {_lit(LOGIN_PREFIX)} || u.username) LOOP
    PERFORM {ACCOUNTS_SCHEMA}.set_enabled(r.login, false);
  END LOOP;
END $$""")
    # The later revisions of this run create their objects as the owner too.
    op.execute(f"SET LOCAL ROLE {OWNER_ROLE}")


def downgrade() -> None:
    if _spatialite():
        return
    _require_superuser("降级第 0007 版（数据库角色）")
    op.execute("SET LOCAL ROLE NONE")
    schema = str(_scalar("SELECT current_schema()"))
    op.execute("DROP TRIGGER IF EXISTS users_login_state ON users")
    op.execute(f"DROP SCHEMA IF EXISTS {ACCOUNTS_SCHEMA} CASCADE")
    op.execute(f"ALTER TABLE users DROP CONSTRAINT IF EXISTS {NO_HASH}")
    admin = group_role("admin")
    op.execute(f"REVOKE ALL ON users FROM {admin}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON users TO {admin}")
    op.execute(f"REVOKE CREATE ON SCHEMA {schema} FROM {OWNER_ROLE}")
    # The objects stay owned by gridhall_owner and the roles stay (cluster-wide; other
    # databases may use them). The argon2 hashes are gone: passwords stay the logins'.
