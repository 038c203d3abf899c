"""The archive's hits on the map: one marker per case of the shown result page (issue 10, item 2).

A :class:`QgsRubberBand` of points over the canvas, in the store's CRS (the canvas's), so nothing
joins the project, the legend or the labelling pass; ``show(points)`` replaces the markers and
``show([])`` clears them. The UI calls it through a plain callback (it knows no map).
"""

from __future__ import annotations

from collections.abc import Iterable

from qgis.core import QgsGeometry, QgsPointXY, QgsWkbTypes
from qgis.gui import QgsMapCanvas, QgsRubberBand
from qgis.PyQt.QtGui import QColor

HIT_COLOUR = QColor(160, 32, 240, 230)  # violet: not a light colour, not the selected-case ring


class SearchHits:
    """Markers for found cases; ``count`` is how many are shown."""

    def __init__(self, canvas: QgsMapCanvas) -> None:
        self.canvas = canvas
        self.band = QgsRubberBand(canvas, QgsWkbTypes.PointGeometry)
        self.band.setStrokeColor(HIT_COLOUR)
        self.band.setFillColor(QColor(0, 0, 0, 0))  # a ring: the case's light stays visible inside
        self.band.setIcon(QgsRubberBand.ICON_CIRCLE)
        self.band.setIconSize(16)
        self.band.setWidth(3)
        self.count = 0

    def show(self, points: Iterable[tuple[float, float]]) -> None:
        """Mark ``points`` (x, y in the store's CRS), replacing the last ones."""
        marks = [QgsPointXY(x, y) for x, y in points]
        self.count = len(marks)
        if marks:
            self.band.setToGeometry(QgsGeometry.fromMultiPointXY(marks), None)
        else:
            self.band.reset(QgsWkbTypes.PointGeometry)

    def teardown(self) -> None:
        self.band.reset(QgsWkbTypes.PointGeometry)
        scene = self.canvas.scene()
        if scene is not None:
            scene.removeItem(self.band)
        self.count = 0
