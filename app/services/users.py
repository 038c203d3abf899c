"""User accounts: add, change password, disable/enable, unlock, list, and the demo logins.

Every change to an account goes through one seam, a ``UserDirectory``, called inside the same
transaction as the ``users`` row change. On SpatiaLite ``LocalDirectory`` does nothing more
(the ``users`` table is the whole directory). On PostGIS ``directory_for(store)`` returns a
``PgDirectory``: in that same transaction (PostgreSQL DDL is transactional, so a refused
insert leaves no orphan login) it creates the login ``gh_<username>`` in the group role
``gridhall_<role>`` (app.store.security), changes its password (sent as a SCRAM verifier,
never in clear) and disables/enables it (NOLOGIN/LOGIN, its open sessions ended), all through
the database's account functions (migration 0007): the administrator runs ``gridhall user …``
as their own login (a member of ``gridhall_admin``); no login holds CREATEROLE. On PostGIS the
login's SCRAM verifier is the only password: ``users.password_hash`` stays NULL and is never
read (no group may), and ``users.active``/``users.locked`` switch the login by a trigger.
Usernames are therefore restricted to what makes a safe PostgreSQL role name (ASCII
``[a-z0-9_.-]``, at most 63 characters, no ``pg_`` prefix, no reserved names).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, column, exists, func, insert, literal, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from app.domain.clock import Clock, SystemClock
from app.domain.definitions import DepartmentKind, Role
from app.domain.messages import Msg, MsgError, msg_of
from app.domain.text import TextRefused, clean_text
from app.services.actors import Actor
from app.services.auth import check_password_policy, hash_password, normalize_username, verify_password
from app.store import security
from app.store.engine import Store, open_store
from app.store.errors import StoreUnreachable
from app.store.models import Department, User

log = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
#: Names PostgreSQL reserves or that would be confusing as logins (issue 4).
RESERVED_USERNAMES = frozenset({"postgres", "public", "none", "current_user", "session_user",
                                "current_role", "system_user", "system"})
MAX_DISPLAY_NAME = 64
#: Roles that may manage accounts (the system acts for imports and the demo city).
MANAGER_ROLES = frozenset({Role.ADMIN, Role.SYSTEM})
#: Roles a person can log in with (``system`` is for automated work only).
LOGIN_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)


class UserError(MsgError):
    """An account operation was refused; ``str(err)`` says why and what to do (zh_CN)."""


@dataclass(frozen=True)
class UserInfo:
    """An account as shown to administrators (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    department_code: str | None
    department_name: str | None
    active: bool
    locked: bool
    failed_attempts: int
    has_password: bool
    phone: str | None
    created_at: datetime | None

    @property
    def status(self) -> str:
        """正常, 已锁定, 已停用 or 未设密码."""
        if not self.active:
            return "已停用"
        if self.locked:
            return "已锁定"
        return "正常" if self.has_password else "未设密码"

    def to_dict(self) -> dict:
        """A JSON-ready mapping (role as its value, plus its label and the status)."""
        d = asdict(self)
        d["role"] = self.role.value
        d["role_label"] = self.role.label
        d["status"] = self.status
        d["created_at"] = self.created_at.isoformat(timespec="seconds") if self.created_at else None
        return d


class UserDirectory(Protocol):
    """Where accounts also live beyond the ``users`` table (PostgreSQL logins, issue 4)."""

    def added(self, session: Session, username: str, role: Role, password: str) -> None: ...

    def password_set(self, session: Session, username: str, password: str) -> None: ...

    def disabled(self, session: Session, username: str) -> None: ...

    def enabled(self, session: Session, username: str) -> None: ...

    def ensure(self, session: Session, username: str, role: Role, password: str) -> None: ...


class LocalDirectory:
    """The ``users`` table is the whole directory: nothing else to do."""

    def added(self, session: Session, username: str, role: Role, password: str) -> None:
        pass

    def password_set(self, session: Session, username: str, password: str) -> None:
        pass

    def disabled(self, session: Session, username: str) -> None:
        pass

    def enabled(self, session: Session, username: str) -> None:
        pass

    def ensure(self, session: Session, username: str, role: Role, password: str) -> None:
        pass


class PgDirectory:
    """Accounts are also PostgreSQL logins (``gh_<username>`` in ``gridhall_<role>``).

    The caller flushes its ``users`` changes first: the database's account functions and the
    trigger on ``users`` see them.
    """

    def added(self, session: Session, username: str, role: Role, password: str) -> None:
        dept = session.scalar(select(User.department_id).where(User.username == username))
        _login_op(security.create_login, session, username, role, password, department_id=dept)

    def password_set(self, session: Session, username: str, password: str) -> None:
        if security.login_exists(session, username):
            _login_op(security.set_login_password, session, username, password)
        else:  # an account made before the hall moved to PostGIS logins: give it one now
            user = session.scalars(select(User).where(User.username == username)).one()
            _login_op(security.create_login, session, username, Role(user.role), password,
                      department_id=user.department_id)

    def disabled(self, session: Session, username: str) -> None:
        if security.login_exists(session, username):
            _login_op(security.disable_login, session, username)

    def enabled(self, session: Session, username: str) -> None:
        # LOGIN only for an account that is active and not locked (as the trigger on users keeps it)
        row = session.execute(select(User.active, User.locked).where(User.username == username)).first()
        if row is not None and (row.active is False or row.locked):
            return
        if security.login_exists(session, username):
            _login_op(security.enable_login, session, username)

    def ensure(self, session: Session, username: str, role: Role, password: str) -> None:
        """The login exists, may log in and has ``password`` (the demo accounts)."""
        if not security.login_exists(session, username):
            self.added(session, username, role, password)
            return
        _login_op(security.set_login_password, session, username, password)
        _login_op(security.enable_login, session, username)


def may_create_logins(session: Session) -> bool:
    """Whether the session's database account may create logins (administrators, superusers)."""
    return security.may_create_logins(session)


def _login_op(fn: Callable[..., object], target: security.Target, *args: Any, **kw: Any) -> None:
    # The login change joins the session's transaction; a refusal rolls the users row back too.
    try:
        fn(target, *args, **kw)
    except security.SecurityError as exc:
        raise UserError(msg_of(exc)) from None
    except Exception as exc:  # psycopg2's own error (security uses the raw cursor) or SQLAlchemy's
        if getattr(getattr(exc, "orig", exc), "pgcode", None) != "42501":  # insufficient_privilege
            raise
        raise UserError(security.NO_ACCOUNT_RIGHTS) from None


def directory_for(store: Store) -> UserDirectory:
    """The directory that mirrors accounts of ``store``: database logins on PostGIS."""
    return PgDirectory() if store.backend == "postgis" else LocalDirectory()


# --- validation ---------------------------------------------------------------------------

def parse_role(role: Role | str) -> Role:
    """A Role from its value, English name or Chinese label; UserError listing the choices."""
    if isinstance(role, Role):
        parsed = role
    else:
        try:
            parsed = Role.parse(str(role).strip())
        except ValueError:
            choices = [Msg("{value}（{label}）", value=r.value, label=r) for r in LOGIN_ROLES]
            raise UserError(Msg("未知角色“{role}”；可选：{choices}", role=role, choices=choices)) from None
    if parsed is Role.SYSTEM:
        raise UserError(Msg("角色“{role}”（系统）只供程序内部使用，不能分配给登录账户；请选择其他角色", role=role))
    return parsed


def check_username(username: str) -> str:
    """The canonical username, or UserError saying which rule it breaks."""
    try:  # the input policy first: a 10,000-character or escape-laden name is named by its size
        clean_text("username", username)
    except TextRefused as exc:
        raise UserError(msg_of(exc)) from None
    name = normalize_username(username)
    if not name:
        raise UserError(Msg("用户名不能为空"))
    if not USERNAME_PATTERN.fullmatch(name):
        raise UserError(Msg("用户名“{username}”无效：只能使用小写英文字母、数字和 _ . -，以字母或数字开头，"
                            "最长 63 个字符（例如 zhangsan 或 zhang.san）",
                            username=username))
    if name in RESERVED_USERNAMES or name.startswith("pg_"):
        raise UserError(Msg("用户名“{name}”是保留名称，请换一个", name=name))
    return name


def _check_manager(actor: Actor | None) -> None:
    # None: local administration (CLI with direct database access, whose credentials decide).
    if actor is not None and actor.role not in MANAGER_ROLES:
        raise UserError(Msg("{actor}无权管理用户账户；只有管理员可以这样做",
                            actor=Msg("{name}（{role}）",
                                      name=actor.display_name or actor.username, role=actor.role)))


def _department(session: Session, code: str) -> Department:
    dept = session.scalars(select(Department).where(Department.code == code.strip())).first()
    if dept is None:
        raise UserError(Msg("部门代码“{code}”不存在；请检查代码（部门列表见部门管理）", code=code))
    if dept.active is False:
        raise UserError(Msg("部门“{dept}”（{code}）已停用，不能再绑定用户", dept=dept.name, code=dept.code))
    return dept


def _users(session: Session) -> Select:
    """SELECT users: on PostGIS without password_hash (no group may read it; it is NULL there)."""
    stmt = select(User)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.options(defer(User.password_hash, raiseload=True))
    return stmt


def _new_user(session: Session, **values: Any) -> int:
    """INSERT a users row naming only the given columns (on PostGIS never password_hash); its id."""
    if session.get_bind().dialect.name == "postgresql":
        values.pop("password_hash", None)
    return session.execute(insert(User).values(**values).returning(User.id)).scalar_one()


def _get(session: Session, username: str) -> User:
    name = normalize_username(username)
    user = session.scalars(_users(session).where(User.username == name)).first()
    if user is None:
        raise UserError(Msg("用户“{name}”不存在；用 gridhall user list 查看已有用户", name=name))
    return user


# --- operations ---------------------------------------------------------------------------

def add_user(store: Store, username: str, role: Role | str, *, display_name: str | None, password: str,
             department_code: str | None = None, phone: str | None = None, actor: Actor | None = None,
             clock: Clock | None = None, directory: UserDirectory | None = None) -> UserInfo:
    """Create an account; a 专业部门操作员 must name an existing department."""
    _check_manager(actor)
    name = check_username(username)
    parsed = parse_role(role)
    try:
        display = clean_text("display_name", display_name) or name
        phone = clean_text("phone", phone)
    except TextRefused as exc:
        raise UserError(msg_of(exc)) from None
    if len(display) > MAX_DISPLAY_NAME:
        raise UserError(Msg("姓名太长（{count} 个字符）：最多 {max_display_name} 个字符",
                            count=len(display), max_display_name=MAX_DISPLAY_NAME))
    if parsed is Role.DEPARTMENT and not (department_code or "").strip():
        raise UserError(Msg("专业部门操作员必须绑定一个部门：请用 --department 给出部门代码"))
    check_password_policy(password, username=name)
    # slow on purpose: before the transaction, not inside; on PostGIS the login's verifier only
    password_hash = hash_password(password) if store.backend == "spatialite" else None
    directory = directory or directory_for(store)
    now = (clock or SystemClock()).now()
    with store.session() as session:
        try:
            with session.begin():
                if session.scalar(select(func.count()).select_from(User).where(User.username == name)):
                    raise UserError(Msg("用户名“{name}”已被使用；请换一个用户名", name=name))
                dept = _department(session, department_code) if department_code and department_code.strip() else None
                _new_user(session, username=name, display_name=display, role=parsed.value,
                          department_id=dept.id if dept else None, password_hash=password_hash,
                          active=True, failed_attempts=0, locked=False, phone=phone, created_at=now)
                directory.added(session, name, parsed, password)
        except IntegrityError:  # another workstation took the name between our check and insert
            raise UserError(Msg("用户名“{name}”已被使用；请换一个用户名", name=name)) from None
    return get_user(store, name)


def set_password(store: Store, username: str, password: str, *, actor: Actor | None = None,
                 directory: UserDirectory | None = None) -> None:
    """Set a new password (an administrator's reset): also clears the failure count and the lock."""
    _check_manager(actor)
    check_password_policy(password, username=normalize_username(username))
    password_hash = hash_password(password) if store.backend == "spatialite" else None
    directory = directory or directory_for(store)
    with store.session() as session, session.begin():
        user = _get(session, username)
        if password_hash is not None:
            user.password_hash = password_hash
        user.failed_attempts = 0
        user.locked = False
        session.flush()  # unlocked: the trigger on users lets an active user's login log in again
        directory.password_set(session, user.username, password)


def change_own_password(store: Store, actor: Actor, old_password: str, new_password: str, *,
                        directory: UserDirectory | None = None) -> None:
    """A logged-in user replaces their own password, proving the old one.

    On PostGIS the password is the login's: the old one is proved by connecting as the login
    with it, and that connection changes it (ALTER ROLE works on one's own role), so no
    administrator privilege and no read of ``users.password_hash`` is needed.
    """
    if store.backend == "postgis":
        _change_login_password(store, actor.username, old_password, new_password)
        return
    directory = directory or directory_for(store)
    with store.session() as session, session.begin():
        user = _get(session, actor.username)
        if not verify_password(user.password_hash, old_password):
            raise UserError(Msg("原密码不正确，密码未修改"))
        if old_password == new_password:
            raise UserError(Msg("新密码不能与原密码相同"))
        check_password_policy(new_password, username=user.username)
        user.password_hash = hash_password(new_password)
        directory.password_set(session, user.username, new_password)


def _change_login_password(store: Store, username: str, old_password: str, new_password: str) -> None:
    name = normalize_username(username)
    if not old_password:
        raise UserError(Msg("请输入原密码"))
    if old_password == new_password:
        raise UserError(Msg("新密码不能与原密码相同"))
    check_password_policy(new_password, username=name)
    try:
        address = make_url(security.login_url(store.url.render_as_string(hide_password=False), name))
    except security.SecurityError as exc:
        raise UserError(msg_of(exc)) from None
    try:
        own = open_store(address.set(password=old_password).render_as_string(hide_password=False),
                         check_schema=False)
    except StoreUnreachable as exc:
        if "password authentication failed" in str(exc):
            raise UserError(Msg("原密码不正确，密码未修改")) from None
        raise
    try:
        _login_op(security.set_login_password, own, name, new_password)
    finally:
        own.dispose()


def disable_user(store: Store, username: str, *, actor: Actor | None = None,
                 directory: UserDirectory | None = None) -> None:
    """Stop an account from logging in (kept for the history; never deleted)."""
    _check_manager(actor)
    directory = directory or directory_for(store)
    with store.session() as session, session.begin():
        user = _get(session, username)
        if actor is not None and actor.username == user.username:
            raise UserError(Msg("不能停用自己正在使用的账户；请让另一位管理员操作"))
        if user.role == Role.ADMIN.value and user.active:
            others = session.scalar(select(func.count()).select_from(User).where(
                User.role == Role.ADMIN.value, User.active.isnot(False), User.id != user.id))
            if not others:
                raise UserError(Msg("“{username}”是最后一个启用的管理员账户，停用后将无人能管理用户；请先添加另一个管理员",
                                    username=user.username))
        user.active = False
        session.flush()  # on PostGIS the trigger on users already makes the login NOLOGIN
        directory.disabled(session, user.username)


def enable_user(store: Store, username: str, *, actor: Actor | None = None,
                directory: UserDirectory | None = None) -> None:
    """Let a disabled account log in again."""
    _check_manager(actor)
    directory = directory or directory_for(store)
    with store.session() as session, session.begin():
        user = _get(session, username)
        user.active = True
        session.flush()
        directory.enabled(session, user.username)


def unlock_user(store: Store, username: str, *, actor: Actor | None = None) -> None:
    """Lift the lock after repeated wrong passwords and reset the count."""
    _check_manager(actor)
    with store.session() as session, session.begin():
        user = _get(session, username)
        user.locked = False
        user.failed_attempts = 0


USER_ENTITY = "user"


def _record(session: Session, user: User) -> dict[str, Any]:
    """What the configuration history keeps of an account (never a password)."""
    dept = session.get(Department, user.department_id) if user.department_id is not None else None
    return {"username": user.username, "role": user.role, "department": dept.code if dept else None,
            "active": user.active is not False}


def _audit(session: Session, actor: Actor | None, before: dict[str, Any], after: dict[str, Any],
           reason: str | None, clock: Clock | None) -> int | None:
    """Append the account's change to the configuration history (same transaction); its seq."""
    from app.store.calendar_years import append_change

    if before == after:
        return None
    conn = session.connection()
    if actor is not None:
        who = actor.username
    elif conn.dialect.name == "postgresql":
        who = security.username_of_login(str(conn.exec_driver_sql("SELECT session_user").scalar()))
    else:
        who = "local"
    return append_change(conn, entity=USER_ENTITY, key=after["username"], before=before, after=after, actor=who,
                         at=(clock or SystemClock()).now(), reason=reason)


def _why(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise UserError(Msg("请写明修改原因（--reason）：账户的角色、部门和停用都记录在配置变更记录中"))
    if len(text) > 1000:
        raise UserError(Msg("原因过长（{count:,} 个字符，最多 1000 个）", count=len(text)))
    try:  # a control or bidi character would enter the append-only history unseen
        clean_text("reason", text)
    except TextRefused as exc:
        raise UserError(msg_of(exc)) from None
    return text


def _check_not_last_admin(session: Session, user: User) -> None:
    if user.role == Role.ADMIN.value and user.active is not False:
        others = session.scalar(select(func.count()).select_from(User).where(
            User.role == Role.ADMIN.value, User.active.isnot(False), User.id != user.id))
        if not others:
            raise UserError(Msg("“{username}”是最后一个启用的管理员账户，停用后将无人能管理用户；请先添加另一个管理员",
                                username=user.username))


def change_user(store: Store, username: str, *, role: Role | str | None = None, department_code: str | None = None,
                reason: str | None, actor: Actor | None = None, clock: Clock | None = None) -> UserInfo:
    """Change an account's role and/or department (``department_code=""`` clears it), on the record.

    On PostGIS the login's group follows the role in the same transaction (the trigger of
    migration 0025 moves it and ends the login's sessions); the department a department login
    acts for is read from ``users.department_id`` by the database itself.
    """
    _check_manager(actor)
    why = _why(reason)
    parsed = parse_role(role) if role is not None and str(role).strip() else None
    with store.session() as session:
        try:
            with session.begin():
                user = _get(session, username)
                before = _record(session, user)
                if parsed is not None and parsed.value != user.role:
                    if actor is not None and actor.username == user.username:
                        raise UserError(Msg("不能修改自己正在使用的账户的角色；请让另一位管理员操作"))
                    if user.role == Role.ADMIN.value:
                        _check_not_last_admin(session, user)
                    user.role = parsed.value
                if department_code is not None:
                    code = department_code.strip()
                    user.department_id = _department(session, code).id if code else None
                if user.role == Role.DEPARTMENT.value and user.department_id is None:
                    raise UserError(Msg("专业部门操作员必须绑定一个部门：请用 --department 给出部门代码"))
                session.flush()  # on PostGIS the trigger on users moves the login's group here
                _audit(session, actor, before, _record(session, user), why, clock)
        except Exception as exc:
            orig = getattr(exc, "orig", None)
            if getattr(orig, "pgcode", None) == "42501":
                if "keeps another GridHall group" in str(orig):
                    raise UserError(Msg("数据库未能把登录 {login} 移出原来的组角色：角色未修改；请由超级用户处理",
                                        login=security.LOGIN_PREFIX + normalize_username(username))) from None
                raise UserError(security.NO_ACCOUNT_RIGHTS) from None
            raise
    return get_user(store, username)


def retire_user(store: Store, username: str, *, reason: str | None, actor: Actor | None = None,
                clock: Clock | None = None, directory: UserDirectory | None = None) -> UserInfo:
    """Retire an account (停用, on the record): it can no longer log in; its history stays."""
    _check_manager(actor)
    why = _why(reason)
    directory = directory or directory_for(store)
    with store.session() as session, session.begin():
        user = _get(session, username)
        if actor is not None and actor.username == user.username:
            raise UserError(Msg("不能停用自己正在使用的账户；请让另一位管理员操作"))
        if user.active is False:
            raise UserError(Msg("用户“{name}”已经停用，未做修改", name=user.username))
        _check_not_last_admin(session, user)
        before = _record(session, user)
        user.active = False
        session.flush()
        directory.disabled(session, user.username)
        _audit(session, actor, before, _record(session, user), why, clock)
    return get_user(store, username)


def reactivate_user(store: Store, username: str, *, reason: str | None, actor: Actor | None = None,
                    clock: Clock | None = None, directory: UserDirectory | None = None) -> UserInfo:
    """Let a retired account log in again (on the record)."""
    _check_manager(actor)
    why = _why(reason)
    directory = directory or directory_for(store)
    with store.session() as session, session.begin():
        user = _get(session, username)
        if user.active is not False:
            raise UserError(Msg("用户“{name}”没有停用，无需重新启用；未做修改", name=user.username))
        if user.department_id is not None:
            dept = session.get(Department, user.department_id)
            if dept is not None and dept.active is False:
                raise UserError(Msg("部门“{dept}”（{code}）已停用：请先为用户“{name}”换一个部门再启用",
                                    dept=dept.name, code=dept.code, name=user.username))
        before = _record(session, user)
        user.active = True
        session.flush()
        directory.enabled(session, user.username)
        _audit(session, actor, before, _record(session, user), why, clock)
    return get_user(store, username)


def user_history(store: Store, username: str) -> list[dict[str, Any]]:
    """The account's changes on the configuration record (oldest first)."""
    from app.store.calendar_years import changes

    with store.engine.connect() as conn:
        found = changes(conn, USER_ENTITY, normalize_username(username))
    if not found:  # an unknown name is said so, not shown as an empty record
        with store.session() as session:
            _get(session, username)
    return found


def _info(user: User, dept: Department | None, has_password: bool) -> UserInfo:
    return UserInfo(id=user.id, username=user.username, display_name=user.display_name,
                    role=Role(user.role), department_code=dept.code if dept else None,
                    department_name=dept.name if dept else None, active=user.active is not False,
                    locked=bool(user.locked), failed_attempts=user.failed_attempts or 0,
                    has_password=has_password, phone=user.phone, created_at=user.created_at)


def _query(session: Session) -> Select:
    """(User, Department, has a password): on PostGIS the password is the login's (it exists)."""
    if session.get_bind().dialect.name == "postgresql":
        roles = table("pg_roles", column("rolname"), schema="pg_catalog")
        has_password: ColumnElement[bool] = exists().where(
            roles.c.rolname == literal(security.LOGIN_PREFIX) + User.username)
    else:
        has_password = User.password_hash.isnot(None) & (User.password_hash != "")
    return (_users(session).add_columns(Department, has_password.label("has_password"))
            .outerjoin(Department, Department.id == User.department_id))


def list_users(store: Store) -> list[UserInfo]:
    """Every account, ordered by username."""
    with store.session() as session:
        rows = session.execute(_query(session).order_by(User.username)).all()
        return [_info(u, d, bool(p)) for u, d, p in rows]


def get_user(store: Store, username: str) -> UserInfo:
    """One account; UserError if there is none by that name."""
    with store.session() as session:
        row = session.execute(_query(session).where(User.username == normalize_username(username))).first()
        if row is None:
            raise UserError(Msg("用户“{name}”不存在；用 gridhall user list 查看已有用户",
                                name=normalize_username(username)))
        return _info(row[0], row[1], bool(row[2]))


# --- demo logins ----------------------------------------------------------------------------

def demo_username(role: Role) -> str:
    """The demo account of ``role``, e.g. demo_dispatcher."""
    return f"demo_{role.value}"


def _demo_department(session: Session) -> Department:
    # Prefer a street office (属地管理 makes it the busiest department), else any real department.
    active = select(Department).where(Department.active.isnot(False)).order_by(Department.code)
    dept = (session.scalars(active.where(Department.kind == DepartmentKind.STREET_OFFICE.value)).first()
            or session.scalars(active.where(Department.kind != DepartmentKind.CENTRE.value)).first())
    if dept is None:
        raise UserError(Msg("库中还没有任何部门，无法创建演示用的专业部门操作员；请先导入部门（或运行 gridhall demo）"))
    return dept


def create_demo_logins(store: Store, password: str, *, clock: Clock | None = None,
                       directory: UserDirectory | None = None) -> list[str]:
    """Give one demo account per role (``demo_<role>``) the known ``password``; idempotent.

    Missing accounts are created; existing ones get back their role, are enabled and unlocked,
    and get the password (re-hashed only if it differs). Returns the usernames.
    """
    check_password_policy(password)
    directory = directory or directory_for(store)
    now = (clock or SystemClock()).now()
    names = []
    local = store.backend == "spatialite"  # on PostGIS the password is the login's only
    with store.session() as session, session.begin():
        if isinstance(directory, PgDirectory) and not may_create_logins(session):
            # Only administrators create logins: the users rows still get made, and an
            # administrator runs `gridhall user passwd` to give each its login.
            log.warning("当前数据库账户无权创建登录（须为管理员）：演示账户只写入 users 表，未建数据库登录")
            directory = LocalDirectory()
        dept = _demo_department(session)
        for role in LOGIN_ROLES:
            name = demo_username(role)
            names.append(name)
            dept_id = dept.id if role is Role.DEPARTMENT else None
            user = session.scalars(_users(session).where(User.username == name)).first()
            if user is None:
                _new_user(session, username=name, display_name=f"演示{role.label}", role=role.value,
                          department_id=dept_id, password_hash=hash_password(password) if local else None,
                          active=True, failed_attempts=0, locked=False, created_at=now)
                # ensure, not added: a demo login of another database of the cluster is reused
                directory.ensure(session, name, role, password)
                continue
            user.role = role.value
            if role is Role.DEPARTMENT and user.department_id is None:
                user.department_id = dept_id
            user.active, user.locked, user.failed_attempts = True, False, 0
            if local and not verify_password(user.password_hash, password):
                user.password_hash = hash_password(password)
            session.flush()
            directory.ensure(session, name, role, password)
    return names


__all__ = [
    "USER_ENTITY", "change_user", "reactivate_user", "retire_user", "user_history",
    "LOGIN_ROLES", "LocalDirectory", "PgDirectory", "UserDirectory", "UserError", "UserInfo", "add_user",
    "change_own_password", "check_username", "create_demo_logins", "demo_username", "directory_for",
    "disable_user", "enable_user", "get_user", "list_users", "may_create_logins", "parse_role", "set_password", "unlock_user",
]
