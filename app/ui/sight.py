"""Whether a widget can be seen, and a call once it can: a list nobody sees need not follow every
change of the queue (a burst of live changes, a bulk action) — it catches up when it is shown.

Qt 5 does not hide a dock that is a tab behind another: it moves it off the window, so
``isVisible()`` stays true while its visible region is empty. Raising its tab emits the dock's
``visibilityChanged(True)``; opening a closed dock also sends its widgets a Show event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtWidgets import QDockWidget, QWidget


def out_of_sight(widget: QWidget) -> bool:
    """Whether ``widget`` sits in a shown window where nobody can see it: hidden, in a closed dock,
    or in a dock whose tab is behind another. Before its window is shown: False (a list is filled
    for its first showing)."""
    try:
        if not widget.window().isVisible():
            return False
        return not widget.isVisible() or widget.visibleRegion().isEmpty()
    except RuntimeError:  # the C++ widget is gone
        return False


class WhenSeen(QObject):
    """Calls ``fn()`` once, the next time ``widget`` comes into sight after :meth:`arm`: a Show
    event of the widget, or the dock holding it becoming visible (its tab raised)."""

    def __init__(self, widget: QWidget, fn: Callable[[], object]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._fn = fn
        self._armed = False
        self._dock: QDockWidget | None = None
        widget.installEventFilter(self)

    @property
    def armed(self) -> bool:
        return self._armed

    def arm(self) -> None:
        """Call ``fn`` when the widget is next seen."""
        self._armed = True
        self._follow_dock()  # the widget may have been put into a dock after this object was made

    def disarm(self) -> None:
        self._armed = False

    def _follow_dock(self) -> None:
        parent = self._widget.parentWidget()
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        if parent is not None and parent is not self._dock:
            if self._dock is not None:
                with contextlib.suppress(TypeError, RuntimeError):  # the old dock is gone
                    self._dock.visibilityChanged.disconnect(self._dock_visible)
            parent.visibilityChanged.connect(self._dock_visible)
            self._dock = parent

    def _dock_visible(self, visible: bool) -> None:
        if visible and self._armed:
            QTimer.singleShot(0, self._check)  # once the dock has its place in the window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if self._armed and watched is self._widget and event.type() == QEvent.Type.Show:
            QTimer.singleShot(0, self._check)
        return False

    def _check(self) -> None:
        try:
            if not self._armed or out_of_sight(self._widget):
                return
        except RuntimeError:  # gone meanwhile
            return
        self._armed = False
        self._fn()
