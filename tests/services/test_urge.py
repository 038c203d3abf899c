"""督办 raises priority (issue 11, item 5): level, the earliest urge deadline, the running deadline — both backends."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.domain.definitions import CaseState
from app.services.errors import PermissionDenied, ValidationError
from app.store.models import Case, CaseEvent
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
