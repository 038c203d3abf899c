"""Drives the queue: loads rows in a worker, ticks the timers every second."""

from __future__ import annotations

import logging

from qtpy.QtCore import QObject, QTimer

from app.domain.clock import Clock
from app.ui.ports import CaseSource
from app.ui.tasks import TaskRunner
from app.views.queue_state import QueueState

log = logging.getLogger(__name__)


class QueueController(QObject):
    """Owns the 1-second timer; a tick re-reads the clock, never the store."""

    LOAD_KEY = "queue.load"

    def __init__(
        self,
        state: QueueState,
        source: CaseSource,
        runner: TaskRunner,
        clock: Clock,
        interval_ms: int = 1000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.source = source
        self.runner = runner
        self.clock = clock
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick_now)

    def start(self) -> None:
        """Start ticking (and load the queue once)."""
        self.refresh()
        self._timer.start()

    def stop(self) -> None:
        """Stop ticking and drop any load still in flight."""
        self._timer.stop()
        self.runner.cancel(self.LOAD_KEY)

    def is_ticking(self) -> bool:
        return self._timer.isActive()

    def refresh(self) -> None:
        """Reload every open case from the source in a worker thread."""
        self.state.events.loading.emit(True)
        # changes heard while the load runs (live sync, the bus) must survive its older snapshot
        token = self.state.begin_load()
        self.runner.run_in_thread(self.source.open_cases, lambda rows: self._loaded(rows, token), self._failed,
                                  key=self.LOAD_KEY)

    def tick_now(self) -> None:
        """Recompute the timers at the clock's current time."""
        self.state.tick(self.clock.now())

    def _loaded(self, rows, token: int | None = None) -> None:
        self.state.reset(rows, self.clock.now(), token)
        self.state.events.loading.emit(False)

    def _failed(self, exc: BaseException) -> None:
        log.error("loading the case queue failed: %s", exc)
        self.state.events.loading.emit(False)
        self.state.events.load_failed.emit(str(exc))
