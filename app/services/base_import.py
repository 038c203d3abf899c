"""Import and export of base data (unit grids and components) through GDAL/OGR (issue 15, items 1–3).

``read_source`` opens a GeoPackage, Shapefile (encoding from ``.cpg``, else UTF-8 then GBK, or the
``encoding`` given), GeoJSON, FlatGeobuf or CSV with coordinates (X/Y or WKT columns), maps its columns
(``app.domain.field_names``), reprojects every geometry to the store's SRID and runs the pure row checks
(``app.domain.base_rows``). ``validate`` adds the checks that need the store: codes already stored,
departments, the district boundary, overlapping grids and gaps between them, grids crossing their
community, a component's grid code against the grid it lies in. ``write`` stores the good rows in ONE
transaction (a crash, a kill or a cancel leaves the store as before). ``export`` writes the store's grids
or components to gpkg/shp (with ``.cpg``)/geojson/csv/xlsx with GB/T 47678.5 field names.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from app.domain import base_rows
from app.domain.base_rows import Row
from app.domain.definitions import STORE_SRID
from app.domain.field_names import (
    CASES,
    COMPONENTS,
    DEPARTMENTS,
    EXPORT_NAMES,
    FIELDS,
    GRIDS,
    ROADS,
    MappingError,
    resolve,
)
from app.domain.messages import Msg, MsgError, msg_of
from app.domain.taxonomy import Taxonomy
from app.services import base_cases

#: the field naming a grid's retirement day (YYYYMMDD) in ``export grids --include-retired``.
RETIRED_ON_FIELD = "retired_on"

#: overlap / gap / boundary tolerance in square metres, and distance tolerance in metres.
AREA_TOLERANCE_M2 = 1.0
DISTANCE_TOLERANCE_M = 0.5
FORMATS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON", "csv": "CSV", "fgb": "FlatGeobuf",
           "xlsx": "XLSX"}
_EXT = {".gpkg": "gpkg", ".shp": "shp", ".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".fgb": "fgb",
        ".xlsx": "xlsx"}


POINT_KINDS = (COMPONENTS, CASES)
GEOMETRY_KINDS = (GRIDS, COMPONENTS, ROADS)
ROW_CHECKS: dict[str, Callable[[int, dict[str, Any], Taxonomy, date], Row]] = {
    GRIDS: lambda number, values, taxonomy, today: base_rows.grid_row(number, values),
    COMPONENTS: base_rows.component_row,
    DEPARTMENTS: base_rows.department_row,
    ROADS: base_rows.road_row,
    CASES: base_cases.case_row,
}


class ImportRefused(MsgError):
    """The source cannot be read at all (nothing was written)."""


@dataclass
class Source:
    """A read source: its rows (checked by the pure checks), mapping and where it came from."""

    path: Path
    kind: str
    driver: str
    layer: str
    mapping: dict[str, str]
    columns: list[str]
    encoding: str | None
    srs_name: str
    rows: list[Row] = field(default_factory=list)
    raw_columns: dict[str, list[Any]] = field(default_factory=dict)  # the source's attributes, by column
    wkb: list[bytes | None] = field(default_factory=list)  # the source geometry per row (source CRS)

    def raw_row(self, number: int) -> dict[str, Any]:
        """The source's attributes of row ``number`` (from 1)."""
        return {col: values[number - 1] for col, values in self.raw_columns.items()}


