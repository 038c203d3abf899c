"""A QGIS Desktop project over the live store (``gridhall qgis-project``, issue 15 item 5).

The project has the client's layers in the client's order, with the client's QML styles
(resources/styles/*.qml: symbols, rules and labels) and layer names, connected to the store
itself, so an analyst who opens it in QGIS Desktop sees what the desk sees, live:

- 道路, 街道/社区, 部件: the tables as they are;
- 单元网格: the grids in use (``"retired_on" IS NULL``; grids split or merged away stay in the
  table for the cases reported in them);
- 案卷: the open cases straight from ``cases`` with the fields the client's memory layer has
  (``case_id``, ``light``, ``urge`` … as expression fields). The light is worked out in natural
  time from ``timer_started_at`` and ``deadline_at`` (green up to 80 % of the limit, yellow up to
  100 %, red beyond; none without a running timer, grey while paused): the desk's light counts
  working time, so a case near a weekend may differ.

PostGIS: the connection never holds a password. Either ``service=NAME`` (a libpq service file,
``~/.pg_service.conf`` or ``$PGSERVICEFILE``) or host/port/database/user with no password, which
libpq completes from ``~/.pgpass`` / ``$PGPASSFILE`` (or QGIS asks). SpatiaLite: the file's
absolute path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsDataSourceUri,
    QgsField,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from app.domain.definitions import OPEN_STATES, STORE_SRID
from app.domain.messages import Msg
from app.gis.layers import LAYER_NAMES, LayerError, apply_style, provider_error, translate_legend

#: Layers top-down (the client's drawing order) with their subset filter.
ACTIVE_GRIDS = '"retired_on" IS NULL'


def open_cases_filter() -> str:
    return '"state" IN (' + ", ".join(f"'{s.value}'" for s in OPEN_STATES) + ")"


def _epoch(field: str) -> str:
    return f'epoch(to_datetime("{field}"))'


#: The client's case-layer fields as expressions over ``cases``.
LIGHT_EXPRESSION = (
    "CASE WHEN \"deadline_at\" IS NULL OR \"timer_started_at\" IS NULL THEN 'none' "
    "WHEN \"paused_since\" IS NOT NULL THEN 'none' "
    f"WHEN epoch(now()) > {_epoch('deadline_at')} THEN 'red' "
    f"WHEN epoch(now()) - {_epoch('timer_started_at')} > 0.8 * ({_epoch('deadline_at')} - {_epoch('timer_started_at')}) "
    "THEN 'yellow' ELSE 'green' END")
CASE_EXPRESSIONS = (("case_id", '"id"', "int"), ("light", LIGHT_EXPRESSION, "string"),
                    ("urge", 'coalesce("urge_level", 0)', "int"))


def _field(name: str, kind: str) -> QgsField:
    """A field of ``kind`` ("int" or "string"): QGIS 3.38+ takes a QMetaType (its QVariant
    constructor is deprecated and warns), older releases (3.22 on Debian 12) only a QVariant type."""
    if Qgis.QGIS_VERSION_INT >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        return QgsField(name, QMetaType.Int if kind == "int" else QMetaType.QString)
    return QgsField(name, QVariant.Int if kind == "int" else QVariant.String)


@dataclass(frozen=True)
class ProjectLayer:
    """One layer of the project: table, style, subset filter."""

    table: str
    sql: str = ""


def project_layers() -> list[ProjectLayer]:
    """The project's layers, topmost first (as ``MapLayers.top_down``)."""
    return [ProjectLayer("cases", open_cases_filter()), ProjectLayer("components"), ProjectLayer("admin_areas"),
            ProjectLayer("unit_grids", ACTIVE_GRIDS), ProjectLayer("roads")]


def layer_source(store: Any, table: str, sql: str = "", *, service: str | None = None) -> tuple[str, str]:
    """(provider, URI) for ``table`` without any password (PostGIS: ``service`` or libpq's own look-up)."""
    provider, uri = store.qgis_uri(table, "geom", sql)
    if provider != "postgres":
        return provider, uri
    parsed = QgsDataSourceUri(uri)
    parsed.setPassword("")
    if service:
        clean = QgsDataSourceUri()
        clean.setConnection(service, "", "", "", parsed.sslMode())
        clean.setDataSource(parsed.schema(), parsed.table(), parsed.geometryColumn(), parsed.sql(), parsed.keyColumn())
        clean.setSrid(parsed.srid())
        clean.setWkbType(parsed.wkbType())
        parsed = clean
    return provider, parsed.uri(False)


class ProjectError(LayerError):
    """The project could not be written; the message says which layer or file and why."""


def build_project(store: Any, out: str | Path, *, tr: Callable[[str], str] | None = None,
                  service: str | None = None, title: str = "GridHall") -> dict[str, int]:
    """Write the project to ``out`` (.qgz or .qgs); {layer name: feature count} as written.

    Every layer must open (valid) against the store as it is now, else ProjectError.
    """
    with _libpq_password(store):
        return _build(store, out, tr=tr or (lambda text: text), service=service, title=title)


@contextmanager
def _libpq_password(store: Any) -> Iterator[None]:
    """This process's libpq takes the store's password from $PGPASSWORD while the layers are checked
    (the layer sources themselves never hold it); the variable is put back afterwards."""
    password = getattr(getattr(store, "url", None), "password", None)
    if store.backend != "postgis" or not password:
        yield
        return
    old = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = str(password)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = old


def _build(store: Any, out: str | Path, *, tr: Callable[[str], str], service: str | None,
           title: str) -> dict[str, int]:
    project = QgsProject()
    project.setTitle(title)
    project.setCrs(QgsCoordinateReferenceSystem(f"EPSG:{STORE_SRID}"))
    counts: dict[str, int] = {}
    root = project.layerTreeRoot()
    for spec in project_layers():
        provider, uri = layer_source(store, spec.table, spec.sql, service=service)
        name = tr(LAYER_NAMES[spec.table])
        layer = QgsVectorLayer(uri, name, provider)
        if not layer.isValid():
            raise ProjectError(Msg("无法打开图层“{name}”（{provider} 表 {table}）：{value}", name=name,
                                   provider=provider, table=spec.table, value=provider_error(layer) or Msg("数据源无效")))
        apply_style(layer, spec.table)  # first: a style's own (empty) expression fields would replace ours
        if spec.table == "cases":
            for field, expression, kind in CASE_EXPRESSIONS:
                layer.addExpressionField(expression, _field(field, kind))
        translate_legend(layer, tr)
        layer.setReadOnly(True)
        project.addMapLayer(layer, False)
        root.addLayer(layer)
        counts[name] = int(layer.featureCount())
    path = Path(out)
    if path.suffix.lower() not in (".qgz", ".qgs"):
        raise ProjectError(Msg("项目文件应以 .qgz 或 .qgs 结尾：{path}", path=str(path)))
    tmp = path.with_name(path.name + ".part" + path.suffix)
    if not project.write(str(tmp)):
        tmp.unlink(missing_ok=True)
        raise ProjectError(Msg("无法写入项目文件 {path}：{error}", path=str(path), error=project.error() or "?"))
    tmp.replace(path)
    project.clear()
    return counts


__all__ = ["ACTIVE_GRIDS", "CASE_EXPRESSIONS", "ProjectError", "ProjectLayer", "build_project", "layer_source",
           "open_cases_filter", "project_layers"]
