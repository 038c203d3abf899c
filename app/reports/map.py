"""The bulletin's map page: the month's reported cases and its hotspot grids, rendered to a PNG by a
QGIS print layout (``app.gis.tools.print_layout.build_layout``: title, map, legend, scale bar,
north arrow) in this process's QgsApplication (``app.gis.qgis_app.start_qgis``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.domain.messages import Msg, MsgError

DPI = 110


def render_map(path: str | Path, *, title: str, time_text: str, legend_title: str, cases_name: str,
               hotspots_name: str, points: Sequence[tuple[str, str]], grids: dict[str, str],
               extent_wkt: str | None, streets: Sequence[tuple[str, str, str]] = (),
               streets_name: str = "") -> Path:
    """Write a PNG of the month's cases (points: number, WKT) and hotspot grids (code: WKT) over
    the streets' boundaries (code, name, WKT), labelled by name."""
    from app.gis.qgis_app import headless_display, start_qgis

    headless_display()
    start_qgis(gui=True)
    from qgis.core import (
        QgsFeature,
        QgsFillSymbol,
        QgsGeometry,
        QgsLayoutExporter,
        QgsMarkerSymbol,
        QgsPalLayerSettings,
        QgsProject,
        QgsRectangle,
        QgsSingleSymbolRenderer,
        QgsTextFormat,
        QgsVectorLayer,
        QgsVectorLayerSimpleLabeling,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    from app.gis.layers import store_crs
    from app.gis.tools.print_layout import MapSnapshot, build_layout

    crs = store_crs().authid()
    # fields in the memory provider's URI: QgsField(name, QVariant.Type) is deprecated in QGIS 3.38+
    grid_layer = QgsVectorLayer(f"Polygon?crs={crs}&field=code:string", hotspots_name, "memory")
    feats = []
    for code, wkt in sorted(grids.items()):
        f = QgsFeature(grid_layer.fields())
        f.setGeometry(QgsGeometry.fromWkt(wkt))
        f.setAttribute("code", code)
        feats.append(f)
    grid_layer.dataProvider().addFeatures(feats)
    grid_layer.updateExtents()
    grid_layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
        {"color": "230,60,40,150", "outline_color": "150,20,10", "outline_width": "0.6"})))
    case_layer = QgsVectorLayer(f"Point?crs={crs}&field=number:string", cases_name, "memory")
    feats = []
    for number, wkt in points:
        f = QgsFeature(case_layer.fields())
        f.setGeometry(QgsGeometry.fromWkt(wkt))
        f.setAttribute("number", number)
        feats.append(f)
    case_layer.dataProvider().addFeatures(feats)
    case_layer.updateExtents()
    case_layer.setRenderer(QgsSingleSymbolRenderer(QgsMarkerSymbol.createSimple(
        {"name": "circle", "color": "30,90,200,170", "outline_style": "no", "size": "1.2"})))
    street_layer = QgsVectorLayer(f"MultiPolygon?crs={crs}&field=code:string&field=name:string", streets_name,
                                  "memory")
    feats = []
    for code, name, wkt in streets:
        f = QgsFeature(street_layer.fields())
        f.setGeometry(QgsGeometry.fromWkt(wkt))
        f.setAttributes([code, name])
        feats.append(f)
    street_layer.dataProvider().addFeatures(feats)
    street_layer.updateExtents()
    street_layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
        {"color": "240,240,232,255", "outline_color": "90,90,90", "outline_width": "0.5",
         "outline_style": "dash"})))
    labels = QgsPalLayerSettings()
    labels.fieldName = "name"
    fmt = QgsTextFormat()
    fmt.setSize(11)
    fmt.setColor(QColor(70, 70, 70))
    labels.setFormat(fmt)
    street_layer.setLabeling(QgsVectorLayerSimpleLabeling(labels))
    street_layer.setLabelsEnabled(True)
    extent = QgsGeometry.fromWkt(extent_wkt).boundingBox() if extent_wkt else QgsRectangle()
    if extent.isEmpty():
        extent = case_layer.extent() if feats else QgsRectangle(0, 0, 1000, 1000)
    extent.scale(1.05)
    project = QgsProject()
    project.setCrs(store_crs())
    project.addMapLayers([street_layer, grid_layer, case_layer], False)
    path = Path(path)
    try:
        layout = build_layout(MapSnapshot(title, time_text, extent, [], legend_title), project,
                              [case_layer, grid_layer, street_layer])
        # the page as an image (exportToImage would georeference the PNG through GDAL, which
        # cannot update a PNG and says so on stderr)
        image = QgsLayoutExporter(layout).renderPageToImage(0, QSize(), DPI)
        if image.isNull() or not image.save(str(path), "PNG"):
            raise MsgError(Msg("地图页渲染失败（QGIS 打印布局，错误 {error}）", error="renderPageToImage"))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        project.removeAllMapLayers()
    return path


__all__ = ["render_map"]
