"""督办 raises priority (issue 11, item 5): level, the earliest urge deadline, the running deadline — both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.domain.deadlines import read_timer
from app.domain.definitions import CaseState
from app.services.errors import PermissionDenied, ValidationError
from app.store import queries
from app.store.models import Case, CaseEvent
from app.views.queue_state import QueueState
from services.loop_steps import handling


def row(store, case_id: int) -> Case:
    with store.session() as s:
        case = s.get(Case, case_id)
        s.expunge(case)
        return case


def last_payload(store, case_id: int) -> dict:
    with store.session() as s:
        return dict(s.scalars(select(CaseEvent.payload).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.seq.desc()).limit(1)).one() or {})


def test_an_urge_keeps_the_highest_level_and_counts(svc, world, clock, store):
    boss = world.actors["boss"]
    r = handling(svc, world, clock)
    deadline = r.case.deadline_at
    r = svc.urge(boss, r.case.id, r.version, note="尽快")
    assert last_payload(store, r.case.id) == {"urge_count": 1, "urge_level": 1}
    r = svc.urge(boss, r.case.id, r.version, level=3)
    r = svc.urge(boss, r.case.id, r.version, level="2")
    c = row(store, r.case.id)
    assert (c.urge_count, c.urge_level, c.urge_deadline_at) == (3, 3, None)
    assert r.case.state is CaseState.HANDLING and c.deadline_at == deadline  # no deadline given: the timer stands


def test_an_earlier_urge_deadline_replaces_the_handling_deadline(svc, world, clock, store):
    boss = world.actors["boss"]
    r = handling(svc, world, clock)
    computed = row(store, r.case.id).deadline_at
    assert computed is not None
    clock.advance(timedelta(minutes=30))
    later = computed + timedelta(days=2)
    r = svc.urge(boss, r.case.id, r.version, level=2, deadline=f"{later:%Y-%m-%d %H:%M}")
    c = row(store, r.case.id)
    assert (c.urge_level, c.urge_deadline_at, c.deadline_at) == (2, later, computed)  # a later one does not
    assert "deadline" not in last_payload(store, r.case.id)
    sooner = (clock.now() + timedelta(hours=2)).replace(second=0)
    assert sooner < computed
    r = svc.urge(boss, r.case.id, r.version, level=1, deadline=sooner)
    c = row(store, r.case.id)
    assert (c.urge_level, c.urge_deadline_at, c.deadline_at, c.handle_deadline_at) == (2, sooner, sooner, sooner)
    assert last_payload(store, r.case.id) == {"urge_count": 2, "urge_level": 1,
                                              "urge_deadline": f"{sooner:%Y-%m-%d %H:%M:%S}",
                                              "deadline": f"{sooner:%Y-%m-%d %H:%M:%S}"}
    assert r.case.deadline_at == sooner


def test_an_urge_before_dispatch_bounds_the_handling_deadline_once_dispatched(svc, world, clock, store):
    a = world.actors
    from services.world import draft
    r = svc.report(a["supervisor"], draft())
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    soon = (clock.now() + timedelta(hours=3)).replace(second=0)
    r = svc.urge(a["boss"], r.case.id, r.version, deadline=soon)
    assert row(store, r.case.id).deadline_at != soon  # the dispatch stage keeps its own limit
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    c = row(store, r.case.id)
    assert (c.stage, c.deadline_at, c.handle_deadline_at) == ("handle", soon, soon)


@pytest.mark.parametrize(("level", "deadline", "field"), [
    (0, None, "level"), (4, None, "level"), ("很急", None, "level"), (True, None, "level"),
    (1, "明天", "deadline"), (1, "2026-13-40 10:00", "deadline"), (1, datetime(2020, 1, 1, 9), "deadline"),
])
def test_bad_urges_are_refused_and_write_nothing(svc, world, clock, store, level, deadline, field):
    r = handling(svc, world, clock)
    with pytest.raises(ValidationError) as info:
        svc.urge(world.actors["boss"], r.case.id, r.version, level=level, deadline=deadline)
    assert info.value.field == field
    c = row(store, r.case.id)
    assert (c.version, c.urge_count, c.urge_level) == (r.version, 0, 0)


def test_only_a_leader_urges(svc, world, clock):
    r = handling(svc, world, clock)
    with pytest.raises(PermissionDenied):
        svc.urge(world.actors["dispatcher"], r.case.id, r.version, level=2)


def _queue_reading(svc, store, case_id: int, now: datetime):
    """The case as the queue reads it: its summary from the store, ticked by a QueueState."""
    with store.session() as s:
        (summary,) = queries.case_summaries(s, [case_id])
    state = QueueState(svc.calendar)
    state.reset([summary], now)
    return summary, state


def _minutes_to(svc, timer: dict, now: datetime, due: datetime) -> float:
    if timer["basis"] == "working":
        return svc.calendar.working_minutes(now, due)
    return (due - now) / timedelta(minutes=1)


def test_after_an_earlier_urge_deadline_the_light_and_the_remaining_time_follow_it(svc, world, clock, store):
    boss = world.actors["boss"]
    r = handling(svc, world, clock)
    computed = row(store, r.case.id).deadline_at
    clock.advance(timedelta(minutes=30))
    before = svc.timer(r.case.id)
    assert before["light"] == "green" and not before["capped"] and before["urge_deadline"] is None
    sooner = (clock.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    r = svc.urge(boss, r.case.id, r.version, level=2, deadline=sooner)
    now = clock.now()
    timer = svc.timer(r.case.id)
    assert timer["capped"] and timer["deadline"] == timer["urge_deadline"] == f"{sooner:%Y-%m-%d %H:%M:%S}"
    assert timer["computed_deadline"] == f"{computed:%Y-%m-%d %H:%M:%S}"
    assert timer["remaining_minutes"] == round(_minutes_to(svc, timer, now, sooner), 1)
    assert timer["remaining_minutes"] < before["remaining_minutes"] - 30
    assert f"督办限时 {sooner.month}月{sooner.day}日 {sooner:%H:%M}（早于原处置时限 " in timer["explanation"]
    assert f"截止 {sooner.month}月{sooner.day}日 {sooner:%H:%M}；" in timer["explanation"]
    # the queue reads the same figures from its own summary and tick table
    summary, state = _queue_reading(svc, store, r.case.id, now)
    assert summary.timer is not None and summary.timer.cap == sooner and summary.deadline_at == sooner
    assert state.reading(r.case.id).remaining_minutes == pytest.approx(timer["remaining_minutes"], abs=0.05)
    assert "督办限时" in state.explain(r.case.id)

    clock.set(sooner + timedelta(minutes=1))  # past the leader's deadline, long before the computed one
    late = svc.timer(r.case.id)
    assert (late["light"], late["overdue"]) == ("red", True)
    assert late["remaining_minutes"] == round(_minutes_to(svc, late, clock.now(), sooner), 1) < 0
    summary, state = _queue_reading(svc, store, r.case.id, clock.now())
    assert state.light(r.case.id).value == "red" and state.reading(r.case.id).overdue
    assert summary.timer is not None  # the limit alone would still be green
    assert read_timer(replace(summary.timer, cap=None), svc.calendar, clock.now()).light.value == "green"


def test_the_urge_deadline_caps_only_the_handling_timer(svc, world, clock, store):
    a = world.actors
    from services.world import draft
    r = svc.report(a["supervisor"], draft())
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    soon = (clock.now() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    r = svc.urge(a["boss"], r.case.id, r.version, deadline=soon)
    timer = svc.timer(r.case.id)  # the dispatch stage keeps its own limit and light
    assert timer["stage"] == "dispatch" and timer["urge_deadline"] is None and not timer["capped"]
    preview = svc.preview_deadline(r.case.id)  # what the dispatch form shows before dispatching
    assert preview.deadline == soon and "督办限时" in preview.explanation
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    timer = svc.timer(r.case.id)
    assert timer["stage"] == "handle" and timer["capped"] and timer["deadline"] == f"{soon:%Y-%m-%d %H:%M:%S}"


def test_a_pause_does_not_move_the_urge_deadline(svc, world, clock, store):
    a = world.actors
    r = handling(svc, world, clock)
    soon = (clock.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    r = svc.urge(a["boss"], r.case.id, r.version, deadline=soon)
    clock.advance(timedelta(minutes=30))
    r = svc.request_defer(a["dept_jd"], r.case.id, r.version, reason="等待配合")
    r = svc.approve(a["dispatcher"], r.case.id, r.version)
    clock.advance(timedelta(hours=3))  # the pause runs past the leader's deadline
    paused = svc.timer(r.case.id)
    assert paused["paused"] and paused["deadline"] is None and row(store, r.case.id).deadline_at is None
    assert "已过（不因缓办/挂账顺延）" in paused["explanation"]
    r = svc.restore(a["dispatcher"], r.case.id, r.version)
    resumed = svc.timer(r.case.id)
    c = row(store, r.case.id)
    assert c.deadline_at == soon and resumed["deadline"] == f"{soon:%Y-%m-%d %H:%M:%S}"  # store and reading agree
    assert resumed["capped"] and resumed["remaining_minutes"] == round(
        _minutes_to(svc, resumed, clock.now(), soon), 1) <= 0
