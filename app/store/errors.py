"""Errors raised by the store; each message says what is wrong and what to do (zh_CN).

The message is data (``err.msg``, an ``app.domain.messages.Msg``); edges translate it.
"""

from __future__ import annotations

from app.domain.messages import Msg, MsgError

__all__ = ["Msg", "SchemaMissing", "SchemaOutdated", "SpatialiteUnavailable", "StaleCase", "StoreError",
           "StoreNotFound", "StoreNotWritable", "StoreUnreachable"]


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