@dataclass
class Report:
    """The validation report: every row's problems and notes, and the whole-file findings."""

    source: Source
    findings: list[Msg] = field(default_factory=list)
    written: int = 0
    rejects_path: Path | None = None

    @property
    def good(self) -> list[Row]:
        return [r for r in self.source.rows if r.ok]

    @property
    def bad(self) -> list[Row]:
        return [r for r in self.source.rows if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.bad and not self.findings

    def as_dict(self, tr: Callable[[Any], str] = str) -> dict[str, Any]:
        s = self.source
        return {"file": str(s.path), "kind": s.kind, "driver": s.driver, "layer": s.layer, "crs": s.srs_name,
                "encoding": s.encoding, "mapping": s.mapping, "rows": len(s.rows), "good": len(self.good),
                "rejected": len(self.bad), "written": self.written, "findings": [tr(m) for m in self.findings],
                "rejects_file": str(self.rejects_path) if self.rejects_path else None,
                "problems": [{"row": r.number, "code": _key(r), "reasons": [tr(m) for m in r.problems]}
                             for r in self.bad],
                "notes": [{"row": r.number, "code": _key(r), "notes": [tr(m) for m in r.notes]}
                          for r in s.rows if r.notes]}

    def text(self, tr: Callable[[Any], str] = str, limit: int = 50) -> str:
        s = self.source
        lines = [tr(Msg("{file}（{driver}，图层 {layer}，坐标系 {crs}）：{rows} 条，合格 {good} 条，有问题 {bad} 条",
                        file=str(s.path), driver=s.driver, layer=s.layer, crs=s.srs_name, rows=len(s.rows),
                        good=len(self.good), bad=len(self.bad))),
                 tr(Msg("字段对应：{mapping}", mapping=", ".join(f"{k}←{v}" for k, v in s.mapping.items())))]
        lines += [tr(m) for m in self.findings]
        for r in self.bad[:limit]:
            lines.append(tr(Msg("第 {row} 条 {code}：{reasons}", row=r.number, code=_key(r) or "",
                                reasons="；".join(tr(m) for m in r.problems))))
        if len(self.bad) > limit:
            lines.append(tr(Msg("……另有 {n} 条有问题（见 --report 的 JSON）", n=len(self.bad) - limit)))
        noted = [r for r in s.rows if r.notes]
        for r in noted[:limit]:
            lines.append(tr(Msg("第 {row} 条 {code}：{notes}", row=r.number, code=_key(r) or "",
                                notes="；".join(tr(m) for m in r.notes))))
        return "\n".join(lines)


_GC_HOLDS = [0]
_GC_LOCK = __import__("threading").Lock()


@contextlib.contextmanager
def quiet_gc() -> Any:
    """The cyclic garbage collector paused while hundreds of thousands of rows are built (none of them
    cyclic: reference counting frees them). Otherwise each generation's collection walks the whole
    growing heap again and again — a third of a 250,000-row import's time. Nested and threaded uses
    share one pause; the collector runs again when the last one ends."""
    import gc

    with _GC_LOCK:
        _GC_HOLDS[0] += 1
        if _GC_HOLDS[0] == 1:
            was = gc.isenabled()
            _GC_HOLDS.append(was)
            gc.disable()
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_HOLDS[0] -= 1
            if _GC_HOLDS[0] == 0 and _GC_HOLDS.pop():
                gc.enable()


def _key(row: Row) -> Any:
    """What names a row in the report: its code, a case's number, a road's name."""
    v = row.values
    key = v.get("code") or v.get("number") or v.get("name")
    if isinstance(key, str) and len(key) > 40:  # a hostile 100 kB "code" is named, never echoed
        return key[:40] + "…"
    return key


def _ogr() -> Any:
    from osgeo import gdal, ogr, osr

    gdal.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # warnings become the report's findings, not stderr noise
    ogr.UseExceptions()
    osr.UseExceptions()
    return gdal, ogr, osr


def _gdal_error(exc: Exception) -> Msg | str:
    """GDAL's reason in the user's words where it is a common one (its own text is English), else as
    GDAL gave it (at most 200 characters)."""
    gdal = _ogr()[0]
    text = (str(exc).strip() or gdal.GetLastErrorMsg().strip())[:200]
    if re.search(r"not recogni[sz]ed as (being in )?a supported file format", text):  # GDAL 3.6 / 3.10 wording
        return Msg("格式无法识别")
    if "malformed" in text or "not a database" in text:
        return Msg("文件已损坏")
    return text or Msg("GDAL 未给出原因")


def _decode(raw: bytes, encodings: Sequence[str]) -> str | None:
    for enc in encodings:
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def read_source(path: str | os.PathLike, kind: str, *, layer: str | None = None,
                overrides: dict[str, str] | None = None, source_crs: int | None = None,
                encoding: str | None = None, taxonomy: Taxonomy | None = None, today: date | None = None,
                check: Callable[[], None] | None = None) -> Source:
    """Open, map, reproject and check every feature of ``path`` (ImportRefused when unreadable).
    ``check()`` is called between batches of features and may raise to cancel."""
    gdal = _ogr()[0]
    with _xlsx_headers(gdal, Path(path).suffix.lower() == ".xlsx"), quiet_gc():
        return _read_source(path, kind, layer=layer, overrides=overrides, source_crs=source_crs,
                            encoding=encoding, taxonomy=taxonomy, today=today, check=check)


def _read_source(path: str | os.PathLike, kind: str, *, layer: str | None = None,
                overrides: dict[str, str] | None = None, source_crs: int | None = None,
                encoding: str | None = None, taxonomy: Taxonomy | None = None, today: date | None = None,
                check: Callable[[], None] | None = None) -> Source:
    gdal, ogr, osr = _ogr()
    path = Path(path)
    ds, lyr, decode_with = _open_layer(path, layer, encoding)
    defn = lyr.GetLayerDefn()
    columns = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    mapping = resolve(kind, columns, overrides)
    target = osr.SpatialReference()
    target.ImportFromEPSG(STORE_SRID)
    if kind == DEPARTMENTS and lyr.GetGeomType() == ogr.wkbNone and source_crs is None:
        srs = target.Clone()  # a table of departments without jurisdictions: no coordinates to place
    else:
        srs = _source_srs(lyr, source_crs, path)
    for ref in (srs, target):
        ref.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    try:
        transform = None if srs.IsSame(target) else osr.CoordinateTransformation(srs, target)
    except RuntimeError:  # a local/engineering CRS, or one PROJ has no operation for
        raise ImportRefused(Msg("{path} 的坐标系 {crs} 无法转换到 EPSG:{srid}：请用 --source-crs 给出 EPSG 代码（如 4549 或 4490）",
                                path=str(path), crs=(srs.GetName() or "?")[:80], srid=STORE_SRID)) from None
    # a spreadsheet is read through an OGR VRT over its sheet: its format is still XLSX (reject file too)
    driver = "XLSX" if path.suffix.lower() == ".xlsx" else ds.GetDriver().ShortName
    source = Source(path=path, kind=kind, driver=driver, layer=lyr.GetName(), mapping=mapping,
                    columns=columns, encoding=(decode_with[0] if decode_with and len(decode_with) == 1
                                               else "utf-8/gbk" if decode_with else None),
                    srs_name=f"{srs.GetAuthorityName(None) or ''}:{srs.GetAuthorityCode(None) or srs.GetName()}")
    taxonomy = taxonomy or Taxonomy.load()
    today = today or date.today()
    try:
        data, source.wkb, bad_text = _read_features(lyr, columns, decode_with, ogr, check)
    except RuntimeError as exc:
        raise ImportRefused(Msg("{path} 第 {row} 条之后无法读取（文件可能已截断或损坏）：{error}", path=str(path),
                                row=len(source.wkb), error=_gdal_error(exc))) from None
    source.raw_columns = data
    count = len(source.wkb)
    values = {key: data[col] for key, col in mapping.items()}
    source.rows = _rows(kind, values, count, taxonomy, today)
    for i in bad_text:
        source.rows[i].problems.append(Msg("文字无法按 {encoding} 解码：请用 --encoding 指定编码（如 GBK）",
                                           encoding="/".join(decode_with or ["utf-8"])))
    if kind in POINT_KINDS:
        _points(source.rows, source.wkb, transform, kind)
    elif kind in GEOMETRY_KINDS or kind == DEPARTMENTS:
        for row, wkb in zip(source.rows, source.wkb, strict=True):
            if wkb is None and kind == DEPARTMENTS:
                continue  # a department without a jurisdiction drawn
            _geometry(row, ogr.CreateGeometryFromWkb(wkb) if wkb is not None else None, transform, kind, ogr)
    base_rows.duplicates(source.rows)
    return source


def _rows(kind: str, values: dict[str, list[Any]], count: int, taxonomy: Taxonomy, today: date) -> list[Row]:
    if kind == COMPONENTS:
        return base_rows.component_rows(values, count, taxonomy, today)
    keys = list(values)
    out = []
    for number, vals in enumerate(zip(*values.values(), strict=True), 1) if keys else (
            (i, ()) for i in range(1, count + 1)):
        out.append(ROW_CHECKS[kind](number, dict(zip(keys, vals, strict=True)), taxonomy, today))
    return out


def _read_features(lyr: Any, columns: list[str], decode_with: list[str] | None, ogr: Any,
                   check: Callable[[], None] | None = None) -> tuple[dict[str, list[Any]], list[bytes | None], list[int]]:
    """Every feature's attributes as columns ({column: values}), its geometry as WKB (source CRS) and
    the rows whose text could not be decoded. Through GDAL's columnar (Arrow) reader where there is
    one: no per-feature call from Python."""
    defn = lyr.GetLayerDefn()
    strings = {defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())
               if defn.GetFieldDefn(i).GetType() == ogr.OFTString}
    data: dict[str, list[Any]] = {c: [] for c in columns}
    wkb: list[bytes | None] = []
    if hasattr(lyr, "GetArrowStreamAsNumPy"):
        geom_key = None
        for batch in lyr.GetArrowStreamAsNumPy(options=["INCLUDE_FID=NO"]):
            if check is not None:
                check()
            if not any(len(v) for v in batch.values()):
                break  # GDAL 3.6 streams empty batches for ever from a FlatGeobuf file with no feature
            if geom_key is None:
                geom_key = next((k for k in batch if k not in data), "")
            n = 0
            for col in columns:
                values = batch[col].tolist()
                n = len(values)
                data[col].extend(values)
            if geom_key:
                g = batch[geom_key]
                n = len(g)
                wkb.extend(None if v is None or len(v) == 0 else bytes(v) for v in g.tolist())
            else:
                wkb.extend([None] * n)
    else:  # GDAL before 3.6: one feature at a time
        for feat in lyr:
            for i, col in enumerate(columns):
                data[col].append(None if not feat.IsFieldSetAndNotNull(i) else
                                 bytes(feat.GetFieldAsBinary(i)) if col in strings else
                                 _value(feat, i, defn.GetFieldDefn(i).GetType(), ogr))
            geom = feat.GetGeometryRef()
            wkb.append(bytes(geom.ExportToIsoWkb()) if geom is not None else None)
    bad: set[int] = set()
    encodings = decode_with or ["utf-8"]
    for col in strings & set(columns):
        values = data[col]
        try:
            data[col] = [v.decode(encodings[0]) if type(v) is bytes else v for v in values]
        except UnicodeDecodeError:
            decoded = []
            for i, v in enumerate(values):
                if type(v) is bytes:
                    v = _decode(v, encodings)
                    if v is None:
                        bad.add(i)
                decoded.append(v)
            data[col] = decoded
    return data, wkb, sorted(bad)


