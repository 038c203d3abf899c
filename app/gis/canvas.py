"""MapView: the QGIS map canvas over the store's layers: browse/identify, flash, highlight.

Layers live in a QgsProject OWNED by the MapView (never ``QgsProject.instance()``), so two
views or two tests never share layers. The project owns the layers: after ``teardown()`` (or
the view's deletion) the layer objects, and the case feeder that writes to one, are gone.
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsFeature, QgsLayerTreeModel, QgsPointXY, QgsProject, QgsRectangle, QgsVectorLayer
from qgis.gui import QgsHighlight, QgsLayerTreeMapCanvasBridge, QgsLayerTreeView, QgsMapCanvas
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QEventLoop, QSize, QTimer, pyqtSignal
from qgis.PyQt.QtGui import QColor, QImage
from qgis.PyQt.QtWidgets import QMenu, QVBoxLayout, QWidget

from app.gis.flash import Highlight, flash_point
from app.gis.identify import BrowseTool
from app.gis.layers import MapLayers, store_crs
from app.gis.render import BACKGROUND, configure_canvas, extent_at_scale, render_settings
from app.gis.tools.decorations import MapDecorations

#: Scale the map zooms to when showing one case.
CASE_SCALE = 2000
#: A case in the view's outer band (this share of its width or height on each side) is re-centred.
FOLLOW_MARGIN = 0.15
#: The map is zoomed to the case scale when it shows more than that scale (this factor: rounding).
FOLLOW_SCALE_SLACK = 1.01
_FULL_EXTENT_MARGIN = 0.03
_LEGEND_MUPP = 10.0  # map units per pixel assumed for legend patches
#: The identified feature's outline: cyan, unlike the case lights and the selected-case ring.
IDENTIFY_COLOUR = QColor(0, 170, 255, 255)
IDENTIFY_FILL = QColor(0, 170, 255, 60)


def format_scale(scale: float) -> str:
    """'1:5,000' for a scale denominator (rounded to a whole number)."""
    return f"1:{round(scale):,}" if scale > 0 else "1:—"


class MapView(QWidget):
    """A map canvas in the store CRS showing the GridHall layers."""

    #: kind ('case' | 'component' | 'grid'), the feature's attributes
    identified = pyqtSignal(str, dict)
    #: the scale denominator after every zoom
    scale_changed = pyqtSignal(float)

    def __init__(self, layers: MapLayers | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = QgsMapCanvas(self)
        self.canvas.setCanvasColor(BACKGROUND)
        self.canvas.setDestinationCrs(store_crs())
        configure_canvas(self.canvas)  # parallel, cached layers, cheap labelling (app.gis.render)
        self.canvas.enableAntiAliasing(True)
        self.project = QgsProject()
        self.project.setCrs(store_crs())
        self.project.setTitle("GridHall")
        self._bridge = QgsLayerTreeMapCanvasBridge(self.project.layerTreeRoot(), self.canvas, self)
        self._bridge.setAutoSetupOnFirstLayer(False)  # keep our CRS, not the first layer's
        # Children are deleted in order: the project (and its layers) after canvas and bridge.
        self.project.setParent(self)
        self.tool = BrowseTool(self.canvas, [])
        self.tool.hit.connect(self.highlight_feature)
        self.tool.identified.connect(self.identified)
        #: The identified feature's outline (QgsHighlight), until the next identify or clear.
        self.feature_highlight: QgsHighlight | None = None
        #: Right-click menu entries: (title, callback(x, y) in the store CRS); None is a separator.
        self.context_entries: list[tuple[str, Callable[[float, float], object]] | None] = []
        self.canvas.contextMenuAboutToShow.connect(self._populate_context_menu)
        self.decorations = MapDecorations(self.canvas)  # scale bar and north arrow
        self.canvas.setMapTool(self.tool)
        self.canvas.scaleChanged.connect(self.scale_changed)
        self._highlight = Highlight(self.canvas)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.canvas)
        self.layers: MapLayers | None = None
        if layers is not None:
            self.set_layers(layers)

    # --- layers ---------------------------------------------------------------------------

    def set_layers(self, layers: MapLayers) -> None:
        """Show ``layers`` (replacing any shown before) and zoom to the unit grids."""
        self.canvas.freeze(False)  # a teardown froze it
        self.project.removeAllMapLayers()
        ordered = layers.top_down()
        self.project.addMapLayers(ordered, False)
        root = self.project.layerTreeRoot()
        for layer in ordered:
            root.addLayer(layer)
        self.layers = layers
        self.tool.set_targets([("case", layers.cases), ("component", layers.components),
                               ("grid", layers.unit_grids)])
        self.zoom_full()

    def make_layer_tree(self, parent: QWidget | None = None) -> QgsLayerTreeView:
        """A layer tree with visibility check boxes and legends, over this view's project."""
        view = QgsLayerTreeView(parent)
        model = QgsLayerTreeModel(self.project.layerTreeRoot(), view)
        model.setFlag(QgsLayerTreeModel.AllowNodeChangeVisibility)
        model.setFlag(QgsLayerTreeModel.AllowLegendChangeState)
        model.setFlag(QgsLayerTreeModel.ShowLegendAsTree)
        # Draw legend patches as if zoomed out: road widths in map units then stay slim.
        model.setLegendMapViewData(_LEGEND_MUPP, 96, _LEGEND_MUPP * 96 / 0.0254)
        # Show only the rules that apply at the current scale (no "zoomed out" duplicates).
        model.setLegendFilterByScale(self.canvas.scale())

        shown_at = [self.canvas.scale()]

        def follow_scale(scale: float) -> None:  # the tree may be gone before the canvas (teardown)
            # a pan or a case located at the same scale emits scaleChanged too: the legend of every
            # layer would be rebuilt (QGIS does not compare) and the tree laid out again for nothing
            if not sip.isdeleted(model) and abs(scale - shown_at[0]) > 1e-6 * max(abs(scale), 1.0):
                shown_at[0] = scale
                model.setLegendFilterByScale(scale)

        self.canvas.scaleChanged.connect(follow_scale)
        view.setModel(model)
        return view

    def teardown(self) -> None:
        """Stop rendering and drop every layer (the feeder's layer is deleted too)."""
        # Let a running render finish rather than stopRendering(): that orphans the job, which
        # then writes into the canvas's render cache after the canvas is gone (hang or crash).
        self.canvas.freeze(True)
        if self.canvas.isDrawing():
            self.canvas.waitWhileRendering()
        self._highlight.clear()
        self.clear_feature_highlight()
        self.canvas.unsetMapTool(self.tool)
        self.project.removeAllMapLayers()
        self.layers = None

    # --- navigation -----------------------------------------------------------------------

    def full_extent(self) -> QgsRectangle:
        """The unit grids' extent with a small margin (all layers' when there are no grids)."""
        rect = QgsRectangle()
        if self.layers is not None:
            rect = QgsRectangle(self.layers.unit_grids.extent())
            if rect.isEmpty():
                for layer in self.layers.top_down():
                    rect.combineExtentWith(layer.extent())
        if rect.isEmpty():
            return rect
        rect.grow(max(rect.width(), rect.height()) * _FULL_EXTENT_MARGIN)
        return rect

    def zoom_full(self) -> None:
        """Zoom to the whole district."""
        rect = self.full_extent()
        if not rect.isEmpty():
            self.canvas.setExtent(rect)
            self.canvas.refresh()

    def zoom_to_case(self, x: float, y: float, scale: float = CASE_SCALE, *, flash: bool = True,
                     highlight: bool = True) -> None:
        """Centre on (x, y) at 1:``scale``, ring it until cleared and flash the spot."""
        self.canvas.setCenter(QgsPointXY(x, y))
        self.canvas.zoomScale(scale)
        self.canvas.refresh()
        if highlight:
            self.set_highlight(x, y)
        if flash:
            self.flash_point(x, y)

    def follow_case(self, x: float, y: float, scale: float = CASE_SCALE) -> bool:
        """The current case changed to the one at (x, y): ring and flash it, and move the map only
        when the case is not well inside the view or the map shows less detail than ``scale``
        (then as :meth:`zoom_to_case`; a map zoomed in closer stays as the user set it). Stepping through nearby cases keeps the map still: no new render
        of every layer (and its labels) per step. Returns whether the map moved."""
        extent = self.canvas.extent()
        margin_x, margin_y = extent.width() * FOLLOW_MARGIN, extent.height() * FOLLOW_MARGIN
        inside = (extent.xMinimum() + margin_x <= x <= extent.xMaximum() - margin_x
                  and extent.yMinimum() + margin_y <= y <= extent.yMaximum() - margin_y)
        if inside and not extent.isEmpty() and self.canvas.scale() <= scale * FOLLOW_SCALE_SLACK:
            self.set_highlight(x, y)
            self.flash_point(x, y)
            return False
        self.zoom_to_case(x, y, scale)
        return True

    def flash_point(self, x: float, y: float) -> None:
        """Flash a disc around (x, y) a few times."""
        flash_point(self.canvas, x, y)

    def set_highlight(self, x: float, y: float) -> None:
        """Ring (x, y) until ``clear_highlight`` (the selected case); replaces any earlier ring."""
        self._highlight.show(x, y)

    def clear_highlight(self) -> None:
        """Remove the selected-case ring, if any."""
        self._highlight.clear()

    def highlight_feature(self, layer: QgsVectorLayer, feature: QgsFeature) -> QgsHighlight:
        """Outline ``feature`` of ``layer`` (the identified one), replacing the last outline."""
        self.clear_feature_highlight()
        highlight = QgsHighlight(self.canvas, feature.geometry(), layer)
        highlight.setColor(IDENTIFY_COLOUR)
        highlight.setFillColor(IDENTIFY_FILL)
        highlight.setWidth(3)
        highlight.setBuffer(0.6)  # mm around points and lines, so a dot gets a visible rim
        highlight.setMinWidth(2)
        highlight.show()
        self.feature_highlight = highlight
        return highlight

    def clear_feature_highlight(self) -> None:
        if self.feature_highlight is not None:
            self.feature_highlight.hide()
            self.canvas.scene().removeItem(self.feature_highlight)
            self.feature_highlight = None

    def context_menu(self, x: float, y: float, menu: QMenu | None = None) -> QMenu:
        """The right-click menu for map point (x, y): one action per :attr:`context_entries`."""
        menu = menu if menu is not None else QMenu(self)
        for entry in self.context_entries:
            if entry is None:
                menu.addSeparator()
                continue
            title, callback = entry
            action = menu.addAction(title)
            action.triggered.connect(lambda _checked=False, c=callback: c(x, y))
        return menu

    def _populate_context_menu(self, menu: QMenu, event) -> None:
        # QGIS puts its own untranslated "Copy Coordinate" submenu first: ours replaces it
        menu.clear()
        point = event.mapPoint()
        self.context_menu(point.x(), point.y(), menu)

    def highlight_point(self) -> QgsPointXY | None:
        """Where the ring is (store CRS), None when there is none."""
        return self._highlight.point

    def scale(self) -> float:
        """The current scale denominator."""
        return self.canvas.scale()

    def scale_text(self) -> str:
        """The current scale as '1:5,000'."""
        return format_scale(self.canvas.scale())

    # --- rendering (screenshots, tests, benchmarks) ---------------------------------------

    def wait_rendered(self, timeout_ms: int = 10000) -> bool:
        """Re-render and block until the canvas has finished (False on timeout).

        Runs a local event loop: only for the screenshot path and tests, never normal GUI code.
        """
        loop = QEventLoop()
        done = []
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)

        def finished():
            done.append(True)
            loop.quit()

        self.canvas.mapCanvasRefreshed.connect(finished)
        try:
            self.canvas.refresh()
            timer.start(timeout_ms)
            if not done:
                loop.exec_()
        finally:
            timer.stop()
            self.canvas.mapCanvasRefreshed.disconnect(finished)
        return bool(done)

    def render_to_image(self, width: int, height: int) -> QImage:
        """Render what the canvas shows (same centre and scale) into a width×height image."""
        settings = self.canvas.mapSettings()
        center, scale = self.canvas.center(), self.canvas.scale()
        settings.setOutputSize(QSize(width, height))
        settings.setExtent(extent_at_scale(center, scale, width, height, settings.outputDpi()))
        settings.setBackgroundColor(BACKGROUND)
        return render_settings(settings)
