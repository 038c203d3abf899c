"""The case workflow: ONE explicit state machine for the closed loop (standards.md §3).

Main loop (who acts in brackets; * = a reason is required)::

    (new case)
        │ 上报 report [受理员 / 监督员 / 专业部门 / 领导]
        ▼
    已上报 REPORTED ──派发核实 send_verify [受理员]──▶ 核实中 VERIFYING
        │   ▲                                             │
        │   └────────────核实回复 verify [监督员]───────────┘
        │   不予立案* reject [值班长] / 关联重复 link [受理员, 值班长]
        │   (from 已上报 or 核实中) ─────────────────────▶ 不予立案 NOT_FILED (archived)
        │ 立案 file [值班长]   (supervisor reports may be filed at once)
        ▼
    待派遣 FILED ◀──────────批准 approve [派遣员]──────────── 回退申请中 RETURN_REQUESTED
        │ 派遣 dispatch [派遣员]                                  ▲ 申请回退* [专业部门]
        ▼                                                        │ (from 待接收 or 处置中)
    待接收 DISPATCHED ◀─────返工* rework [值班长, 派遣员] / 核查回复 check (failed)* [监督员]
        │ 接收 accept [专业部门]                                            ▲
        ▼                                                                  │
    处置中 HANDLING ──申请延期/缓办/挂账* [专业部门]──▶ 延期/缓办/挂账申请中    │
        │    ▲    批准 [派遣员]: 延期 ▶ 处置中, 缓办 ▶ 缓办 DEFERRED,        │
        │    │    挂账 ▶ 挂账 SHELVED; 不批准* [派遣员] ▶ back to 处置中     │
        │    └──恢复 restore [派遣员, 值班长] from 缓办 / 挂账               │
        │ 处置反馈 feedback [专业部门]                                       │
        ▼                                                                  │
    待核查 FED_BACK ──派发核查 send_check [受理员]──▶ 核查中 CHECKING ─────────┤
                                                       │ check (passed)    │
                                                       ▼ [监督员]           │
    已结案 CLOSED ◀──结案 close [值班长]── 待结案 CHECKED ─────────────────────┘

Responsibility disputes: 职责争议* dispute [专业部门] from 待接收/处置中 ▶ 争议协调中 DISPUTED;
协调裁定* rule [派遣员, 领导] ▶ 待接收 with the department the coordinator names (the same one:
the dispute is dismissed and its timer runs on; another: it gets a fresh handling limit; 代整改:
a designated department does the remedial work, payload ``remedial``). 回访 callback [受理员]
records the public reporter's satisfaction on a closed case (state unchanged).

Side paths: 申请作废* request_void [受理员/派遣员/值班长] from any open state ▶ 作废申请中, then
批准[值班长] ▶ 已作废 or 不批准* ▶ back; 作废* void [值班长] directly from any open state;
督办 urge [领导] and 回复举报人 reply [受理员] keep the state, and so does 修改* edit
[受理员/值班长/派遣员] (an open case's address, description, reporter and phone; the event
records each field's before and after). 系统 (import/demo) may do anything;
管理员 and 分析员 have no case powers: they configure and evaluate, and evaluation would be
meaningless if the people scored could be bypassed by an all-powerful account.

Decisions: a failed check goes straight back to the same department (返工, bumps the rework
count) with the supervisor's reason; 返工 by hand is possible from 待核查, 核查中 and 待结案; a refused request returns to the state recorded before it,
which the store reconstructs from the event history with ``request_origin``; 关联重复 ends a
duplicate report as 不予立案 (the payload names the case it duplicates). Timers: 缓办/挂账 keep
the handling (HANDLE) timer but pause it; 作废申请中 keeps the stage of the state before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from app.domain.definitions import OPEN_STATES, Action, CaseState, Role, Stage, _Labelled
from app.domain.messages import Msg, MsgError, Seq, msg_of

S, A, R = CaseState, Action, Role
_E = TypeVar("_E", bound=_Labelled)


class Outcome(_Labelled):
    """Result of an action that has more than one target (the supervisor's 核查)."""

    PASSED = ("passed", "通过")
    FAILED = ("failed", "不通过")


class Relative(Enum):
    """A target expressed relative to the case's history."""

    SAME = "same"  # the state does not change (督办, 回复)
    PREVIOUS = "previous"  # the state before the pending request (不批准)


class TransitionError(MsgError, ValueError):
    """An action is not allowed; the message says why in terms a dispatcher understands."""

    def __init__(self, message: str | Msg, index: int | None = None):
        super().__init__(message)
        self.index = index  # replay(): 0-based index of the first illegal step


REQUEST_STATES = frozenset({
    S.RETURN_REQUESTED, S.EXTENSION_REQUESTED, S.DEFER_REQUESTED, S.SHELVE_REQUESTED, S.VOID_REQUESTED,
})
REQUEST_ACTIONS = frozenset({
    A.REQUEST_RETURN, A.REQUEST_EXTENSION, A.REQUEST_DEFER, A.REQUEST_SHELVE, A.REQUEST_VOID,
})


@dataclass(frozen=True)
class Transition:
    """One row of the table: ``roles`` may do ``action`` from ``from_states`` (None = a new case)."""

    action: Action
    from_states: frozenset[CaseState | None]
    to_state: CaseState | Relative
    roles: frozenset[Role]
    needs_reason: bool = False
    description: str = ""
    outcome: Outcome | None = None
    reworks: bool = False  # the store bumps the case's rework count

    def target(self, from_state: CaseState | None, previous_state: CaseState | None = None) -> CaseState:
        """The concrete state after this transition (``previous_state`` for 不批准)."""
        if self.to_state is Relative.SAME:
            assert from_state is not None
            return from_state
        if self.to_state is Relative.PREVIOUS:
            if previous_state is None:
                raise TransitionError(Msg("「{action}」需要知道申请之前的状态", action=self.action))
            return previous_state
        return self.to_state


def _t(action: Action, froms: Iterable[CaseState | None], to: CaseState | Relative, roles: Iterable[Role],
       description: str, *, reason: bool = False, outcome: Outcome | None = None, reworks: bool = False) -> Transition:
    return Transition(action, frozenset(froms), to, frozenset(roles) | {R.SYSTEM}, reason, description,
                      outcome, reworks)


_OPEN = OPEN_STATES
_ALL = frozenset(S)
_PAUSABLE_REQUESTS = (S.RETURN_REQUESTED, S.EXTENSION_REQUESTED, S.DEFER_REQUESTED, S.SHELVE_REQUESTED)

TRANSITIONS: tuple[Transition, ...] = (
    _t(A.REPORT, {None}, S.REPORTED, {R.ACCEPTOR, R.SUPERVISOR, R.DEPARTMENT, R.LEADER},
       "登记新上报的问题；监督员上报的可直接立案，公众举报先派发核实"),
    _t(A.SEND_VERIFY, {S.REPORTED}, S.VERIFYING, {R.ACCEPTOR}, "派发核实任务给监督员"),
    _t(A.VERIFY, {S.VERIFYING}, S.REPORTED, {R.SUPERVISOR}, "监督员回复现场核实结果，案卷回到受理台待立案"),
    _t(A.FILE, {S.REPORTED}, S.FILED, {R.SHIFT_LEADER}, "按立案标准立案，进入待派遣"),
    _t(A.REJECT, {S.REPORTED, S.VERIFYING}, S.NOT_FILED, {R.SHIFT_LEADER},
       "不符合立案标准：存档并注明理由，不删除", reason=True),
    _t(A.LINK, {S.REPORTED, S.VERIFYING}, S.NOT_FILED, {R.ACCEPTOR, R.SHIFT_LEADER},
       "重复上报：关联到已有案卷（附案卷号），本条不再立案"),
    _t(A.DISPATCH, {S.FILED}, S.DISPATCHED, {R.DISPATCHER}, "派遣给责任部门并确定处置时限"),
    _t(A.ACCEPT, {S.DISPATCHED}, S.HANDLING, {R.DEPARTMENT}, "专业部门接收任务，开始处置"),
    _t(A.REQUEST_RETURN, {S.DISPATCHED, S.HANDLING}, S.RETURN_REQUESTED, {R.DEPARTMENT},
       "非本部门职责，申请回退给派遣员", reason=True),
    _t(A.REQUEST_EXTENSION, {S.HANDLING}, S.EXTENSION_REQUESTED, {R.DEPARTMENT}, "申请延长处置时限", reason=True),
    _t(A.REQUEST_DEFER, {S.HANDLING}, S.DEFER_REQUESTED, {R.DEPARTMENT}, "申请缓办（暂停计时）", reason=True),
    _t(A.REQUEST_SHELVE, {S.HANDLING}, S.SHELVE_REQUESTED, {R.DEPARTMENT},
       "长期无法解决，申请挂账（暂停计时，记入台账）", reason=True),
    _t(A.APPROVE, {S.RETURN_REQUESTED}, S.FILED, {R.DISPATCHER}, "批准回退：案卷回到待派遣，重新派遣"),
    _t(A.APPROVE, {S.EXTENSION_REQUESTED}, S.HANDLING, {R.DISPATCHER}, "批准延期：处置时限增加申请的时长"),
    _t(A.APPROVE, {S.DEFER_REQUESTED}, S.DEFERRED, {R.DISPATCHER}, "批准缓办：处置计时暂停"),
    _t(A.APPROVE, {S.SHELVE_REQUESTED}, S.SHELVED, {R.DISPATCHER}, "批准挂账：处置计时暂停，记入挂账台账"),
    _t(A.APPROVE, {S.VOID_REQUESTED}, S.VOIDED, {R.SHIFT_LEADER}, "批准作废：案卷作废（保留记录）"),
    _t(A.REFUSE, set(_PAUSABLE_REQUESTS), Relative.PREVIOUS, {R.DISPATCHER},
       "不批准申请：案卷回到申请前的状态", reason=True),
    _t(A.REFUSE, {S.VOID_REQUESTED}, Relative.PREVIOUS, {R.SHIFT_LEADER},
       "不批准作废：案卷回到申请前的状态", reason=True),
    _t(A.RESTORE, {S.DEFERRED, S.SHELVED}, S.HANDLING, {R.DISPATCHER, R.SHIFT_LEADER},
       "恢复缓办/挂账的案卷，处置计时继续"),
    _t(A.FEEDBACK, {S.HANDLING}, S.FED_BACK, {R.DEPARTMENT}, "处置完成，反馈结果（附处置前后照片）"),
    _t(A.SEND_CHECK, {S.FED_BACK}, S.CHECKING, {R.ACCEPTOR}, "派发核查任务给监督员"),
    _t(A.CHECK, {S.CHECKING}, S.CHECKED, {R.SUPERVISOR}, "核查通过，待结案", outcome=Outcome.PASSED),
    _t(A.CHECK, {S.CHECKING}, S.DISPATCHED, {R.SUPERVISOR}, "核查不通过：返工给原责任部门",
       reason=True, outcome=Outcome.FAILED, reworks=True),
    _t(A.CLOSE, {S.CHECKED}, S.CLOSED, {R.SHIFT_LEADER}, "核查通过后结案"),
    _t(A.REWORK, {S.FED_BACK, S.CHECKING, S.CHECKED}, S.DISPATCHED, {R.SHIFT_LEADER, R.DISPATCHER},
       "处置不合格（如缺少处置前后照片）：返工给原责任部门", reason=True, reworks=True),
    _t(A.REQUEST_VOID, _OPEN - {S.VOID_REQUESTED}, S.VOID_REQUESTED, {R.ACCEPTOR, R.DISPATCHER, R.SHIFT_LEADER},
       "申请作废，需值班长批准", reason=True),
    _t(A.VOID, _OPEN - {S.VOID_REQUESTED}, S.VOIDED, {R.SHIFT_LEADER}, "值班长直接作废（保留记录）", reason=True),
    _t(A.URGE, _OPEN, Relative.SAME, {R.LEADER}, "领导督办：提高优先级并记录"),
    _t(A.REPLY, _ALL, Relative.SAME, {R.ACCEPTOR}, "回复举报人（立案时和结案时各一次）"),
    _t(A.EDIT, _OPEN, Relative.SAME, {R.ACCEPTOR, R.SHIFT_LEADER, R.DISPATCHER},
       "修改案卷的描述信息（地址、描述、举报人、联系电话），记录修改前后的内容", reason=True),
    _t(A.DISPUTE, {S.DISPATCHED, S.HANDLING}, S.DISPUTED, {R.DEPARTMENT},
       "对职责归属有争议：提交协调，说明理由", reason=True),
    _t(A.RULE, {S.DISPUTED}, S.DISPATCHED, {R.DISPATCHER, R.LEADER},
       "协调裁定：确定责任部门，或指定部门代整改", reason=True),
    _t(A.CALLBACK, {S.CLOSED}, Relative.SAME, {R.ACCEPTOR}, "结案后回访举报人，记录满意度"),
)


def _coerce(enum: type[_E], value: object) -> _E:
    """A member from a member, value, name or Chinese label (ValueError listing the choices)."""
    return value if isinstance(value, enum) else enum.parse(str(value))


def _as_state(value: CaseState | str | None) -> CaseState | None:
    return None if value is None else _coerce(CaseState, value)


def _in_order(states: Iterable[CaseState | None]) -> list[CaseState]:
    wanted = set(states)
    return [s for s in CaseState if s in wanted]


def _quote(items: Iterable[Any]) -> Seq:
    """「a」或「b」 (English: “a” or “b”)."""
    return Seq((Msg("「{item}」", item=i) for i in items), "或", " or ")


def _either(items: Iterable[Any]) -> Seq:
    return Seq(items, "或", " or ")


class Workflow:
    """Who may do what, from which state, to which state."""

    def __init__(self, transitions: Iterable[Transition]):
        self.transitions = tuple(transitions)
        self._rows: dict[tuple[Action, CaseState | None], list[Transition]] = {}
        for t in self.transitions:
            for s in t.from_states:
                rows = self._rows.setdefault((t.action, s), [])
                if any(r.outcome == t.outcome for r in rows) or (rows and rows[0].roles != t.roles):
                    raise ValueError(f"ambiguous workflow rows for {t.action.value} from {s}")
                rows.append(t)

    # -- queries ------------------------------------------------------------------------

    def allowed(self, state: CaseState | str | None, role: Role | str) -> list[Transition]:
        """The transitions ``role`` may take from ``state`` (table order)."""
        state, role = _as_state(state), _coerce(Role, role)
        return [t for t in self.transitions if state in t.from_states and role in t.roles]

    def actions(self, state: CaseState | str | None, role: Role | str) -> list[Action]:
        """The distinct actions ``role`` may take from ``state`` (for enabling buttons)."""
        return list(dict.fromkeys(t.action for t in self.allowed(state, role)))

    def roles_for(self, state: CaseState | str | None, action: Action | str) -> frozenset[Role]:
        """The roles that may take ``action`` from ``state`` (empty: not possible there)."""
        rows = self._rows.get((_coerce(Action, action), _as_state(state)), [])
        return rows[0].roles if rows else frozenset()

    def request_origins(self, request_state: CaseState) -> frozenset[CaseState]:
        """States from which a request leads into ``request_state``."""
        return frozenset(s for t in self.transitions if t.action in REQUEST_ACTIONS
                         and t.to_state == request_state for s in t.from_states if s is not None)

    # -- checking -----------------------------------------------------------------------

    def check(self, state: CaseState | str | None, action: Action | str, role: Role | str, *,
              outcome: Outcome | str | None = None, reason: str | None = None,
              previous_state: CaseState | str | None = None) -> Transition:
        """The transition ``role`` takes by ``action`` from ``state``, or TransitionError."""
        return self._resolve(state, action, role, outcome, reason, previous_state, True)[0]

    def next_state(self, state: CaseState | str | None, action: Action | str, role: Role | str, *,
                   outcome: Outcome | str | None = None, reason: str | None = None,
                   previous_state: CaseState | str | None = None) -> CaseState:
        """The state after ``action``; ``previous_state`` is the state before a pending request."""
        return self._resolve(state, action, role, outcome, reason, previous_state, True)[1]

    def target_state(self, action: Action | str, from_state: CaseState | str | None,
                     outcome: Outcome | str | None = None,
                     previous_state: CaseState | str | None = None) -> CaseState:
        """The state after ``action`` regardless of role and reason."""
        return self._resolve(from_state, action, R.SYSTEM, outcome, None, previous_state, False)[1]

    def _resolve(self, state_in: CaseState | str | None, action_in: Action | str, role_in: Role | str,
                 outcome: Outcome | str | None, reason: str | None, previous_state: CaseState | str | None,
                 need_reason: bool) -> tuple[Transition, CaseState]:
        try:
            state, action, role = _as_state(state_in), _coerce(Action, action_in), _coerce(Role, role_in)
        except ValueError as exc:
            raise TransitionError(msg_of(exc)) from None
        rows = self._rows.get((action, state))
        if not rows:
            raise TransitionError(self._state_message(state, action))
        if role not in rows[0].roles:
            needed = [r for r in R if r in rows[0].roles and r is not R.SYSTEM]
            raise TransitionError(Msg("「{role}」无权执行「{action}」，需要{needed}", role=role, action=action,
                                      needed=_quote(needed)))
        t = self._pick(rows, action, outcome)
        if need_reason and t.needs_reason and not (reason and str(reason).strip()):
            raise TransitionError(Msg("「{action}」必须填写理由", action=action))
        if t.to_state is Relative.PREVIOUS:
            assert state is not None  # only requests go back, and a request is made on a case
            return t, self._previous(state, action, _as_state(previous_state))
        return t, t.target(state)

    @staticmethod
    def _pick(rows: list[Transition], action: Action, outcome: Outcome | str | None) -> Transition:
        options = [t.outcome for t in rows if t.outcome is not None]
        if not options:
            if outcome is not None:
                raise TransitionError(Msg("「{action}」没有结果选项，不应给出结果 {outcome!r}", action=action,
                                          outcome=outcome))
            return rows[0]
        if outcome is None:
            raise TransitionError(Msg("「{action}」需要给出结果：{options}", action=action, options=_either(options)))
        try:
            wanted = Outcome.parse(outcome.value if isinstance(outcome, Outcome) else str(outcome))
        except ValueError:
            raise TransitionError(Msg("「{action}」的结果 {outcome!r} 无效：应为{options}", action=action,
                                      outcome=outcome, options=_either(options))) from None
        return next(t for t in rows if t.outcome == wanted)

    def _previous(self, state: CaseState, action: Action, previous: CaseState | None) -> CaseState:
        origins = self.request_origins(state)
        if previous is None:
            if len(origins) != 1:
                raise TransitionError(Msg("「{action}」需要知道「{state}」之前的状态（可能是{origins}）", action=action,
                                          state=state, origins=_quote(_in_order(origins))))
            return next(iter(origins))
        if previous not in origins:
            raise TransitionError(Msg("「{state}」之前的状态不可能是「{previous}」（应为{origins}）", state=state,
                                      previous=previous, origins=_quote(_in_order(origins))))
        return previous

    def _state_message(self, state: CaseState | None, action: Action) -> Msg:
        if state is None:
            return Msg("案卷尚未上报，只能先执行「{report}」", report=A.REPORT)
        if action is A.REPORT:
            return Msg("案卷已上报（当前状态「{state}」），不能重复上报", state=state)
        if state.is_terminal:
            return Msg("案卷当前状态为「{state}」，不能执行「{action}」：「{state}」的案卷已办结", state=state, action=action)
        froms = _in_order(s for (a, s) in self._rows if a is action)
        if not froms:
            return Msg("案卷当前状态为「{state}」，不能执行「{action}」：当前流程没有启用此操作", state=state, action=action)
        if len(froms) <= 5:
            return Msg("案卷当前状态为「{state}」，不能执行「{action}」：只有{froms}的案卷可以{action}", state=state,
                       action=action, froms=_quote(froms))
        return Msg("案卷当前状态为「{state}」，不能执行「{action}」：「{state}」的案卷不能{action}", state=state,
                   action=action)

    # -- history ------------------------------------------------------------------------

    def replay(self, events: Iterable[Sequence[Any]]) -> CaseState:
        """Fold (action, role[, outcome]) steps from a new case; TransitionError at the first bad step.

        Reasons are not part of the steps, so they are not checked here.
        """
        state: CaseState | None = None
        stack: list[CaseState] = []
        for i, step in enumerate(events):
            action, role, outcome = (tuple(step) + (None,))[:3]
            try:
                action = _coerce(Action, action)
                prev = stack[-1] if stack and state in REQUEST_STATES else None
                target = self._resolve(state, action, role, outcome, None, prev, False)[1]
            except ValueError as exc:
                raise TransitionError(Msg("第{n}步「{action}」不合法：{error}", n=i + 1, action=action,
                                          error=msg_of(exc)), index=i) from None
            _track(stack, action, state, target)
            state = target
        if state is None:
            raise TransitionError(Msg("空的案卷历史：第一步应为「上报」"), index=0)
        return state


def _label(action: Any) -> str:
    return getattr(action, "label", str(action))


def _track(stack: list[CaseState], action: Action, from_state: CaseState | None, to_state: CaseState) -> None:
    # A request suspends the state it came from; leaving a request state any other way resolves it.
    if action in REQUEST_ACTIONS and from_state is not None:
        stack.append(from_state)
    elif from_state in REQUEST_STATES and to_state != from_state and stack:
        stack.pop()


def request_origin(history: Iterable[tuple[Action | str, CaseState | str | None, CaseState | str]]) -> CaseState | None:
    """The state before the pending request, from (action, from_state, to_state) event rows.

    None when the case's last state is not a request state.
    """
    stack: list[CaseState] = []
    state: CaseState | None = None
    for action, from_state, to_state in history:
        state = _coerce(CaseState, to_state)
        _track(stack, _coerce(Action, action), _as_state(from_state), state)
    return stack[-1] if stack and state in REQUEST_STATES else None


_STAGES: dict[CaseState, Stage | None] = {
    S.REPORTED: Stage.ACCEPT,
    S.VERIFYING: Stage.VERIFY,
    S.FILED: Stage.DISPATCH,
    S.DISPATCHED: Stage.HANDLE,
    S.HANDLING: Stage.HANDLE,
    S.RETURN_REQUESTED: Stage.HANDLE,
    S.EXTENSION_REQUESTED: Stage.HANDLE,
    S.DEFER_REQUESTED: Stage.HANDLE,
    S.SHELVE_REQUESTED: Stage.HANDLE,
    S.DEFERRED: Stage.HANDLE,  # kept but paused
    S.SHELVED: Stage.HANDLE,  # kept but paused
    S.DISPUTED: Stage.HANDLE,  # the handling timer runs on while the coordinator rules
    S.FED_BACK: Stage.CHECK,
    S.CHECKING: Stage.CHECK,
    S.CHECKED: Stage.CLOSE,
    S.NOT_FILED: None,
    S.CLOSED: None,
    S.VOIDED: None,
}


def stage_for(state: CaseState | str, previous_state: CaseState | str | None = None) -> Stage | None:
    """The timed stage whose timer belongs to ``state`` (None: no timer).

    作废申请中 keeps the stage of the state before the request (pass ``previous_state``).
    """
    state = _coerce(CaseState, state)
    if state is S.VOID_REQUESTED:
        return None if previous_state is None else stage_for(previous_state)
    return _STAGES[state]


def pauses_timer(state: CaseState | str) -> bool:
    """True where the stage's timer is kept but stopped (缓办, 挂账)."""
    return _coerce(CaseState, state) in (S.DEFERRED, S.SHELVED)


#: The default machine.
WORKFLOW = Workflow(TRANSITIONS)


def replay(events: Iterable[Sequence[Any]], workflow: Workflow = WORKFLOW) -> CaseState:
    """``workflow.replay``: the final state of a legal (action, role[, outcome]) history."""
    return workflow.replay(events)
