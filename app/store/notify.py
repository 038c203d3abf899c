"""Change feeds: hear about committed case changes made by any client of the store.

PostGIS: ``PgListener`` holds ONE dedicated connection that LISTENs on ``gridhall_cases``
(migration 0003 NOTIFYs there on commit) in a background thread, waiting in ``select()`` on
the socket. SpatiaLite: ``SqlitePoller`` checks ``PRAGMA data_version`` (which moves when
another connection commits) every half second and then reads the new case_events.

Both call, from their own thread: ``on_changes(Changes)``, ``on_status(FeedStatus)`` (only
when it changes) and ``on_resync()`` after a reconnect (changes were missed while offline:
reload everything). The callbacks must be quick or hand work on; they must not touch Qt.
"""

from __future__ import annotations

import json
import logging
import os
import select
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from app.store.engine import PG_CONNECT_TIMEOUT_S, Store

log = logging.getLogger(__name__)

CHANNEL = "gridhall_cases"
#: Seconds between reconnection attempts (the last one repeats).
BACKOFF = (0.5, 1.0, 2.0, 3.0)
#: An idle LISTEN connection is checked this often, so a vanished server is noticed.
KEEPALIVE_S = 5.0
#: Username of automatic steps (Actor.system()): they never rename the operator's step.
SYSTEM_ACTOR = "system"


class FeedStatus(StrEnum):
    """Connection state of a change feed (values are shown by the status bar)."""

    ONLINE = "online"
    OFFLINE = "offline"
    RECONNECTING = "reconnecting"

    @property
    def label(self) -> str:
        return {"online": "在线", "offline": "离线", "reconnecting": "重连中"}[self.value]


@dataclass
class Changes:
    """A batch of changes: case id → (action, actor) of its newest step, and claimed case ids."""

    cases: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    claims: set[int] = field(default_factory=set)
    resync: bool = False  # too many at once: reload everything

    def add_case(self, case_id: int, action: str | None, actor: str | None) -> None:
        """Record a change; one without an action, or the system's automatic reply, hides no known one."""
        if case_id not in self.cases or (action is not None and actor != SYSTEM_ACTOR):
            self.cases[case_id] = (action, actor)

    def merge_payload(self, payload: str) -> None:
        """Fold one NOTIFY payload (JSON, see migration 0003) into the batch."""
        try:
            data = json.loads(payload)
        except ValueError:
            log.warning("ignoring a malformed change notification: %.200s", payload)
            return
        if not isinstance(data, dict):
            return
        action, actor = data.get("action"), data.get("actor")
        action = action if isinstance(action, str) else None
        actor = actor if isinstance(actor, str) else None
        (ids, bad_ids), (claims, bad_claims) = _ids(data.get("ids")), _ids(data.get("claims"))
        if bad_ids or bad_claims:
            # any database user may NOTIFY this channel: a bad entry must not stop the feed, nor flood the log
            level = logging.DEBUG if _malformed_seen.is_set() else logging.WARNING
            _malformed_seen.set()
            log.log(level, "ignoring malformed ids in a change notification: %.200s", payload)
        for case_id in ids:
            self.add_case(case_id, action, actor)
        self.claims.update(claims)
        self.resync = self.resync or bool(data.get("resync"))

    def __bool__(self) -> bool:
        return bool(self.cases or self.claims or self.resync)


_malformed_seen = threading.Event()  # the first malformed payload is a warning, the rest are debug


def _ids(value: object) -> tuple[list[int], bool]:
    """The integer ids of a payload list, and whether anything in it was not one (and was skipped)."""
    if value is None:
        return [], False
    if not isinstance(value, list):
        return [], True
    good = [int(v) for v in value
            if (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v.strip().isdigit())]
    return good, len(good) != len(value)


def _ignore(*_args: object) -> None:
    return None


