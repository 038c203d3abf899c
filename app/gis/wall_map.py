"""The wall's map: open cases by light over a last-24-hours heatmap and the hotspot grids.

A dark ``MapView`` without any map tool (nothing to click on a wall): the district's roads,
streets and grids dimmed, a memory layer of the reports of the last 24 hours drawn with QGIS's
heatmap renderer, a memory layer of the hotspot grids outlined, and the case layer (the queue's
lights, fed by ``CaseLayerSync``). Every layer changes in place: ``HeatFeeder.set_points`` adds
and removes only the points that changed, so a live change never reloads a layer.
"""

from __future__ import annotations

from collections.abc import Iterable

from qgis.core import (
    QgsFeature,
    QgsFillSymbol,
    QgsGeometry,
    QgsGradientColorRamp,
    QgsHeatmapRenderer,
    QgsPointXY,
    QgsSingleSymbolRenderer,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QMetaObject, Qt, QTimer
from qgis.PyQt.QtGui import QColor

from app.domain.definitions import STORE_SRID
from app.gis.canvas import MapView
from app.gis.layers import MapLayers

WALL_BACKGROUND = QColor("#070b14")
#: The heatmap's radius in metres (map units of the store's CRS).
HEAT_RADIUS_M = 300
#: Longest wait for a running render to finish before the render gate opens anyway.
RENDER_GATE_GUARD_MS = 3000


def heat_layer(name: str = "heat") -> QgsVectorLayer:
    """A memory point layer (case id) drawn with a heatmap renderer."""
    layer = QgsVectorLayer(f"Point?crs=EPSG:{STORE_SRID}&field=case_id:integer&index=yes", name, "memory")
    renderer = QgsHeatmapRenderer()
    renderer.setRadius(HEAT_RADIUS_M)  # on the ground: the same hotspots at any screen size and DPI
    renderer.setRadiusUnit(QgsUnitTypes.RenderMapUnits)
    ramp = QgsGradientColorRamp(QColor(0, 0, 0, 0), QColor(255, 60, 40, 230))
    ramp.setStops([])
    from qgis.core import QgsGradientStop

    ramp.setStops([QgsGradientStop(0.25, QColor(30, 90, 255, 90)), QgsGradientStop(0.55, QColor(0, 220, 200, 150)),
                   QgsGradientStop(0.8, QColor(255, 210, 0, 200))])
    renderer.setColorRamp(ramp)
    renderer.setMaximumValue(0)  # automatic
    layer.setRenderer(renderer)
    layer.setOpacity(0.85)
    return layer


class HeatFeeder:
    """Keeps the heat layer equal to a set of (case id, x, y), changing only what changed."""

    def __init__(self, layer: QgsVectorLayer) -> None:
        self.layer = layer
        self._fid: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._fid)

    def set_points(self, points: Iterable[tuple[int, float, float]]) -> int:
        wanted = {int(cid): (x, y) for cid, x, y in points}
        provider = self.layer.dataProvider()
        gone = [self._fid.pop(cid) for cid in list(self._fid) if cid not in wanted]
        if gone:
            provider.deleteFeatures(gone)
        new = [cid for cid in wanted if cid not in self._fid]
        feats = []
        for cid in new:
            f = QgsFeature(self.layer.fields())
            f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(*wanted[cid])))
            f.setAttributes([cid])
            feats.append(f)
        if feats:
            ok, added = provider.addFeatures(feats)
            if ok:
                for cid, feat in zip(new, added, strict=True):
                    self._fid[cid] = feat.id()
        if gone or feats:
            self.layer.triggerRepaint()
        return len(gone) + len(feats)


def hotspot_layer(name: str = "hotspots") -> QgsVectorLayer:
    layer = QgsVectorLayer(f"Polygon?crs=EPSG:{STORE_SRID}&field=code:string&field=reports:integer", name, "memory")
    symbol = QgsFillSymbol.createSimple({"color": "255,80,60,40", "outline_color": "255,120,80,255",
                                         "outline_width": "0.8", "outline_width_unit": "MM"})
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    return layer


class HotspotFeeder:
    def __init__(self, layer: QgsVectorLayer) -> None:
        self.layer = layer
        self._shown: tuple = ()

    def set_grids(self, grids: Iterable[tuple[str, int, str | None]]) -> bool:
        rows = tuple((code, n, wkt) for code, n, wkt in grids if wkt)
        if rows == self._shown:
            return False
        provider = self.layer.dataProvider()
        provider.truncate()
        feats = []
        for code, n, wkt in rows:
            f = QgsFeature(self.layer.fields())
            f.setGeometry(QgsGeometry.fromWkt(wkt))
            f.setAttributes([code, n])
            feats.append(f)
        provider.addFeatures(feats)
        self._shown = rows
        self.layer.triggerRepaint()
        return True


