"""今日督办: a dock listing urged (督办) open cases, today's urgings first, and a 督办备注 command.

The package imports no Qt at import time: ``gridhall case`` imports its Qt-free ``commands``
module (the manifest's ``commands`` hook); the dock's Qt is imported in ``enable``.
"""

from __future__ import annotations

DOCK_ID = "duban_today.dock"


def enable(api) -> None:
    """Register the dock; it follows case events through the API (the loader has already called the
    manifest's commands hook: 督办备注 is in the command registry)."""
    from app.ui.docks import DockSpec
    from plugins.duban_today.dock import DubanTodayWidget  # Qt only once enabled

    def build():
        widget = DubanTodayWidget(api)
        widget.refresh()
        return widget

    api.register_dock(DockSpec(DOCK_ID, "今日督办", "right", build, ("cases",)))


def disable() -> None:
    """Nothing to do: the API removes the dock and the subscriptions."""
