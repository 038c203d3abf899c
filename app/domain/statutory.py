"""Statutory calendar years as data: which days the State Council made holidays or 调休 workdays.

A :class:`StatutoryYear` is one year's arrangement: its days off on top of the weekends (named,
e.g. 春节), its 调休 working weekend days, and whether it is **official** (entered from, or
imported with, the State Council's notice; or taken from ``chinesecalendar``, which copies the
notices) or only **estimated** (derived from the rules of the ``holidays`` library: the statutory
festivals and their observed days, but no 调休 working weekends, which only a notice can say).

The store keeps the years (``calendar_years`` + ``statutory_days``, migration 0016) and the
working calendar reads them from there; the libraries are only the seed (:func:`seed_years`).
Everything here is pure: no clock, no store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import chinese_calendar

from app.domain.messages import Msg, MsgError, Seq

OFFICIAL = "official"
ESTIMATED = "estimated"
STATUSES = (OFFICIAL, ESTIMATED)
STATUS_LABELS = {OFFICIAL: "正式", ESTIMATED: "推算"}

#: Chinese names of the holidays chinese_calendar and holidays know (they name them in English).
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
#: The ``holidays`` library's English names (en_US) → the Chinese names above.
_HOLIDAYS_LIB_NAMES = {
    "New Year's Day": "元旦",
    "Chinese New Year (Spring Festival)": "春节",
    "Chinese New Year's Eve": "春节",
    "Tomb-Sweeping Day": "清明节",
    "Labor Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-Autumn Festival": "中秋节",
    "National Day": "国庆节",
}
#: Longest holiday name kept (statutory_days.name is VARCHAR(64)).
MAX_NAME = 64
#: Years estimated beyond the last year chinesecalendar knows, when nothing says otherwise.
ESTIMATE_AHEAD = 2


@dataclass(frozen=True)
class StatutoryYear:
    """One year's statutory arrangement: days off besides weekends, 调休 working weekend days.

    ``holidays`` maps each statutory day off to its name ("" when unnamed); a weekend day may be
    listed to give it a name (e.g. 春节 on a Saturday). ``workdays`` are the 调休 working days
    (weekend days worked). Every other day is a workday Monday–Friday and off at weekends.
    """

    year: int
    status: str
    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: frozenset[date] = frozenset()
    source: str = ""

    def problems(self) -> list[Msg]:
        """Why this year cannot be stored (empty when it can)."""
        found: list[Msg] = []
        if not 1 <= self.year <= 9999:
            return [Msg("年份 {year} 超出支持的范围（1–9999）", year=self.year)]
        if self.status not in STATUSES:
            found.append(Msg("状态“{status}”无效：应为 official（正式）或 estimated（推算）", status=self.status))
        outside = sorted(d for d in (*self.holidays, *self.workdays) if d.year != self.year)
        if outside:
            found.append(Msg("日期不在 {year} 年内：{days}", year=self.year, days=[d.isoformat() for d in outside]))
        both = sorted(set(self.holidays) & self.workdays)
        if both:
            found.append(Msg("同一天不能既是节假日又是调休工作日：{days}", days=[d.isoformat() for d in both]))
        weekdays = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekdays:
            found.append(Msg("调休工作日应为周六或周日（周一至周五本来就是工作日）：{days}",
                             days=[d.isoformat() for d in weekdays]))
        long_names = sorted(d for d, n in self.holidays.items() if len(n) > MAX_NAME)
        if long_names:
            found.append(Msg("节假日名称过长（最多 {limit} 个字符）：{days}", limit=MAX_NAME,
                             days=[d.isoformat() for d in long_names]))
        if len(self.source) > 1000:
            found.append(Msg("来源说明过长（{count:,} 个字符，最多 1000 个）", count=len(self.source)))
        if not found and not any(self.flags()):
            found.append(Msg("{year} 年没有任何工作日；请检查节假日和调休工作日", year=self.year))
        return found

    def check(self) -> StatutoryYear:
        """``self`` when it can be stored; else MsgError naming every problem."""
        problems = self.problems()
        if problems:
            raise MsgError(Msg("{year} 年的日历有误，未做任何修改：{problems}", year=self.year,
                               problems=Seq(problems, "；", "; ")))
        return self

    def flags(self) -> tuple[bool, ...]:
        """The workday flag of each day of the year (1 January first)."""
        first = date(self.year, 1, 1)
        days = (date(self.year + 1, 1, 1) - first).days if self.year < 9999 else 365
        flags = []
        for i in range(days):
            d = first + timedelta(days=i)
            flags.append(d in self.workdays or (d.weekday() < 5 and d not in self.holidays))
        return tuple(flags)

    def days(self) -> dict[date, tuple[bool, str | None]]:
        """Every day of the year: (workday, holiday name or None), as ``statutory_days`` stores it."""
        first = date(self.year, 1, 1)
        return {first + timedelta(days=i): (flag, self.holidays.get(first + timedelta(days=i)) or None)
                for i, flag in enumerate(self.flags())}

    def name_of(self, d: date) -> str | None:
        """The holiday name of ``d`` (None when it is no named holiday)."""
        return self.holidays.get(d) or None

    def same_days(self, other: StatutoryYear) -> bool:
        """Whether ``other`` has the same days (status and source aside)."""
        return (self.year == other.year and dict(self.holidays) == dict(other.holidays)
                and self.workdays == other.workdays)

    def as_record(self) -> dict[str, object]:
        """A compact JSON-able form (the configuration history's before/after)."""
        return {"year": self.year, "status": self.status, "source": self.source,
                "holidays": {d.isoformat(): n for d, n in sorted(self.holidays.items())},
                "workdays": sorted(d.isoformat() for d in self.workdays)}

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> StatutoryYear:
        """The inverse of :meth:`as_record`."""
        holidays = record.get("holidays") or {}
        workdays = record.get("workdays") or []
        assert isinstance(holidays, Mapping) and isinstance(workdays, Iterable)
        return cls(int(str(record["year"])), str(record["status"]),
                   {date.fromisoformat(str(k)): str(v) for k, v in holidays.items()},
                   frozenset(date.fromisoformat(str(d)) for d in workdays), str(record.get("source") or ""))

    @classmethod
    def from_days(cls, year: int, status: str, days: Mapping[date, tuple[bool, str | None]],
                  source: str = "") -> StatutoryYear:
        """A year from stored rows (day → (workday, name)); a day without a row is Monday–Friday."""
        holidays: dict[date, str] = {}
        workdays = set()
        for d, (workday, name) in days.items():
            if workday and d.weekday() >= 5:
                workdays.add(d)
            elif not workday and (d.weekday() < 5 or name):
                holidays[d] = name or ""
        return cls(year, status, holidays, frozenset(workdays), source)


# ------------------------------------------------------------------ the seed: the two libraries


@cache
def statutory_year(year: int) -> tuple[bool, ...] | None:
    """Statutory workday flags for each day of ``year`` from chinesecalendar; None if it lacks the year."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    # chinese_calendar.is_workday rescans its whole table on every call (slow for a year's worth
    # of days), so apply its rule directly to its published tables; a test checks they agree
    workdays, holidays = chinese_calendar.workdays, chinese_calendar.holidays
    flags = []
    d = date(year, 1, 1)
    while d.year == year:
        flags.append(d in workdays or (d.weekday() <= 4 and d not in holidays))
        d += timedelta(days=1)
    return tuple(flags)


def _chinesecalendar_version() -> str:
    try:
        from importlib.metadata import version

        return version("chinesecalendar")
    except Exception:  # noqa: BLE001 - only a label
        return "?"


def _holidays_version() -> str:
    import holidays

    return str(getattr(holidays, "__version__", "?"))


@cache
def chinesecalendar_years() -> tuple[int, ...]:
    """The years chinesecalendar knows (it publishes from 2004)."""
    return tuple(y for y in range(1990, 2101) if statutory_year(y) is not None)


@cache
def official_year(year: int) -> StatutoryYear | None:
    """``year`` as chinesecalendar has it (official: copied from the State Council's notices)."""
    flags = statutory_year(year)
    if flags is None:
        return None
    first = date(year, 1, 1)
    holidays: dict[date, str] = {}
    workdays = set()
    for i, workday in enumerate(flags):
        d = first + timedelta(days=i)
        if workday and d.weekday() >= 5:
            workdays.add(d)
        elif not workday:
            _, name = chinese_calendar.get_holiday_detail(d)
            if name or d.weekday() < 5:
                holidays[d] = HOLIDAY_NAMES.get(name, name) if name else ""
    return StatutoryYear(year, OFFICIAL, holidays, frozenset(workdays),
                         f"chinesecalendar {_chinesecalendar_version()}（据国务院办公厅通知）")


def _holidays_name(name: str) -> str:
    for suffix in (" (observed, estimated)", " (estimated)", " (observed)"):
        name = name.removesuffix(suffix)
    if name.startswith("Day off (substituted"):
        return "调休"
    return _HOLIDAYS_LIB_NAMES.get(name, name)[:MAX_NAME]


@cache
def estimated_year(year: int) -> StatutoryYear:
    """``year`` derived from the ``holidays`` library.

    Official when the library carries that year's notice (its table of substituted days), else
    estimated: the festivals of the current rules and their observed days, no 调休 working days.
    """
    import holidays
    from holidays.countries.china import ChinaStaticHolidays

    lib = holidays.China(years=year, language="en_US")
    days_off = {d: _holidays_name(str(n)) for d, n in lib.items() if d.year == year}
    published = year in getattr(ChinaStaticHolidays, "special_public_holidays", {})
    workdays = frozenset(d for d in getattr(lib, "weekend_workdays", ()) if d.year == year) if published \
        else frozenset()
    if published:
        source = f"holidays {_holidays_version()}（据国务院办公厅通知）"
        return StatutoryYear(year, OFFICIAL, days_off, workdays, source)
    source = f"holidays {_holidays_version()} 按规则推算（未含调休工作日；待国务院办公厅通知发布后录入）"
    return StatutoryYear(year, ESTIMATED, days_off, frozenset(), source)


def seed_year(year: int) -> StatutoryYear:
    """The libraries' best for ``year``: chinesecalendar (official), else ``holidays``."""
    return official_year(year) or estimated_year(year)


def seed_through(this_year: int | None = None) -> int:
    """The last year the seed fills: ESTIMATE_AHEAD years past the later of chinesecalendar's last
    year and ``this_year`` (the current year, when known)."""
    known = chinesecalendar_years()
    last = known[-1] if known else 2026
    return max(last, this_year or 0) + ESTIMATE_AHEAD


def seed_years(this_year: int | None = None) -> dict[int, StatutoryYear]:
    """Every year chinesecalendar knows (official) and the estimated years after it up to
    :func:`seed_through` — what a new store starts with."""
    known = chinesecalendar_years()
    years = {y: seed_year(y) for y in known}
    first = (known[-1] + 1) if known else 2027
    for y in range(first, seed_through(this_year) + 1):
        years[y] = seed_year(y)
    return years


__all__ = ["ESTIMATED", "HOLIDAY_NAMES", "OFFICIAL", "STATUSES", "STATUS_LABELS", "StatutoryYear",
           "chinesecalendar_years", "estimated_year", "official_year", "seed_through", "seed_year", "seed_years",
           "statutory_year"]
