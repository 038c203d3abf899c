"""The in-process case bus: published after commit, never on a refusal; bad subscribers are skipped."""

from __future__ import annotations

import pytest

from app.services.bus import CaseBus, CaseChanged
from app.services.errors import PermissionDenied
from services.world import draft


def test_bus_delivers_in_order_and_survives_a_failing_subscriber(caplog):
    bus = CaseBus()
    got = []

    def broken(change):
        raise RuntimeError("plugin bug")

    bus.subscribe(broken)
    stop = bus.subscribe(got.append)
    change = CaseChanged((1,), "urge", "boss")
    bus.publish(change)
    assert got == [change] and "订阅者出错" in caplog.text
    stop()
    bus.publish(change)
    assert got == [change] and len(bus) == 1


def test_service_publishes_after_commit_only(svc, world, bus):
    seen = []
    bus.subscribe(seen.append)
    r = svc.report(world.actors["supervisor"], draft())
    with pytest.raises(PermissionDenied):
        svc.file(world.actors["dispatcher"], r.case.id, r.version)
    assert [(c.action, c.actor, c.case_ids, c.versions) for c in seen] == [
        ("report", "supervisor", (r.case.id,), {r.case.id: 1})]
    # a subscriber reading the store sees the committed change
    bus.subscribe(lambda c: seen.append(svc.get(c.case_ids[0]).urge_count))
    svc.urge(world.actors["boss"], r.case.id, r.version)
    assert seen[-1] == 1
