"""The import and export dialogs with qtbot over the real services on SpatiaLite and real files: the
preview shows the first rows and the proposed mapping, a changed mapping is what the validation reads,
the report is shown before anything is written, the write runs as a job, a cancelled write leaves the
store as it was; the export writes the kind chosen, and cases by the queue's rows or the archive's
query; the two menu actions are registered as data and removed again."""

from __future__ import annotations

from pathlib import Path

import pytest
from qtpy.QtWidgets import QMainWindow
from services.test_base_import import P6, component, components, count, point, write_layer
from services.world import build_world

from app.i18n import Catalogue
from app.jobs import JobRunner
from app.services import base_import as bi
from app.store.models import Component
from app.ui.base_data import EXPORT_ACTION, IMPORT_ACTION, BaseDataPort, ExportDialog, ImportDialog, install
from app.ui.jobs import JobEvents

pytestmark = pytest.mark.neutral


@pytest.fixture
def backend() -> str:
    return "spatialite"


@pytest.fixture
def world(store):
    return store, build_world(store)


@pytest.fixture
def jobs(qtbot):
    runner = JobRunner(max_workers=1, name="test-base-data")
    events = JobEvents(runner)
    yield runner, events
    events.close()
    runner.shutdown(timeout=10)


def dialog(qtbot, world, jobs, cls=ImportDialog, **kw):
    store, w = world
    d = cls(BaseDataPort(store, w.actors["admin"]), *jobs, Catalogue(), **kw)
    qtbot.addWidget(d)
    return d


def wait_job(qtbot, d):
    qtbot.waitUntil(lambda: d.panel.job is None, timeout=30_000)


def test_preview_mapping_report_then_write(qtbot, world, jobs, tmp_path):
    store, _ = world
    path = write_layer(tmp_path / "c.gpkg", [{**component("32059901002000002"), "备注列": "新装"},
                                             component("32059901002000003")], [point(P6)] * 2)
    d = dialog(qtbot, world, jobs)
    d.kind.setCurrentIndex(d.kind.findData("components"))
    d.path.setText(str(path))
    assert d.preview()
    assert d.rows.rowCount() == 2 and d.rows.horizontalHeaderItem(0).text() == "GLBJBSM"
    assert d.findChild(type(d.kind), "map_code").currentText() == "GLBJBSM"
    assert d.findChild(type(d.kind), "map_note").currentText() == ""
    d.set_column("note", "备注列")  # the user's mapping is what the validation reads
    assert d.overrides()["note"] == "备注列"
    assert not d.write_button.isEnabled()
    d.validate()
    wait_job(qtbot, d)
    assert d.last_report is not None and d.last_report.ok
    assert "合格 2 条" in d.report.toPlainText()
    assert count(store, Component) == 1  # the report came first: nothing written yet
    assert d.write_button.isEnabled()
    d.write()
    wait_job(qtbot, d)
    assert d.written == 2 and count(store, Component) == 3
    assert components(store)["32059901002000002"][12] == "新装"


def test_problems_abort_keeps_write_disabled_skip_writes_good_rows(qtbot, world, jobs, tmp_path):
    store, _ = world
    path = write_layer(tmp_path / "c.geojson", [component("32059901002000002"), component("12345")],
                       [point(P6)] * 2)
    d = dialog(qtbot, world, jobs)
    d.kind.setCurrentIndex(d.kind.findData("components"))
    d.path.setText(str(path))
    assert d.preview()
    d.validate()
    wait_job(qtbot, d)
    assert "有问题 1 条" in d.report.toPlainText() and not d.write_button.isEnabled()
    d.on_error.setCurrentIndex(d.on_error.findData("skip"))
    d.validate()
    wait_job(qtbot, d)
    assert d.write_button.isEnabled()
    d.write()
    wait_job(qtbot, d)
    assert d.written == 1 and count(store, Component) == 2
    assert Path(tmp_path / "c_rejects.geojson").exists()


def test_cancelled_write_leaves_the_store_as_before(qtbot, world, jobs, tmp_path):
    store, _ = world
    n = 3000
    path = write_layer(tmp_path / "big.gpkg", [component(f"320599010020{i:05d}") for i in range(2, n + 2)],
                       [point(P6)] * n)
    d = dialog(qtbot, world, jobs)
    d.kind.setCurrentIndex(d.kind.findData("components"))
    d.path.setText(str(path))
    assert d.preview()
    d.validate()
    wait_job(qtbot, d)
    report = d.last_report
    assert report.ok

    class Cancelling(BaseDataPort):  # the user presses 取消 once the first rows went in
        def write(self, report, on_error, progress):
            def cancel_then(done, total):
                d.panel.job.cancel()
                progress(done, total)
            from app.store.base_load import append_rows  # noqa: F401  (the real write path)
            return bi.write(self.store, report, progress=cancel_then)

    d.port = Cancelling(store, None)
    d.write()
    wait_job(qtbot, d)
    assert "已取消" in d.panel.message.text()
    assert count(store, Component) == 1


def test_unreadable_file_is_one_message(qtbot, world, jobs, tmp_path):
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage")
    d = dialog(qtbot, world, jobs)
    d.path.setText(str(tmp_path / "junk.gpkg"))
    assert not d.preview()
    assert "无法读取" in d.panel.message.text() and not d.validate_button.isEnabled()


def test_export_dialog_kinds_and_case_scopes(qtbot, world, jobs, tmp_path):
    store, w = world
    from services.test_base_kinds import CASE_ROWS, write_cases

    bi.import_file(store, write_cases(tmp_path / "old.csv", CASE_ROWS), "cases", actor=w.actors["admin"],
                   source_crs=4549)
    from app.services.base_cases import case_ids

    first = case_ids(store, "状态:已结案")
    d = dialog(qtbot, world, jobs, ExportDialog, queue_ids=lambda: first, archive_query=lambda: "状态:不予立案")
    d.kind.setCurrentIndex(d.kind.findData("components"))
    d.format.setCurrentIndex(d.format.findData("xlsx"))
    d.path.setText(str(tmp_path / "c.xlsx"))
    d.export()
    wait_job(qtbot, d)
    assert d.exported == 1 and (tmp_path / "c.xlsx").exists()
    d.kind.setCurrentIndex(d.kind.findData("cases"))
    assert d.scope.isEnabled()
    for scope, expected in (("all", 2), ("queue", 1), ("archive", 1)):
        d.scope.setCurrentIndex(d.scope.findData(scope))
        d.format.setCurrentIndex(d.format.findData("csv"))
        d.path.setText(str(tmp_path / f"cases_{scope}.csv"))
        d.export()
        wait_job(qtbot, d)
        assert d.exported == expected, scope


def test_actions_registered_as_data_and_removed(qtbot, world, jobs):
    from app.ui.actions import ActionRegistry

    store, w = world
    window = QMainWindow()
    qtbot.addWidget(window)
    window.commands = {}
    window.action_registry = ActionRegistry(window, window.commands, Catalogue())
    teardown = install(window, store, w.actors["admin"], *jobs, Catalogue())
    assert {IMPORT_ACTION, EXPORT_ACTION} <= set(window.action_registry.ids())
    window.action_registry.action(IMPORT_ACTION).trigger()
    opened = window.findChild(ImportDialog)
    assert opened is not None and opened.isVisible()
    teardown()
    assert IMPORT_ACTION not in window.action_registry.ids() and "base_data_import" not in window.commands
    other = install(window, store, w.actors.get("dispatcher"), *jobs, Catalogue())
    assert IMPORT_ACTION not in window.action_registry.ids() and EXPORT_ACTION in window.action_registry.ids()
    other()
