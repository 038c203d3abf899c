"""Working-time calendar: which days are workdays and how many working minutes lie between instants.

Workdays come from the statutory years the store keeps (holidays and 调休 working weekends, each
year official or estimated: app.domain.statutory; seeded from ``chinesecalendar`` and the
``holidays`` library) with local overrides on top. All datetimes are naive China Standard Time.

Internally every instant maps to an integer number of working microseconds since a fixed epoch
(the *ordinal*), built from per-year prefix sums computed lazily, so converting an instant costs
a couple of list look-ups; queues compute one ordinal per tick and subtract.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import accumulate

from app.domain.messages import Msg
from app.domain.statutory import (
    ESTIMATED,
    HOLIDAY_NAMES,
    StatutoryYear,
    chinesecalendar_years,
    seed_through,
    seed_year,
    statutory_year,
)

#: One working day counts as 8 working hours (standards.md §4).
WORKING_DAY_MINUTES = 480

US_PER_MINUTE = 60_000_000
_US_PER_SECOND = 1_000_000
_EPOCH_YEAR = 2000

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = ((time(8), time(12)), (time(14), time(18)))


@cache
def _default_year(year: int) -> StatutoryYear | None:
    """The calendar without a store: chinesecalendar's years and the estimated years after them."""
    known = chinesecalendar_years()
    if known and known[0] <= year <= seed_through():
        return seed_year(year)
    return None


@cache
def _weekday_flags(year: int) -> tuple[bool, ...]:
    first = date(year, 1, 1).toordinal()
    days = date(year + 1, 1, 1).toordinal() - first if year < 9999 else 365
    return tuple(date.fromordinal(first + i).weekday() < 5 for i in range(days))


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


def _datetime_us_of_day(dt: datetime) -> int:
    return _time_us(dt.time())


class _Days:
    """Everything a WorkCalendar knows about days, and the caches built from it (swapped whole by
    :meth:`WorkCalendar.reload`, so a reader holding one sees one consistent calendar)."""

    def __init__(self, years: Mapping[int, StatutoryYear] | None, overrides: Mapping[date, bool] | None,
                 holidays: Mapping[date, str] | None, version: object) -> None:
        self.years: dict[int, StatutoryYear] | None = dict(years) if years is not None else None
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.local_names: dict[date, str] = dict(holidays or {})
        for d in self.local_names:
            self.overrides.setdefault(d, False)
        self.version = version
        # year -> statutory flags (None: no data, Monday–Friday)
        self.statutory: dict[int, tuple[bool, ...] | None] = {}
        # year -> cumulative working us at 00:00 of each day of the year (len = days + 1)
        self.prefix: dict[int, list[int]] = {}
        self.flags: dict[int, tuple[bool, ...]] = {}
        # year -> working us from the epoch to 00:00 on 1 January of that year
        self.year_start: dict[int, int] = {_EPOCH_YEAR: 0}

    def year(self, year: int) -> StatutoryYear | None:
        if self.years is not None:
            return self.years.get(year)
        return _default_year(year)

    def statutory_flags(self, year: int) -> tuple[bool, ...] | None:
        if year in self.statutory:
            return self.statutory[year]
        known = self.year(year)
        flags = known.flags() if known is not None else None
        self.statutory[year] = flags
        return flags


