"""Deadline timers: where a case's running timer stands, why, and how to show it in a queue.

Working-basis timers count working time from the calendar; natural-basis timers (urgent
limits) count continuous time. Pauses (缓办/挂账) stop the clock; approved 延期 extends the
limit. Arithmetic is done in integer microseconds so that the queue's fast path
(:class:`app.domain.ticktable.TickTable`) and the single-case path (:func:`read_timer`) agree exactly.

A 督办 deadline (``TimerSpec.cap``, while the case is handled: :func:`urge_cap`) bounds the timer:
the effective deadline is the earlier of the computed one and the cap, exactly as the store's
``cases.deadline_at`` (app.services.timers.update_timer; the PostGIS derive). The cap is placed
on the timer's own clock (working time for working-basis limits: a cap outside working hours
counts as the end of the last working period before it), and the effective limit is the
counted time from the timer's start to the effective deadline (finished pauses excluded, as
elapsed time is). Lights follow standards.md §4 against that limit: green up to 80 %, yellow
up to 100 %, red after; remaining time counts to the effective deadline. A pause does not move
the cap: while paused the reading is frozen, and on resuming the time the pause took before the
cap is gone. A cap earlier than the start leaves no time: red from the start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.domain.calendar import US_PER_MINUTE, WORKING_DAY_MINUTES, WorkCalendar
from app.domain.cases import TimerSpec
from app.domain.definitions import Basis, Light, Stage
from app.domain.messages import Msg, Seq, Words

_DAY_MINUTES = {Basis.WORKING: WORKING_DAY_MINUTES, Basis.NATURAL: 24 * 60}


@dataclass(frozen=True)
class TimerReading:
    """Where a timer stands at one instant (minutes are basis minutes)."""

    limit_minutes: float  # base limit plus approved extension; less when a 督办 deadline caps it
    elapsed_minutes: float  # counted time, pauses excluded
    remaining_minutes: float  # negative when overdue
    ratio: float  # elapsed / limit
    light: Light
    deadline: datetime | None  # None without a timer or while paused
    paused: bool
    overdue: bool
    capped: bool = False  # a 督办 deadline earlier than the computed one governs the figures


NO_TIMER = TimerReading(0.0, 0.0, 0.0, 0.0, Light.NONE, None, False, False)


def _td_us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _light(elapsed_us: int, limit_us: int) -> Light:
    # integer comparison so that exactly 80 % is green and exactly 100 % is yellow
    if elapsed_us * 5 <= limit_us * 4:
        return Light.GREEN
    if elapsed_us <= limit_us:
        return Light.YELLOW
    return Light.RED


def _ratio(elapsed_us: int, limit_us: int) -> float:
    if limit_us > 0:
        return elapsed_us / limit_us
    return math.inf if elapsed_us > 0 or limit_us < 0 else 0.0


def _make_reading(limit_us: int, elapsed_us: int, deadline: datetime | None, paused: bool,
                  capped: bool = False) -> TimerReading:
    elapsed_us = max(0, elapsed_us)  # before the start (bad data or a future start) nothing is used
    remaining_us = limit_us - elapsed_us
    return TimerReading(
        limit_minutes=limit_us / US_PER_MINUTE,
        elapsed_minutes=elapsed_us / US_PER_MINUTE,
        remaining_minutes=remaining_us / US_PER_MINUTE,
        ratio=_ratio(elapsed_us, limit_us),
        light=_light(elapsed_us, limit_us),
        deadline=deadline,
        paused=paused,
        overdue=remaining_us < 0,
        capped=capped,
    )


def _limit_us(spec: TimerSpec) -> int:
    return (spec.limit_minutes + spec.extension_minutes) * US_PER_MINUTE


def _start_us(spec: TimerSpec, cal: WorkCalendar) -> int:
    """Basis position from which the limit is counted: the start shifted by finished pauses."""
    paused = spec.paused_minutes * US_PER_MINUTE
    if spec.basis is Basis.WORKING:
        return cal.ordinal_us(spec.started_at) + paused
    return _td_us(spec.started_at - datetime.min) + paused


def _now_us(spec: TimerSpec, cal: WorkCalendar, now: datetime) -> int:
    if spec.basis is Basis.WORKING:
        return cal.ordinal_us(now)
    return _td_us(now - datetime.min)


def urge_cap(stage: Stage | None, urge_deadline: datetime | None) -> datetime | None:
    """The cap a case's 督办 deadline puts on its timer: only while it is handled (处置), as the
    store's derive applies it (the dispatch, verify and check stages keep their own limits)."""
    return urge_deadline if stage is Stage.HANDLE else None


