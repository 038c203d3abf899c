"""The map tools in the window: toolbar and 地图 menu, shortcuts without clashes, identify raising a
panel with translated values, the map and queue right-click menus, export as a job."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from qgis.core import QgsPointXY
from qgis.PyQt.QtCore import QPoint, QSettings

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 11, 20, 10, 30)


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("maphall") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
    return path


def _hall(qtbot, tiny_city, tmp_path, role, lang="zh_CN"):
    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.services.actors import Actor
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    store = open_store(path)
    department = None
    if role is Role.DEPARTMENT:  # a department operator sees its own department's cases only
        with store.engine.connect() as conn:
            department = conn.exec_driver_sql("SELECT department_id FROM cases WHERE department_id IS NOT NULL "
                                              "AND closed_at IS NULL LIMIT 1").scalar()
    hall = build_hall(store, clock=FixedClock(T0), plugins=False, live=False, lang=lang,
                      actor=Actor("u1", "用户甲", role, department_id=department),
                      settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    hall.window.resize(1600, 1000)
    hall.window.show()
    qtbot.waitExposed(hall.window)
    hall.controller.start()
    qtbot.waitUntil(lambda: len(hall.state.rows) > 0, timeout=20000)
    return hall


@pytest.fixture
def hall(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role

    built = _hall(qtbot, tiny_city, tmp_path, Role.DISPATCHER)
    yield built
    built.teardown()


def test_toolbar_and_menu_hold_the_map_tools_and_no_shortcut_clashes(hall):
    window = hall.window
    toolbar = window.findChild(type(hall.map_tools_ui.toolbar), "mapToolbar")
    assert toolbar is not None and toolbar.isVisible()
    ids = {a.objectName() for a in toolbar.actions()}
    assert {"gridhall.map.browse", "gridhall.map.pan", "gridhall.map.zoom_in", "gridhall.map.zoom_out",
            "gridhall.map.zoom_full", "gridhall.map.extent_back", "gridhall.map.extent_forward",
            "gridhall.map.measure_distance", "gridhall.map.measure_area", "gridhall.map.export"} <= ids
    menu = window.action_registry.menu("map")
    assert len([a for a in menu.actions() if not a.isSeparator()]) >= 14
    shortcuts = {}
    for action in window.actions():
        key = action.shortcut().toString()
        if key:
            assert key not in shortcuts, f"{key}: {shortcuts[key]} and {action.objectName()}"
            shortcuts[key] = action.objectName()
    assert window.action_registry.action("gridhall.map.browse").isChecked()


def test_tool_actions_switch_the_canvas_tool_and_follow_it(hall):
    tools, registry = hall.map_tools, hall.window.action_registry
    registry.action("gridhall.map.measure_distance").trigger()
    assert tools.active_tool() == "measure_distance"
    measure = tools.tools["measure_distance"]
    measure.add_point(QgsPointXY(500000, 3460000))
    measure.add_point(QgsPointXY(500100, 3460000))
    measure.finish()
    assert hall.map_tools_ui.measure_label.text() == "测量：100.0 m"
    hall.map_view.canvas.setMapTool(hall.map_view.tool)  # e.g. a pick ended: the toolbar follows
    assert registry.action("gridhall.map.browse").isChecked()
    width = hall.map_view.canvas.extent().width()
    registry.action("gridhall.map.zoom_in").trigger()
    assert hall.map_view.canvas.extent().width() == pytest.approx(width / 2, rel=1e-3)
    registry.action("gridhall.map.extent_back").trigger()
    assert hall.map_view.canvas.extent().width() == pytest.approx(width, rel=1e-3)
    registry.action("gridhall.map.extent_forward").trigger()
    assert hall.map_view.canvas.extent().width() == pytest.approx(width / 2, rel=1e-3)


def test_go_to_a_real_grid_code_centres_on_it(hall):
    grids = hall.map_view.layers.unit_grids
    feature = next(grids.getFeatures())
    ui = hall.map_tools_ui
    ui.focus_goto()
    ui.goto_edit.setText(feature["code"])
    ui.goto_edit.returnPressed.emit()
    centre = hall.map_view.canvas.center()
    box = feature.geometry().boundingBox()
    assert abs(centre.x() - box.center().x()) < 1 and abs(centre.y() - box.center().y()) < 1
    assert hall.map_view.canvas.extent().contains(box)
    assert not ui.goto("不存在的地方")
    assert "无法识别" in hall.window.statusBar().currentMessage()


def test_bookmarks_from_the_toolbar_round_trip(hall):
    ui, canvas = hall.map_tools_ui, hall.map_view.canvas
    hall.map_tools.zoom_in()
    saved = canvas.extent()
    assert ui.add_bookmark("东片")
    hall.map_view.zoom_full()
    ui._fill_bookmark_menu()
    entry = next(a for a in ui.bookmark_menu.actions() if a.text() == "东片")
    entry.trigger()
    assert canvas.extent().width() == pytest.approx(saved.width(), rel=1e-3)
    dialog = ui.show_bookmarks()
    assert dialog.list.count() == 1
    dialog.delete_selected()
    assert hall.map_tools.bookmarks.names() == []
    dialog.close()


def test_identify_raises_the_panel_with_translated_values_and_highlights(qtbot, hall):
    from app.bootstrap import ATTRIBUTES_DOCK

    registry = hall.window.dock_registry
    layers = hall.map_view.layers
    component = next(layers.components.getFeatures())
    point = component.geometry().asPoint()
    hall.map_view.zoom_to_case(point.x(), point.y(), scale=1000, flash=False, highlight=False)
    assert hall.map_view.wait_rendered(20000)
    found = hall.map_tools.identify_at(point.x(), point.y())
    assert found is not None and found[0] in ("component", "case")
    dock = registry.dock(ATTRIBUTES_DOCK)
    assert not dock.visibleRegion().isEmpty()  # raised in front of its tab group
    rows = dict(registry.widget(ATTRIBUTES_DOCK).rows())
    if found[0] == "component":
        assert rows["类别"][:5].isdigit() and len(rows["类别"]) > 6  # "06001 name", not an id
        assert rows["状态"] in ("完好", "破损", "丢失", "占用", "废弃") or not rows["状态"].isascii()
        assert "category_id" not in rows
    assert hall.map_view.feature_highlight is not None and hall.map_view.feature_highlight.isVisible()


def test_identify_a_case_shows_its_state_label_and_category(qtbot, hall):
    from app.bootstrap import ATTRIBUTES_DOCK

    row = next(iter(hall.state.rows))
    hall.map_view.zoom_to_case(row.x, row.y, scale=1000, flash=False, highlight=False)
    assert hall.map_view.wait_rendered(20000)
    found = hall.map_tools.identify_at(row.x, row.y)
    assert found is not None and found[0] == "case"
    rows = dict(hall.window.dock_registry.widget(ATTRIBUTES_DOCK).rows())
    assert rows["状态"] == hall.window.cat.label(hall.state.summary(int(found[1]["case_id"])).state)
    assert rows["类别"].split()[0].isdigit() and len(rows["类别"].split(maxsplit=1)) == 2


def test_map_context_menu_has_the_expected_entries(hall, qapp):
    view = hall.map_view
    centre = view.canvas.center()
    menu = view.context_menu(centre.x(), centre.y())
    titles = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert titles[:2] == ["识别此处", "复制坐标"] and titles[-1] == "缩放至此"
    next(a for a in menu.actions() if a.text() == "复制坐标").trigger()
    assert qapp.clipboard().text().startswith(f"{centre.x():.2f}, {centre.y():.2f} (EPSG:4549)")
    width = view.canvas.extent().width()
    next(a for a in menu.actions() if a.text() == "缩放至此").trigger()
    assert view.canvas.extent().width() == pytest.approx(width / 2, rel=1e-3)


def test_new_case_here_fills_the_intake_form(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.ui.work.install import INTAKE_DOCK

    hall = _hall(qtbot, tiny_city, tmp_path, Role.ACCEPTOR)
    try:
        grid = next(hall.map_view.layers.unit_grids.getFeatures())
        c = grid.geometry().centroid().asPoint()
        menu = hall.map_view.context_menu(c.x(), c.y())
        next(a for a in menu.actions() if a.text() == "在此新建上报").trigger()
        form = hall.window.dock_registry.widget(INTAKE_DOCK)
        qtbot.waitUntil(lambda: form.where.property("grid_code") is not None, timeout=10000)
        assert form.where.property("grid_code") == grid["code"]
    finally:
        hall.teardown()


def test_queue_row_menu_acts_on_the_row_under_the_cursor(qtbot, hall, qapp):
    from app.ui.builtin import QUEUE_DOCK

    queue = hall.window.dock_registry.widget(QUEUE_DOCK)
    table = queue.table
    qtbot.waitUntil(lambda: queue.model.rowCount() > 3, timeout=10000)
    table.selectRow(0)
    rect = table.visualRect(queue.model.index(2, 1))
    menu = queue.context_menu(rect.center())
    case_id = queue.model.case_id_at(2)
    assert hall.state.selected_id == case_id  # the row under the cursor became the current case
    names = [a.objectName() for a in menu.actions() if not a.isSeparator()]
    assert {"locateCase", "showHistory", "copyCaseNumber"} <= set(names)
    command_ids = {c.id for c in hall.window.command_registry}
    acts = [a for a in menu.actions() if a.objectName() in command_ids]
    assert acts and all(a is hall.window.action_registry.action(a.objectName()) for a in acts)  # the window's
    next(a for a in menu.actions() if a.objectName() == "copyCaseNumber").trigger()
    assert qapp.clipboard().text() == hall.state.summary(case_id).number
    hall.map_view.canvas.zoomScale(50000)
    next(a for a in menu.actions() if a.objectName() == "locateCase").trigger()
    row = hall.state.summary(case_id)
    assert hall.map_view.canvas.extent().contains(QgsPointXY(row.x, row.y))
    assert hall.map_view.scale() < 10000
    next(a for a in menu.actions() if a.objectName() == "showHistory").trigger()
    from app.ui.builtin import DETAIL_DOCK
    assert not hall.window.dock_registry.dock(DETAIL_DOCK).visibleRegion().isEmpty()
    assert queue.context_menu(QPoint(5, -40)) is None  # off the rows: no menu


def test_export_runs_as_a_job_and_writes_the_file(qtbot, hall, tmp_path):
    path = tmp_path / "desk.pdf"
    job = hall.map_tools_ui.start_export(str(path))
    assert job is not None
    assert hall.map_tools_ui.start_export(str(tmp_path / "again.png")) is None  # one at a time
    qtbot.waitUntil(lambda: job.finished, timeout=120000)
    assert job.error is None and path.stat().st_size > 1000
    qtbot.waitUntil(lambda: "地图已导出" in hall.window.statusBar().currentMessage(), timeout=5000)


@pytest.mark.parametrize("role", ["acceptor", "shift_leader", "department", "leader"])
def test_no_shortcut_clashes_for_other_roles(qtbot, qgis_app, tiny_city, tmp_path, role):
    from app.domain.definitions import Role

    built = _hall(qtbot, tiny_city, tmp_path, Role(role))
    try:
        seen = {}
        for action in built.window.actions():
            key = action.shortcut().toString()
            if key:
                assert key not in seen, f"{key}: {seen[key]} and {action.objectName()}"
                seen[key] = action.objectName()
        assert "gridhall.map.measure_distance" in seen.values()
    finally:
        built.teardown()
