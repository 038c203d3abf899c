"""Deadline timers: where a case's running timer stands, why, and how to show it in a queue.

Working-basis timers count working time from the calendar; natural-basis timers (urgent
limits) count continuous time. Pauses (缓办/挂账) stop the clock; approved 延期 extends the
limit. Arithmetic is done in integer microseconds so that the queue's fast path
(:class:`app.domain.ticktable.TickTable`) and the single-case path (:func:`read_timer`) agree exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.calendar import US_PER_MINUTE, WORKING_DAY_MINUTES, WorkCalendar
from app.domain.cases import TimerSpec
from app.domain.definitions import Basis, Light

_DAY_MINUTES = {Basis.WORKING: WORKING_DAY_MINUTES, Basis.NATURAL: 24 * 60}


@dataclass(frozen=True)
class TimerReading:
    """Where a timer stands at one instant (minutes are basis minutes)."""

    limit_minutes: float  # base limit plus approved extension
    elapsed_minutes: float  # counted time, pauses excluded
    remaining_minutes: float  # negative when overdue
    ratio: float  # elapsed / limit
    light: Light
    deadline: datetime | None  # None without a timer or while paused
    paused: bool
    overdue: bool


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
    return math.inf if elapsed_us > 0 else 0.0


def _make_reading(limit_us: int, elapsed_us: int, deadline: datetime | None, paused: bool) -> TimerReading:
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


def deadline(spec: TimerSpec | None, cal: WorkCalendar) -> datetime | None:
    """When the timer runs out; None without a timer or while a pause is running (it moves)."""
    if spec is None or spec.paused_since is not None:
        return None
    total = spec.limit_minutes + spec.extension_minutes + spec.paused_minutes
    if spec.basis is Basis.WORKING:
        return cal.add_working_minutes_us(spec.started_at, max(0, total) * US_PER_MINUTE)
    return spec.started_at + timedelta(minutes=total)


def read_timer(spec: TimerSpec | None, cal: WorkCalendar, now: datetime) -> TimerReading:
    """Read a timer at ``now``: elapsed excludes finished pauses and a running pause."""
    if spec is None:
        return NO_TIMER
    paused = spec.paused_since is not None
    until = spec.paused_since if paused else now
    elapsed_us = _now_us(spec, cal, until) - _start_us(spec, cal)
    return _make_reading(_limit_us(spec), elapsed_us, deadline(spec, cal), paused)


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


# ------------------------------------------------------------------ queue clock

#: Names that moved to :mod:`app.domain.ticktable`, still importable from here.
_MOVED_TO_TICKTABLE = frozenset({"TickTable", "TickChanges", "WORKING_TERM", "NATURAL_TERM", "CONSTANT_TERM"})


def __getattr__(name: str) -> object:
    # lazy: ticktable imports this module's arithmetic, so an eager import here would be a cycle
    if name in _MOVED_TO_TICKTABLE:
        from app.domain import ticktable

        return getattr(ticktable, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------ explanation


def _when(dt: datetime, year: int) -> str:
    """Month, day and time; the year too when it differs from ``year`` (the reading's year)."""
    text = f"{dt.month}月{dt.day}日 {dt:%H:%M}"
    if dt.year != year:
        text = f"{dt.year}年{text}"
    return text + f":{dt:%S}" if dt.second or dt.microsecond else text


def _duration(minutes: float, basis: Basis) -> str:
    """Readable duration such as "3小时10分", "2个工作日3小时" or "1天2小时5分30秒"."""
    seconds = round(abs(minutes) * 60)
    day_seconds = _DAY_MINUTES[basis] * 60
    days, rest = divmod(seconds, day_seconds)
    hours, rest = divmod(rest, 3600)
    mins, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days}个工作日" if basis is Basis.WORKING else f"{days}天")
    if hours:
        parts.append(f"{hours}小时")
    if mins:
        parts.append(f"{mins}分")
    if secs:
        parts.append(f"{secs}秒")
    return "".join(parts) or "0分"


def format_limit(minutes: int, basis: Basis) -> str:
    """A limit as people state it: "4 工作小时", "5 个工作日", "30 分钟", "2 小时"."""
    if basis is Basis.WORKING:
        if minutes and minutes % WORKING_DAY_MINUTES == 0:
            return f"{minutes // WORKING_DAY_MINUTES} 个工作日"
        if minutes % 60 == 0:
            return f"{minutes // 60} 工作小时"
        return f"{minutes} 工作分钟"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60} 小时"
    return f"{minutes} 分钟"


def _percent(ratio: float) -> str:
    if math.isinf(ratio):
        return "时限为零"
    p = ratio * 100
    # enough decimals that the shown figure sits on the same side of 80 % and 100 % as the light
    for digits in range(4):
        shown = round(p, digits)
        if (shown > 80) == (p > 80) and (shown > 100) == (p > 100):
            return f"{shown:.{digits}f}%"
    return f"{p}%"


