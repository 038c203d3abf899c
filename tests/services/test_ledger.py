"""The request ledger (台账) on both stores: real requests through the CaseService, read back from the
case events only; a department reads its own cases (SpatiaLite: the service's scope; PostGIS: RLS)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from app.domain.ledger import LedgerKind, LedgerOutcome
from app.services.errors import NotFound, ValidationError
from app.services.ledger import LedgerService
from app.store.models import Case
from services.world import T0, draft

DAY = T0.date()


def _handling(svc, a, department: str = "JD001", who: str = "dept_jd"):
    r = svc.report(a["acceptor"], draft(source="supervisor"))
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department=department)
    return svc.accept(a[who], r.case.id, r.version)


@pytest.fixture
def ledger_cases(svc, world, clock):
    """Seven cases with every kind of request and outcome, all on T0's day."""
    a, made = world.actors, {}
    r = _handling(svc, a)
    r = svc.request_extension(a["dept_jd"], r.case.id, r.version, minutes=480, reason="材料未到")
    clock.advance(timedelta(minutes=10))
    svc.approve(a["dispatcher"], r.case.id, r.version, minutes=240, note="先给半天")
    made["extension"] = r.case.id
    r = _handling(svc, a)
    r = svc.request_defer(a["dept_jd"], r.case.id, r.version, reason="等天晴")
    r = svc.approve(a["dispatcher"], r.case.id, r.version)
    clock.advance(timedelta(hours=2))
    svc.restore(a["dispatcher"], r.case.id, r.version, note="天晴了")
    made["defer"] = r.case.id
    r = _handling(svc, a, "HW", "dept_hw")
    r = svc.request_return(a["dept_hw"], r.case.id, r.version, reason="不归环卫")
    svc.refuse(a["dispatcher"], r.case.id, r.version, reason="属于环卫")
    made["return"] = r.case.id
    r = _handling(svc, a)
    svc.request_shelve(a["dept_jd"], r.case.id, r.version, reason="需要立项")
    made["shelve"] = r.case.id
    r = _handling(svc, a)
    r = svc.request_extension(a["dept_jd"], r.case.id, r.version, minutes=60, reason="再等一小时")
    svc.void(a["leader_shift"], r.case.id, r.version, reason="重复上报")
    made["withdrawn"] = r.case.id
    r = svc.report(a["acceptor"], draft(source="supervisor"))
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.request_void(a["acceptor"], r.case.id, r.version, reason="市民撤回")
    svc.approve(a["leader_shift"], r.case.id, r.version, note="同意作废")
    made["void_request"] = r.case.id
    return made


def test_every_request_with_its_resolution(store, world, ledger_cases):
    report = LedgerService(store).report(None, DAY, DAY)
    by = {(x.case_id, x.kind): x for x in report.entries}
    assert len(report.entries) == 7  # 6 requests and 1 direct 作废
    ext = by[ledger_cases["extension"], LedgerKind.EXTENSION]
    assert (ext.outcome, ext.requested_by, ext.requester_role, ext.department, ext.reason) == (
        LedgerOutcome.APPROVED, "dept_jd", "department", "JD001", "材料未到")
    assert (ext.requested_minutes, ext.granted_minutes, ext.decided_by, ext.decision_note) == (
        480, 240, "dispatcher", "先给半天")
    assert ext.decided_at - ext.requested_at == timedelta(minutes=10)
    defer = by[ledger_cases["defer"], LedgerKind.DEFER]
    assert (defer.outcome, defer.paused_minutes, defer.pause_ended_by) == (LedgerOutcome.APPROVED, 120, "restore")
    ret = by[ledger_cases["return"], LedgerKind.RETURN]
    assert (ret.outcome, ret.department, ret.decision_note) == (LedgerOutcome.REFUSED, "HW", "属于环卫")
    assert by[ledger_cases["shelve"], LedgerKind.SHELVE].pending
    withdrawn = by[ledger_cases["withdrawn"], LedgerKind.EXTENSION]
    assert (withdrawn.outcome, withdrawn.resolved_by) == (LedgerOutcome.WITHDRAWN, "void")
    direct = by[ledger_cases["withdrawn"], LedgerKind.VOID]
    assert (direct.outcome, direct.requested_by, direct.reason) == (LedgerOutcome.DIRECT, "leader_shift", "重复上报")
    void = by[ledger_cases["void_request"], LedgerKind.VOID]
    assert (void.outcome, void.requester_role, void.department, void.decided_by) == (
        LedgerOutcome.APPROVED, "acceptor", None, "leader_shift")


def test_the_ledger_reads_events_not_the_case_columns(store, world, ledger_cases):
    """Whatever a case's columns say now, the history decides (here: columns blanked on SpatiaLite)."""
    before = LedgerService(store).report(None, DAY, DAY)
    if store.backend == "spatialite":  # (PostGIS refuses a direct change of the derived columns)
        with store.session() as s, s.begin():
            s.execute(update(Case).values(department_id=None, extension_minutes=0, paused_minutes=0))
    after = LedgerService(store).report(None, DAY, DAY)
    assert [(x.case_id, x.kind, x.outcome, x.department, x.granted_minutes, x.paused_minutes)
            for x in after.entries] == [(x.case_id, x.kind, x.outcome, x.department, x.granted_minutes,
                                         x.paused_minutes) for x in before.entries]


