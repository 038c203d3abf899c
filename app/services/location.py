"""Where a report is: a store-CRS point, a lon/lat, an address or a picked component → point + grid."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from geoalchemy2 import WKTElement
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.codes import CodeError, normalize_component_id
from app.domain.definitions import STORE_SRID
from app.domain.messages import Msg, msg_of
from app.domain.taxonomy import Taxonomy
from app.services.errors import ServiceError, ValidationError
from app.store.models import AdminArea, Case, Component, Road, UnitGrid

if TYPE_CHECKING:  # imported on first use (slow, and it warns)
    from pyproj import Transformer

#: Geographic CRSs accepted for --lonlat (CGCS2000 and WGS84 differ by centimetres here).
GEOGRAPHIC_SRID = 4490
#: Metres of frontage per pair of house numbers (odd one side, even the other) when guessing.
METRES_PER_NUMBER_PAIR = 7.0


@dataclass(frozen=True)
class LocationInput:
    """Exactly one of: a point in the store CRS, lon/lat, a component code or an address text."""

    x: float | None = None
    y: float | None = None
    lon: float | None = None
    lat: float | None = None
    component_code: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class ResolvedLocation:
    """A point (EPSG:4549) inside a unit grid, with its street and community."""

    x: float
    y: float
    grid_id: int
    grid_code: str
    community_id: int | None
    community_name: str | None
    street_id: int | None
    street_name: str | None
    component_id: int | None = None
    component_code: str | None = None
    component_category_id: int | None = None
    address: str | None = None
    method: str = "point"  # point | lonlat | component | address
    notes: tuple[str, ...] = field(default=())


@cache
def _transformer() -> Transformer:
    with warnings.catch_warnings():  # Debian's pyproj warns before we can point it at PROJ's data
        warnings.simplefilter("ignore")
        import pyproj
        from pyproj import Transformer
    try:
        pyproj.datadir.get_data_dir()
    except pyproj.exceptions.DataDirError:
        pyproj.datadir.set_data_dir("/usr/share/proj")
    return Transformer.from_crs(GEOGRAPHIC_SRID, STORE_SRID, always_xy=True)


def lonlat_to_store(lon: float, lat: float) -> tuple[float, float]:
    """CGCS2000 (or WGS84) longitude/latitude → EPSG:4549 x/y; ValidationError when implausible."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValidationError("location", Msg("经纬度无效：{lon}, {lat}", lon=lon, lat=lat))
    if not (73 <= lon <= 136 and 3 <= lat <= 54):
        hint = Msg("（经度和纬度是否写反了？应为 经度,纬度）") if 73 <= lat <= 136 and 3 <= lon <= 54 else ""
        raise ValidationError("location", Msg("经纬度 {lon}, {lat} 不在中国范围内{hint}", lon=lon, lat=lat, hint=hint))
    try:
        transformer = _transformer()
    except Exception as exc:  # pyproj without PROJ's data files
        raise ServiceError(Msg("无法进行经纬度换算（{exc}）：请安装 Debian 软件包 proj-data 和 python3-pyproj",
                               exc=exc)) from None
    x, y = transformer.transform(lon, lat)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValidationError("location", Msg("经纬度 {lon}, {lat} 无法换算到 EPSG:{store_srid}",
                                              lon=lon, lat=lat, store_srid=STORE_SRID))
    return float(x), float(y)


def _point(x: float, y: float) -> WKTElement:
    return WKTElement(f"POINT({x!r} {y!r})", srid=STORE_SRID)


def grid_at(session: Session, x: float, y: float) -> ResolvedLocation | None:
    """The unit grid containing (x, y) with its community and street, or None outside every grid."""
    street = AdminArea.__table__.alias("street")
    community = AdminArea.__table__.alias("community")
    stmt = (
        select(UnitGrid.id, UnitGrid.code, community.c.id.label("cid"), community.c.name.label("cname"),
               street.c.id.label("sid"), street.c.name.label("sname"))
        .outerjoin(community, community.c.id == UnitGrid.community_id)
        .outerjoin(street, street.c.id == community.c.parent_id)
        .where(func.ST_Intersects(UnitGrid.geom, _point(x, y)), UnitGrid.retired_on.is_(None))  # in use (0024)
        .order_by(UnitGrid.code).limit(1)
    )
    r = session.execute(stmt).first()
    if r is None:
        return None
    return ResolvedLocation(x=x, y=y, grid_id=r.id, grid_code=r.code, community_id=r.cid,
                            community_name=r.cname, street_id=r.sid, street_name=r.sname)


def _in_grid(session: Session, x: float, y: float, loc: LocationInput, **extra: object) -> ResolvedLocation:
    found = grid_at(session, x, y)
    if found is None:
        raise ValidationError("location", Msg("位置不在本区任何单元网格内（x={x:.1f}, y={y:.1f}，EPSG:{store_srid}）："
                                              "请在地图上重新选点，或核对坐标",
                                              x=x, y=y, store_srid=STORE_SRID))
    values = {**found.__dict__, "address": (loc.address or "").strip() or None, **extra}
    return ResolvedLocation(**values)


