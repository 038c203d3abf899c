"""Helpers for `--screenshot`: a throwaway settings file and waiting for the queue.

The docks are arranged by the mode's built-in layout (``app.ui.layouts``), never the user's.

Only the screenshot path waits in a local event loop; the interactive client never does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from qtpy.QtCore import QEventLoop, QSettings, QTimer

from app.views.queue_state import QueueState


def screenshot_settings() -> QSettings:
    """Settings in a temporary INI file, so a screenshot never reads or changes the user's layout."""
    folder = tempfile.mkdtemp(prefix="gridhall-shot-")
    return QSettings(str(Path(folder) / "screenshot.ini"), QSettings.Format.IniFormat)


def wait_for_queue(state: QueueState, timeout_ms: int = 30000) -> bool:
    """Run a local event loop until the queue has loaded (True) or failed / timed out (False)."""
    if state.rows:
        return True
    loop = QEventLoop()
    result = {"ok": False}

    def loaded() -> None:
        result["ok"] = True
        loop.quit()

    disconnects = [state.events.rows_reset.connect(loaded),
                   state.events.load_failed.connect(lambda _msg: loop.quit())]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec_() if hasattr(loop, "exec_") else loop.exec()
    for d in disconnects:
        d()
    return result["ok"]


def wait_for_jobs(runner, timeout_ms: int = 60000) -> bool:
    """Run the event loop until ``runner`` (an app.jobs.JobRunner) has no unfinished job (True) or
    ``timeout_ms`` passed (False): a screenshot shows what the docks' jobs computed."""
    import time

    from qtpy.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_ms / 1000
    while any(not job.finished for job in runner.jobs):
        if time.monotonic() > deadline:
            return False
        QApplication.processEvents()
        time.sleep(0.02)
    QApplication.processEvents()  # deliver the finished events
    return True
