"""The video wall's own database role on PostGIS: it reads what the wall shows and nothing else.

``gridhall_wall`` is a NOLOGIN group, like the groups of migration 0002, but of a program, not
of a person. A wall login ``gh_<name>`` (``gridhall wall --add-login NAME``, through the account
functions of migration 0007) is its only kind of member. It has no ``users`` row: the wall never
opens the desk and never records an event. The group gets:

- ``USAGE`` on the schema and ``SELECT`` on :data:`WALL_TABLES` only: the tables the wall's reads
  use (``app/store/wall.py``, the open cases of ``StoreCaseSource``, the map's layers, the working
  calendar). It gets no ``users``, attachments, claims or search index; of ``cases`` and
  ``case_events`` not the columns of :data:`WALL_HIDDEN` (reporters, reasons, payloads), of the
  configuration history not the account changes (:data:`WALL_ROWS`, migration 0026).
- A permissive ``SELECT`` policy ``gridhall_wall_reads`` (``USING (true)``) on each of those tables
  with row-level security: the wall sees every case of the city.
- No ``INSERT``, ``UPDATE``, ``DELETE``, ``TRUNCATE``, sequence or function privilege. It needs
  none to ``LISTEN`` (PostgreSQL asks no privilege for that). ``open_wall_store`` also makes
  each of its transactions ``READ ONLY``.
- Acceptance by the account functions: the list of GridHall groups in
  ``gridhall_accounts.create_login`` and ``check_login`` gains ``gridhall_wall``. Their
  *current* bodies are rewritten, as migration 0010 does for its guards, so nothing is copied.
  On PostgreSQL 16+ the group is also granted to ``gridhall_usermgr`` WITH ADMIN OPTION.

:func:`sync_wall_role` is idempotent. Migration 0020 runs it on a fresh store. ``gridhall db
upgrade`` and ``db init`` run it on every PostGIS store (``app.store.commands``). That covers
stores that passed 0020 while 0020 was an empty placeholder: Alembic never re-runs a revision.
When everything is in place it changes nothing. When something is missing it needs a superuser
(it creates a cluster-wide role and rewrites functions of a role nobody can become). Run by
anyone else, it warns and leaves the store as it was.

On SpatiaLite there are no roles: the wall opens the file ``mode=ro`` with ``PRAGMA query_only``
(``app.store.wall.open_wall_store``), so the wall process cannot write it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

#: The wall's group role (cluster-wide, like every GridHall group).
WALL_GROUP = "gridhall_wall"
#: Its row-level-security policy on each table it reads that has row-level security.
WALL_POLICY = "gridhall_wall_reads"
#: Every table the wall reads (figures, open cases, map layers, calendar, the stale ping, the schema revision).
WALL_TABLES = ("cases", "case_events", "categories", "departments", "unit_grids", "admin_areas", "audit_head",
               "roads", "components", "calendar_days", "calendar_years", "statutory_days", "config_changes",
               "time_limits", "alembic_version")
#: Columns of those tables the wall never reads (people's data: the reporter, the free text and
#: payloads of events, where an edit carries the old and new phone); it gets the others column by column.
WALL_HIDDEN = {"cases": ("reporter_name", "reporter_phone"), "case_events": ("reason", "payload")}
#: Rows the wall's policy leaves out (the configuration history's account changes, migration 0026).
WALL_ROWS = {"config_changes": "entity <> 'user'"}
#: The account functions whose list of GridHall groups must name the wall's group.
ACCOUNT_FUNCTIONS = ("check_login(text)", "create_login(text,text,text)")
_GROUP_ARRAY = re.compile(r"ARRAY\[((?:'gridhall_[a-z0-9_]+'\s*,\s*)*'gridhall_[a-z0-9_]+')\]::text\[\]")


def _exec(conn: Connection, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the raw psycopg2 cursor: function bodies with % need no escaping."""
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute(sql, args) if args else cur.execute(sql)
        return cur.fetchall() if cur.description else []


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _schema(conn: Connection) -> str:
    return str(_exec(conn, "SELECT current_schema()")[0][0])


