"""Draw a polygon on the map for the administrator (issue 12): a department's jurisdiction or a
routing rule's area. The admin workspace (binding-neutral, app/ui/admin) gets only the seam
``draw(callback)`` — ``callback(wkt)`` with a POLYGON in the canvas CRS (the store's), or
``callback(None)`` when cancelled — and ``show(wkt)`` to outline a stored area.

Left click adds a vertex, Backspace removes the last one, a right click or Enter closes the
polygon (three vertices at least; fewer cancels), Esc cancels. The canvas gets its previous tool
back when drawing ends.
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsGeometry, QgsPointXY, QgsWkbTypes
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

DRAW_COLOUR = QColor("#6a1b9a")
FILL_COLOUR = QColor(106, 27, 154, 50)
DrawCallback = Callable[["str | None"], None]


class DrawPolygonTool(QgsMapTool):
    """Collects vertices; emits ``drawn(wkt)`` or ``cancelled``."""

    drawn = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.points: list[QgsPointXY] = []
        self.band = QgsRubberBand(canvas, QgsWkbTypes.PolygonGeometry)
        self.band.setStrokeColor(DRAW_COLOUR)
        self.band.setFillColor(FILL_COLOUR)
        self.band.setWidth(2)
        self.setCursor(Qt.CrossCursor)

    def reset(self) -> None:
        self.points = []
        self.band.reset(QgsWkbTypes.PolygonGeometry)

    def _redraw(self, moving: QgsPointXY | None = None) -> None:
        points = self.points + ([moving] if moving is not None else [])
        self.band.setToGeometry(QgsGeometry.fromPolygonXY([points]) if len(points) >= 3
                                else QgsGeometry.fromPolylineXY(points), None)

    def add_point(self, point: QgsPointXY) -> None:
        self.points.append(QgsPointXY(point))
        self._redraw()

    def finish(self) -> None:
        if len(self.points) < 3:
            self.reset()
            self.cancelled.emit()
            return
        wkt = QgsGeometry.fromPolygonXY([self.points]).asWkt(3)
        self.reset()
        self.drawn.emit(wkt)

    def canvasMoveEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self.points:
            self._redraw(e.mapPoint())

    def canvasReleaseEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.RightButton:
            self.finish()
        elif e.button() == Qt.LeftButton:
            self.add_point(e.mapPoint())

    def keyPressEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key_Escape:
            self.reset()
            self.cancelled.emit()
        elif e.key() in (Qt.Key_Return, Qt.Key_Enter):
            self.finish()
        elif e.key() == Qt.Key_Backspace and self.points:
            self.points.pop()
            self._redraw()

    def deactivate(self) -> None:
        self.band.reset(QgsWkbTypes.PolygonGeometry)
        super().deactivate()


class MapDrawer:
    """Arms a DrawPolygonTool for one polygon, then gives the canvas its previous tool back."""

    def __init__(self, canvas: QgsMapCanvas) -> None:
        self.canvas = canvas
        self.tool = DrawPolygonTool(canvas)
        self.outline = QgsRubberBand(canvas, QgsWkbTypes.PolygonGeometry)
        self.outline.setStrokeColor(DRAW_COLOUR)
        self.outline.setFillColor(QColor(0, 0, 0, 0))
        self.outline.setWidth(2)
        self._previous: QgsMapTool | None = None
        self._callback: DrawCallback | None = None
        self.tool.drawn.connect(self._drawn)
        self.tool.cancelled.connect(self._cancelled)

    @property
    def active(self) -> bool:
        return self._callback is not None

    def draw(self, callback: DrawCallback) -> None:
        """Let the user draw one polygon; ``callback(wkt)`` when closed, ``callback(None)`` when cancelled."""
        if self._callback is None:
            current = self.canvas.mapTool()
            self._previous = current if current is not self.tool else None
        self._callback = callback
        self.tool.reset()
        self.canvas.setMapTool(self.tool)

    def show(self, wkt: str | None) -> None:
        """Outline ``wkt`` (a stored jurisdiction or area) on the map and zoom to it; None clears."""
        self.outline.reset(QgsWkbTypes.PolygonGeometry)
        if not wkt:
            return
        geom = QgsGeometry.fromWkt(wkt)
        if geom.isNull():
            return
        self.outline.setToGeometry(geom, None)
        extent = geom.boundingBox()
        extent.scale(1.2)
        self.canvas.setExtent(extent)
        self.canvas.refresh()

    def _end(self) -> DrawCallback | None:
        callback, self._callback = self._callback, None
        if self._previous is not None:
            self.canvas.setMapTool(self._previous)
        else:
            self.canvas.unsetMapTool(self.tool)
        self._previous = None
        return callback

    def _drawn(self, wkt: str) -> None:
        callback = self._end()
        self.show(wkt)
        if callback is not None:
            callback(wkt)

    def _cancelled(self) -> None:
        callback = self._end()
        if callback is not None:
            callback(None)


__all__ = ["DrawPolygonTool", "MapDrawer"]
