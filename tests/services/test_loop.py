"""One full loop through the services, and a simulated day of work that keeps the audit chain intact."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select, text

from app.domain.definitions import Action, CaseState, Role
from app.services.location import LocationInput
from app.store.commands import verify_audit
from app.store.models import Attachment, CaseEvent
from services.world import INSIDE, MANHOLE, draft, photo


def test_full_loop_public_report_to_closed(svc, world, clock, bus, store):
    a = world.actors
    seen = []
    bus.subscribe(seen.append)
    r = svc.report(a["acceptor"], draft(source="public", reporter_name="市民甲", photos=(photo(taken_at=clock.now()),)))
    cid = r.case.id
    assert (r.case.state, r.version, r.case.grid_code) == (CaseState.REPORTED, 1, "320599001001006")
    assert (r.case.street_name, r.case.community_name) == ("平江街道", "东园社区")
    r = svc.send_verify(a["acceptor"], cid, r.version)
    clock.advance(timedelta(minutes=20))
    r = svc.verify(a["supervisor"], cid, r.version, result="现场属实，约1平方米")
    r = svc.file(a["leader_shift"], cid, r.version)
    assert r.details["filing_standard"].startswith("垃圾暴露面积")
    assert r.details["replies"] and "已立案" in r.details["replies"][0]
    r = svc.dispatch(a["dispatcher"], cid, r.version, department="JD001")
    assert r.case.state is CaseState.DISPATCHED and r.case.department_code == "JD001"
    assert r.case.timer is not None and r.case.deadline_at is not None
    r = svc.accept(a["dept_jd"], cid, r.version)
    clock.advance(timedelta(hours=1))
    r = svc.feedback(a["dept_jd"], cid, r.version, text="已清运", photos=(photo("after", "后.png", taken_at=clock.now()),))
    r = svc.send_check(a["acceptor"], cid, r.version)
    r = svc.check(a["supervisor"], cid, r.version, outcome="failed", reason="仍有残留")
    assert (r.case.state, r.case.rework_count, r.case.department_code) == (CaseState.DISPATCHED, 1, "JD001")
    r = svc.accept(a["dept_jd"], cid, r.version)
    r = svc.feedback(a["dept_jd"], cid, r.version, text="已彻底清理",
                     photos=(photo("after", "后2.png", taken_at=clock.now()),))
    r = svc.send_check(a["acceptor"], cid, r.version)
    r = svc.check(a["supervisor"], cid, r.version, outcome="passed")
    r = svc.close(a["leader_shift"], cid, r.version)
    assert r.case.state is CaseState.CLOSED and r.warnings == ()
    closed = svc.events(cid)[-2]  # the close, then its automatic reply
    assert closed.payload["evidence"]["missing"] == [] and "override" not in closed.payload
    assert r.case.timer is None
    events = svc.events(cid)
    assert [e.seq for e in events] == list(range(1, r.version + 1))
    dispatched = next(e for e in events if e.action == Action.DISPATCH.value)
    assert dispatched.payload["department"] == "JD001" and dispatched.payload["deadline"]
    replies = [e for e in events if e.action == Action.REPLY.value]
    assert len(replies) == 2 and all(e.payload["auto"] for e in replies)  # 两次回复
    assert "已处置完毕" in replies[1].payload["text"]
    assert [c.action for c in seen].count("dispatch") == 1 and all(c.case_ids == (cid,) for c in seen)
    with store.session() as s:
        kinds = sorted(s.scalars(select(Attachment.kind).where(Attachment.case_id == cid)))
    assert kinds == ["after", "after", "report"]
    assert verify_audit(store) is None


def _random_path(svc, a, cid: int, v: int, rng: random.Random, clock) -> None:
    """Walk one case along a random legal path of a working day."""
    step = lambda: clock.advance(timedelta(minutes=rng.randint(1, 25)))  # noqa: E731
    if svc.get(cid).source.value == "hotline":  # verified on site before filing
        v = svc.verify(a["supervisor"], cid, svc.send_verify(a["acceptor"], cid, v).version, result="属实").version
    r = svc.file(a["leader_shift"], cid, v)
    if rng.random() < 0.1:
        svc.void(a["leader_shift"], cid, r.version, reason="重复登记")
        return
    step()
    r = svc.dispatch(a["dispatcher"], cid, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], cid, r.version)
    step()
    roll = rng.random()
    if roll < 0.2:
        r = svc.request_extension(a["dept_jd"], cid, r.version, minutes=120, reason="需要机械")
        r = svc.approve(a["dispatcher"], cid, r.version)
    elif roll < 0.35:
        r = svc.request_defer(a["dept_jd"], cid, r.version, reason="等待配合")
        r = svc.approve(a["dispatcher"], cid, r.version)
        step()
        r = svc.restore(a["dispatcher"], cid, r.version)
    elif roll < 0.45:
        r = svc.request_return(a["dept_jd"], cid, r.version, reason="非本部门职责")
        r = svc.approve(a["dispatcher"], cid, r.version)
        r = svc.dispatch(a["dispatcher"], cid, r.version, department="HW")
        r = svc.accept(a["dept_hw"], cid, r.version)
        r = svc.feedback(a["dept_hw"], cid, r.version, text="已处置")
        _check_and_close(svc, a, cid, r.version, rng)
        return
    if rng.random() < 0.2:
        r = svc.urge(a["boss"], cid, r.version, note="尽快处理")
    r = svc.feedback(a["dept_jd"], cid, r.version, text="已处置")
    _check_and_close(svc, a, cid, r.version, rng)


def _check_and_close(svc, a, cid, v, rng) -> None:
    r = svc.send_check(a["acceptor"], cid, v)
    if rng.random() < 0.2:
        r = svc.check(a["supervisor"], cid, r.version, outcome="failed", reason="未处理干净")
        r = svc.accept(a["dept_jd"] if r.case.department_code == "JD001" else a["dept_hw"], cid, r.version)
        dept = a["dept_jd"] if r.case.department_code == "JD001" else a["dept_hw"]
        r = svc.feedback(dept, cid, r.version, text="返工完成")
        r = svc.send_check(a["acceptor"], cid, r.version)
    r = svc.check(a["supervisor"], cid, r.version, outcome="passed")
    if rng.random() < 0.8:  # no photos in this simulation: the shift leader's recorded override
        svc.close(a["leader_shift"], cid, r.version, override=True, note="照片另行归档")


def _simulated_day(svc, world, clock, n: int = 24) -> None:
    rng = random.Random(7)
    a = world.actors
    for i in range(n):
        clock.advance(timedelta(minutes=rng.randint(2, 15)))
        x, y = INSIDE[0] + rng.uniform(-140, 240), INSIDE[1] + rng.uniform(-140, 240)
        if i % 5 == 0:
            r = svc.report(a["supervisor"], draft("component:01002", location=LocationInput(component_code=MANHOLE)))
        else:
            r = svc.report(a["supervisor" if i % 2 else "acceptor"], draft(at=(x, y), source="hotline"))
        if i % 7 == 3:
            svc.reject(a["leader_shift"], r.case.id, r.version, reason="不属于城管职责")
        elif i % 5 == 0:  # supervisors' component reports: filed directly
            r = svc.file(a["leader_shift"], r.case.id, r.version)
            r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="PS")
        else:
            _random_path(svc, a, r.case.id, r.version, rng, clock)


def test_day_of_work_keeps_the_chain_and_tampering_is_caught(svc, world, clock, store):
    _simulated_day(svc, world, clock)
    assert verify_audit(store) is None
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseEvent)) > 100
        target, actor = s.execute(select(CaseEvent.chain_no, CaseEvent.actor).where(CaseEvent.action == "dispatch")
                                  .order_by(CaseEvent.chain_no).limit(1)).one()
    with store.engine.begin() as conn:  # an administrator drops the append-only guard first
        if store.backend == "spatialite":
            conn.execute(text("DROP TRIGGER case_events_no_update"))
            conn.execute(text("DROP TRIGGER case_events_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER case_events_append_only ON case_events"))

    def run(sql: str, **params) -> None:
        with store.engine.begin() as conn:
            assert conn.execute(text(sql), {"n": target, **params}).rowcount == 1

    run("UPDATE case_events SET actor = 'someone_else' WHERE chain_no = :n")
    problem = verify_audit(store)
    assert problem is not None and problem.chain_no == target and "edited" in problem.message
    run("UPDATE case_events SET actor = :a WHERE chain_no = :n", a=actor)  # put it back: intact again
    assert verify_audit(store) is None
    run("DELETE FROM case_events WHERE chain_no = :n")
    problem = verify_audit(store)
    assert problem is not None and problem.chain_no == target and "deleted" in problem.message


def test_supervisor_report_can_be_filed_directly_and_actions_listed(svc, world):
    a = world.actors
    r = svc.report(a["supervisor"], draft())
    assert r.case.source.value == "supervisor"
    assert svc.allowed_actions(a["leader_shift"], r.case.id)[:1] == [Action.FILE]
    assert Action.SEND_VERIFY in svc.allowed_actions(a["acceptor"], r.case.id)
    assert svc.allowed_actions(world.by_role(Role.ANALYST), r.case.id) == []


def test_numbers_continue_the_day_by_kind(svc, world, clock):
    a = world.actors["supervisor"]
    first = svc.report(a, draft())
    second = svc.report(a, draft())
    part = svc.report(a, draft("component:01002", location=LocationInput(component_code=MANHOLE)))
    assert (first.case.number, second.case.number, part.case.number) == (
        "S20260302-0001", "S20260302-0002", "B20260302-0001")
