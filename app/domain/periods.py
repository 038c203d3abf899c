"""Statistics periods (issue 13, item 2): a day, an ISO week (Monday–Sunday), a calendar month, a
quarter, or a custom range — both ends included. Pure; the statistics dock's picker uses them."""

from __future__ import annotations

from datetime import date, timedelta

PERIODS = ("day", "week", "month", "quarter", "custom")


def _month_start(day: date, months: int = 0) -> date:
    n = day.year * 12 + day.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def period_range(kind: str, anchor: date, custom: tuple[date, date] | None = None) -> tuple[date, date]:
    """``(first day, last day)`` of the ``kind`` period containing ``anchor`` (custom: ``custom``, ordered)."""
    if kind == "day":
        return anchor, anchor
    if kind == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=6)
    if kind == "month":
        start = _month_start(anchor)
        return start, _month_start(anchor, 1) - timedelta(days=1)
    if kind == "quarter":
        start = date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
        return start, _month_start(start, 3) - timedelta(days=1)
    if kind == "custom":
        first, last = custom if custom is not None else (anchor, anchor)
        return (first, last) if first <= last else (last, first)
    raise ValueError(f"unknown period {kind!r}")


def shift(kind: str, anchor: date, steps: int) -> date:
    """The anchor ``steps`` periods later (earlier when negative); a month keeps its day where it can."""
    if kind == "day":
        return anchor + timedelta(days=steps)
    if kind == "week":
        return anchor + timedelta(weeks=steps)
    if kind in ("month", "quarter"):
        first = _month_start(anchor, steps * (3 if kind == "quarter" else 1))
        last = _month_start(first, 1) - timedelta(days=1)
        return first.replace(day=min(anchor.day, last.day))
    return anchor  # custom: not shifted


def months(start: date, end: date) -> list[date]:
    """The first day of every month from ``start``'s to ``end``'s, inclusive."""
    out, m = [], _month_start(start)
    while m <= end:
        out.append(m)
        m = _month_start(m, 1)
    return out


def trend_start(end: date, count: int = 12) -> date:
    """The first day of the month ``count - 1`` months before ``end``'s (a trend of ``count`` months)."""
    return _month_start(end, -(count - 1))


__all__ = ["PERIODS", "months", "period_range", "shift", "trend_start"]