class ChangeFeed:
    """Base of the feeds: callbacks, status bookkeeping and the background thread."""

    name = "change-feed"
    #: Errors of a lost connection (logged briefly); anything else is logged with its traceback.
    expected_errors: tuple[type[BaseException], ...] = (OSError,)
    lost_message = "变更通知连接中断：%s"

    def __init__(self, backoff: tuple[float, ...] = BACKOFF) -> None:
        self._backoff = tuple(backoff) or BACKOFF
        self._failures = 0
        self.on_changes: Callable[[Changes], None] = _ignore
        self.on_status: Callable[[FeedStatus], None] = _ignore
        self.on_resync: Callable[[], None] = _ignore
        self.status = FeedStatus.OFFLINE
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ever_online = False

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run_safely, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run_safely(self) -> None:
        try:
            self._run()
        except Exception:  # a bug here must not die silently: the client would go stale
            log.exception("change feed %s stopped", self.name)
            self._set_status(FeedStatus.OFFLINE)

    def _run(self) -> None:
        """Run sessions until stopped; a failed one is retried with backoff, whatever went wrong."""
        self._failures = 0
        while not self._stop.is_set():
            try:
                if self._failures:
                    self._set_status(FeedStatus.RECONNECTING)
                self._session()
                continue  # a session returns only when asked to stop
            except self.expected_errors as exc:
                if self._stop.is_set():
                    break
                if self._failures == 0:
                    log.warning(self.lost_message, str(exc).strip())
            except Exception:  # a bug or a surprise must not end the feed: every client would go stale
                if self._stop.is_set():
                    break
                if self._failures == 0:
                    log.exception("change feed %s failed; retrying", self.name)
            if self._failures == 0:
                self._set_status(FeedStatus.OFFLINE)
            pause = self._backoff[min(self._failures, len(self._backoff) - 1)]
            self._failures += 1
            if self._wait(pause):
                break
        self._set_status(FeedStatus.OFFLINE)

    def _session(self) -> None:
        """Connect, call :meth:`_connected` once ready, then report changes until stopped (backend hook)."""
        raise NotImplementedError

    def _connected(self) -> None:
        self._failures = 0
        self._set_status(FeedStatus.ONLINE)

    def _set_status(self, status: FeedStatus) -> None:
        if status is self.status:
            return
        self.status = status
        self._call(self.on_status, status)
        if status is FeedStatus.ONLINE:
            if self._ever_online:
                self._call(self.on_resync)  # we were away: notifications were missed
            self._ever_online = True

    def _emit(self, changes: Changes) -> None:
        if changes.resync:
            self._call(self.on_resync)
        if changes.cases or changes.claims:
            self._call(self.on_changes, changes)

    @staticmethod
    def _call(fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except Exception:  # a failing consumer must not stop the feed
            log.exception("change feed callback %r failed", fn)

    def _wait(self, seconds: float) -> bool:
        """Sleep unless stopped; True when asked to stop."""
        return self._stop.wait(seconds)


class PgListener(ChangeFeed):
    """LISTEN gridhall_cases on one dedicated autocommit psycopg2 connection, reconnecting."""

    name = "gridhall-listen"
    expected_errors = (psycopg2.Error, OSError)
    lost_message = "数据库通知连接中断：%s"

    def __init__(self, dsn: dict[str, Any], *, channel: str = CHANNEL, timeout: float = 0.5,
                 backoff: tuple[float, ...] = BACKOFF) -> None:
        super().__init__(backoff)
        self._dsn = dict(dsn)
        self._channel = channel
        self._timeout = timeout

    @classmethod
    def for_store(cls, store: Store, **kw: Any) -> PgListener:
        """A listener on ``store``'s server and database, with its login."""
        args = store.url.translate_connect_args(username="user", database="dbname")
        args.update({k: v for k, v in store.url.query.items() if isinstance(v, str)})
        return cls(args, **kw)

    def _connect(self) -> psycopg2.extensions.connection:
        conn = psycopg2.connect(**self._dsn, connect_timeout=PG_CONNECT_TIMEOUT_S,
                                application_name="gridhall-listen", keepalives=1, keepalives_idle=5,
                                keepalives_interval=2, keepalives_count=2)
        conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with conn.cursor() as cur:
            cur.execute(f'LISTEN "{self._channel}"')
        return conn

    def _session(self) -> None:
        conn = self._connect()
        try:
            self._connected()
            self._listen(conn)
        finally:
            conn.close()

    def _listen(self, conn: psycopg2.extensions.connection) -> None:
        idle = 0.0
        while not self._stop.is_set():
            readable, _, _ = select.select([conn], [], [], self._timeout)
            if not readable:
                idle += self._timeout
                if idle >= KEEPALIVE_S:  # a silent server may be gone: ask it
                    idle = 0.0
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                continue
            idle = 0.0
            conn.poll()  # raises OperationalError when the server closed the connection
            if conn.closed:
                raise psycopg2.OperationalError("the notification connection was closed")
            changes = Changes()
            while conn.notifies:
                changes.merge_payload(conn.notifies.pop(0).payload)
            if changes:
                self._emit(changes)


class SqlitePoller(ChangeFeed):
    """Polls a SpatiaLite file: ``PRAGMA data_version``, then the new case_events and claims."""

    name = "gridhall-poll"
    expected_errors = (sqlite3.Error, OSError)
    lost_message = "无法读取数据库文件的变更：%s"

    def __init__(self, path: str | os.PathLike[str], *, interval: float = 0.5, backoff: tuple[float, ...] = BACKOFF) -> None:
        super().__init__(backoff)
        self._path = str(path)
        self._interval = interval
        self._last_event: int | None = None
        self._claims: dict[int, tuple] | None = None

    def _connect(self) -> sqlite3.Connection:
        # Autocommit and reads only: the poller must never hold a snapshot or a lock; mode=rw
        # (not rwc) so a vanished file is an error instead of a new empty database.
        conn = sqlite3.connect(f"{Path(self._path).as_uri()}?mode=rw", uri=True, isolation_level=None,
                               check_same_thread=False, timeout=5)
        conn.execute("SELECT count(*) FROM case_events WHERE 0")  # fails early on a wrong file
        return conn

    def _session(self) -> None:
        conn = self._connect()
        try:
            version = None
            first = self._last_event is None
            changes = self._read(conn)
            if not first and changes:
                self._emit(changes)  # what was committed while we were away
            self._connected()
            while not self._wait(self._interval):
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now == version:
                    continue
                version = now
                changes = self._read(conn)
                if changes:
                    self._emit(changes)
        finally:
            conn.close()

    def _read(self, conn: sqlite3.Connection) -> Changes:
        changes = Changes()
        if self._last_event is None:
            self._last_event = conn.execute("SELECT coalesce(max(id), 0) FROM case_events").fetchone()[0]
        else:
            rows = conn.execute(
                "SELECT id, case_id, action, actor FROM case_events WHERE id > ? ORDER BY id",
                (self._last_event,)).fetchall()
            for event_id, case_id, action, actor in rows:
                self._last_event = event_id
                changes.add_case(case_id, action, actor)
        claims = {r[0]: tuple(r[1:]) for r in conn.execute(
            "SELECT case_id, holder, workstation, action, expires_at FROM case_claims")}
        if self._claims is not None:
            changes.claims = {cid for cid in claims.keys() | self._claims.keys()
                              if claims.get(cid) != self._claims.get(cid)}
        self._claims = claims
        return changes


def change_feed(store: Store, **kw: Any) -> ChangeFeed:
    """The change feed that fits ``store``'s backend (not started)."""
    if store.backend == "postgis":
        return PgListener.for_store(store, **kw)
    assert store.path is not None  # a SpatiaLite store is a file
    return SqlitePoller(store.path, **kw)


__all__ = ["CHANNEL", "ChangeFeed", "Changes", "FeedStatus", "PgListener", "SqlitePoller", "change_feed"]