def _day_range(first, last) -> str:
    if first == last:
        return f"{first.month}月{first.day}日"
    if first.year != last.year:
        return f"{first.year}年{first.month}月{first.day}日–{last.year}年{last.month}月{last.day}日"
    if first.month == last.month:
        return f"{first.month}月{first.day}日–{last.day}日"
    return f"{first.month}月{first.day}日–{last.month}月{last.day}日"


def _runs(days, describe) -> list[tuple[object, object, str]]:
    """Group consecutive days with the same description into (first, last, description)."""
    runs: list[list] = []
    for d in days:
        text = describe(d)
        if runs and runs[-1][2] == text and (d - runs[-1][1]).days == 1:
            runs[-1][1] = d
        else:
            runs.append([d, d, text])
    return [tuple(r) for r in runs]


def _calendar_notes(cal: WorkCalendar, start: datetime, end: datetime) -> list[str]:
    notes = []
    days = [start.date() + timedelta(days=i) for i in range((end.date() - start.date()).days + 1)]
    off = [d for d in days if not cal.is_workday(d)]
    if off:
        runs = _runs(off, cal.describe_day)
        if len(runs) <= 6:
            notes.append("其间 " + "，".join(f"{_day_range(a, b)}为{t}" for a, b, t in runs) + "，不计时")
        else:
            counts: dict[str, int] = {}
            for d in off:
                counts[cal.describe_day(d)] = counts.get(cal.describe_day(d), 0) + 1
            detail = "、".join(f"{t} {n} 天" for t, n in counts.items())
            notes.append(f"其间共有 {len(off)} 个非工作日不计时（{detail}）")
    extra = [d for d in days if cal.is_workday(d) and (d.weekday() >= 5 or cal.describe_day(d).startswith("本地"))]
    if extra:
        runs = _runs(extra, cal.describe_day)
        notes.append("，".join(f"{_day_range(a, b)}为{t}" for a, b, t in runs) + "，照常计时")
    unknown = sorted({d.year for d in days if cal.is_fallback(d)})
    if unknown:
        years = "、".join(f"{y}年" for y in unknown)
        notes.append(f"注意：{years}的法定节假日数据缺失，该年按周一至周五为工作日推算")
    return notes


def explain(spec: TimerSpec | None, cal: WorkCalendar, now: datetime) -> str:
    """Plain-language Chinese account of how the timer's figures were computed."""
    if spec is None:
        return "当前环节没有计时。"
    r = read_timer(spec, cal, now)
    working = spec.basis is Basis.WORKING
    parts = [f"{spec.stage.label}时限 {format_limit(spec.limit_minutes, spec.basis)}"]
    if working:
        parts[0] += f"（工作时间：{cal.window_text()}，跳过周末和法定节假日，调休工作日照常计时"
        longest = max(r.limit_minutes, r.elapsed_minutes, abs(r.remaining_minutes), spec.paused_minutes)
        if longest >= WORKING_DAY_MINUTES:
            parts[0] += f"，1 个工作日按 {WORKING_DAY_MINUTES // 60} 工作小时计"
        parts[0] += "）"
    else:
        parts[0] += "（按自然时间连续计时，夜间、周末和节假日均计入）"
    start = f"自 {_when(spec.started_at, now.year)} 开始计时"
    if working and not cal.in_window(spec.started_at):
        start += f"（非工作时间，从 {_when(cal.next_working_instant(spec.started_at), now.year)} 起算）"
    parts.append(start)
    if now < spec.started_at:
        parts.append("尚未到开始时间")
    if working:
        end = max(now, r.deadline or now, spec.started_at)
        parts.extend(_calendar_notes(cal, spec.started_at, end))
    if spec.paused_minutes:
        parts.append(f"缓办/挂账暂停 {_duration(spec.paused_minutes, spec.basis)}（不计入用时，截止时间相应顺延）")
    if spec.paused_since is not None:
        ran = max(now, spec.paused_since)
        held = cal.working_minutes(spec.paused_since, ran) if working else (ran - spec.paused_since) / timedelta(minutes=1)
        parts.append(f"自 {_when(spec.paused_since, now.year)} 起缓办/挂账暂停中（已暂停 {_duration(held, spec.basis)}），暂停期间不计时")
    if spec.extension_minutes:
        parts.append(f"延期 +{format_limit(spec.extension_minutes, spec.basis)}")
    if r.deadline is None:
        parts.append("截止时间待恢复计时后重新计算")
    else:
        parts.append(f"截止 {_when(r.deadline, now.year)}")
    used = f"已用 {_duration(r.elapsed_minutes, spec.basis)}（{_percent(r.ratio)}）"
    if r.overdue:
        left = f"超时 {_duration(-r.remaining_minutes, spec.basis)}"
    else:
        left = f"剩余 {_duration(r.remaining_minutes, spec.basis)}"
    parts.append(f"{used}，{left}，{r.light.label}")
    return "；".join(parts) + "。"
