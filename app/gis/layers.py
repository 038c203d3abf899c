"""QGIS vector layers over a GridHall store, styled from resources/styles/*.qml.

``build_layers(store)`` returns the map's five layers: 道路, 街道/社区, 单元网格 and 部件 read
the store directly (SpatiaLite or PostGIS provider); 案卷 is a memory layer of open cases fed
by ``CaseLayerFeeder`` (app.gis.cases_layer) so the map shows the same light as the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsMapLayer,
    QgsRuleBasedRenderer,
    QgsVectorLayer,
)

from app.domain.definitions import STORE_SRID
from app.domain.messages import Msg
from app.gis.cases_layer import CaseLayerFeeder, new_case_layer

STYLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "styles"
STORE_CRS_AUTHID = f"EPSG:{STORE_SRID}"

#: Table (and QML style name) → Chinese layer name shown in the layer tree.
LAYER_NAMES = {
    "roads": "道路",
    "admin_areas": "街道/社区",
    "unit_grids": "单元网格",
    "components": "部件",
    "cases": "案卷",
}


class LayerError(RuntimeError):
    """A layer could not be opened or styled; the message says which and why."""


class UriSource(Protocol):
    """What the layers need from a store: ``app.store.engine.Store`` satisfies it."""

    def qgis_uri(self, table: str, geom_column: str | None = "geom",
                 sql: str = "") -> tuple[str, str]: ...


def provider_error(layer: QgsVectorLayer) -> str:
    """The provider's error text for an invalid layer ('' when it gives none)."""
    # QgsError.summary() crashes on an empty error in QGIS 3.22: use message().
    provider = layer.dataProvider()
    return (provider.error().message() if provider is not None else "") or layer.error().message()


def store_crs() -> QgsCoordinateReferenceSystem:
    """The store's CRS (CGCS2000 / 3-degree Gauss-Kruger CM 120E)."""
    return QgsCoordinateReferenceSystem(STORE_CRS_AUTHID)


def apply_style(layer: QgsVectorLayer, style: str, styles_dir: Path | None = None) -> None:
    """Load ``<styles_dir>/<style>.qml`` into ``layer``; LayerError if it is missing or bad."""
    path = (styles_dir or STYLES_DIR) / f"{style}.qml"
    if not path.is_file():
        raise LayerError(Msg("找不到图层样式文件 {path}；请重新安装 GridHall 或运行 python -m app.gis.export_styles 重新生成",
                             path=path))
    msg, ok = layer.loadNamedStyle(str(path), QgsMapLayer.AllStyleCategories)
    if not ok:
        raise LayerError(Msg("图层样式 {path} 无法加载：{msg}", path=path, msg=msg))


def store_layer(store: UriSource, table: str, *, sql: str = "", name: str | None = None,
                style: str | None = None) -> QgsVectorLayer:
    """A read-only layer over ``table`` of the store, styled by ``<table>.qml``."""
    provider, uri = store.qgis_uri(table, "geom", sql)
    layer = QgsVectorLayer(uri, name or LAYER_NAMES.get(table, table), provider)
    if not layer.isValid():
        err = provider_error(layer)
        raise LayerError(Msg("无法打开图层“{name}”（{provider} 表 {table}）：{value}。请检查数据库是否可用且已初始化",
                             name=layer.name(), provider=provider, table=table, value=err or Msg("数据源无效")))
    layer.setReadOnly(True)
    # SpatiaLite's cached statistics may predate the last import: compute the real extent.
    layer.updateExtents(True)
    apply_style(layer, style or table)
    return layer


@dataclass
class MapLayers:
    """The map's layers and the feeder that keeps the case layer current."""

    roads: QgsVectorLayer
    admin_areas: QgsVectorLayer
    unit_grids: QgsVectorLayer
    components: QgsVectorLayer
    cases: QgsVectorLayer
    feeder: CaseLayerFeeder

    def top_down(self) -> list[QgsVectorLayer]:
        """Layers in drawing order, topmost first (the order QgsMapSettings expects)."""
        return [self.cases, self.components, self.admin_areas, self.unit_grids, self.roads]

    def by_key(self) -> dict[str, QgsVectorLayer]:
        """Table name → layer."""
        return {"roads": self.roads, "admin_areas": self.admin_areas, "unit_grids": self.unit_grids,
                "components": self.components, "cases": self.cases}


def build_layers(store: UriSource, tr: Callable[[str], str] | None = None) -> MapLayers:
    """Open every map layer over ``store``; the case layer starts empty (feed it).

    ``tr`` translates the (Chinese) layer names for the layer tree, e.g. ``Catalogue.tr``.
    """
    tr = tr or (lambda text: text)
    cases = new_case_layer(tr(LAYER_NAMES["cases"]))
    apply_style(cases, "cases")
    layers = MapLayers(
        roads=store_layer(store, "roads", name=tr(LAYER_NAMES["roads"])),
        admin_areas=store_layer(store, "admin_areas", name=tr(LAYER_NAMES["admin_areas"])),
        unit_grids=store_layer(store, "unit_grids", sql='"retired_on" IS NULL', name=tr(LAYER_NAMES["unit_grids"])),
        components=store_layer(store, "components", name=tr(LAYER_NAMES["components"])),
        cases=cases,
        feeder=CaseLayerFeeder(cases),
    )
    for layer in layers.top_down():
        translate_legend(layer, tr)
    return layers


def legend_labels(layer: QgsVectorLayer) -> list[str]:
    """The labels of a layer's legend entries (rule or category labels), in order."""
    renderer = layer.renderer()
    if isinstance(renderer, QgsRuleBasedRenderer):
        return [rule.label() for rule in renderer.rootRule().descendants() if rule.label()]
    if isinstance(renderer, QgsCategorizedSymbolRenderer):
        return [c.label() for c in renderer.categories()]
    return []


def translate_legend(layer: QgsVectorLayer, tr: Callable[[str], str]) -> None:
    """Translate the legend labels the QML styles carry (Chinese source texts) with ``tr``."""
    renderer = layer.renderer()
    if isinstance(renderer, QgsRuleBasedRenderer):
        for rule in renderer.rootRule().descendants():
            if rule.label():
                rule.setLabel(tr(rule.label()))
    elif isinstance(renderer, QgsCategorizedSymbolRenderer):
        for i, category in enumerate(renderer.categories()):
            renderer.updateCategoryLabel(i, tr(category.label()))

