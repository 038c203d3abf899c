"""Helpers for `--screenshot`: a throwaway settings file, a fixed dock layout, waiting for the queue.

Only the screenshot path waits in a local event loop; the interactive client never does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from qtpy.QtCore import QEventLoop, QSettings, Qt, QTimer

from app.views.queue_state import QueueState

QUEUE_DOCK, DETAIL_DOCK, LAYERS_DOCK = "gridhall.queue", "gridhall.detail", "gridhall.layers"
ATTRIBUTES_DOCK = "gridhall.attributes"


def screenshot_settings() -> QSettings:
    """Settings in a temporary INI file, so a screenshot never reads or changes the user's layout."""
    folder = tempfile.mkdtemp(prefix="gridhall-shot-")
    return QSettings(str(Path(folder) / "screenshot.ini"), QSettings.Format.IniFormat)


def arrange_for_screenshot(window, size: tuple[int, int]) -> None:
    """A fixed, representative layout: map in the middle, queue below, detail on the right."""
    width, height = size
    reg = window.dock_registry
    ids = set(reg.ids())

    def docks(*names: str) -> list:
        return [reg.dock(n) for n in names if n in ids]

    left = docks(LAYERS_DOCK, ATTRIBUTES_DOCK)
    if len(left) == 2:
        window.tabifyDockWidget(left[0], left[1])
        left[0].raise_()
    window.resizeDocks(docks(QUEUE_DOCK), [int(height * 0.42)], Qt.Orientation.Vertical)
    window.resizeDocks(left[:1], [int(width * 0.13)], Qt.Orientation.Horizontal)
    right = docks(DETAIL_DOCK) + [reg.dock(i) for i in sorted(ids) if not i.startswith("gridhall.")]
    if right:
        window.resizeDocks(right[:1], [int(width * 0.22)], Qt.Orientation.Horizontal)
        if len(right) > 1:
            window.resizeDocks(right[:2], [int(height * 0.6), int(height * 0.3)], Qt.Orientation.Vertical)


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
