"""Supervisors' tasks (issue 11, item 4) through the services, on both backends: positions, the
suggestion order, the checks and defaults of 派发核实/派发核查, the task lists and who sees them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.definitions import CaseState, Light, Role, Stage
from app.services.actors import Actor
from app.services.errors import PermissionDenied, ValidationError
from app.services.supervisors import SupervisorService, suggestions_for
from app.store.models import CaseEvent, SupervisorPosition, User
from services.seed import seed_case
from services.world import INSIDE, T0, draft

GRID = "320599001001006"  # the grid of INSIDE (557150, 3464450)


def _add_user(store, username: str, role: Role = Role.SUPERVISOR, *, display: str | None = None) -> Actor:
    with store.session() as s, s.begin():
        user = User(username=username, display_name=display or username, role=role.value, active=True,
                    failed_attempts=0, locked=False)
        s.add(user)
        s.flush()
        return Actor(username, user.display_name, role, None, user.id)


def _set(store, username: str, **columns) -> None:
    with store.session() as s, s.begin():
        user = s.scalars(select(User).where(User.username == username)).one()
        for name, value in columns.items():
            setattr(user, name, value)


@pytest.fixture
def sups(store, world, clock):
    """Supervisors around the case point INSIDE: assigned, near, far, off duty, locked, inactive."""
    service = SupervisorService(store, clock, _calendar())
    made = {name: _add_user(store, name, display=display) for name, display in (
        ("sup_grid", "网格员甲"), ("sup_near", "巡查员乙"), ("sup_far", "巡查员丙"), ("sup_off", "休息员丁"),
        ("sup_locked", "锁定员戊"), ("sup_gone", "停用员己"))}
    x, y = INSIDE
    service.report_position(made["sup_near"], x + 30, y + 40, True)  # 50 m
    service.report_position(made["sup_far"], x + 300, y, True)  # 300 m
    service.report_position(made["sup_off"], x + 6, y + 8, False)  # 10 m but off duty
    service.report_position(made["sup_locked"], x + 3, y + 4, True)  # 5 m, then locked
    service.report_position(made["sup_gone"], x + 1, y, True)  # 1 m, then disabled
    _set(store, "sup_locked", locked=True)
    _set(store, "sup_gone", active=False)
    # a dispatcher with a position row written behind the service's back is never a supervisor
    disp = world.actors["dispatcher"]
    with store.session() as s, s.begin():
        from geoalchemy2 import WKTElement

        s.add(SupervisorPosition(username=disp.username, on_duty=True, at=T0,
                                 geom=WKTElement(f"POINT({x} {y})", srid=4549)))
    assert service.assign(world.actors["admin"], GRID, "sup_grid") == "sup_grid"
    return service, made


def _calendar():
    from app.domain.calendar import WorkCalendar

    return WorkCalendar()


def _reported(svc, world):
    return svc.report(world.actors["supervisor"], draft(source="supervisor"))


def test_the_grid_s_supervisor_comes_first_then_the_nearest_on_duty(svc, world, sups):
    service, _made = sups
    r = _reported(svc, world)
    ranked = service.suggest_supervisors(r.case.id)
    assert [s.username for s in ranked] == ["sup_grid", "sup_near", "sup_far"]
    assert [s.rank for s in ranked] == [1, 2, 3]
    first, near, far = ranked
    assert first.assigned and first.on_duty is None and first.distance_m is None
    assert "本网格的责任监督员" in first.reasons and "尚未上报位置" in first.reasons
    assert (near.distance_m, far.distance_m) == (50.0, 300.0)
    assert any(str(m) == "距案卷 50 米" for m in near.reasons)
    text = str(suggestions_for(svc.store, r.case.id))
    assert "1. 网格员甲（sup_grid）" in text and "2. 巡查员乙（sup_near）" in text


def test_an_assigned_supervisor_who_went_off_duty_comes_after_those_on_duty(svc, world, sups, clock):
    service, made = sups
    x, y = INSIDE
    service.report_position(made["sup_grid"], x, y, False)
    r = _reported(svc, world)
    ranked = service.suggest_supervisors(r.case.id)
    assert [s.username for s in ranked] == ["sup_near", "sup_far", "sup_grid"]
    assert ranked[-1].on_duty is False and ranked[-1].assigned
    service.report_position(made["sup_grid"], None, None, True)  # back on duty, the point kept
    assert [s.username for s in service.suggest_supervisors(r.case.id)][0] == "sup_grid"
    pos = {p.username: p for p in service.positions()}["sup_grid"]
    assert pos.on_duty and (pos.x, pos.y) == (x, y)


def test_send_verify_defaults_to_the_first_suggestion(svc, world, sups, store):
    r = _reported(svc, world)
    r = svc.send_verify(world.actors["acceptor"], r.case.id, r.version)
    assert r.case.state is CaseState.VERIFYING
    assert r.details["supervisor"]["username"] == "sup_grid" and r.details["supervisor"]["suggested"]
    with store.session() as s:
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == r.case.id).order_by(CaseEvent.seq.desc())).first()
        assert event.action == "send_verify" and event.payload["supervisor"] == "sup_grid"


def test_send_check_names_the_supervisor_given(svc, world, sups, store):
    cid, version = seed_case(store, world, CaseState.FED_BACK, at=T0)
    r = svc.send_check(world.actors["acceptor"], cid, version, supervisor="sup_far", note="请核查")
    assert r.case.state is CaseState.CHECKING and r.details["supervisor"]["username"] == "sup_far"
    assert not r.details["supervisor"]["suggested"]


@pytest.mark.parametrize(("name", "words"), [
    ("nobody", "不存在"), ("dispatcher", "不是监督员"), ("sup_locked", "已锁定"), ("sup_gone", "已停用")])
def test_a_named_supervisor_must_exist_be_active_and_a_supervisor(svc, world, sups, name, words):
    r = _reported(svc, world)
    with pytest.raises(ValidationError) as info:
        svc.send_verify(world.actors["acceptor"], r.case.id, r.version, supervisor=name)
    assert info.value.field == "supervisor" and words in str(info.value)
    assert svc.get(r.case.id).version == r.version and svc.get(r.case.id).state is CaseState.REPORTED  # nothing written


def test_without_any_supervisor_to_suggest_the_task_goes_out_unnamed(svc, world):
    r = _reported(svc, world)
    r = svc.send_verify(world.actors["acceptor"], r.case.id, r.version)
    assert r.case.state is CaseState.VERIFYING and "supervisor" not in r.details
    assert any("没有可建议的监督员" in str(w) for w in r.warnings)


def test_only_a_supervisor_reports_its_position_and_a_sane_one(store, world, clock, sups):
    service, made = sups
    with pytest.raises(PermissionDenied):
        service.report_position(world.actors["acceptor"], *INSIDE, True)
    with pytest.raises(ValidationError) as info:
        service.report_position(made["sup_near"], 1.0, 2.0, True)
    assert "EPSG:4549" in str(info.value)
    with pytest.raises(ValidationError):
        service.report_position(made["sup_near"], INSIDE[0], None, True)
    with pytest.raises(ValidationError) as info:
        service.report_position(world.actors["supervisor"], None, None, True)  # no row yet, no point
    assert "第一次上报" in str(info.value)
    with pytest.raises(ValidationError):
        service.report_position(made["sup_locked"], *INSIDE, True)  # a locked account reports nothing


def test_only_the_administrator_assigns_grids(world, sups):
    service, _made = sups
    with pytest.raises(PermissionDenied):
        service.assign(world.actors["acceptor"], GRID, "sup_near")
    with pytest.raises(ValidationError):
        service.assign(world.actors["admin"], GRID, "dispatcher")
    assert service.assign(world.actors["admin"], GRID, "sup_near") == "sup_near"
    assert service.assignments()[GRID] == "sup_near"
    assert service.assign(world.actors["admin"], GRID, None) is None
    assert service.assignments()[GRID] is None


def test_task_lists_their_scope_timers_and_overdue(svc, world, sups, store, clock):
    service, made = sups
    a = world.actors
    mine = _reported(svc, world)
    mine = svc.send_verify(a["acceptor"], mine.case.id, mine.version)  # → sup_grid (suggested)
    theirs = _reported(svc, world)
    theirs = svc.send_verify(a["acceptor"], theirs.case.id, theirs.version, supervisor="sup_near")
    cid, version = seed_case(store, world, CaseState.FED_BACK, at=T0)
    check = svc.send_check(a["acceptor"], cid, version, supervisor="sup_grid")
    not_a_task = _reported(svc, world)  # reported, never sent

    everything = service.tasks(a["acceptor"])
    assert {t.case.id for t in everything} == {mine.case.id, theirs.case.id, check.case.id}
    assert not_a_task.case.id not in {t.case.id for t in everything}
    by_case = {t.case.id: t for t in everything}
    assert (by_case[mine.case.id].stage, by_case[mine.case.id].supervisor) == (Stage.VERIFY, "sup_grid")
    assert (by_case[check.case.id].stage, by_case[check.case.id].supervisor) == (Stage.CHECK, "sup_grid")
    assert by_case[mine.case.id].light is Light.GREEN and by_case[mine.case.id].deadline is not None
    assert by_case[mine.case.id].sent_by == a["acceptor"].username

    own = service.tasks(made["sup_grid"])
    assert {t.case.id for t in own} == {mine.case.id, check.case.id}
    assert {t.case.id for t in service.tasks(a["acceptor"], supervisor="sup_near")} == {theirs.case.id}
    with pytest.raises(PermissionDenied):
        service.tasks(made["sup_grid"], supervisor="sup_near")
    with pytest.raises(PermissionDenied):
        service.tasks(a["dept_jd"])

    assert service.tasks(a["acceptor"], overdue=True) == []
    clock.advance(timedelta(minutes=61))  # the verify limit (general): 60 natural minutes
    late = service.tasks(a["acceptor"], overdue=True)
    assert mine.case.id in {t.case.id for t in late}
    assert all(t.light is Light.RED and t.remaining_minutes < 0 for t in late)

    # done: a verified case is no longer a task
    svc.verify(made["sup_grid"], mine.case.id, mine.version, result="属实")
    assert mine.case.id not in {t.case.id for t in service.tasks(made["sup_grid"])}


def test_every_category_has_verify_and_check_limits(svc):
    from app.domain.definitions import Kind, Level

    limits = svc.limits
    for kind, code in (("event", "06010"), ("component", "01002"), ("event", "99999")):
        for level in Level:
            for stage in (Stage.VERIFY, Stage.CHECK):
                rule = limits.lookup(Kind(kind), code, level, stage)
                assert rule.minutes > 0


def _split_at_inside(store, world):
    """Grid GRID split west|east at x = 557120 (INSIDE lies in the east part); the new codes, east first."""
    from app.domain.clock import FixedClock
    from app.services.base_maintenance import BaseMaintenance
    from app.store.models import UnitGrid

    bm = BaseMaintenance(store, FixedClock(T0))
    codes = bm.split_grid(world.actors["admin"], GRID, [(557120, 3464390), (557120, 3464510)], reason="拆分").codes
    codes = tuple(c for c in codes if c != GRID)
    assert len(codes) == 2
    with store.session() as s:
        east = s.scalar(select(UnitGrid.code).where(UnitGrid.code.in_(codes),
                                                    func.ST_X(func.ST_Centroid(UnitGrid.geom)) > 557120))
    return [east] + [c for c in codes if c != east]


def test_assignment_lists_and_assign_offer_only_grids_in_use(store, world, sups):
    service, _made = sups
    east, west = _split_at_inside(store, world)
    listed = service.assignments()
    assert GRID not in listed and {east, west} <= set(listed) and len(listed) == 17  # 16 - 1 + 2
    with pytest.raises(ValidationError) as refused:
        service.assign(world.actors["admin"], GRID, "sup_near")
    assert "已于" in str(refused.value.msg) and "注销" in str(refused.value.msg)
    assert service.assign(world.actors["admin"], east, "sup_near") == "sup_near"
    assert service.assignments()[east] == "sup_near"


def test_a_case_in_a_since_retired_grid_gets_the_supervisor_of_the_grid_in_use_there(svc, store, world, sups):
    service, _made = sups
    r = _reported(svc, world)  # reported in GRID (sup_grid's), which is then split
    east, _west = _split_at_inside(store, world)
    assert service.assign(world.actors["admin"], east, "sup_far") == "sup_far"
    ranked = service.suggest_supervisors(r.case.id)
    assert ranked[0].username == "sup_far" and ranked[0].assigned
    assert not any(s.assigned for s in ranked if s.username == "sup_grid")
