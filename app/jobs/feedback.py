"""The work's side of a job: progress reports and a cancel flag, thread-safe and Qt-free."""

from __future__ import annotations

import threading
from collections.abc import Callable

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
        self._listeners: list[ProgressListener] = [listener] if listener is not None else []
        self.fraction = 0.0
        self.message = ""

    def subscribe(self, listener: ProgressListener) -> Callable[[], None]:
        """Call ``listener(fraction, message)`` on every report; returns the unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def progress(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` done (clamped to 0..1) with ``message``; also a cancel point."""
        self.fraction = min(1.0, max(0.0, float(fraction)))
        if message:
            self.message = message
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(self.fraction, self.message)

    __call__ = progress  # a Feedback is also a plain ``progress(fraction, message)`` callback

    def cancel(self) -> None:
        """Ask the work to stop at its next :meth:`check`."""
        self._cancel.set()

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

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        self._parent.progress(self._start + (self._end - self._start) * self.fraction, self.message)

    __call__ = progress