def _tables(conn: Connection) -> list[tuple[str, bool]]:
    """(table, has row-level security) of the wall's tables that exist in this store."""
    rows = _exec(conn, "SELECT c.relname, c.relrowsecurity FROM pg_catalog.pg_class c "
                       "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
                       "AND c.relname = ANY(%s)", (list(WALL_TABLES),))
    return sorted((str(r[0]), bool(r[1])) for r in rows)


def _with_wall(body: str) -> str:
    """``body`` with ``'gridhall_wall'`` added to each of its arrays of GridHall groups."""
    def add(match: re.Match[str]) -> str:
        items = match.group(1)
        if _lit(WALL_GROUP) in items:
            return match.group(0)
        return f"ARRAY[{items},{_lit(WALL_GROUP)}]::text[]"
    return _GROUP_ARRAY.sub(add, body)


def _without_wall(body: str) -> str:
    return re.sub(r"\s*,\s*'gridhall_wall'(?=[\],])", "", body)


def _account_definitions(conn: Connection) -> list[tuple[str, str]]:
    """(signature, CREATE OR REPLACE text) of the account functions that exist."""
    from app.store.security import ACCOUNTS_SCHEMA

    out = []
    for signature in ACCOUNT_FUNCTIONS:  # from the catalog: a DBA without USAGE on the schema may look too
        name, args = signature.rstrip(")").split("(")
        rows = _exec(conn, "SELECT pg_get_functiondef(p.oid) FROM pg_catalog.pg_proc p "
                           "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                           "WHERE n.nspname = %s AND p.proname = %s AND array_to_string(p.proargtypes::oid[]::regtype[], ',') = %s",
                     (ACCOUNTS_SCHEMA, name, args))
        if rows:
            out.append((signature, str(rows[0][0])))
    return out


def wall_role_missing(conn: Connection) -> list[str]:
    """What the wall's role lacks in this store (empty: complete). PostgreSQL only."""
    if not _exec(conn, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (WALL_GROUP,)):
        return [f"role {WALL_GROUP}"]
    missing = []
    if not _exec(conn, "SELECT has_schema_privilege(%s, current_schema(), 'USAGE')", (WALL_GROUP,))[0][0]:
        missing.append("schema usage")
    for table, rls in _tables(conn):
        if not _exec(conn, "SELECT has_any_column_privilege(%s, %s::regclass, 'SELECT')", (WALL_GROUP, table))[0][0] \
                or any(_exec(conn, "SELECT has_column_privilege(%s, %s::regclass, %s, 'SELECT')",
                             (WALL_GROUP, table, column))[0][0] for column in WALL_HIDDEN.get(table, ())):
            missing.append(f"SELECT on {table}")
        if rls and not _exec(conn, "SELECT 1 FROM pg_catalog.pg_policies WHERE schemaname = current_schema() "
                                   "AND tablename = %s AND policyname = %s", (table, WALL_POLICY)):
            missing.append(f"policy on {table}")
    for signature, definition in _account_definitions(conn):
        if _with_wall(definition) != definition:
            missing.append(f"gridhall_accounts.{signature}")
    return missing