def _open_layer(path: Path, layer: str | None, encoding: str | None) -> tuple[Any, Any, list[str] | None]:
    """(dataset, layer, encodings to decode a Shapefile's text with); ImportRefused when unreadable."""
    gdal, ogr, osr = _ogr()
    path = Path(path)
    if not path.exists():
        raise ImportRefused(Msg("文件 {path} 不存在", path=str(path)))
    if encoding is not None:
        try:
            "".encode(encoding)
        except LookupError:
            raise ImportRefused(Msg("编码 {encoding} 未知：例如 UTF-8 或 GBK", encoding=encoding[:30])) from None
    ext = path.suffix.lower()
    options: list[str] = []
    decode_with: list[str] | None = None
    if ext == ".shp":
        if not path.with_suffix(".dbf").exists() and not path.with_suffix(".DBF").exists():
            raise ImportRefused(Msg("Shapefile {path} 缺少属性表 .dbf 文件", path=str(path)))
        cpg = path.with_suffix(".cpg")
        if encoding:
            decode_with = [encoding]
        elif cpg.exists():
            decode_with = [_cpg_encoding(cpg.read_text(errors="replace"))]
            try:
                "".encode(decode_with[0])
            except LookupError:
                raise ImportRefused(Msg("{path} 的 .cpg 文件给出的编码「{encoding}」未知：请用 --encoding 指定编码（如 UTF-8 或 GBK）",
                                        path=str(cpg), encoding=decode_with[0][:30])) from None
        else:
            decode_with = ["utf-8", "gbk"]
        options.append("ENCODING=")
    elif ext == ".csv":
        decode_with = [encoding] if encoding else None  # GDAL hands a CSV's bytes over as they are
        options += ["X_POSSIBLE_NAMES=X,x,lon,lng,longitude,经度,横坐标",
                    "Y_POSSIBLE_NAMES=Y,y,lat,latitude,纬度,纵坐标",
                    "GEOM_POSSIBLE_NAMES=WKT,wkt,geometry,geom", "KEEP_GEOM_COLUMNS=NO", "AUTODETECT_TYPE=NO"]
    try:
        ds = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_READONLY, open_options=options)
    except RuntimeError as exc:
        raise ImportRefused(Msg("无法读取 {path}：{error}", path=str(path), error=_gdal_error(exc))) from None
    if ds is None or ds.GetLayerCount() == 0:
        raise ImportRefused(Msg("无法读取 {path}：不是可识别的矢量文件", path=str(path)))
    if layer is None:
        lyr = ds.GetLayer(0)
    else:
        lyr = ds.GetLayerByName(layer)
        if lyr is None:
            names = ", ".join(ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount()))
            raise ImportRefused(Msg("{path} 没有图层 {layer}（有：{names}）", path=str(path), layer=layer[:60],
                                    names=names[:200]))
    if ext == ".xlsx":
        ds, lyr = _sheet_geometry(gdal, ds, lyr, path)
    return ds, lyr, decode_with


def preview(path: str | os.PathLike, kind: str, *, layer: str | None = None, encoding: str | None = None,
            overrides: dict[str, str] | None = None, limit: int = 20) -> tuple[list[str], list[list[Any]],
                                                                                 dict[str, str | None]]:
    """(columns, the first ``limit`` rows as read, {field key: the column it is read from or None}) —
    what the GUI shows before anything is checked. The mapping is ``resolve``'s without the required
    check (the user may still pick the missing column)."""
    gdal, ogr, _ = _ogr()
    with _xlsx_headers(gdal, Path(path).suffix.lower() == ".xlsx"):
        ds, lyr, decode_with = _open_layer(Path(path), layer, encoding)
        defn = lyr.GetLayerDefn()
        columns = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
        rows: list[list[Any]] = []
        try:
            for feat in lyr:
                values: list[Any] = []
                for i in range(len(columns)):
                    if not feat.IsFieldSetAndNotNull(i):
                        values.append(None)
                    elif decode_with is not None and defn.GetFieldDefn(i).GetType() == ogr.OFTString:
                        values.append(_decode(bytes(feat.GetFieldAsBinary(i)), decode_with))
                    else:
                        values.append(feat.GetFieldAsString(i))
                rows.append(values)
                if len(rows) >= limit:
                    break
        except RuntimeError as exc:
            raise ImportRefused(Msg("{path} 第 {row} 条之后无法读取（文件可能已截断或损坏）：{error}", path=str(path),
                                    row=len(rows), error=_gdal_error(exc))) from None
        del ds, lyr  # close the file
    try:
        found: dict[str, str | None] = dict(resolve(kind, columns, overrides))
    except MappingError:
        found = {}
        for key, names in FIELDS[kind].items():
            norm = {"".join(c.split()).casefold(): c for c in columns}
            found[key] = next((norm[n.casefold()] for n in names if n.casefold() in norm), None)
    return columns, rows, {key: found.get(key) for key in FIELDS[kind]}


@contextlib.contextmanager
def _xlsx_headers(gdal: Any, on: bool) -> Any:
    """A spreadsheet's first row as the column names, every cell as text (codes keep leading zeros)."""
    if not on:
        yield
        return
    saved = {k: gdal.GetConfigOption(k) for k in ("OGR_XLSX_HEADERS", "OGR_XLSX_FIELD_TYPES")}
    gdal.SetConfigOption("OGR_XLSX_HEADERS", "FORCE")
    gdal.SetConfigOption("OGR_XLSX_FIELD_TYPES", "STRING")
    try:
        yield
    finally:
        for k, v in saved.items():
            gdal.SetConfigOption(k, v)


def _sheet_geometry(gdal: Any, ds: Any, lyr: Any, path: Path) -> tuple[Any, Any]:
    """A spreadsheet's X/Y (or WKT) columns as the geometry, through an OGR VRT over the sheet."""
    from xml.sax.saxutils import escape, quoteattr

    defn = lyr.GetLayerDefn()
    names = {defn.GetFieldDefn(i).GetName().casefold(): defn.GetFieldDefn(i).GetName()
             for i in range(defn.GetFieldCount())}
    x = next((names[n] for n in ("x", "lon", "lng", "longitude", "经度", "横坐标") if n in names), None)
    y = next((names[n] for n in ("y", "lat", "latitude", "纬度", "纵坐标") if n in names), None)
    wkt = next((names[n] for n in ("wkt", "geometry", "geom") if n in names), None)
    if x and y:
        geometry = f'<GeometryField encoding="PointFromColumns" x={quoteattr(x)} y={quoteattr(y)}/>'
    elif wkt:
        geometry = f'<GeometryField encoding="WKT" field={quoteattr(wkt)}/>'
    else:
        return ds, lyr
    vrt = (f'<OGRVRTDataSource><OGRVRTLayer name={quoteattr(lyr.GetName())}>'
           f'<SrcDataSource>{escape(str(path.resolve()))}</SrcDataSource>'
           f'<SrcLayer>{escape(lyr.GetName())}</SrcLayer>{geometry}</OGRVRTLayer></OGRVRTDataSource>')
    vds = gdal.OpenEx(vrt, gdal.OF_VECTOR | gdal.OF_READONLY)
    return vds, vds.GetLayer(0)


def _cpg_encoding(text: str) -> str:
    name = text.strip().upper()
    if name in ("936", "CP936", "GB2312", "GBK", "GB18030"):
        return "gb18030" if name == "GB18030" else "gbk"
    if name.startswith("8859"):
        return "iso-" + name.lower()
    return {"UTF8": "utf-8", "65001": "utf-8"}.get(name.replace("-", ""), name.lower() or "utf-8")


def _value(feat: Any, i: int, ftype: int, ogr: Any) -> Any:
    if ftype in (ogr.OFTInteger, ogr.OFTInteger64):
        return feat.GetFieldAsInteger64(i)
    if ftype == ogr.OFTReal:
        return feat.GetFieldAsDouble(i)
    if ftype in (ogr.OFTDate, ogr.OFTDateTime):
        y, m, d = feat.GetFieldAsDateTime(i)[:3]
        return f"{y:04d}{m:02d}{d:02d}"
    return feat.GetFieldAsString(i)


