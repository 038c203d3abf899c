"""The case state machine: table properties, per-role permissions, messages, history."""

from __future__ import annotations

from collections import deque

import pytest

from app.domain.definitions import OPEN_STATES, Action, CaseState, Role, Stage
from app.domain.workflow import (
    REQUEST_STATES,
    TRANSITIONS,
    WORKFLOW,
    Outcome,
    Relative,
    Transition,
    TransitionError,
    Workflow,
    pauses_timer,
    replay,
    request_origin,
    stage_for,
)

S, A, R = CaseState, Action, Role


def successors(state):
    """Concrete next states of ``state`` over the whole table (any role, any outcome)."""
    out = set()
    for t in TRANSITIONS:
        if state not in t.from_states:
            continue
        if t.to_state is Relative.SAME:
            out.add(state)
        elif t.to_state is Relative.PREVIOUS:
            out |= WORKFLOW.request_origins(state)
        else:
            out.add(t.to_state)
    return out


def reachable(start):
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in successors(todo.popleft()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def kwargs_for(t: Transition, state):
    """Arguments that satisfy a transition's reason/outcome/previous-state needs."""
    kw = {"reason": "测试理由" if t.needs_reason else None, "outcome": t.outcome}
    if t.to_state is Relative.PREVIOUS:
        kw["previous_state"] = min(WORKFLOW.request_origins(state), key=list(S).index)
    return kw


CASES = [(t, s) for t in TRANSITIONS for s in sorted(t.from_states, key=lambda x: -1 if x is None else list(S).index(x))]
REFUSED = [(t, s, r) for t, s in CASES for r in R if r not in t.roles]
GRANTED = [(t, s, r) for t, s in CASES for r in t.roles]


def case_id(value):
    if isinstance(value, Transition):
        return value.action.value + (f"-{value.outcome.value}" if value.outcome else "")
    return getattr(value, "value", str(value))


class TestTable:
    def test_every_state_is_reachable_from_a_new_case(self):
        assert reachable(None) - {None} == set(S)

    def test_every_open_state_has_a_way_out(self):
        for state in S:
            if not state.is_terminal:
                assert successors(state) - {state}, state

    def test_every_open_state_can_still_end(self):
        terminal = {s for s in S if s.is_terminal}
        for state in S:
            if not state.is_terminal:
                assert reachable(state) & terminal, state

    def test_terminal_states_only_allow_the_reply_and_the_callback(self):
        for state in S:
            if state.is_terminal:
                assert successors(state) == {state}
                expected = {A.REPLY, A.CALLBACK} if state is S.CLOSED else {A.REPLY}
                assert {t.action for t in TRANSITIONS if state in t.from_states} == expected

    def test_every_action_is_in_the_table(self):
        assert {t.action for t in TRANSITIONS} == set(A)

    def test_system_may_do_everything_admin_and_analyst_nothing(self):
        assert all(R.SYSTEM in t.roles for t in TRANSITIONS)
        for state in [None, *S]:
            assert WORKFLOW.allowed(state, R.ADMIN) == []
            assert WORKFLOW.allowed(state, R.ANALYST) == []

    def test_refusals_and_requests_need_reasons(self):
        for t in TRANSITIONS:
            if t.action in (A.REJECT, A.REFUSE, A.REWORK, A.VOID) or t.action.value.startswith("request_"):
                assert t.needs_reason, t.action

    def test_ambiguous_rows_are_rejected(self):
        row = Transition(A.CLOSE, frozenset({S.CHECKED}), S.CLOSED, frozenset({R.SHIFT_LEADER}))
        with pytest.raises(ValueError, match="ambiguous"):
            Workflow([row, row])


@pytest.mark.parametrize("t, state, role", REFUSED, ids=case_id)
def test_roles_not_in_a_row_are_refused_with_the_needed_role(t, state, role):
    with pytest.raises(TransitionError) as err:
        WORKFLOW.check(state, t.action, role, **kwargs_for(t, state))
    msg = str(err.value)
    assert msg.startswith(f"「{role.label}」无权执行「{t.action.label}」，需要")
    for needed in t.roles - {R.SYSTEM}:
        assert f"「{needed.label}」" in msg
    assert "「系统」" not in msg


@pytest.mark.parametrize("t, state, role", GRANTED, ids=case_id)
def test_roles_in_a_row_are_granted(t, state, role):
    kw = kwargs_for(t, state)
    assert WORKFLOW.check(state, t.action, role, **kw) == t
    expected = t.target(state, kw.get("previous_state"))
    assert WORKFLOW.next_state(state, t.action, role, **kw) == expected
    assert t in WORKFLOW.allowed(state, role)


class TestMessages:
    def test_wrong_state(self):
        with pytest.raises(TransitionError) as err:
            WORKFLOW.check(S.FILED, A.CLOSE, R.SHIFT_LEADER)
        assert str(err.value) == "案卷当前状态为「待派遣」，不能执行「结案」：只有「待结案」的案卷可以结案"

    def test_wrong_role(self):
        with pytest.raises(TransitionError) as err:
            WORKFLOW.check(S.REPORTED, A.FILE, R.DISPATCHER)
        assert str(err.value) == "「派遣员」无权执行「立案」，需要「值班长」"

    def test_state_is_checked_before_role(self):
        with pytest.raises(TransitionError, match="只有「待结案」"):
            WORKFLOW.check(S.FILED, A.CLOSE, R.DEPARTMENT)

    def test_terminal_state(self):
        with pytest.raises(TransitionError, match="「已结案」的案卷已办结"):
            WORKFLOW.check(S.CLOSED, A.URGE, R.LEADER)

    def test_new_case_and_repeated_report(self):
        with pytest.raises(TransitionError, match="只能先执行「上报」"):
            WORKFLOW.check(None, A.DISPATCH, R.DISPATCHER)
        with pytest.raises(TransitionError, match="不能重复上报"):
            WORKFLOW.check(S.FILED, A.REPORT, R.ACCEPTOR)

    def test_reason_required(self):
        with pytest.raises(TransitionError, match="「不予立案」必须填写理由"):
            WORKFLOW.check(S.REPORTED, A.REJECT, R.SHIFT_LEADER, reason="  ")
        assert WORKFLOW.next_state(S.REPORTED, A.REJECT, R.SHIFT_LEADER, reason="不属于城管范围") is S.NOT_FILED

    def test_values_and_labels_are_accepted(self):
        assert WORKFLOW.next_state("checked", "结案", "值班长") is S.CLOSED
        with pytest.raises(TransitionError, match="not a valid Action"):
            WORKFLOW.check(S.CHECKED, "no_such_action", R.SHIFT_LEADER)
        with pytest.raises(TransitionError, match="not a valid Role"):
            WORKFLOW.check(S.CHECKED, A.CLOSE, "boss")


class TestOutcomes:
    def test_check_passed_and_failed(self):
        assert WORKFLOW.next_state(S.CHECKING, A.CHECK, R.SUPERVISOR, outcome=Outcome.PASSED) is S.CHECKED
        failed = WORKFLOW.check(S.CHECKING, A.CHECK, R.SUPERVISOR, outcome="failed", reason="井盖仍缺失")
        assert failed.to_state is S.DISPATCHED and failed.reworks

    def test_check_needs_an_outcome(self):
        with pytest.raises(TransitionError, match="需要给出结果：通过或不通过"):
            WORKFLOW.check(S.CHECKING, A.CHECK, R.SUPERVISOR)
        with pytest.raises(TransitionError, match="结果 'maybe' 无效"):
            WORKFLOW.check(S.CHECKING, A.CHECK, R.SUPERVISOR, outcome="maybe")

    def test_actions_without_outcomes_refuse_one(self):
        with pytest.raises(TransitionError, match="没有结果选项"):
            WORKFLOW.check(S.CHECKED, A.CLOSE, R.SHIFT_LEADER, outcome=Outcome.PASSED)

    def test_target_state_ignores_role_and_reason(self):
        assert WORKFLOW.target_state(A.CHECK, S.CHECKING, Outcome.FAILED) is S.DISPATCHED
        assert WORKFLOW.target_state(A.URGE, S.HANDLING) is S.HANDLING

    def test_rework_bumps(self):
        assert WORKFLOW.check(S.CHECKED, A.REWORK, R.DISPATCHER, reason="缺处置后照片").reworks
        assert not WORKFLOW.check(S.CHECKED, A.CLOSE, R.SHIFT_LEADER).reworks


class TestRequests:
    @pytest.mark.parametrize("request_state, approved", [
        (S.RETURN_REQUESTED, S.FILED), (S.EXTENSION_REQUESTED, S.HANDLING),
        (S.DEFER_REQUESTED, S.DEFERRED), (S.SHELVE_REQUESTED, S.SHELVED), (S.VOID_REQUESTED, S.VOIDED),
    ])
    def test_approve(self, request_state, approved):
        role = R.SHIFT_LEADER if request_state is S.VOID_REQUESTED else R.DISPATCHER
        assert WORKFLOW.next_state(request_state, A.APPROVE, role) is approved

    def test_refuse_infers_a_unique_origin(self):
        assert WORKFLOW.next_state(S.EXTENSION_REQUESTED, A.REFUSE, R.DISPATCHER, reason="时限充足") is S.HANDLING

    def test_refuse_needs_the_origin_when_ambiguous(self):
        with pytest.raises(TransitionError, match="「待接收」或「处置中」"):
            WORKFLOW.next_state(S.RETURN_REQUESTED, A.REFUSE, R.DISPATCHER, reason="属于你部门")
        assert WORKFLOW.next_state(S.RETURN_REQUESTED, A.REFUSE, R.DISPATCHER, reason="属于你部门",
                                   previous_state=S.DISPATCHED) is S.DISPATCHED

    def test_refuse_rejects_an_impossible_origin(self):
        with pytest.raises(TransitionError, match="不可能是「待派遣」"):
            WORKFLOW.next_state(S.DEFER_REQUESTED, A.REFUSE, R.DISPATCHER, reason="x", previous_state=S.FILED)

    def test_origins(self):
        assert WORKFLOW.request_origins(S.RETURN_REQUESTED) == {S.DISPATCHED, S.HANDLING}
        assert WORKFLOW.request_origins(S.VOID_REQUESTED) == {s for s in S if not s.is_terminal} - {S.VOID_REQUESTED}

    def test_request_origin_from_history_with_a_nested_void_request(self):
        history = [
            (A.REPORT, None, S.REPORTED), (A.FILE, S.REPORTED, S.FILED),
            (A.DISPATCH, S.FILED, S.DISPATCHED), (A.ACCEPT, S.DISPATCHED, S.HANDLING),
            ("request_extension", "handling", "extension_requested"),
        ]
        assert request_origin(history) is S.HANDLING
        history.append((A.REQUEST_VOID, S.EXTENSION_REQUESTED, S.VOID_REQUESTED))
        assert request_origin(history) is S.EXTENSION_REQUESTED
        history.append((A.URGE, S.VOID_REQUESTED, S.VOID_REQUESTED))
        assert request_origin(history) is S.EXTENSION_REQUESTED
        history.append((A.REFUSE, S.VOID_REQUESTED, S.EXTENSION_REQUESTED))
        assert request_origin(history) is S.HANDLING
        history.append((A.APPROVE, S.EXTENSION_REQUESTED, S.HANDLING))
        assert request_origin(history) is None


class TestReplay:
    PUBLIC_REPORT = [
        (A.REPORT, R.ACCEPTOR), (A.SEND_VERIFY, R.ACCEPTOR), (A.VERIFY, R.SUPERVISOR),
        (A.FILE, R.SHIFT_LEADER), (A.REPLY, R.ACCEPTOR), (A.DISPATCH, R.DISPATCHER),
        (A.REQUEST_RETURN, R.DEPARTMENT), (A.APPROVE, R.DISPATCHER), (A.DISPATCH, R.DISPATCHER),
        (A.ACCEPT, R.DEPARTMENT), (A.URGE, R.LEADER), (A.REQUEST_EXTENSION, R.DEPARTMENT),
        (A.REQUEST_VOID, R.ACCEPTOR), (A.REFUSE, R.SHIFT_LEADER), (A.REFUSE, R.DISPATCHER),
        (A.REQUEST_DEFER, R.DEPARTMENT), (A.APPROVE, R.DISPATCHER), (A.RESTORE, R.DISPATCHER),
        (A.FEEDBACK, R.DEPARTMENT), (A.SEND_CHECK, R.ACCEPTOR), (A.CHECK, R.SUPERVISOR, Outcome.FAILED),
        (A.ACCEPT, R.DEPARTMENT), (A.FEEDBACK, R.DEPARTMENT), (A.SEND_CHECK, R.ACCEPTOR),
        (A.CHECK, R.SUPERVISOR, "passed"), (A.CLOSE, R.SHIFT_LEADER), (A.REPLY, R.ACCEPTOR),
    ]

    def test_a_long_legal_history(self):
        assert WORKFLOW.replay(self.PUBLIC_REPORT) is S.CLOSED

    def test_supervisor_report_filed_directly(self):
        steps = [("report", "supervisor"), ("file", "shift_leader"), ("dispatch", "dispatcher")]
        assert WORKFLOW.replay(steps) is S.DISPATCHED

    def test_refused_return_goes_back_where_it_came_from(self):
        steps = [(A.REPORT, R.SUPERVISOR), (A.FILE, R.SHIFT_LEADER), (A.DISPATCH, R.DISPATCHER),
                 (A.REQUEST_RETURN, R.DEPARTMENT), (A.REFUSE, R.DISPATCHER)]
        assert WORKFLOW.replay(steps) is S.DISPATCHED

    def test_first_illegal_step_is_reported_with_its_index(self):
        steps = [(A.REPORT, R.SUPERVISOR), (A.FILE, R.SHIFT_LEADER), (A.CLOSE, R.SHIFT_LEADER),
                 (A.DISPATCH, R.ACCEPTOR)]
        with pytest.raises(TransitionError) as err:
            WORKFLOW.replay(steps)
        assert err.value.index == 2
        assert str(err.value).startswith("第3步「结案」不合法：案卷当前状态为「待派遣」")

    def test_wrong_role_and_missing_outcome_in_history(self):
        with pytest.raises(TransitionError, match="第2步.*无权") as err:
            WORKFLOW.replay([(A.REPORT, R.SUPERVISOR), (A.FILE, R.ACCEPTOR)])
        assert err.value.index == 1
        steps = self.PUBLIC_REPORT[:20] + [(A.CHECK, R.SUPERVISOR)]
        with pytest.raises(TransitionError, match="需要给出结果") as err:
            WORKFLOW.replay(steps)
        assert err.value.index == 20

    def test_module_level_replay_uses_the_default_machine(self):
        assert replay([(A.REPORT, R.SUPERVISOR), (A.FILE, R.SHIFT_LEADER)]) is S.FILED

    def test_empty_history(self):
        with pytest.raises(TransitionError, match="第一步应为「上报」"):
            WORKFLOW.replay([])


class TestTimers:
    def test_every_state_has_a_stage_entry(self):
        for state in S:
            stage_for(state)  # no KeyError

    @pytest.mark.parametrize("state, stage", [
        (S.REPORTED, Stage.ACCEPT), (S.VERIFYING, Stage.VERIFY), (S.FILED, Stage.DISPATCH),
        (S.DISPATCHED, Stage.HANDLE), (S.HANDLING, Stage.HANDLE), (S.EXTENSION_REQUESTED, Stage.HANDLE),
        (S.DEFERRED, Stage.HANDLE), (S.SHELVED, Stage.HANDLE), (S.FED_BACK, Stage.CHECK),
        (S.CHECKING, Stage.CHECK), (S.CHECKED, Stage.CLOSE), (S.CLOSED, None), (S.NOT_FILED, None),
        (S.VOIDED, None),
    ])
    def test_stage_for(self, state, stage):
        assert stage_for(state) == stage

    def test_void_request_keeps_the_stage_before_it(self):
        assert stage_for(S.VOID_REQUESTED, previous_state=S.FILED) is Stage.DISPATCH
        assert stage_for(S.VOID_REQUESTED) is None

    def test_only_deferred_and_shelved_pause(self):
        assert {s for s in S if pauses_timer(s)} == {S.DEFERRED, S.SHELVED}
        assert all(stage_for(s) is Stage.HANDLE for s in REQUEST_STATES - {S.VOID_REQUESTED})


class TestAllowed:
    def test_department_while_handling(self):
        assert WORKFLOW.actions(S.HANDLING, R.DEPARTMENT) == [
            A.REQUEST_RETURN, A.REQUEST_EXTENSION, A.REQUEST_DEFER, A.REQUEST_SHELVE, A.FEEDBACK, A.DISPUTE,
        ]

    def test_shift_leader_on_a_new_report(self):
        assert set(WORKFLOW.actions(S.REPORTED, R.SHIFT_LEADER)) == {
            A.FILE, A.REJECT, A.LINK, A.REQUEST_VOID, A.VOID, A.EDIT,
        }

    def test_edit_keeps_the_state_of_every_open_case_and_needs_a_reason(self):
        assert {s for s in S if A.EDIT in WORKFLOW.actions(s, R.ACCEPTOR)} == set(OPEN_STATES)
        for role in R:
            may = any(A.EDIT in WORKFLOW.actions(s, role) for s in S)
            assert may == (role in {R.ACCEPTOR, R.SHIFT_LEADER, R.DISPATCHER, R.SYSTEM}), role
        assert WORKFLOW.next_state(S.HANDLING, A.EDIT, R.DISPATCHER, reason="地址笔误") is S.HANDLING
        with pytest.raises(TransitionError):
            WORKFLOW.check(S.HANDLING, A.EDIT, R.DISPATCHER)  # no reason
        with pytest.raises(TransitionError):
            WORKFLOW.check(S.CLOSED, A.EDIT, R.SHIFT_LEADER, reason="x")

    def test_roles_for(self):
        assert WORKFLOW.roles_for(S.CHECKED, A.REWORK) == {R.SHIFT_LEADER, R.DISPATCHER, R.SYSTEM}
        assert WORKFLOW.roles_for(S.CLOSED, A.REWORK) == frozenset()
