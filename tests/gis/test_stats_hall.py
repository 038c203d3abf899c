"""The statistics dock in the analyst's window (issue 13, item 2) over a generated tiny demo: computed as
a job, a department's late cases listed and marked with the archive's hits, the grid layer coloured by
density and its style back when the colouring is switched off."""

from __future__ import annotations

from datetime import datetime

import pytest
from qgis.PyQt.QtCore import QSettings

pytestmark = pytest.mark.qgis

T0 = datetime(2026, 11, 20, 10, 30)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("stats") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
    return path


def test_analyst_drills_from_a_department_to_its_cases_on_the_map(qtbot, qgis_app, tiny, tmp_path):
    import shutil

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.services.actors import Actor
    from app.store.engine import open_store
    from app.ui.stats.dock import STATS_DOCK

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny, path)
    hall = build_hall(open_store(f"sqlite:///{path}"), clock=FixedClock(T0), plugins=False, live=False,
                      actor=Actor("an", "分析员", Role.ANALYST), mode="analyst",
                      settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    try:
        hall.window.resize(1600, 1000)
        hall.window.show()
        qtbot.waitExposed(hall.window)
        assert STATS_DOCK in hall.window.dock_registry.ids()
        dock = hall.window.dock_registry.widget(STATS_DOCK)
        dock.set_period("month", T0.date().replace(day=1))
        if dock.job is not None:
            qtbot.waitUntil(lambda: dock.job is None, timeout=60000)
        dock.run()
        qtbot.waitUntil(lambda: dock.job is None and dock.stats is not None, timeout=60000)
        grids = hall.map_view.layers.unit_grids
        assert grids.renderer().type() == "RuleRenderer"  # density by default
        bars = dock.stats.charts["departments"].series[0].bars
        assert bars
        index = max(range(len(bars)), key=lambda i: len(bars[i].cases or ()))
        dock.pick("departments", 0, index)
        assert dock.cases == list(bars[index].cases)
        dock.show_on_map()
        qtbot.waitUntil(lambda: hall.search_hits.count > 0, timeout=20000)
        assert hall.search_hits.count == len(set(dock.cases))
        # a double click on a listed case makes it the current case (closed ones too)
        dock.open_row(0)
        qtbot.waitUntil(lambda: hall.state.selected_id is not None
                        and hall.core.cases.get(hall.state.selected_id).number == dock.cases[0], timeout=20000)
        dock.map_mode.setCurrentIndex(0)
        assert grids.renderer().type() != "RuleRenderer" or len(grids.renderer().rootRule().children()) == 2
    finally:
        hall.runner.wait()
        hall.teardown()
