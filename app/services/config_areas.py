"""Polygons for the administrator's areas (issue 12): a department's jurisdiction or a routing
rule's drawn area, read from any OGR file (Shapefile, GeoPackage, GeoJSON, KML, …).

Every polygon of the layer (optionally those an OGR ``where`` filter keeps) is transformed to
the store's CRS and merged into one multipolygon, returned as WKT for
:meth:`app.services.config.ConfigService.set_jurisdiction` (which checks and normalises it).
"""

from __future__ import annotations

from pathlib import Path

from app.domain.definitions import STORE_SRID
from app.domain.messages import Msg
from app.services.errors import ValidationError

#: More features than this in one area file is not a jurisdiction.
MAX_FEATURES = 10_000


def read_polygons(path: str | Path, *, layer: str | None = None, where: str | None = None) -> str:
    """The merged polygons of ``path`` (layer ``layer`` or the first) as WKT in the store's CRS."""
    from osgeo import gdal, ogr, osr
    from shapely import union_all, wkb

    name = Path(path).name[-80:]
    gdal.UseExceptions()
    try:
        source = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_READONLY)
    except RuntimeError as exc:
        raise ValidationError("file", Msg("无法读取区域文件 {name}：{error}", name=name, error=str(exc)[:200])) from None
    if source is None:
        raise ValidationError("file", Msg("无法读取区域文件 {name}", name=name))
    try:
        lyr = source.GetLayerByName(layer) if layer else source.GetLayer(0)
        if lyr is None:
            raise ValidationError("layer", Msg("区域文件 {name} 中没有图层 {layer}", name=name, layer=str(layer)[:60]))
        if where:
            try:
                lyr.SetAttributeFilter(where)
            except RuntimeError as exc:
                raise ValidationError("where", Msg("筛选条件无效：{error}", error=str(exc)[:200])) from None
        target = osr.SpatialReference()
        target.ImportFromEPSG(STORE_SRID)
        target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        given = lyr.GetSpatialRef()
        transform = None
        if given is not None:
            given.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            if not given.IsSame(target):
                transform = osr.CoordinateTransformation(given, target)
        parts = []
        for i, feature in enumerate(lyr):
            if i >= MAX_FEATURES:
                raise ValidationError("file", Msg("区域文件 {name} 的要素超过 {limit:,} 个", name=name, limit=MAX_FEATURES))
            geom = feature.GetGeometryRef()
            if geom is None:
                continue
            geom = geom.Clone()
            if ogr.GT_Flatten(geom.GetGeometryType()) not in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
                continue
            if transform is not None:
                geom.Transform(transform)
            geom.FlattenTo2D()
            parts.append(wkb.loads(bytes(geom.ExportToWkb())))
    finally:
        source = None
    if not parts:
        raise ValidationError("file", Msg("区域文件 {name} 中没有多边形", name=name))
    return union_all([p.buffer(0) if not p.is_valid else p for p in parts]).wkt


__all__ = ["MAX_FEATURES", "read_polygons"]
