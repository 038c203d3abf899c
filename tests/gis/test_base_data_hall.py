"""Base data in and out in the real window (issue 15, item 3): the administrator's 文件 menu has 导入基础数据…
and 导出数据…, a dispatcher's only 导出数据…; the export dialog opened from the menu exports the cases the
queue shows as a job, and the teardown removes the actions."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from qgis.PyQt.QtCore import QSettings

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 12, 7, 10, 30)


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("basedata") / "tiny.sqlite"
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
    hall.window.show()
    qtbot.waitExposed(hall.window)
    return hall


def test_the_administrator_imports_and_exports(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.ui.base_data import EXPORT_ACTION, IMPORT_ACTION, ImportDialog

    hall = _hall(qtbot, tiny_city, tmp_path, Role.ADMIN)
    try:
        registry = hall.window.action_registry
        assert {IMPORT_ACTION, EXPORT_ACTION} <= set(registry.ids())
        registry.action(IMPORT_ACTION).trigger()
        assert hall.window.findChild(ImportDialog).isVisible()
        qtbot.wait(1500)  # the statistics dock's first run is queued at start: let it go before the teardown
    finally:
        hall.runner.wait()
        hall.teardown()
    assert IMPORT_ACTION not in registry.ids()


def test_a_dispatcher_exports_the_queue_as_a_job_but_does_not_import(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.ui.base_data import EXPORT_ACTION, IMPORT_ACTION, ExportDialog

    hall = _hall(qtbot, tiny_city, tmp_path, Role.DISPATCHER)
    try:
        registry = hall.window.action_registry
        assert EXPORT_ACTION in registry.ids() and IMPORT_ACTION not in registry.ids()
        hall.controller.start()
        qtbot.waitUntil(lambda: len(hall.state.visible_ids) > 0, timeout=20000)
        registry.action(EXPORT_ACTION).trigger()
        dialog = hall.window.findChild(ExportDialog)
        assert dialog is not None and dialog.isVisible()
        dialog.kind.setCurrentIndex(dialog.kind.findData("cases"))
        dialog.scope.setCurrentIndex(dialog.scope.findData("queue"))
        dialog.format.setCurrentIndex(dialog.format.findData("gpkg"))
        dialog.path.setText(str(tmp_path / "queue.gpkg"))
        dialog.export()
        qtbot.waitUntil(lambda: dialog.exported is not None, timeout=30000)
        assert dialog.exported == len(hall.state.visible_ids)
    finally:
        hall.runner.wait()
        hall.teardown()
