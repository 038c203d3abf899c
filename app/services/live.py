"""Live sync: committed changes of any client reach this client's queue and CaseBus within a second.

The change feed (app/store/notify.py) calls in from its own thread; LiveSync loads the changed
rows there (never on the GUI thread) and hands one closure per batch to ``deliver``, a
thread-safe callable that runs it on the GUI thread (app/ui/live_bridge.GuiDeliverer). The
closure upserts or removes the rows in the queue and publishes ``CaseChanged`` on the bus.

This client's own changes come back through the feed too: rows whose version was already
published on the bus (the services publish after commit) are skipped, so nothing flashes twice.

Only what the feed read from the tables arrives here (on PostGIS through this login's
row-level security): a notification is a hint, never data, so a forged one shows nothing and
reloads nothing. The feed asks :meth:`LiveSync.watched` which cases the queue shows, to find
those this login can no longer see (a case taken away from a department leaves its queue).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from typing import Protocol

from app.domain.cases import CaseSummary
from app.domain.definitions import OPEN_STATES
from app.services.bus import CaseBus, CaseChanged
from app.services.connectivity import Connectivity
from app.store.notify import ChangeFeed, Changes, FeedStatus

log = logging.getLogger(__name__)

#: More changed cases than this in one batch: reload the whole queue instead of row by row.
BULK_LIMIT = 300

Deliver = Callable[[Callable[[], None]], None]


class QueueSink(Protocol):
    """What LiveSync changes in the view's queue (``app.views.queue_state.QueueState`` fits)."""

    def upsert(self, row: CaseSummary, action: str | None = None) -> None: ...

    def remove(self, case_id: int, action: str | None = None, version: int | None = None) -> None: ...


def apply_row(queue: QueueSink, case_id: int, row: CaseSummary | None, action: str | None = None) -> None:
    """Show a freshly read row in ``queue``: removed when gone (or not visible) or closed, else upserted."""
    if row is None:
        queue.remove(case_id, action)
    elif row.state not in OPEN_STATES:
        queue.remove(case_id, action, row.version)  # the version keeps a late, older read from reviving it
    else:
        queue.upsert(row, action)


class CaseReader(Protocol):
    """Loads one case row (``StoreCaseSource`` fits); None when gone or not visible to this login."""

    def case(self, case_id: int) -> CaseSummary | None: ...


class LiveSync:
    """Connects a change feed to the queue and the bus; ``start()``/``close()``.

    ``on_resync()`` (GUI thread) reloads everything: after a reconnect or a bulk change.
    ``on_status(FeedStatus)`` and ``on_claims(set[int])`` also run on the GUI thread;
    ``connectivity`` (if given) hears the feed's status at once, on the feed's thread.
    """

    def __init__(self, feed: ChangeFeed, source: CaseReader, bus: CaseBus, deliver: Deliver, *,
                 queue: QueueSink | None = None, on_resync: Callable[[], None] | None = None,
                 on_status: Callable[[FeedStatus], None] | None = None,
                 on_claims: Callable[[set[int]], None] | None = None, connectivity: Connectivity | None = None,
                 bulk_limit: int = BULK_LIMIT) -> None:
        self.feed = feed
        self.source = source
        self.bus = bus
        self.queue = queue
        self._deliver = deliver
        self._on_resync = on_resync
        self._on_status = on_status
        self._on_claims = on_claims
        self._connectivity = connectivity
        self._bulk_limit = bulk_limit
        self._lock = threading.Lock()
        self._seen: dict[int, int] = {}  # case id -> newest version already published
        feed.on_changes = self._changed
        feed.on_resync = self._resync
        feed.on_status = self._status
        feed.watched = self.watched
        self._unsubscribe = bus.subscribe(self._heard)

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start listening."""
        self.feed.start()

    def close(self) -> None:
        """Stop listening and leave the bus."""
        self.feed.stop()
        self._unsubscribe()

    @property
    def status(self) -> FeedStatus:
        return self.feed.status

    # -- feed thread ----------------------------------------------------------------------
    def watched(self) -> list[int]:
        """The case ids the queue shows (read from the feed's thread: a snapshot of its rows)."""
        rows = getattr(self.queue, "rows", None)
        if rows is None:
            return []
        return [row.id for row in tuple(rows)]

    def _heard(self, change: CaseChanged) -> None:
        with self._lock:
            for case_id, version in change.versions.items():
                if version > self._seen.get(case_id, -1):
                    self._seen[case_id] = version

    def _changed(self, changes: Changes) -> None:
        on_claims = self._on_claims
        if changes.claims and on_claims is not None:
            claims = set(changes.claims)
            self._deliver(lambda: on_claims(claims))
        if not changes.cases:
            return
        if len(changes.cases) > self._bulk_limit:
            self._resync()
            return
        loaded: list[tuple[int, CaseSummary | None, str | None, str | None]] = []
        for case_id, (action, actor) in changes.cases.items():
            try:
                row = self.source.case(case_id)
            except Exception:  # the listener reports the outage; the resync after it catches up
                log.warning("reloading changed case %s failed", case_id, exc_info=True)
                continue
            with self._lock:
                if row is not None and row.version <= self._seen.get(case_id, -1):
                    continue  # already shown: this client's own change, or an older notification
            loaded.append((case_id, row, action, actor))
        if loaded:
            self._deliver(lambda: self._apply(loaded))

    def _resync(self) -> None:
        if self._on_resync is not None:
            self._deliver(self._on_resync)

    def _status(self, status: FeedStatus) -> None:
        if self._connectivity is not None:  # at once, on this thread: refusals must not wait for the GUI
            self._connectivity.feed_status(status)
        on_status = self._on_status
        if on_status is not None:
            self._deliver(lambda: on_status(status))

    # -- GUI thread -----------------------------------------------------------------------
    def _apply(self, loaded: list[tuple[int, CaseSummary | None, str | None, str | None]]) -> None:
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        versions: dict[int, int] = {}
        # the batch's rows are one change for the views (QueueState.batch): one repaint, not one per case
        batch = getattr(self.queue, "batch", None)
        with batch() if batch is not None else nullcontext():
            for case_id, row, action, actor in loaded:
                with self._lock:  # a newer row may have been delivered meanwhile
                    if row is not None and row.version <= self._seen.get(case_id, -1):
                        continue
                if self.queue is not None:
                    apply_row(self.queue, case_id, row, action)
                if row is not None:
                    versions[case_id] = row.version
                groups[(action or "update", actor or "")].append(case_id)
        for (action, actor), ids in groups.items():
            self.bus.publish(CaseChanged(tuple(ids), action, actor,
                                         versions={i: versions[i] for i in ids if i in versions}))


__all__ = ["BULK_LIMIT", "CaseReader", "LiveSync", "QueueSink", "apply_row"]