def _timing(spec: TimerSpec, cal: WorkCalendar) -> tuple[int, int, bool]:
    """(start position, effective limit µs, capped): the limit shrinks to the counted time from
    the start to the cap when the cap comes first (negative when the cap precedes the start)."""
    start_us = _start_us(spec, cal)
    limit_us = _limit_us(spec)
    if spec.cap is not None:
        room = _now_us(spec, cal, spec.cap) - start_us
        if room < limit_us:
            return start_us, room, True
    return start_us, limit_us, False


def computed_deadline(spec: TimerSpec | None, cal: WorkCalendar) -> datetime | None:
    """When the limit runs out, ignoring any cap; None without a timer or while paused."""
    if spec is None or spec.paused_since is not None:
        return None
    total = spec.limit_minutes + spec.extension_minutes + spec.paused_minutes
    if spec.basis is Basis.WORKING:
        return cal.add_working_minutes_us(spec.started_at, max(0, total) * US_PER_MINUTE)
    return spec.started_at + timedelta(minutes=total)


def deadline(spec: TimerSpec | None, cal: WorkCalendar) -> datetime | None:
    """When the timer runs out: the earlier of the computed deadline and the cap (督办); None
    without a timer or while a pause is running (it moves)."""
    due = computed_deadline(spec, cal)
    if due is not None and spec is not None and spec.cap is not None and spec.cap < due:
        return spec.cap
    return due


def read_timer(spec: TimerSpec | None, cal: WorkCalendar, now: datetime) -> TimerReading:
    """Read a timer at ``now``: elapsed excludes finished pauses and a running pause; a cap
    (督办 deadline) earlier than the computed deadline shortens the limit the light uses."""
    if spec is None:
        return NO_TIMER
    paused = spec.paused_since is not None
    until = now if spec.paused_since is None else spec.paused_since
    start_us, limit_us, capped = _timing(spec, cal)
    elapsed_us = _now_us(spec, cal, until) - start_us
    return _make_reading(limit_us, elapsed_us, deadline(spec, cal), paused, capped)


# ------------------------------------------------------------------ formatting


def _split(minutes: float, day_minutes: int) -> tuple[int, int, int]:
    whole = math.ceil(abs(minutes) - 1e-9)  # a started minute counts, so "0分" means exactly zero
    days, rest = divmod(whole, day_minutes)
    hours, mins = divmod(rest, 60)
    return days, hours, mins


def format_remaining(minutes: float, basis: Basis = Basis.WORKING) -> str:
    """Compact countdown for a queue cell: "35分", "2时05分", "1天3时", "-1天3时".

    Days are basis days: 8 working hours for working time, 24 hours for natural time.
    Partial minutes round away from zero, so a timer shows "0分" only at exactly zero.
    """
    sign = "-" if minutes < 0 else ""
    days, hours, mins = _split(minutes, _DAY_MINUTES[basis])
    if days:
        return f"{sign}{days}天{hours}时"
    if hours:
        return f"{sign}{hours}时{mins:02d}分"
    return f"{sign}{mins}分"


def format_countdown_seconds(seconds: float) -> str:
    """Ticking countdown "01:59:30", overdue "-00:12:03"; partial seconds round away from zero."""
    sign = "-" if seconds < 0 else ""
    whole = math.ceil(abs(seconds) - 1e-9)
    hours, rest = divmod(whole, 3600)
    mins, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{mins:02d}:{secs:02d}"


# ------------------------------------------------------------------ explanation


def _when(dt: datetime, year: int) -> Msg:
    """Month, day and time; the year too when it differs from ``year`` (the reading's year)."""
    time = f"{dt:%H:%M:%S}" if dt.second or dt.microsecond else f"{dt:%H:%M}"
    text = Msg("{month}月{day}日 {time}", month=dt.month, day=dt.day, time=time)
    return Msg("{year}年{date}", year=dt.year, date=text) if dt.year != year else text


def _duration(minutes: float, basis: Basis) -> Msg:
    """Readable duration such as "3小时10分", "2个工作日3小时" or "1天2小时5分30秒"."""
    seconds = round(abs(minutes) * 60)
    day_seconds = _DAY_MINUTES[basis] * 60
    days, rest = divmod(seconds, day_seconds)
    hours, rest = divmod(rest, 3600)
    mins, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(Msg("{n}个工作日", n=days) if basis is Basis.WORKING else Msg("{n}天", n=days))
    if hours:
        parts.append(Msg("{n}小时", n=hours))
    if mins:
        parts.append(Msg("{n}分", n=mins))
    if secs:
        parts.append(Msg("{n}秒", n=secs))
    return Msg("{parts}", parts=Words(parts)) if parts else Msg("{n}分", n=0)


