"""pyqtgraph charts of :class:`app.services.statistics.Chart`: vertical or horizontal bars, or lines;
a click on a bar or near a point emits ``picked(chart key, series, index)``. Fonts with CJK glyphs."""

from __future__ import annotations

from enum import Enum

import pyqtgraph as pg
from qtpy.QtCore import QPointF, Qt, Signal
from qtpy.QtGui import QFontMetrics

from app.domain.messages import Msg
from app.i18n import Catalogue
from app.services.statistics import Chart
from app.ui.style import hall_font

BAR = 0.7  # bar thickness (one slot = 1)
ROWS = 10  # horizontal bars shown at once
LABEL_PX = 150  # longer bar names are elided


def label_text(cat: Catalogue, label: object) -> str:
    if isinstance(label, Msg):
        return cat.text(label)
    if isinstance(label, Enum):
        return cat.label(label)
    return str(label)


class ChartView(pg.PlotWidget):
    """One chart; ``show_chart(chart)`` draws it, a click picks a bar."""

    picked = Signal(str, int, int)

    def __init__(self, catalogue: Catalogue, parent=None) -> None:
        super().__init__(parent=parent, background="w")
        self.cat = catalogue
        self.chart: Chart | None = None
        self.font = hall_font(9)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        item = self.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setStyle(tickFont=self.font)
            axis.setTextPen(pg.mkPen("#333333"))
            axis.setPen(pg.mkPen("#999999"))
        self.legend = None
        self._items: list = []
        self._shape: tuple | None = None
        self.scene().sigMouseClicked.connect(self._clicked)

    def _title(self, text: str) -> None:
        item = self.getPlotItem()
        item.setTitle(text, color="#222222", size="10pt")
        item.titleLabel.item.setFont(self.font)

    def show_chart(self, chart: Chart) -> None:
        """Draw ``chart``. The plot items are made once per shape and then updated, never removed:
        removing a pyqtgraph item while QGIS's Python is loaded raises in its itemChange (a null
        QVariant it cannot convert), so a recomputed chart only changes the items' data."""
        self.chart = chart
        item = self.getPlotItem()
        shape = (chart.line, chart.horizontal, len(chart.series))
        if shape != self._shape:
            self._build(chart)
            self._shape = shape
        self._title(self.cat.text(chart.title))
        bars = chart.series[0].bars if chart.series else ()
        labels = [label_text(self.cat, b.label) for b in bars]
        n = len(bars)
        for i, s in enumerate(chart.series):
            plotted = self._items[i]
            values = [b.value for b in s.bars]
            if chart.line:
                plotted.setData(list(range(n)), values)
            elif chart.horizontal:
                plotted.setOpts(x0=0, y=list(range(n)), height=BAR, width=values,
                                brushes=[pg.mkBrush(b.colour or s.colour) for b in s.bars])
            else:
                width = BAR / len(chart.series)
                plotted.setOpts(x=[x - BAR / 2 + width * (i + 0.5) for x in range(n)], height=values, width=width,
                                brushes=[pg.mkBrush(b.colour or s.colour) for b in s.bars])
        item.invertY(chart.horizontal)
        self._ticks(labels, chart)
        top = max((b.value for s in chart.series for b in s.bars), default=0) or 1
        if chart.horizontal:  # the first ROWS rows; the wheel or a drag scrolls through the rest
            item.setXRange(0, top * 1.05, padding=0)
            item.setYRange(-0.6, min(max(n, 1), ROWS) - 0.4, padding=0)
            self.setMouseEnabled(x=False, y=n > ROWS)
            item.getViewBox().setLimits(yMin=-0.6, yMax=max(n, 1) - 0.4)
        else:
            item.setYRange(0, top * (1.3 if len(chart.series) > 1 else 1.1), padding=0)
            item.setXRange(-0.6, max(n, 1) - 0.4, padding=0)
        self.setToolTip(self.cat.tr("单击柱或点：列出背后的案卷"))

    def _build(self, chart: Chart) -> None:
        """The plot items of ``chart``'s shape (the first time it is shown)."""
        item = self.getPlotItem()
        if self._items:  # another shape than before (not done by the dock: a view keeps its chart)
            item.clear()
        self._items = []
        if chart.line or len(chart.series) > 1:
            self.legend = item.addLegend(offset=(-6, -4) if chart.line else (6, 4), labelTextSize="8pt")
        for s in chart.series:
            if chart.line:
                pen = pg.mkPen(s.colour, width=2)
                plotted = item.plot([], [], pen=pen, symbol="o", symbolSize=6, symbolBrush=s.colour, symbolPen=pen,
                                    name=self.cat.text(s.name))
            else:
                plotted = (pg.BarGraphItem(x0=0, y=[], height=BAR, width=[], pen=pg.mkPen(None)) if chart.horizontal
                           else pg.BarGraphItem(x=[], height=[], width=BAR, pen=pg.mkPen(None)))
                item.addItem(plotted)
                if self.legend is not None:
                    self.legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=1, brush=s.colour),
                                        self.cat.text(s.name))
            self._items.append(plotted)
        if self.legend is not None:
            for _sample, text in self.legend.items:
                text.item.setFont(self.font)

    def _ticks(self, labels: list[str], chart: Chart) -> None:
        item = self.getPlotItem()
        every = max(1, -(-len(labels) // 7)) if not chart.horizontal else 1
        major = [(i, t) for i, t in enumerate(labels) if i % every == 0]
        axis = item.getAxis("left" if chart.horizontal else "bottom")
        axis.setTicks([major, []])
        other = item.getAxis("bottom" if chart.horizontal else "left")
        other.setTicks(None)
        if chart.horizontal:  # long names elided (the list's title names the bar in full)
            metrics = QFontMetrics(self.font)
            labels = [metrics.elidedText(t, Qt.TextElideMode.ElideRight, LABEL_PX) for t in labels]
            axis.setTicks([list(enumerate(labels)), []])
            axis.setWidth(12 + max((metrics.horizontalAdvance(t) for t in labels), default=30))
        else:
            item.getAxis("left").setWidth(40)

    # ---- picking -------------------------------------------------------------------------
    def pick(self, x: float, y: float) -> tuple[int, int] | None:
        """``(series, index)`` of the bar or point at view coordinates ``x``, ``y``, or None."""
        chart = self.chart
        if chart is None or not chart.series:
            return None
        n = len(chart.series[0].bars)
        along, across = (y, x) if chart.horizontal else (x, y)
        index = round(along)
        if not 0 <= index < n or abs(along - index) > 0.5:
            return None
        if chart.line:
            return min(range(len(chart.series)), key=lambda s: abs(chart.series[s].bars[index].value - across)), index
        if chart.horizontal:
            return 0, index
        k = len(chart.series)
        slot = int((along - index + BAR / 2) / (BAR / k)) if k > 1 else 0
        return min(max(slot, 0), k - 1), index

    def centre(self, series: int, index: int) -> QPointF:
        """The view coordinates of a bar's middle (a point's position)."""
        assert self.chart is not None
        bar = self.chart.series[series].bars[index]
        if self.chart.line:
            return QPointF(index, bar.value)
        if self.chart.horizontal:
            return QPointF(max(bar.value, 0.01) / 2, index)
        k = len(self.chart.series)
        width = BAR / k
        return QPointF(index - BAR / 2 + width * (series + 0.5), max(bar.value, 0.01) / 2)

    def _clicked(self, event) -> None:
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point = vb.mapSceneToView(event.scenePos())
        hit = self.pick(point.x(), point.y())
        if hit is not None and self.chart is not None:
            self.picked.emit(self.chart.key, hit[0], hit[1])


__all__ = ["ChartView", "label_text"]
