"""Export the current map to PNG or PDF through a QGIS print layout (map, title, legend, scale
bar, north arrow and the time), as a job that never blocks the GUI.

The GUI thread only takes a :class:`MapSnapshot` (cheap: layer sources, styles as XML, the case
layer's features, the extent); the job opens its own layers from the snapshot on its own
thread, builds a ``QgsPrintLayout`` there and exports it. No layer the canvas draws is touched
off the GUI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from qgis.core import (
    QgsFeature,
    QgsFields,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLegendStyle,
    QgsMapLayerStyle,
    QgsPrintLayout,
    QgsProject,
    QgsRectangle,
    QgsScaleBarSettings,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor, QFont
from qgis.PyQt.QtWidgets import QGraphicsScene

from app.domain.messages import Msg, MsgError
from app.gis.layers import store_crs
from app.jobs import Feedback

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
MARGIN = 10.0
LEGEND_W = 62.0
NORTH_ARROW_SVG = "/usr/share/qgis/svg/arrows/NorthArrow_02.svg"
PNG_DPI = 150
PDF_DPI = 200


def _set_font(item: object, font: QFont) -> None:
    """A label's or legend style's font: a text format where QGIS has one (3.40 deprecates setFont)."""
    if hasattr(item, "setTextFormat"):
        item.setTextFormat(QgsTextFormat.fromQFont(font))  # type: ignore[attr-defined]
    else:
        item.setFont(font)  # type: ignore[attr-defined]


@dataclass
class LayerSnapshot:
    name: str
    provider: str
    source: str
    style_xml: str
    visible: bool
    geometry: str = ""  # memory layers: "Point" etc.
    fields: QgsFields | None = None
    features: list[QgsFeature] = field(default_factory=list)


@dataclass
class MapSnapshot:
    """Everything the export needs, copied on the GUI thread."""

    title: str
    time_text: str
    extent: QgsRectangle
    layers: list[LayerSnapshot]  # top-down drawing order
    legend_title: str = ""


def snapshot_map(project: QgsProject, canvas, title: str, time_text: str, legend_title: str = "") -> MapSnapshot:
    """Copy the canvas's extent and the project's layers (GUI thread)."""
    root = project.layerTreeRoot()
    layers = []
    for layer in canvas.layers() or []:
        if not isinstance(layer, QgsVectorLayer):
            continue
        style = QgsMapLayerStyle()
        style.readFromLayer(layer)
        node = root.findLayer(layer.id())
        snap = LayerSnapshot(layer.name(), layer.providerType(), layer.source(), style.xmlData(),
                             node.isVisible() if node is not None else True)
        if layer.providerType() == "memory":
            from qgis.core import QgsWkbTypes

            snap.geometry = QgsWkbTypes.displayString(layer.wkbType())
            snap.fields = QgsFields(layer.fields())
            snap.features = [QgsFeature(f) for f in layer.getFeatures()]
        layers.append(snap)
    return MapSnapshot(title, time_text, QgsRectangle(canvas.extent()), layers, legend_title)


def _open_layers(snapshot: MapSnapshot) -> list[QgsVectorLayer]:
    layers = []
    for snap in snapshot.layers:
        if snap.provider == "memory":
            layer = QgsVectorLayer(f"{snap.geometry}?crs={store_crs().authid()}", snap.name, "memory")
            provider = layer.dataProvider()
            provider.addAttributes(list(snap.fields or []))
            layer.updateFields()
            provider.addFeatures(snap.features)
            layer.updateExtents()
        else:
            layer = QgsVectorLayer(snap.source, snap.name, snap.provider)
        if not layer.isValid():
            raise MsgError(Msg("导出地图时无法打开图层“{name}”", name=snap.name))
        QgsMapLayerStyle(snap.style_xml).writeToLayer(layer)
        layers.append(layer)
    return layers


def build_layout(snapshot: MapSnapshot, project: QgsProject, layers: list[QgsVectorLayer]) -> QgsPrintLayout:
    """A one-page A4 layout: title and time on top, the map, the legend on the right, scale bar
    and north arrow on the map."""
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    # No BSP index: its updates are queued to an event loop, which a job's thread does not run.
    layout.setItemIndexMethod(QGraphicsScene.NoIndex)
    page = layout.pageCollection().page(0)
    page.setPageSize(QgsLayoutSize(PAGE_W, PAGE_H, QgsUnitTypes.LayoutMillimeters))
    mm = QgsUnitTypes.LayoutMillimeters

    title = QgsLayoutItemLabel(layout)
    title.setText(snapshot.title)
    font = QFont()
    font.setPointSizeF(18)
    font.setBold(True)
    _set_font(title, font)
    title.attemptMove(QgsLayoutPoint(MARGIN, MARGIN - 2, mm))
    title.attemptResize(QgsLayoutSize(PAGE_W - 2 * MARGIN - 70, 12, mm))
    layout.addLayoutItem(title)

    when = QgsLayoutItemLabel(layout)
    when.setText(snapshot.time_text)
    small = QFont()
    small.setPointSizeF(10)
    _set_font(when, small)
    when.setHAlign(2)  # Qt.AlignRight
    when.attemptMove(QgsLayoutPoint(PAGE_W - MARGIN - 70, MARGIN, mm))
    when.attemptResize(QgsLayoutSize(70, 8, mm))
    layout.addLayoutItem(when)

    top = MARGIN + 12
    map_w, map_h = PAGE_W - 2 * MARGIN - LEGEND_W - 4, PAGE_H - top - MARGIN
    item = QgsLayoutItemMap(layout)
    item.setCrs(store_crs())
    item.attemptMove(QgsLayoutPoint(MARGIN, top, mm))
    item.attemptResize(QgsLayoutSize(map_w, map_h, mm))
    item.setLayers(layers)
    item.setKeepLayerSet(True)
    item.setFrameEnabled(True)
    item.setBackgroundColor(QColor(247, 247, 242))
    layout.addLayoutItem(item)
    item.attemptMove(QgsLayoutPoint(MARGIN, top, mm))
    item.attemptResize(QgsLayoutSize(map_w, map_h, mm))
    # zoomToExtent alone divides by the empty initial extent; setExtent resizes the item to the
    # extent's aspect, so size it again and then fit the extent into it
    item.setExtent(snapshot.extent)
    item.attemptResize(QgsLayoutSize(map_w, map_h, mm))
    item.zoomToExtent(snapshot.extent)

    legend = QgsLayoutItemLegend(layout)
    legend.setTitle(snapshot.legend_title)
    legend.setLinkedMap(item)
    legend.setAutoUpdateModel(False)
    group = legend.model().rootGroup()
    group.removeAllChildren()
    for layer in layers:
        group.addLayer(layer)
    legend.setLegendFilterByMapEnabled(True)  # only what the printed map shows (one rule set per scale)
    legend.setMaximumSymbolSize(5.0)  # road widths are map units: keep their patches slim
    legend.setSymbolHeight(3.5)
    for style, size, bold in ((QgsLegendStyle.Title, 12, True), (QgsLegendStyle.Group, 9, True),
                              (QgsLegendStyle.Subgroup, 9, True), (QgsLegendStyle.SymbolLabel, 8, False)):
        font = QFont()
        font.setPointSizeF(size)
        font.setBold(bold)
        _set_font(legend.rstyle(style), font)
    legend.attemptMove(QgsLayoutPoint(PAGE_W - MARGIN - LEGEND_W, top, mm))
    legend.setResizeToContents(True)
    legend.setFrameEnabled(True)
    legend.setBackgroundEnabled(True)
    layout.addLayoutItem(legend)

    bar = QgsLayoutItemScaleBar(layout)
    bar.setStyle("Single Box")
    bar.setLinkedMap(item)
    bar.setUnits(QgsUnitTypes.DistanceMeters)
    bar.setUnitLabel("m")
    bar.setNumberOfSegmentsLeft(0)
    bar.setNumberOfSegments(4)
    bar.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeFitWidth)  # round numbers
    bar.setMinimumBarWidth(40)
    bar.setMaximumBarWidth(80)
    bar.setBackgroundEnabled(True)
    bar.update()
    bar.attemptMove(QgsLayoutPoint(MARGIN + 3, top + map_h - 14, mm))
    layout.addLayoutItem(bar)
    bar.update()

    if os.path.isfile(NORTH_ARROW_SVG):
        arrow = QgsLayoutItemPicture(layout)
        arrow.setPicturePath(NORTH_ARROW_SVG)
        arrow.setLinkedMap(item)
        arrow.setNorthMode(QgsLayoutItemPicture.GridNorth)
        arrow.attemptMove(QgsLayoutPoint(MARGIN + map_w - 16, top + 4, mm))
        arrow.attemptResize(QgsLayoutSize(12, 16, mm))
        arrow.setBackgroundEnabled(True)
        layout.addLayoutItem(arrow)
    return layout


def export_map(snapshot: MapSnapshot, path: str | Path, feedback: Feedback | None = None) -> Path:
    """Write ``path`` (.png or .pdf) from ``snapshot``; safe on a worker thread. Returns the path.

    A half-written file is removed when the export fails or is cancelled.
    """
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in (".png", ".pdf"):
        raise MsgError(Msg("不支持的导出格式：{suffix}（可导出 PNG 或 PDF）", suffix=path.suffix or "—"))
    if not path.parent.is_dir():
        raise MsgError(Msg("无法写入文件 {path}：请检查目录是否存在、是否有写权限", path=path))
    fb = feedback or Feedback()
    fb.progress(0.05, Msg("正在打开图层…"))
    project = QgsProject()
    project.setCrs(store_crs())
    try:
        layers = _open_layers(snapshot)
        project.addMapLayers(layers, False)
        fb.check()
        fb.progress(0.3, Msg("正在排版…"))
        layout = build_layout(snapshot, project, [lyr for lyr, s in zip(layers, snapshot.layers, strict=True) if s.visible])
        fb.check()
        fb.progress(0.4, Msg("正在输出…"))
        exporter = QgsLayoutExporter(layout)
        if fmt == ".png":
            settings = QgsLayoutExporter.ImageExportSettings()
            settings.dpi = PNG_DPI
            result = exporter.exportToImage(str(path), settings)
        else:
            settings = QgsLayoutExporter.PdfExportSettings()
            settings.dpi = PDF_DPI
            settings.rasterizeWholeImage = False
            result = exporter.exportToPdf(str(path), settings)
        if result == QgsLayoutExporter.FileError:
            raise MsgError(Msg("无法写入文件 {path}：请检查目录是否存在、是否有写权限", path=path))
        if result != QgsLayoutExporter.Success:
            raise MsgError(Msg("地图导出失败：{error}", error=exporter.errorMessage() or result))
        fb.check()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        project.removeAllMapLayers()
    fb.progress(1.0)
    return path
