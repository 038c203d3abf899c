"""A thread-safe list of listeners with unsubscribe handles (the jobs' progress and events)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

L = TypeVar("L")


class Listeners(Generic[L]):
    """Add from any thread, get an unsubscribe function back; :meth:`snapshot` to call them unlocked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[L] = []

    def add(self, listener: L) -> Callable[[], None]:
        """Keep ``listener``; returns the function that drops it again (idempotent)."""
        with self._lock:
            self._items.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._items:
                    self._items.remove(listener)

        return remove

    def snapshot(self) -> list[L]:
        """The listeners now, to call outside the lock (a listener may subscribe or unsubscribe)."""
        with self._lock:
            return list(self._items)
