"""The queue's incremental timer clock: per-case lights and remaining time, updated per tick.

Split out of :mod:`app.domain.deadlines`, whose integer-microsecond arithmetic it shares so
that :class:`TickTable` and :func:`app.domain.deadlines.read_timer` agree exactly.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from app.domain.calendar import WorkCalendar
from app.domain.cases import TimerSpec
from app.domain.deadlines import (
    NO_TIMER,
    TimerReading,
    _light,
    _make_reading,
    _now_us,
    _ratio,
    _td_us,
    _timing,
    deadline,
)
from app.domain.definitions import Basis, Light

__all__ = ["CONSTANT_TERM", "NATURAL_TERM", "WORKING_TERM", "TickChanges", "TickTable"]

K = TypeVar("K", bound=Hashable)  # a row's id (the queue uses case ids)


@dataclass(frozen=True)
class _Row:
    basis: Basis
    limit_us: int  # the effective limit: shortened by a 督办 cap (see app.domain.deadlines)
    start_us: int  # basis position the limit counts from (finished pauses included)
    frozen_elapsed_us: int | None  # set while paused: elapsed does not move
    deadline: datetime | None
    capped: bool


#: Order terms (see :meth:`TickTable.order_term`): remaining = base − the coordinate named here.
WORKING_TERM, NATURAL_TERM, CONSTANT_TERM = "w", "n", "c"


@dataclass(frozen=True)
class TickChanges(Generic[K]):
    """What one :meth:`TickTable.advance` changed: ids whose light changed, and whether any
    row's order term changed (first advance, a future start was reached, or the clock went
    backwards)."""

    lights: list[K]
    reordered: bool


class TickTable(Generic[K]):
    """Per-case timer state for the queue: one tick costs one ``cal.ordinal_us`` call plus the
    rows whose light actually changes.

    Every row's position is a basis coordinate (working ordinal µs or natural µs) and a row's
    light only changes when its coordinate crosses 80 % or 100 % of its limit (a 督办 cap is
    folded into the limit when the row is updated, so the tick never looks at it). So each running
    row has one pending event (its next light change, or its start when that lies ahead) in a
    heap per basis; :meth:`advance` pops only the events that are due. Readings are computed
    on demand (:meth:`last_reading`) for the few rows a view shows.
    """

    def __init__(self, cal: WorkCalendar, rows: Iterable[tuple[K, TimerSpec | None]] = ()):
        self._cal = cal
        self._rows: dict[K, _Row | None] = {}
        self._lights: dict[K, Light] = {}  # at the last advance
        self._counts = dict.fromkeys(Light, 0)
        self._paused = 0
        self._heaps: dict[Basis, list[tuple[int, int, K]]] = {Basis.WORKING: [], Basis.NATURAL: []}
        self._stamps: dict[K, int] = {}  # the live heap entry of each row; others are stale
        self._next_stamp = 0
        self._pos: tuple[int, int] | None = None  # (working, natural) position of the last advance
        for case_id, spec in rows:
            self.update(case_id, spec)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._rows

    # ---- changing rows ---------------------------------------------------------------
    def update(self, case_id: K, spec: TimerSpec | None) -> None:
        """Add or replace a case's timer (None: the case has no running timer)."""
        self._forget(case_id)
        if spec is None:
            row = None
        else:
            start_us, limit_us, capped = _timing(spec, self._cal)
            frozen = None
            if spec.paused_since is not None:
                frozen = _now_us(spec, self._cal, spec.paused_since) - start_us
            row = _Row(spec.basis, limit_us, start_us, frozen, deadline(spec, self._cal), capped)
        self._rows[case_id] = row
        if row is not None and row.frozen_elapsed_us is not None:
            self._paused += 1
        if self._pos is not None:
            self._place(case_id, row)
        self._compact()

    def remove(self, case_id: K) -> None:
        """Forget a case (no error if it is not there)."""
        self._forget(case_id)
        self._rows.pop(case_id, None)

    def _forget(self, case_id: K) -> None:
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

    def _place(self, case_id: K, row: _Row | None) -> Light:
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
        changed = []  # list[K], as in the branch above
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

    def light(self, case_id: K) -> Light:
        """The light at the last advance (NONE for rows without a timer or not placed yet)."""
        return self._lights.get(case_id, Light.NONE)

    def light_counts(self) -> dict[Light, int]:
        """How many rows show each light at the last advance."""
        return dict(self._counts)

    @property
    def paused_count(self) -> int:
        """How many rows have a running pause."""
        return self._paused

    def is_paused(self, case_id: K) -> bool:
        """Whether the case's timer is paused (缓办/挂账): its remaining time is frozen."""
        row = self._rows.get(case_id)
        return row is not None and row.frozen_elapsed_us is not None

    def order_term(self, case_id: K) -> tuple[str, int] | None:
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

    def remaining_us(self, case_id: K) -> int | None:
        """Remaining µs at the last advance (negative when overdue); None without a timer."""
        term = self.order_term(case_id)
        if term is None:
            return None
        kind, base = term
        assert self._pos is not None
        return base - (self._pos[0] if kind == WORKING_TERM else self._pos[1] if kind == NATURAL_TERM else 0)

    def ratio(self, case_id: K) -> float:
        """Elapsed / limit at the last advance, exactly as :attr:`TimerReading.ratio` (0 without a timer)."""
        left = self.remaining_us(case_id)
        if left is None:
            return 0.0
        row = self._rows[case_id]
        assert row is not None
        return _ratio(row.limit_us - left, row.limit_us)

    def ratios(self, case_ids: Iterable[K]) -> list[float]:
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
            return _make_reading(row.limit_us, row.frozen_elapsed_us, None, True, row.capped)
        now_us = working_now if row.basis is Basis.WORKING else natural_now
        return _make_reading(row.limit_us, now_us - row.start_us, row.deadline, False, row.capped)

    def last_reading(self, case_id: K) -> TimerReading:
        """The reading of one case at the last :meth:`advance` (computed now, not stored)."""
        if self._pos is None:
            raise RuntimeError("the tick table has not been advanced yet; call advance(now) first")
        if case_id not in self._rows:
            raise KeyError(f"case {case_id!r} is not in the tick table; call update() first")
        return self._read(self._rows[case_id], *self._pos)

    def reading(self, case_id: K, now: datetime) -> TimerReading:
        """The reading of one case at ``now``; KeyError if the case is not in the table."""
        if case_id not in self._rows:
            raise KeyError(f"case {case_id!r} is not in the tick table; call update() first")
        return self._read(self._rows[case_id], self._cal.ordinal_us(now), _td_us(now - datetime.min))

    def readings(self, now: datetime) -> dict[K, TimerReading]:
        """Readings of all cases at ``now``, in insertion order (O(n): prefer advance + last_reading)."""
        working_now = self._cal.ordinal_us(now)
        natural_now = _td_us(now - datetime.min)
        return {case_id: self._read(row, working_now, natural_now) for case_id, row in self._rows.items()}
