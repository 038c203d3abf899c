"""Errors raised by the store; each message says what is wrong and what to do (zh_CN).

The message is data (``err.msg``, an ``app.domain.messages.Msg``); edges translate it.
"""

from __future__ import annotations

from app.domain.messages import Msg, MsgError

__all__ = ["DatabaseRefused", "Msg", "SchemaMissing", "SchemaOutdated", "SpatialiteUnavailable", "StaleCase",
           "StoreError", "StoreNotFound", "StoreNotWritable", "StoreUnreachable", "database_error"]


class StoreError(MsgError):
    """Base class of every store error; ``str(err)`` is a message for the user."""


class StoreNotFound(StoreError):
    """The SpatiaLite file (or the PostgreSQL database) does not exist."""


class StoreNotWritable(StoreError):
    """The database file or its directory cannot be written."""


class StoreUnreachable(StoreError):
    """The PostgreSQL server refused the connection or the login."""


class SpatialiteUnavailable(StoreError):
    """The mod_spatialite extension cannot be loaded into SQLite."""


class SchemaMissing(StoreError):
    """The database holds no GridHall schema yet."""


class SchemaOutdated(StoreError):
    """The database schema is at an older (or unknown) revision."""


class StaleCase(StoreError):
    """A case changed in the database since the caller loaded it."""


class DatabaseRefused(StoreError):
    """The database driver refused a statement (locked file, lost connection, a value it cannot hold)."""


def _detail(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    printable = "".join(ch for ch in first if ch.isprintable())
    return printable[:200]


def database_error(exc: BaseException) -> DatabaseRefused | None:
    """A clear :class:`DatabaseRefused` for a database driver's error, or None for any other error.

    Edges (the command line, servers) turn what the driver raised into one line for the user;
    the transaction it happened in was rolled back, so the message says nothing was written.
    """
    from sqlalchemy import exc as sa

    if isinstance(exc, OverflowError) or isinstance(getattr(exc, "orig", None), OverflowError):
        return DatabaseRefused(Msg("数值过大，超出数据库能保存的范围；未写入任何内容"))
    if not isinstance(exc, (sa.DBAPIError, sa.StatementError)):
        return None
    detail = _detail(exc)
    if "locked" in detail.lower() or "busy" in detail.lower():
        return DatabaseRefused(Msg("数据库正被另一个程序占用（已锁定），未写入任何内容；请稍后重试：{detail}",
                                   detail=detail))
    if isinstance(exc, (sa.DataError, sa.IntegrityError)):
        return DatabaseRefused(Msg("数据库拒绝了输入的值，未写入任何内容：{detail}", detail=detail))
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError)):
        return DatabaseRefused(Msg("数据库连接出错，未写入任何内容；请检查数据库后重试：{detail}", detail=detail))
    return DatabaseRefused(Msg("数据库拒绝了这次操作，未写入任何内容：{detail}", detail=detail))
