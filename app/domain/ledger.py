"""The request ledger (台账, issue 11 item 3): every 延期/回退/缓办/挂账/作废 request, every direct 作废 and
every 职责争议, paired with what became of it — all derived from the append-only case events, never
from the case's mutable columns.

Pairing follows :func:`app.domain.workflow.request_origin`: a request (or a dispute) opens an entry
on a stack; the next event that leaves the entry's pending state without being a request itself
resolves it (批准 → approved, 不批准 → refused, 协调裁定 → ruled, anything else — a 作废 while the
request is pending — withdrawn by that event). A request made on top of a pending one (申请作废 while
a 延期 waits) stacks; a case that ends (作废) withdraws whatever is still open. An approved 缓办/挂账
also records its pause: from the approval until the case leaves 缓办/挂账 (恢复, or 作废), in
natural minutes (the timer's own working minutes are the timer's explanation).

Monthly shares: per month and responsible department, the dispatches to it (the denominator) and
the requests of each kind (the numerators): 延期率 = 延期申请 / 派遣, and so on. A request counts for
the department responsible for the case when it was made (the last 派遣 or 协调裁定 before it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.domain.definitions import Action, CaseState, Role, _Labelled

A, S = Action, CaseState


class LedgerKind(_Labelled):
    """What an entry of the ledger is about."""

    EXTENSION = ("extension", "延期")
    RETURN = ("return", "回退")
    DEFER = ("defer", "缓办")
    SHELVE = ("shelve", "挂账")
    VOID = ("void", "作废")
    DISPUTE = ("dispute", "职责争议")


class LedgerOutcome(_Labelled):
    """What became of an entry."""

    PENDING = ("pending", "待处理")
    APPROVED = ("approved", "已批准")
    REFUSED = ("refused", "未批准")
    RULED = ("ruled", "已裁定")
    WITHDRAWN = ("withdrawn", "未审批即终止")
    DIRECT = ("direct", "直接作废")


#: The action that opens an entry, and its kind.
OPENING: dict[Action, LedgerKind] = {
    A.REQUEST_EXTENSION: LedgerKind.EXTENSION,
    A.REQUEST_RETURN: LedgerKind.RETURN,
    A.REQUEST_DEFER: LedgerKind.DEFER,
    A.REQUEST_SHELVE: LedgerKind.SHELVE,
    A.REQUEST_VOID: LedgerKind.VOID,
    A.DISPUTE: LedgerKind.DISPUTE,
}
#: Every action that puts an entry in the ledger (the requests, the dispute and the direct 作废).
LEDGER_ACTIONS: frozenset[Action] = frozenset(OPENING) | {A.VOID}
#: The kinds whose monthly share is reported, in column order.
SHARE_KINDS: tuple[LedgerKind, ...] = tuple(LedgerKind)

_PAUSED = frozenset({S.DEFERRED, S.SHELVED, S.VOID_REQUESTED})  # a 作废申请 keeps a pause running
_TERMINAL = frozenset(s for s in CaseState if s.is_terminal)
_VERDICTS = {A.APPROVE: LedgerOutcome.APPROVED, A.REFUSE: LedgerOutcome.REFUSED, A.RULE: LedgerOutcome.RULED}


@dataclass(frozen=True)
class LedgerEvent:
    """One case event as the ledger reads it (the store's rows, ordered by case and seq)."""

    case_id: int
    case_number: str
    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    department_id: int | None
    at: datetime
    reason: str | None = None
    payload: Mapping[str, Any] | None = None


@dataclass
class LedgerEntry:
    """One request (or dispute, or direct 作废) with its resolution."""

    case_id: int
    case_number: str
    seq: int  # the request's event number in its case
    kind: LedgerKind
    requested_at: datetime
    requested_by: str
    requester_role: str
    requester_department_id: int | None
    reason: str | None
    department_id: int | None  # responsible for the case when the request was made
    requested_minutes: int | None = None  # 延期
    outcome: LedgerOutcome = LedgerOutcome.PENDING
    decided_at: datetime | None = None
    decided_by: str | None = None
    decider_role: str | None = None
    decision_note: str | None = None
    resolved_by: str | None = None  # the action that resolved it (approve, refuse, rule, void …)
    granted_minutes: int | None = None  # 延期 approved
    ruling: str | None = None  # 协调裁定: upheld | reassigned | remedial
    ruled_department_id: int | None = None
    paused_from: datetime | None = None  # 缓办/挂账 approved
    paused_until: datetime | None = None
    paused_minutes: int | None = None  # natural minutes, once the pause ended
    pause_ended_by: str | None = None  # restore, or the action that ended the case
    # filled by the service from the departments table (codes and names for display)
    department: str | None = None
    department_name: str | None = None
    requester_department: str | None = None
    ruled_department: str | None = None
    _state: CaseState | None = field(default=None, repr=False, compare=False)  # the pending state

    @property
    def pending(self) -> bool:
        return self.outcome is LedgerOutcome.PENDING


def _action(value: str) -> Action | None:
    try:
        return Action(value)
    except ValueError:
        return None


def _state(value: str | None) -> CaseState | None:
    if value is None:
        return None
    try:
        return CaseState(value)
    except ValueError:
        return None


def _minutes(payload: Mapping[str, Any] | None, key: str = "minutes") -> int | None:
    value = (payload or {}).get(key)
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _open(e: LedgerEvent, kind: LedgerKind, responsible: int | None) -> LedgerEntry:
    requester_dept = e.department_id
    department = responsible if responsible is not None else (
        requester_dept if e.role == Role.DEPARTMENT.value else None)
    return LedgerEntry(e.case_id, e.case_number, e.seq, kind, e.at, e.actor, e.role, requester_dept, e.reason,
                       department, requested_minutes=_minutes(e.payload) if kind is LedgerKind.EXTENSION else None,
                       _state=_state(e.to_state))


def _resolve(entry: LedgerEntry, e: LedgerEvent, action: Action | None) -> None:
    entry.outcome = _VERDICTS.get(action, LedgerOutcome.WITHDRAWN) if action is not None else LedgerOutcome.WITHDRAWN
    # (a case that ends while a request is pending: the request lapses with it)
    if entry.outcome is LedgerOutcome.RULED and entry.kind is not LedgerKind.DISPUTE:
        entry.outcome = LedgerOutcome.WITHDRAWN
    entry.decided_at, entry.decided_by, entry.decider_role = e.at, e.actor, e.role
    entry.decision_note, entry.resolved_by = e.reason, e.action
    if entry.outcome is LedgerOutcome.APPROVED and entry.kind is LedgerKind.EXTENSION:
        granted = _minutes(e.payload)
        if granted is None:  # (older stores and the demo generator name it so)
            granted = _minutes(e.payload, "extension_minutes")
        entry.granted_minutes = granted if granted is not None else entry.requested_minutes
    if entry.outcome is LedgerOutcome.RULED:
        entry.ruling = (e.payload or {}).get("ruling")
        entry.ruled_department_id = e.department_id


def pair_case(events: Sequence[LedgerEvent]) -> list[LedgerEntry]:
    """The ledger entries of ONE case's events (in seq order), each paired with its resolution."""
    entries: list[LedgerEntry] = []
    stack: list[LedgerEntry] = []
    responsible: int | None = None
    paused: LedgerEntry | None = None
    for e in sorted(events, key=lambda ev: ev.seq):
        action, before, after = _action(e.action), _state(e.from_state), _state(e.to_state)
        if paused is not None and after not in _PAUSED:  # the pause ends (恢复, or the case ends)
            paused.paused_until, paused.pause_ended_by = e.at, e.action
            assert paused.paused_from is not None
            paused.paused_minutes = max(0, int((e.at - paused.paused_from).total_seconds() // 60))
            paused = None
        if (stack and action not in OPENING and before is not None and before == stack[-1]._state
                and after != before):
            entry = stack.pop()
            _resolve(entry, e, action)
            if entry.outcome is LedgerOutcome.APPROVED and entry.kind in (LedgerKind.DEFER, LedgerKind.SHELVE):
                entry.paused_from = e.at
                paused = entry
        if action is not None and action in OPENING:
            entry = _open(e, OPENING[action], responsible)
            entries.append(entry)
            stack.append(entry)
        elif action is A.VOID:  # 作废 by the shift leader without a request
            entry = _open(e, LedgerKind.VOID, responsible)
            entry.outcome, entry.resolved_by = LedgerOutcome.DIRECT, e.action
            entry.decided_at, entry.decided_by, entry.decider_role = e.at, e.actor, e.role  # (its reason is the request's)
            entries.append(entry)
        if action in (A.DISPATCH, A.RULE):
            responsible = e.department_id
        elif action is A.APPROVE and before is S.RETURN_REQUESTED:
            responsible = None  # returned: the dispatcher picks again
        if after in _TERMINAL:  # the case ended: whatever is still open lapses with it
            while stack:
                _resolve(stack.pop(), e, None)
    return entries


def pair_requests(events: Iterable[LedgerEvent]) -> list[LedgerEntry]:
    """The entries of many cases' events (grouped by case), in the order of their requests."""
    by_case: dict[int, list[LedgerEvent]] = {}
    for e in events:
        by_case.setdefault(e.case_id, []).append(e)
    entries = [entry for case_events in by_case.values() for entry in pair_case(case_events)]
    entries.sort(key=lambda x: (x.requested_at, x.case_id, x.seq))
    return entries


def in_period(entries: Iterable[LedgerEntry], start: date, end: date, *, kind: LedgerKind | None = None,
              department_id: int | None = None) -> list[LedgerEntry]:
    """The entries requested on ``start`` … ``end`` (both days included), of ``kind``, for the
    responsible ``department_id`` (None: any)."""
    return [x for x in entries if start <= x.requested_at.date() <= end
            and (kind is None or x.kind is kind)
            and (department_id is None or x.department_id == department_id)]


def month_of(when: datetime | date) -> str:
    """``YYYY-MM``."""
    return f"{when.year:04d}-{when.month:02d}"


@dataclass(frozen=True)
class ShareRow:
    """One month and department: dispatches (denominator) and requests of each kind (numerators)."""

    month: str
    department_id: int
    dispatched: int
    counts: Mapping[LedgerKind, int]
    department: str | None = None
    department_name: str | None = None

    def share(self, kind: LedgerKind) -> float | None:
        """count / dispatched (None without a dispatch that month)."""
        return self.counts.get(kind, 0) / self.dispatched if self.dispatched else None


def monthly_shares(entries: Iterable[LedgerEntry], dispatched: Mapping[tuple[str, int], int]) -> list[ShareRow]:
    """Rows per (month, department) from the entries (already limited to the period) and the
    dispatch counts ``{(YYYY-MM, department_id): n}`` of the same period; entries without a
    responsible department (a 作废 before dispatch) have no share. Sorted by month, department id."""
    counts: dict[tuple[str, int], dict[LedgerKind, int]] = {}
    for x in entries:
        if x.department_id is None:
            continue
        row = counts.setdefault((month_of(x.requested_at), x.department_id), {})
        row[x.kind] = row.get(x.kind, 0) + 1
    keys = sorted(set(counts) | set(dispatched))
    return [ShareRow(month, dept, dispatched.get((month, dept), 0), dict(counts.get((month, dept), {})))
            for month, dept in keys]


__all__ = ["LEDGER_ACTIONS", "OPENING", "SHARE_KINDS", "LedgerEntry", "LedgerEvent", "LedgerKind", "LedgerOutcome",
           "ShareRow", "in_period", "month_of", "monthly_shares", "pair_case", "pair_requests"]
