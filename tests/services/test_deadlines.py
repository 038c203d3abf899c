"""The handling deadline across a weekend and a holiday, with a 缓办 pause and an approved 延期."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from app.domain.calendar import WorkCalendar
from app.domain.cases import TimerSpec
from app.domain.clock import FixedClock
from app.domain.definitions import Basis, CaseState, Kind, Level, Stage
from app.domain.limits import LimitKey, LimitRule, LimitTable
from app.domain.taxonomy import Taxonomy
from app.services.cases import CaseService
from services.world import draft

#: 06010 handled within one working day (480 working minutes).
LIMITS = LimitTable({LimitKey(Kind.EVENT, "06010", Level.GENERAL, Stage.HANDLE): LimitRule(480, Basis.WORKING)})


def _db_limits(store, table: LimitTable, level: Level, stage: Stage) -> None:
    """PostGIS derives deadlines from its own time_limits (migration 0006): for ``level`` and ``stage``
    make it hold exactly ``table``'s rules (none: the built-in limits apply)."""
    if store.backend != "postgis":
        return
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM time_limits WHERE level = :level AND stage = :stage"),
                     {"level": level.value, "stage": stage.value})
        for key, rule in table.rules():
            conn.execute(text("INSERT INTO time_limits (kind, category_id, level, stage, minutes, basis) "
                              "SELECT kind, id, :level, :stage, :minutes, :basis FROM categories "
                              "WHERE kind = :kind AND code = :code"),
                         {"kind": key.kind.value, "code": key.category_code, "level": key.level.value,
                          "stage": key.stage.value, "minutes": rule.minutes, "basis": rule.basis.value})


def test_deadline_over_qingming_weekend_with_defer_and_extension(store, world):
    clock = FixedClock(datetime(2025, 4, 3, 15, 40))  # Thursday before 清明 (Fri 4 – Sun 6 April 2025)
    _db_limits(store, LIMITS, Level.GENERAL, Stage.HANDLE)
    svc = CaseService(store, clock=clock, calendar=WorkCalendar(), limits=LIMITS, taxonomy=Taxonomy.load())
    a = world.actors
    r = svc.report(a["supervisor"], draft())
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    clock.set(datetime(2025, 4, 3, 16, 0))
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    # Thu 16–18 (2 h) + Mon 7 April 08–12 (4 h) + 14–16 (2 h) = 8 working hours
    assert r.case.deadline_at == datetime(2025, 4, 7, 16, 0)
    cid = r.case.id

    clock.set(datetime(2025, 4, 3, 16, 30))
    r = svc.accept(a["dept_jd"], cid, r.version)
    clock.set(datetime(2025, 4, 3, 17, 0))
    r = svc.request_defer(a["dept_jd"], cid, r.version, reason="等待燃气公司配合")
    r = svc.approve(a["dispatcher"], cid, r.version)
    assert r.case.state is CaseState.DEFERRED
    assert r.case.timer.paused_since == datetime(2025, 4, 3, 17, 0) and r.case.deadline_at is None
    paused = svc.timer(cid)
    assert paused["paused"] and "暂停中" in paused["explanation"]

    clock.set(datetime(2025, 4, 7, 10, 0))
    r = svc.restore(a["dispatcher"], cid, r.version)
    # the pause counted Thu 17–18 and Mon 08–10: 3 working hours, the holiday not at all
    assert r.case.timer.paused_minutes == 180 and r.case.timer.paused_since is None
    assert r.case.deadline_at == datetime(2025, 4, 8, 9, 0)

    clock.set(datetime(2025, 4, 7, 11, 0))
    r = svc.request_extension(a["dept_jd"], cid, r.version, minutes=240, reason="需要更换管道")
    clock.set(datetime(2025, 4, 7, 11, 30))
    r = svc.approve(a["dispatcher"], cid, r.version)
    assert r.case.state is CaseState.HANDLING and r.case.timer.extension_minutes == 240
    # 480 + 180 paused + 240 extension from Thu 16:00 → Tue 8 April 15:00
    assert r.case.deadline_at == datetime(2025, 4, 8, 15, 0)
    spec = r.case.timer
    assert spec == TimerSpec(Stage.HANDLE, Basis.WORKING, 480, datetime(2025, 4, 3, 16, 0), 180, None, 240)

    timer = svc.timer(cid)
    assert timer["deadline"] == "2025-04-08 15:00:00" and timer["light"] == "green"
    for words in ("清明节", "缓办/挂账暂停 3小时", "延期 +4 工作小时", "截止 4月8日 15:00"):
        assert words in timer["explanation"], timer["explanation"]


def test_urgent_limit_runs_on_natural_time(store, world):
    clock = FixedClock(datetime(2025, 4, 3, 17, 30))
    _db_limits(store, LimitTable(), Level.URGENT, Stage.HANDLE)  # the built-in limit
    svc = CaseService(store, clock=clock, calendar=WorkCalendar(), limits=LimitTable(), taxonomy=Taxonomy.load())
    a = world.actors
    r = svc.report(a["supervisor"], draft(level="urgent"))
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="HW")
    # built-in urgent handling limit: 120 natural minutes, through the evening
    assert r.case.deadline_at == datetime(2025, 4, 3, 19, 30)
    preview = svc.preview_deadline(r.case.id, level="general")
    assert preview.rule.basis is Basis.WORKING and "工作" in preview.limit_text
