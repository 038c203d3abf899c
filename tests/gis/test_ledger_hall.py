"""The 台账 dock in the window: registered for the dispatcher as a tab of the bottom group (never a
floating window), read through the core on a generated demo store, a double click opening the case;
roles without the ledger (supervisor) do not get it."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest
from qgis.PyQt.QtCore import QSettings

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 11, 20, 10, 30)


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("ledger") / "tiny.sqlite"
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


def test_the_dispatcher_has_the_ledger_as_a_tab_and_opens_a_case_from_it(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.ui.builtin import QUEUE_DOCK
    from app.ui.ledger_dock import LEDGER_DOCK

    hall = _hall(qtbot, tiny_city, tmp_path, Role.DISPATCHER)
    try:
        registry = hall.window.dock_registry
        assert LEDGER_DOCK in registry.ids()
        dock = registry.dock(LEDGER_DOCK)
        assert not dock.isFloating()
        assert dock in hall.window.tabifiedDockWidgets(registry.dock(QUEUE_DOCK))  # a tab beside the queue
        ledger = dock.widget()
        assert ledger.period() == (date(2026, 11, 1), date(2026, 11, 20))
        ledger.start.setDate(ledger.start.date().addYears(-1))
        answers = []
        ledger.search(done=answers.append)
        qtbot.waitUntil(lambda: bool(answers), timeout=20000)
        report = answers[0]
        assert not isinstance(report, BaseException), report
        assert report.entries and ledger.table.rowCount() == len(report.entries)
        assert ledger.shares.rowCount() == len(report.shares) > 0
        ledger.open_row(0)
        case_id = report.entries[0].case_id
        qtbot.waitUntil(lambda: hall.state.selected_id == case_id, timeout=20000)
    finally:
        hall.runner.wait()
        hall.teardown()


def test_a_supervisor_has_no_ledger(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.ui.ledger_dock import LEDGER_DOCK

    hall = _hall(qtbot, tiny_city, tmp_path, Role.SUPERVISOR)
    try:
        assert LEDGER_DOCK not in hall.window.dock_registry.ids()
    finally:
        hall.runner.wait()
        hall.teardown()