class WorkCalendar:
    """Working days and working windows; converts between instants and working minutes.

    ``years`` holds the statutory arrangement of each year (holidays, 调休 workdays, official or
    estimated) as the store keeps it (app.services.calendar.load_calendar); without it, the
    libraries' seed (chinesecalendar, then ``holidays`` estimates: app.domain.statutory). A year
    with no arrangement counts Monday–Friday (:meth:`is_fallback`).
    ``overrides`` maps a date to True (extra workday) or False (day off) on top of the statutory
    calendar; ``holidays`` maps a date to the name of a local day off (shown in explanations;
    an override of True for the same date wins).
    The days change only through :meth:`reload`, which swaps them whole (its caches depend on that).
    """

    def __init__(
        self,
        windows: tuple[tuple[time, time], ...] = DEFAULT_WINDOWS,
        overrides: Mapping[date, bool] | None = None,
        holidays: Mapping[date, str] | None = None,
        years: Mapping[int, StatutoryYear] | None = None,
        version: object = None,
    ):
        self._windows = tuple(windows)
        self._window_us = self._check_windows(self._windows)
        self._day_us = sum(end - start for start, end in self._window_us)
        self._d = _Days(years, overrides, holidays, version)

    def reload(self, years: Mapping[int, StatutoryYear] | None, overrides: Mapping[date, bool] | None = None,
               holidays: Mapping[date, str] | None = None, version: object = None) -> None:
        """Replace the days (a saved configuration change); computations already running finish
        on the days they started with."""
        self._d = _Days(years, overrides, holidays, version)

    @property
    def version(self) -> object:
        """What the days were loaded from (the store's configuration version; None without a store)."""
        return self._d.version

    @staticmethod
    def _check_windows(windows: tuple[tuple[time, time], ...]) -> tuple[tuple[int, int], ...]:
        if not windows:
            raise ValueError("a working calendar needs at least one working window, e.g. 08:00–12:00")
        result = []
        previous_end = -1
        for start, end in windows:
            s, e = _time_us(start), _time_us(end)
            if e <= s:
                raise ValueError(f"working window {start:%H:%M}–{end:%H:%M} ends before it starts; "
                                 "give windows as (start, end) within one day")
            if s < previous_end:
                raise ValueError(f"working window {start:%H:%M}–{end:%H:%M} overlaps or precedes "
                                 "the previous one; list windows in order without overlap")
            previous_end = e
            result.append((s, e))
        return tuple(result)

    # ----------------------------------------------------------------- days

    @property
    def windows(self) -> tuple[tuple[time, time], ...]:
        """The daily working windows."""
        return self._windows

    @property
    def day_minutes(self) -> float:
        """Working minutes in one workday with these windows."""
        return self._day_us / US_PER_MINUTE

    @staticmethod
    def _statutory_workday(days: _Days, d: date) -> bool:
        flags = days.statutory_flags(d.year)
        if flags is None:  # no arrangement for the year: Monday–Friday
            return d.weekday() < 5
        return flags[d.timetuple().tm_yday - 1]

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day (local override, else statutory calendar, else Mon–Fri)."""
        days = self._d
        if d in days.overrides:
            return days.overrides[d]
        return self._statutory_workday(days, d)

    def is_fallback(self, d: date) -> bool:
        """Whether ``d``'s year has no statutory arrangement at all, so Mon–Fri was assumed."""
        days = self._d
        if d in days.overrides:
            return False
        return days.year(d.year) is None

    def year_status(self, year: int) -> str | None:
        """'official', 'estimated', or None when the calendar has no arrangement for ``year``."""
        known = self._d.year(year)
        return known.status if known is not None else None

    def year_source(self, year: int) -> str | None:
        """Where ``year``'s arrangement comes from (e.g. the State Council's notice), if known."""
        known = self._d.year(year)
        return known.source if known is not None else None

    def is_estimated(self, d: date) -> bool:
        """Whether ``d`` is counted from an estimated year (a local override is certain)."""
        days = self._d
        if d in days.overrides:
            return False
        known = days.year(d.year)
        return known is not None and known.status == ESTIMATED

    def uncertain_years(self, start: date, end: date) -> dict[int, str | None]:
        """The years touching [start, end] that are estimated ('estimated') or unknown (None)."""
        result: dict[int, str | None] = {}
        for year in range(start.year, end.year + 1):
            status = self.year_status(year)
            if status != "official":
                result[year] = status
        return result

    def windows_on(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working windows of day ``d`` as datetimes (empty on a day off)."""
        if not self.is_workday(d):
            return []
        midnight = datetime(d.year, d.month, d.day)
        return [(midnight + timedelta(microseconds=s), midnight + timedelta(microseconds=e))
                for s, e in self._window_us]

    def describe_day(self, d: date) -> str:
        """What kind of day ``d`` is, in Chinese (工作日, 周末, 法定节假日（国庆节）, 调休工作日…)."""
        days = self._d
        if d in days.local_names and not days.overrides[d]:
            return Msg("本地调整：休息日（{name}）", name=days.local_names[d])
        if d in days.overrides:
            return Msg("本地调整：工作日") if days.overrides[d] else Msg("本地调整：休息日")
        weekend = d.weekday() >= 5
        known = days.year(d.year)
        if known is None:
            kind = Msg("周末") if weekend else Msg("工作日")
            return Msg("{kind}（{year}年节假日数据缺失，按周一至周五推算）", kind=kind, year=d.year)
        name = known.name_of(d)
        if self._statutory_workday(days, d):
            return Msg("调休工作日") if weekend else Msg("工作日")
        if name:
            return Msg("法定节假日（{name}）", name=Msg(name))
        return Msg("周末") if weekend else Msg("法定节假日")

    # ------------------------------------------------------------ prefix sums

    def _year_tables(self, days: _Days, year: int) -> list[int]:
        prefix = days.prefix.get(year)
        if prefix is None:
            if not 1 <= year <= 9999:
                raise ValueError(f"year {year} is outside the supported range 1–9999")
            flags = days.statutory_flags(year)
            if flags is None:
                flags = _weekday_flags(year)
            local = [(d, w) for d, w in days.overrides.items() if d.year == year]
            if local:
                edited = list(flags)
                for d, workday in local:
                    edited[d.timetuple().tm_yday - 1] = workday
                flags = tuple(edited)
            prefix = [0, *accumulate(self._day_us if f else 0 for f in flags)]
            # flags first: a reader that finds the prefix must also find the flags
            days.flags[year] = flags
            days.prefix[year] = prefix
        return prefix

    def _start_of_year(self, days: _Days, year: int) -> int:
        start = days.year_start.get(year)
        if start is not None:
            return start
        # walk from the nearest known year; each step builds one year's table once
        known = min(days.year_start, key=lambda y: abs(y - year))
        value = days.year_start[known]
        if known < year:
            for y in range(known, year):
                value += self._year_tables(days, y)[-1]
                days.year_start[y + 1] = value
        else:
            for y in range(known - 1, year - 1, -1):
                value -= self._year_tables(days, y)[-1]
                days.year_start[y] = value
        return value

    # --------------------------------------------------------------- ordinals

    def ordinal_us(self, dt: datetime) -> int:
        """Working microseconds from the epoch (2000-01-01 00:00) to ``dt``; exact integer form of ordinal."""
        days = self._d
        year = dt.year
        prefix = self._year_tables(days, year)
        doy = dt.toordinal() - date(year, 1, 1).toordinal()
        value = self._start_of_year(days, year) + prefix[doy]
        if days.flags[year][doy]:
            t = _datetime_us_of_day(dt)
            for start, end in self._window_us:
                if t <= start:
                    break
                value += min(t, end) - start
        return value

    def from_ordinal_us(self, x: int) -> datetime:
        """The earliest instant whose ordinal_us equals ``x``."""
        days = self._d
        year = _EPOCH_YEAR + int(x // (250 * self._day_us))
        year = max(1, min(9999, year))
        while year > 1 and x <= self._start_of_year(days, year):
            year -= 1
        while year < 9999 and x > self._start_of_year(days, year + 1):
            year += 1
        start = self._start_of_year(days, year)
        prefix = self._year_tables(days, year)
        rest = x - start
        j = bisect_left(prefix, rest)  # first midnight whose cumulative reaches x
        if j == 0:  # x precedes year 1
            raise ValueError("working-time ordinal is before the supported date range")
        day = date(year, 1, 1) + timedelta(days=j - 1)
        rest -= prefix[j - 1]
        midnight = datetime(day.year, day.month, day.day)
        for w_start, w_end in self._window_us:
            length = w_end - w_start
            if rest <= length:
                return midnight + timedelta(microseconds=w_start + rest)
            rest -= length
        raise AssertionError("working-time prefix sums are inconsistent")  # pragma: no cover

    def ordinal(self, dt: datetime) -> float:
        """Cumulative working minutes from 2000-01-01 00:00 to ``dt`` (monotone non-decreasing)."""
        return self.ordinal_us(dt) / US_PER_MINUTE

    def from_ordinal(self, x: float) -> datetime:
        """The earliest instant whose ordinal is ``x`` (inverse of :meth:`ordinal`)."""
        return self.from_ordinal_us(round(x * US_PER_MINUTE))

    # ------------------------------------------------------------ arithmetic

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Working minutes in [start, end); negative if end is before start."""
        return (self.ordinal_us(end) - self.ordinal_us(start)) / US_PER_MINUTE

    def in_window(self, dt: datetime) -> bool:
        """Whether ``dt`` lies in a working window, its end included."""
        if not self.is_workday(dt.date()):
            return False
        t = _datetime_us_of_day(dt)
        return any(start <= t <= end for start, end in self._window_us)

    def next_working_instant(self, dt: datetime) -> datetime:
        """``dt`` itself if it is in a working window (end included), else the next window opening."""
        if self.in_window(dt):
            return dt
        return self.from_ordinal_us(self.ordinal_us(dt) + 1) - timedelta(microseconds=1)

    def add_working_minutes_us(self, start: datetime, us: int) -> datetime:
        """Exact integer form of :meth:`add_working_minutes` (``us`` working microseconds)."""
        if us < 0:
            raise ValueError(f"cannot add a negative working time ({us / US_PER_MINUTE} minutes); "
                             "use working_minutes() to measure backwards")
        if us == 0:
            return self.next_working_instant(start)
        return self.from_ordinal_us(self.ordinal_us(start) + us)

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` working minutes after ``start``; a limit ending at a window end stays there."""
        if minutes < 0:
            raise ValueError(f"cannot add a negative working time ({minutes} minutes); "
                             "use working_minutes() to measure backwards")
        return self.add_working_minutes_us(start, round(minutes * US_PER_MINUTE))

    def days_off_between(self, start: date, end: date) -> list[date]:
        """Non-working days d with start ≤ d ≤ end."""
        result = []
        d = start
        while d <= end:
            if not self.is_workday(d):
                result.append(d)
            d += timedelta(days=1)
        return result

    def window_text(self) -> Msg:
        """The windows as text, e.g. 08:00–12:00、14:00–18:00 (English: 08:00–12:00, 14:00–18:00)."""
        return Msg("{windows}", windows=[f"{s:%H:%M}–{e:%H:%M}" for s, e in self._windows])


__all__ = ["DEFAULT_WINDOWS", "HOLIDAY_NAMES", "US_PER_MINUTE", "WORKING_DAY_MINUTES", "StatutoryYear", "WorkCalendar",
           "statutory_year"]
