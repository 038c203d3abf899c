"""The work's side of a job: progress reports and a cancel flag, thread-safe and Qt-free."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.jobs.listeners import Listeners

ProgressListener = Callable[[float, str], None]


class Cancelled(Exception):
    """Raised by :meth:`Feedback.check` after :meth:`Feedback.cancel`; the work undoes itself."""


class Feedback:
    """Progress (0..1 and a message) and cancellation shared by a job and whoever watches it.

    The work calls :meth:`progress` and :meth:`check`; a watcher (terminal bar, status bar)
    listens with :meth:`subscribe` and may call :meth:`cancel` from any thread.
    """

    def __init__(self, listener: ProgressListener | None = None) -> None:
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._listeners: Listeners[ProgressListener] = Listeners()
        if listener is not None:
            self._listeners.add(listener)
        self._on_cancel: list[Callable[[], None]] = []
        self.fraction = 0.0
        self.message = ""

    def subscribe(self, listener: ProgressListener) -> Callable[[], None]:
        """Call ``listener(fraction, message)`` on every report; returns the unsubscribe function."""
        return self._listeners.add(listener)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` done (clamped to 0..1) with ``message``.

        Never raises, not even after a cancel: work may report after it committed (``1.0, 完成``).
        Stop at :meth:`check` instead.
        """
        self.fraction = min(1.0, max(0.0, float(fraction)))
        if message:
            self.message = message
        for listener in self._listeners.snapshot():
            listener(self.fraction, self.message)

    __call__ = progress  # a Feedback is also a plain ``progress(fraction, message)`` callback

    def cancel(self) -> None:
        """Ask the work to stop at its next :meth:`check`; runs the :meth:`on_cancel` callbacks once."""
        with self._lock:
            first = not self._cancel.is_set()
            self._cancel.set()
            callbacks = list(self._on_cancel) if first else []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` (on the cancelling thread) when cancel is asked for; at once if it was.

        For work that waits on something else that has its own cancel (a QgsFeedback, a
        database statement). Returns the unsubscribe function.
        """
        with self._lock:
            already = self._cancel.is_set()
            if not already:
                self._on_cancel.append(callback)
        if already:
            callback()

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._on_cancel:
                    self._on_cancel.remove(callback)

        return unsubscribe

    @property
    def cancelled(self) -> bool:
        """Whether cancel was asked for."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancel was asked for (call at points where stopping is safe)."""
        if self._cancel.is_set():
            raise Cancelled()

    def child(self, start: float, end: float) -> Feedback:
        """A Feedback for a sub-step that maps its 0..1 onto ``start..end`` of this one and shares cancel."""
        sub = _Child(self, start, end)
        return sub


class _Child(Feedback):
    def __init__(self, parent: Feedback, start: float, end: float) -> None:
        super().__init__()
        self._parent, self._start, self._end = parent, start, end
        self._cancel = parent._cancel  # one cancel flag for the whole job

    def cancel(self) -> None:
        self._parent.cancel()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        return self._parent.on_cancel(callback)

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        self._parent.progress(self._start + (self._end - self._start) * self.fraction, self.message)

    __call__ = progress
