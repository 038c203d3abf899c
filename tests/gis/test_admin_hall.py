"""The administrator's workspace in the window (issue 12): the administrator's desk has it (系统管理, in the
right area by desk_admin.toml, reading the store's calendar year); a dispatcher's desk does not."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from qgis.PyQt.QtCore import QSettings, Qt

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 12, 7, 10, 30)


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("admin") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
    return path


def _hall(qtbot, tiny_city, tmp_path, role):
    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.services.actors import Actor
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    hall = build_hall(open_store(path), clock=FixedClock(T0), plugins=False, live=False,
                      actor=Actor("u1", "用户甲", role),
                      settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    hall.window.resize(1600, 1000)
    hall.window.show()
    qtbot.waitExposed(hall.window)
    return hall


def test_the_administrator_gets_the_workspace_on_the_right(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.ui.admin.workspace import ADMIN_DOCK

    hall = _hall(qtbot, tiny_city, tmp_path, Role.ADMIN)
    try:
        registry = hall.window.dock_registry
        assert ADMIN_DOCK in registry.ids()
        dock = registry.dock(ADMIN_DOCK)
        assert not dock.isFloating() and dock.isVisible()
        assert hall.window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
        workspace = dock.widget()
        page = workspace.show_page("calendar")
        qtbot.waitUntil(lambda: page.view is not None, timeout=20000)
        assert page.view.year == 2027 and page.days.rowCount() > 0
    finally:
        hall.runner.wait()
        hall.teardown()


def test_a_dispatcher_has_no_administrators_workspace(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.ui.admin.workspace import ADMIN_DOCK

    hall = _hall(qtbot, tiny_city, tmp_path, Role.DISPATCHER)
    try:
        assert ADMIN_DOCK not in hall.window.dock_registry.ids()
    finally:
        hall.runner.wait()
        hall.teardown()


@pytest.mark.parametrize("role", ["ADMIN", "ANALYST"])
def test_the_window_fits_a_1920_pixel_screen(qtbot, qgis_app, tiny_city, tmp_path, role):
    """Every dock of the administrator's and the analyst's desk can be narrowed enough that the
    window fits 1920 px: the 基础数据 page's buttons in one row and the statistics dock's one bar
    once made the window need 1,954 px, its right edge off the screen."""
    from app.domain.definitions import Role

    hall = _hall(qtbot, tiny_city, tmp_path, Role[role])
    try:
        assert hall.window.minimumSizeHint().width() <= 1920
    finally:
        hall.runner.wait()
        hall.teardown()
