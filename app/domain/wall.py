"""The video wall's figures, pure: the comparison windows, the headline tiles and their changes.

A tile compares today until now with yesterday until the same hour (``windows``). The store
counts (app/store/wall.py); this module turns counts into what a tile says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

#: The headline tiles, in their default order.
TILE_KEYS = ("reports", "filed", "dispatched", "closed", "on_time", "overdue", "urgent")

#: A tile's Chinese title.
TILE_TITLES = {
    "reports": "今日上报", "filed": "今日立案", "dispatched": "今日派遣", "closed": "今日结案",
    "on_time": "按期处置率", "overdue": "当前超期", "urgent": "紧急在办",
}

#: Tiles where a rise is bad news (drawn red when up), the others good (green when up).
RISE_IS_BAD = frozenset({"overdue", "urgent"})


def windows(now: datetime) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """``([today 00:00, now), [yesterday 00:00, now - 1 day))``."""
    midnight = datetime.combine(now.date(), time())
    return (midnight, now), (midnight - timedelta(days=1), now - timedelta(days=1))


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` as a percentage, None when nothing was counted."""
    return None if whole <= 0 else 100.0 * part / whole


@dataclass(frozen=True)
class Tile:
    """One headline tile: its value now, at the same hour yesterday, and how to show both."""

    key: str
    value: float | None
    yesterday: float | None
    percent: bool = False

    @property
    def title(self) -> str:
        return TILE_TITLES[self.key]

    @property
    def delta(self) -> float | None:
        if self.value is None or self.yesterday is None:
            return None
        return self.value - self.yesterday

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        return f"{self.value:.1f}%" if self.percent else f"{self.value:.0f}"

    @property
    def delta_text(self) -> str:
        """'较昨日同时 ▲3', '… ▼1.5点' (percentage points), '… 持平', or '' with nothing to compare."""
        d = self.delta
        if d is None:
            return ""
        if abs(d) < 0.05:
            return "较昨日同时 持平"
        arrow = "▲" if d > 0 else "▼"
        if self.percent:
            return f"较昨日同时 {arrow}{abs(d):.1f}点"
        return f"较昨日同时 {arrow}{abs(d):.0f}"

    @property
    def trend(self) -> str:
        """'good', 'bad' or 'flat': how the change should be coloured."""
        d = self.delta
        if d is None or abs(d) < 0.05:
            return "flat"
        up = d > 0
        return "bad" if up == (self.key in RISE_IS_BAD) else "good"


def headline(today: dict[str, int], yesterday: dict[str, int], *, overdue: int,
             urgent: int, urgent_yesterday: int | None) -> list[Tile]:
    """The seven tiles from two windows' counts (keys of ``app.store.wall.WindowCounts``).

    ``overdue`` is a state now (no yesterday figure: deadlines then are not kept), ``urgent``
    the urgent cases open now and at the same hour yesterday.
    """
    def counted(key: str) -> Tile:
        return Tile(key, today[key], yesterday[key])

    return [
        Tile("reports", today["reports"], yesterday["reports"]),
        counted("filed"),
        counted("dispatched"),
        counted("closed"),
        Tile("on_time", rate(today["closed_on_time"], today["closed_timed"]),
             rate(yesterday["closed_on_time"], yesterday["closed_timed"]), percent=True),
        Tile("overdue", overdue, None),
        Tile("urgent", urgent, urgent_yesterday),
    ]


def daily_trend(rows: Iterable[tuple[str, str, datetime]], end: date, days: int = 7,
                top: int = 5) -> tuple[list[date], list[tuple[str, list[int]]]]:
    """Reports per day of the ``top`` categories over the ``days`` days ending ``end``."""
    span = [end - timedelta(days=days - 1 - i) for i in range(days)]
    index = {d: i for i, d in enumerate(span)}
    per: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for code, name, at in rows:
        i = index.get(at.date())
        if i is None:
            continue
        names[code] = name
        per.setdefault(code, [0] * days)[i] += 1
    ranked = sorted(per, key=lambda c: (-sum(per[c]), c))[:top]
    return span, [(names[c], per[c]) for c in ranked]


__all__ = ["RISE_IS_BAD", "TILE_KEYS", "TILE_TITLES", "Tile", "daily_trend", "headline", "rate", "windows"]
