"""Coalesce bursts of calls on the GUI thread: a burst of 50 live changes is a few reloads, not 50."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QObject, QTimer
from qtpy.QtWidgets import QWidget

from app.ui.sight import WhenSeen, out_of_sight

#: Longest a list waits to show the last change of a burst (ms).
INTERVAL_MS = 250


class Throttle(QObject):
    """Call ``fn`` at once on the first call, then at most once per ``interval_ms`` while calls
    keep coming; the last call of a burst is never lost (a trailing call follows it).

    With a widget as ``parent`` (the list it reloads), calls that come while that widget is out
    of sight in a shown window (its dock closed, or a tab behind another: ``app.ui.sight``) wait:
    ``fn`` runs once when the widget is seen again. A list nobody sees costs nothing, however
    much changes."""

    def __init__(self, fn: Callable[[], object], interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self._fn = fn
        self._pending = False
        self._on_show = False  # called while the widget was hidden: call when it is shown
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)
        self._widget = parent if isinstance(parent, QWidget) else None
        self._sight = WhenSeen(self._widget, self._seen) if self._widget is not None else None

    def _hidden(self) -> bool:
        return self._widget is not None and out_of_sight(self._widget)

    def _defer(self) -> None:
        self._on_show = True
        if self._sight is not None:
            self._sight.arm()

    def _seen(self) -> None:
        if self._on_show:
            self._on_show = False
            self._fn()
            self._timer.start()

    def __call__(self, *_args) -> None:
        if self._hidden():
            self._defer()
            return
        if self._timer.isActive():
            self._pending = True  # within the interval: once more when it ends
            return
        self._fn()
        self._timer.start()

    def pending(self) -> bool:
        """Whether a trailing call is still to come (or waits for the widget to be shown)."""
        return self._pending or self._on_show

    def flush(self) -> None:
        """Make a pending call now (tests, teardown)."""
        if self._pending or self._on_show:
            self._pending = self._on_show = False
            if self._sight is not None:
                self._sight.disarm()
            self._fn()

    def cancel(self) -> None:
        self._pending = self._on_show = False
        if self._sight is not None:
            self._sight.disarm()
        self._timer.stop()

    def _fire(self) -> None:
        if self._pending:
            self._pending = False
            if self._hidden():
                self._defer()
                return
            self._fn()
            self._timer.start()
