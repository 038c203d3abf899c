"""The administrator's polygon drawing on the map (issue 12): clicks make a polygon in the store's CRS,
a right click closes it and gives the map its tool back; Esc cancels; in the administrator's hall a
department's jurisdiction drawn on the map is saved (preview, reason) and routes its category."""

from __future__ import annotations

import pytest
from qgis.core import QgsGeometry, QgsPointXY
from qgis.PyQt.QtCore import QPoint, Qt

from app.gis.admin_draw import MapDrawer

pytestmark = pytest.mark.qgis


def click(qtbot, canvas, x, y, button=Qt.LeftButton):
    p = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    qtbot.mouseClick(canvas.viewport(), button, pos=QPoint(round(p.x()), round(p.y())))


def test_clicks_draw_a_polygon_and_the_map_gets_its_tool_back(qtbot, view, district):
    drawer = MapDrawer(view.canvas)
    got = []
    drawer.draw(got.append)
    assert view.canvas.mapTool() is drawer.tool
    corners = [district.rel(60, 60), district.rel(260, 60), district.rel(260, 260)]
    for x, y in corners:
        click(qtbot, view.canvas, x, y)
    click(qtbot, view.canvas, *corners[0], button=Qt.RightButton)
    assert len(got) == 1 and got[0].startswith("Polygon")
    geom = QgsGeometry.fromWkt(got[0])
    assert geom.area() > 0 and geom.vertexAt(0).x() == pytest.approx(corners[0][0],
                                                                      abs=view.canvas.mapUnitsPerPixel() * 1.5)
    assert view.canvas.mapTool() is view.tool
    drawer.draw(got.append)  # Esc cancels: the callback hears None
    qtbot.keyClick(view.canvas, Qt.Key_Escape)
    assert got[-1] is None and view.canvas.mapTool() is view.tool
