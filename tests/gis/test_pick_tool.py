"""The map pick tool: one click reports the point (and the component under it), then hands the map back."""

from __future__ import annotations

import pytest
from qgis.core import QgsPointXY
from qgis.PyQt.QtCore import QPoint, Qt

from app.gis.canvas import MapView
from app.gis.pick_tool import MapPicker

pytestmark = pytest.mark.qgis


@pytest.fixture
def view(qtbot, map_layers):
    v = MapView(map_layers)
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    qtbot.waitExposed(v)
    v.zoom_full()
    assert v.wait_rendered(15000)
    yield v
    v.teardown()


def click(qtbot, view, x, y, button=Qt.LeftButton):
    p = view.canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    qtbot.mouseClick(view.canvas.viewport(), button, pos=QPoint(round(p.x()), round(p.y())))


def test_pick_reports_the_point_and_restores_the_browse_tool(qtbot, view, district):
    picker = MapPicker(view.canvas, view.layers.components)
    got = []
    picker.pick(lambda x, y, code: got.append((x, y, code)))
    assert view.canvas.mapTool() is picker.tool
    x, y = district.rel(140, 160)  # an empty spot inside a grid
    click(qtbot, view, x, y)
    assert len(got) == 1
    px, py, code = got[0]
    tolerance = view.canvas.mapUnitsPerPixel() * 1.5
    assert abs(px - x) <= tolerance and abs(py - y) <= tolerance
    assert code is None
    assert view.canvas.mapTool() is view.tool  # browsing again; the next click identifies
    click(qtbot, view, x, y)
    assert len(got) == 1


def test_a_click_on_a_component_reports_its_code(qtbot, view, district):
    view.zoom_to_case(*district.rel(*district.components["02"]), scale=4000, flash=False)
    assert view.wait_rendered(15000)
    picker = MapPicker(view.canvas, view.layers.components)
    got = []
    picker.pick(lambda x, y, code: got.append(code))
    click(qtbot, view, *district.rel(*district.components["02"]))
    assert len(got) == 1 and got[0] is not None and got[0][6:8] == "02" and len(got[0]) == 17


def test_right_click_cancels_without_a_callback(qtbot, view, district):
    picker = MapPicker(view.canvas, view.layers.components)
    got = []
    picker.pick(lambda *args: got.append(args))
    click(qtbot, view, *district.rel(140, 160), button=Qt.RightButton)
    assert got == [] and not picker.active
    assert view.canvas.mapTool() is view.tool
