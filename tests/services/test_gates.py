"""The verification gate (issue 11, item 1): which reports are verified before filing, and a
report verified as not confirmed is never filed; the reporter is told what really happened.

Both backends (on PostGIS the database's own trigger is attacked in tests/store/test_gates_pg.py).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.commands import builtin_commands
from app.domain.definitions import Action, CaseState, Role
from app.i18n import Catalogue
from app.services.errors import ValidationError
from app.store.models import CaseEvent, SourceRule
from services.world import draft, verified


def _events(store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent))


def _refused_filing(svc, store, actor, r, *words: str) -> ValidationError:
    before = _events(store)
    with pytest.raises(ValidationError) as err:
        svc.file(actor, r.case.id, r.version)
    assert err.value.field == "verify"
    for w in words:
        assert w in str(err.value), str(err.value)
    assert _events(store) == before and svc.get(r.case.id).state is CaseState.REPORTED  # nothing written
    return err.value


def _replies(svc, case_id: int) -> list[str]:
    return [e.payload["text"] for e in svc.events(case_id) if e.action == Action.REPLY.value]


@pytest.mark.parametrize("source", ["public", "hotline", "media", "police"])
def test_reports_from_the_public_channels_are_verified_before_filing(svc, world, store, source):
    a = world.actors
    r = svc.report(a["acceptor"], draft(source=source))
    _refused_filing(svc, store, a["leader_shift"], r, "须先由监督员现场核实", "派发核实")
    r = verified(svc, world, r)
    filed = svc.file(a["leader_shift"], r.case.id, r.version)
    assert filed.case.state is CaseState.FILED


@pytest.mark.parametrize("who, source", [("supervisor", None), ("acceptor", "video"), ("boss", None),
                                         ("dept_jd", None)])
def test_supervisor_video_leader_and_department_reports_are_filed_directly(svc, world, who, source):
    a = world.actors
    r = svc.report(a[who], draft(source=source))
    assert r.case.source.value in ("supervisor", "video", "leader", "department")
    assert svc.allowed_actions(a["leader_shift"], r.case.id)[:1] == [Action.FILE]
    assert svc.action_blocks(a["leader_shift"], r.case.id) == {}
    assert svc.file(a["leader_shift"], r.case.id, r.version).case.state is CaseState.FILED


def test_a_not_confirmed_verification_is_never_filed_and_the_reply_says_why(svc, world, store):
    a = world.actors
    r = svc.report(a["acceptor"], draft(source="public", reporter_phone="13800138000"))
    r = verified(svc, world, r, confirmed=False, text="现场未发现垃圾")
    assert any("不属实" in w for w in r.warnings)  # the supervisor's finding says what comes next
    error = _refused_filing(svc, store, a["leader_shift"], r, "不属实", "现场未发现垃圾", "不予立案", "派发核实")
    assert "not confirmed" in Catalogue("en").error(error)
    # the desk does not offer 立案, and says why
    assert Action.FILE not in svc.allowed_actions(a["leader_shift"], r.case.id)
    assert Action.REJECT in svc.allowed_actions(a["leader_shift"], r.case.id)
    assert "不属实" in svc.action_blocks(a["leader_shift"], r.case.id)[Action.FILE]
    rejected = svc.reject(a["leader_shift"], r.case.id, r.version, reason="经现场核实，问题不属实")
    assert rejected.case.state is CaseState.NOT_FILED
    replies = _replies(svc, r.case.id)
    assert len(replies) == 1 and "不予立案" in replies[0] and "经现场核实，问题不属实" in replies[0]
    assert not any("已立案" in text for text in replies)


def test_a_not_confirmed_supervisor_report_is_not_filed_either(svc, world, store):
    a = world.actors
    r = svc.report(a["supervisor"], draft())
    r = verified(svc, world, r, confirmed=False, text="已自行清理")
    _refused_filing(svc, store, a["leader_shift"], r, "不属实")


def test_a_second_verification_decides(svc, world, store):
    a = world.actors
    r = svc.report(a["acceptor"], draft(source="hotline"))
    r = verified(svc, world, r, confirmed=False, text="未找到")
    _refused_filing(svc, store, a["leader_shift"], r, "不属实")
    r = verified(svc, world, r, confirmed=True, text="再次核实：属实，在路口东侧")
    filed = svc.file(a["leader_shift"], r.case.id, r.version)
    assert filed.case.state is CaseState.FILED
    assert any("已立案" in text for text in _replies(svc, r.case.id))  # said only once it is filed


def test_the_source_rules_are_data(svc, world, store):
    a = world.actors
    with store.session() as s:
        rules = dict(s.execute(select(SourceRule.source, SourceRule.verify_before_filing)).all())
    assert rules == {"public": True, "hotline": True, "media": True, "police": True, "supervisor": False,
                     "video": False, "leader": False, "department": False}
    with store.session() as s, s.begin():
        s.execute(update(SourceRule).where(SourceRule.source == "hotline").values(verify_before_filing=False))
    r = svc.report(a["acceptor"], draft(source="hotline"))
    assert svc.file(a["leader_shift"], r.case.id, r.version).case.state is CaseState.FILED


def test_the_file_command_reports_the_gate_in_english_too(svc, world):
    a = world.actors
    r = svc.report(a["acceptor"], draft(source="public"))
    command = next(c for c in builtin_commands() if c.action is Action.FILE)
    with pytest.raises(ValidationError) as err:
        command.run(svc, a["leader_shift"], r.case.id, r.version, {})
    english = Catalogue("en").error(err.value)
    assert "verified on site" in english and "Send it to verify" in english


def test_only_the_shift_leader_files(svc, world):
    a = world.actors
    r = svc.report(a["supervisor"], draft())
    assert Action.FILE not in svc.allowed_actions(world.by_role(Role.DISPATCHER), r.case.id)
    assert svc.action_blocks(world.by_role(Role.DISPATCHER), r.case.id) == {}