def _source_srs(lyr: Any, source_crs: int | None, path: Path) -> Any:
    gdal, _, osr = _ogr()
    if source_crs is not None:
        # the file's own CRS is read (and a broken .prj refused) once here, quietly: otherwise GDAL's
        # columnar reader meets the parse error later and gives up on the whole file
        with contextlib.suppress(RuntimeError):
            lyr.GetSpatialRef()
        gdal.ErrorReset()
        srs = osr.SpatialReference()
        try:
            srs.ImportFromEPSG(int(source_crs))
        except (RuntimeError, OverflowError, ValueError, TypeError):  # (a 12-digit code overflows GDAL's int)
            raise ImportRefused(Msg("坐标系 EPSG:{code} 未知", code=str(source_crs)[:20])) from None
        return srs
    try:
        srs = lyr.GetSpatialRef()
    except RuntimeError as exc:  # a .prj GDAL cannot parse
        raise ImportRefused(Msg("{path} 的坐标系无法识别（{error}）：请用 --source-crs 给出 EPSG 代码（如 4549 或 4490）",
                                path=str(path), error=str(exc)[:120])) from None
    if srs is None:
        raise ImportRefused(Msg("{path} 没有坐标系：请用 --source-crs 给出 EPSG 代码（如 4549 或 4490）", path=str(path)))
    return srs.Clone()


def _geometry(row: Row, geom: Any, transform: Any, kind: str, ogr: Any) -> None:
    """Set ``row.values['wkb']`` (store SRID) or add the geometry's problem; repairs only when safe."""
    if geom is None or geom.IsEmpty():
        row.problems.append(Msg("几何为空"))
        return
    geom = geom.Clone()
    if geom.GetCoordinateDimension() == 3:
        geom.FlattenTo2D()
    if transform is not None:
        try:
            geom.Transform(transform)
        except RuntimeError:
            row.problems.append(Msg("坐标无法转换到 EPSG:{srid}", srid=STORE_SRID))
            return
    flat = ogr.GT_Flatten(geom.GetGeometryType())
    if kind == COMPONENTS:
        if flat == ogr.wkbMultiPoint and geom.GetGeometryCount() == 1:
            geom = geom.GetGeometryRef(0).Clone()
        elif flat != ogr.wkbPoint:
            row.problems.append(Msg("部件几何应为点，实际为 {type}", type=geom.GetGeometryName()))
            return
    elif kind == ROADS:
        if flat == ogr.wkbMultiLineString and geom.GetGeometryCount() == 1:
            geom = geom.GetGeometryRef(0).Clone()
        elif flat != ogr.wkbLineString:
            row.problems.append(Msg("道路几何应为线，实际为 {type}", type=geom.GetGeometryName()))
            return
        if geom.Length() <= 0:
            row.problems.append(Msg("道路长度为零"))
            return
    elif kind == DEPARTMENTS:  # the jurisdiction, when the file has one
        if flat not in (ogr.wkbPolygon, ogr.wkbMultiPolygon) or not geom.IsValid():
            row.problems.append(Msg("部门辖区几何应为有效的面，实际为 {type}", type=geom.GetGeometryName()))
            return
        row.values["jurisdiction"] = geom.ExportToWkt()
        return
    else:
        if flat == ogr.wkbMultiPolygon and geom.GetGeometryCount() == 1:
            geom = geom.GetGeometryRef(0).Clone()
        elif flat != ogr.wkbPolygon:
            row.problems.append(Msg("网格几何应为面，实际为 {type}", type=geom.GetGeometryName()))
            return
        if not geom.IsValid():
            fixed = geom.MakeValid()
            polys = _polygons(fixed, ogr)
            if len(polys) == 1 and abs(polys[0].GetArea() - abs(_shoelace(geom))) <= AREA_TOLERANCE_M2:
                geom = polys[0]
                row.notes.append(Msg("几何无效（自相交）已修复为一个面，面积不变"))
            else:
                row.problems.append(Msg("几何无效（自相交，如蝴蝶结形）：修复后为 {n} 个面，无法安全修复", n=len(polys)))
                return
        if geom.GetArea() <= 0:
            row.problems.append(Msg("网格面积为零"))
            return
        row.values["area_m2"] = round(geom.GetArea(), 2)
    row.values["wkb"] = bytes(geom.ExportToWkb())


def _points(rows: list[Row], wkb: list[bytes | None], transform: Any, kind: str) -> None:
    """``_geometry`` for point layers, over whole arrays (shapely 2): ``values['wkb']`` and ``['_shape']``."""
    import numpy as np
    import shapely

    geoms = shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="ignore")
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    types = shapely.get_type_id(geoms)
    single = (types == 4) & (shapely.get_num_geometries(geoms) == 1)
    if single.any():
        geoms[single] = shapely.get_geometry(geoms[single], 0)
        types[single] = 0
    empty = (types < 0) | shapely.is_empty(geoms)
    good = ~empty & (types == 0)
    failed = np.zeros(len(geoms), dtype=bool)
    if transform is not None and good.any():
        idx = np.flatnonzero(good)
        xy = shapely.get_coordinates(geoms[idx])
        out = np.full_like(xy, np.nan)
        for start in range(0, len(xy), 65536):
            part = xy[start:start + 65536]
            try:
                out[start:start + len(part)] = np.array(transform.TransformPoints(part))[:, :2]
            except RuntimeError:  # one point cannot be transformed: the rest still can
                for j, p in enumerate(part):
                    with contextlib.suppress(RuntimeError):
                        out[start + j] = transform.TransformPoint(float(p[0]), float(p[1]))[:2]
        bad = ~np.isfinite(out).all(axis=1)
        failed[idx[bad]] = True
        geoms[idx] = shapely.points(out)
        good &= ~failed
    blobs = shapely.to_wkb(geoms, output_dimension=2)  # explicit: GEOS < 3.12 (QGIS, SpatiaLite) refuses 4
    for i, row in enumerate(rows):
        if good[i]:
            row.values["wkb"] = blobs[i]
            row.values["_shape"] = geoms[i]
        elif empty[i]:
            row.problems.append(Msg("几何为空"))
        elif failed[i]:
            row.problems.append(Msg("坐标无法转换到 EPSG:{srid}", srid=STORE_SRID))
        else:
            name = geoms[i].geom_type.upper()
            row.problems.append(Msg("部件几何应为点，实际为 {type}", type=name) if kind == COMPONENTS else
                                Msg("案卷位置应为点，实际为 {type}", type=name))


def _polygons(geom: Any, ogr: Any) -> list:
    flat = ogr.GT_Flatten(geom.GetGeometryType())
    if flat == ogr.wkbPolygon:
        return [geom]
    out = []
    for i in range(geom.GetGeometryCount()):
        out += _polygons(geom.GetGeometryRef(i), ogr)
    return out


def _shoelace(geom: Any) -> float:
    ring = geom.GetGeometryRef(0)
    pts = ring.GetPoints() or []
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(pts, pts[1:], strict=False)) / 2


# -- checks against the store -------------------------------------------------------------------


def validate(store: Any, source: Source) -> Report:
    """The store-dependent checks; the report of everything found (nothing written)."""
    with quiet_gc():
        return _validate(store, source)


