"""Stale versions are refused with who changed what; concurrent dispatchers: one wins, nothing is lost."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.domain.definitions import Action, CaseState
from app.services.errors import ConflictError, NotFound
from app.store.commands import verify_audit
from app.store.models import CaseEvent
from services.world import draft, service


def _filed(svc, world):
    a = world.actors
    r = svc.report(a["supervisor"], draft())
    return svc.file(a["leader_shift"], r.case.id, r.version)


def _dispatch_events(store, case_id: int) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.action == Action.DISPATCH.value))


def test_double_click_on_dispatch_records_one_dispatch(svc, world, store):
    filed = _filed(svc, world)
    first = svc.dispatch(world.actors["dispatcher"], filed.case.id, filed.version, department="JD001")
    with pytest.raises(ConflictError) as err:
        svc.dispatch(world.actors["dispatcher"], filed.case.id, filed.version, department="JD001")
    message = str(err.value)
    assert filed.case.number in message and "张三（派遣员）" in message and "派遣" in message
    assert "请刷新后重试" in message and err.value.current_version == first.version
    assert _dispatch_events(store, filed.case.id) == 1
    assert svc.get(filed.case.id).version == first.version


def test_stale_version_names_the_last_change(svc, world):
    a = world.actors
    r = svc.report(a["supervisor"], draft())
    svc.urge(a["boss"], r.case.id, r.version, note="抓紧")
    with pytest.raises(ConflictError, match="刘局（领导）于 09:00 督办"):
        svc.file(a["leader_shift"], r.case.id, r.version)
    with pytest.raises(ConflictError, match="版本号 99 无效"):
        svc.file(a["leader_shift"], r.case.id, 99)


def test_unknown_case_is_not_found(svc, world):
    with pytest.raises(NotFound):
        svc.accept(world.actors["dept_jd"], 987654, 1)
    with pytest.raises(NotFound, match="S000 不存在"):
        svc.get("S000")


def test_two_dispatchers_at_once_one_wins(store, world, clock):
    # Two workstations: separate services, separate connections, released at the same instant.
    svc1, svc2 = service(store, clock), service(store, clock)
    filed = _filed(svc1, world)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(name, svc, actor, dept):
        barrier.wait()
        try:
            outcomes[name] = svc.dispatch(actor, filed.case.id, filed.version, department=dept)
        except Exception as exc:  # collected and asserted in the test thread
            outcomes[name] = exc

    threads = [threading.Thread(target=act, args=("a", svc1, world.actors["dispatcher"], "JD001")),
               threading.Thread(target=act, args=("b", svc2, world.actors["dispatcher2"], "HW"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for k, v in outcomes.items() if not isinstance(v, Exception)]
    losers = [v for v in outcomes.values() if isinstance(v, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], ConflictError), repr(losers[0])
    won = outcomes[winners[0]]
    assert won.case.state is CaseState.DISPATCHED
    case = svc1.get(filed.case.id)
    assert case.department_code == ("JD001" if winners == ["a"] else "HW")
    assert case.version == filed.version + 1
    assert _dispatch_events(store, filed.case.id) == 1
    assert verify_audit(store) is None


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"], indirect=True)
def test_work_on_one_case_does_not_hold_up_another_case(store, world, clock, backend):
    # Lock order: the case row first, the audit chain only to append. While one workstation is
    # between its compare-and-set and its event (here: paused in ``prepare``), another
    # workstation finishes a step on another case; the first then commits without a conflict.
    svc_a, svc_b = service(store, clock), service(store, clock)
    x, y = _filed(svc_a, world), _filed(svc_a, world)
    claimed, other_done, outcome = threading.Event(), threading.Event(), {}

    def slow_prepare(step):
        claimed.set()
        outcome["other finished meanwhile"] = other_done.wait(30)

    def slow():
        try:
            outcome["a"] = svc_a._act(world.actors["boss"], x.case.id, x.version, Action.URGE, prepare=slow_prepare)
        except Exception as exc:  # asserted in the test thread
            outcome["a"] = exc

    t = threading.Thread(target=slow)
    t.start()
    assert claimed.wait(30)
    try:
        done = svc_b.urge(world.actors["boss"], y.case.id, y.version)
    finally:
        other_done.set()
        t.join()
    assert outcome["other finished meanwhile"] is True
    assert done.version == y.version + 1 and outcome["a"].version == x.version + 1
    # The same case, meanwhile: the second writer waits for the row, then gets the conflict.
    with pytest.raises(ConflictError):
        svc_b.urge(world.actors["boss"], x.case.id, x.version)
    assert verify_audit(store) is None
