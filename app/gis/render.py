"""Render layers to an image without a canvas (screenshots, tests, benchmarks), and the render
settings a canvas shares with them: plain-text labels, few label candidates, cached layers."""

from __future__ import annotations

from collections.abc import Sequence

from qgis.core import (
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsLabelingEngineSettings,
    QgsMapLayer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsPointXY,
    QgsRectangle,
    QgsRenderContext,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage

from app.gis.layers import store_crs

#: Basemap background: a light grey the white roads stand out on.
BACKGROUND = QColor("#e8eaed")
DEFAULT_DPI = 96.0
_INCH_M = 0.0254
#: Label candidates QGIS tries (its defaults: 5 per cm of line, 2.5 per cm² of polygon). Our
#: labels are placed over points, over polygon centres or along straight roads: few suffice.
LINE_CANDIDATES_PER_CM = 1.0
#: How often a canvas shows a render in progress (QGIS: 250 ms); ours finish sooner than this.
MAP_UPDATE_INTERVAL_MS = 3000
POLYGON_CANDIDATES_PER_CM2 = 0.5


def labelling_settings(base: QgsLabelingEngineSettings | None = None) -> QgsLabelingEngineSettings:
    """The labelling engine's settings: labels drawn as text, not as outlined paths (several
    times cheaper with CJK fonts), few candidates, no partial candidates."""
    settings = QgsLabelingEngineSettings(base) if base is not None else QgsLabelingEngineSettings()
    settings.setDefaultTextRenderFormat(QgsRenderContext.TextFormatAlwaysText)
    settings.setMaximumLineCandidatesPerCm(LINE_CANDIDATES_PER_CM)
    settings.setMaximumPolygonCandidatesPerCmSquared(POLYGON_CANDIDATES_PER_CM2)
    settings.setFlag(QgsLabelingEngineSettings.UsePartialCandidates, False)
    return settings


def configure_canvas(canvas) -> None:
    """A map canvas renders layers in parallel and caches each layer's image (and the labels):
    a layer's ``triggerRepaint`` then redraws that layer alone, over the cached others."""
    canvas.setParallelRenderingEnabled(True)
    canvas.setCachingEnabled(True)
    # While a render runs QGIS shows its progress every 250 ms by composing every layer's partial
    # image on the GUI thread: tens of ms a time at 4K. The cached map (moved/scaled) stays shown
    # until the render is done instead.
    canvas.setMapUpdateInterval(MAP_UPDATE_INTERVAL_MS)
    canvas.setLabelingEngineSettings(labelling_settings(canvas.labelingEngineSettings()))


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
    settings.setLabelingEngineSettings(labelling_settings())
    settings.setTextRenderFormat(QgsRenderContext.TextFormatAlwaysText)
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
