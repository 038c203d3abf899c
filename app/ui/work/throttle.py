"""Coalesce bursts of calls on the GUI thread: a burst of 50 live changes is a few reloads, not 50."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QObject, QTimer

#: Longest a list waits to show the last change of a burst (ms).
INTERVAL_MS = 250


class Throttle(QObject):
    """Call ``fn`` at once on the first call, then at most once per ``interval_ms`` while calls
    keep coming; the last call of a burst is never lost (a trailing call follows it)."""

    def __init__(self, fn: Callable[[], object], interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self._fn = fn
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    def __call__(self, *_args) -> None:
        if self._timer.isActive():
            self._pending = True  # within the interval: once more when it ends
            return
        self._fn()
        self._timer.start()

    def pending(self) -> bool:
        """Whether a trailing call is still to come."""
        return self._pending

    def flush(self) -> None:
        """Make a pending call now (tests, teardown)."""
        if self._pending:
            self._pending = False
            self._fn()

    def cancel(self) -> None:
        self._pending = False
        self._timer.stop()

    def _fire(self) -> None:
        if self._pending:
            self._pending = False
            self._fn()
            self._timer.start()
