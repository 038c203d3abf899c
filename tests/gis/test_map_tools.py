"""Map tools over the known district: zoom/pan, extent history, measure, go-to, bookmarks,
decorations, pick marker, identify highlight, map context menu, print-layout export."""

from __future__ import annotations

import os
import subprocess

import pytest
from qgis.core import QgsPointXY, QgsRectangle
from qgis.PyQt.QtCore import QPoint, QSettings, Qt
from qgis.PyQt.QtGui import QImage

from app.domain.messages import MsgError
from app.gis.tools import navigation
from app.gis.tools.bookmarks import Bookmarks
from app.gis.tools.decorations import MapDecorations, nice_length
from app.gis.tools.goto import resolve, store_to_lonlat
from app.gis.tools.measure import MeasureTool, measure_area, measure_length
from app.gis.tools.print_layout import export_map, snapshot_map
from app.jobs import Feedback, Job, JobRunner, JobState

pytestmark = pytest.mark.qgis


def pixel(view, x, y) -> QPoint:
    p = view.canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    return QPoint(round(p.x()), round(p.y()))


def click(qtbot, view, x, y, button=Qt.LeftButton):
    qtbot.mouseClick(view.canvas.viewport(), button, pos=pixel(view, x, y))


def test_zoom_in_out_and_the_extent_history(view):
    history = navigation.ExtentHistory(view.canvas)
    full = view.canvas.extent()
    navigation.zoom_in(view.canvas)
    zoomed = view.canvas.extent()
    assert zoomed.width() == pytest.approx(full.width() / 2, rel=1e-3)
    navigation.zoom_out(view.canvas)
    navigation.zoom_out(view.canvas)
    assert view.canvas.extent().width() == pytest.approx(full.width() * 2, rel=1e-3)
    assert history.back() and view.canvas.extent().width() == pytest.approx(full.width(), rel=1e-3)
    assert history.back() and view.canvas.extent().width() == pytest.approx(zoomed.width(), rel=1e-3)
    assert history.forward() and view.canvas.extent().width() == pytest.approx(full.width(), rel=1e-3)
    navigation.zoom_in(view.canvas)  # a new extent drops the forward part
    assert not history.can_forward() and history.can_back()


def test_drag_tools_zoom_and_pan(qtbot, view, district):
    tools = navigation.make_tools(view.canvas)
    view.canvas.setMapTool(tools["zoom_in"])
    before = view.canvas.extent().width()
    click(qtbot, view, *district.rel(400, 300))
    assert view.canvas.extent().width() < before
    view.canvas.setMapTool(tools["pan"])
    centre = view.canvas.center()
    start = pixel(view, *district.rel(400, 300))
    vp = view.canvas.viewport()
    qtbot.mousePress(vp, Qt.LeftButton, pos=start)
    from qgis.PyQt.QtCore import QEvent
    from qgis.PyQt.QtGui import QMouseEvent
    from qgis.PyQt.QtWidgets import QApplication
    for step in range(1, 6):
        pos = start + QPoint(20 * step, 0)
        QApplication.sendEvent(vp, QMouseEvent(QEvent.MouseMove, pos, Qt.NoButton, Qt.LeftButton, Qt.NoModifier))
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=start + QPoint(100, 0))
    assert view.canvas.center().x() < centre.x() - 50 * view.canvas.mapUnitsPerPixel()


def test_measure_a_known_distance_and_area(qtbot, view, district):
    a, b = QgsPointXY(*district.rel(100, 100)), QgsPointXY(*district.rel(200, 100))
    assert measure_length([a, b]) == pytest.approx(100.0, abs=0.1)
    square = [QgsPointXY(*district.rel(x, y)) for x, y in ((100, 100), (200, 100), (200, 200), (100, 200))]
    assert measure_area(square) == pytest.approx(10_000.0, abs=0.5)
    tool = MeasureTool(view.canvas)
    view.canvas.setMapTool(tool)
    got = []
    tool.measured.connect(lambda value, text, final: got.append((value, text, final)))
    click(qtbot, view, *district.rel(100, 100))
    click(qtbot, view, *district.rel(200, 100))
    click(qtbot, view, *district.rel(200, 100), button=Qt.RightButton)
    value, text, final = got[-1]
    tolerance = 2 * view.canvas.mapUnitsPerPixel()  # clicks land on whole pixels
    assert final and value == pytest.approx(100.0, abs=tolerance) and text.endswith(" m")
    assert tool.band.numberOfVertices() >= 2
    area = MeasureTool(view.canvas, area=True)
    for p in square:
        area.add_point(p)
    assert area.finish() == pytest.approx(10_000.0, abs=0.5)


