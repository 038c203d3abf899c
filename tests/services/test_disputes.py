"""职责争议 and 协调裁定 (issue 11, item 7): a department disputes, a coordinator rules — both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.definitions import CaseState
from app.services.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from app.store.models import Case, CaseEvent
from services.loop_steps import handling


def row(store, case_id: int) -> Case:
    with store.session() as s:
        case = s.get(Case, case_id)
        s.expunge(case)
        return case


def events(store, case_id: int) -> list[CaseEvent]:
    with store.session() as s:
        found = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).all()
        for e in found:
            s.expunge(e)
        return list(found)


def disputed(svc, world, clock):
    r = handling(svc, world, clock)
    clock.advance(timedelta(hours=1))
    return svc.dispute(world.actors["dept_jd"], r.case.id, r.version, reason="化粪池属于物业，不属街道职责")


def test_a_dispute_keeps_the_department_and_its_timer(svc, world, clock, store):
    r = handling(svc, world, clock)
    before = row(store, r.case.id)
    clock.advance(timedelta(hours=1))
    r = svc.dispute(world.actors["dept_jd"], r.case.id, r.version, reason="不属本部门职责")
    c = row(store, r.case.id)
    assert r.case.state is CaseState.DISPUTED
    assert (c.department_id, c.stage, c.timer_started_at, c.deadline_at) == \
        (before.department_id, "handle", before.timer_started_at, before.deadline_at)
    last = events(store, r.case.id)[-1]
    assert (last.action, last.reason, last.payload or {}) == ("dispute", "不属本部门职责", {})


def test_an_upheld_ruling_returns_the_case_with_its_running_timer(svc, world, clock, store):
    r = disputed(svc, world, clock)
    before = row(store, r.case.id)
    clock.advance(timedelta(hours=1))
    r = svc.rule(world.actors["dispatcher"], r.case.id, r.version, department="JD001", ruling="upheld",
                 reason="属于街道职责")
    c = row(store, r.case.id)
    assert r.case.state is CaseState.DISPATCHED and r.case.department_code == "JD001"
    assert (c.timer_started_at, c.deadline_at, c.dispatched_at) == \
        (before.timer_started_at, before.deadline_at, before.dispatched_at)
    last = events(store, r.case.id)[-1]
    assert last.department_id == world.dept["JD001"]
    assert last.payload == {"ruling": "upheld", "department": "JD001", "department_name": "平江街道办事处"}


def test_a_reassignment_restarts_the_handling_limit_at_the_new_department(svc, world, clock, store):
    r = disputed(svc, world, clock)
    clock.advance(timedelta(hours=1))
    now = clock.now()
    r = svc.rule(world.actors["boss"], r.case.id, r.version, department="HW", ruling="reassigned",
                 reason="属于环卫所职责")
    c = row(store, r.case.id)
    assert (r.case.department_code, c.timer_started_at, c.dispatched_at) == ("HW", now, now)
    assert c.deadline_at > now and c.handle_deadline_at == c.deadline_at
    last = events(store, r.case.id)[-1]
    assert last.payload == {"ruling": "reassigned", "department": "HW", "department_name": "区环境卫生管理所",
                            **{k: last.payload[k] for k in ("deadline", "limit_minutes", "basis")}}  # a new limit
    # the new department takes it; the disputing one has no business with it any more
    r = svc.accept(world.actors["dept_hw"], r.case.id, r.version)
    assert r.case.state is CaseState.HANDLING


def test_remedial_work_names_the_responsible_department(svc, world, clock, store):
    r = disputed(svc, world, clock)
    r = svc.rule(world.actors["dispatcher"], r.case.id, r.version, department="HW", ruling="指定部门代整改",
                 reason="先由环卫所代为清理", responsible="区市政工程管理处")
    last = events(store, r.case.id)[-1]
    assert last.payload == {"ruling": "remedial", "responsible": "SZ", "department": "HW",
                            "department_name": "区环境卫生管理所",
                            **{k: last.payload[k] for k in ("deadline", "limit_minutes", "basis")}}


@pytest.mark.parametrize(("kw", "error", "field"), [
    ({"department": "JD001", "ruling": "reassigned"}, ValidationError, "department"),
    ({"department": "HW", "ruling": "upheld"}, ValidationError, "department"),
    ({"department": "OLD", "ruling": "reassigned"}, ValidationError, "department"),
    ({"department": "无此部门", "ruling": "reassigned"}, NotFound, None),
    ({"department": "HW", "ruling": "overruled"}, ValidationError, "ruling"),
    ({"department": "HW", "ruling": "reassigned", "responsible": "SZ"}, ValidationError, "responsible"),
    ({"department": "HW", "ruling": "remedial", "responsible": "HW"}, ValidationError, "responsible"),
    ({"department": "HW", "ruling": "reassigned", "reason": " "}, ValidationError, "reason"),
])
def test_bad_rulings_are_refused_and_write_nothing(svc, world, clock, store, kw, error, field):
    r = disputed(svc, world, clock)
    args = {"reason": "裁定", **kw}
    with store.session() as s, s.begin():  # a retired department (the tiny district's OLD)
        from app.store.models import Department
        s.execute(Department.__table__.update().where(Department.code == "OLD").values(active=False))
    with pytest.raises(error) as info:
        svc.rule(world.actors["dispatcher"], r.case.id, r.version, **args)
    if field:
        assert info.value.field == field
    assert row(store, r.case.id).version == r.version


def test_who_may_dispute_and_rule(svc, world, clock):
    a = world.actors
    r = handling(svc, world, clock)
    with pytest.raises(PermissionDenied):  # another department's case
        svc.dispute(a["dept_hw"], r.case.id, r.version, reason="不是我们的")
    with pytest.raises(ValidationError):
        svc.dispute(a["dept_jd"], r.case.id, r.version, reason="")
    with pytest.raises(InvalidTransition):  # nothing to rule yet
        svc.rule(a["dispatcher"], r.case.id, r.version, department="HW", ruling="reassigned", reason="x")
    r = svc.dispute(a["dept_jd"], r.case.id, r.version, reason="不属本部门")
    with pytest.raises(PermissionDenied):
        svc.rule(a["dept_jd"], r.case.id, r.version, department="HW", ruling="reassigned", reason="x")
