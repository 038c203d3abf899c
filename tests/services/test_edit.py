"""修改 edit through the services, on SpatiaLite and PostGIS (issue 8, must deliver 1).

A case's descriptive fields change only through a recorded ``edit`` event that keeps each
field's value before and after; on PostGIS the database applies the change (migration 0012).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.commands.builtin import builtin_commands, command_id
from app.domain.definitions import Action, CaseState
from app.services.errors import (
    ConflictError,
    InvalidTransition,
    PermissionDenied,
    ServiceError,
    ValidationError,
)
from app.services.location import LocationInput
from app.services.search import CaseSearch
from app.store.commands import verify_audit
from app.store.models import Case, CaseEvent
from services.world import INSIDE, draft, verified


@pytest.fixture
def handling(svc, world):
    """A hotline report with reporter and phone, filed, dispatched to JD001 and accepted."""
    a = world.actors
    r = svc.report(a["acceptor"], draft(location=LocationInput(x=INSIDE[0], y=INSIDE[1], address="人民路12号"), source="hotline", reporter_name="刘先生",
                                        reporter_phone="13800138000"))
    r = verified(svc, world, r)  # a hotline report: verified on site before filing
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    return svc.accept(a["dept_jd"], r.case.id, r.version)


def row(store, case_id: int) -> Case:
    with store.session() as s:
        case = s.get(Case, case_id)
        s.expunge(case)
        return case


def events(store, case_id: int) -> list[CaseEvent]:
    with store.session() as s:
        return list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)))


def test_an_edit_changes_the_fields_and_records_before_and_after(store, svc, world, handling):
    case = handling.case.id
    before = row(store, case)
    r = svc.edit(world.actors["dispatcher"], case, handling.version, reason="地址笔误",
                 address="人民路21号", reporter_phone="13900139000")
    after = row(store, case)
    assert (after.address, after.reporter_phone) == ("人民路21号", "13900139000")
    assert (after.description, after.reporter_name) == (before.description, "刘先生")
    # The loop columns move as for any step that keeps the state: version and time only.
    assert (after.state, after.version) == (CaseState.HANDLING.value, handling.version + 1)
    assert (after.deadline_at, after.department_id, after.stage) == (before.deadline_at, before.department_id,
                                                                     before.stage)
    assert r.version == after.version and r.case.address == "人民路21号"
    last = svc.events(case)[-1]
    assert (last.action, last.from_state, last.to_state, last.reason) == ("edit", "handling", "handling", "地址笔误")
    assert last.payload["changes"] == {"address": ["人民路12号", "人民路21号"],
                                       "reporter_phone": ["13800138000", "13900139000"]}
    assert verify_audit(store) is None


def test_search_finds_the_new_address_and_not_the_old_one(store, svc, world, handling):
    find = CaseSearch(store).find
    assert {x.id for x in find("人民路12号").rows} == {handling.case.id}
    svc.edit(world.actors["acceptor"], handling.case.id, handling.version, reason="地址笔误", address="解放路8号")
    assert {x.id for x in find("解放路8号").rows} == {handling.case.id}
    assert handling.case.id not in {x.id for x in find("人民路12号").rows}


def test_input_policy_applies_and_empty_text_clears_an_optional_field(store, svc, world, handling):
    a, case = world.actors, handling.case.id
    r = svc.edit(a["leader_shift"], case, handling.version, reason="举报人要求匿名", reporter_name="  ",
                 description="  井盖缺失，已设置围挡  ", reporter_phone="１３９００１３９０００")
    after = row(store, case)
    assert after.reporter_name is None and after.description == "井盖缺失，已设置围挡"
    assert after.reporter_phone == "13900139000"  # digits normalised (NFKC)
    assert svc.events(case)[-1].payload["changes"]["reporter_name"] == ["刘先生", None]
    for bad in ({"description": " "}, {"address": "人民路\x07号"}, {"address": "路" * 201},
                {"reporter_phone": "138\u202e0013"}):
        with pytest.raises(ValidationError):
            svc.edit(a["dispatcher"], case, r.version, reason="改", **bad)
    assert row(store, case).version == r.version  # nothing written


def test_nothing_to_change_is_refused(store, svc, world, handling):
    a, case = world.actors, handling.case.id
    recorded = len(events(store, case))
    with pytest.raises(ValidationError, match="没有要修改的内容"):
        svc.edit(a["dispatcher"], case, handling.version, reason="改")
    with pytest.raises(ValidationError, match="没有要修改的内容"):
        svc.edit(a["dispatcher"], case, handling.version, reason="改", address="人民路12号")
    assert len(events(store, case)) == recorded


def test_who_when_and_why(store, svc, world, handling):
    a, case = world.actors, handling.case.id
    for who in ("dept_jd", "supervisor", "boss", "analyst", "admin"):
        with pytest.raises(PermissionDenied):
            svc.edit(a[who], case, handling.version, reason="改", address="别处")
    with pytest.raises(ServiceError):
        svc.edit(a["dispatcher"], case, handling.version, reason=" ", address="别处")  # a reason is required
    with pytest.raises(ConflictError):
        svc.edit(a["dispatcher"], case, handling.version - 1, reason="改", address="别处")  # stale version
    closed = svc.report(a["acceptor"], draft())
    closed = svc.reject(a["leader_shift"], closed.case.id, closed.version, reason="不属于受理范围")
    with pytest.raises(InvalidTransition):
        svc.edit(a["acceptor"], closed.case.id, closed.version, reason="改", address="别处")
    assert row(store, case).address == "人民路12号"


def test_the_edit_command_is_declared_for_the_cli_and_the_gui(world):
    command = next(c for c in builtin_commands() if c.action is Action.EDIT)
    assert command.id == command_id(Action.EDIT) == "gridhall.case.edit" and command.verb == "edit"
    assert [f.name for f in command.fields] == ["address", "description", "reporter_name", "reporter_phone",
                                                "reason"]
    assert [f.cli_option for f in command.fields][2:4] == ["--reporter", "--phone"]


def test_the_command_leaves_empty_fields_as_they_are(store, svc, world, handling):
    command = next(c for c in builtin_commands() if c.action is Action.EDIT)
    values = {"address": "", "description": None, "reporter_name": "", "reporter_phone": "13900139000",
              "reason": "电话笔误"}
    command.call(svc, world.actors["acceptor"], handling.case.id, handling.version, values)
    after = row(store, handling.case.id)
    assert (after.address, after.reporter_name, after.reporter_phone) == ("人民路12号", "刘先生", "13900139000")