def test_filters_period_and_monthly_shares(store, world, ledger_cases):
    svc = LedgerService(store)
    only = svc.report(None, DAY, DAY, kind="extension", department="JD001")
    assert {x.case_id for x in only.entries} == {ledger_cases["extension"], ledger_cases["withdrawn"]}
    assert svc.report(None, DAY + timedelta(days=1), DAY + timedelta(days=30)).entries == []
    assert svc.report(None, DAY - timedelta(days=3), DAY - timedelta(days=1)).entries == []
    report = svc.report(None, date(2026, 3, 1), date(2026, 3, 31))
    rows = {r.department: r for r in report.shares}
    jd, hw = rows["JD001"], rows["HW"]
    assert (jd.month, jd.dispatched, jd.department_name) == ("2026-03", 4, world_name(store, "JD001"))
    assert jd.counts[LedgerKind.EXTENSION] == 2 and jd.share(LedgerKind.EXTENSION) == 0.5
    assert jd.share(LedgerKind.DEFER) == 0.25 and jd.share(LedgerKind.SHELVE) == 0.25
    assert jd.counts[LedgerKind.VOID] == 1  # the direct 作废 of a dispatched case
    assert (hw.dispatched, hw.counts, hw.share(LedgerKind.RETURN)) == (1, {LedgerKind.RETURN: 1}, 1.0)
    assert None not in rows  # a 作废 before any dispatch has no department's share
    assert [r.department for r in svc.report(None, DAY, DAY, department="HW").shares] == ["HW"]


def world_name(store, code: str) -> str:
    from sqlalchemy import select

    from app.store.models import Department

    with store.session() as s:
        return s.scalar(select(Department.name).where(Department.code == code))


def test_bad_periods_kinds_and_departments_are_refused(store, world):
    svc = LedgerService(store)
    with pytest.raises(ValidationError, match="晚于"):
        svc.report(None, DAY, DAY - timedelta(days=1))
    with pytest.raises(ValidationError, match="最长"):
        svc.report(None, date(2020, 1, 1), date(2026, 1, 1))
    with pytest.raises(ValidationError, match="台账类型"):
        svc.report(None, DAY, DAY, kind="holiday")
    with pytest.raises(NotFound):
        svc.report(None, DAY, DAY, department="NOPE")
    assert svc.report(None, DAY, DAY, kind="延期").kind is LedgerKind.EXTENSION


def test_a_department_reads_only_its_own_cases(store, svc, world, ledger_cases, clock):
    jd, a = world.actors["dept_jd"], world.actors
    r = _handling(svc, a, "HW", "dept_hw")  # returned by HW, now JD001's: its history comes along
    r = svc.request_return(a["dept_hw"], r.case.id, r.version, reason="不归环卫")
    r = svc.approve(a["dispatcher"], r.case.id, r.version)
    svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    mine = {ledger_cases[k] for k in ("extension", "defer", "shelve", "withdrawn")} | {r.case.id}
    if store.backend == "spatialite":
        report = LedgerService(store).report(jd, DAY, DAY)
    else:  # PostGIS: the department's own login; row-level security decides
        from store.hall import world_logins

        from app.services.hall_login import hall_login
        from services.world import PASSWORD

        world_logins(store, world, PASSWORD)
        url = store.url.set(username="gridhall", password=None).render_as_string(hide_password=False)
        own, actor = hall_login(url, "dept_jd", PASSWORD, clock=clock)
        try:
            report = LedgerService(own).report(actor, DAY, DAY)
        finally:
            own.dispose()
            from app.store import security

            for name in world.actors:
                security.drop_login(store, name)
    assert {x.case_id for x in report.entries} == mine
    assert {x.department for x in report.entries if x.case_id == r.case.id} == {"HW"}
    [share] = report.shares  # only its own row: the others' would count only what passed through its cases
    assert (share.department, share.dispatched) == ("JD001", 5)


def test_a_dispute_and_its_ruling(svc, store, world):
    a = world.actors
    r = _handling(svc, a)
    r = svc.dispute(a["dept_jd"], r.case.id, r.version, reason="应由环卫负责")
    svc.rule(a["boss"], r.case.id, r.version, department="HW", ruling="reassigned", reason="改派环卫")
    [x] = LedgerService(store).report(None, DAY, DAY, kind="dispute").entries
    assert (x.kind, x.outcome, x.department, x.reason, x.ruling, x.ruled_department, x.decided_by) == (
        LedgerKind.DISPUTE, LedgerOutcome.RULED, "JD001", "应由环卫负责", "reassigned", "HW", "boss")
