"""Keep a case row's running-timer fields in step with its state (stage, pauses, extensions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.calendar import WorkCalendar
from app.domain.cases import TimerSpec
from app.domain.deadlines import computed_deadline, deadline, explain, format_limit, read_timer, urge_cap
from app.domain.definitions import Basis, CaseState, Kind, Level, Stage
from app.domain.limits import LimitRule, LimitTable
from app.domain.messages import Msg
from app.domain.workflow import pauses_timer, stage_for
from app.store.models import Case


@dataclass(frozen=True)
class DeadlinePreview:
    """What a stage's limit would be if it started now: the rule, its deadline and why."""

    stage: Stage
    level: Level
    rule: LimitRule
    started_at: datetime
    deadline: datetime | None
    limit_text: str
    source: str  # which rule of the limit table applied
    explanation: str  # deadlines.explain at the start


def spec_of(case: Case) -> TimerSpec | None:
    """The case row's timer as a TimerSpec (None when no timer runs), capped by the case's 督办
    deadline while it is handled (:func:`app.domain.deadlines.urge_cap`)."""
    if not case.stage or not case.timer_basis or case.limit_minutes is None or case.timer_started_at is None:
        return None
    stage = Stage(case.stage)
    return TimerSpec(stage=stage, basis=Basis(case.timer_basis), limit_minutes=case.limit_minutes,
                     started_at=case.timer_started_at, paused_minutes=case.paused_minutes or 0,
                     paused_since=case.paused_since, extension_minutes=case.extension_minutes or 0,
                     cap=urge_cap(stage, case.urge_deadline_at))


def basis_minutes(basis: Basis, start: datetime, end: datetime, calendar: WorkCalendar) -> int:
    """Whole basis minutes between two instants (working minutes for working-time limits)."""
    if end <= start:
        return 0
    if basis is Basis.WORKING:
        return round(calendar.working_minutes(start, end))
    return round((end - start) / timedelta(minutes=1))


def preview(kind: Kind, category_code: str, level: Level, stage: Stage, now: datetime,
            limits: LimitTable, calendar: WorkCalendar, urge_deadline: datetime | None = None) -> DeadlinePreview:
    """The limit and deadline a stage would get if it started at ``now`` (``urge_deadline``: the
    case's 督办 deadline, which bounds the handling stage's)."""
    rule = limits.lookup(kind, category_code, level, stage)
    spec = TimerSpec(stage=stage, basis=rule.basis, limit_minutes=rule.minutes, started_at=now,
                     cap=urge_cap(stage, urge_deadline))
    return DeadlinePreview(stage=stage, level=level, rule=rule, started_at=now, deadline=deadline(spec, calendar),
                           limit_text=format_limit(rule.minutes, rule.basis),
                           source=limits.explain_source(kind, category_code, level, stage),
                           explanation=explain(spec, calendar, now))


def _clear(case: Case) -> None:
    case.stage = case.timer_basis = None
    case.limit_minutes = None
    case.timer_started_at = case.paused_since = case.deadline_at = None
    case.paused_minutes = case.extension_minutes = 0


def update_timer(case: Case, *, kind: Kind, category_code: str, from_state: CaseState | None,
                 to_state: CaseState, now: datetime, limits: LimitTable, calendar: WorkCalendar,
                 restart: bool = False, extension_minutes: int = 0) -> None:
    """Move the timer fields of ``case`` to ``to_state`` at ``now``.

    A new stage (or ``restart``: rework, a new dispatch) starts a fresh timer from the limit
    table; 缓办/挂账 pause it (kept while a void request is pending); leaving the pause adds
    its basis minutes to ``paused_minutes``; ``extension_minutes`` adds an approved 延期.
    """
    if from_state is not None and from_state == to_state:
        # 督办, 回复, 修改 keep the state and its timer (a same-state step on 作废申请中 must not
        # look for the stage "before" the request in the request itself, which has none).
        stage = Stage(case.stage) if case.stage else None
    else:
        previous = from_state if to_state is CaseState.VOID_REQUESTED else None
        stage = stage_for(to_state, previous)
    if stage is None:
        _clear(case)
        return
    if restart or case.stage != stage.value or case.timer_started_at is None:
        rule = limits.lookup(kind, category_code, Level(case.level or Level.GENERAL.value), stage)
        _clear(case)
        case.stage, case.timer_basis, case.limit_minutes = stage.value, rule.basis.value, rule.minutes
        case.timer_started_at = now
    paused = pauses_timer(to_state) or (to_state is CaseState.VOID_REQUESTED and case.paused_since is not None)
    if paused and case.paused_since is None:
        case.paused_since = now
    elif not paused and case.paused_since is not None:
        assert case.timer_basis is not None  # a paused timer keeps its basis
        case.paused_minutes = (case.paused_minutes or 0) + basis_minutes(
            Basis(case.timer_basis), case.paused_since, now, calendar)
        case.paused_since = None
    if extension_minutes:
        case.extension_minutes = (case.extension_minutes or 0) + int(extension_minutes)
    # while handled, a leader's earlier 督办 deadline is the case's deadline (spec_of caps the timer)
    case.deadline_at = deadline(spec_of(case), calendar)
    if stage is Stage.HANDLE and case.deadline_at is not None:
        case.handle_deadline_at = case.deadline_at


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(sep=" ") if when else None


def timer_text(case_spec: TimerSpec | None, calendar: WorkCalendar, now: datetime) -> dict:
    """The timer as plain data for JSON output: figures, light and the explanation."""
    if case_spec is None:
        return {"running": False, "explanation": Msg("当前阶段不计时")}
    r = read_timer(case_spec, calendar, now)
    return {
        "running": True, "stage": case_spec.stage.value, "stage_label": case_spec.stage.label,
        "basis": case_spec.basis.value, "limit_minutes": case_spec.limit_minutes,
        "extension_minutes": case_spec.extension_minutes, "paused_minutes": case_spec.paused_minutes,
        "paused": r.paused, "deadline": _iso(r.deadline),
        # 督办: the cap, whether it governs, and the deadline the limit alone gives
        "urge_deadline": _iso(case_spec.cap), "capped": r.capped,
        "computed_deadline": _iso(computed_deadline(case_spec, calendar)),
        "elapsed_minutes": round(r.elapsed_minutes, 1), "remaining_minutes": round(r.remaining_minutes, 1),
        "light": r.light.value, "light_label": r.light.label, "overdue": r.overdue,
        "explanation": explain(case_spec, calendar, now),
    }


__all__ = ["DeadlinePreview", "basis_minutes", "preview", "spec_of", "timer_text", "update_timer"]
