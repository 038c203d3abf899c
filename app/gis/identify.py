"""The browse tool: drag to pan, click to identify a case, component or grid."""

from __future__ import annotations

from datetime import date, datetime

from qgis.core import QgsFeature, QgsVectorLayer
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsMapToolIdentify
from qgis.PyQt.QtCore import QDate, QDateTime, QPoint, Qt, QVariant, pyqtSignal

#: Pixels the mouse may move between press and release and still count as a click.
CLICK_SLOP_PX = 4


def plain_value(value):
    """A QGIS attribute value as plain Python (NULL → None, QDateTime → datetime)."""
    if isinstance(value, QVariant):
        return None if value.isNull() else value.value()
    if isinstance(value, QDateTime):
        return value.toPyDateTime() if value.isValid() else None
    if isinstance(value, QDate):
        return value.toPyDate() if value.isValid() else None
    if isinstance(value, datetime | date | str | int | float | bool) or value is None:
        return value
    return str(value)


class BrowseTool(QgsMapToolIdentify):
    """Pans on drag; on a click emits ``identified(kind, attributes)`` for the topmost hit.

    ``targets`` is a list of (kind, layer) in priority order, e.g. case > component > grid.
    Hidden layers (unchecked, or out of their scale range) are not identified.
    """

    identified = pyqtSignal(str, dict)
    #: the layer and feature of the last hit (before ``identified``): the map highlights it
    hit = pyqtSignal(QgsVectorLayer, QgsFeature)

    def __init__(self, canvas: QgsMapCanvas, targets: list[tuple[str, QgsVectorLayer]]):
        super().__init__(canvas)
        self._targets = list(targets)
        self._press: QPoint | None = None
        self._dragging = False
        self.last_hit = None
        self.setCursor(Qt.ArrowCursor)

    def flags(self):
        """Right clicks open the map's context menu (``QgsMapCanvas.contextMenuAboutToShow``)."""
        return super().flags() | QgsMapTool.ShowContextMenu

    def set_targets(self, targets: list[tuple[str, QgsVectorLayer]]) -> None:
        """Replace the identifiable layers (priority order)."""
        self._targets = list(targets)

    def identify_pixel(self, x: int, y: int) -> tuple[str, dict] | None:
        """(kind, attributes) of the topmost feature at canvas pixel (x, y), or None."""
        shown = {layer.id() for layer in self.canvas().layers()}
        layers = [layer for _, layer in self._targets if layer.id() in shown]
        if not layers:
            return None
        results = self.identify(x, y, layers, QgsMapToolIdentify.TopDownStopAtFirst)
        if not results:
            return None
        hit = results[0]
        kind = next(k for k, layer in self._targets if layer.id() == hit.mLayer.id())
        feat = hit.mFeature
        self.last_hit = (hit.mLayer, QgsFeature(feat))
        attrs = {field.name(): plain_value(feat.attribute(i))
                 for i, field in enumerate(feat.fields())}
        return kind, attrs

    def canvasPressEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt override)
        if e.button() == Qt.LeftButton:
            self._press = e.pos()
            self._dragging = False

    def canvasMoveEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802
        if self._press is None or not (e.buttons() & Qt.LeftButton):
            return
        if not self._dragging and (e.pos() - self._press).manhattanLength() > CLICK_SLOP_PX:
            self._dragging = True
            self.canvas().setCursor(Qt.ClosedHandCursor)
        if self._dragging:
            self.canvas().panAction(e)

    def canvasReleaseEvent(self, e: QgsMapMouseEvent) -> None:  # noqa: N802
        if e.button() != Qt.LeftButton or self._press is None:
            return
        self._press = None
        if self._dragging:
            self._dragging = False
            self.canvas().setCursor(Qt.ArrowCursor)
            self.canvas().panActionEnd(e.pos())
            return
        found = self.identify_pixel(e.pos().x(), e.pos().y())
        if found is not None:
            if self.last_hit is not None:
                self.hit.emit(*self.last_hit)
            self.identified.emit(*found)
