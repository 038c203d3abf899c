"""Map interaction of basic-data maintenance (issue 15 item 4): drawing a grid's split line, and
redrawing the base layers after a change.

The maintenance page (binding-neutral, app/ui/base_maint) gets only seams: ``draw_line(callback)``
— ``callback(points)`` with the line's vertices in the canvas CRS (the store's), or
``callback(None)`` when cancelled — ``show(wkt)`` to outline a feature, and ``changed()`` to
redraw the grid and component layers. Moving a component uses the map's point picker
(app/gis/pick_tool.py), the same seam the administrator's routing test box uses.

Left click adds a vertex, Backspace removes the last one, a right click or Enter ends the line
(two vertices at least; fewer cancels), Esc cancels. The canvas gets its previous tool back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from qgis.core import QgsGeometry, QgsPointXY, QgsVectorLayer, QgsWkbTypes
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

LINE_COLOUR = QColor("#d84315")
LineCallback = Callable[["list[tuple[float, float]] | None"], None]


class DrawLineTool(QgsMapTool):
    """Collects a polyline's vertices; emits ``drawn(points)`` or ``cancelled``."""

    drawn = pyqtSignal(list)
    cancelled = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.points: list[QgsPointXY] = []
        self.band = QgsRubberBand(canvas, QgsWkbTypes.LineGeometry)
        self.band.setStrokeColor(LINE_COLOUR)
        self.band.setWidth(3)
        self.setCursor(Qt.CrossCursor)

    def reset(self) -> None:
        self.points = []
        self.band.reset(QgsWkbTypes.LineGeometry)

    def _redraw(self, moving: QgsPointXY | None = None) -> None:
        points = self.points + ([moving] if moving is not None else [])
        self.band.setToGeometry(QgsGeometry.fromPolylineXY(points), None)

    def add_point(self, point: QgsPointXY) -> None:
        self.points.append(QgsPointXY(point))
        self._redraw()

    def finish(self) -> None:
        if len(self.points) < 2:
            self.reset()
            self.cancelled.emit()
            return
        points = [(round(p.x(), 3), round(p.y(), 3)) for p in self.points]
        self.reset()
        self.drawn.emit(points)

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
        self.band.reset(QgsWkbTypes.LineGeometry)
        super().deactivate()


class BaseEditTools:
    """The maintenance page's map seams over one canvas: draw_line, show, changed."""

    def __init__(self, canvas: QgsMapCanvas, layers: Callable[[], Iterable[QgsVectorLayer]] | None = None) -> None:
        self.canvas = canvas
        self.layers = layers or (lambda: ())
        self.tool = DrawLineTool(canvas)
        self.outline = QgsRubberBand(canvas, QgsWkbTypes.PolygonGeometry)
        self.outline.setStrokeColor(LINE_COLOUR)
        self.outline.setFillColor(QColor(0, 0, 0, 0))
        self.outline.setWidth(2)
        self._previous: QgsMapTool | None = None
        self._callback: LineCallback | None = None
        self.tool.drawn.connect(self._drawn)
        self.tool.cancelled.connect(self._cancelled)

    @property
    def active(self) -> bool:
        return self._callback is not None

    def draw_line(self, callback: LineCallback) -> None:
        """Let the user draw one line; ``callback(points)`` when ended, ``callback(None)`` when cancelled."""
        if self._callback is None:
            current = self.canvas.mapTool()
            self._previous = current if current is not self.tool else None
        self._callback = callback
        self.tool.reset()
        self.canvas.setMapTool(self.tool)

    def show(self, wkt: str | None) -> None:
        """Outline ``wkt`` (a grid, a component's point) and zoom to it; None clears."""
        self.outline.reset(QgsWkbTypes.PolygonGeometry)
        if not wkt:
            return
        geom = QgsGeometry.fromWkt(wkt)
        if geom.isNull():
            return
        if geom.type() == QgsWkbTypes.PolygonGeometry:
            self.outline.setToGeometry(geom, None)
        extent = geom.boundingBox()
        extent.grow(60.0)
        self.canvas.setExtent(extent)
        self.canvas.refresh()

    def changed(self) -> None:
        """Base data changed: the grid and component layers read the store again and redraw."""
        for layer in self.layers():
            if layer is None:
                continue
            layer.dataProvider().reloadData()
            layer.updateExtents()
            layer.triggerRepaint()

    def _end(self) -> LineCallback | None:
        callback, self._callback = self._callback, None
        if self._previous is not None:
            self.canvas.setMapTool(self._previous)
        else:
            self.canvas.unsetMapTool(self.tool)
        self._previous = None
        return callback

    def _drawn(self, points: list) -> None:
        callback = self._end()
        if callback is not None:
            callback([(float(x), float(y)) for x, y in points])

    def _cancelled(self) -> None:
        callback = self._end()
        if callback is not None:
            callback(None)


__all__ = ["BaseEditTools", "DrawLineTool"]