def _validate(store: Any, source: Source) -> Report:
    import shapely
    from sqlalchemy import func, select

    from app.store.models import AdminArea, Category, Component, Department, UnitGrid

    report = Report(source)
    good = [r for r in source.rows if r.ok]
    if source.kind == DEPARTMENTS:
        _check_departments(store, good)
        return report
    with store.session() as s:
        district = [shapely.from_wkb(bytes(g)) for g in s.scalars(
            select(func.ST_AsBinary(AdminArea.geom)).where(AdminArea.level == "district")) if g is not None]
        communities = {code: (cid, bytes(g) if g is not None else None) for cid, code, g in s.execute(
            select(AdminArea.id, AdminArea.code, func.ST_AsBinary(AdminArea.geom)).where(
                AdminArea.level == "community"))}
        # the grids in use; a retired grid (split or merged away, 0024) keeps its code for ever but
        # no longer covers the ground: it takes part in the duplicate-code check only
        stored_grids = {code: (gid, bytes(g)) for gid, code, g in s.execute(
            select(UnitGrid.id, UnitGrid.code, func.ST_AsBinary(UnitGrid.geom)).where(UnitGrid.retired_on.is_(None)))}
        retired_grids = {code: day for code, day in s.execute(
            select(UnitGrid.code, UnitGrid.retired_on).where(UnitGrid.retired_on.is_not(None)))}
        if source.kind == COMPONENTS:
            stored = set(s.scalars(select(Component.code)))
            cats = {code: cid for cid, code in s.execute(select(Category.id, Category.code).where(
                Category.kind == "component"))}
            depts: dict[str, int] = {}
            for did, code, credit in s.execute(select(Department.id, Department.code, Department.credit_code)):
                depts[code] = did
                if credit:
                    depts[credit] = did
    area = shapely.union_all(district).buffer(DISTANCE_TOLERANCE_M) if district else None
    shapes = [r.values["_shape"] if "_shape" in r.values else shapely.from_wkb(r.values["wkb"]) for r in good]
    if area is not None:
        shapely.prepare(area)
    test = shapely.intersects if source.kind == ROADS else shapely.covers  # a road may run on past the border
    inside = test(area, shapes) if area is not None else [True] * len(good)
    for r, g, ok in zip(good, shapes, inside, strict=True):
        r.values["_shape"] = g
        if not ok:
            r.problems.append(Msg("位于辖区之外（坐标系是否正确？）"))
    if source.kind == GRIDS:
        _check_grids(report, [r for r in good if r.ok], communities, stored_grids, retired_grids)
    elif source.kind == ROADS:
        _check_roads(store, [r for r in good if r.ok])
    else:
        _check_components(report, [r for r in good if r.ok], stored, cats, depts, stored_grids, retired_grids)
    return report


def _check_departments(store: Any, rows: list[Row]) -> None:
    """The configuration service's own check of each department (parent, jurisdiction area, credit code),
    with the file's departments as planned parents; what the row changes in a stored department."""
    from app.services.config import ConfigService

    service = ConfigService(store)
    state = service.state()
    planned = {r.values["code"]: _department_record(r, state) for r in rows}
    checked = service.check_departments(planned, state)
    for r in rows:
        after = checked[r.values["code"]]
        if not isinstance(after, dict):
            r.problems.append(msg_of(after))
            continue
        before = state.departments.get(after["code"])
        r.values["_record"] = after
        if before is None:
            continue
        changed = [k for k in after if after[k] != before.get(k)]
        r.values["_unchanged"] = not changed
        r.notes.append(Msg("部门 {code} 已在库中：{what}", code=after["code"],
                           what=Msg("将更新 {fields}", fields="、".join(changed)) if changed else Msg("无变化")))


def _department_record(row: Row, state: Any) -> dict[str, Any]:
    v = row.values
    before = state.departments.get(v["code"]) or {}
    record = dict(before)
    record.update({k: v[k] for k in ("code", "name", "kind", "credit_code", "parent", "area", "phone", "active")})
    if v.get("jurisdiction"):
        record["jurisdiction"] = v["jurisdiction"]
    return record


def _check_roads(store: Any, rows: list[Row]) -> None:
    """The same road (name and line) twice in the file or already stored."""
    from sqlalchemy import func, select

    from app.store.models import Road

    with store.session() as s:
        stored = {(name, bytes(g)) for name, g in s.execute(select(Road.name, func.ST_AsBinary(Road.geom)))}
    first: dict[tuple[str, bytes], int] = {}
    for r in rows:
        key = (r.values["name"], r.values["wkb"])
        if key in stored:
            r.problems.append(Msg("道路 {name} 已在库中（同一条线）", name=key[0]))
        elif key in first:
            r.problems.append(Msg("道路 {name} 重复（与第 {other} 条相同）", name=key[0], other=first[key]))
        else:
            first[key] = r.number


def _check_grids(report: Report, rows: list[Row], communities: Any, stored_grids: Any,
                 retired_grids: Mapping[str, Any]) -> None:
    """Codes against every stored grid (a retired code is never reused); overlaps and gaps against
    the grids in use (``stored_grids``) only."""
    import shapely

    for r in rows:
        code = r.values["code"]
        if code in stored_grids:
            r.problems.append(Msg("网格 {code} 已在库中", code=code))
        elif code in retired_grids:
            r.problems.append(Msg("网格编码 {code} 已于 {day} 注销，不能再用", code=code, day=retired_grids[code]))
        community = communities.get(r.values["community_code"])
        if community is None:
            r.problems.append(Msg("社区 {community} 不在库中", community=r.values["community_code"]))
            continue
        r.values["community_id"] = community[0]
        if community[1] is not None:
            outside = r.values["_shape"].difference(shapely.from_wkb(community[1])).area
            if outside > AREA_TOLERANCE_M2:
                r.problems.append(Msg("网格跨越社区边界（{area:.1f} 平方米在社区 {community} 之外）", area=outside,
                                      community=r.values["community_code"]))
    shapes = [r.values["_shape"] for r in rows]
    other_codes = list(stored_grids)
    others = [shapely.from_wkb(stored_grids[c][1]) for c in other_codes]
    tree = shapely.STRtree(shapes + others)
    for i, r in enumerate(rows):
        for j in tree.query(shapes[i], predicate="intersects"):
            if j == i or (j < len(rows) and j < i):
                continue
            overlap = shapes[i].intersection(tree.geometries[j]).area
            if overlap > AREA_TOLERANCE_M2:
                other = rows[j].values["code"] if j < len(rows) else other_codes[j - len(rows)]
                r.problems.append(Msg("与 {other} 重叠 {area:.1f} 平方米", other=other, area=overlap))
                if j < len(rows):  # which of the two is wrong is the surveyor's call: both are held back
                    rows[j].problems.append(Msg("与 {other} 重叠 {area:.1f} 平方米", other=r.values["code"],
                                                area=overlap))
    if shapes:
        union = shapely.union_all(shapes + others)
        holes = [h for p in getattr(union, "geoms", [union]) for h in getattr(p, "interiors", [])]
        gaps = [shapely.Polygon(h) for h in holes if shapely.Polygon(h).area > AREA_TOLERANCE_M2]
        for gap in gaps:
            c = gap.representative_point()
            report.findings.append(Msg("网格之间有 {area:.1f} 平方米的空隙（约在 {x:.0f}, {y:.0f}）", area=gap.area,
                                       x=c.x, y=c.y))


def _check_components(report: Report, rows: list[Row], stored: set[str], cats: Any, depts: Any,
                      stored_grids: Any, retired_grids: Mapping[str, Any]) -> None:
    """A component lies in, and names, a grid in use (``stored_grids``); a retired grid is named as such."""
    import numpy as np
    import shapely

    codes = list(stored_grids)
    within: list[str | None] = [None] * len(rows)
    if codes and rows:
        tree = shapely.STRtree([shapely.from_wkb(stored_grids[c][1]) for c in codes])
        which, hit = tree.query(np.array([r.values["_shape"] for r in rows], dtype=object), predicate="intersects")
        order = np.lexsort((hit, which))  # per row, the lowest grid index first (as one query per row gave)
        first, at = np.unique(which[order], return_index=True)
        for i, j in zip(first.tolist(), hit[order][at].tolist(), strict=True):
            within[i] = codes[j]
    for r, inside in zip(rows, within, strict=True):
        v = r.values
        if v["code"] in stored:
            r.problems.append(Msg("部件 {code} 已在库中", code=v["code"]))
        if v["legacy_code"] is not None and v["legacy_code"] in stored:
            r.problems.append(Msg("部件 {code} 已在库中", code=v["legacy_code"]))
        cat = cats.get(v["category_code"])
        if cat is None:
            r.problems.append(Msg("类别 {code} 不在部件分类中", code=v["category_code"]))
        v["category_id"] = cat
        for key, new_key in (("authority_code", "authority_department_id"), ("owner_code", "owner_department_id"),
                             ("maintainer_code", "maintainer_department_id")):
            code = v[key]
            v[new_key] = depts.get(code) if code else None
            if code and code not in depts:
                label = {"authority_code": Msg("主管部门"), "owner_code": Msg("权属单位"),
                         "maintainer_code": Msg("养护单位")}[key]
                r.problems.append(Msg("{label}代码 {code} 不在部门表中", label=label, code=code[:30]))
        if v["grid_code"] is not None and inside is not None and v["grid_code"] != inside:
            r.problems.append(Msg("所在网格编码 {given} 与其位置所在的网格 {actual} 不符", given=v["grid_code"],
                                  actual=inside))
        if v["grid_code"] is not None and inside is None and v["grid_code"] in retired_grids:
            r.problems.append(Msg("所在网格 {given} 已于 {day} 注销", given=v["grid_code"],
                                  day=retired_grids[v["grid_code"]]))
        elif v["grid_code"] is not None and inside is None and v["grid_code"] not in stored_grids:
            r.problems.append(Msg("所在网格 {given} 不在库中", given=v["grid_code"]))
        grid = inside or v["grid_code"]
        v["grid_id"] = stored_grids[grid][0] if grid in stored_grids else None


