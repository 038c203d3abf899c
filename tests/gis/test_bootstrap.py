"""The composition root: the whole window over a real store, live changes, and a clean teardown."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime

import pytest

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 11, 20, 10, 30)


@pytest.fixture(scope="session")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("hall") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
    return path


@pytest.fixture
def hall(qgis_app, tiny_city, tmp_path):
    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    settings = QSettings(str(tmp_path / "hall.ini"), QSettings.IniFormat)
    built = build_hall(open_store(path), clock=FixedClock(T0), settings=settings)
    yield built
    built.teardown()


def _feed_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in ("gridhall-poll", "gridhall-listen") and t.is_alive()]


def test_the_window_loads_the_open_cases_of_the_store(qtbot, hall):
    from app.services.case_source import StoreCaseSource

    hall.controller.start()
    qtbot.waitUntil(lambda: len(hall.state.rows) > 0, timeout=20000)
    expected = {c.id for c in StoreCaseSource(hall.store).open_cases()}
    assert {r.id for r in hall.state.rows} == expected
    assert hall.map_view.layers.feeder.feature_id(next(iter(expected))) is not None
    ids = hall.window.dock_registry.ids()
    assert {"gridhall.queue", "gridhall.detail", "gridhall.layers", "gridhall.attributes"} <= set(ids)
    assert "duban_today.dock" in ids  # the real plugin loaded through the same registry


def test_a_change_made_by_another_workstation_reaches_the_queue(qtbot, hall):
    from app.domain.calendar import WorkCalendar
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.domain.limits import LimitTable
    from app.domain.taxonomy import Taxonomy
    from app.services.actors import Actor
    from app.services.cases import CaseService
    from app.store.engine import open_store

    hall.controller.start()
    qtbot.waitUntil(lambda: len(hall.state.rows) > 0, timeout=20000)
    row = hall.state.rows[0]
    other = open_store(hall.store.path)  # a second client on the same file
    try:
        service = CaseService(other, clock=FixedClock(T0), calendar=WorkCalendar(), limits=LimitTable.load(),
                              taxonomy=Taxonomy.load())
        service.urge(Actor("ld_test", "测试领导", Role.LEADER), row.id, row.version, note="请加快")
    finally:
        other.dispose()
    qtbot.waitUntil(lambda: hall.state.summary(row.id).version == row.version + 1, timeout=10000)
    assert hall.state.summary(row.id).urge_count == row.urge_count + 1


def test_teardown_stops_the_feed_even_when_a_step_fails(qtbot, qgis_app, tiny_city, tmp_path):
    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    built = build_hall(open_store(path), clock=FixedClock(T0),
                       settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    assert _feed_threads()
    ran = []
    built.on_teardown(lambda: ran.append("before"))
    built.on_teardown(lambda: 1 / 0)  # a broken step must not skip the rest
    built.teardown()
    qtbot.waitUntil(lambda: not _feed_threads(), timeout=5000)
    assert ran == ["before"]


def test_selecting_a_case_rings_it_on_the_map_and_clearing_removes_the_ring(qtbot, hall):
    hall.controller.start()
    qtbot.waitUntil(lambda: len(hall.state.rows) > 0, timeout=20000)
    row = hall.state.rows[0]
    hall.state.select(row.id)
    point = hall.map_view.highlight_point()
    assert point is not None and (point.x(), point.y()) == (row.x, row.y)
    hall.state.select(None)
    assert hall.map_view.highlight_point() is None


def test_the_left_column_is_one_tab_group_with_the_intake_form_in_front(qtbot, qgis_app, tiny_city, tmp_path):
    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.services.actors import Actor
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    built = build_hall(open_store(path), clock=FixedClock(T0), plugins=False, live=False,
                       actor=Actor("acc", "受理员甲", Role.ACCEPTOR),
                       settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    try:
        reg, window = built.window.dock_registry, built.window
        window.resize(1600, 1000)
        window.show()
        qtbot.waitExposed(window)
        tabbed = window.tabifiedDockWidgets(reg.dock("gridhall.layers"))
        assert {reg.dock("gridhall.attributes"), reg.dock("gridhall.desk.intake")} <= set(tabbed)
        assert not reg.dock("gridhall.desk.intake").visibleRegion().isEmpty()  # in front
        assert reg.dock("gridhall.layers").visibleRegion().isEmpty()
    finally:
        built.teardown()
