"""Time limits with periods of validity (issue 12, item 2; migration 0018).

A ``time_limits`` row is in force from ``valid_from`` (None: since ever) until ``valid_to``
(None: still). Changing a limit ends the old row and starts a new one at the change's effective
time, so a timer uses the rule in force when its stage started: ``VersionedLimitTable.at(when)``
is the plain LimitTable of that instant. Looked up without a time, the table answers with the
rules in force at ``now`` (the instant it was built for).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.domain.limits import LimitKey, LimitRule, LimitTable


@dataclass(frozen=True)
class LimitVersion:
    """One rule of one scope and its period of validity."""

    key: LimitKey
    rule: LimitRule
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def in_force(self, when: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= when) and (self.valid_to is None or when < self.valid_to)

    def overlaps(self, other: LimitVersion) -> bool:
        """Whether the two periods share an instant."""
        start = max((t for t in (self.valid_from, other.valid_from) if t is not None), default=None)
        ends = [t for t in (self.valid_to, other.valid_to) if t is not None]
        return start is None or not ends or start < min(ends)


class VersionedLimitTable(LimitTable):
    """Every version of every rule; ``at(when)`` is the table in force at ``when``."""

    def __init__(self, versions: Iterable[LimitVersion], now: datetime | None = None):
        self.versions: tuple[LimitVersion, ...] = tuple(versions)
        self._cache: dict[tuple[datetime | None, ...], LimitTable] = {}
        self._built_for = now
        super().__init__(self._rules_at(now))

    def _rules_at(self, when: datetime | None) -> dict[LimitKey, LimitRule]:
        if when is None:  # the latest rule of each scope
            return {v.key: v.rule for v in self.versions if v.valid_to is None}
        return {v.key: v.rule for v in self.versions if v.in_force(when)}

    def at(self, when: datetime | None) -> LimitTable:
        """The rules in force at ``when`` (the instant a timer starts)."""
        if when is None:
            return self
        bounds = tuple(v.in_force(when) for v in self.versions)  # which versions apply
        table = self._cache.get(bounds)  # type: ignore[arg-type]
        if table is None:
            table = LimitTable(self._rules_at(when))
            if len(self._cache) < 64:
                self._cache[bounds] = table  # type: ignore[index]
        return table


def limits_at(limits: LimitTable, when: datetime | None) -> LimitTable:
    """``limits`` as in force at ``when`` (a plain LimitTable has no periods: itself)."""
    at = getattr(limits, "at", None)
    return at(when) if at is not None else limits


__all__ = ["LimitVersion", "VersionedLimitTable", "limits_at"]
