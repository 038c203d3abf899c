"""Change feeds: hear about committed case changes made by any client of the store.

PostGIS: ``PgListener`` holds ONE dedicated connection that LISTENs on ``gridhall_cases`` in a
background thread, waiting in ``select()`` on the socket. A notification is only a hint (any
login may NOTIFY any channel, and anyone may LISTEN): its payload names no case (migration
0008: ``{"chain": N}``, ``{"claims": true}``). On a hint the listener reads, on the same
connection and through the login's own row-level security, the links of the audit chain
after the last one it saw (with their case, action and actor) and, for claims, the claims
table; only what it reads becomes a change. A forged hint therefore costs one small read and
reports nothing; hints are coalesced, a hint that brought nothing pauses reading for
``QUIET_S``, and a hint whose link was already read costs nothing. A department reads only
its own cases' links; when links it cannot see went by, it checks whether the cases it shows
(``watched``) are still visible, so a case taken away from it leaves its queue.
SpatiaLite: ``SqlitePoller`` checks ``PRAGMA data_version`` (which moves when another
connection commits) every half second and then reads the new case_events.

Both call, from their own thread: ``on_changes(Changes)``, ``on_status(FeedStatus)`` (only
when it changes) and ``on_resync()`` after a reconnect (changes were missed while offline:
reload everything) or when more links arrived at once than a batch reads. The callbacks must
be quick or hand work on; they must not touch Qt.
"""

from __future__ import annotations

import json
import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from app.store.engine import PG_CONNECT_TIMEOUT_S, Store
from app.store.locks import apply_session_limits, is_lock_timeout, release_on

log = logging.getLogger(__name__)

CHANNEL = "gridhall_cases"
#: Seconds between reconnection attempts (the last one repeats).
BACKOFF = (0.5, 1.0, 2.0, 3.0)
#: An idle LISTEN connection is checked this often, so a vanished server is noticed.
KEEPALIVE_S = 5.0
#: Username of automatic steps (Actor.system()): they never rename the operator's step.
SYSTEM_ACTOR = "system"
#: Links read per hint at most; more at once (a bulk import) ask the client to reload instead.
MAX_LINKS = 2000
#: After a hint that brought nothing new (forged, or a duplicate), the next read waits this long.
QUIET_S = 0.2


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
    moved: bool = False  # the read found something new (even if nothing this login may see)

    def add_case(self, case_id: int, action: str | None, actor: str | None) -> None:
        """Record a change; one without an action, or the system's automatic reply, hides no known one."""
        if case_id not in self.cases or (action is not None and actor != SYSTEM_ACTOR):
            self.cases[case_id] = (action, actor)

    def __bool__(self) -> bool:
        return bool(self.cases or self.claims or self.resync)


def parse_hint(payload: str) -> tuple[int | None, bool]:
    """(chain number, claims changed) of a notification's payload; (None, False) for anything else.

    A hint is never trusted: it only says when to look (see the module).
    """
    if not payload.startswith("{"):
        return None, False
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # anyone may NOTIFY: malformed, deeply nested, huge numbers
        return None, False
    if not isinstance(data, dict):
        return None, False
    chain = data.get("chain")
    if isinstance(chain, bool) or not isinstance(chain, int):
        chain = None
    return chain, data.get("claims") is True


