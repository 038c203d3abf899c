"""A configuration change saved by one connection reaches another client's configuration feed
(issue 12, item 3): LISTEN gridhall_config on PostGIS, polling on SpatiaLite. Waits with a
bounded timeout for the event; nothing here measures time."""

from __future__ import annotations

import threading

import pytest

from app.domain.clock import FixedClock
from app.services.config import ConfigService
from app.services.config_live import ConfigWatch
from app.store.engine import open_store
from services.world import T0, build_world

WAIT_S = 30.0


@pytest.fixture
def world(store):
    return build_world(store)


def test_a_saved_change_reaches_another_clients_feed(store, world):
    other = open_store(store.url.render_as_string(hide_password=False))  # another workstation's connection
    updates, refreshed = [], []
    started, changed = threading.Event(), threading.Event()

    def heard(update) -> None:
        updates.append(update)
        (started if update.first else changed).set()

    watch = ConfigWatch(store, lambda fn: fn(), refresh=lambda: refreshed.append(True))
    watch.subscribe(heard)
    watch.start()
    try:
        assert started.wait(WAIT_S), "the feed never read the first version"
        first = updates[0].version
        alerts = {"default": {"interval_s": 5}, "roles": {"dispatcher": {"kinds": ["red"]}}}
        ConfigService(other, FixedClock(T0)).set_setting(world.actors["admin"], "alerts", alerts, reason="更安静")
        assert changed.wait(WAIT_S), "the saved change never reached the feed"
        last = updates[-1]
        assert last.version > first and last.settings["alerts"] == alerts and refreshed
    finally:
        watch.close()
        other.dispose()


def test_a_forged_hint_reports_nothing(store, world, backend):
    if backend != "postgis":
        pytest.skip("NOTIFY exists on PostGIS only")
    from sqlalchemy import text

    updates = []
    started = threading.Event()
    watch = ConfigWatch(store, lambda fn: fn())
    watch.subscribe(lambda u: (updates.append(u), started.set()))
    watch.start()
    try:
        assert started.wait(WAIT_S)
        reads = watch.feed.version_reads
        with store.engine.begin() as conn:
            conn.execute(text("SELECT pg_notify('gridhall_config', '999999')"))
        # the hint costs one read of the version and reports nothing (it did not move)
        done = threading.Event()
        for _ in range(int(WAIT_S * 10)):
            if watch.feed.version_reads > reads or done.wait(0.1):
                break
        assert watch.feed.version_reads > reads and len(updates) == 1
    finally:
        watch.close()
