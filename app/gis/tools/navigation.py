"""Zoom and pan tools and a previous/next extent history for one canvas."""

from __future__ import annotations

from qgis.core import QgsPointXY, QgsRectangle
from qgis.gui import QgsMapCanvas, QgsMapToolPan, QgsMapToolZoom
from qgis.PyQt.QtCore import QObject, pyqtSignal

#: Factor of one zoom-in / zoom-out step (the toolbar buttons, not the drag-box tools).
ZOOM_STEP = 2.0
#: Most extents the history keeps.
HISTORY_SIZE = 50


def _same(a: QgsRectangle, b: QgsRectangle) -> bool:
    tol = max(a.width(), a.height(), 1e-9) * 1e-6
    return all(abs(p - q) <= tol for p, q in ((a.xMinimum(), b.xMinimum()), (a.yMinimum(), b.yMinimum()),
                                               (a.xMaximum(), b.xMaximum()), (a.yMaximum(), b.yMaximum())))


class ExtentHistory(QObject):
    """Records every settled extent of ``canvas``; :meth:`back` / :meth:`forward` walk it.

    Going back or forward sets the extent without recording it again; a new extent after going
    back drops the forward part (like a browser).
    """

    changed = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas, parent: QObject | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self._items: list[QgsRectangle] = []
        self._index = -1
        self._walking = False
        canvas.extentsChanged.connect(self._record)
        self._record()

    def _record(self) -> None:
        if self._walking:
            return
        extent = QgsRectangle(self.canvas.extent())
        if extent.isEmpty():
            return
        if self._index >= 0 and _same(self._items[self._index], extent):
            return
        del self._items[self._index + 1:]
        self._items.append(extent)
        if len(self._items) > HISTORY_SIZE:
            del self._items[0]
        self._index = len(self._items) - 1
        self.changed.emit()

    def can_back(self) -> bool:
        return self._index > 0

    def can_forward(self) -> bool:
        return 0 <= self._index < len(self._items) - 1

    def back(self) -> bool:
        """The previous extent (False when there is none)."""
        if not self.can_back():
            return False
        self._go(self._index - 1)
        return True

    def forward(self) -> bool:
        """The next extent after going back (False when there is none)."""
        if not self.can_forward():
            return False
        self._go(self._index + 1)
        return True

    def _go(self, index: int) -> None:
        self._index = index
        self._walking = True
        try:
            self.canvas.setExtent(self._items[index])
            self.canvas.refresh()
        finally:
            self._walking = False
        self.changed.emit()


def zoom_by(canvas: QgsMapCanvas, factor: float, center: QgsPointXY | None = None) -> None:
    """Zoom by ``factor`` (>1 zooms out) about ``center`` (default: the canvas centre)."""
    canvas.zoomByFactor(factor, center)
    canvas.refresh()


def zoom_in(canvas: QgsMapCanvas) -> None:
    zoom_by(canvas, 1.0 / ZOOM_STEP)


def zoom_out(canvas: QgsMapCanvas) -> None:
    zoom_by(canvas, ZOOM_STEP)


def zoom_here(canvas: QgsMapCanvas, x: float, y: float) -> None:
    """Centre on (x, y) and zoom in one step (the map's context menu)."""
    canvas.setCenter(QgsPointXY(x, y))
    zoom_by(canvas, 1.0 / ZOOM_STEP)


def make_tools(canvas: QgsMapCanvas) -> dict[str, object]:
    """The drag tools: 'zoom_in' / 'zoom_out' (click or drag a box) and 'pan'."""
    return {"zoom_in": QgsMapToolZoom(canvas, False), "zoom_out": QgsMapToolZoom(canvas, True),
            "pan": QgsMapToolPan(canvas)}
