"""Icons drawn at the size and pixel ratio they are shown at: crisp at any UI scale.

Qt 5 paints a QIcon made from a small QPixmap by scaling that pixmap up when the window is
scaled (``QT_SCALE_FACTOR``, the desk's UI scale at 4K) and ``AA_UseHighDpiPixmaps`` is not set:
a 14-pixel dot becomes a blocky 28-pixel one. A :class:`DrawnIcon` engine instead draws with
the painter it is given, so the shape is rasterised at device resolution every time.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QRectF, QSize, Qt
from qtpy.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPen, QPixmap

#: draw(painter, rect): paint the icon into ``rect`` (logical coordinates; antialiasing is on).
Draw = Callable[[QPainter, QRectF], None]


class DrawnIcon(QIconEngine):
    """A QIconEngine that paints with ``draw`` at whatever size and pixel ratio it is shown."""

    def __init__(self, draw: Draw) -> None:
        super().__init__()
        self._draw = draw

    def paint(self, painter: QPainter, rect, mode, state) -> None:  # noqa: ARG002 (Qt signature)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._draw(painter, QRectF(rect))
        painter.restore()

    def pixmap(self, size: QSize, mode, state) -> QPixmap:
        """A pixmap of ``size`` logical pixels at the application's pixel ratio (for callers that ask
        for one instead of painting the icon)."""
        ratio = QGuiApplication.instance().devicePixelRatio() if QGuiApplication.instance() else 1.0
        pix = QPixmap(max(1, round(size.width() * ratio)), max(1, round(size.height() * ratio)))
        pix.setDevicePixelRatio(ratio)
        pix.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pix)
        self.paint(painter, QRectF(0, 0, size.width(), size.height()).toRect(), mode, state)
        painter.end()
        return pix

    def clone(self) -> DrawnIcon:
        return DrawnIcon(self._draw)


def drawn_icon(draw: Draw) -> QIcon:
    """A QIcon painted by ``draw`` at the size and pixel ratio it is shown at."""
    return QIcon(DrawnIcon(draw))


def dot_icon(fill: QColor | str, outline: QColor | str = "#ffffff") -> QIcon:
    """A filled dot with a thin outline (the queue's light), crisp at any UI scale."""
    fill, outline = QColor(fill), QColor(outline)

    def draw(painter: QPainter, rect: QRectF) -> None:
        side = min(rect.width(), rect.height())
        pen = max(1.0, side / 14)  # the 14-pixel design's 1-pixel outline, scaled
        inset = pen / 2 + side / 14
        square = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
        painter.setPen(QPen(outline, pen))
        painter.setBrush(fill)
        painter.drawEllipse(square.adjusted(inset, inset, -inset, -inset))

    return drawn_icon(draw)


__all__ = ["DrawnIcon", "dot_icon", "drawn_icon"]
