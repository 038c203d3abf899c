"""The gazetteer's tables (migration 0021) and their reads, writes and OGR imports.

Tables are SQLAlchemy Core on their own ``MetaData`` (the ORM models' schema test leaves tables
it does not know alone). Geometry travels as WKT in the store CRS (EPSG:4549).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from app.domain.definitions import STORE_SRID
from app.domain.messages import Msg
from app.store.engine import Store
from app.store.errors import StoreError
from app.store.models import Road

_meta = MetaData()
road_segments = Table("road_segments", _meta, Column("id", Integer, primary_key=True),
                      Column("road", String(64)), Column("label", String(160)), Column("from_name", String(64)),
                      Column("to_name", String(64)),
                      Column("geom", Geometry("LINESTRING", srid=STORE_SRID, spatial_index=False)))
house_numbers = Table("house_numbers", _meta, Column("id", Integer, primary_key=True), Column("road", String(64)),
                      Column("number", Integer),
                      Column("geom", Geometry("POINT", srid=STORE_SRID, spatial_index=False)))
landmarks = Table("landmarks", _meta, Column("id", Integer, primary_key=True), Column("name", String(64)),
                  Column("kind", String(32)), Column("geom", Geometry("POINT", srid=STORE_SRID, spatial_index=False)))
landmark_aliases = Table("landmark_aliases", _meta, Column("id", Integer, primary_key=True),
                         Column("landmark_id", Integer, ForeignKey("landmarks.id")), Column("alias", String(64)))

KINDS = ("roads", "addresses", "landmarks")
#: Attribute names accepted in imported files (first found wins).
ROAD_FIELDS = ("name", "road", "路名", "名称", "NAME")
NUMBER_FIELDS = ("number", "housenumber", "门牌号", "门牌", "NUMBER")
KIND_FIELDS = ("kind", "type", "类型", "KIND")
ALIAS_FIELDS = ("aliases", "alias", "别名", "ALIASES")


class GazetteerError(StoreError):
    """A gazetteer file that cannot be imported (nothing was written)."""


@dataclass(frozen=True)
class StoredGazetteer:
    """What the gazetteer tables hold (empty tuples when nothing was stored)."""

    segments: tuple[tuple[str, str, str | None, str | None, str], ...]  # road, label, from, to, wkt
    houses: tuple[tuple[str, int, float, float], ...]  # road, number, x, y
    landmarks: tuple[tuple[str, str, float, float, tuple[str, ...]], ...]  # name, kind, x, y, aliases


def _wkt(text: str) -> object:
    return func.ST_GeomFromText(text, STORE_SRID)


def read_gazetteer(store: Store) -> StoredGazetteer:
    """Every stored segment, house number and landmark with its aliases."""
    with store.session() as s:
        segments = tuple((r, lb, a, b, w) for r, lb, a, b, w in s.execute(
            select(road_segments.c.road, road_segments.c.label, road_segments.c.from_name, road_segments.c.to_name,
                   func.ST_AsText(road_segments.c.geom)).order_by(road_segments.c.id)))
        houses = tuple((r, int(n), float(x), float(y)) for r, n, x, y in s.execute(
            select(house_numbers.c.road, house_numbers.c.number, func.ST_X(house_numbers.c.geom),
                   func.ST_Y(house_numbers.c.geom)).order_by(house_numbers.c.id)))
        aliases: dict[int, list[str]] = {}
        for lid, alias in s.execute(select(landmark_aliases.c.landmark_id, landmark_aliases.c.alias)
                                    .order_by(landmark_aliases.c.id)):
            aliases.setdefault(lid, []).append(alias)
        marks = tuple((n, k or "", float(x), float(y), tuple(aliases.get(i, ()))) for i, n, k, x, y in s.execute(
            select(landmarks.c.id, landmarks.c.name, landmarks.c.kind, func.ST_X(landmarks.c.geom),
                   func.ST_Y(landmarks.c.geom)).order_by(landmarks.c.id)))
    return StoredGazetteer(segments, houses, marks)


def write_gazetteer(store: Store, gazetteer: StoredGazetteer) -> tuple[int, int, int]:
    """Replace the stored gazetteer with ``gazetteer`` in one transaction; (segments, houses, landmarks)."""
    with store.session() as s, s.begin():
        for table in (landmark_aliases, landmarks, house_numbers, road_segments):
            s.execute(delete(table))
        _insert_segments(s, gazetteer.segments)
        _insert_houses(s, gazetteer.houses)
        _insert_landmarks(s, gazetteer.landmarks)
    return len(gazetteer.segments), len(gazetteer.houses), len(gazetteer.landmarks)


def _insert_segments(s: Session, rows: Iterable[tuple[str, str, str | None, str | None, str]]) -> None:
    for road, label, a, b, wkt in rows:
        s.execute(insert(road_segments).values(road=road, label=label, from_name=a, to_name=b, geom=_wkt(wkt)))


def _insert_houses(s: Session, rows: Iterable[tuple[str, int, float, float]]) -> None:
    batch = [{"road": r, "number": n, "geom": f"SRID={STORE_SRID};POINT({x} {y})"} for r, n, x, y in rows]
    for i in range(0, len(batch), 5000):
        s.execute(insert(house_numbers), batch[i:i + 5000])


def _insert_landmarks(s: Session, rows: Iterable[tuple[str, str, float, float, tuple[str, ...]]]) -> None:
    for name, kind, x, y, aliases in rows:
        lid = s.execute(insert(landmarks).values(name=name, kind=kind, geom=_wkt(f"POINT({x} {y})"))
                        .returning(landmarks.c.id)).scalar_one()
        for alias in dict.fromkeys(aliases):
            s.execute(insert(landmark_aliases).values(landmark_id=lid, alias=alias))


def _field(feature: Any, names: tuple[str, ...]) -> object:
    defn = feature.GetDefnRef()
    for name in names:
        if defn.GetFieldIndex(name) >= 0 and feature.IsFieldSet(name):
            return feature.GetField(name)
    return None


def import_file(store: Store, path: str | Path, kind: str) -> int:
    """Add the features of an OGR-readable file (GeoJSON, GeoPackage, Shapefile, CSV with WKT …)
    as ``roads`` (lines), ``addresses`` (points with road and number) or ``landmarks`` (points
    with name, kind, aliases separated by , 、 ; or |). Reprojected to EPSG:4549 when the file
    says its CRS; all or nothing. Returns the number of rows written."""
    from osgeo import ogr, osr

    if kind not in KINDS:
        raise GazetteerError(Msg("地名地址类型必须是 {kinds} 之一，不是「{kind}」", kinds="、".join(KINDS), kind=kind))
    ogr.UseExceptions()
    try:
        source = ogr.Open(str(path))
    except RuntimeError:
        source = None
    if source is None or source.GetLayerCount() == 0:
        raise GazetteerError(Msg("无法读取地名地址文件 {path}", path=str(path)))
    layer = source.GetLayer(0)
    target = osr.SpatialReference()
    target.ImportFromEPSG(STORE_SRID)
    target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    srs = layer.GetSpatialRef()
    transform = None
    if srs is not None and not srs.IsSame(target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(srs, target)
    rows: list[tuple[dict[str, object], str]] = []
    for n, feature in enumerate(layer, start=1):
        geom = feature.GetGeometryRef()
        if geom is None:
            raise GazetteerError(Msg("地名地址文件第 {n} 个要素没有几何", n=n))
        geom = geom.Clone()
        if transform is not None:
            try:
                geom.Transform(transform)
            except RuntimeError:
                raise GazetteerError(Msg("地名地址文件第 {n} 个要素的坐标无法转换到 EPSG:{srid}（文件的坐标系对吗？）",
                                         n=n, srid=STORE_SRID)) from None
        geom.FlattenTo2D()
        name = _field(feature, ROAD_FIELDS)
        if not name or not str(name).strip():
            raise GazetteerError(Msg("地名地址文件第 {n} 个要素没有名称（字段 name 或 路名）", n=n))
        want = "POINT" if kind != "roads" else "LINESTRING"
        parts = [geom] if geom.GetGeometryName() == want else \
            [geom.GetGeometryRef(i) for i in range(geom.GetGeometryCount())] \
            if geom.GetGeometryName() == "MULTI" + want else []
        if not parts:
            raise GazetteerError(Msg("地名地址文件第 {n} 个要素的几何是 {got}，应为 {want}", n=n,
                                     got=geom.GetGeometryName(), want=want))
        values: dict[str, object] = {"name": str(name).strip()}
        if kind == "addresses":
            number = _field(feature, NUMBER_FIELDS)
            match = re.fullmatch(r"\s*(\d+)\s*号?\s*", str(number or ""))
            if not match:
                raise GazetteerError(Msg("地名地址文件第 {n} 个要素的门牌号「{value}」不是数字", n=n, value=str(number)))
            values["number"] = int(match.group(1))
        if kind == "landmarks":
            values["kind"] = str(_field(feature, KIND_FIELDS) or "")
            values["aliases"] = tuple(a.strip() for a in re.split(r"[,，、;；|]", str(_field(feature, ALIAS_FIELDS) or ""))
                                      if a.strip())
        rows.extend((values, part.ExportToWkt()) for part in parts)
    with store.session() as s, s.begin():
        for values, wkt in rows:
            if kind == "roads":
                s.add(Road(name=values["name"], kind="branch", width_m=10.0, geom=f"SRID={STORE_SRID};{wkt}"))
            elif kind == "addresses":
                s.execute(delete(house_numbers).where(house_numbers.c.road == values["name"],
                                                      house_numbers.c.number == values["number"]))
                s.execute(insert(house_numbers).values(road=values["name"], number=values["number"], geom=_wkt(wkt)))
            else:
                old = s.execute(select(landmarks.c.id).where(landmarks.c.name == values["name"])).scalar()
                if old is not None:
                    s.execute(delete(landmark_aliases).where(landmark_aliases.c.landmark_id == old))
                    s.execute(delete(landmarks).where(landmarks.c.id == old))
                p = ogr.CreateGeometryFromWkt(wkt)
                _insert_landmarks(s, [(str(values["name"]), str(values["kind"]), p.GetX(), p.GetY(),
                                       tuple(values["aliases"]))])  # type: ignore[arg-type]
    return len(rows)
