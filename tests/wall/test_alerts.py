"""The wall's alert rules over a real queue of the tiny demo city: a case turning red, an urgent case arriving."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from ui.forms.world import T0

from app.domain.definitions import Level, Light
from app.services.calendar import load_calendar
from app.views.queue_state import QueueState
from app.views.wall.model import Playlist, WallAlerts, alert_text


def _queue(desk):
    state = QueueState(load_calendar(desk.store))
    state.reset(desk.source.open_cases(), T0)
    return state


def test_the_first_load_is_the_baseline_then_turning_red_alerts_once(desk):
    state = _queue(desk)
    watch = WallAlerts(state)
    got = []
    watch.events.raised.connect(got.append)
    state.reset(desk.source.open_cases(), T0)  # the same picture again: nothing new
    assert got == []
    before = {r.id for r in state.rows if state.light(r.id) == Light.RED}
    state.tick(T0 + timedelta(days=5))
    turned = {r.id for r in state.rows if state.light(r.id) == Light.RED} - before
    assert turned, "five days on, some timers must have run out"
    raised = [a for batch in got for a in batch]
    assert {a.case_id for a in raised if a.kind == "red"} == turned
    state.tick(T0 + timedelta(days=5, seconds=1))  # still red: no second alert
    assert sum(len(b) for b in got) == len(raised)
    assert "转红" in alert_text(raised)


def test_an_urgent_arrival_alerts_and_a_general_one_does_not(desk):
    state = _queue(desk)
    watch = WallAlerts(state)
    got = []
    watch.events.raised.connect(got.append)
    template = next(r for r in state.rows if state.light(r.id) != Light.RED and r.timer is not None)
    state.upsert(dataclasses.replace(template, id=10**6, number="E-NEW-GENERAL", level=Level.GENERAL,
                                     reported_at=T0, timer=None))
    assert got == []
    state.upsert(dataclasses.replace(template, id=10**6 + 1, number="E-NEW-URGENT", level=Level.URGENT,
                                     reported_at=T0, timer=None))
    assert [(a.kind, a.number) for a in got[0]] == [("urgent", "E-NEW-URGENT")]
    assert alert_text(got[0]).startswith("紧急案卷 E-NEW-URGENT")


def test_what_happened_during_an_outage_alerts_at_the_resync(desk):
    state = _queue(desk)
    watch = WallAlerts(state)
    got = []
    watch.events.raised.connect(got.append)
    rows = list(desk.source.open_cases())
    arrived = dataclasses.replace(rows[0], id=10**6 + 2, number="E-WHILE-AWAY", level=Level.URGENT, timer=None)
    state.reset([*rows, arrived], T0)  # the full reload after reconnecting
    assert [a.number for batch in got for a in batch] == ["E-WHILE-AWAY"]


def test_the_playlist_rotates_by_its_dwell_time():
    playlist = Playlist(("departments", "trend", "urged"), 20, started=100.0)
    assert playlist.current() == "departments"
    assert not playlist.advance(119.9)
    assert playlist.advance(120.0) and playlist.current() == "trend"
    assert playlist.advance(185.0) and playlist.current() == "trend"  # 3 dwell times later: round again, no drift
    assert playlist.started == 180.0
    assert not Playlist(("trend",), 5).advance(10**6)
