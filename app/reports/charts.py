"""The bulletin's charts as reportlab graphics (Drawings are flowables): daily reports vs closures,
the category Pareto, the department ranking coloured by grade, the channel split."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

BLUE, ORANGE, GREY = colors.HexColor("#3b6fb6"), colors.HexColor("#e8833a"), colors.HexColor("#bbbbbb")
PALETTE = ["#3b6fb6", "#e8833a", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac"]


def _empty(drawing: Drawing, font: str, width: float, height: float) -> Drawing:
    drawing.add(String(width / 2, height / 2, "—", fontName=font, fontSize=12, textAnchor="middle"))
    return drawing


def daily(rows: Sequence[tuple[date, int, int]], font: str, width: float, reports: str, closures: str) -> Drawing:
    """Grouped bars per day: reports and closures."""
    height = 150
    d = Drawing(width, height)
    if not rows:
        return _empty(d, font, width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 22, width - 110, height - 32
    chart.data = [[r[1] for r in rows], [r[2] for r in rows]]
    chart.categoryAxis.categoryNames = [str(r[0].day) for r in rows]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor, chart.bars[1].fillColor = BLUE, ORANGE
    chart.bars.strokeWidth = 0
    chart.barSpacing, chart.groupSpacing = 0, 2
    d.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 70, height - 20
    legend.fontName, legend.fontSize = font, 8
    legend.colorNamePairs = [(BLUE, reports), (ORANGE, closures)]
    d.add(legend)
    return d


def pareto(rows: Sequence[tuple[str, str, int]], total: int, font: str, width: float) -> Drawing:
    """Bars of the categories (descending) and the cumulative share as a line (right axis 0–100 %)."""
    height = 190
    d = Drawing(width, height)
    if not rows or not total:
        return _empty(d, font, width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 60, width - 70, height - 70
    chart.data = [[n for *_x, n in rows]]
    chart.categoryAxis.categoryNames = [name[:8] for _c, name, _n in rows]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 40
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = BLUE
    d.add(chart)
    line = LinePlot()
    line.x, line.y, line.width, line.height = chart.x, chart.y, chart.width, chart.height
    n = len(rows)
    cum, points = 0, []
    for i, (*_x, count) in enumerate(rows):
        cum += count
        points.append(((i + 0.5) / n, cum / total * 100))
    line.data = [points]
    line.xValueAxis.valueMin, line.xValueAxis.valueMax = 0, 1
    line.xValueAxis.visible = False
    line.yValueAxis.valueMin, line.yValueAxis.valueMax, line.yValueAxis.valueStep = 0, 100, 20
    line.yValueAxis.visible = False
    line.lines[0].strokeColor = ORANGE
    line.lines[0].strokeWidth = 1.5
    d.add(line)
    for pct in (0, 50, 100):
        d.add(String(chart.x + chart.width + 4, chart.y + chart.height * pct / 100 - 3, f"{pct}%", fontName=font,
                     fontSize=7, fillColor=ORANGE))
    return d


def ranking(results: Sequence[Any], font: str, width: float, grade_colours: dict[str, str]) -> Drawing:
    """Horizontal bars of the departments' scores, each coloured by its grade."""
    height = max(60, 14 * len(results) + 30)
    d = Drawing(width, height)
    if not results:
        return _empty(d, font, width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 150, 10, width - 190, height - 20
    ordered = list(reversed(results))  # the best on top
    chart.data = [[x.score or 0 for x in ordered]]
    chart.categoryAxis.categoryNames = [f"{x.rank or '-'} {(x.name or x.code)[:12]}" for x in ordered]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.bars.strokeWidth = 0
    for i, x in enumerate(ordered):
        chart.bars[(0, i)].fillColor = colors.HexColor(grade_colours.get(x.grade or "", "#bbbbbb"))
    d.add(chart)
    for i, x in enumerate(ordered):
        y = chart.y + chart.height * (i + 0.5) / len(ordered) - 3
        d.add(String(chart.x + chart.width * (x.score or 0) / 100 + 3, y, f"{x.score or 0:.1f} {x.grade or ''}",
                     fontName=font, fontSize=7))
    return d


def channels(rows: Sequence[tuple[str, int]], font: str, width: float) -> Drawing:
    """A pie of the intake channels with a legend."""
    height = 150
    d = Drawing(width, height)
    total = sum(n for _c, n in rows)
    if not total:
        return _empty(d, font, width, height)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 40, 10, 130, 130
    pie.data = [n for _c, n in rows]
    pie.labels = None
    pie.slices.strokeWidth = 0.5
    pie.slices.strokeColor = colors.white
    for i in range(len(rows)):
        pie.slices[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
    d.add(pie)
    legend = Legend()
    legend.x, legend.y = 200, height - 15
    legend.fontName, legend.fontSize = font, 8
    legend.alignment = "right"
    legend.columnMaximum = max(4, (len(rows) + 1) // 2)  # two columns
    legend.deltax = min(150, (width - 210) / 2)
    legend.dxTextSpace = 4
    legend.colorNamePairs = [(colors.HexColor(PALETTE[i % len(PALETTE)]), f"{label}  {n} ({n / total * 100:.1f}%)")
                             for i, (label, n) in enumerate(rows)]
    d.add(legend)
    return d
