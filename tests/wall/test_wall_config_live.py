"""A configuration change saved at a workstation reaches the running wall (issue 12, item 3): its
calendar is reloaded and it resyncs its figures, without a restart. Bounded waits, nothing timed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ui.forms.world import T0

from app.domain.clock import FixedClock
from app.domain.definitions import Role
from app.services.actors import Actor
from app.services.config import ConfigService
from app.store.wall import open_wall_store
from app.views.wall.layout import Screen, WallLayout

NOW = T0 + timedelta(minutes=1)


@pytest.fixture
def wall(qapp, desk_store):
    from app.wall import Wall

    store = open_wall_store(desk_store.path)
    made = Wall(store, FixedClock(NOW), WallLayout(screens=(Screen(),)), height=1080)
    made.load_now()
    yield made
    made.close()
    store.dispose()


def test_a_saved_change_makes_the_wall_reload(qtbot, wall, desk_store):
    wall.start(live=True)
    qtbot.waitUntil(lambda: wall.config_watch is not None and wall.config_watch.last is not None, timeout=20000)
    first = wall.config_watch.last.version
    reads = wall.reads
    ConfigService(desk_store, FixedClock(NOW)).set_setting(
        Actor("boss", "管理员", Role.ADMIN), "alerts", {"default": {"interval_s": 9}}, reason="大屏测试")
    qtbot.waitUntil(lambda: wall.config_watch.last.version > first, timeout=20000)
    qtbot.waitUntil(lambda: wall.reads > reads, timeout=20000)  # resynced
    assert wall.state.calendar.version == wall.config_watch.last.version
