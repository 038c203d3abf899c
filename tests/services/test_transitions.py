"""Every transition of the workflow table, allowed and refused per role, through the services."""

from __future__ import annotations

import pytest

from app.domain.clock import FixedClock
from app.domain.definitions import Action, CaseState, Role
from app.domain.workflow import WORKFLOW, Outcome, Transition
from app.services.errors import PermissionDenied
from app.store import queries
from services.seed import origin_of, seed_case
from services.world import T0, draft, service

PAIRS = [(t, s) for t in WORKFLOW.transitions for s in sorted(t.from_states - {None}, key=list(CaseState).index)]


def _id(pair) -> str:
    t, s = pair
    suffix = f"-{t.outcome.value}" if t.outcome else ""
    return f"{t.action.value}{suffix}-from-{s.value}"


def perform(svc, actor, t: Transition, case_id: int, version: int, original_id: int):
    """Call the service method of ``t.action`` with valid arguments."""
    a, reason = t.action, "测试理由"
    calls = {
        Action.SEND_VERIFY: lambda: svc.send_verify(actor, case_id, version),
        Action.VERIFY: lambda: svc.verify(actor, case_id, version, result="现场属实"),
        Action.FILE: lambda: svc.file(actor, case_id, version),
        Action.REJECT: lambda: svc.reject(actor, case_id, version, reason=reason),
        Action.LINK: lambda: svc.link(actor, case_id, version, original=original_id),
        Action.DISPATCH: lambda: svc.dispatch(actor, case_id, version, department="JD001"),
        Action.ACCEPT: lambda: svc.accept(actor, case_id, version),
        Action.REQUEST_RETURN: lambda: svc.request_return(actor, case_id, version, reason=reason),
        Action.REQUEST_EXTENSION: lambda: svc.request_extension(actor, case_id, version, minutes=60, reason=reason),
        Action.REQUEST_DEFER: lambda: svc.request_defer(actor, case_id, version, reason=reason),
        Action.REQUEST_SHELVE: lambda: svc.request_shelve(actor, case_id, version, reason=reason),
        Action.REQUEST_VOID: lambda: svc.request_void(actor, case_id, version, reason=reason),
        Action.APPROVE: lambda: svc.approve(actor, case_id, version),
        Action.REFUSE: lambda: svc.refuse(actor, case_id, version, reason=reason),
        Action.FEEDBACK: lambda: svc.feedback(actor, case_id, version, text="已处置"),
        Action.SEND_CHECK: lambda: svc.send_check(actor, case_id, version),
        Action.CHECK: lambda: svc.check(actor, case_id, version, outcome=t.outcome,
                                        reason=reason if t.outcome is Outcome.FAILED else None),
        Action.CLOSE: lambda: svc.close(actor, case_id, version, override=True, note=reason),  # seeded: no photos
        Action.REWORK: lambda: svc.rework(actor, case_id, version, reason=reason),
        Action.VOID: lambda: svc.void(actor, case_id, version, reason=reason),
        Action.URGE: lambda: svc.urge(actor, case_id, version),
        Action.RESTORE: lambda: svc.restore(actor, case_id, version),
        Action.REPLY: lambda: svc.reply(actor, case_id, version, text="您好，已收到"),
        Action.EDIT: lambda: svc.edit(actor, case_id, version, reason=reason, address="人民路21号（更正）"),
        Action.DISPUTE: lambda: svc.dispute(actor, case_id, version, reason=reason),
        Action.RULE: lambda: svc.rule(actor, case_id, version, department="HW", ruling="reassigned", reason=reason),
        Action.CALLBACK: lambda: _public(svc.store, case_id) or svc.callback(actor, case_id, version,
                                                                            result="satisfied"),
    }
    return calls[a]()


def _public(store, case_id: int) -> None:
    """Make a seeded case a public report (a call-back is made only to reporters who get replies)."""
    from sqlalchemy import update

    from app.store.models import Case

    with store.session() as s, s.begin():
        s.execute(update(Case).where(Case.id == case_id).values(source="public"))


@pytest.fixture(scope="module")
def matrix(shared_store):
    store, world = shared_store
    svc = service(store, FixedClock(T0))
    original, _ = seed_case(store, world, CaseState.FILED, at=T0)
    return store, world, svc, original


@pytest.mark.parametrize("pair", PAIRS, ids=[_id(p) for p in PAIRS])
def test_transition_allowed_and_refused_per_role(matrix, pair):
    store, world, svc, original = matrix
    t, state = pair
    target = t.target(state, origin_of(state))
    refused_case, refused_version = seed_case(store, world, state, at=T0)  # a refusal changes nothing
    for role in Role:
        actor = world.by_role(role)
        if role in t.roles:
            case_id, version = seed_case(store, world, state, at=T0)
            result = perform(svc, actor, t, case_id, version, original)
            assert result.case.state is target, role
            assert result.version > version
        else:
            with pytest.raises(PermissionDenied) as err:
                perform(svc, actor, t, refused_case, refused_version, original)
            assert role.label in str(err.value)
    with store.session() as s:
        assert queries.case_summary(s, refused_case).version == refused_version  # nothing written


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_report_allowed_and_refused_per_role(matrix, role):
    store, world, svc, _ = matrix
    allowed = WORKFLOW.roles_for(None, Action.REPORT)
    actor = world.by_role(role)
    if role in allowed:
        result = svc.report(actor, draft())
        assert result.case.state is CaseState.REPORTED and result.version >= 1
    else:
        with store.session() as s:
            before = len(queries.open_case_summaries(s))
        with pytest.raises(PermissionDenied):
            svc.report(actor, draft())
        with store.session() as s:
            assert len(queries.open_case_summaries(s)) == before