def test_go_to_a_grid_code_a_component_and_coordinates(view, map_layers, district):
    grid = next(map_layers.unit_grids.getFeatures())
    code = grid["code"]
    target = resolve(code, map_layers.unit_grids, map_layers.components)
    assert target.kind == "grid"
    assert target.rect.center().x() == pytest.approx(grid.geometry().boundingBox().center().x())
    component = next(map_layers.components.getFeatures())
    assert resolve(component["code"], map_layers.unit_grids, map_layers.components).kind == "component"
    x, y = district.rel(250, 350)
    assert resolve(f"{x}, {y}", None, None).point == QgsPointXY(x, y)
    lonlat = store_to_lonlat(x, y)
    back = resolve(f"{lonlat.x():.8f},{lonlat.y():.8f}", None, None)
    assert back.kind == "lonlat" and abs(back.point.x() - x) < 0.05 and abs(back.point.y() - y) < 0.05
    for bad in ("", "31,120", "nothing-here", "9999999999999999"):
        with pytest.raises(MsgError):
            resolve(bad, map_layers.unit_grids, map_layers.components)


def test_bookmarks_round_trip_per_user(tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    marks = Bookmarks(settings, "alice")
    marks.add("人民路口", QgsRectangle(1, 2, 3, 4))
    marks.add("second", QgsRectangle(5, 6, 7, 8))
    again = Bookmarks(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), "alice")
    assert again.names() == ["人民路口", "second"]
    assert again.get("人民路口").rect == QgsRectangle(1, 2, 3, 4)
    assert Bookmarks(settings, "bob").names() == []
    assert again.remove("second") and again.names() == ["人民路口"]
    with pytest.raises(MsgError):
        again.add("  ", QgsRectangle(1, 2, 3, 4))


def test_scale_bar_and_north_arrow_are_drawn(qtbot, view):
    decorations = MapDecorations(view.canvas)
    metres, px = decorations.scale_bar()
    assert metres == nice_length(metres) and 40 <= px <= 200
    assert metres == pytest.approx(px * view.canvas.mapUnitsPerPixel(), rel=1e-6)
    image = QImage(view.canvas.viewport().size(), QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    from qgis.PyQt.QtGui import QPainter
    painter = QPainter(image)
    decorations.paint(painter)
    painter.end()
    w, h = image.width(), image.height()
    def inked(x0, y0, x1, y1):
        return any(image.pixelColor(x, y).alpha() > 0 for x in range(x0, x1, 2) for y in range(y0, y1, 2))
    assert inked(0, h - 80, 250, h)          # scale bar, bottom left
    assert inked(w - 80, 0, w, 100)          # north arrow, top right
    assert not inked(w // 2 - 40, h // 2 - 40, w // 2 + 40, h // 2 + 40)


def test_export_png_and_pdf_as_a_job(view, tmp_path):
    snapshot = snapshot_map(view.project, view.canvas, "测试地图", "2026-12-07 10:00", "图例")
    runner = JobRunner(max_workers=1, name="test-export")
    try:
        jobs = [Job("png", lambda fb: export_map(snapshot, tmp_path / "map.png", fb)),
                Job("pdf", lambda fb: export_map(snapshot, tmp_path / "map.pdf", fb))]
        for job in jobs:
            runner.submit(job)
        for job in jobs:
            assert job.wait(120)
            assert job.state is JobState.DONE, job.error
    finally:
        runner.shutdown(timeout=10)
    png = QImage(str(tmp_path / "map.png"))
    assert png.width() > 1000 and png.height() > 700
    assert (tmp_path / "map.pdf").stat().st_size > 1000
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(tmp_path / "map.pdf"),
                    str(tmp_path / "page")], check=True)
    page = QImage(str(tmp_path / "page.png"))
    w, h = page.width(), page.height()
    def dark(x0, y0, x1, y1):
        return sum(1 for x in range(x0, x1, 2) for y in range(y0, y1, 2) if page.pixelColor(x, y).lightness() < 160)
    assert dark(int(w * 0.03), int(h * 0.02), int(w * 0.5), int(h * 0.08)) > 10    # the title
    assert dark(int(w * 0.78), int(h * 0.1), int(w * 0.97), int(h * 0.6)) > 20     # the legend