# -- writing --------------------------------------------------------------------------------------


#: the columns each kind stores (besides the geometry), from the row's values.
STORED_KEYS: dict[str, tuple[str, ...]] = {
    GRIDS: ("code", "community_id", "area_m2"),
    ROADS: ("name", "kind", "width_m"),
    COMPONENTS: ("code", "legacy_code", "category_id", "name", "grid_id", "authority_department_id",
                 "owner_department_id", "maintainer_department_id", "status", "initial_date", "changed_date",
                 "data_source", "note"),
}


def write(store: Any, report: Report, *, progress: Callable[[int, int], None] | None = None,
          actor: Any = None, reason: str | None = None) -> int:
    """Store the report's good rows in ONE transaction; the number written. ``progress(done, total)``
    may raise (a cancel): nothing is written then. Departments go through the configuration service
    (its history records ``actor`` and ``reason``; ``actor`` is required)."""
    from app.store.base_load import append_rows
    from app.store.models import Component, Road, UnitGrid

    kind = report.source.kind
    if kind == DEPARTMENTS:
        return _write_departments(store, report, actor, reason)
    table = {GRIDS: UnitGrid, COMPONENTS: Component, ROADS: Road}[kind].__table__
    keys = STORED_KEYS[kind]
    with quiet_gc():
        rows = [tuple(map(r.values.get, keys)) + (r.values["wkb"],) for r in report.good]
        report.written = append_rows(store, table, keys, rows, progress=progress)
    return report.written


def _write_departments(store: Any, report: Report, actor: Any, reason: str | None) -> int:
    """The new and changed departments as ONE configuration change set (parents first), with history."""
    from app.services.config import ConfigService

    if actor is None:
        raise ImportRefused(Msg("导入部门要记入配置历史：请用 --as 指定管理员"))
    rows = [r for r in report.good if not r.values.get("_unchanged")]
    if not rows:
        report.written = 0
        return 0
    records = {r.values["code"]: r.values["_record"] for r in rows}
    why = reason or Msg("导入部门文件 {name}", name=report.source.path.name[-80:]).text()
    result = ConfigService(store).merge_departments(actor, records, reason=why)
    report.written = len(result.changes)
    return report.written


#: the files of one Shapefile (a reject file named .shp takes every one of these names).
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _taken(target: Path) -> bool:
    """Something is already at ``target`` (for a Shapefile: at any of its files' names)."""
    if target.suffix.lower() == ".shp":
        return any(target.with_suffix(ext).exists() or target.with_suffix(ext.upper()).exists()
                   for ext in _SHAPEFILE_PARTS)
    return target.exists() or target.is_symlink()


def rejects_path(source: str | os.PathLike, rejects: str | os.PathLike | None = None) -> Path:
    """Where the reject file of ``source`` goes, checked before anything is read or written.

    ``rejects`` when given: refused when anything is already there (a reject file never replaces a
    file: not the source, not the store, not an earlier report). Otherwise FILE_rejects beside the
    source, or FILE_rejects_2, _3 … when that name is taken. ImportRefused when the folder is missing
    or cannot be written."""
    src = Path(source)
    if rejects is not None and str(rejects).strip():
        target = Path(rejects).expanduser()
        if target.is_dir():
            raise ImportRefused(Msg("拒收文件路径 {path} 是目录：请给出文件路径", path=str(target)[:200]))
        if _taken(target):
            raise ImportRefused(Msg("拒收文件 {path} 已存在：不会覆盖已有文件，请换一个文件名或先移走它",
                                    path=str(target)[:200]))
    else:
        target = src.with_name(f"{src.stem}_rejects{src.suffix}")
        n = 2
        while _taken(target) or target.is_dir():
            target = src.with_name(f"{src.stem}_rejects_{n}{src.suffix}")
            n += 1
    folder = target.absolute().parent
    if not folder.is_dir():
        raise ImportRefused(Msg("无法写入拒收文件：目录 {folder} 不存在", folder=str(folder)[:200]))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImportRefused(Msg("无法写入拒收文件：没有写入目录 {folder} 的权限", folder=str(folder)[:200]))
    return target


def write_rejects(report: Report, path: str | os.PathLike | None = None,
                  tr: Callable[[Any], str] = str) -> Path | None:
    """The bad rows with a REASON column (in ``tr``'s language) in the source's format (or the format
    of ``path``'s extension), never over an existing file (``rejects_path``); None when there are none.
    ImportRefused when it cannot be written (nothing is left half-written)."""
    gdal, ogr, osr = _ogr()
    bad = report.bad
    if not bad:
        return None
    src = report.source
    target = rejects_path(src.path, path)
    fmt = _EXT.get(target.suffix.lower())
    driver = ogr.GetDriverByName(FORMATS[fmt] if fmt else src.driver)
    if driver is None or not driver.GetMetadataItem("DCAP_CREATE"):
        driver = ogr.GetDriverByName("GPKG")
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(src.srs_name)
    except RuntimeError:
        srs = None
    opts = {"ESRI Shapefile": ["ENCODING=UTF-8"], "CSV": ["GEOMETRY=AS_WKT"]}.get(driver.GetName(), [])
    ds = None
    try:
        ds = driver.CreateDataSource(str(target))
        if ds is None:
            raise RuntimeError(str(target))
        sheet = driver.GetName() == "XLSX"  # no geometry: a spreadsheet's X/Y or WKT columns are attributes
        lyr = ds.CreateLayer(src.layer or "rejects", None if sheet else srs, ogr.wkbNone if sheet else ogr.wkbUnknown,
                             opts)
        for col in src.columns:
            lyr.CreateField(ogr.FieldDefn(col, ogr.OFTString))
        lyr.CreateField(ogr.FieldDefn("REASON", ogr.OFTString))
        for r in bad:
            f = ogr.Feature(lyr.GetLayerDefn())
            attrs = src.raw_row(r.number)
            for col in src.columns:
                if attrs.get(col) is not None:
                    f.SetField(col, str(attrs[col]))
            f.SetField("REASON", "；".join(tr(m) for m in r.problems)[:250])
            wkb = src.wkb[r.number - 1]
            if wkb is not None and not sheet:
                f.SetGeometry(ogr.CreateGeometryFromWkb(wkb))
            lyr.CreateFeature(f)
        ds = None  # written and closed
    except RuntimeError as exc:
        ds = None
        _remove_output(target)
        raise ImportRefused(Msg("无法写入拒收文件 {path}：{error}", path=str(target)[:200],
                                error=str(exc)[:200])) from None
    except BaseException:
        ds = None
        _remove_output(target)
        raise
    report.rejects_path = target
    return target


def _remove_output(target: Path) -> None:
    """Remove the file(s) a failed or cancelled write left at ``target`` (quietly: it may not exist)."""
    names = [target.with_suffix(e) for ext in _SHAPEFILE_PARTS for e in (ext, ext.upper())] \
        if target.suffix.lower() == ".shp" else [target]
    for name in names + [Path(f"{target}-journal"), Path(f"{target}-wal"), Path(f"{target}-shm")]:
        with contextlib.suppress(OSError):
            if name.is_file():
                name.unlink()


