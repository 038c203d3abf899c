"""Log in at a workstation: the Store to work with and the Actor, on either backend.

SpatiaLite (one file): ``app.services.auth.login`` checks the argon2 hash in ``users`` and
counts failures (locked after 5).

PostGIS (a shared hall): every user is the database login ``gh_<username>``
(app.store.security); connecting with the password IS the authentication, and the Store
returned is opened AS THAT LOGIN, so row-level security, the privileges and the workflow
triggers of migration 0002 apply to everything the client does. The password may come from
the libpq password file (``~/.pgpass`` or ``$PGPASSFILE``, mode 0600, written by
``remember_password``) instead of being typed or kept in a configuration file.
PostgreSQL does not lock a login after failed attempts and a refused connection cannot write
a counter, so on PostGIS the application does not count failures: an administrator stops a
login with ``gridhall user disable`` (NOLOGIN), and the server's ``auth_delay`` module and
log monitoring slow down guessing (docs/deploy.md).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from app.domain.clock import Clock
from app.domain.messages import Msg
from app.services.actors import Actor
from app.services.auth import (
    DISABLED_MESSAGE,
    INVALID_MESSAGE,
    AuthError,
    load_account,
    login,
    normalize_username,
)
from app.store import security
from app.store.engine import Store, open_store, parse_url
from app.store.errors import StoreUnreachable

log = logging.getLogger(__name__)

NO_PASSWORD_MESSAGE = ("请输入密码（本机的数据库密码文件 ~/.pgpass 中也没有这个账户的密码；"
                       "可在登录时选择“记住密码”写入该文件）")
LOCKED_BY_ADMIN = "账户已被管理员锁定，请联系管理员解锁"


def _refusal(exc: StoreUnreachable) -> AuthError | None:
    """The AuthError of a connection the server refused for its credentials (None: another fault)."""
    cause = exc.__context__
    msg = str(getattr(cause, "orig", cause) or "")
    if "password authentication failed" in msg or ("role" in msg and "does not exist" in msg):
        return AuthError(INVALID_MESSAGE, reason="invalid")  # no attempts countdown: see the module doc
    if "not permitted to log in" in msg:
        return AuthError(DISABLED_MESSAGE, reason="disabled")
    if "no password supplied" in msg:
        return AuthError(NO_PASSWORD_MESSAGE, reason="invalid")
    return None


def _open_as_login(url: str, name: str, password: str | None) -> Store:
    try:
        address = make_url(security.login_url(url, name))
    except security.SecurityError as exc:
        raise AuthError(str(exc), reason="invalid") from None
    if password:
        address = address.set(password=password)
    try:
        return open_store(address.render_as_string(hide_password=False))
    except StoreUnreachable as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        raise refusal from None


def _check_account(store: Store, name: str) -> Actor:
    login_role = security.login_name(name)
    account = load_account(store, name)
    if account is None:
        raise AuthError(Msg("数据库登录 {login_role} 在本库的 users 表中没有对应账户；请管理员用 gridhall user add 建立账户",
                            login_role=login_role), reason="invalid")
    if account.active is False:
        raise AuthError(DISABLED_MESSAGE, reason="disabled")
    if account.locked:
        raise AuthError(LOCKED_BY_ADMIN, reason="locked", remaining=0)
    if not security.login_in_group(store.engine, account.role):
        raise AuthError(Msg("数据库登录 {login_role} 不属于组角色 {group_role}，与 users 表中的角色（{role}）不一致；请管理员修正", login_role=login_role, group_role=security.group_role(account.role), role=account.actor().role), reason="invalid")
    return account.actor()


def hall_login(url: str | os.PathLike, username: str, password: str | None, *,
               clock: Clock) -> tuple[Store, Actor]:
    """(the Store to work with, the Actor) for ``username``; AuthError or StoreError otherwise.

    On PostGIS the Store is connected as the user's own login (``password`` None or empty:
    libpq looks in the password file); the caller disposes of the Store.
    """
    _, path = parse_url(url)
    if path is not None:
        if not password:
            raise AuthError(Msg("请输入密码"), reason="invalid")
        store = open_store(url)
        try:
            return store, login(store, username, password, clock=clock)
        except BaseException:
            store.dispose()
            raise
    name = normalize_username(username)
    if not name:
        raise AuthError(INVALID_MESSAGE, reason="invalid")
    store = _open_as_login(os.fspath(url), name, password)
    try:
        actor = _check_account(store, name)
    except BaseException:
        store.dispose()
        raise
    log.info("用户 %s（%s）以数据库登录 %s 登录，%s", name, actor.role.value, security.login_name(name),
             clock.now().isoformat(timespec="seconds"))
    return store, actor


class LoginAttempts:
    """The login dialog's callback: every attempt is a fresh hall_login; keeps the last success's Store."""

    def __init__(self, url: str | os.PathLike, clock: Clock) -> None:
        self.url, self.clock = url, clock
        self.store: Store | None = None

    def __call__(self, username: str, password: str) -> Actor:
        store, actor = hall_login(self.url, username, password, clock=self.clock)
        if self.store is not None:  # an earlier attempt succeeded but the dialog went on
            self.store.dispose()
        self.store = store
        return actor


def remember_password(url: str, username: str, password: str, path: str | os.PathLike | None = None) -> Path:
    """Keep the login's password in the libpq password file (0600) instead of any configuration."""
    u = make_url(os.fspath(url))
    return security.write_pgpass(u.host or "localhost", u.port or 5432, u.database or "*",
                                 security.login_name(username), password, path=path)


__all__ = ["LOCKED_BY_ADMIN", "NO_PASSWORD_MESSAGE", "LoginAttempts", "hall_login", "remember_password"]
