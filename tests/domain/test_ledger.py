"""The request ledger's pairing (台账): hand-built event lists, no store."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.domain.ledger import (
    LedgerEvent,
    LedgerKind,
    LedgerOutcome,
    in_period,
    month_of,
    monthly_shares,
    pair_case,
    pair_requests,
)

T = datetime(2026, 3, 2, 9, 0)
JD, HW = 11, 12


class _Case:
    """Builds one case's events with consecutive seq numbers, an hour apart."""

    def __init__(self, case_id: int = 1, number: str = "S20260302-0001") -> None:
        self.case_id, self.number, self.events = case_id, number, []
        self.state: str | None = None

    def step(self, action: str, to: str, *, role: str = "dispatcher", actor: str | None = None,
             dept: int | None = None, reason: str | None = None, payload=None, at: datetime | None = None,
             frm: str | None = "<state>") -> _Case:
        when = at or T + timedelta(hours=len(self.events))
        before = self.state if frm == "<state>" else frm
        self.events.append(LedgerEvent(self.case_id, self.number, len(self.events) + 1, action, before, to,
                                       actor or role, role, dept, when, reason, payload))
        self.state = to
        return self

    def handling(self, dept: int = JD) -> _Case:
        return (self.step("report", "reported", role="acceptor")
                .step("file", "filed", role="shift_leader")
                .step("dispatch", "dispatched", dept=dept)
                .step("accept", "handling", role="department", dept=dept))


def test_an_approved_extension_carries_what_was_asked_and_granted():
    c = _Case().handling()
    c.step("request_extension", "extension_requested", role="department", actor="dept_jd", dept=JD,
           reason="材料未到", payload={"minutes": 480})
    c.step("approve", "handling", actor="dispatcher", reason="同意", payload={"request": "extension_requested",
                                                                              "minutes": 240, "requested_minutes": 480})
    [x] = pair_case(c.events)
    assert x.kind is LedgerKind.EXTENSION and x.outcome is LedgerOutcome.APPROVED
    assert (x.requested_by, x.requester_role, x.requester_department_id, x.department_id) == (
        "dept_jd", "department", JD, JD)
    assert (x.reason, x.requested_minutes, x.granted_minutes) == ("材料未到", 480, 240)
    assert (x.decided_by, x.decider_role, x.decision_note, x.resolved_by) == ("dispatcher", "dispatcher", "同意", "approve")
    assert x.decided_at == c.events[-1].at and x.requested_at == c.events[-2].at


def test_an_approval_without_minutes_grants_what_was_asked():
    c = _Case().handling()
    c.step("request_extension", "extension_requested", role="department", dept=JD, payload={"minutes": 60})
    c.step("approve", "handling")
    assert pair_case(c.events)[0].granted_minutes == 60


def test_a_refusal_and_a_pending_request():
    c = _Case().handling()
    c.step("request_return", "return_requested", role="department", dept=JD, reason="不归我们管")
    c.step("refuse", "handling", reason="属于本部门")
    c.step("request_defer", "defer_requested", role="department", dept=JD, reason="等天晴")
    c.step("urge", "defer_requested", role="leader", frm="defer_requested")  # same state: not a resolution
    first, second = pair_case(c.events)
    assert (first.kind, first.outcome, first.decision_note) == (LedgerKind.RETURN, LedgerOutcome.REFUSED, "属于本部门")
    assert (second.kind, second.outcome, second.decided_at) == (LedgerKind.DEFER, LedgerOutcome.PENDING, None)
    assert second.pending


def test_a_pause_lasts_from_the_approval_to_the_restore():
    c = _Case().handling()
    c.step("request_shelve", "shelve_requested", role="department", dept=JD, reason="需要立项")
    c.step("approve", "shelved", at=T + timedelta(days=1))
    c.step("restore", "handling", role="shift_leader", at=T + timedelta(days=3, minutes=30))
    [x] = pair_case(c.events)
    assert (x.kind, x.outcome) == (LedgerKind.SHELVE, LedgerOutcome.APPROVED)
    assert x.paused_from == T + timedelta(days=1) and x.paused_until == T + timedelta(days=3, minutes=30)
    assert (x.paused_minutes, x.pause_ended_by) == (2 * 24 * 60 + 30, "restore")


def test_a_pause_still_running_and_one_kept_through_a_refused_void_request():
    c = _Case().handling()
    c.step("request_defer", "defer_requested", role="department", dept=JD)
    c.step("approve", "deferred")
    c.step("request_void", "void_requested", role="acceptor", reason="重复")
    c.step("refuse", "deferred", role="shift_leader", reason="不是重复")
    defer, void = pair_case(c.events)
    assert defer.paused_from is not None and defer.paused_until is None and defer.paused_minutes is None
    assert (void.kind, void.outcome, void.department_id) == (LedgerKind.VOID, LedgerOutcome.REFUSED, JD)
    c.step("restore", "handling", role="dispatcher")
    defer, _void = pair_case(c.events)
    assert defer.paused_until == c.events[-1].at and defer.pause_ended_by == "restore"