def import_file(store: Any, path: Any, kind: str, *, on_error: str = "abort", dry_run: bool = False,
                rejects: str | None = None, actor: Any = None, reason: str | None = None,
                progress: Callable[[int, int], None] | None = None, tr: Callable[[Any], str] = str,
                **read_options: Any) -> Report:
    """Read, validate and (unless ``dry_run``, or ``abort`` with anything wrong) write. With ``skip``
    the reject file's place is checked first (``rejects_path``) and its reasons are in ``tr``'s language."""
    if not dry_run and actor is None and kind in (DEPARTMENTS, CASES):  # said before a long read, not after
        raise ImportRefused(Msg("导入部门要记入配置历史：请用 --as 指定管理员") if kind == DEPARTMENTS else
                            Msg("导入历史案卷要记入案卷历史：请用 --as 指定管理员"))
    skip = on_error == "skip" and not dry_run and Path(path).exists()  # (a missing source: read_source says so)
    target = rejects_path(path, rejects) if skip else None
    if kind == CASES:
        from app.services import base_cases

        return base_cases.import_file(store, path, on_error=on_error, dry_run=dry_run, rejects=target,
                                      actor=actor, progress=progress, tr=tr, **read_options)
    source = read_source(path, kind, **read_options)
    report = validate(store, source)
    if dry_run:
        return report
    if not report.ok and on_error == "abort":
        return report
    if on_error == "skip":
        write_rejects(report, target, tr)
    with discard_rejects_on_failure(report):
        write(store, report, actor=actor, reason=reason, progress=progress)
    return report


@contextlib.contextmanager
def discard_rejects_on_failure(report: Report) -> Any:
    """The reject file removed again when the store write that follows it fails or is cancelled
    (nothing was written, so it would describe an import that did not happen)."""
    try:
        yield
    except BaseException:
        if report.rejects_path is not None:
            _remove_output(report.rejects_path)
            report.rejects_path = None
        raise


# -- export ---------------------------------------------------------------------------------------


def format_of(path: str | os.PathLike, fmt: str | None) -> str:
    if fmt:
        return fmt
    ext = Path(path).suffix.lower()
    if ext not in _EXT:
        raise ImportRefused(Msg("无法从扩展名判断格式：请用 --format 指定（{choices}）", choices="|".join(FORMATS)))
    return _EXT[ext]


def export(store: Any, kind: str, path: str | os.PathLike, fmt: str | None = None,
           filters: dict[str, Any] | None = None, *, include_retired: bool = False) -> int:
    """Write the store's grids, components, departments, roads or cases to ``path``; the number of
    features. Cases take ``filters`` (``app.services.base_cases.export_rows``). Grids: those in use;
    ``include_retired`` adds the retired ones (split or merged away) with a ``retired_on`` field."""
    if include_retired and kind != GRIDS:
        raise ImportRefused(Msg("--include-retired 只用于导出网格"))
    with quiet_gc():
        return _export(store, kind, path, fmt, filters, include_retired)


def _export(store: Any, kind: str, path: str | os.PathLike, fmt: str | None,
            filters: dict[str, Any] | None, include_retired: bool = False) -> int:
    gdal, ogr, osr = _ogr()
    fmt = format_of(path, fmt)
    target = export_target(store, path, fmt)
    if kind == CASES:
        from app.services.base_cases import export_rows

        keys, rows = export_rows(store, filters or {})
    else:
        keys, rows = _export_rows(store, kind, include_retired)
    names = {**EXPORT_NAMES[kind], "retired_on": RETIRED_ON_FIELD}
    if fmt == "xlsx":
        _export_xlsx(target, keys, names, rows, kind)
        return len(rows)
    missing = sum(1 for _, wkb in rows if wkb is None)
    if fmt == "fgb" and missing:  # GDAL 3.6 drops such features silently, 3.10 refuses them in English
        raise ImportRefused(_no_geometry_msg(fmt, 0, len(rows), missing))
    driver = ogr.GetDriverByName(FORMATS[fmt])
    tmp = target.with_name(f".{target.stem}.part{target.suffix}")
    _remove_output(tmp)
    try:
        _write_layer(driver, tmp, kind, fmt, keys, names, rows)
        _check_written(tmp, fmt, rows)
        _replace(driver, tmp, target, fmt)
    except (RuntimeError, OSError) as exc:  # GDAL's or the OS's refusal (disk full …): one line, no .part left
        _remove_output(tmp)
        raise ImportRefused(Msg("无法写入 {path}：{error}", path=str(target)[:200], error=str(exc)[:200])) from None
    except BaseException:
        _remove_output(tmp)
        raise
    return len(rows)


def _check_written(tmp: Path, fmt: str, rows: list[tuple[dict[str, Any], Any]]) -> None:
    """Refuse a file that dropped rows: a format may not hold a feature without geometry (GDAL 3.6's
    FlatGeobuf writer leaves such features out without an error), so the count is read back then."""
    missing = sum(1 for _, wkb in rows if wkb is None)
    if not missing:
        return
    _, ogr, _ = _ogr()
    ds = ogr.Open(str(tmp))
    written = ds.GetLayer(0).GetFeatureCount() if ds is not None and ds.GetLayerCount() else 0
    ds = None
    if written != len(rows):
        raise ImportRefused(_no_geometry_msg(fmt, written, len(rows), missing))


def _no_geometry_msg(fmt: str, written: int, total: int, missing: int) -> Msg:
    return Msg("{fmt} 文件保存不了没有几何的要素：只写入了 {written} 条，共 {total} 条（{missing} 条没有几何）；"
               "请导出为 GeoPackage、GeoJSON、CSV 或 Excel（.xlsx）", fmt=FORMATS[fmt], written=written, total=total,
               missing=missing)


def export_target(store: Any, path: str | os.PathLike, fmt: str) -> Path:
    """The export's file, checked before anything is read: its folder exists and can be written, it is
    not a directory, and it is none of the store's own files (an export never replaces the database)."""
    from app.services.ledger import LedgerWriteError, check_writable

    try:
        target = check_writable(path)
    except LedgerWriteError as exc:
        raise ImportRefused(exc.msg) from None
    own = getattr(store, "path", None)
    if own is not None:
        base = Path(own).absolute()
        store_files = {base, Path(f"{base}-journal"), Path(f"{base}-wal"), Path(f"{base}-shm")}
        names = [target] + ([target.with_suffix(ext) for ext in _SHAPEFILE_PARTS] if fmt == "shp" else [])
        for name in names:
            if name in store_files or (name.exists() and base.exists() and os.path.samefile(name, base)):
                raise ImportRefused(Msg("不能导出到数据库文件 {path}：请换一个文件名", path=str(name)[:200]))
    return target


def _write_layer(driver: Any, tmp: Path, kind: str, fmt: str, keys: list[str], names: dict[str, str],
                 rows: list[tuple[dict[str, Any], Any]]) -> None:
    """The rows as one layer of a new ``tmp`` file (store SRID)."""
    _, ogr, osr = _ogr()
    ds = driver.CreateDataSource(str(tmp))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(STORE_SRID)
    points = kind in (COMPONENTS, CASES)
    opts = {"shp": ["ENCODING=UTF-8"], "csv": ["GEOMETRY=AS_XY" if points else "GEOMETRY=AS_WKT"]}
    gtype = {COMPONENTS: ogr.wkbPoint, CASES: ogr.wkbPoint, GRIDS: ogr.wkbPolygon, ROADS: ogr.wkbLineString,
             DEPARTMENTS: ogr.wkbMultiPolygon}[kind]
    lyr = ds.CreateLayer(kind, srs, gtype, opts.get(fmt, []))
    reals = {"area_m2", "width_m"}
    ints = {"urge_count", "rework_count", "limit_minutes", "paused_minutes", "extension_minutes", "urge_level"}
    for k in keys:
        lyr.CreateField(ogr.FieldDefn(names[k], ogr.OFTReal if k in reals else
                                      ogr.OFTInteger if k in ints else ogr.OFTString))
    # The typed setters directly (ogr.Feature.SetField's own type dispatch was half the export's time).
    setters = [(i, k, ogr.Feature.SetField if k in reals else ogr.Feature.SetFieldInteger64 if k in ints
                else ogr.Feature.SetFieldString, float if k in reals else int if k in ints else str)
               for i, k in enumerate(keys)]
    defn = lyr.GetLayerDefn()
    lyr.StartTransaction()
    for d, wkb in rows:
        f = ogr.Feature(defn)
        for i, k, setter, cast_to in setters:
            value = d[k]
            if value is not None:
                setter(f, i, cast_to(value))
        if wkb is not None:
            g = ogr.CreateGeometryFromWkb(bytes(wkb))
            f.SetGeometry(ogr.ForceToMultiPolygon(g) if kind == DEPARTMENTS else g)
        lyr.CreateFeature(f)
    lyr.CommitTransaction()
    ds = None


