"""A scale bar and a north arrow drawn over the canvas (QgsDecorationScaleBar is app-only).

One canvas item covering the viewport paints both in screen pixels, sized by the screen's
logical DPI so they stay legible at 4K (and with a UI scale); it repaints on every extent change.
"""

from __future__ import annotations

import math

from qgis.gui import QgsMapCanvas, QgsMapCanvasItem
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QPointF, QRectF, Qt
from qgis.PyQt.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainterPath, QPen, QPolygonF

#: Aimed-for length of the scale bar, in logical pixels at 96 dpi.
BAR_TARGET_PX = 160
MARGIN_PX = 14
INK = QColor(30, 30, 30)
PAPER = QColor(255, 255, 255, 225)


def nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``metres`` (at least 0.01)."""
    if metres <= 0.01:
        return 0.01
    exponent = math.floor(math.log10(metres))
    for step in (5, 2, 1):
        value = step * 10 ** exponent
        if value <= metres:
            return value
    return 10 ** exponent


def length_text(metres: float) -> str:
    if metres >= 1000:
        km = metres / 1000
        return f"{km:g} km"
    return f"{metres:g} m"


class MapDecorations(QgsMapCanvasItem):
    """Scale bar (bottom left) and north arrow (top right) over ``canvas``."""

    def __init__(self, canvas: QgsMapCanvas):
        super().__init__(canvas)
        self._canvas = canvas
        self.setZValue(1000)
        self.show_scale_bar = True
        self.show_north_arrow = True
        canvas.extentsChanged.connect(self._repaint)
        canvas.rotationChanged.connect(self._repaint)

    def _repaint(self, *_args: object) -> None:
        if not sip.isdeleted(self):  # the item may go before the canvas (teardown)
            self.update()

    def ui_factor(self) -> float:
        """Logical DPI relative to 96 (1.0 on a plain screen; 2.0 at a 200 % UI scale)."""
        return max(1.0, self._canvas.logicalDpiX() / 96.0)

    def scale_bar(self) -> tuple[float, float]:
        """(metres, pixels) of the bar at the current scale."""
        mupp = max(self._canvas.mapUnitsPerPixel(), 1e-9)
        metres = nice_length(BAR_TARGET_PX * self.ui_factor() * mupp)
        return metres, metres / mupp

    # --- QGraphicsItem -----------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        size = self._canvas.viewport().size()
        return QRectF(0, 0, size.width(), size.height())

    def updatePosition(self) -> None:  # noqa: N802 (QGIS override): pinned to the viewport
        self.prepareGeometryChange()
        self.setPos(0, 0)

    def paint(self, painter, option=None, widget=None) -> None:
        painter.save()
        painter.setRenderHint(painter.Antialiasing, True)
        f = self.ui_factor()
        font = QFont(self._canvas.font())
        font.setPixelSize(round(12 * f))
        font.setBold(True)
        painter.setFont(font)
        size = self._canvas.viewport().size()
        if self.show_scale_bar:
            self._paint_scale_bar(painter, font, f, size.height())
        if self.show_north_arrow:
            self._paint_north_arrow(painter, font, f, size.width())
        painter.restore()

    def _paint_scale_bar(self, painter, font, f: float, height: int) -> None:
        metres, px = self.scale_bar()
        fm = QFontMetricsF(font)
        margin, bar_h = MARGIN_PX * f, 6 * f
        label = length_text(metres)
        x0 = margin + 8 * f
        y_bar = height - margin - 8 * f - bar_h
        box = QRectF(margin, y_bar - fm.height() - 8 * f, px + 16 * f + fm.horizontalAdvance(label) / 2,
                     fm.height() + bar_h + 16 * f)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QBrush(PAPER))
        painter.drawRoundedRect(box, 4 * f, 4 * f)
        segments = 4
        for i in range(segments):
            painter.setBrush(QBrush(INK if i % 2 == 0 else QColor("white")))
            painter.setPen(QPen(INK, max(1.0, f)))
            painter.drawRect(QRectF(x0 + px * i / segments, y_bar, px / segments, bar_h))
        painter.setPen(QPen(INK))
        baseline = y_bar - 4 * f
        painter.drawText(QPointF(x0 - fm.horizontalAdvance("0") / 2, baseline), "0")
        painter.drawText(QPointF(x0 + px - fm.horizontalAdvance(label) / 2, baseline), label)

    def _paint_north_arrow(self, painter, font, f: float, width: int) -> None:
        fm = QFontMetricsF(font)
        margin, h, w = MARGIN_PX * f, 34 * f, 20 * f
        cx = width - margin - 16 * f
        top = margin + fm.height() + 6 * f
        painter.setPen(Qt.NoPen)
        painter.setBrush(QBrush(PAPER))
        painter.drawRoundedRect(QRectF(cx - w, margin, 2 * w, h + fm.height() + 12 * f), 4 * f, 4 * f)
        painter.save()
        painter.translate(cx, top + h / 2)
        painter.rotate(-self._canvas.rotation())
        left = QPolygonF([QPointF(0, -h / 2), QPointF(-w / 2, h / 2), QPointF(0, h / 4)])
        right = QPolygonF([QPointF(0, -h / 2), QPointF(w / 2, h / 2), QPointF(0, h / 4)])
        painter.setPen(QPen(INK, max(1.0, f)))
        painter.setBrush(QBrush(INK))
        painter.drawPolygon(left)
        painter.setBrush(QBrush(QColor("white")))
        painter.drawPolygon(right)
        painter.restore()
        path = QPainterPath()
        path.addText(QPointF(cx - fm.horizontalAdvance("N") / 2, margin + fm.ascent() + 3 * f), font, "N")
        painter.setPen(Qt.NoPen)
        painter.setBrush(QBrush(INK))
        painter.drawPath(path)