def _is_superuser(conn: Connection) -> bool:
    return bool(_exec(conn, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user")[0][0])


class _AsSessionUser:
    """``SET LOCAL ROLE NONE`` for a block (a migration may run as the schema's owner), then back."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.current = str(_exec(conn, "SELECT current_user")[0][0])

    def __enter__(self) -> None:
        _exec(self.conn, "SET LOCAL ROLE NONE")

    def __exit__(self, *_exc: object) -> None:
        from psycopg2 import sql

        raw: Any = self.conn.connection.dbapi_connection
        if raw.closed or raw.get_transaction_status() == 3:  # failed transaction: it rolls back anyway
            return
        if self.current != str(_exec(self.conn, "SELECT session_user")[0][0]):
            with raw.cursor() as cur:
                cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(self.current)))


def sync_wall_role(conn: Connection) -> bool:
    """Give the store the wall's role as the module says; whether anything was changed.

    A no-op on SpatiaLite and when nothing is missing. Something missing and no superuser: a
    warning saying who must run ``gridhall db upgrade``, and nothing changed.
    """
    if conn.dialect.name != "postgresql":
        return False
    missing = wall_role_missing(conn)
    if not missing:
        return False
    if not _is_superuser(conn):
        log.warning("大屏只读角色 %s 不完整（缺少：%s）：请由 DBA 以超级用户运行一次 gridhall db upgrade "
                    "（例如 sudo -u postgres gridhall db upgrade --db postgresql:///库名）", WALL_GROUP,
                    "、".join(missing))
        return False
    from app.store.security import ACCOUNTS_ROLE

    with _AsSessionUser(conn):
        _exec(conn, f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {_lit(WALL_GROUP)}) THEN
    BEGIN
      CREATE ROLE {WALL_GROUP} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- created concurrently
    END;
  END IF;
END $$""")
        _exec(conn, f"ALTER ROLE {WALL_GROUP} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    "NOBYPASSRLS NOINHERIT")
        schema = _schema(conn)
        _exec(conn, f'GRANT USAGE ON SCHEMA "{schema}" TO {WALL_GROUP}')
        # A clean slate in this schema, then exactly the wall's reads.
        _exec(conn, f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {WALL_GROUP}')
        _exec(conn, f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {WALL_GROUP}')
        for table, rls in _tables(conn):
            if table in WALL_HIDDEN:
                columns = [str(r[0]) for r in _exec(conn, "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = "
                                                          "%s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                                                    (table,)) if r[0] not in WALL_HIDDEN[table]]
                _exec(conn, f'GRANT SELECT ({", ".join(chr(34) + c + chr(34) for c in columns)}) ON "{table}" TO {WALL_GROUP}')
            else:
                _exec(conn, f'GRANT SELECT ON "{table}" TO {WALL_GROUP}')
            if rls:
                _exec(conn, f'DROP POLICY IF EXISTS {WALL_POLICY} ON "{table}"')
                _exec(conn, f'CREATE POLICY {WALL_POLICY} ON "{table}" AS PERMISSIVE FOR SELECT '
                            f"TO {WALL_GROUP} USING ({WALL_ROWS.get(table, 'true')})")
        for _signature, definition in _account_definitions(conn):
            changed = _with_wall(definition)
            if changed != definition:
                _exec(conn, changed)
        if int(str(_exec(conn, "SHOW server_version_num")[0][0])) >= 160000:
            # 16+: CREATEROLE acts only on roles held WITH ADMIN OPTION (migration 0007)
            _exec(conn, f"GRANT {WALL_GROUP} TO {ACCOUNTS_ROLE} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE")
    log.info("已建立或补全大屏只读角色 %s（%s）", WALL_GROUP, "、".join(missing))
    return True


def drop_wall_role(conn: Connection) -> None:
    """Undo :func:`sync_wall_role` in this store (migration 0020's downgrade; a superuser).

    The cluster-wide group itself is dropped only while no login belongs to it and no other
    database of the cluster still grants it anything."""
    if conn.dialect.name != "postgresql":
        return
    if not _exec(conn, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (WALL_GROUP,)):
        return
    with _AsSessionUser(conn):
        schema = _schema(conn)
        for table, rls in _tables(conn):
            if rls:
                _exec(conn, f'DROP POLICY IF EXISTS {WALL_POLICY} ON "{table}"')
        _exec(conn, f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {WALL_GROUP}')
        _exec(conn, f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {WALL_GROUP}')
        _exec(conn, f'REVOKE ALL ON SCHEMA "{schema}" FROM {WALL_GROUP}')
        for _signature, definition in _account_definitions(conn):
            changed = _without_wall(definition)
            if changed != definition:
                _exec(conn, changed)
        _exec(conn, f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.member
                  WHERE m.roleid = {_lit(WALL_GROUP)}::regrole AND r.rolcanlogin) THEN
    BEGIN
      DROP ROLE {WALL_GROUP};
    EXCEPTION WHEN dependent_objects_still_exist THEN NULL;  -- still granted in another database
    END;
  END IF;
END $$""")


__all__ = ["ACCOUNT_FUNCTIONS", "WALL_GROUP", "WALL_HIDDEN", "WALL_POLICY", "WALL_ROWS", "WALL_TABLES", "drop_wall_role",
           "sync_wall_role",
           "wall_role_missing"]
