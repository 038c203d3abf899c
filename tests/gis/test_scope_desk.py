"""Scope on SpatiaLite in the window (issue 10, item 5): a department operator's desk — queue,
map case layer, detail timeline, search — holds only its department's cases (and its own
undispatched reports), over a generated demo store."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from qgis.PyQt.QtCore import QSettings
from sqlalchemy import text

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 11, 20, 10, 30)


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("scope") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
    return path


def test_a_department_desk_on_spatialite_shows_only_its_cases(qtbot, qgis_app, tiny_city, tmp_path):
    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.domain.definitions import OPEN_STATES, Role
    from app.services.actors import Actor
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    store = open_store(path)
    with store.engine.connect() as conn:
        open_values = [s.value for s in OPEN_STATES]
        rows = conn.execute(text("SELECT c.id, c.department_id, c.state FROM cases c")).all()
        by_dept: dict[int, set[int]] = {}
        for case_id, dept, state in rows:
            if dept is not None and state in open_values:
                by_dept.setdefault(dept, set()).add(case_id)
        dept_id = max(by_dept, key=lambda d: len(by_dept[d]))  # the busiest department
        others = {i for d, ids in by_dept.items() if d != dept_id for i in ids}
    assert by_dept[dept_id] and others
    actor = Actor("d1", "部门甲", Role.DEPARTMENT, department_id=dept_id)
    hall = build_hall(store, clock=FixedClock(T0), plugins=False, live=False, actor=actor,
                      settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    try:
        hall.window.show()
        qtbot.waitExposed(hall.window)
        hall.controller.start()
        qtbot.waitUntil(lambda: len(hall.state.rows) > 0, timeout=20000)
        queue = {r.id for r in hall.state.rows}
        assert queue == by_dept[dept_id]  # its open cases, all of them, nothing else
        layer = hall.map_view.layers.feeder.layer
        assert {f["case_id"] for f in layer.getFeatures()} == queue
        source = hall.core.source
        other = min(others)
        assert source.case(other) is None and source.events(other) == [] and hall.core.photos(other) == []
        assert not {r.id for r in hall.core.find_cases(actor, "", limit=500).rows} & others
    finally:
        hall.runner.wait()
        hall.teardown()
