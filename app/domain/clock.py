"""Injected clocks. All times are naive datetimes in China Standard Time (UTC+8)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

CST = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    """Anything that tells the current time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, as naive China Standard Time."""

    def now(self) -> datetime:
        return datetime.now(CST).replace(tzinfo=None)


class FixedClock:
    """A clock for tests and demos: stands still until advanced."""

    def __init__(self, at: datetime):
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at
