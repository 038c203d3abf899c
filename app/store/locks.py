"""No login can freeze the hall (PostGIS): session time limits, and releasing a blocker on a lock timeout.

Three limits apply to every application login (a member of a ``gridhall_<role>`` group, not a
superuser, not the schema's owner):

- ``lock_timeout`` (:data:`LOCK_TIMEOUT`): a statement waits at most this long for a lock;
- ``statement_timeout`` (:data:`STATEMENT_TIMEOUT`): a statement runs at most this long;
- ``idle_in_transaction_session_timeout`` (:data:`IDLE_IN_TRANSACTION_TIMEOUT`): a session left
  idle inside a transaction is ended after this long.

They are set twice: as the login's defaults in the database (``ALTER ROLE … IN DATABASE … SET``:
migration 0008 for existing logins, :func:`role_defaults_sql` / :func:`plpgsql_role_defaults`
where logins are created) and by the client on every new connection
(:func:`install_session_limits`, called by ``engine.open_store``). Owners, superusers and
other logins (migrations, the demo's bulk writer) are left alone.

A hostile login can set its own limits to 0 and hold a row lock (or the audit chain's lock)
in an idle transaction. The others then hit their ``lock_timeout`` (SQLSTATE 55P03) and call
``gridhall_release_blockers()`` (migration 0008, SECURITY DEFINER): it ends the application
sessions that have held a transaction with locks for longer than ``RELEASE_AFTER_S`` seconds
and are not themselves waiting for a lock (for less than ``RELEASE_WAITING_AFTER_S``: no
application login's own limit lets it wait that long), and records each in ``lock_releases``.
:func:`run_releasing` wraps an operation: on a lock timeout it calls the release function once
and runs the operation again. ``RELEASE_AFTER_S`` is below the lock timeout, so whoever made a
statement wait that long already qualifies at the first call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from app.domain.messages import Msg
from app.store.errors import DatabaseRefused

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from app.store.engine import Store

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Limits of an application login's session (PostgreSQL interval syntax).
LOCK_TIMEOUT = "5s"
STATEMENT_TIMEOUT = "1min"
IDLE_IN_TRANSACTION_TIMEOUT = "1min"
TIMEOUTS: tuple[tuple[str, str], ...] = (
    ("lock_timeout", LOCK_TIMEOUT),
    ("statement_timeout", STATEMENT_TIMEOUT),
    ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION_TIMEOUT),
)
#: A session holding locks in a transaction older than this is ended by the release function.
RELEASE_AFTER_S = 4
#: … unless it is waiting for a lock itself (a victim), for less than this (twice the lock timeout).
RELEASE_WAITING_AFTER_S = 10
#: SQLSTATE lock_not_available: the statement waited ``lock_timeout`` for a lock.
LOCK_NOT_AVAILABLE = "55P03"
RELEASE_FUNCTION = "gridhall_release_blockers"
RELEASE_SQL = f"SELECT {RELEASE_FUNCTION}()"


class HallLocked(DatabaseRefused):
    """Still locked after releasing the blockers: the operation was not carried out."""


def application_groups() -> list[str]:
    """The names of the GridHall group roles (``gridhall_acceptor`` …) and the Open311 server's
    ``gridhall_open311`` (no longer a member of the acceptors' group since migration 0026)."""
    from app.store.security import GROUP_PREFIX, GROUP_ROLES, group_role

    return [*(group_role(r) for r in GROUP_ROLES), GROUP_PREFIX + "open311"]


# --- limits set on the client's connections --------------------------------------------------

# Only for application logins, and never loosening a stricter limit the DBA set.
_SESSION_LIMITS_SQL = """
SELECT {sets}
 WHERE NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user)
   AND NOT pg_catalog.pg_has_role(session_user, 'pg_database_owner', 'MEMBER')
   AND NOT coalesce(pg_catalog.pg_has_role(session_user, (SELECT relowner FROM pg_catalog.pg_class
                     WHERE oid = pg_catalog.to_regclass('case_events')), 'MEMBER'), false)
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
                WHERE g.rolname = ANY(%(groups)s) AND pg_catalog.pg_has_role(session_user, g.oid, 'MEMBER'))
"""
_SET_ONE = ("CASE WHEN pg_catalog.current_setting('{name}')::interval = '0'::interval "
            "OR pg_catalog.current_setting('{name}')::interval > '{value}'::interval "
            "THEN pg_catalog.set_config('{name}', '{value}', false) END")
SESSION_LIMITS_SQL = _SESSION_LIMITS_SQL.format(
    sets=", ".join(_SET_ONE.format(name=n, value=v) for n, v in TIMEOUTS))


def apply_session_limits(dbapi_conn: Any) -> bool:
    """Set :data:`TIMEOUTS` on a psycopg2 connection of an application login; True when set.

    Committed at once (a rolled-back SET would be undone); on an autocommit connection the
    statement is its own transaction.
    """
    import psycopg2

    try:
        with dbapi_conn.cursor() as cur:
            cur.execute(SESSION_LIMITS_SQL, {"groups": application_groups()})
            done = cur.fetchone() is not None
        if not dbapi_conn.autocommit:
            dbapi_conn.commit()
        return done
    except psycopg2.Error as exc:  # never stop a connection over this: the role defaults still apply
        log.warning("could not set the session's lock and statement limits: %s", str(exc).strip())
        if not dbapi_conn.autocommit and not dbapi_conn.closed:
            dbapi_conn.rollback()
        return False


def install_session_limits(engine: Engine) -> None:
    """Apply :func:`apply_session_limits` to every new connection of ``engine`` (PostGIS)."""
    from sqlalchemy import event

    event.listen(engine, "connect", lambda dbapi_conn, _record: apply_session_limits(dbapi_conn))


# --- the logins' own defaults -------------------------------------------------------------------

def role_defaults_sql(login: str, database: str | None = None) -> list[Any]:
    """``ALTER ROLE login [IN DATABASE database] SET …`` for :data:`TIMEOUTS` (psycopg2 ``sql`` objects).

    Run by whoever creates logins (a CREATEROLE role or a superuser) right after CREATE ROLE.
    """
    from psycopg2 import sql

    where = sql.SQL(" IN DATABASE {}").format(sql.Identifier(database)) if database else sql.SQL("")
    return [sql.SQL("ALTER ROLE {}{} SET {} = {}").format(sql.Identifier(login), where, sql.Identifier(name),
                                                          sql.Literal(value))
            for name, value in TIMEOUTS]


def plpgsql_role_defaults(login: str, database: str | None = "pg_catalog.current_database()") -> str:
    """PL/pgSQL statements setting :data:`TIMEOUTS` as the defaults of the login held in the
    expression ``login`` (e.g. a parameter name), in the database ``database`` (an expression;
    None: in every database). For a function that creates logins (``gridhall_accounts``)."""
    where = " IN DATABASE %I" if database else ""
    db_arg = f", {database}" if database else ""
    return "\n".join(
        f"EXECUTE pg_catalog.format('ALTER ROLE %I{where} SET {name} = %L', {login}{db_arg}, '{value}');"
        for name, value in TIMEOUTS)


def set_role_defaults(store: Store, login: str) -> bool:
    """Give an existing login :data:`TIMEOUTS` as its defaults in ``store``'s database; False on SpatiaLite."""
    if store.backend != "postgis":
        return False
    with store.engine.begin() as conn:
        raw: Any = conn.connection.dbapi_connection  # psycopg2's connection
        with raw.cursor() as cur:
            for statement in role_defaults_sql(login, store.url.database):
                cur.execute(statement)
    return True


# --- the release path -------------------------------------------------------------------------

def is_lock_timeout(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it was raised from) is PostgreSQL's lock timeout (55P03)."""
    seen = 0
    while exc is not None and seen < 8:
        orig = getattr(exc, "orig", None) or exc
        if getattr(orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def release_on(dbapi_conn: Any) -> int:
    """Call the release function on a psycopg2 connection (not inside a failed transaction);
    the number of sessions it ended (0 when the function is missing: an older schema)."""
    import psycopg2

    try:
        with dbapi_conn.cursor() as cur:
            cur.execute(RELEASE_SQL)
            ended = int(cur.fetchone()[0] or 0)
        if not dbapi_conn.autocommit:
            dbapi_conn.commit()
    except psycopg2.Error as exc:
        if not dbapi_conn.autocommit and not dbapi_conn.closed:
            dbapi_conn.rollback()
        log.warning("releasing the sessions that block this one failed: %s", str(exc).strip())
        return 0
    if ended:
        log.warning("ended %d database session(s) that held locks in an idle or overlong transaction", ended)
    return ended


def release_blockers(store: Store) -> int:
    """Ask the database to end the sessions freezing the hall (see the module); 0 on SpatiaLite."""
    if store.backend != "postgis":
        return 0
    with store.engine.connect() as conn:
        return release_on(conn.connection.dbapi_connection)


def run_releasing(store: Store, operation: Callable[[], T]) -> T:
    """Run ``operation``; after a lock timeout release the blockers once and run it again.

    ``operation`` must be a whole transaction (it was rolled back when the timeout struck, so
    running it again is safe). A second lock timeout raises :class:`HallLocked`.
    """
    try:
        return operation()
    except Exception as exc:
        if store.backend != "postgis" or not is_lock_timeout(exc):
            raise
        first = exc
    release_blockers(store)
    try:
        return operation()
    except Exception as exc:
        if not is_lock_timeout(exc):
            raise
        raise HallLocked(Msg("数据库中的数据被其他会话锁住，等待 {timeout} 后仍未释放（已请求数据库结束占用的会话）；"
                             "本次操作未写入任何数据，请稍后重试", timeout=LOCK_TIMEOUT)) from first


__all__ = [
    "IDLE_IN_TRANSACTION_TIMEOUT", "LOCK_NOT_AVAILABLE", "LOCK_TIMEOUT", "RELEASE_AFTER_S", "RELEASE_FUNCTION",
    "RELEASE_WAITING_AFTER_S",
    "RELEASE_SQL", "STATEMENT_TIMEOUT", "TIMEOUTS", "HallLocked", "application_groups", "apply_session_limits",
    "install_session_limits", "is_lock_timeout", "plpgsql_role_defaults", "release_blockers", "release_on",
    "role_defaults_sql", "run_releasing", "set_role_defaults",
]
