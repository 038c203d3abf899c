"""The configuration's change feed: hear within a second that an administrator saved a change.

The case feed's machinery (app.store.notify: one background thread, reconnect with backoff,
status) on the configuration history instead of the case chain:

- PostGIS: ``PgConfigListener`` LISTENs on ``gridhall_config`` (ConfigService and the calendar
  editors NOTIFY there in the saving transaction, so the hint arrives after the commit). A hint
  is never data: on one the listener reads ``max(seq)`` of ``config_changes`` itself, so a forged
  hint reports nothing.
- SpatiaLite: ``SqliteConfigPoller`` watches ``PRAGMA data_version`` every half second (as the
  case poller does) and then reads ``max(seq)``.

Both call ``on_version(int)`` from their thread when the version differs from the last one seen
(also once at the start and after a reconnect: whatever was saved meanwhile is picked up).
"""

from __future__ import annotations

import logging
import os
import select
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from app.store.engine import Store
from app.store.notify import BACKOFF, KEEPALIVE_S, ChangeFeed, PgListener

log = logging.getLogger(__name__)

CONFIG_CHANNEL = "gridhall_config"
VERSION_SQL = "SELECT coalesce(max(seq), 0) FROM config_changes"


def _ignore(_version: int) -> None:
    return None


class _VersionFeed:
    """The version bookkeeping both feeds share."""

    def _init_version(self) -> None:
        self.on_version: Callable[[int], None] = _ignore
        self.version: int | None = None
        #: How many times the version was read (tests: a forged hint costs one read).
        self.version_reads = 0

    def _seen(self, version: int) -> None:
        if version != self.version:
            self.version = version
            ChangeFeed._call(self.on_version, version)


class PgConfigListener(_VersionFeed, PgListener):
    """LISTEN gridhall_config on one autocommit connection; reads the version on each hint."""

    name = "gridhall-config-listen"
    lost_message = "配置变更通知连接中断：%s"

    def __init__(self, dsn: dict[str, Any], *, timeout: float = 0.5, backoff: tuple[float, ...] = BACKOFF) -> None:
        PgListener.__init__(self, dsn, channel=CONFIG_CHANNEL, timeout=timeout, backoff=backoff)
        self._init_version()

    @classmethod
    def for_store(cls, store: Store, **kw: Any) -> PgConfigListener:
        args = store.url.translate_connect_args(username="user", database="dbname")
        args.update({k: v for k, v in store.url.query.items() if isinstance(v, str)})
        return cls(args, **kw)

    def _read_version(self, conn: psycopg2.extensions.connection) -> None:
        self.version_reads += 1
        with conn.cursor() as cur:
            cur.execute(VERSION_SQL)
            row = cur.fetchone()
            self._seen(int(row[0]) if row is not None else 0)

    def _session(self) -> None:
        conn = self._connect()
        try:
            self._read_version(conn)
            self._connected()
            idle = 0.0
            while not self._stop.is_set():
                readable, _, _ = select.select([conn], [], [], self._timeout)
                if not readable:
                    idle += self._timeout
                    if idle >= KEEPALIVE_S:
                        idle = 0.0
                        with conn.cursor() as cur:
                            cur.execute("SELECT 1")
                    continue
                idle = 0.0
                conn.poll()
                if conn.closed:
                    raise psycopg2.OperationalError("the notification connection was closed")
                if conn.notifies:
                    conn.notifies.clear()  # hints only: one read answers them all
                    self._read_version(conn)
        finally:
            conn.close()


class SqliteConfigPoller(_VersionFeed, ChangeFeed):
    """Polls a SpatiaLite file's ``PRAGMA data_version``, then reads the configuration version."""

    name = "gridhall-config-poll"
    expected_errors = (sqlite3.Error, OSError)
    lost_message = "无法读取数据库文件的配置变更：%s"

    def __init__(self, path: str | os.PathLike[str], *, interval: float = 0.5,
                 backoff: tuple[float, ...] = BACKOFF) -> None:
        ChangeFeed.__init__(self, backoff)
        self._init_version()
        self._path = str(path)
        self._interval = interval

    def _read_version(self, conn: sqlite3.Connection) -> None:
        self.version_reads += 1
        self._seen(int(conn.execute(VERSION_SQL).fetchone()[0]))

    def _session(self) -> None:
        conn = sqlite3.connect(f"{Path(self._path).as_uri()}?mode=rw", uri=True, isolation_level=None,
                               check_same_thread=False, timeout=5)
        try:
            self._read_version(conn)
            self._connected()
            data_version = conn.execute("PRAGMA data_version").fetchone()[0]
            while not self._wait(self._interval):
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now != data_version:
                    data_version = now
                    self._read_version(conn)
        finally:
            conn.close()


def config_feed(store: Store, **kw: Any) -> PgConfigListener | SqliteConfigPoller:
    """The configuration feed that fits ``store``'s backend (not started)."""
    if store.backend == "postgis":
        return PgConfigListener.for_store(store, **kw)
    assert store.path is not None
    return SqliteConfigPoller(store.path, **kw)


__all__ = ["CONFIG_CHANNEL", "PgConfigListener", "SqliteConfigPoller", "config_feed"]
