"""Draw the eye to a spot on the map: a few flashes of a ring around a point."""

from __future__ import annotations

from qgis.core import QgsGeometry, QgsPointXY
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtGui import QColor

from app.gis.layers import store_crs

FLASH_COLOUR = QColor(215, 48, 31, 230)
FLASH_END = QColor(215, 48, 31, 0)


def flash_point(canvas: QgsMapCanvas, x: float, y: float, *, radius_px: float = 18,
                flashes: int = 4, duration_ms: int = 450) -> QgsGeometry:
    """Flash a disc of ``radius_px`` screen pixels around (x, y) (store CRS); return it."""
    radius = max(canvas.mapUnitsPerPixel(), 1e-9) * radius_px
    disc = QgsGeometry.fromPointXY(QgsPointXY(x, y)).buffer(radius, 24)
    canvas.flashGeometries([disc], store_crs(), FLASH_COLOUR, FLASH_END, flashes, duration_ms)
    return disc
