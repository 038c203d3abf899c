"""Passwords and login: argon2id hashes, a lock after repeated failures, no user enumeration.

On SpatiaLite the argon2id hash in ``users.password_hash`` is the password. On PostGIS the
login's SCRAM verifier is the only one (``password_hash`` is NULL, no group may read it):
``login`` there proves the password by connecting as the user's login ``gh_<name>``, and the
lock after repeated failures is ``users.locked``, which the database turns into NOLOGIN.

Plain passwords live only in local variables: they are never logged, stored or put in an
exception message. Unknown usernames and wrong passwords get the same answer, including the
"attempts left" countdown (kept in memory for names that do not exist).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from app.domain.clock import Clock
from app.domain.definitions import Role
from app.domain.messages import Msg, MsgError
from app.services.actors import Actor
from app.store.engine import Store
from app.store.models import User

log = logging.getLogger(__name__)

#: Consecutive wrong passwords after which an account is locked until an administrator unlocks it.
LOCK_AFTER = 5
MIN_PASSWORD_LENGTH = 8
#: Longer passwords are refused: hashing megabytes on every login attempt is a denial of service.
MAX_PASSWORD_LENGTH = 256

INVALID_MESSAGE = "用户名或密码错误"
LOCKED_MESSAGE = f"账户已锁定（连续{LOCK_AFTER}次密码错误），请联系管理员解锁"
DISABLED_MESSAGE = "账户已停用，请联系管理员"
NO_HASH_ACCESS = ("这个数据库连接无权记录登录结果：PostGIS 上每位用户以自己的数据库登录连接，"
                  "请用 app.services.hall_login 登录（或用管理员的登录管理账户）")

# argon2-cffi's own defaults (RFC 9106 low-memory profile) are what production uses.
_DEFAULTS = PasswordHasher()
DEFAULT_TIME_COST = _DEFAULTS.time_cost
DEFAULT_MEMORY_COST = _DEFAULTS.memory_cost
DEFAULT_PARALLELISM = _DEFAULTS.parallelism


class AuthError(MsgError):
    """Login refused; ``str(err)`` is the message for the user.

    ``reason`` is ``invalid``, ``locked`` or ``disabled``; ``remaining`` the attempts left
    before the lock (None when not applicable).
    """

    def __init__(self, message: str | Msg, *, reason: str = "invalid", remaining: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.remaining = remaining


class PasswordPolicyError(AuthError):
    """A new password does not meet the minimum policy."""

    def __init__(self, message: str | Msg):
        super().__init__(message, reason="policy")


@dataclass
class _HasherState:
    hasher: PasswordHasher
    dummy_hash: str | None = None  # verified against for unknown users, so they cost the same time


_state = _HasherState(PasswordHasher())
_state_lock = threading.Lock()


def configure_hasher(*, time_cost: int = DEFAULT_TIME_COST, memory_cost: int = DEFAULT_MEMORY_COST,
                     parallelism: int = DEFAULT_PARALLELISM) -> None:
    """Set the argon2id parameters for new hashes (no arguments: argon2-cffi's defaults).

    Tests call it with cheap parameters; existing hashes made with other parameters are
    re-hashed at the next successful login.
    """
    with _state_lock:
        _state.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                                       parallelism=parallelism)
        _state.dummy_hash = None


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise PasswordPolicyError unless ``password`` is acceptable as a new password."""
    if not isinstance(password, str) or not password:
        raise PasswordPolicyError(Msg("密码不能为空；请设置至少 8 个字符的密码"))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(Msg("密码太短（{count} 个字符）：至少需要 {min_password_length} 个字符",
                                      count=len(password), min_password_length=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(Msg("密码太长：最多 {max_password_length} 个字符",
                                      max_password_length=MAX_PASSWORD_LENGTH))
    if not password.strip():
        raise PasswordPolicyError(Msg("密码不能全是空白字符"))
    if username and password.strip().lower() == username.strip().lower():
        raise PasswordPolicyError(Msg("密码不能与用户名相同；请换一个密码"))


def hash_password(password: str) -> str:
    """The argon2id hash (``$argon2id$…``) of a password that meets the policy."""
    check_password_policy(password)
    return _state.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a missing or damaged hash)."""
    if not password_hash or not isinstance(password, str):
        _burn_time(password if isinstance(password, str) else "")
        return False
    try:
        return _state.hasher.verify(password_hash, password)
    except VerifyMismatchError:
        return False
    except (InvalidHashError, VerificationError):
        log.warning("数据库中有一个无法识别的密码哈希；该账户需要管理员重设密码")
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether ``password_hash`` was made with other parameters than the current ones."""
    try:
        return _state.hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def _burn_time(password: str) -> None:
    # Unknown users cost one argon2 verification too, so timing does not tell names apart.
    with _state_lock:
        if _state.dummy_hash is None:
            _state.dummy_hash = _state.hasher.hash("gridhall-dummy-password")
        dummy = _state.dummy_hash
    with contextlib.suppress(VerificationError):
        _state.hasher.verify(dummy, password or "-")


class _PhantomCounter:
    """Failure counts of usernames that do not exist, so they count down like real ones.

    Process-local and bounded: enough that a person mistyping a name sees the same
    behaviour as for a real account.
    """

    def __init__(self, capacity: int = 1000) -> None:
        self._counts: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def fail(self, where: str, username: str) -> int:
        key = (where, username)
        with self._lock:
            n = min(self._counts.pop(key, 0) + 1, LOCK_AFTER)
            self._counts[key] = n
            while len(self._counts) > self._capacity:
                self._counts.popitem(last=False)
            return n

    def count(self, where: str, username: str) -> int:
        with self._lock:
            return self._counts.get((where, username), 0)


_phantoms = _PhantomCounter()


def normalize_username(username: str) -> str:
    """The canonical form of a typed username (trimmed, lower case)."""
    return (username or "").strip().lower()


def _failure(failures: int) -> AuthError:
    if failures >= LOCK_AFTER:
        return AuthError(Msg("{invalid}；{locked}", invalid=Msg(INVALID_MESSAGE), locked=Msg(LOCKED_MESSAGE)),
                         reason="locked", remaining=0)
    left = LOCK_AFTER - failures
    return AuthError(Msg("用户名或密码错误，还可尝试 {left} 次", left=left), reason="invalid", remaining=left)


def login(store: Store, username: str, password: str, *, clock: Clock) -> Actor:
    """The Actor of ``username`` if ``password`` is right; AuthError (with the reason) otherwise.

    A wrong password counts towards the lock; a success resets the count. A locked account is
    refused without checking the password, a disabled one after it.
    """
    name = normalize_username(username)
    where = store.display_url
    user = load_account(store, name) if name else None
    if user is not None and store.backend == "spatialite":
        user.password_hash = _password_hash(store, user.id)
    if user is None:
        if _phantoms.count(where, name) >= LOCK_AFTER:
            raise AuthError(LOCKED_MESSAGE, reason="locked", remaining=0)
        _burn_time(password)
        log.warning("登录失败：用户名不存在（%s）", clock.now().isoformat(timespec="seconds"))
        raise _failure(_phantoms.fail(where, name))
    if user.locked:
        log.warning("登录被拒绝：账户 %s 已锁定", name)
        raise AuthError(LOCKED_MESSAGE, reason="locked", remaining=0)
    if store.backend == "postgis":
        return _login_postgis(store, user, password, clock)
    if not verify_password(user.password_hash, password):
        failures = _record_failure(store, user.id)
        log.warning("登录失败：用户 %s 密码错误（连续第 %d 次，%s）", name, failures,
                    clock.now().isoformat(timespec="seconds"))
        raise _failure(failures)
    if not user.active:
        log.warning("登录被拒绝：账户 %s 已停用", name)
        raise AuthError(DISABLED_MESSAGE, reason="disabled")
    if not _record_success(store, user, password):
        raise AuthError(LOCKED_MESSAGE, reason="locked", remaining=0)  # locked meanwhile
    log.info("用户 %s（%s）登录成功，%s", name, user.role, clock.now().isoformat(timespec="seconds"))
    return user.actor()


def _login_postgis(store: Store, user: Account, password: str, clock: Clock) -> Actor:
    """The password is the login's: connecting as it with the password is the proof."""
    from app.store.security import may_record_logins, try_login

    if not may_record_logins(store.engine):  # a workstation's own login: hall_login is its way in
        raise AuthError(NO_HASH_ACCESS, reason="invalid")
    outcome = try_login(store.url, user.username, password if isinstance(password, str) else "")
    if outcome == "invalid":
        failures = _record_failure(store, user.id)
        log.warning("登录失败：用户 %s 密码错误（连续第 %d 次，%s）", user.username, failures,
                    clock.now().isoformat(timespec="seconds"))
        raise _failure(failures)
    if outcome == "disabled" or not user.active:  # NOLOGIN: disabled (or locked meanwhile)
        log.warning("登录被拒绝：账户 %s 已停用", user.username)
        raise AuthError(DISABLED_MESSAGE, reason="disabled")
    if not _record_success(store, user, password):
        raise AuthError(LOCKED_MESSAGE, reason="locked", remaining=0)
    log.info("用户 %s（%s）以数据库登录验证成功，%s", user.username, user.role, clock.now().isoformat(timespec="seconds"))
    return user.actor()


@dataclass
class Account:
    """The columns of a ``users`` row that every role may read (never the hash unless asked)."""

    id: int
    username: str
    display_name: str | None
    role: str
    department_id: int | None
    active: bool | None
    locked: bool | None
    failed_attempts: int | None
    password_hash: str | None = None

    def actor(self) -> Actor:
        """The Actor this account acts as."""
        return Actor(username=self.username, display_name=self.display_name or self.username,
                     role=Role(self.role), department_id=self.department_id, user_id=self.id)


def load_account(target: Store | Session, username: str) -> Account | None:
    """The account of ``username`` with explicit columns (a PostGIS login may read these)."""
    stmt = select(User.id, User.username, User.display_name, User.role, User.department_id, User.active,
                  User.locked, User.failed_attempts).where(User.username == normalize_username(username))
    if isinstance(target, Session):
        row = target.execute(stmt).first()
    else:
        with target.session() as session:
            row = session.execute(stmt).first()
    return Account(*row) if row is not None else None


def _password_hash(store: Store, user_id: int) -> str | None:
    # Only administrators' database accounts may read password_hash on PostGIS (migration 0002).
    try:
        with store.session() as session:
            return session.execute(select(User.password_hash).where(User.id == user_id)).scalar()
    except ProgrammingError as exc:
        if getattr(exc.orig, "pgcode", None) == "42501":  # insufficient_privilege
            raise AuthError(NO_HASH_ACCESS, reason="invalid") from None
        raise


def _record_failure(store: Store, user_id: int) -> int:
    # One atomic UPDATE: concurrent failures from two workstations both count.
    with store.engine.begin() as conn:
        count = func.coalesce(User.failed_attempts, 0) + 1
        conn.execute(update(User).where(User.id == user_id).values(
            failed_attempts=count, locked=case((count >= LOCK_AFTER, True), else_=User.locked)))
        return conn.execute(select(User.failed_attempts).where(User.id == user_id)).scalar_one()


def _record_success(store: Store, user: Account, password: str) -> bool:
    """Reset the counter (and upgrade the hash); False if the account was locked meanwhile.

    A login with nothing to reset only reads: a read-only command must not need the store's
    write lock (another program holding it made ``case list`` wait and fail). A reset that
    finds the store busy is logged and skipped — the next login resets the counter.
    """
    rehash = store.backend == "spatialite" and needs_rehash(user.password_hash or "")
    if not user.failed_attempts and not rehash:
        with store.engine.connect() as conn:
            locked = conn.execute(select(User.locked).where(User.id == user.id)).scalar()
        return not locked
    try:
        return _reset(store, user, password, rehash)
    except OperationalError as exc:
        if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
            raise
        log.warning("login of %s: the store is busy, the failed-attempts counter is reset next time", user.username)
        with store.engine.connect() as conn:
            return not conn.execute(select(User.locked).where(User.id == user.id)).scalar()


def _reset(store: Store, user: Account, password: str, rehash: bool) -> bool:
    with store.engine.begin() as conn:
        done = conn.execute(update(User).where(User.id == user.id, User.locked.isnot(True))
                            .values(failed_attempts=0)).rowcount
        if done and rehash:
            # Only if nobody set a new password since we read this one.
            conn.execute(update(User).where(User.id == user.id, User.password_hash == user.password_hash)
                         .values(password_hash=_state.hasher.hash(password)))
    return bool(done)


__all__ = [
    "DISABLED_MESSAGE", "INVALID_MESSAGE", "LOCKED_MESSAGE", "LOCK_AFTER", "MIN_PASSWORD_LENGTH",
    "Account", "AuthError", "PasswordPolicyError", "check_password_policy", "configure_hasher", "hash_password",
    "load_account", "login", "needs_rehash", "normalize_username", "verify_password",
]