def test_a_void_while_a_request_is_pending_withdraws_it():
    c = _Case().handling()
    c.step("request_extension", "extension_requested", role="department", dept=JD, payload={"minutes": 480})
    c.step("void", "voided", role="shift_leader", reason="重复上报")
    ext, void = pair_case(c.events)
    assert (ext.outcome, ext.resolved_by, ext.decided_by) == (LedgerOutcome.WITHDRAWN, "void", "shift_leader")
    assert ext.granted_minutes is None
    assert (void.kind, void.outcome, void.reason, void.decided_by) == (
        LedgerKind.VOID, LedgerOutcome.DIRECT, "重复上报", "shift_leader")


def test_a_void_request_on_top_of_a_pending_request_stacks():
    c = _Case().handling()
    c.step("request_extension", "extension_requested", role="department", dept=JD, payload={"minutes": 480})
    c.step("request_void", "void_requested", role="dispatcher", reason="已撤销")
    c.step("refuse", "extension_requested", role="shift_leader", reason="继续办理")
    ext, void = pair_case(c.events)
    assert ext.pending and void.outcome is LedgerOutcome.REFUSED
    c.step("request_void", "void_requested", role="dispatcher", reason="确实撤销")
    c.step("approve", "voided", role="shift_leader")
    ext, void1, void2 = pair_case(c.events)
    assert void2.outcome is LedgerOutcome.APPROVED
    assert (ext.outcome, ext.resolved_by) == (LedgerOutcome.WITHDRAWN, "approve")


def test_an_approved_return_clears_the_responsible_department():
    c = _Case().handling(JD)
    c.step("request_return", "return_requested", role="department", dept=JD)
    c.step("approve", "filed")
    c.step("request_void", "void_requested", role="acceptor")
    c.step("refuse", "filed", role="shift_leader", reason="要办")
    c.step("dispatch", "dispatched", dept=HW)
    c.step("accept", "handling", role="department", dept=HW)
    c.step("request_defer", "defer_requested", role="department", dept=HW)
    ret, void, defer = pair_case(c.events)
    assert (ret.department_id, void.department_id, defer.department_id) == (JD, None, HW)


def test_a_dispute_is_ruled():
    c = _Case().handling(JD)
    c.step("dispute", "disputed", role="department", dept=JD, reason="应由环卫处理")
    c.step("rule", "dispatched", role="leader", dept=HW, reason="改派环卫", payload={"ruling": "reassigned"})
    c.step("accept", "handling", role="department", dept=HW)
    c.step("request_extension", "extension_requested", role="department", dept=HW, payload={"minutes": 60})
    dispute, ext = pair_case(c.events)
    assert (dispute.kind, dispute.outcome, dispute.ruling, dispute.ruled_department_id) == (
        LedgerKind.DISPUTE, LedgerOutcome.RULED, "reassigned", HW)
    assert dispute.department_id == JD and ext.department_id == HW


def test_a_void_during_a_dispute_withdraws_it():
    c = _Case().handling(JD)
    c.step("dispute", "disputed", role="department", dept=JD)
    c.step("request_void", "void_requested", role="acceptor")
    c.step("refuse", "disputed", role="shift_leader", reason="继续协调")
    c.step("void", "voided", role="shift_leader", reason="撤销")
    dispute, void_request, void = pair_case(c.events)
    assert void_request.outcome is LedgerOutcome.REFUSED
    assert (dispute.outcome, dispute.resolved_by) == (LedgerOutcome.WITHDRAWN, "void")
    assert void.outcome is LedgerOutcome.DIRECT


def test_unknown_actions_and_states_are_passed_over():
    c = _Case().handling()
    c.step("plugin_note", "handling", frm="handling")
    c.step("request_extension", "extension_requested", role="department", dept=JD, payload={"minutes": "x"})
    [x] = pair_case(c.events)
    assert x.requested_minutes is None and x.pending


def test_many_cases_period_kind_department_and_monthly_shares():
    a = _Case(1, "A").handling(JD)
    a.step("request_extension", "extension_requested", role="department", dept=JD, payload={"minutes": 60})
    b = _Case(2, "B").handling(HW)
    b.step("request_defer", "defer_requested", role="department", dept=HW, at=datetime(2026, 4, 1, 10))
    events = b.events + a.events  # not in order: pairing groups by case
    entries = pair_requests(events)
    assert [x.case_number for x in entries] == ["A", "B"]
    march = in_period(entries, date(2026, 3, 1), date(2026, 3, 31))
    assert [x.case_number for x in march] == ["A"]
    assert in_period(entries, date(2026, 3, 1), date(2026, 4, 30), kind=LedgerKind.DEFER)[0].case_number == "B"
    assert in_period(entries, date(2026, 3, 1), date(2026, 4, 30), department_id=JD) == march
    assert in_period(entries, date(2026, 4, 1), date(2026, 4, 1))[0].case_number == "B"  # the end day counts
    rows = monthly_shares(entries, {("2026-03", JD): 4, ("2026-03", HW): 2})
    assert [(r.month, r.department_id, r.dispatched) for r in rows] == [
        ("2026-03", JD, 4), ("2026-03", HW, 2), ("2026-04", HW, 0)]
    jd = rows[0]
    assert jd.counts == {LedgerKind.EXTENSION: 1} and jd.share(LedgerKind.EXTENSION) == 0.25
    assert jd.share(LedgerKind.RETURN) == 0.0
    assert rows[2].share(LedgerKind.DEFER) is None  # no dispatch that month: no share, the count stays
    assert rows[2].counts[LedgerKind.DEFER] == 1
    assert month_of(date(2026, 1, 5)) == "2026-01"