def _component(session: Session, text: str, taxonomy: Taxonomy) -> tuple[Any, tuple[str, ...]]:  # (row, notes)
    raw = text.strip()
    try:
        code = str(normalize_component_id(raw, taxonomy))
    except CodeError as exc:
        raise ValidationError("component", msg_of(exc)) from None
    stmt = select(Component.id, Component.code, Component.category_id, func.ST_X(Component.geom).label("x"),
                  func.ST_Y(Component.geom).label("y"))
    row = session.execute(stmt.where(Component.code == code)).first()
    if row is None and len(raw) == 16:
        row = session.execute(stmt.where(Component.legacy_code == raw)).first()
    if row is None:
        converted = Msg("（由旧版16位代码转换为 {code}）", code=code) if code != raw else ""
        raise ValidationError("component", Msg("部件 {raw}{converted} 不存在：部件库中没有这个标识码，请核对标识码或在地图上点选部件",
                                               raw=raw, converted=converted))
    return row, (Msg("旧版部件标识码 {raw} 已转换为 {code}", raw=raw, code=code),) if code != raw else ()


def _house_number(text: str, road: str) -> int | None:
    m = re.search(re.escape(road) + r"\s*(\d{1,5})\s*号", text)
    return int(m.group(1)) if m else None


def _geocode(session: Session, text: str) -> tuple[float, float, tuple[str, ...]]:
    # An address some earlier case already carried: reuse its point (exact text only).
    prior = session.execute(select(func.ST_X(Case.geom), func.ST_Y(Case.geom))
                            .where(Case.address == text, Case.geom.isnot(None))
                            .order_by(Case.id.desc()).limit(1)).first()
    if prior is not None:
        return float(prior[0]), float(prior[1]), (Msg("地址与已有案卷的地址相同，采用其位置"),)
    names = sorted({n for (n,) in session.execute(select(Road.name).distinct())}, key=len, reverse=True)
    road = next((n for n in names if n and n in text), None)
    if road is None:
        raise ValidationError("address", Msg("无法定位地址「{text}」：其中没有本区的道路名称，也没有与已有案卷相同的地址；请在地图上选点或给出坐标",
                                             text=text))
    seg = session.execute(select(Road.id, func.ST_Length(Road.geom).label("len")).where(Road.name == road)
                          .order_by(func.ST_Length(Road.geom).desc(), Road.id).limit(1)).first()
    assert seg is not None  # the road's name was read from the roads table
    number = _house_number(text, road)
    length = float(seg.len or 0.0)
    if number is not None and length > 0:
        fraction = min(1.0, (number - 1) // 2 * METRES_PER_NUMBER_PAIR / length)
        note = Msg("按道路「{road}」{number} 号估算位置（每对门牌约 {metres:g} 米），请在地图上核对", road=road,
                   number=number, metres=METRES_PER_NUMBER_PAIR)
    else:
        fraction = 0.5
        note = Msg("地址只匹配到道路「{road}」，位置取该道路中点（近似），请在地图上核对", road=road)
    fn = func.ST_Line_Interpolate_Point if session.get_bind().dialect.name == "sqlite" else func.ST_LineInterpolatePoint
    pt = fn(Road.geom, fraction)
    x, y = session.execute(select(func.ST_X(pt), func.ST_Y(pt)).where(Road.id == seg.id)).one()
    return float(x), float(y), (note,)


def resolve(session: Session, loc: LocationInput, taxonomy: Taxonomy) -> ResolvedLocation:
    """Turn a location input into a point inside a grid, or ValidationError saying what is wrong."""
    given = [name for name, ok in (("--at", loc.x is not None or loc.y is not None),
                                   ("--lonlat", loc.lon is not None or loc.lat is not None),
                                   ("--component", bool(loc.component_code)))
             if ok]
    if len(given) > 1:
        raise ValidationError("location", Msg("位置只能用一种方式给出，现在同时给了 {given}", given=given))
    if loc.x is not None or loc.y is not None:
        if loc.x is None or loc.y is None or not (math.isfinite(loc.x) and math.isfinite(loc.y)):
            raise ValidationError("location", Msg("坐标不完整或无效：x={x}, y={y}", x=loc.x, y=loc.y))
        return _in_grid(session, float(loc.x), float(loc.y), loc, method="point")
    if loc.lon is not None or loc.lat is not None:
        if loc.lon is None or loc.lat is None:
            raise ValidationError("location", Msg("经纬度需要同时给出经度和纬度"))
        x, y = lonlat_to_store(float(loc.lon), float(loc.lat))
        return _in_grid(session, x, y, loc, method="lonlat")
    if loc.component_code:
        row, notes = _component(session, loc.component_code, taxonomy)
        return _in_grid(session, float(row.x), float(row.y), loc, method="component", component_id=row.id,
                        component_code=row.code, component_category_id=row.category_id, notes=notes)
    if loc.address and loc.address.strip():
        x, y, notes = _geocode(session, loc.address.strip())
        return _in_grid(session, x, y, loc, method="address", address=loc.address.strip(), notes=notes)
    raise ValidationError("location", Msg("缺少位置：请在地图上选点，或给出坐标、经纬度、部件标识码或地址"))


__all__ = ["LocationInput", "ResolvedLocation", "grid_at", "lonlat_to_store", "resolve"]
