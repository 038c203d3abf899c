"""The map pick tool: one click reports the point (and the component under it), then hands the map back."""

from __future__ import annotations

from datetime import datetime

import pytest
from qgis.core import QgsPointXY
from qgis.PyQt.QtCore import QPoint, Qt

from app.gis.pick_tool import MapPicker

pytestmark = pytest.mark.qgis


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


def test_install_desk_wires_the_pick_tool_into_the_intake_form(qtbot, qgis_app, district_store, district, tmp_path):
    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.services.actors import Actor
    from app.ui.work.install import INTAKE_DOCK

    clock = FixedClock(datetime(2026, 11, 20, 10, 30))
    settings = QSettings(str(tmp_path / "hall.ini"), QSettings.IniFormat)
    hall = build_hall(district_store, clock=clock, settings=settings, plugins=False,
                      actor=Actor("acc", "受理员甲", "acceptor"))
    try:
        view = hall.map_view
        hall.window.resize(1200, 800)
        hall.window.show()
        qtbot.waitExposed(hall.window)
        view.zoom_full()
        assert view.wait_rendered(15000)
        form = hall.window.dock_registry.widget(INTAKE_DOCK)
        assert form.pick_button.isEnabled()
        form.pick_button.click()
        assert view.canvas.mapTool() is not view.tool
        click(qtbot, view, *district.rel(140, 160))
        assert view.canvas.mapTool() is view.tool
        qtbot.waitUntil(lambda: form.where.property("grid_code") is not None, timeout=10000)
        assert form.where.property("grid_code").startswith("320508")
        assert "平江街道" in form.where.text()  # street and community filled from the pick
    finally:
        hall.teardown()


def _marks(canvas) -> list:
    from qgis.gui import QgsVertexMarker

    return [item for item in canvas.scene().items() if isinstance(item, QgsVertexMarker)]


def test_the_pick_marker_goes_when_the_report_is_sent_or_the_form_emptied(qtbot, qgis_app, district_store, district,
                                                                          tmp_path):
    """The picked point's marker belongs to the form's draft: gone once the report is registered
    and when 清空 empties the form, so the map never shows a stale location."""
    import sqlite3
    from contextlib import closing

    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.domain.definitions import CaseState, Kind
    from app.services.actors import Actor
    from app.store.engine import open_store
    from app.ui.work.install import INTAKE_DOCK

    path = tmp_path / "district.sqlite"
    # a report is written: into a copy, not the shared store (copied through SQLite's backup, which
    # takes what is still in the shared store's write-ahead log too)
    with closing(sqlite3.connect(district_store.url.database)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    store = open_store(path)
    hall = build_hall(store, clock=FixedClock(datetime(2026, 11, 20, 10, 30)), plugins=False,
                      settings=QSettings(str(tmp_path / "hall.ini"), QSettings.IniFormat),
                      actor=Actor("acc", "受理员甲", "acceptor"))
    try:
        view = hall.map_view
        hall.window.resize(1200, 800)
        hall.window.show()
        qtbot.waitExposed(hall.window)
        view.zoom_full()  # the click maps through the canvas's extent; no need to wait for a render
        form = hall.window.dock_registry.widget(INTAKE_DOCK)
        assert _marks(view.canvas) and not any(m.isVisible() for m in _marks(view.canvas))

        def pick_here() -> None:
            form.pick_button.click()
            click(qtbot, view, *district.rel(140, 160))
            qtbot.waitUntil(lambda: form.where.property("grid_code") is not None, timeout=10000)
            assert any(m.isVisible() for m in _marks(view.canvas))

        pick_here()
        qtbot.mouseClick(form.clear_button, Qt.LeftButton)  # 清空: the draft and its marker go
        assert not any(m.isVisible() for m in _marks(view.canvas))

        pick_here()
        code = hall.core.taxonomy.in_major(Kind.EVENT, "06")[0].code
        form.category.set_value(f"event:{code}")
        form.description.setPlainText("路面有一处坑洼，车辆绕行")
        before = len(hall.core.cases.list_cases(states=list(CaseState), limit=1000))
        assert form.submit() is True
        qtbot.waitUntil(lambda: not form.submitter.busy, timeout=15000)
        assert form.banner.kind in ("info", "warn"), form.banner.text()
        assert len(hall.core.cases.list_cases(states=list(CaseState), limit=1000)) == before + 1
        assert not any(m.isVisible() for m in _marks(view.canvas))  # reported: the marker is gone
        assert form.where.property("grid_code") is None or form.where.text() == form.cat.tr("未定位")
    finally:
        hall.teardown()  # disposes the store too