def _no_ids() -> Collection[int]:
    return ()


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
        #: Case ids the client shows (LiveSync sets it): checked when links it cannot see went by.
        self.watched: Callable[[], Collection[int]] = _no_ids
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
    """LISTEN gridhall_cases on one dedicated autocommit psycopg2 connection, reconnecting.

    Notifications are hints: what changed is read from the tables on the same connection.
    """

    name = "gridhall-listen"
    expected_errors = (psycopg2.Error, OSError)
    lost_message = "数据库通知连接中断：%s"

    #: The head of the chain and the links after ``last`` (at most ``n``), in one statement (one snapshot).
    LINKS_SQL = """
SELECT h.chain_no, e.chain_no, e.case_id, e.action, e.actor
  FROM audit_head h
  LEFT JOIN LATERAL (SELECT chain_no, case_id, action, actor FROM case_events
                      WHERE chain_no > %(last)s AND chain_no <= h.chain_no
                      ORDER BY chain_no LIMIT %(n)s) e ON true
 WHERE h.id = 1 ORDER BY e.chain_no"""
    #: Without SELECT on audit_head: the visible links only.
    VISIBLE_LINKS_SQL = """
SELECT NULL, chain_no, case_id, action, actor FROM case_events
 WHERE chain_no > %(last)s ORDER BY chain_no LIMIT %(n)s"""
    CLAIMS_SQL = "SELECT case_id, holder, workstation, action, expires_at FROM case_claims"

    def __init__(self, dsn: dict[str, Any], *, channel: str = CHANNEL, timeout: float = 0.5,
                 backoff: tuple[float, ...] = BACKOFF, quiet: float = QUIET_S, max_links: int = MAX_LINKS) -> None:
        super().__init__(backoff)
        self._dsn = dict(dsn)
        self._channel = channel
        self._timeout = timeout
        self._quiet = quiet
        self._max_links = max_links
        self._last: int | None = None  # the last link of the chain read
        self._claims: dict[int, tuple] | None = None
        self._head_readable = True
        #: Reads made (events or claims): how much the hints cost (tests, bench).
        self.reads = 0

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
        apply_session_limits(conn)
        with conn.cursor() as cur:
            cur.execute(f'LISTEN "{self._channel}"')
        return conn

    def _session(self) -> None:
        conn = self._connect()
        try:
            first = self._last is None
            changes = self._read(conn, events=True, claims=True)
            if not first and changes:
                self._emit(changes)  # what was committed while we were away
            self._connected()
            self._listen(conn)
        finally:
            conn.close()

    def _listen(self, conn: psycopg2.extensions.connection) -> None:
        idle = 0.0
        want_events = want_claims = False
        quiet_until = 0.0
        while not self._stop.is_set():
            wait = self._timeout
            if want_events or want_claims:
                now = time.monotonic()
                if now >= quiet_until:
                    changes = self._read(conn, events=want_events, claims=want_claims)
                    if changes is None:  # locked out: try again a little later
                        quiet_until = time.monotonic() + max(self._quiet, 1.0)
                        continue
                    want_events = want_claims = False
                    if changes:
                        self._emit(changes)
                    elif not changes.moved:
                        quiet_until = time.monotonic() + self._quiet  # nothing new: a forged or stale hint
                    continue
                wait = min(wait, quiet_until - now)
            readable, _, _ = select.select([conn], [], [], wait)
            if not readable:
                idle += wait
                if idle >= KEEPALIVE_S:  # a silent server may be gone: ask it
                    idle = 0.0
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                continue
            idle = 0.0
            conn.poll()  # raises OperationalError when the server closed the connection
            if conn.closed:
                raise psycopg2.OperationalError("the notification connection was closed")
            while conn.notifies:
                chain, claims = parse_hint(conn.notifies.pop(0).payload)
                if chain is not None and (self._last is None or chain > self._last):
                    want_events = True
                want_claims = want_claims or claims

    # -- reading what changed --------------------------------------------------------------
    def _read(self, conn: psycopg2.extensions.connection, *, events: bool, claims: bool) -> Changes | None:
        """The changes since the last read (None: a lock timeout kept the tables out of reach)."""
        changes = Changes()
        try:
            if events:
                self._read_links(conn, changes)
            if claims:
                self._read_claims(conn, changes)
        except psycopg2.Error as exc:
            if not is_lock_timeout(exc) and exc.pgcode != "57014":  # lock or statement timeout
                raise
            release_on(conn)  # a session holds a table lock: ask the database to end it
            return None
        return changes

    def _read_links(self, conn: psycopg2.extensions.connection, changes: Changes) -> None:
        self.reads += 1
        last = self._last if self._last is not None else 0
        rows = self._links(conn, last)
        head = rows[0][0] if rows and rows[0][0] is not None else None
        links = [r[1:] for r in rows if r[1] is not None]
        if self._last is None:  # the first read: everything before now is in the first load
            self._last = head if head is not None else (links[-1][0] if links else 0)
            changes.moved = True
            return
        if len(links) > self._max_links:
            changes.resync = True  # the client reloads everything up to the head
            links = links[:self._max_links]
        for _chain_no, case_id, action, actor in links:
            changes.add_case(case_id, action, actor)
        seen = links[-1][0] if links else last
        new_last = max(last, head if head is not None else seen)
        changes.moved = new_last > last
        self._last = new_last
        if changes.resync:
            return
        # Links went by that this login cannot see (another department's cases): one of them may
        # have taken a shown case away. Without the head, any hint may hide such a link.
        if head is None or (new_last - last) > len(links):
            self._check_watched(conn, changes)

    def _links(self, conn: psycopg2.extensions.connection, last: int) -> list[tuple]:
        args = {"last": last, "n": self._max_links + 1}
        with conn.cursor() as cur:
            if self._head_readable:
                try:
                    cur.execute(self.LINKS_SQL, args)
                    return cur.fetchall()
                except psycopg2.errors.InsufficientPrivilege:
                    self._head_readable = False
            cur.execute(self.VISIBLE_LINKS_SQL, args)
            return cur.fetchall()

    def _check_watched(self, conn: psycopg2.extensions.connection, changes: Changes) -> None:
        """Cases shown by the client that this login no longer sees: reported (as gone) too."""
        try:
            watched = [int(i) for i in self.watched() if i not in changes.cases]
        except Exception:  # a consumer's bug must not stop the feed
            log.exception("change feed: reading the watched cases failed")
            return
        if not watched:
            return
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM cases WHERE id = ANY(%s)", (watched,))
            visible = {r[0] for r in cur.fetchall()}
        for case_id in watched:
            if case_id not in visible:
                changes.add_case(case_id, None, None)
                changes.moved = True

    def _read_claims(self, conn: psycopg2.extensions.connection, changes: Changes) -> None:
        self.reads += 1
        with conn.cursor() as cur:
            cur.execute(self.CLAIMS_SQL)
            claims = {r[0]: tuple(r[1:]) for r in cur.fetchall()}
        if self._claims is not None:
            changes.claims = {cid for cid in claims.keys() | self._claims.keys()
                              if claims.get(cid) != self._claims.get(cid)}
            changes.moved = changes.moved or bool(changes.claims)
        self._claims = claims


def _file_identity(path: str) -> tuple[int, int]:
    """The file at ``path`` (device, inode): an open connection keeps reading a file moved away or
    replaced, so the poller compares it with the one it opened (OSError when it is gone)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


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
            opened = _file_identity(self._path)
            while not self._wait(self._interval):
                if _file_identity(self._path) != opened:  # moved away or replaced (a restore): lost
                    raise OSError(f"{self._path} was moved or replaced")
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


__all__ = ["CHANNEL", "MAX_LINKS", "QUIET_S", "ChangeFeed", "Changes", "FeedStatus", "PgListener", "SqlitePoller",
           "change_feed", "parse_hint"]
