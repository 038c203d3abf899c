"""One calendar year as a file, and day lists as typed on the command line (pure parsing).

TOML (one year; ``gridhall admin calendar import FILE.toml``)::

    year = 2027
    status = "official"            # or "estimated"; default official
    source = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）"
    workdays = ["2027-02-20"]      # 调休 working weekend days
    [holidays]                     # statutory days off besides weekends, with their names
    "2027-01-01" = "元旦"
    "2027-02-05..2027-02-11" = "春节"   # a range, both ends included

CSV (UTF-8, a header ``date,kind,name``; kind ``holiday`` / 节假日 or ``workday`` / 调休工作日)::

    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-05..2027-02-11,holiday,春节
    2027-02-20,workday,

A CSV file carries no status or source: they come from the command line (``--official``,
``--source``). Every date must fall in the one year; the year is checked as a whole
(app.domain.statutory.StatutoryYear.problems) before anything is written.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.domain.messages import Msg, MsgError
from app.domain.statutory import MAX_NAME, OFFICIAL, STATUSES

#: The longest range one entry may span (a typo like 2027-01-01..2072-01-01 is refused).
MAX_RANGE_DAYS = 366
HOLIDAY_KINDS = ("holiday", "节假日", "休息日")
WORKDAY_KINDS = ("workday", "调休工作日", "工作日")


class CalendarFileError(MsgError):
    """A calendar file or day list that cannot be read; the message says where and why."""


@dataclass
class YearInput:
    """What a file or the command line says about one year (not yet checked as a whole)."""

    year: int | None = None
    status: str | None = None
    source: str | None = None
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: set[date] = field(default_factory=set)


def _date(text: str, where: Msg | str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CalendarFileError(Msg("{where}：日期“{text}”无效，应为 YYYY-MM-DD（例如 2027-02-06）",
                                    where=where, text=text.strip()[:40])) from None


def parse_days(spec: str, where: Msg | str = "") -> tuple[list[date], str]:
    """``DATE``, ``DATE..DATE`` (both included), optionally ``=NAME``: the days and the name."""
    days_text, _, name = spec.partition("=")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise CalendarFileError(Msg("{where}：名称过长（最多 {limit} 个字符）", where=where or spec[:40],
                                    limit=MAX_NAME))
    first_text, dots, last_text = days_text.partition("..")
    first = _date(first_text, where or spec)
    if not dots:
        return [first], name
    last = _date(last_text, where or spec)
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        raise CalendarFileError(Msg("{where}：日期范围 {first}..{last} 无效（结束不能早于开始，且不超过一年）",
                                    where=where or spec[:40], first=first, last=last))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)], name


def add_holidays(target: YearInput, specs: Iterable[str], where: Msg | str = "--holiday") -> None:
    for spec in specs:
        days, name = parse_days(spec, where)
        for d in days:
            target.holidays[d] = name


def add_workdays(target: YearInput, specs: Iterable[str], where: Msg | str = "--workday") -> None:
    for spec in specs:
        days, _name = parse_days(spec, where)
        target.workdays.update(days)


def parse_toml(text: str) -> YearInput:
    """One year from the TOML format above."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarFileError(Msg("日历文件不是有效的 TOML：{detail}", detail=str(exc)[:200])) from None
    unknown = sorted(set(data) - {"year", "status", "source", "holidays", "workdays"})
    if unknown:
        raise CalendarFileError(Msg("日历文件有未知的项：{keys}（可用：year、status、source、holidays、workdays）",
                                    keys=unknown))
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise CalendarFileError(Msg("日历文件须写明年份，例如 year = 2027"))
    status = data.get("status", OFFICIAL)
    if status not in STATUSES:
        raise CalendarFileError(Msg("状态“{status}”无效：应为 official（正式）或 estimated（推算）", status=str(status)[:40]))
    source = data.get("source", "")
    if not isinstance(source, str):
        raise CalendarFileError(Msg("source 应为文本（国务院办公厅通知的名称和文号）"))
    result = YearInput(year=year, status=status, source=source)
    holidays = data.get("holidays", {})
    workdays = data.get("workdays", [])
    if not isinstance(holidays, dict) or not all(isinstance(v, str) for v in holidays.values()):
        raise CalendarFileError(Msg("holidays 应为一张表：\"日期\" = \"名称\""))
    if not isinstance(workdays, list) or not all(isinstance(v, str | date) for v in workdays):
        raise CalendarFileError(Msg("workdays 应为日期列表，例如 workdays = [\"2027-02-20\"]"))
    add_holidays(result, (f"{k}={v}" for k, v in holidays.items()), "holidays")
    add_workdays(result, (v.isoformat() if isinstance(v, date) else v for v in workdays), "workdays")
    return result


def parse_csv(text: str) -> YearInput:
    """One year's days from the CSV format above (year from the dates; no status or source)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = list(reader)
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["date", "kind"]:
        raise CalendarFileError(Msg("日历 CSV 文件的表头应为 date,kind,name"))
    result = YearInput()
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        where = Msg("第 {lineno} 行", lineno=lineno)
        spec, kind = row[0], (row[1].strip() if len(row) > 1 else "")
        name = row[2].strip() if len(row) > 2 else ""
        if kind.lower() in HOLIDAY_KINDS:
            add_holidays(result, [f"{spec}={name}" if name else spec], where)
        elif kind.lower() in WORKDAY_KINDS:
            add_workdays(result, [spec], where)
        else:
            raise CalendarFileError(Msg("{where}：类型“{kind}”无效：应为 holiday（节假日）或 workday（调休工作日）",
                                        where=where, kind=kind[:40]))
    years = {d.year for d in (*result.holidays, *result.workdays)}
    if len(years) == 1:
        result.year = years.pop()
    elif len(years) > 1:
        raise CalendarFileError(Msg("日历文件只能包含一年的日期，实际包含：{years}", years=sorted(years)))
    return result


def parse_file(name: str, text: str) -> YearInput:
    """By the file's extension: ``.toml`` or ``.csv``."""
    lower = name.lower()
    if lower.endswith(".toml"):
        return parse_toml(text)
    if lower.endswith(".csv"):
        return parse_csv(text)
    raise CalendarFileError(Msg("不支持的日历文件类型：{name}（应为 .toml 或 .csv）", name=name[-80:]))


__all__ = ["CalendarFileError", "YearInput", "add_holidays", "add_workdays", "parse_csv", "parse_days", "parse_file",
           "parse_toml"]