def test_export_refuses_an_unknown_format_and_an_unwritable_place(view, tmp_path):
    snapshot = snapshot_map(view.project, view.canvas, "t", "", "")
    with pytest.raises(MsgError):
        export_map(snapshot, tmp_path / "map.tif", Feedback())
    assert not (tmp_path / "map.tif").exists()
    with pytest.raises(MsgError, match="无法写入文件"):
        export_map(snapshot, tmp_path / "missing" / "map.pdf", Feedback())
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o500)
    try:
        if not os.access(tmp_path / "ro", os.W_OK):  # root writes anywhere
            with pytest.raises(MsgError, match="无法写入文件"):
                export_map(snapshot, tmp_path / "ro" / "map.png", Feedback())
    finally:
        (tmp_path / "ro").chmod(0o700)


def test_pick_shows_a_crosshair_and_a_marker_at_the_picked_point(qtbot, view, district):
    from app.gis.pick_tool import MapPicker

    picker = MapPicker(view.canvas, view.layers.components)
    picker.pick(lambda *args: None)
    assert view.canvas.cursor().shape() == Qt.CrossCursor  # the armed tool sets it
    assert not any(m.isVisible() for m in picker.markers)
    x, y = district.rel(140, 160)
    click(qtbot, view, x, y)
    tolerance = view.canvas.mapUnitsPerPixel() * 1.5
    assert abs(picker.marker_point.x() - x) <= tolerance and abs(picker.marker_point.y() - y) <= tolerance
    assert all(m.isVisible() for m in picker.markers)
    picker.clear_marker()
    assert not any(m.isVisible() for m in picker.markers)


def test_identify_highlights_the_feature(qtbot, view, district):
    got = []
    view.identified.connect(lambda kind, attrs: got.append((kind, attrs)))
    x, y = district.rel(140, 160)  # inside a grid, away from everything else
    click(qtbot, view, x, y)
    assert got and got[-1][0] == "grid"
    highlight = view.feature_highlight
    assert highlight is not None and highlight.isVisible()
    assert highlight in view.canvas.scene().items()
    click(qtbot, view, *district.rel(*district.components["02"]))  # another hit replaces it
    assert view.feature_highlight is not highlight
    view.clear_feature_highlight()
    assert view.feature_highlight is None


def test_map_context_menu_acts_on_the_clicked_point(view, district):
    got = []
    view.context_entries = [("识别此处", lambda x, y: got.append(("identify", x, y))), None,
                            ("缩放至此", lambda x, y: got.append(("zoom", x, y)))]
    x, y = district.rel(300, 200)
    menu = view.context_menu(x, y)
    titles = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert titles == ["识别此处", "缩放至此"]
    menu.actions()[2].trigger()
    assert got == [("zoom", x, y)]
    assert view.tool.flags() & 16  # QgsMapTool.ShowContextMenu: the canvas asks for the menu


def test_a_right_click_on_the_canvas_opens_the_menu(qtbot, view, district):
    from qgis.PyQt.QtCore import QTimer
    from qgis.PyQt.QtWidgets import QApplication

    got, shown = [], []
    view.context_entries = [("缩放至此", lambda x, y: got.append((x, y)))]
    view.canvas.contextMenuAboutToShow.connect(
        lambda menu, event: shown.append([a.text() for a in menu.actions()]))

    def close_popup():
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        else:
            QTimer.singleShot(20, close_popup)

    QTimer.singleShot(20, close_popup)
    # QgsMapCanvas shows the menu on a right-button release when the tool asks for it
    qtbot.mouseClick(view.canvas.viewport(), Qt.RightButton, pos=pixel(view, *district.rel(300, 200)))
    assert shown == [["缩放至此"]]
