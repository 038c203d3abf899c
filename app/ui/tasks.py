"""Run slow calls (store queries) off the GUI thread and deliver results back on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

log = logging.getLogger(__name__)


class _Job(QRunnable):
    """Calls ``fn`` in a pool thread and reports through the runner's signal."""

    def __init__(self, runner: TaskRunner, ticket: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._runner = runner
        self._ticket = ticket
        self._fn = fn

    def run(self) -> None:
        try:
            result, ok = self._fn(), True
        except Exception as exc:  # delivered to on_error on the GUI thread
            log.debug("task %s failed", self._ticket, exc_info=True)
            result, ok = exc, False
        # The runner lives in the GUI thread, so this emission is queued to it.
        self._runner.finished.emit(self._ticket, ok, result)


class TaskRunner(QObject):
    """Runs callables in a private thread pool; callbacks run on the GUI thread.

    Submissions sharing a ``key`` supersede each other: when the selection changes, the
    answer to the stale request is dropped instead of overwriting the newer one.
    """

    finished = Signal(int, bool, object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._next = 0
        self._pending: dict[int, tuple[str | None, Callable, Callable | None]] = {}
        self._latest: dict[str, int] = {}
        self.finished.connect(self._deliver)

    def run_in_thread(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        key: str | None = None,
    ) -> int:
        """Call ``fn()`` in a worker; then ``on_done(result)`` or ``on_error(exc)``. Returns a ticket."""
        self._next += 1
        ticket = self._next
        self._pending[ticket] = (key, on_done, on_error)
        if key is not None:
            self._latest[key] = ticket
        self._pool.start(_Job(self, ticket, fn))
        return ticket

    def cancel(self, key: str) -> None:
        """Forget the outstanding request under ``key``: its answer will be dropped."""
        self._latest.pop(key, None)

    def is_busy(self) -> bool:
        """True while some submitted call has not been delivered yet."""
        return bool(self._pending)

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until the workers are idle (tests and shutdown only; never from a slot)."""
        return self._pool.waitForDone(msecs)

    @Slot(int, bool, object)
    def _deliver(self, ticket: int, ok: bool, result: object) -> None:
        key, on_done, on_error = self._pending.pop(ticket, (None, None, None))
        if on_done is None:
            return
        if key is not None:
            if self._latest.get(key) != ticket:
                return  # superseded or cancelled
            del self._latest[key]
        if ok:
            on_done(result)
        elif on_error is not None:
            on_error(result)  # type: ignore[arg-type]
        else:
            log.error("background task failed", exc_info=result)  # type: ignore[arg-type]


#: Longest a worker waits for the GUI's event loop at a :class:`LoopGate` (seconds): a GUI busy
#: longer than this (a modal wait, a stuck call) does not hold the work up for ever.
GATE_TIMEOUT_S = 1.0


class LoopGate(QObject):
    """Lets a worker thread wait until the GUI thread's event loop has come round.

    A worker running Python (a bulk action's cases) holds the interpreter lock for milliseconds
    at a time, and the GUI thread needs that lock for every call into Python while it paints (a
    4K queue asks its model some 3,600 times per repaint): it would get it once per switch
    interval (5 ms) for as long as the worker has work. A worker that calls :meth:`wait` between
    its steps lets each GUI event (a repaint, a change applied, the clock) run through first.
    Create it on the GUI thread."""

    _asked = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._asked.connect(self._answer)  # queued: the gate lives on the GUI thread
        self._stuck = False  # the GUI did not answer in time: its loop is not running (a teardown)
        self._closed = False

    def wait(self, timeout_s: float = GATE_TIMEOUT_S) -> bool:
        """Block until the GUI thread has handled what was posted before this call and its
        timers have had a turn (True), or ``timeout_s`` passed (False). On the GUI thread itself,
        once the gate is gone, and after one wait in vain (the GUI waits for this worker at a
        teardown) until the GUI answers again, it returns at once."""
        if self._closed or self._stuck or QThread.currentThread() == self.thread():
            return True
        done = threading.Event()
        try:
            self._asked.emit(done)
        except RuntimeError:  # the gate was deleted (its dialog closed): nothing to wait for
            return True
        if done.wait(timeout_s):
            return True
        self._stuck = True
        return False

    def close(self) -> None:
        """From now on :meth:`wait` returns at once (a teardown that waits for the workers)."""
        self._closed = True

    @Slot(object)
    def _answer(self, done: threading.Event) -> None:
        self._stuck = False
        QTimer.singleShot(0, done.set)  # after the timers due now (the clock, a throttled reload)


class PacedReads:
    """A case source whose ``case(id)`` reads (a worker re-reading changed cases one by one: the
    live sync, the desk's bus) each wait at ``gate`` first, so that a burst of changes read in
    Python does not hold the interpreter lock against the GUI's repaint. Everything else is the
    wrapped source's."""

    def __init__(self, source, gate: LoopGate) -> None:
        self._source = source
        self._gate = gate

    def case(self, case_id: int):
        self._gate.wait()
        return self._source.case(case_id)

    def __getattr__(self, name: str):
        return getattr(self._source, name)
