"""One object holding a MapView's tools: the GUI root turns its methods into window commands.

Tools: 'browse' (the MapView's identify tool, drag to pan), 'pan', 'zoom_box' (click or drag a
box to zoom in), 'measure_distance', 'measure_area'. ``tool_changed(name)`` follows whatever
sets the canvas's tool (a pick, Esc), so the toolbar's checked button always tells the truth.
"""

from __future__ import annotations

from qgis.core import QgsPointXY
from qgis.PyQt.QtCore import QObject, QSettings, pyqtSignal

from app.gis.tools import navigation
from app.gis.tools.bookmarks import Bookmark, Bookmarks
from app.gis.tools.goto import POINT_SCALE, Target, resolve, store_to_lonlat
from app.gis.tools.measure import MeasureTool
from app.gis.tools.print_layout import export_map, snapshot_map

#: Toolbar icons from the QGIS theme, by action id.
ICONS = {
    "gridhall.map.browse": "mActionIdentify.svg", "gridhall.map.pan": "mActionPan.svg",
    "gridhall.map.zoom_box": "mActionZoomToArea.svg", "gridhall.map.zoom_in": "mActionZoomIn.svg",
    "gridhall.map.zoom_out": "mActionZoomOut.svg", "gridhall.map.zoom_full": "mActionZoomFullExtent.svg",
    "gridhall.map.extent_back": "mActionZoomLast.svg", "gridhall.map.extent_forward": "mActionZoomNext.svg",
    "gridhall.map.measure_distance": "mActionMeasure.svg", "gridhall.map.measure_area": "mActionMeasureArea.svg",
    "gridhall.map.bookmark_add": "mActionNewBookmark.svg", "gridhall.map.bookmarks": "mActionShowBookmarks.svg",
    "gridhall.map.export": "mActionSaveMapAsImage.svg",
}


def theme_icons() -> dict:
    """Action id → QIcon of the QGIS theme (icons that cannot be found are left out)."""
    from qgis.core import QgsApplication

    icons = {}
    for action_id, name in ICONS.items():
        icon = QgsApplication.getThemeIcon(f"/{name}")
        if not icon.isNull():
            icons[action_id] = icon
    return icons


class MapTools(QObject):
    tool_changed = pyqtSignal(str)
    #: the measurement in progress or finished ("" when cleared), final
    measured = pyqtSignal(str, bool)

    def __init__(self, view, settings: QSettings, user: str | None, parent: QObject | None = None):
        super().__init__(parent or view)
        self.view = view
        canvas = view.canvas
        self.history = navigation.ExtentHistory(canvas, self)
        self.tools = {"browse": view.tool, **navigation.make_tools(canvas),
                      "measure_distance": MeasureTool(canvas, area=False),
                      "measure_area": MeasureTool(canvas, area=True)}
        self.tools["zoom_box"] = self.tools.pop("zoom_in")
        self.tools.pop("zoom_out")
        for name in ("measure_distance", "measure_area"):
            self.tools[name].measured.connect(lambda _v, text, final: self.measured.emit(text, final))
        self.bookmarks = Bookmarks(settings, user)
        canvas.mapToolSet.connect(self._tool_set)

    def teardown(self) -> None:
        canvas = self.view.canvas
        canvas.mapToolSet.disconnect(self._tool_set)
        current = canvas.mapTool()
        if current is not None and current is not self.view.tool and current in self.tools.values():
            canvas.setMapTool(self.view.tool)

    # --- tools -----------------------------------------------------------------------------
    def active_tool(self) -> str:
        current = self.view.canvas.mapTool()
        return next((name for name, tool in self.tools.items() if tool is current), "")

    def set_tool(self, name: str) -> None:
        """Make ``name`` the canvas's tool ('browse' when ``name`` is unknown or empty)."""
        self.view.canvas.setMapTool(self.tools.get(name) or self.tools["browse"])

    def _tool_set(self, *_args) -> None:
        self.tool_changed.emit(self.active_tool())

    # --- navigation -----------------------------------------------------------------------
    def zoom_in(self) -> None:
        navigation.zoom_in(self.view.canvas)

    def zoom_out(self) -> None:
        navigation.zoom_out(self.view.canvas)

    def back(self) -> bool:
        return self.history.back()

    def forward(self) -> bool:
        return self.history.forward()

    def zoom_here(self, x: float, y: float) -> None:
        navigation.zoom_here(self.view.canvas, x, y)

    def goto(self, text: str) -> Target:
        """Centre on what ``text`` names and flash it; MsgError when it names nothing."""
        layers = self.view.layers
        target = resolve(text, layers.unit_grids if layers else None, layers.components if layers else None)
        canvas = self.view.canvas
        if target.rect is not None:
            rect = target.rect.buffered(max(target.rect.width(), target.rect.height()) * 0.6)
            canvas.setExtent(rect)
        else:
            canvas.setCenter(target.point)
            canvas.zoomScale(POINT_SCALE)
        canvas.refresh()
        self.view.flash_point(target.point.x(), target.point.y())
        return target

    # --- bookmarks ------------------------------------------------------------------------
    def add_bookmark(self, name: str) -> Bookmark:
        return self.bookmarks.add(name, self.view.canvas.extent())

    def goto_bookmark(self, name: str) -> bool:
        bookmark = self.bookmarks.get(name)
        if bookmark is None:
            return False
        self.view.canvas.setExtent(bookmark.rect)
        self.view.canvas.refresh()
        return True

    # --- coordinates and export -------------------------------------------------------------
    @staticmethod
    def coordinate_text(x: float, y: float) -> str:
        """'x, y (EPSG:4549); lon, lat (WGS84)' for the clipboard."""
        lonlat = store_to_lonlat(x, y)
        return f"{x:.2f}, {y:.2f} (EPSG:4549); {lonlat.x():.6f}, {lonlat.y():.6f} (WGS84)"

    def export_work(self, path: str, title: str, time_text: str, legend_title: str):
        """A job's ``work(feedback)`` writing the current map to ``path`` (.png/.pdf).

        The snapshot is taken now, on the GUI thread; the work runs on the job's thread.
        """
        snapshot = snapshot_map(self.view.project, self.view.canvas, title, time_text, legend_title)
        return lambda feedback: export_map(snapshot, path, feedback)

    def identify_at(self, x: float, y: float):
        """Identify the topmost feature at map point (x, y) as a click there would."""
        pixel = self.view.canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
        found = self.view.tool.identify_pixel(round(pixel.x()), round(pixel.y()))
        if found is not None:
            if self.view.tool.last_hit is not None:
                self.view.tool.hit.emit(*self.view.tool.last_hit)
            self.view.tool.identified.emit(*found)
        return found
