"""Pick a point on the map (for the intake form): reports (x, y) and the component clicked, if any."""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsPointXY, QgsVectorLayer
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsMapToolIdentify, QgsVertexMarker
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

from app.gis.identify import plain_value

#: The picked point's marker: blue, unlike the selected case's magenta ring.
MARKER_COLOUR = QColor("#1565c0")
PickCallback = Callable[[float, float, "str | None"], None]
#: The components layer, or a callable returning the current one (None: points only).
Components = "QgsVectorLayer | Callable[[], QgsVectorLayer | None] | None"


class PickPointTool(QgsMapToolIdentify):
    """One left click emits ``picked(x, y, component_code)`` in the canvas CRS (code "" if none).

    Esc or a right click emits ``cancelled``.
    """

    picked = pyqtSignal(float, float, str)
    cancelled = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas, components: Components = None):
        super().__init__(canvas)
        self.components = components
        self.setCursor(Qt.CrossCursor)

    def _layer(self) -> QgsVectorLayer | None:
        # a callable follows the map when its layers are rebuilt (the old layer objects are deleted)
        return self.components() if callable(self.components) else self.components

    def component_at(self, x: int, y: int) -> str:
        """The code of the component drawn at canvas pixel (x, y), or ""."""
        layer = self._layer()
        if layer is None or layer.id() not in {lyr.id() for lyr in self.canvas().layers()}:
            return ""
        hits = self.identify(x, y, [layer], QgsMapToolIdentify.TopDownStopAtFirst)
        if not hits:
            return ""
        feature = hits[0].mFeature
        index = feature.fields().indexOf("code")
        value = plain_value(feature.attribute(index)) if index >= 0 else None
        return str(value) if value else ""

    def canvasReleaseEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt override)
        if e.button() == Qt.RightButton:
            self.cancelled.emit()
            return
        if e.button() != Qt.LeftButton:
            return
        point = e.mapPoint()
        self.picked.emit(point.x(), point.y(), self.component_at(e.pos().x(), e.pos().y()))

    def keyPressEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key_Escape:
            self.cancelled.emit()


class MapPicker:
    """Arms a PickPointTool for one click, then gives the canvas its previous tool back.

    The picked point keeps a marker (a cross in a ring) until the next pick, a cancel or
    :meth:`clear_marker`; while armed the map shows a crosshair cursor.
    """

    def __init__(self, canvas: QgsMapCanvas, components: Components = None):
        self.canvas = canvas
        self.tool = PickPointTool(canvas, components)
        self.markers: list[QgsVertexMarker] = []
        for icon, colour, pen, size in ((QgsVertexMarker.ICON_CIRCLE, QColor(255, 255, 255, 235), 6, 24),
                                        (QgsVertexMarker.ICON_CIRCLE, MARKER_COLOUR, 3, 24),
                                        (QgsVertexMarker.ICON_CROSS, MARKER_COLOUR, 2, 16)):
            marker = QgsVertexMarker(canvas)
            marker.setIconType(icon)
            marker.setIconSize(size)
            marker.setPenWidth(pen)
            marker.setColor(colour)
            marker.setFillColor(QColor(0, 0, 0, 0))
            marker.hide()
            self.markers.append(marker)
        self.marker_point: QgsPointXY | None = None
        self._previous: QgsMapTool | None = None
        self._callback: PickCallback | None = None
        self.tool.picked.connect(self._picked)
        self.tool.cancelled.connect(self.cancel)

    @property
    def active(self) -> bool:
        return self._callback is not None

    def pick(self, callback: PickCallback) -> None:
        """Make the next map click call ``callback(x, y, component_code or None)``."""
        if self._callback is None:
            current = self.canvas.mapTool()
            self._previous = current if current is not self.tool else None
        self._callback = callback
        self.canvas.setMapTool(self.tool)

    def cancel(self) -> None:
        """Disarm without calling back."""
        self._callback = None
        self._restore()

    def show_marker(self, x: float, y: float) -> None:
        """Mark (x, y) (canvas CRS) as the picked location."""
        self.marker_point = QgsPointXY(x, y)
        for marker in self.markers:
            marker.setCenter(self.marker_point)
            marker.show()

    def clear_marker(self) -> None:
        self.marker_point = None
        for marker in self.markers:
            marker.hide()

    def _picked(self, x: float, y: float, code: str) -> None:
        self.show_marker(x, y)
        callback, self._callback = self._callback, None
        self._restore()
        if callback is not None:
            callback(x, y, code or None)

    def _restore(self) -> None:
        if self._previous is not None:
            self.canvas.setMapTool(self._previous)
        else:
            self.canvas.unsetMapTool(self.tool)
        self._previous = None
