"""Issue 12 in the running window: a configuration change saved by another workstation reaches this
desk without a restart (the alert banner takes the stored alert rules, the calendar warning follows
the calendar), and the administrator draws a department's jurisdiction on the map through the
workspace (preview, reason, saved). Waits are bounded; nothing is timed."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from qgis.core import QgsPointXY
from qgis.PyQt.QtCore import QPoint, QSettings, Qt

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 12, 7, 10, 30)
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("adminlive") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
    return path


def _hall(qtbot, tiny_city, tmp_path, role, *, live):
    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.services.actors import Actor
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    if not path.exists():
        shutil.copyfile(tiny_city, path)
    hall = build_hall(open_store(path), clock=FixedClock(T0), plugins=False, live=live,
                      actor=Actor("u1", "用户甲", role),
                      settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    hall.window.resize(1600, 1000)
    hall.window.show()
    qtbot.waitExposed(hall.window)
    return hall, path


def test_a_saved_alert_rule_reaches_a_running_desk(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.services.actors import Actor
    from app.services.config import ConfigService
    from app.store.engine import open_store
    from app.ui.work.install import ALERTS_DOCK

    hall, path = _hall(qtbot, tiny_city, tmp_path, Role.ACCEPTOR, live=True)
    other = open_store(path)  # another workstation
    try:
        banner = hall.window.dock_registry.widget(ALERTS_DOCK)
        qtbot.waitUntil(lambda: hall.config_watch.last is not None, timeout=WAIT_MS)
        assert banner.rules.kinds != frozenset({"red"})
        ConfigService(other, FixedClock(T0)).set_setting(
            Actor("boss", "管理员", Role.ADMIN), "alerts",
            {"roles": {"acceptor": {"kinds": ["red"], "interval_s": 5}}}, reason="受理员只看红灯")
        qtbot.waitUntil(lambda: banner.rules.kinds == frozenset({"red"}), timeout=WAIT_MS)
        assert banner.rules.interval_s == 5
        assert not hall.config_watch.last.first
        # a category switched off elsewhere is no longer offered at intake
        from qtpy.QtWidgets import QWidget

        pickers = hall.window.findChildren(QWidget, "categoryPicker")
        assert pickers and pickers[0].search("06010")
        ConfigService(other, FixedClock(T0)).set_category(Actor("boss", "管理员", Role.ADMIN), "event", "06010",
                                                          enabled=False, reason="本市不用")
        qtbot.waitUntil(lambda: "event:06010" in pickers[0].hidden, timeout=WAIT_MS)
        assert all(c.code != "06010" for c in pickers[0].search("06010"))
    finally:
        other.dispose()
        hall.runner.wait()
        hall.teardown()


def test_the_administrator_draws_a_jurisdiction_on_the_map(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.services.config import ConfigService
    from app.ui.admin.workspace import ADMIN_DOCK

    hall, _path = _hall(qtbot, tiny_city, tmp_path, Role.ADMIN, live=False)
    try:
        workspace = hall.window.dock_registry.widget(ADMIN_DOCK)
        page = workspace.show_page("departments")
        qtbot.waitUntil(lambda: bool(page.records) and not page.busy, timeout=WAIT_MS)
        assert page.draw_button.isEnabled()
        code = page.records[0]["code"]
        assert page.select(page.key_of(page.records[0]))
        page.draw_button.click()
        canvas = hall.map_view.canvas
        extent = canvas.extent()
        cx, cy, w = extent.center().x(), extent.center().y(), extent.width() / 8
        for x, y in ((cx - w, cy - w), (cx + w, cy - w), (cx + w, cy + w), (cx - w, cy + w)):
            p = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
            qtbot.mouseClick(canvas.viewport(), Qt.LeftButton, pos=QPoint(round(p.x()), round(p.y())))
        qtbot.mouseClick(canvas.viewport(), Qt.RightButton, pos=QPoint(5, 5))
        qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible(), timeout=WAIT_MS)
        page.dialog.reason_edit.setText("按街道办通知划定")
        page.dialog.ok_button.click()
        qtbot.waitUntil(lambda: "已保存" in page.status.full_text() or page.status.property("error"), timeout=WAIT_MS)
        assert "已保存" in page.status.full_text(), page.status.full_text()
        qtbot.waitUntil(lambda: page.drawn_state.text() == "已划定" and not page.busy, timeout=WAIT_MS)
        drawn = ConfigService(hall.store).state().departments[code]["jurisdiction"]
        assert drawn and drawn.startswith("MULTIPOLYGON")
    finally:
        hall.runner.wait()
        hall.teardown()
