"""Go to a unit-grid code, a component code or a coordinate (EPSG:4549 x,y or WGS84 lon,lat)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)

from app.domain.messages import Msg, MsgError
from app.gis.layers import store_crs

_NUMBER = r"[-+]?\d+(?:\.\d*)?"
_PAIR = re.compile(rf"^\s*({_NUMBER})\s*[,，\s]\s*({_NUMBER})\s*$")
_CODE = re.compile(r"^[0-9A-Za-z]{6,30}$")
#: Scale the map shows a point (coordinate, component) at.
POINT_SCALE = 1000


@dataclass(frozen=True)
class Target:
    """Where to go: a rectangle (a grid) or a point shown at ``POINT_SCALE``; ``what`` says what it is."""

    kind: str  # 'grid' | 'component' | 'xy' | 'lonlat'
    point: QgsPointXY
    rect: QgsRectangle | None
    what: str


def lonlat_to_store(lon: float, lat: float) -> QgsPointXY:
    """WGS84 longitude/latitude → EPSG:4549 (CGCS2000 and WGS84 differ by centimetres here)."""
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), store_crs(),
                                       QgsProject.instance().transformContext())
    return QgsPointXY(transform.transform(QgsPointXY(lon, lat)))


def store_to_lonlat(x: float, y: float) -> QgsPointXY:
    transform = QgsCoordinateTransform(store_crs(), QgsCoordinateReferenceSystem("EPSG:4326"),
                                       QgsProject.instance().transformContext())
    return QgsPointXY(transform.transform(QgsPointXY(x, y)))


def parse_coordinate(text: str) -> Target | None:
    """A coordinate pair: 'x, y' in EPSG:4549 or 'lon, lat' (degrees); None when ``text`` is no pair.

    MsgError for a pair that is neither (e.g. latitude first, or far outside China).
    """
    match = _PAIR.match(text)
    if match is None:
        return None
    a, b = float(match.group(1)), float(match.group(2))
    if not (math.isfinite(a) and math.isfinite(b)):
        raise MsgError(Msg("坐标无效：{text}", text=text.strip()))
    if 73 <= a <= 136 and 3 <= b <= 54:
        return Target("lonlat", lonlat_to_store(a, b), None, f"{a:.6f}, {b:.6f}")
    if 73 <= b <= 136 and 3 <= a <= 54:
        raise MsgError(Msg("经纬度 {a}, {b} 像是写反了：应为 经度,纬度", a=a, b=b))
    # EPSG:4549 (CGCS2000 / 3-degree GK CM 120E): false easting 500 km, northing of China
    if 200_000 <= a <= 800_000 and 0 <= b <= 6_500_000:
        return Target("xy", QgsPointXY(a, b), None, f"{a:.1f}, {b:.1f}")
    raise MsgError(Msg("坐标 {a}, {b} 既不是 EPSG:4549 的 x,y，也不是经纬度", a=a, b=b))


def _find(layer: QgsVectorLayer | None, code: str):
    if layer is None or layer.fields().indexOf("code") < 0:
        return None
    escaped = code.replace("'", "''")
    request = QgsFeatureRequest().setFilterExpression(f"\"code\" = '{escaped}'").setLimit(1)
    return next(layer.getFeatures(request), None)


def resolve(text: str, grids: QgsVectorLayer | None, components: QgsVectorLayer | None) -> Target:
    """What ``text`` names: a coordinate pair, a unit-grid code or a component code.

    MsgError (one message in the user's language) when it names nothing.
    """
    text = (text or "").strip()
    if not text:
        raise MsgError(Msg("请输入网格编码、部件编码或坐标"))
    target = parse_coordinate(text)
    if target is not None:
        return target
    if not _CODE.match(text):
        raise MsgError(Msg("无法识别：{text}（应为网格编码、部件编码、x,y 或 经度,纬度）", text=text[:60]))
    feature = _find(grids, text)
    if feature is not None:
        rect = feature.geometry().boundingBox()
        return Target("grid", rect.center(), rect, text)
    feature = _find(components, text)
    if feature is not None:
        geometry = feature.geometry()
        return Target("component", geometry.centroid().asPoint() if not geometry.isEmpty() else QgsPointXY(),
                      None, text)
    raise MsgError(Msg("没有编码为 {code} 的网格或部件", code=text))
