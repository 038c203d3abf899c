"""Run closures on the GUI thread from any thread: the ``deliver`` LiveSync and the feeds need."""

from __future__ import annotations

import logging
from collections.abc import Callable

from qtpy.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class GuiDeliverer(QObject):
    """Callable: ``deliverer(fn)`` runs ``fn()`` on the thread this object lives in (create it there).

    A signal emitted from another thread reaches a QObject's slot through its thread's event
    loop (a queued connection), so the closure runs on the GUI thread, in emission order.
    """

    _queued = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queued.connect(self._run)
        self._closed = False

    def __call__(self, fn: Callable[[], None]) -> None:
        if not self._closed:
            self._queued.emit(fn)

    def close(self) -> None:
        """Drop whatever arrives from now on (teardown: the views may be gone)."""
        self._closed = True

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        if self._closed:
            return
        try:
            fn()
        except Exception:  # one failing update must not stop the next ones
            log.exception("delivering a live update failed")