class WallMap(MapView):
    """A MapView for the wall: dark, no map tool, no context menu; heat and hotspot layers."""

    def __init__(self, layers: MapLayers, parent=None, *, magnification: float = 1.0) -> None:
        super().__init__(None, parent)
        # Symbols, labels and line widths in millimetres or points are drawn at the output DPI:
        # magnifying it scales them with the screen (60 px type at 2160 lines, legible from 10 m)
        # while the extent is fitted afterwards, so the whole district stays in view.
        self.magnification = magnification
        self._screen_hooked = False
        self.decorations.ui_factor = lambda: magnification  # type: ignore[method-assign]
        self.heat = HeatFeeder(heat_layer())
        self.hotspots = HotspotFeeder(hotspot_layer())
        self.canvas.setCanvasColor(WALL_BACKGROUND)
        # QgsMapRendererParallelJob composes every layer's 4K image on the GUI thread when its
        # layers are done (renderLayersFinished → composeImage: most of the wall's event-loop
        # stalls). The sequential job renders and composes in its worker thread (the layer cache is
        # still used), and the GUI thread only takes the finished image.
        self.canvas.setParallelRenderingEnabled(False)
        self.set_layers(layers)
        for layer, opacity in ((layers.roads, 0.35), (layers.admin_areas, 0.45), (layers.unit_grids, 0.2)):
            layer.setOpacity(opacity)
        root = self.project.layerTreeRoot()
        node = root.findLayer(layers.components.id())
        if node is not None:
            node.setItemVisibilityChecked(False)
        for extra, index in ((self.hotspots.layer, 1), (self.heat.layer, 2)):
            self.project.addMapLayer(extra, False)
            root.insertLayer(index, extra)
        self.canvas.unsetMapTool(self.tool)
        self.canvas.setContextMenuPolicy(Qt.NoContextMenu)
        self.canvas.setFocusPolicy(Qt.NoFocus)
        # The render gate: QgsMapCanvas cancels a running render at every layer repaint, so with
        # changes coming faster than a 4K render on a loaded machine no render would ever finish and
        # the map would keep an old picture. While a render runs the canvas is frozen (repaints are
        # noted), and when it ends one more render draws whatever changed meanwhile.
        self._rendering = False
        self._dirty = False
        self._torn = False
        self._gate_guard = QTimer(self)
        self._gate_guard.setSingleShot(True)
        self._gate_guard.setInterval(RENDER_GATE_GUARD_MS)
        self._gate_guard.timeout.connect(self._render_lost)
        self.canvas.renderStarting.connect(self._render_started)
        self.canvas.mapCanvasRefreshed.connect(self._render_done)
        for layer in self.project.mapLayers().values():
            layer.repaintRequested.connect(self._repaint_asked)
        self.renders = 0  # finished renders (tests)
        self.magnify()

    # --- the render gate ---------------------------------------------------------------------

    def _render_started(self) -> None:
        if self._torn:
            return
        self._rendering = True
        self.canvas.freeze(True)
        self._gate_guard.start()

    def _repaint_asked(self, *_args: object) -> None:
        if getattr(self, "_rendering", False):  # (set_layers zooms before the gate exists)
            self._dirty = True

    def _render_done(self) -> None:
        if self._torn or not self._rendering:
            return
        self.renders += 1
        self._open_gate(self._dirty)

    def _render_lost(self) -> None:
        """No finished render within the guard time (cancelled by a resize, or stuck): open up."""
        if self._torn or not self._rendering:
            return
        self._open_gate(True)

    def _open_gate(self, again: bool) -> None:
        self._gate_guard.stop()
        self._rendering = False
        self._dirty = False
        self.canvas.freeze(False)
        if again:
            self.canvas.refresh()

    def wait_rendered(self, timeout_ms: int = 10000) -> bool:
        """As MapView's, but the render waited for starts after the call: a render already running
        (the gate holds the refresh) is let finish first."""
        if getattr(self, "_rendering", False):
            super().wait_rendered(timeout_ms)
        return super().wait_rendered(timeout_ms)

    def teardown(self) -> None:
        self._torn = True
        self._gate_guard.stop()
        super().teardown()

    def output_dpi(self) -> float:
        """The DPI the map is drawn at: the screen's logical DPI times ``magnification``."""
        return float(self.canvas.mapSettings().outputDpi())

    def magnify(self) -> None:
        """Draw at the screen's logical DPI × ``magnification`` and show the whole district.

        QgsMapCanvas resets its output DPI to the screen's whenever it is first shown or moves
        to another screen (a re-plugged one), so this runs again then (``showEvent``)."""
        handle = self.canvas.window().windowHandle()
        base = handle.screen().logicalDotsPerInch() if handle is not None and handle.screen() else 96.0
        wanted = base * self.magnification
        if abs(self.output_dpi() - wanted) > 0.01 or self.canvas.magnificationFactor() != self.magnification:
            # setMagnificationFactor multiplies the DPI by new / old factor, and the canvas's reset
            # keeps the old factor: back to factor 1, the screen's own DPI again (the canvas's own
            # slot; it needs a window), then the wanted factor.
            self.canvas.setMagnificationFactor(1.0)
            if handle is not None and handle.screen() is not None:
                QMetaObject.invokeMethod(self.canvas, "updateDevicePixelFromScreen")
            self.canvas.setMagnificationFactor(self.magnification)
        self.zoom_full()

    def zoom_full(self) -> None:
        """The whole district (the extent as shown: QgsMapCanvas shrinks an unmagnified one)."""
        rect = self.full_extent()
        if not rect.isEmpty():
            self.canvas.setExtent(rect, True)
            self._repaint_asked()  # while a render runs: once more when it ends
            self.canvas.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override); the canvas's own runs first
        super().showEvent(event)
        handle = self.canvas.window().windowHandle()
        if handle is not None and not self._screen_hooked:
            self._screen_hooked = True
            handle.screenChanged.connect(lambda _screen: QTimer.singleShot(0, self.magnify))
        self.magnify()


__all__ = ["HeatFeeder", "HotspotFeeder", "WallMap", "heat_layer", "hotspot_layer"]
