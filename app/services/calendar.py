"""The working calendar as configured in a store, and its administration.

``load_calendar`` builds the WorkCalendar from the store: the statutory years (``calendar_years``
+ ``statutory_days``, official or estimated; migration 0016) and the local overrides
(``calendar_days``). The database's timer functions read the same rows, so Python and SQL agree.
``refresh_calendar`` reloads a running calendar when the configuration changed (another
workstation saved a year): the next timer computation uses the new days.

The administrator's verbs (``show_year``, ``set_year``, ``import_year``, ``estimate_year``) check
the whole year first (no working day, dates outside the year, a day both holiday and workday:
one clear message, nothing written) and record every change in the configuration history
(``config_changes``: who, when, before, after, why) in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.calendar import WorkCalendar
from app.domain.calendar_file import CalendarFileError, YearInput, add_holidays, add_workdays, parse_file
from app.domain.clock import Clock, SystemClock
from app.domain.definitions import Role
from app.domain.messages import Msg, MsgError, Seq
from app.domain.statutory import ESTIMATED, OFFICIAL, StatutoryYear, seed_year
from app.services.actors import Actor
from app.services.errors import PermissionDenied, ValidationError
from app.store import calendar_years as years_store
from app.store.engine import Store
from app.store.models import CalendarDay

#: The desk warns when a day this many days ahead is only estimated (issue 12).
WARNING_DAYS = 60
#: Largest calendar file read (a year is a few kilobytes).
MAX_FILE_BYTES = 1_000_000


def _overrides(session: Session) -> tuple[dict[date, bool], dict[date, str]]:
    rows = list(session.scalars(select(CalendarDay)))
    return ({row.day: bool(row.workday) for row in rows},
            {row.day: row.note for row in rows if not row.workday and row.note})


def _calendar_data(store: Store) -> tuple[dict[int, StatutoryYear] | None, dict[date, bool], dict[date, str], int]:
    with store.session() as session:
        overrides, named = _overrides(session)
        conn = session.connection()
        if not years_store.has_calendar_years(conn):  # a store before migration 0016: the seed
            return None, overrides, named, -1
        return years_store.read_years(conn), overrides, named, years_store.config_version(conn)


def load_calendar(store: Store) -> WorkCalendar:
    """A WorkCalendar with the store's statutory years and local overrides (``calendar_days``)."""
    years, overrides, named, version = _calendar_data(store)
    return WorkCalendar(overrides=overrides, holidays=named, years=years, version=version)


def config_version(store: Store) -> int:
    """The store's configuration version (the number of recorded changes; -1 before 0016)."""
    with store.engine.connect() as conn:
        if not years_store.has_calendar_years(conn):
            return -1
        return years_store.config_version(conn)


def refresh_calendar(store: Store, calendar: WorkCalendar) -> bool:
    """Reload ``calendar`` in place when the store's configuration changed; whether it did."""
    if config_version(store) == calendar.version:
        return False
    years, overrides, named, version = _calendar_data(store)
    calendar.reload(years, overrides, named, version)
    return True


def calendar_warning(calendar: WorkCalendar, today: date, days: int = WARNING_DAYS) -> Msg | None:
    """The desk's warning when a day of the next ``days`` is in an estimated or unknown year."""
    uncertain = calendar.uncertain_years(today, today + timedelta(days=days))
    if not uncertain:
        return None
    estimated = [Msg("{year}年", year=y) for y, s in sorted(uncertain.items()) if s == ESTIMATED]
    missing = [Msg("{year}年", year=y) for y, s in sorted(uncertain.items()) if s is None]
    parts = []
    if estimated:
        parts.append(Msg("{years}节假日安排为推算（尚未录入国务院办公厅通知），未来 {days} 天内的截止时间可能变化",
                         years=estimated, days=days))
    if missing:
        parts.append(Msg("{years}没有节假日数据（按周一至周五计算）", years=missing))
    return Msg("工作日历提醒：{parts}；请管理员录入正式安排（gridhall admin calendar set）",
               parts=Seq(parts, "；", "; "))


# ------------------------------------------------------------------------ administration


@dataclass(frozen=True)
class YearView:
    """One year as the administrator sees it."""

    year: int
    status: str | None  # None: not in the store
    source: str
    updated_at: datetime | None
    updated_by: str | None
    holidays: dict[date, str]
    workdays: list[date]
    workday_count: int
    history: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "status": self.status, "source": self.source,
                "updated_at": self.updated_at.isoformat(sep=" ") if self.updated_at else None,
                "updated_by": self.updated_by,
                "holidays": {d.isoformat(): n for d, n in sorted(self.holidays.items())},
                "workdays": [d.isoformat() for d in self.workdays], "workday_count": self.workday_count,
                "history": [{"seq": h["seq"], "actor": h["actor"], "at": h["at"].isoformat(sep=" "),
                             "reason": h["reason"],
                             "before_status": (json.loads(h["before"]) or {}).get("status") if h["before"] else None,
                             "after_status": (json.loads(h["after"]) or {}).get("status") if h["after"] else None}
                            for h in self.history]}


def _require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied(Msg("只有管理员可以修改工作日历（当前角色：{role}）", role=actor.role))


def _check_year_number(year: int) -> None:
    if not 1 <= year <= 9999:
        raise ValidationError("year", Msg("年份 {year} 超出支持的范围（1–9999）", year=year))


def show_year(store: Store, year: int) -> YearView:
    """The stored arrangement of ``year`` and its change history (anyone may read)."""
    _check_year_number(year)
    with store.engine.connect() as conn:
        years_store.require_calendar_tables(conn)
        stored = years_store.read_years(conn, only=year).get(year)
        info = years_store.year_info(conn, year) or {}
        history = years_store.changes(conn, years_store.CALENDAR_ENTITY, str(year))
    days = stored.flags() if stored is not None else StatutoryYear(year, ESTIMATED).flags()
    return YearView(year, stored.status if stored else None, stored.source if stored else "",
                    info.get("updated_at"), info.get("updated_by"), dict(stored.holidays) if stored else {},
                    sorted(stored.workdays) if stored else [], sum(days), history)


