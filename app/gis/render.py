"""Render layers to an image without a canvas: screenshots, tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

from qgis.core import (
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsMapLayer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsPointXY,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage

from app.gis.layers import store_crs

#: Basemap background: a light grey the white roads stand out on.
BACKGROUND = QColor("#e8eaed")
DEFAULT_DPI = 96.0
_INCH_M = 0.0254


def extent_at_scale(center: QgsPointXY, scale: float, width: int, height: int,
                    dpi: float = DEFAULT_DPI) -> QgsRectangle:
    """The extent around ``center`` that a ``width``×``height`` image shows at 1:``scale``."""
    metres_per_px = scale * _INCH_M / dpi
    half_w, half_h = width * metres_per_px / 2, height * metres_per_px / 2
    return QgsRectangle(center.x() - half_w, center.y() - half_h,
                        center.x() + half_w, center.y() + half_h)


def map_settings(layers: Sequence[QgsMapLayer], extent: QgsRectangle, width: int, height: int,
                 *, background: QColor = BACKGROUND, dpi: float = DEFAULT_DPI) -> QgsMapSettings:
    """Map settings for ``layers`` (topmost first) in the store CRS at ``extent``."""
    settings = QgsMapSettings()
    settings.setLayers(list(layers))
    settings.setDestinationCrs(store_crs())
    settings.setOutputSize(QSize(width, height))
    settings.setOutputDpi(dpi)
    settings.setBackgroundColor(background)
    settings.setExtent(extent)
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    settings.setFlag(QgsMapSettings.DrawLabeling, True)
    # Styles use @map_scale and friends; a canvas sets this scope itself, a bare job does not.
    context = QgsExpressionContext()
    context.appendScope(QgsExpressionContextUtils.globalScope())
    context.appendScope(QgsExpressionContextUtils.mapSettingsScope(settings))
    settings.setExpressionContext(context)
    return settings


def render_settings(settings: QgsMapSettings) -> QImage:
    """Render synchronously (blocks until done: not for the GUI thread's normal use)."""
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def render_layers(layers: Sequence[QgsMapLayer], extent: QgsRectangle, width: int = 800,
                  height: int = 600, **kwargs) -> QImage:
    """Render ``layers`` (topmost first) at ``extent`` into a new image."""
    return render_settings(map_settings(layers, extent, width, height, **kwargs))
