"""Deadline timers: where a case's running timer stands, why, and how to show it in a queue.

Working-basis timers count working time from the calendar; natural-basis timers (urgent
limits) count continuous time. Pauses (缓办/挂账) stop the clock; approved 延期 extends the
limit. Arithmetic is done in integer microseconds so that the queue's fast path
(:class:`TickTable`) and the single-case path (:func:`read_timer`) agree exactly.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Iterable
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


@dataclass(frozen=True)
class _Row:
    basis: Basis
    limit_us: int
    start_us: int  # basis position the limit counts from (finished pauses included)
    frozen_elapsed_us: int | None  # set while paused: elapsed does not move
    deadline: datetime | None


#: Order terms (see :meth:`TickTable.order_term`): remaining = base − the coordinate named here.
WORKING_TERM, NATURAL_TERM, CONSTANT_TERM = "w", "n", "c"


@dataclass(frozen=True)
class TickChanges:
    """What one :meth:`TickTable.advance` changed: ids whose light changed, and whether any
    row's order term changed (first advance, a future start was reached, or the clock went
    backwards)."""

    lights: list[Hashable]
    reordered: bool


class TickTable:
    """Per-case timer state for the queue: one tick costs one ``cal.ordinal_us`` call plus the
    rows whose light actually changes.

    Every row's position is a basis coordinate (working ordinal µs or natural µs) and a row's
    light only changes when its coordinate crosses 80 % or 100 % of its limit. So each running
    row has one pending event (its next light change, or its start when that lies ahead) in a
    heap per basis; :meth:`advance` pops only the events that are due. Readings are computed
    on demand (:meth:`last_reading`) for the few rows a view shows.
    """

    def __init__(self, cal: WorkCalendar, rows: Iterable[tuple[Hashable, TimerSpec | None]] = ()):
        self._cal = cal
        self._rows: dict[Hashable, _Row | None] = {}
        self._lights: dict[Hashable, Light] = {}  # at the last advance
        self._counts = dict.fromkeys(Light, 0)
        self._paused = 0
        self._heaps: dict[Basis, list[tuple[int, int, Hashable]]] = {Basis.WORKING: [], Basis.NATURAL: []}
        self._stamps: dict[Hashable, int] = {}  # the live heap entry of each row; others are stale
        self._next_stamp = 0
        self._pos: tuple[int, int] | None = None  # (working, natural) position of the last advance
        for case_id, spec in rows:
            self.update(case_id, spec)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._rows

    # ---- changing rows ---------------------------------------------------------------
    def update(self, case_id: Hashable, spec: TimerSpec | None) -> None:
        """Add or replace a case's timer (None: the case has no running timer)."""
        self._forget(case_id)
        if spec is None:
            row = None
        else:
            start_us = _start_us(spec, self._cal)
            frozen = None
            if spec.paused_since is not None:
                frozen = _now_us(spec, self._cal, spec.paused_since) - start_us
            row = _Row(spec.basis, _limit_us(spec), start_us, frozen, deadline(spec, self._cal))
        self._rows[case_id] = row
        if row is not None and row.frozen_elapsed_us is not None:
            self._paused += 1
        if self._pos is not None:
            self._place(case_id, row)
        self._compact()

    def remove(self, case_id: Hashable) -> None:
        """Forget a case (no error if it is not there)."""
        self._forget(case_id)
        self._rows.pop(case_id, None)

    def _forget(self, case_id: Hashable) -> None:
        row = self._rows.get(case_id)
        if row is not None and row.frozen_elapsed_us is not None:
            self._paused -= 1
        light = self._lights.pop(case_id, None)
        if light is not None:
            self._counts[light] -= 1
        self._stamps.pop(case_id, None)  # its heap entry becomes stale

    def _compact(self) -> None:
        # replaced rows leave stale heap entries; drop them once they outnumber the live ones
        for heap in self._heaps.values():
            if len(heap) > 2 * len(self._stamps) + 64:
                heap[:] = [e for e in heap if self._stamps.get(e[2]) == e[1]]
                heapq.heapify(heap)

    # ---- the clock ---------------------------------------------------------------------
    def _coord(self, row: _Row) -> int:
        assert self._pos is not None
        return self._pos[0] if row.basis is Basis.WORKING else self._pos[1]

    def _place(self, case_id: Hashable, row: _Row | None) -> Light:
        """Compute the row's light at the current position and schedule its next event."""
        if row is None:
            light = Light.NONE
        elif row.frozen_elapsed_us is not None:
            light = _light(max(0, row.frozen_elapsed_us), row.limit_us)
        else:
            c = self._coord(row)
            start, limit = row.start_us, row.limit_us
            light = _light(max(0, c - start), limit)
            # first elapsed values that are no longer green / no longer yellow (integer maths)
            candidates = [start] if c < start else []
            if light is Light.GREEN:
                candidates.append(start + limit * 4 // 5 + 1)
            elif light is Light.YELLOW:
                candidates.append(start + limit + 1)
            due = [x for x in candidates if x > c]
            if due:
                stamp = self._next_stamp
                self._next_stamp += 1
                self._stamps[case_id] = stamp
                heapq.heappush(self._heaps[row.basis], (min(due), stamp, case_id))
        self._lights[case_id] = light
        self._counts[light] += 1
        return light

    def _rebuild(self) -> None:
        self._lights.clear()
        self._counts = dict.fromkeys(Light, 0)
        self._stamps.clear()
        for heap in self._heaps.values():
            heap.clear()
        for case_id, row in self._rows.items():
            self._place(case_id, row)

    def advance(self, now: datetime) -> TickChanges:
        """Move the table's clock to ``now``; only rows with a due event are looked at."""
        pos = (self._cal.ordinal_us(now), _td_us(now - datetime.min))
        old_pos, self._pos = self._pos, pos
        if old_pos is None or pos[0] < old_pos[0] or pos[1] < old_pos[1]:
            # first advance, or the clock went backwards (manual correction): recompute all
            before = dict(self._lights)
            self._rebuild()
            changed = [i for i, light in self._lights.items() if before.get(i, light) is not light]
            return TickChanges(changed, True)
        changed: list[Hashable] = []
        reordered = False
        for basis, c in ((Basis.WORKING, pos[0]), (Basis.NATURAL, pos[1])):
            heap = self._heaps[basis]
            while heap and heap[0][0] <= c:
                at, stamp, case_id = heapq.heappop(heap)
                if self._stamps.get(case_id) != stamp:
                    continue  # stale: the row was replaced or removed
                row = self._rows[case_id]
                assert row is not None
                reordered = reordered or at == row.start_us
                del self._stamps[case_id]
                old = self._lights[case_id]
                self._counts[old] -= 1
                if self._place(case_id, row) is not old:
                    changed.append(case_id)
        return TickChanges(changed, reordered)

    # ---- reading -----------------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int] | None:
        """(working ordinal µs, natural µs) of the last :meth:`advance`, None before the first."""
        return self._pos

    def light(self, case_id: Hashable) -> Light:
        """The light at the last advance (NONE for rows without a timer or not placed yet)."""
        return self._lights.get(case_id, Light.NONE)

    def light_counts(self) -> dict[Light, int]:
        """How many rows show each light at the last advance."""
        return dict(self._counts)

    @property
    def paused_count(self) -> int:
        """How many rows have a running pause."""
        return self._paused

    def order_term(self, case_id: Hashable) -> tuple[str, int] | None:
        """``(coordinate, base)`` with remaining µs = base − that coordinate at the last advance.

        The coordinate is ``WORKING_TERM`` / ``NATURAL_TERM`` (the working or natural position)
        or ``CONSTANT_TERM`` (0: paused, or the start is still ahead). Rows sharing a coordinate
        keep their relative order as the clock runs. None for rows without a timer.
        """
        row = self._rows[case_id]
        if row is None:
            return None
        if row.frozen_elapsed_us is not None:
            return CONSTANT_TERM, row.limit_us - max(0, row.frozen_elapsed_us)
        if self._coord(row) < row.start_us:
            return CONSTANT_TERM, row.limit_us
        return (WORKING_TERM if row.basis is Basis.WORKING else NATURAL_TERM), row.start_us + row.limit_us

    def remaining_us(self, case_id: Hashable) -> int | None:
        """Remaining µs at the last advance (negative when overdue); None without a timer."""
        term = self.order_term(case_id)
        if term is None:
            return None
        kind, base = term
        assert self._pos is not None
        return base - (self._pos[0] if kind == WORKING_TERM else self._pos[1] if kind == NATURAL_TERM else 0)

    def ratio(self, case_id: Hashable) -> float:
        """Elapsed / limit at the last advance, exactly as :attr:`TimerReading.ratio` (0 without a timer)."""
        left = self.remaining_us(case_id)
        if left is None:
            return 0.0
        row = self._rows[case_id]
        assert row is not None
        return _ratio(row.limit_us - left, row.limit_us)

    def ratios(self, case_ids: Iterable[Hashable]) -> list[float]:
        """:meth:`ratio` of many rows in one call (0 for rows without a timer or not in the table)."""
        if self._pos is None:
            raise RuntimeError("the tick table has not been advanced yet; call advance(now) first")
        w, n = self._pos
        rows, working = self._rows, Basis.WORKING
        out = []
        for case_id in case_ids:
            row = rows.get(case_id)
            if row is None:
                out.append(0.0)
                continue
            elapsed = row.frozen_elapsed_us
            if elapsed is None:
                elapsed = (w if row.basis is working else n) - row.start_us
            out.append(_ratio(max(0, elapsed), row.limit_us))
        return out

    @staticmethod
    def _read(row: _Row | None, working_now: int, natural_now: int) -> TimerReading:
        if row is None:
            return NO_TIMER
        if row.frozen_elapsed_us is not None:
            return _make_reading(row.limit_us, row.frozen_elapsed_us, None, True)
        now_us = working_now if row.basis is Basis.WORKING else natural_now
        return _make_reading(row.limit_us, now_us - row.start_us, row.deadline, False)

    def last_reading(self, case_id: Hashable) -> TimerReading:
        """The reading of one case at the last :meth:`advance` (computed now, not stored)."""
        if self._pos is None:
            raise RuntimeError("the tick table has not been advanced yet; call advance(now) first")
        if case_id not in self._rows:
            raise KeyError(f"case {case_id!r} is not in the tick table; call update() first")
        return self._read(self._rows[case_id], *self._pos)

    def reading(self, case_id: Hashable, now: datetime) -> TimerReading:
        """The reading of one case at ``now``; KeyError if the case is not in the table."""
        if case_id not in self._rows:
            raise KeyError(f"case {case_id!r} is not in the tick table; call update() first")
        return self._read(self._rows[case_id], self._cal.ordinal_us(now), _td_us(now - datetime.min))

    def readings(self, now: datetime) -> dict[Hashable, TimerReading]:
        """Readings of all cases at ``now``, in insertion order (O(n): prefer advance + last_reading)."""
        working_now = self._cal.ordinal_us(now)
        natural_now = _td_us(now - datetime.min)
        return {case_id: self._read(row, working_now, natural_now) for case_id, row in self._rows.items()}


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
