"""Connectivity: whether the database can be reached now, and refusing work while it cannot.

Fed by the change feed's status (the LISTEN connection notices a server restart first) and by
failed service calls (a dropped connection surfaces as an SQLAlchemy OperationalError or
InterfaceError). While offline, guarded calls are refused with ``OFFLINE_MESSAGE`` before they
start; a call that loses its connection midway is rolled back by the database (the service's
single transaction never commits) and reported with the same message. Recovery is automatic:
the feed reports ``online`` again, or a cheap probe succeeds (the engine's pool_pre_ping
replaces dead pooled connections).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.services.errors import ServiceError
from app.store import security
from app.store.engine import Store
from app.store.notify import FeedStatus

log = logging.getLogger(__name__)

OFFLINE_MESSAGE = "数据库连接中断：本操作未执行，连接恢复后请重试"
#: PostgreSQL SQLSTATEs of a lost server: connection exceptions (08…) and shutdowns.
_DISCONNECT_STATES = ("57P01", "57P02", "57P03")
_SQLITE_GONE = ("unable to open database", "disk i/o error")

T = TypeVar("T")


class OfflineError(ServiceError):
    """The database cannot be reached: the operation was not carried out (nothing written)."""

    def __init__(self, message: str = OFFLINE_MESSAGE) -> None:
        super().__init__(message)


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` means the connection to the database is lost (not a refused statement)."""
    if isinstance(exc, OfflineError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    orig = exc.orig
    code = getattr(orig, "pgcode", "absent")
    if code == "absent":  # SQLite
        return any(s in str(orig).lower() for s in _SQLITE_GONE)
    # No SQLSTATE: libpq lost the socket ("server closed the connection unexpectedly").
    return code is None or code.startswith("08") or code in _DISCONNECT_STATES


class Connectivity:
    """The client's view of the database connection; thread-safe.

    ``status`` is ``FeedStatus.ONLINE`` / ``OFFLINE`` / ``RECONNECTING``; ``on_change(cb)``
    calls ``cb(status)`` on whatever thread noticed the change (wrap it with the GUI deliverer).
    """

    def __init__(self, probe: Callable[[], None] | None = None) -> None:
        self._probe = probe
        self._lock = threading.Lock()
        self._feed = FeedStatus.ONLINE  # until a feed says otherwise
        self._failed = False  # a call lost its connection since the feed was last (re)connected
        self._listeners: list[Callable[[FeedStatus], None]] = []
        self._last = self.status
        self._seq = 0  # numbers each announced change; only the newest is delivered
        self._delivering = threading.RLock()  # one delivery at a time (RLock: a listener may report)

    @classmethod
    def for_store(cls, store: Store) -> Connectivity:
        """A Connectivity that probes ``store`` with ``SELECT 1``."""

        return cls(lambda: security.ping(store.engine))

    # -- state ----------------------------------------------------------------------------
    @property
    def status(self) -> FeedStatus:
        if self._feed is not FeedStatus.ONLINE:
            return self._feed
        return FeedStatus.OFFLINE if self._failed else FeedStatus.ONLINE

    @property
    def online(self) -> bool:
        return self.status is FeedStatus.ONLINE

    def on_change(self, callback: Callable[[FeedStatus], None]) -> Callable[[], None]:
        """Call ``callback(status)`` whenever the status changes; returns the disconnector."""
        with self._lock:
            self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def feed_status(self, status: FeedStatus | str) -> None:
        """The change feed's status (connect LiveSync/ChangeFeed ``on_status`` here)."""
        status = FeedStatus(status)
        with self._lock:
            if status is FeedStatus.ONLINE and self._feed is not FeedStatus.ONLINE:
                self._failed = False  # a fresh connection: the server is back
            self._feed = status
        self._announce()

    def report_failure(self, exc: BaseException) -> bool:
        """Note a failed call; True (and offline) when it was a lost connection."""
        if not is_disconnect(exc):
            return False
        with self._lock:
            self._failed = True
        log.warning("数据库连接中断：%s", exc)
        self._announce()
        return True

    def _succeeded(self) -> None:
        if self._failed:
            with self._lock:
                self._failed = False
            self._announce()

    def _announce(self) -> None:
        # Two threads may announce at once: deliveries are serialised and a change already
        # superseded is dropped, so the listeners always end with the current status.
        with self._lock:
            now = self.status
            if now is self._last:
                return
            self._last = now
            self._seq += 1
            seq = self._seq
        with self._delivering:
            with self._lock:
                if seq != self._seq:
                    return  # a newer status was announced meanwhile: its own call delivers it
                targets = list(self._listeners)
            for cb in targets:
                try:
                    cb(now)
                except Exception:
                    log.exception("connectivity listener %r failed", cb)

    # -- guarding calls -------------------------------------------------------------------
    def check(self) -> None:
        """Raise OfflineError unless the database is reachable (probing after a failed call)."""
        with self._lock:
            feed, failed = self._feed, self._failed
        if feed is not FeedStatus.ONLINE:
            raise OfflineError()
        if failed and self._probe is not None:
            try:
                self._probe()
            except Exception as exc:
                self.report_failure(exc)
                raise OfflineError() from exc
            self._succeeded()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` unless offline; a lost connection becomes OfflineError (nothing was written)."""
        self.check()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            if self.report_failure(exc):
                raise OfflineError() from exc
            raise
        self._succeeded()
        return result

    def wrap(self, service: Any) -> Any:
        """A proxy of ``service`` whose public methods run through :meth:`call`."""
        return _Guarded(service, self)


class _Guarded:
    """Forwards attribute access to a service; its public callables are guarded."""

    def __init__(self, service: Any, connectivity: Connectivity) -> None:
        self._service = service
        self._connectivity = connectivity

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._service, name)
        if name.startswith("_") or not callable(attr):
            return attr

        @functools.wraps(attr)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return self._connectivity.call(attr, *args, **kwargs)

        return guarded


__all__ = ["OFFLINE_MESSAGE", "Connectivity", "OfflineError", "is_disconnect"]
