"""Measure distance and area on the map: a rubber band and QgsDistanceArea in the store CRS.

QgsMapToolMeasure lives in the QGIS application, not in the API; this tool does the same job:
left clicks add vertices, the mouse shows the segment in progress, a right click or a double
click ends the measurement (the result stays until the next one), Esc clears it.
"""

from __future__ import annotations

from qgis.core import (
    QgsCoordinateTransformContext,
    QgsDistanceArea,
    QgsGeometry,
    QgsPointXY,
    QgsUnitTypes,
    QgsWkbTypes,
)
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

from app.gis.layers import store_crs

BAND_COLOUR = QColor(230, 80, 0, 220)
BAND_FILL = QColor(230, 80, 0, 50)


def distance_area() -> QgsDistanceArea:
    """Planar measurement in the store CRS (EPSG:4549, metres): no ellipsoid, exact for a projected grid."""
    da = QgsDistanceArea()
    da.setSourceCrs(store_crs(), QgsCoordinateTransformContext())
    da.setEllipsoid("NONE")
    return da


def measure_length(points: list[QgsPointXY]) -> float:
    """Length in metres of the polyline through ``points``."""
    if len(points) < 2:
        return 0.0
    da = distance_area()
    length = da.measureLength(QgsGeometry.fromPolylineXY(points))
    return da.convertLengthMeasurement(length, QgsUnitTypes.DistanceMeters)


def measure_area(points: list[QgsPointXY]) -> float:
    """Area in square metres of the polygon through ``points`` (closed automatically)."""
    if len(points) < 3:
        return 0.0
    da = distance_area()
    area = da.measureArea(QgsGeometry.fromPolygonXY([list(points) + [points[0]]]))
    return da.convertAreaMeasurement(area, QgsUnitTypes.AreaSquareMeters)


def format_length(metres: float) -> str:
    return f"{metres / 1000:,.3f} km" if metres >= 1000 else f"{metres:,.1f} m"


def format_area(m2: float) -> str:
    return f"{m2 / 1e6:,.4f} km²" if m2 >= 1e6 else f"{m2:,.1f} m²"


class MeasureTool(QgsMapTool):
    """Measures a polyline (``area=False``) or a polygon (``area=True``).

    ``measured(value, text, final)`` after every vertex and mouse move: metres or m², the text
    shown to the user ("123.4 m"), and whether the measurement is finished.
    """

    measured = pyqtSignal(float, str, bool)

    def __init__(self, canvas: QgsMapCanvas, area: bool = False):
        super().__init__(canvas)
        self.area = area
        self.points: list[QgsPointXY] = []
        self.finished = False
        geometry = QgsWkbTypes.PolygonGeometry if area else QgsWkbTypes.LineGeometry
        self.band = QgsRubberBand(canvas, geometry)
        self.band.setColor(BAND_COLOUR)
        self.band.setFillColor(BAND_FILL)
        self.band.setWidth(3)
        self.setCursor(Qt.CrossCursor)

    # --- state -------------------------------------------------------------------------
    def value(self, points: list[QgsPointXY] | None = None) -> float:
        pts = self.points if points is None else points
        return measure_area(pts) if self.area else measure_length(pts)

    def text(self, value: float) -> str:
        return format_area(value) if self.area else format_length(value)

    def add_point(self, point: QgsPointXY) -> None:
        """Add a vertex (a left click)."""
        if self.finished:
            self.clear()
        self.points.append(QgsPointXY(point))
        self._draw(None)
        self._emit(self.points, False)

    def finish(self) -> float:
        """End the measurement; returns its value."""
        self.finished = True
        self._draw(None)
        value = self.value()
        self.measured.emit(value, self.text(value), True)
        return value

    def clear(self) -> None:
        self.points = []
        self.finished = False
        self.band.reset(QgsWkbTypes.PolygonGeometry if self.area else QgsWkbTypes.LineGeometry)

    def _draw(self, moving: QgsPointXY | None) -> None:
        pts = self.points + ([moving] if moving is not None else [])
        self.band.reset(QgsWkbTypes.PolygonGeometry if self.area else QgsWkbTypes.LineGeometry)
        for i, p in enumerate(pts):
            self.band.addPoint(p, i == len(pts) - 1)

    def _emit(self, pts: list[QgsPointXY], final: bool) -> None:
        value = self.value(pts)
        self.measured.emit(value, self.text(value), final)

    # --- events -------------------------------------------------------------------------
    def canvasMoveEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self.points and not self.finished:
            self._draw(e.mapPoint())
            self._emit(self.points + [e.mapPoint()], False)

    def canvasReleaseEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.LeftButton:
            self.add_point(e.mapPoint())
        elif e.button() == Qt.RightButton and self.points:
            self.finish()

    def canvasDoubleClickEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802
        if self.points:
            self.finish()

    def keyPressEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key_Escape:
            self.clear()
            self.measured.emit(0.0, "", True)

    def deactivate(self) -> None:
        self.clear()
        super().deactivate()
