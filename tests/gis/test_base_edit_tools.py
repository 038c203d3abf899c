"""The maintenance page's map seams (issue 15 item 4): clicks draw a split line in the store's CRS, a
right click ends it and gives the map its tool back, Esc and a single vertex cancel; ``show`` zooms to
a feature; ``changed`` makes the grid and component layers read the store again."""

from __future__ import annotations

import pytest
from qgis.core import QgsPointXY
from qgis.PyQt.QtCore import QPoint, Qt

from app.gis.base_edit_tools import BaseEditTools

pytestmark = pytest.mark.qgis


def click(qtbot, canvas, x, y, button=Qt.LeftButton):
    p = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    qtbot.mouseClick(canvas.viewport(), button, pos=QPoint(round(p.x()), round(p.y())))


def test_clicks_draw_a_line_and_the_map_gets_its_tool_back(qtbot, view, district):
    tools = BaseEditTools(view.canvas, lambda: [view.layers.unit_grids, view.layers.components])
    got = []
    tools.draw_line(got.append)
    assert view.canvas.mapTool() is tools.tool and tools.active
    ends = [district.rel(150, 40), district.rel(150, 260)]
    for x, y in ends:
        click(qtbot, view.canvas, x, y)
    click(qtbot, view.canvas, *ends[1], button=Qt.RightButton)
    assert len(got) == 1 and len(got[0]) == 2
    tolerance = view.canvas.mapUnitsPerPixel() * 1.5
    assert got[0][0] == pytest.approx(ends[0], abs=tolerance) and got[0][1] == pytest.approx(ends[1], abs=tolerance)
    assert view.canvas.mapTool() is view.tool and not tools.active
    tools.draw_line(got.append)  # Esc cancels
    click(qtbot, view.canvas, *ends[0])
    qtbot.keyClick(view.canvas, Qt.Key_Escape)
    assert got[-1] is None and view.canvas.mapTool() is view.tool
    tools.draw_line(got.append)  # one vertex is no line
    click(qtbot, view.canvas, *ends[0])
    click(qtbot, view.canvas, *ends[0], button=Qt.RightButton)
    assert got[-1] is None and view.canvas.mapTool() is view.tool


def test_show_zooms_and_changed_reloads_the_base_layers(qtbot, view, district):
    tools = BaseEditTools(view.canvas, lambda: [view.layers.unit_grids, view.layers.components, None])
    x, y = district.rel(100, 100)
    tools.show(f"POLYGON(({x} {y}, {x + 100} {y}, {x + 100} {y + 100}, {x} {y + 100}, {x} {y}))")
    extent = view.canvas.extent()
    assert extent.contains(QgsPointXY(x + 50, y + 50)) and extent.width() < 600
    before = view.layers.unit_grids.featureCount()
    tools.changed()
    assert view.layers.unit_grids.featureCount() == before
    tools.show(None)
