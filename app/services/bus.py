"""A tiny in-process event bus: services publish after commit; views and plugins subscribe.

Issue 4 feeds the same bus from PostgreSQL LISTEN/NOTIFY, so subscribers must not assume the
change was made in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseChanged:
    """Cases changed: which, by which action (``Action`` value) and by whom (username)."""

    case_ids: tuple[int, ...]
    action: str
    actor: str
    at: datetime | None = None
    versions: dict[int, int] = field(default_factory=dict, compare=False)  # case id -> new version


Subscriber = Callable[[CaseChanged], None]


class CaseBus:
    """Publish/subscribe for ``CaseChanged``; a failing subscriber is logged and skipped."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` for every change; returns a function that unsubscribes it."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, change: CaseChanged) -> None:
        """Deliver ``change`` to every subscriber, in subscription order, on the caller's thread."""
        with self._lock:
            targets = list(self._subscribers)
        for callback in targets:
            try:
                callback(change)
            except Exception:  # a broken plugin must not undo or block a committed change
                log.exception("案卷变更通知的订阅者出错（已跳过）：%r", callback)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscribers)


__all__ = ["CaseBus", "CaseChanged", "Subscriber"]