def _save(store: Store, actor: Actor, year: StatutoryYear, reason: str | None, clock: Clock | None) -> int | None:
    _require_admin(actor)
    try:
        year.check()
    except MsgError as exc:
        raise ValidationError("calendar", exc.msg) from None
    if reason is not None and len(reason) > 1000:
        raise ValidationError("reason", Msg("原因过长（{count:,} 个字符，最多 1000 个）", count=len(reason)))
    now = (clock or SystemClock()).now()
    with store.engine.begin() as conn:
        years_store.require_calendar_tables(conn)
        return years_store.write_year(conn, year, actor=actor.username, at=now, reason=reason)


def _current(store: Store, year: int) -> StatutoryYear | None:
    with store.engine.connect() as conn:
        years_store.require_calendar_tables(conn)
        return years_store.read_years(conn, only=year).get(year)


def set_year(store: Store, actor: Actor, year: int, *, holidays: Iterable[str] | None = None,
             workdays: Iterable[str] | None = None, official: bool = False, source: str | None = None,
             reason: str | None = None, clock: Clock | None = None) -> int | None:
    """Enter ``year``'s arrangement (e.g. from the State Council's notice).

    ``holidays`` (``DATE``, ``DATE..DATE``, optionally ``=NAME``) and ``workdays`` replace the
    stored lists when given; what is not given is kept (for a year not stored yet: the
    libraries' estimate). ``official`` marks the year official (else the status stays). Returns the change's number, or None
    when nothing changed.
    """
    _require_admin(actor)
    _current_year, new = plan_year(store, year, holidays=holidays, workdays=workdays, official=official,
                                   source=source)
    return _save(store, actor, new, reason or "gridhall admin calendar set", clock)


def plan_year(store: Store, year: int, *, holidays: Iterable[str] | None = None,
              workdays: Iterable[str] | None = None, official: bool = False,
              source: str | None = None) -> tuple[StatutoryYear | None, StatutoryYear]:
    """What :func:`set_year` would store, without storing it (the dry run): (stored year or None,
    the new year). The entered dates are parsed as ``set_year`` does; the new year is not checked
    (``StatutoryYear.problems`` says what saving it would refuse)."""
    _check_year_number(year)
    current = _current(store, year)
    given = YearInput(year=year)
    try:
        if holidays is not None:
            add_holidays(given, holidays)
        if workdays is not None:
            add_workdays(given, workdays)
    except CalendarFileError as exc:
        raise ValidationError("calendar", exc.msg) from None
    base = current if current is not None else seed_year(year)  # a year not stored yet: the libraries' days
    status = OFFICIAL if official else base.status
    return current, StatutoryYear(
        year, status,
        given.holidays if holidays is not None else dict(base.holidays),
        frozenset(given.workdays) if workdays is not None else base.workdays,
        source if source is not None else base.source)


def import_year(store: Store, actor: Actor, path: str | Path, *, official: bool = False,
                source: str | None = None, reason: str | None = None, clock: Clock | None = None) -> tuple[int, int | None]:
    """Store the one year a TOML or CSV file describes (app.domain.calendar_file); (year, change)."""
    _require_admin(actor)
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationError("file", Msg("日历文件过大（{size:,} 字节，最多 {limit:,}）", size=path.stat().st_size,
                                              limit=MAX_FILE_BYTES))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ValidationError("file", Msg("无法读取日历文件 {name}：{detail}", name=path.name[-80:],
                                          detail=detail)) from None
    try:
        parsed = parse_file(path.name, text)
    except CalendarFileError as exc:
        raise ValidationError("file", exc.msg) from None
    if parsed.year is None:
        raise ValidationError("file", Msg("日历文件 {name} 中没有任何日期，无法确定年份", name=path.name[-80:]))
    status = OFFICIAL if official else (parsed.status or ESTIMATED)
    year = StatutoryYear(parsed.year, status, parsed.holidays, frozenset(parsed.workdays),
                         source if source is not None else (parsed.source or ""))
    change = _save(store, actor, year, reason or Msg("导入日历文件 {name}", name=path.name[-80:]).text(), clock)
    return parsed.year, change


def estimate_year(store: Store, actor: Actor, year: int, *, reason: str | None = None,
                  clock: Clock | None = None) -> tuple[StatutoryYear, int | None]:
    """Store the libraries' arrangement of ``year`` (chinesecalendar's, else ``holidays``' estimate).

    Refused over an official year (an estimate must not replace the State Council's notice).
    """
    _require_admin(actor)
    _current_year, seeded = plan_estimate(store, year)
    return seeded, _save(store, actor, seeded, reason or Msg("按日历库推算").text(), clock)


def plan_estimate(store: Store, year: int) -> tuple[StatutoryYear | None, StatutoryYear]:
    """What :func:`estimate_year` would store (the dry run): (stored year or None, the estimate);
    refused over an official year."""
    _check_year_number(year)
    current = _current(store, year)
    if current is not None and current.status == OFFICIAL:
        raise ValidationError("year", Msg("{year} 年已是正式安排（{source}），不能用推算覆盖；如需修改请用 "
                                          "gridhall admin calendar set", year=year, source=current.source))
    return current, seed_year(year)


__all__ = ["WARNING_DAYS", "YearView", "calendar_warning", "config_version", "estimate_year", "import_year",
           "load_calendar", "plan_estimate", "plan_year", "refresh_calendar", "set_year", "show_year"]
