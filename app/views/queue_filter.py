"""The queue's filter (which rows are shown) and counters (totals over every row)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

from app.domain.cases import CaseSummary
from app.domain.definitions import CaseState, Light
from app.domain.ticktable import TickTable


@dataclass(frozen=True)
class QueueFilter:
    """Which rows are shown; empty sets and blank texts mean "no restriction"."""

    states: frozenset[CaseState] = frozenset()
    lights: frozenset[Light] = frozenset()
    category: str = ""  # code prefix (major "06" or full "06001") or text in the name/number/address
    department_code: str = ""
    grid_code: str = ""  # prefix, so a street or community code also works
    text: str = ""

    def is_empty(self) -> bool:
        """True when the filter lets every row through."""
        return self == QueueFilter()


class FilterChanges(TypedDict, total=False):
    """Some fields of a :class:`QueueFilter` (the keyword arguments of ``update_filter``)."""

    states: frozenset[CaseState]
    lights: frozenset[Light]
    category: str
    department_code: str
    grid_code: str
    text: str


def row_matches(f: QueueFilter, row: CaseSummary, light: Light) -> bool:
    """True when ``row`` (showing ``light``) passes the filter ``f``."""
    if f.states and row.state not in f.states:
        return False
    if f.lights and light not in f.lights:
        return False
    if f.department_code and row.department_code != f.department_code:
        return False
    if f.grid_code and not (row.grid_code or "").startswith(f.grid_code.strip()):
        return False
    if f.category:
        needle = f.category.strip()
        if not (row.category_code.startswith(needle) or needle in row.category_name):
            return False
    if f.text:
        needle = f.text.strip().lower()
        haystack = " ".join(
            filter(None, (row.number, row.category_name, row.address, row.description,
                          row.street_name, row.community_name, row.department_name))
        ).lower()
        if needle not in haystack:
            return False
    return True


@dataclass(frozen=True)
class QueueCounters:
    """Totals for the stats header and the light buttons (over all rows, not just the shown ones)."""

    open: int = 0
    red: int = 0
    yellow: int = 0
    green: int = 0
    paused: int = 0
    urged: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)


class RowTotals:
    """The row-dependent counters (open, urged, cases per stage), kept per row change."""

    def __init__(self) -> None:
        self._stages: Counter[str] = Counter()
        self._urged = 0
        self._open = 0
        self._by_stage: dict[str, int] = {}

    @property
    def open(self) -> int:
        """How many rows there are."""
        return self._open

    def recount(self, rows: dict[int, CaseSummary]) -> None:
        """Count every row from scratch (a new load)."""
        self._stages = Counter(r.timer.stage.value for r in rows.values() if r.timer is not None)
        self._urged = sum(1 for r in rows.values() if r.urge_count > 0)
        self._open = len(rows)
        self._by_stage = dict(self._stages)

    def replace(self, old: CaseSummary | None, new: CaseSummary | None, open_rows: int) -> None:
        """One row was replaced, added (``old`` None) or removed (``new`` None)."""
        for row, sign in ((old, -1), (new, 1)):
            if row is not None:
                self._urged += sign * (row.urge_count > 0)
                if row.timer is not None:
                    self._stages[row.timer.stage.value] += sign
        self._open = open_rows
        self._by_stage = dict(+self._stages)  # unary + drops zero counts

    def counters(self, table: TickTable[int]) -> QueueCounters:
        """These totals plus the table's light and pause counts at its last advance."""
        lights = table.light_counts()
        return QueueCounters(
            open=self._open, red=lights[Light.RED], yellow=lights[Light.YELLOW], green=lights[Light.GREEN],
            paused=table.paused_count, urged=self._urged, by_stage=dict(self._by_stage),
        )
