"""Draw the eye to a spot on the map: a few flashes of a disc, and a ring that stays."""

from __future__ import annotations

from qgis.core import QgsGeometry, QgsPointXY
from qgis.gui import QgsMapCanvas, QgsVertexMarker
from qgis.PyQt.QtGui import QColor

from app.gis.layers import store_crs

FLASH_COLOUR = QColor(215, 48, 31, 230)
FLASH_END = QColor(215, 48, 31, 0)
#: The selected case's ring: magenta, a colour no case light or component uses.
HIGHLIGHT_COLOUR = QColor("#d0169a")
HIGHLIGHT_HALO = QColor(255, 255, 255, 235)
HIGHLIGHT_DIAMETER_PX = 26  # just outside the largest case circle (4.6 mm ≈ 17 px across)
HIGHLIGHT_PEN_PX = 3
HIGHLIGHT_HALO_PX = 6


def flash_point(canvas: QgsMapCanvas, x: float, y: float, *, radius_px: float = 18,
                flashes: int = 4, duration_ms: int = 450) -> QgsGeometry:
    """Flash a disc of ``radius_px`` screen pixels around (x, y) (store CRS); return it."""
    radius = max(canvas.mapUnitsPerPixel(), 1e-9) * radius_px
    disc = QgsGeometry.fromPointXY(QgsPointXY(x, y)).buffer(radius, 24)
    canvas.flashGeometries([disc], store_crs(), FLASH_COLOUR, FLASH_END, flashes, duration_ms)
    return disc


class Highlight:
    """A ring of fixed screen size around one map point that stays until cleared.

    Two canvas items, a white halo under a magenta ring, so it reads on roads, grid lines
    and case circles alike; they follow pans and zooms by themselves. The items are made
    once and only shown or hidden: the canvas's scene owns and deletes them.
    """

    def __init__(self, canvas: QgsMapCanvas):
        self._canvas = canvas
        self._markers: list[QgsVertexMarker] = []
        for colour, pen in ((HIGHLIGHT_HALO, HIGHLIGHT_HALO_PX), (HIGHLIGHT_COLOUR, HIGHLIGHT_PEN_PX)):
            marker = QgsVertexMarker(canvas)
            marker.setIconType(QgsVertexMarker.ICON_CIRCLE)
            marker.setIconSize(HIGHLIGHT_DIAMETER_PX)
            marker.setPenWidth(pen)
            marker.setColor(colour)
            marker.setFillColor(QColor(0, 0, 0, 0))
            marker.hide()
            self._markers.append(marker)
        self.point: QgsPointXY | None = None

    def show(self, x: float, y: float) -> None:
        """Ring (x, y) (store CRS), moving the ring if one is shown."""
        self.point = QgsPointXY(x, y)
        for marker in self._markers:
            marker.setCenter(self.point)
            marker.show()

    def clear(self) -> None:
        """Hide the ring (nothing happens when none is shown)."""
        self.point = None
        for marker in self._markers:
            marker.hide()
