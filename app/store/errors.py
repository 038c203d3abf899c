"""Errors raised by the store; each message says what is wrong and what to do (zh_CN).

The message is data (``err.msg``, an ``app.domain.messages.Msg``); edges translate it.
"""

from __future__ import annotations

from app.domain.messages import Msg, MsgError

__all__ = ["DatabaseRefused", "Msg", "SchemaMissing", "SchemaOutdated", "SpatialiteUnavailable", "StaleCase",
           "StoreDamaged", "StoreError", "StoreNotFound", "StoreNotWritable", "StoreUnreachable",
           "database_error", "driver_detail"]


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


class StoreDamaged(StoreError):
    """The database file is damaged or lacks tables it must have (``gridhall db check`` says what)."""


class DatabaseRefused(StoreError):
    """The database driver refused a statement (locked file, lost connection, a value it cannot hold)."""


#: Words of SQLite's own errors for a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB).
_DAMAGED = ("malformed", "file is not a database", "database disk image")


def driver_detail(exc: BaseException) -> str:
    """The driver's own first line for ``exc``: never the statement or its parameters (which
    SQLAlchemy appends to ``str(exc)``), printable, passwords of URLs/DSNs hidden, at most 200 chars."""
    from app.config import redact_text

    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if "[SQL:" in first:  # a wrapped error that carries SQLAlchemy's rendering: keep the driver's part
        first = first.split("[SQL:", 1)[0].rstrip()
    printable = "".join(ch for ch in first if ch.isprintable())
    return redact_text(printable)[:200] or type(orig).__name__


def database_error(exc: BaseException) -> DatabaseRefused | None:
    """A clear :class:`DatabaseRefused` for a database driver's error, or None for any other error.

    Edges (the command line, servers) turn what the driver raised into one line for the user;
    the transaction it happened in was rolled back, so the message says nothing was written.
    The line holds the driver's first line only, never the SQL or its parameters; the whole
    error goes to the log (debug), with the passwords of URLs hidden.
    """
    import logging

    from sqlalchemy import exc as sa

    if isinstance(exc, OverflowError) or isinstance(getattr(exc, "orig", None), OverflowError):
        return DatabaseRefused(Msg("数值过大，超出数据库能保存的范围；未写入任何内容"))
    orig = getattr(exc, "orig", None)
    if not isinstance(exc, (sa.DBAPIError, sa.StatementError)) and not _is_driver_error(exc):
        return None
    from app.config import redact_text

    logging.getLogger(__name__).info("database error: %s", redact_text(str(exc)))
    detail = driver_detail(exc)
    lowered = detail.lower()
    if any(word in lowered for word in _DAMAGED):
        return DatabaseRefused(Msg("数据库文件已损坏（{detail}），未写入任何内容；请运行 gridhall db check --db … "
                                   "查看损坏情况，并从备份恢复", detail=detail))
    if "no such table" in lowered or _sqlstate(orig or exc) == "42P01" or (
            "relation" in lowered and "does not exist" in lowered):
        return DatabaseRefused(Msg("数据库缺少数据表（{detail}），可能已损坏或不完整，未写入任何内容；请运行 gridhall db check --db … "
                                   "查看，并从备份恢复", detail=detail))
    if "locked" in lowered or "busy" in lowered:
        return DatabaseRefused(Msg("数据库正被另一个程序占用（已锁定），未写入任何内容；请稍后重试：{detail}",
                                   detail=detail))
    if isinstance(exc, (sa.DataError, sa.IntegrityError)) or _sqlstate(orig or exc).startswith(("22", "23")):
        return DatabaseRefused(Msg("数据库拒绝了输入的值，未写入任何内容：{detail}", detail=detail))
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError)):
        return DatabaseRefused(Msg("数据库连接出错，未写入任何内容；请检查数据库后重试：{detail}", detail=detail))
    return DatabaseRefused(Msg("数据库拒绝了这次操作，未写入任何内容：{detail}", detail=detail))


def _is_driver_error(exc: BaseException) -> bool:
    """A DB-API error the driver raised directly (not wrapped by SQLAlchemy): sqlite3's or psycopg2's."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        return True
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - psycopg2 ships with the application
        return False
    return isinstance(exc, psycopg2.Error)


def _sqlstate(exc: BaseException) -> str:
    return str(getattr(exc, "pgcode", None) or "")
