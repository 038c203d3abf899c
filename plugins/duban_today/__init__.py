"""今日督办: a dock listing urged (督办) open cases, today's urgings first."""

from __future__ import annotations

from app.ui.docks import DockSpec

DOCK_ID = "duban_today.dock"


def enable(api) -> None:
    """Register the dock; it follows case events through the API."""
    from plugins.duban_today.dock import DubanTodayWidget  # Qt only once enabled

    def build():
        widget = DubanTodayWidget(api)
        widget.refresh()
        return widget

    api.register_dock(DockSpec(DOCK_ID, "今日督办", "right", build, ("cases",)))


def disable() -> None:
    """Nothing to do: the API removes the dock and the subscriptions."""