def _export_rows(store: Any, kind: str,
                 include_retired: bool = False) -> tuple[list[str], list[tuple[dict[str, Any], Any]]]:
    """(keys, [(values, geometry WKB or None)]) of every stored component, department or road, and of
    the grids in use (``include_retired``: every grid, with its ``retired_on`` as YYYYMMDD or empty)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import aliased

    from app.domain.definitions import ComponentStatus, DepartmentKind
    from app.store.models import AdminArea, Category, Component, Department, Road, UnitGrid

    if kind == DEPARTMENTS:
        from app.services.config import ConfigService

        _, ogr, _ = _ogr()
        keys = ["code", "name", "kind", "credit_code", "parent", "area", "phone", "active"]
        out = []
        for d in sorted(ConfigService(store).departments(), key=lambda d: d["code"]):
            values = {k: d.get(k) for k in keys}
            values["kind"] = DepartmentKind(str(values["kind"])).label
            values["active"] = "是" if d.get("active", True) else "否"
            wkt = d.get("jurisdiction")
            out.append((values, bytes(ogr.CreateGeometryFromWkt(wkt).ExportToWkb()) if wkt else None))
        return keys, out
    with store.session() as s:
        if kind == GRIDS:
            q = (select(UnitGrid.code, AdminArea.code, UnitGrid.area_m2, UnitGrid.retired_on,
                        func.ST_AsBinary(UnitGrid.geom))
                 .join(AdminArea, AdminArea.id == UnitGrid.community_id).order_by(UnitGrid.code))
            if not include_retired:
                q = q.where(UnitGrid.retired_on.is_(None))
            keys = ["code", "community_code", "area_m2"]
            out_rows = []
            for code, community, area, retired_on, g in s.execute(q):
                d = {"code": code, "community_code": community, "area_m2": area}
                if include_retired:
                    d["retired_on"] = retired_on.strftime("%Y%m%d") if retired_on else None
                out_rows.append((d, g))
            return keys + (["retired_on"] if include_retired else []), out_rows
        if kind == ROADS:
            keys = ["name", "kind", "width_m"]
            rows = []
            for name, rkind, width, g in s.execute(select(Road.name, Road.kind, Road.width_m,
                                                          func.ST_AsBinary(Road.geom)).order_by(Road.id)):
                label = base_rows.ROAD_KINDS.get(rkind, (rkind,))[0]
                rows.append(({"name": name, "kind": label, "width_m": width}, g))
            return keys, rows
        a, o, m = aliased(Department), aliased(Department), aliased(Department)
        q = (select(Component.code, Component.name, a.code, a.name, o.code, o.name, m.code, m.name,
                    UnitGrid.code, Component.status, Component.initial_date, Component.changed_date,
                    Component.data_source, Component.note, Component.legacy_code,
                    func.ST_AsBinary(Component.geom))
             .join(Category, Category.id == Component.category_id)
             .outerjoin(a, a.id == Component.authority_department_id)
             .outerjoin(o, o.id == Component.owner_department_id)
             .outerjoin(m, m.id == Component.maintainer_department_id)
             .outerjoin(UnitGrid, UnitGrid.id == Component.grid_id).order_by(Component.code))
        keys = ["code", "name", "authority_code", "authority_name", "owner_code", "owner_name",
                "maintainer_code", "maintainer_name", "grid_code", "status", "initial_date", "changed_date",
                "data_source", "note", "legacy_code"]
        labels = {m.value: m.label for m in ComponentStatus}
        rows = []
        for r in s.execute(q):
            d = dict(zip(keys, r[:-1], strict=True))
            d["status"] = labels[d["status"]]
            for k in ("initial_date", "changed_date"):
                d[k] = d[k].strftime("%Y%m%d") if d[k] else None
            rows.append((d, r[-1]))
        return keys, rows


def _replace(driver: Any, tmp: Path, target: Path, fmt: str) -> None:
    if fmt == "shp":
        if target.exists():
            driver.DeleteDataSource(str(target))
        for ext in _SHAPEFILE_PARTS:  # (not a glob: a name with [ or * in it is a name)
            part = tmp.with_suffix(ext)
            if part.exists():
                os.replace(part, target.with_suffix(ext))
    else:
        os.replace(tmp, target)


def _export_xlsx(target: Path, keys: Any, names: Any, rows: Any, kind: str) -> None:
    """One sheet; points as X and Y columns, other geometries as WKT (cells that a spreadsheet would run
    as a formula are written as text)."""
    import shapely
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(kind)
    points = kind in (COMPONENTS, CASES)
    ws.append([names[k] for k in keys] + (["X", "Y"] if points else ["WKT"]))
    for d, wkb in rows:
        g = shapely.from_wkb(bytes(wkb)) if wkb is not None else None
        extra = ([g.x, g.y] if g is not None else [None, None]) if points else [
            shapely.to_wkt(g, rounding_precision=-1, output_dimension=2) if g is not None else None]
        ws.append([_cell(d[k]) for k in keys] + extra)
    tmp = target.with_name(f".{target.stem}.part.xlsx")
    try:
        wb.save(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        _remove_output(tmp)
        raise ImportRefused(Msg("无法写入 {path}：{error}", path=str(target)[:200], error=str(exc)[:200])) from None
    except BaseException:
        _remove_output(tmp)
        raise


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def report_target(path: str | os.PathLike, *, protect: Sequence[str | os.PathLike] = ()) -> Path:
    """The JSON report's file, checked before anything is read: a writable place, and none of the files
    in ``protect`` (the source, the store and its journal, the reject file): a report never replaces them."""
    from app.services.ledger import LedgerWriteError, check_writable

    try:
        target = check_writable(path)
    except LedgerWriteError as exc:
        raise ImportRefused(exc.msg) from None
    for other in protect:
        base = Path(other).expanduser().absolute()
        same = {base, Path(f"{base}-journal"), Path(f"{base}-wal"), Path(f"{base}-shm")}
        if target in same or (target.exists() and base.exists() and os.path.samefile(target, base)):
            raise ImportRefused(Msg("报告文件 {path} 是源文件、数据库或拒收文件：请换一个文件名", path=str(target)[:200]))
    return target


def report_json(report: Report, path: str | os.PathLike, tr: Callable[[Any], str] = str) -> None:
    """The report as JSON, through a temporary file renamed at the end; ImportRefused when it cannot be
    written."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    try:
        tmp.write_text(json.dumps(report.as_dict(tr), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        _remove_output(tmp)
        raise ImportRefused(Msg("无法写入 {path}：{error}", path=str(target)[:200], error=exc.strerror or str(exc))) from None


__all__ = ["FIELDS", "FORMATS", "ImportRefused", "MappingError", "Report", "Source", "export", "export_target",
           "import_file", "msg_of", "read_source", "rejects_path", "report_json", "report_target", "validate", "write",
           "write_rejects"]