def format_limit(minutes: int, basis: Basis) -> Msg:
    """A limit as people state it: "4 工作小时", "5 个工作日", "30 分钟", "2 小时"."""
    if basis is Basis.WORKING:
        if minutes and minutes % WORKING_DAY_MINUTES == 0:
            return Msg("{n} 个工作日", n=minutes // WORKING_DAY_MINUTES)
        if minutes % 60 == 0:
            return Msg("{n} 工作小时", n=minutes // 60)
        return Msg("{n} 工作分钟", n=minutes)
    if minutes and minutes % 60 == 0:
        return Msg("{n} 小时", n=minutes // 60)
    return Msg("{n} 分钟", n=minutes)


def _percent(ratio: float) -> str:
    if math.isinf(ratio):
        return Msg("时限为零")
    p = ratio * 100
    # enough decimals that the shown figure sits on the same side of 80 % and 100 % as the light
    for digits in range(4):
        shown = round(p, digits)
        if (shown > 80) == (p > 80) and (shown > 100) == (p > 100):
            return f"{shown:.{digits}f}%"
    return f"{p}%"


def _day_range(first: date, last: date) -> Msg:
    if first == last:
        return Msg("{month}月{day}日", month=first.month, day=first.day)
    if first.year != last.year:
        return Msg("{year}年{month}月{day}日–{year2}年{month2}月{day2}日", year=first.year, month=first.month,
                   day=first.day, year2=last.year, month2=last.month, day2=last.day)
    if first.month == last.month:
        return Msg("{month}月{day}日–{day2}日", month=first.month, day=first.day, day2=last.day)
    return Msg("{month}月{day}日–{month2}月{day2}日", month=first.month, day=first.day, month2=last.month,
               day2=last.day)


def _runs(days: Iterable[date], describe: Callable[[date], str]) -> list[tuple[date, date, str]]:
    """Group consecutive days with the same description into (first, last, description)."""
    runs: list[list] = []
    for d in days:
        text = describe(d)
        if runs and runs[-1][2] == text and (d - runs[-1][1]).days == 1:
            runs[-1][1] = d
        else:
            runs.append([d, d, text])
    return [tuple(r) for r in runs]


def _clauses(items: Iterable[object]) -> Seq:
    return Seq(items, "，", ", ")


def _calendar_notes(cal: WorkCalendar, start: datetime, end: datetime) -> list[Msg]:
    notes = []
    days = [start.date() + timedelta(days=i) for i in range((end.date() - start.date()).days + 1)]
    off = [d for d in days if not cal.is_workday(d)]
    if off:
        runs = _runs(off, cal.describe_day)
        if len(runs) <= 6:
            notes.append(Msg("其间 {runs}，不计时", runs=_clauses(
                Msg("{days}为{kind}", days=_day_range(a, b), kind=t) for a, b, t in runs)))
        else:
            counts: dict[str, int] = {}
            for d in off:
                counts[cal.describe_day(d)] = counts.get(cal.describe_day(d), 0) + 1
            detail = [Msg("{kind} {n} 天", kind=t, n=n) for t, n in counts.items()]
            notes.append(Msg("其间共有 {n} 个非工作日不计时（{detail}）", n=len(off), detail=detail))
    extra = [d for d in days if cal.is_workday(d) and (d.weekday() >= 5 or cal.describe_day(d).startswith("本地"))]
    if extra:
        runs = _runs(extra, cal.describe_day)
        notes.append(Msg("{runs}，照常计时", runs=_clauses(
            Msg("{days}为{kind}", days=_day_range(a, b), kind=t) for a, b, t in runs)))
    unknown = sorted({d.year for d in days if cal.is_fallback(d)})
    if unknown:
        notes.append(Msg("注意：{years}的法定节假日数据缺失，该年按周一至周五为工作日推算",
                         years=[Msg("{year}年", year=y) for y in unknown]))
    estimated = sorted({d.year for d in days if cal.is_estimated(d)})
    if estimated:
        notes.append(Msg("注意：{years}的节假日安排为推算（尚未录入国务院办公厅通知），不含调休工作日，"
                         "正式安排录入后截止时间可能变化", years=[Msg("{year}年", year=y) for y in estimated]))
    return notes


def _cap_clause(spec: TimerSpec, cal: WorkCalendar, now: datetime, r: TimerReading) -> Msg:
    assert spec.cap is not None
    cap = _when(spec.cap, now.year)
    if r.paused:  # the pause does not move the leader's deadline
        if now > spec.cap:
            return Msg("督办限时 {cap} 已过（不因缓办/挂账顺延）", cap=cap)
        return Msg("督办限时 {cap}（不因缓办/挂账顺延）", cap=cap)
    original = computed_deadline(spec, cal)
    assert original is not None  # not paused
    if r.capped:
        return Msg("督办限时 {cap}（早于原{stage}时限 {original}）", cap=cap, stage=spec.stage,
                   original=_when(original, now.year))
    return Msg("督办限时 {cap}（不早于{stage}时限，截止时间不变）", cap=cap, stage=spec.stage)


def explain(spec: TimerSpec | None, cal: WorkCalendar, now: datetime) -> Msg:
    """Plain-language account of how the timer's figures were computed (a ``Msg``: Chinese as
    ``str``, any language through the catalogue)."""
    if spec is None:
        return Msg("当前环节没有计时。")
    r = read_timer(spec, cal, now)
    working = spec.basis is Basis.WORKING
    limit = format_limit(spec.limit_minutes, spec.basis)
    if working:
        longest = max(r.limit_minutes, r.elapsed_minutes, abs(r.remaining_minutes), spec.paused_minutes)
        day = Msg("，1 个工作日按 {hours} 工作小时计", hours=WORKING_DAY_MINUTES // 60) \
            if longest >= WORKING_DAY_MINUTES else ""
        parts = [Msg("{stage}时限 {limit}（工作时间：{windows}，跳过周末和法定节假日，调休工作日照常计时{day}）",
                     stage=spec.stage, limit=limit, windows=cal.window_text(), day=day)]
    else:
        parts = [Msg("{stage}时限 {limit}（按自然时间连续计时，夜间、周末和节假日均计入）", stage=spec.stage, limit=limit)]
    if working and not cal.in_window(spec.started_at):
        parts.append(Msg("自 {when} 开始计时（非工作时间，从 {start} 起算）", when=_when(spec.started_at, now.year),
                         start=_when(cal.next_working_instant(spec.started_at), now.year)))
    else:
        parts.append(Msg("自 {when} 开始计时", when=_when(spec.started_at, now.year)))
    if now < spec.started_at:
        parts.append(Msg("尚未到开始时间"))
    if working:
        end = max(now, r.deadline or now, spec.started_at)
        parts.extend(_calendar_notes(cal, spec.started_at, end))
    if spec.paused_minutes:
        parts.append(Msg("缓办/挂账暂停 {duration}（不计入用时，截止时间相应顺延）",
                         duration=_duration(spec.paused_minutes, spec.basis)))
    if spec.paused_since is not None:
        ran = max(now, spec.paused_since)
        held = cal.working_minutes(spec.paused_since, ran) if working else (ran - spec.paused_since) / timedelta(minutes=1)
        parts.append(Msg("自 {when} 起缓办/挂账暂停中（已暂停 {duration}），暂停期间不计时",
                         when=_when(spec.paused_since, now.year), duration=_duration(held, spec.basis)))
    if spec.extension_minutes:
        parts.append(Msg("延期 +{limit}", limit=format_limit(spec.extension_minutes, spec.basis)))
    if spec.cap is not None:
        parts.append(_cap_clause(spec, cal, now, r))
    if r.deadline is None:
        parts.append(Msg("截止时间待恢复计时后重新计算"))
    else:
        parts.append(Msg("截止 {when}", when=_when(r.deadline, now.year)))
    if r.capped and r.limit_minutes <= 0:
        percent: object = Msg("督办限时早于计时开始")
    elif r.capped:
        percent = Msg("按督办限时 {percent}", percent=_percent(r.ratio))
    else:
        percent = _percent(r.ratio)
    used = Msg("已用 {duration}（{percent}）", duration=_duration(r.elapsed_minutes, spec.basis), percent=percent)
    if r.overdue:
        left = Msg("超时 {duration}", duration=_duration(-r.remaining_minutes, spec.basis))
    else:
        left = Msg("剩余 {duration}", duration=_duration(r.remaining_minutes, spec.basis))
    parts.append(Msg("{used}，{left}，{light}", used=used, left=left, light=r.light))
    return Msg("{parts}。", parts=Seq(parts, "；", "; "))
