"""Database logins and group roles on PostGIS: the accounts the database itself enforces.

Every GridHall user on a shared PostGIS store is a PostgreSQL login ``gh_<username>``
(the prefix keeps cluster-wide role names apart from ``postgres``, the DBA's own login and
the group roles), member of exactly one NOLOGIN group ``gridhall_<role>`` that carries the
privileges, the row-level security and the workflow checks of migration 0002. On SpatiaLite
(one file, one user) there are no logins: every function here is a no-op returning False.

Passwords never reach the server, a log or an exception in clear: the client computes the
SCRAM-SHA-256 verifier (libpq's PQencryptPasswordConn) and sends only that. The verifier is the
only password on PostGIS (``users.password_hash`` stays NULL there).

No login holds CREATEROLE (migration 0007): logins are created, given a password, disabled and
enabled only through the SECURITY DEFINER functions of the schema ``gridhall_accounts``, owned
by the NOLOGIN role ``gridhall_usermgr`` that nobody can become, EXECUTE granted to
``gridhall_admin`` (and superusers). The schema's objects belong to the NOLOGIN ``gridhall_owner``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.orm import Session

from app.domain.definitions import CaseState, Role
from app.domain.messages import Msg
from app.domain.workflow import REQUEST_ACTIONS, REQUEST_STATES, TRANSITIONS, WORKFLOW, Relative
from app.store.engine import Store
from app.store.errors import StoreError

if TYPE_CHECKING:  # imported where used: SpatiaLite-only runs never load psycopg2
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.sql import Composable

log = logging.getLogger(__name__)

GROUP_PREFIX = "gridhall_"
LOGIN_PREFIX = "gh_"
#: What a login name these functions accept looks like (the username rules of app.services.users).
LOGIN_PATTERN = "^gh_[a-z0-9][a-z0-9_.-]*$"
#: The NOLOGIN owner of the schema's objects (the DBA's login is a member; migrations SET ROLE to it).
OWNER_ROLE = "gridhall_owner"
#: The NOLOGIN role with CREATEROLE that owns the account functions; it has no member.
ACCOUNTS_ROLE = "gridhall_usermgr"
#: The schema of the account functions (owned by ACCOUNTS_ROLE).
ACCOUNTS_SCHEMA = "gridhall_accounts"
#: Roles that act on cases; analysts only read, administrators configure.
OPERATIONAL_ROLES = (Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER, Role.SUPERVISOR,
                     Role.DEPARTMENT, Role.LEADER)
#: Every role that maps to a database group (``system`` is the database owner itself).
GROUP_ROLES = (*OPERATIONAL_ROLES, Role.ANALYST, Role.ADMIN)
#: Actions the application records as 系统 inside an operator's transaction (automatic replies).
SYSTEM_ACTIONS_FOR_LOGINS = ("reply",)
SPATIALITE_NOTE = "SpatiaLite 库没有数据库登录账户：账户只在 users 表中，未做任何数据库操作"

Target = Store | Connection | Session


class SecurityError(StoreError):
    """A login operation was refused; the message says why and what to do (zh_CN)."""


def group_role(role: Role | str) -> str:
    """The NOLOGIN group role of ``role``, e.g. ``gridhall_dispatcher`` (``"wall"``: the wall's, 0020)."""
    if not isinstance(role, Role) and str(role) == "wall":  # a program's group: no users row (app.store.wall_role)
        return GROUP_PREFIX + "wall"
    parsed = role if isinstance(role, Role) else Role.parse(str(role))
    if parsed not in GROUP_ROLES:
        raise SecurityError(Msg("角色“{role}”（{label}）没有对应的数据库组角色；可选：{choices}",
                                role=parsed.value, label=parsed,
                                choices=[r.value for r in GROUP_ROLES]))
    return GROUP_PREFIX + parsed.value


def login_name(username: str) -> str:
    """The PostgreSQL login of a GridHall user: ``gh_`` + username."""
    name = (username or "").strip().lower()
    if not name:
        raise SecurityError(Msg("用户名不能为空"))
    if len((LOGIN_PREFIX + name).encode()) > 63:
        raise SecurityError(Msg("用户名“{name}”太长：数据库登录名 {login_prefix}{name} 超过 63 字节",
                                name=name, login_prefix=LOGIN_PREFIX))
    return LOGIN_PREFIX + name


def username_of_login(login: str) -> str:
    """The GridHall username of a login (the login itself when it lacks the ``gh_`` prefix)."""
    return login[len(LOGIN_PREFIX):] if login.startswith(LOGIN_PREFIX) else login


def login_url(url: str, username: str) -> str:
    """``url`` with the user's login and no password (libpq then reads ~/.pgpass)."""
    from sqlalchemy.engine import URL, make_url

    u = make_url(url)
    return URL.create(u.drivername, username=login_name(username), host=u.host, port=u.port,
                      database=u.database, query=u.query).render_as_string(hide_password=False)


# --- the state machine as rows (migration 0002 loads them into workflow_transitions) --------

def workflow_rows() -> list[tuple[str, str | None, str, str, bool, str | None]]:
    """(action, from_state, to_state, role, needs_reason, relative) for every allowed step.

    ``Relative.SAME`` becomes from = to; ``Relative.PREVIOUS`` one row per possible origin
    (the trigger then checks the actual origin from the case's history).
    """
    rows: set[tuple[str, str | None, str, str, bool, str | None]] = set()
    for t in TRANSITIONS:
        for src in t.from_states:
            src_value = None if src is None else src.value
            targets: list[CaseState]
            if t.to_state is Relative.SAME:
                assert src is not None  # a relative target needs a state to start from
                targets, relative = [src], "same"
            elif t.to_state is Relative.PREVIOUS:
                assert src is not None
                targets, relative = sorted(WORKFLOW.request_origins(src)), "previous"
            else:
                targets, relative = [t.to_state], None
            for dst in targets:
                for role in t.roles:
                    rows.add((t.action.value, src_value, dst.value, role.value, t.needs_reason, relative))
    return sorted(rows, key=lambda r: (r[0], r[1] or "", r[2], r[3]))


def request_lists() -> tuple[list[str], list[str]]:
    """(request actions, request states) as stored values, for the request-origin check."""
    return sorted(a.value for a in REQUEST_ACTIONS), sorted(s.value for s in REQUEST_STATES)


def sync_workflow_table(conn: Connection) -> int:
    """Replace the rows of ``workflow_transitions`` by the Python table; returns the count."""
    rows = workflow_rows()
    conn.execute(text("DELETE FROM workflow_transitions"))
    conn.execute(text("INSERT INTO workflow_transitions (action, from_state, to_state, role, needs_reason, "
                      "relative) VALUES (:a, :f, :t, :r, :n, :rel)"),
                 [{"a": a, "f": f, "t": t, "r": r, "n": n, "rel": rel} for a, f, t, r, n, rel in rows])
    return len(rows)


# --- logins ---------------------------------------------------------------------------------

def _backend(target: Target) -> str:
    if isinstance(target, Store):
        return target.backend
    bind = target.get_bind() if isinstance(target, Session) else target
    return "spatialite" if bind.dialect.name == "sqlite" else "postgis"


@contextmanager
def _connection(target: Target) -> Iterator[Connection]:
    """A connection in a transaction: the caller's own (Session/Connection) or a new one."""
    if isinstance(target, Store):
        with target.engine.begin() as conn:
            yield conn
    elif isinstance(target, Session):
        yield target.connection()
    else:
        yield target


def _raw(conn: Connection) -> PgConnection:
    """The psycopg2 connection under ``conn`` (only PostgreSQL connections get here)."""
    return cast("PgConnection", conn.connection.dbapi_connection)


def _cursor_exec(conn: Connection, query: str | Composable, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    # psycopg2's sql module quotes identifiers and literals; SQLAlchemy's text() cannot bind DDL.
    raw = _raw(conn)
    with raw.cursor() as cur:
        cur.execute(query, args or None)
        return cur.fetchall() if cur.description else []


def _no_op(target: Target, what: str) -> bool:
    if _backend(target) == "spatialite":
        log.info("%s：%s", what, SPATIALITE_NOTE)
        return True
    return False


def _verifier(conn: Connection, login: str, password: str) -> str:
    from psycopg2.extensions import encrypt_password

    if not isinstance(password, str) or not password:
        raise SecurityError(Msg("数据库登录密码不能为空"))
    return encrypt_password(password, login, _raw(conn), "scram-sha-256")


def _exists(conn: Connection, login: str) -> bool:
    return bool(_cursor_exec(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)))


def _require(conn: Connection, login: str, username: str) -> None:
    if not _exists(conn, login):
        raise SecurityError(Msg("数据库中没有用户“{username}”的登录账户（{login}）；先用 gridhall user add 建立账户",
                                username=username, login=login))


def login_exists(target: Target, username: str) -> bool:
    """Whether the login of ``username`` exists (always False on SpatiaLite)."""
    if _no_op(target, "查询登录账户"):
        return False
    with _connection(target) as conn:
        return _exists(conn, login_name(username))


NO_ACCOUNT_RIGHTS = Msg("当前数据库账户无权管理数据库登录：请用管理员（{group} 组成员）的登录运行 gridhall user …，"
                        "第一次设置时用超级用户", group=GROUP_PREFIX + Role.ADMIN.value)


def _call(conn: Connection, function: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run ``gridhall_accounts.<function>(args)``; a refusal becomes a SecurityError."""
    import psycopg2
    from psycopg2 import sql

    query = sql.SQL("SELECT {}.{}({})").format(sql.Identifier(ACCOUNTS_SCHEMA), sql.Identifier(function),
                                               sql.SQL(", ").join(sql.Placeholder() * len(args)))
    try:
        return _cursor_exec(conn, query, args)
    except psycopg2.Error as exc:
        if exc.pgcode == "42501" and "gridhall_accounts:" not in str(exc):  # no EXECUTE / USAGE
            raise SecurityError(NO_ACCOUNT_RIGHTS) from None
        if exc.pgcode in ("42501", "42704", "22023", "42710"):  # the functions' own refusals
            first = (exc.diag.message_primary or str(exc)).strip()
            raise SecurityError(Msg("数据库拒绝了这次登录管理操作：{error}", error=first)) from None
        raise


def create_login(target: Target, username: str, role: Role | str, password: str,
                 department_id: int | None = None) -> bool:
    """Create the login gh_<username> in the group of ``role``; False on SpatiaLite.

    A 专业部门操作员 needs ``department_id``; the department the database enforces is the
    one of the ``users`` row of the same name (checked to agree when both exist). Runs
    ``gridhall_accounts.create_login`` (an administrator's login or a superuser).
    """
    if _no_op(target, "创建登录账户"):
        return False
    login = login_name(username)
    group = group_role(role)
    if group == GROUP_PREFIX + Role.DEPARTMENT.value and department_id is None:
        raise SecurityError(Msg("专业部门操作员的数据库登录必须绑定部门：请给出部门（--department）"))
    with _connection(target) as conn:
        if _exists(conn, login):
            raise SecurityError(Msg("数据库登录名 {login} 已存在（登录名在整个 PostgreSQL 服务器内唯一，可能被另一个库使用）；请换一个用户名，或先删除旧登录",
                                    login=login))
        if not _exists(conn, group):
            raise SecurityError(Msg("组角色 {group} 不存在：数据库尚未初始化安全设置，请先运行 gridhall db upgrade", group=group))
        if department_id is not None:
            row = _cursor_exec(conn, "SELECT department_id FROM users WHERE username = %s",
                               (username_of_login(login),))
            if row and row[0][0] is not None and row[0][0] != department_id:
                raise SecurityError(Msg("用户“{username}”在 users 表中属于部门 {current}，与给出的部门 {department_id} 不一致",
                                        username=username, current=row[0][0], department_id=department_id))
        _call(conn, "create_login", login, group, _verifier(conn, login, password))
    log.info("已创建数据库登录 %s（%s）", login, group)
    return True


def set_login_password(target: Target, username: str, password: str) -> bool:
    """Give the login a new password (sent as a SCRAM verifier); False on SpatiaLite.

    A login changes its own password itself (ALTER ROLE on oneself needs no privilege); any
    other login's goes through ``gridhall_accounts.set_password`` (administrators).
    """
    if _no_op(target, "修改登录密码"):
        return False
    from psycopg2 import sql

    login = login_name(username)
    with _connection(target) as conn:
        _require(conn, login, username)
        verifier = _verifier(conn, login, password)
        if _cursor_exec(conn, "SELECT session_user")[0][0] == login:
            _cursor_exec(conn, sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(login),
                                                                          sql.Literal(verifier)))
        else:
            _call(conn, "set_password", login, verifier)
    return True


def _set_enabled(target: Target, username: str, enabled: bool, what: str) -> bool:
    if _no_op(target, what):
        return False
    login = login_name(username)
    with _connection(target) as conn:
        _require(conn, login, username)
        _call(conn, "set_enabled", login, enabled)
    return True


def disable_login(target: Target, username: str) -> bool:
    """NOLOGIN (the role and its history stay) and its open sessions ended; False on SpatiaLite."""
    return _set_enabled(target, username, False, "停用登录账户")


def enable_login(target: Target, username: str) -> bool:
    """LOGIN again; False on SpatiaLite."""
    return _set_enabled(target, username, True, "启用登录账户")


def try_login(url: str | URL, username: str, password: str) -> str:
    """Connect to ``url``'s server and database as ``username``'s login with ``password`` (the
    database checks it against the SCRAM verifier): ``"ok"``, ``"invalid"`` (wrong password or
    no such login) or ``"disabled"`` (right password, NOLOGIN). Other failures raise the
    driver's error."""
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(url) if isinstance(url, str) else url
    if not password:
        return "invalid"
    params: dict[str, Any] = {k: v for k, v in u.query.items() if isinstance(v, str)}
    params.update(host=u.host, port=u.port, dbname=u.database, user=login_name(username), password=password,
                  connect_timeout=5, passfile="/dev/null")
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.OperationalError as exc:
        message = str(exc)
        if "password authentication failed" in message or ("role" in message and "does not exist" in message):
            return "invalid"
        if "not permitted to log in" in message:
            return "disabled"
        raise
    conn.close()
    return "ok"


def drop_login(target: Target, username: str) -> bool:
    """DROP ROLE IF EXISTS the login (a superuser's cleanup: tests, a mistaken login); False on SpatiaLite."""
    if _no_op(target, "删除登录账户"):
        return False
    from psycopg2 import sql

    with _connection(target) as conn:
        _cursor_exec(conn, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login_name(username))))
    return True


# --- workstation credentials ------------------------------------------------------------------

def _pgpass_escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace(":", "\\:")


def _pgpass_fields(line: str) -> list[str]:
    fields: list[str] = []
    cur: list[str] = []
    escaped = False
    for ch in line:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":" and len(fields) < 4:
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    fields.append("".join(cur))
    return fields


def default_pgpass() -> Path:
    """$PGPASSFILE, else ~/.pgpass (where libpq looks)."""
    return Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")


def write_pgpass(host: str, port: int | str, db: str, user: str, password: str,
                 path: str | os.PathLike | None = None) -> Path:
    """Store one password in a libpq password file (mode 0600); returns its path.

    A line for the same host, port, database and user is replaced; other lines are kept.
    The file is written next to the old one and renamed over it, so it is never partial
    nor readable by others.
    """
    if not password or "\n" in password or "\r" in password:
        raise SecurityError(Msg("密码为空或包含换行，不能写入 .pgpass"))
    target = Path(path) if path is not None else default_pgpass()
    target = target.expanduser()
    key = [str(host), str(port), str(db), str(user)]
    kept: list[str] = []
    if target.exists():
        for line in target.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#") and _pgpass_fields(line)[:4] == key:
                continue
            kept.append(line)
    kept.append(":".join(_pgpass_escape(v) for v in [*key, password]))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pgpass.", dir=target.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(kept) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

# ---- probes the services ask (SQL stays in the store) ------------------------------------
def may_create_logins(session: Session) -> bool:
    """Whether the session's database account may create logins: EXECUTE on
    ``gridhall_accounts.create_login`` (administrators, superusers)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(session.execute(text(
        "SELECT CASE WHEN to_regnamespace(:schema) IS NULL OR NOT has_schema_privilege(:schema, 'USAGE') "
        "THEN false WHEN to_regprocedure(:fn) IS NULL THEN false ELSE has_function_privilege(:fn, 'EXECUTE') END"),
        {"fn": f"{ACCOUNTS_SCHEMA}.create_login(text,text,text)", "schema": ACCOUNTS_SCHEMA}).scalar())


def session_in_group(session: Session, role: Role | str) -> bool:
    """Whether the session's PostgreSQL login belongs to ``role``'s group (False on SpatiaLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(session.execute(text("SELECT gridhall_has_role(:r)"), {"r": str(getattr(role, "value", role))}).scalar())


def login_in_group(engine: Engine, role: Role | str) -> bool:
    """Whether the engine's own login (``session_user``) is a member of ``role``'s group role."""
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT pg_has_role(session_user, :g, 'MEMBER')"),
                                 {"g": group_role(role)}).scalar())


def may_record_logins(engine: Engine) -> bool:
    """Whether the engine's login may record login failures and locks in ``users`` (the owner,
    administrators, superusers), i.e. check other users' passwords for the application."""
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT has_column_privilege('users', 'failed_attempts', 'UPDATE') "
                                      "AND has_column_privilege('users', 'locked', 'UPDATE')")).scalar())


def ping(engine: Engine) -> None:
    """One round trip to the database (raises the driver's error when it is unreachable)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


__all__ = [
    "login_in_group", "may_create_logins", "may_record_logins", "ping", "session_in_group", "try_login",
    "ACCOUNTS_ROLE", "ACCOUNTS_SCHEMA", "LOGIN_PATTERN", "OWNER_ROLE", "GROUP_PREFIX", "GROUP_ROLES", "LOGIN_PREFIX", "OPERATIONAL_ROLES", "SecurityError", "create_login",
    "default_pgpass", "disable_login", "drop_login", "enable_login", "group_role", "login_exists",
    "login_name", "login_url", "request_lists", "set_login_password", "sync_workflow_table",
    "username_of_login", "workflow_rows", "write_pgpass",
]
