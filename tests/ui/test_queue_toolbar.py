"""The queue's filter bar keeps a usable search box (≥ 240 px at 1080p, issue 10 item 3: the
acceptor's narrow queue wraps its filters into two rows instead of squeezing the box to "…"),
and the queue's light dots are drawn at the screen's pixel ratio (crisp at the 4K UI scale)."""

from __future__ import annotations

import pytest
from qtpy.QtCore import QRect, QSettings, Qt
from qtpy.QtGui import QImage, QPainter
from qtpy.QtWidgets import QApplication, QLabel

from app.domain.definitions import Light, Role
from app.i18n import Catalogue
from app.ui.builtin import QUEUE_DOCK, builtin_docks, register_builtin_docks
from app.ui.layouts import WindowLayouts
from app.ui.main_window import MainWindow
from app.ui.queue_dock import CaseQueueDock
from app.views.layouts import builtin_layout
from app.views.queue_state import QueueState
from ui.forms.world import desk, desk_store, desk_template, login_as, queue  # noqa: F401  (fixtures)
from ui.test_shift_layout import FHD, themed  # noqa: F401  (fixture)

pytestmark = pytest.mark.neutral

FILTERS = ("state_combo", "search", "department_combo", "grid_edit", "clear_button", "search_all_button")


def _fully_shown(widget) -> bool:
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


@pytest.mark.parametrize(("role", "wrapped"), [(Role.ACCEPTOR, True), (Role.DISPATCHER, False)])
def test_the_search_box_keeps_its_width_on_the_real_desk_at_1080p(qtbot, tmp_path, themed, login_as, queue,  # noqa: F811
                                                                  runner, desk, role, wrapped):  # noqa: F811
    from app.ui.work.install import install_work

    window = MainWindow(QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat), capabilities=("cases", "map"))
    qtbot.addWidget(window)
    register_builtin_docks(window.dock_registry, builtin_docks(queue, desk.cases, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    actor = login_as(role)
    teardown = install_work(window, queue, runner, desk, actor)
    dock = window.dock_registry.widget(QUEUE_DOCK)
    dock.search_all = lambda text, explicit, report: None  # as the window wires it: the button shows
    dock.search_all_button.setVisible(True)
    layout, problems = builtin_layout("desk", actor.role.value)
    assert problems == []
    window.menuBar().addMenu("地图")
    window.addToolBar("地图工具").addWidget(QLabel("定位：网格/部件编码"))
    layouts = WindowLayouts(window, window.dock_registry, layout, window.settings, user=actor.username,
                            screen=lambda: FHD)
    try:
        layouts.apply(sizes=False)
        window.resize(1920, 1080 - 40)
        window.show()
        qtbot.waitExposed(window)
        layouts.start(restore=True)
        window.dock_registry.dock(QUEUE_DOCK).raise_()
        QApplication.processEvents()
        assert dock.search.width() >= 240, f"the search box is {dock.search.width()} px in a {dock.width()} px queue"
        assert dock.filters_wrapped is wrapped
        for name in FILTERS:
            assert _fully_shown(getattr(dock, name)), f"{name} is cut"
        # the placeholder fits: not elided to "…"
        text = dock.search.placeholderText()
        assert dock.search.fontMetrics().horizontalAdvance(text) < dock.search.width() - 30
    finally:
        layouts.close()
        runner.wait()
        teardown()
        window.dock_registry.unregister_all()


def test_the_filters_wrap_when_narrow_and_join_again_when_wide(qtbot, calendar):
    dock = CaseQueueDock(QueueState(calendar), Catalogue())
    qtbot.addWidget(dock)
    dock.search_all_button.setVisible(True)
    dock.resize(1500, 500)
    dock.show()
    qtbot.waitExposed(dock)
    assert not dock.filters_wrapped and dock.search.width() >= 240
    assert dock.minimumSizeHint().width() < 1000  # a dock in one row can still be narrowed …
    dock.resize(650, 500)
    QApplication.processEvents()
    assert dock.filters_wrapped and dock.search.width() >= 240  # … and then wraps
    for name in FILTERS:
        assert _fully_shown(getattr(dock, name)), f"{name} is cut"
    dock.resize(1500, 500)
    QApplication.processEvents()
    assert not dock.filters_wrapped
    assert dock.search_min_width() >= 240


def _blocky(image: QImage) -> bool:
    """Whether every 2×2 block of device pixels is one colour (a 1× image scaled up 2×)."""
    for y in range(0, image.height() - 1, 2):
        for x in range(0, image.width() - 1, 2):
            block = {image.pixel(x + dx, y + dy) for dx in (0, 1) for dy in (0, 1)}
            if len(block) > 1:
                return False
    return True


@pytest.mark.parametrize("ratio", [2.0, 1.5])
def test_the_light_dots_are_drawn_at_the_pixel_ratio(qtbot, queue, ratio):  # noqa: F811
    """At the 4K UI scale (pixel ratio 2) the dot is painted at device resolution, not a 14-pixel
    image blown up into 2×2 blocks; same at 1.5."""
    from app.ui.queue_model import CaseQueueModel

    model = CaseQueueModel(queue, Catalogue())
    icon = model._icon(Light.RED)
    size = 16
    image = QImage(round(size * ratio), round(size * ratio), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    icon.paint(painter, QRect(0, 0, size, size))  # as the view's delegate paints a decoration
    painter.end()
    if ratio == 2.0:
        assert not _blocky(image)
    # a round, red dot with a light rim, filling the cell: red in the middle, clear in the corners
    middle = image.pixelColor(image.width() // 2, image.height() // 2)
    assert middle.red() > 150 and middle.green() < 90 and middle.alpha() == 255
    assert image.pixelColor(0, 0).alpha() == 0
    partial = sum(1 for y in range(image.height()) for x in range(image.width())
                  if 0 < image.pixelColor(x, y).alpha() < 255)
    assert partial >= 2 * size  # antialiased at device resolution all round
    # a pixmap asked of the icon has the device pixels too
    pix = icon.pixmap(14, 14)
    assert pix.width() >= 14
    model.teardown()


@pytest.mark.parametrize("level", [1, 3])
def test_the_urge_ring_is_drawn_at_the_pixel_ratio_too(qtbot, queue, level):  # noqa: F811
    from app.ui.queue_model import URGE_COLOUR, CaseQueueModel

    model = CaseQueueModel(queue, Catalogue())
    image = QImage(32, 32, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(2.0)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    model._urge_icon(level).paint(painter, QRect(0, 0, 16, 16))
    painter.end()
    assert not _blocky(image)
    assert image.pixelColor(16, 16).alpha() == 0  # a ring: clear in the middle
    ring = [image.pixelColor(x, 16) for x in range(16) if image.pixelColor(x, 16).alpha() == 255]
    assert ring and ring[0].name() == URGE_COLOUR
    thick = len(ring)  # a higher level draws a thicker ring
    assert thick >= 2 * level
    model.teardown()
