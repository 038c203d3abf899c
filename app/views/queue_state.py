"""The case queue as a Qt-free model: rows, live timer readings, filter, sort, selection."""

from __future__ import annotations

from bisect import insort
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Unpack

from app.domain.calendar import WorkCalendar
from app.domain.cases import CaseSummary
from app.domain.deadlines import TimerReading, explain
from app.domain.definitions import CaseState, Light
from app.domain.ticktable import TickChanges, TickTable
from app.views.events import EventGroup, Signal
from app.views.queue_filter import FilterChanges, QueueCounters, QueueFilter, RowTotals, row_matches
from app.views.queue_order import RemainingOrder, urge_tier

__all__ = ["LIGHT_RESORT_SECONDS", "MAX_REMOVED", "TIME_DEPENDENT_KEYS", "QueueCounters", "QueueEvents",
           "QueueFilter", "QueueState", "SortKey"]


class SortKey(StrEnum):
    """What the queue can be sorted by; one per table column."""

    LIGHT = "light"
    REMAINING = "remaining"
    NUMBER = "number"
    STATE = "state"
    CATEGORY = "category"
    LEVEL = "level"
    GRID = "grid"
    PLACE = "place"
    DEPARTMENT = "department"
    SOURCE = "source"
    REPORTED = "reported"
    URGED = "urged"


#: Keys whose order changes as the clock runs, so a tick may reorder the rows.
TIME_DEPENDENT_KEYS = frozenset({SortKey.LIGHT, SortKey.REMAINING})

#: The light sort re-sorts by ratio inside each light at most this often (lights move at once).
LIGHT_RESORT_SECONDS = 30

#: Removed ids remembered (so a late, older row cannot bring a closed case back).
MAX_REMOVED = 10_000

_LIGHT_RANK = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.NONE: 3}
_STATE_RANK = {state: k for k, state in enumerate(CaseState)}

#: The sort value of a row for each key whose order does not change as the clock runs (ties: case number).
_STATIC_VALUES: dict[SortKey, Callable[[CaseSummary], Any]] = {
    SortKey.NUMBER: lambda r: r.number,
    SortKey.STATE: lambda r: _STATE_RANK[r.state],
    SortKey.CATEGORY: lambda r: r.category_code,
    SortKey.LEVEL: lambda r: r.level.value,
    SortKey.GRID: lambda r: r.grid_code or "",
    SortKey.PLACE: lambda r: (r.street_name or "", r.community_name or ""),
    SortKey.DEPARTMENT: lambda r: r.department_name or "",
    SortKey.SOURCE: lambda r: r.source.value,
    SortKey.REPORTED: lambda r: r.reported_at,
    SortKey.URGED: lambda r: r.urge_count,
}


class QueueEvents(EventGroup):
    """The signals of a :class:`QueueState` (see its docstring for their arguments)."""

    rows_reset: Signal
    rows_changed: Signal
    lights_changed: Signal
    tick: Signal
    selection_changed: Signal
    counters_changed: Signal
    case_event: Signal
    loading: Signal
    load_failed: Signal


class QueueState:
    """Holds the queue rows and their timers; views subscribe to ``events``.

    Events: ``rows_reset()`` (membership or order changed), ``rows_changed(ids)``,
    ``lights_changed(ids)`` (on a tick: the rows whose light changed since the last tick),
    ``tick(now)`` (readings refreshed, rows unchanged), ``selection_changed(case_id|None)``,
    ``counters_changed(counters)``, ``case_event(case_id, action)``, ``loading(bool)``,
    ``load_failed(message)``.

    A tick costs O(rows whose light changes), not O(rows): the :class:`TickTable` keeps the
    lights and light counts incrementally, and readings are computed when asked for (cached
    until the next tick). Sorting by remaining time (the default) is kept by
    :class:`RemainingOrder`, which swaps only the shown neighbours whose order actually
    changed. A light filter re-checks only the rows whose light changed. Sorting by light
    re-sorts every shown row by ratio (the ratio order of rows with
    different limits changes continuously) every ``LIGHT_RESORT_SECONDS`` and moves the rows
    whose light changed at once (see :meth:`_follow_lights`).
    """

    def __init__(self, calendar: WorkCalendar, table_factory: Callable[..., TickTable[int]] = TickTable, *,
                 urged_first: bool = False) -> None:
        #: the time orders (remaining, light) put urged cases first, highest level first (queue_order)
        self.urged_first = urged_first
        self.calendar = calendar
        self._table_factory = table_factory
        self.events = QueueEvents()
        self._rows: dict[int, CaseSummary] = {}
        self._table = table_factory(calendar, [])
        self._cache: dict[int, TimerReading | None] = {}  # readings asked for since the last tick
        self._now: datetime | None = None
        self._filter = QueueFilter()
        self._sort_key = SortKey.REMAINING
        self._descending = False
        self._visible: list[int] = []
        self._order: RemainingOrder | None = None  # keeps the remaining-time sort as time runs
        self._light_sorted_at: datetime | None = None  # when the light sort last re-sorted every row
        self._rank: dict[int, int] = {}  # position of each row in case-number order (tie-break)
        self._totals = RowTotals()  # open, urged, by stage: change only with the rows
        self._selected: int | None = None
        self._archived: CaseSummary | None = None  # the current case, found in the archive, not queued
        # Load bookkeeping (see reset): every upsert/remove gets the next epoch number.
        self._epoch = 0
        self._loaded_token = -1
        self._touched: dict[int, int] = {}  # case id -> epoch of its last upsert/remove
        self._removed: OrderedDict[int, tuple[int, int | None]] = OrderedDict()  # id -> (epoch, version)
        self.counters = QueueCounters()
        # inside batch(): what the changes will announce once it ends
        self._batch_depth = 0
        self._batch_before: list[int] | None = None
        self._batch_ids: dict[int, None] = {}
        self._batch_events: list[tuple[int, str]] = []

    # ---- reading -------------------------------------------------------------------
    @property
    def now(self) -> datetime | None:
        """The time of the last tick."""
        return self._now

    @property
    def rows(self) -> tuple[CaseSummary, ...]:
        """Every row, shown or not."""
        return tuple(self._rows.values())

    @property
    def visible_ids(self) -> tuple[int, ...]:
        """Ids of the shown rows in display order."""
        return tuple(self._visible)

    @property
    def filter(self) -> QueueFilter:
        return self._filter

    @property
    def sort_key(self) -> SortKey:
        return self._sort_key

    @property
    def descending(self) -> bool:
        return self._descending

    @property
    def selected_id(self) -> int | None:
        return self._selected

    def summary(self, case_id: int) -> CaseSummary | None:
        """The row of ``case_id``, or None when it is not in the queue (nor the current archive case)."""
        row = self._rows.get(case_id)
        if row is None and self._archived is not None and self._archived.id == case_id:
            return self._archived
        return row

    @property
    def archived_id(self) -> int | None:
        """The current case when it was opened from the archive and is not in the queue."""
        return self._archived.id if self._archived is not None else None

    def select_found(self, row: CaseSummary) -> None:
        """Make a case found by the archive search current: its queue row when the queue holds it,
        else ``row`` itself (closed, voided, another desk's) until another case becomes current."""
        if row.id in self._rows:
            self._archived = None
            self.select(row.id)
            return
        if self._selected == row.id:
            self._selected = None  # show the fresh row again
        self._archived = row
        self.select(row.id)

    def reading(self, case_id: int) -> TimerReading | None:
        """The timer reading of ``case_id`` at the last tick (None without a running timer)."""
        try:
            return self._cache[case_id]
        except KeyError:
            pass
        reading = None
        if self._now is not None and case_id in self._table and case_id in self._rows:
            reading = self._table.last_reading(case_id)
        self._cache[case_id] = reading
        return reading

    def light(self, case_id: int) -> Light:
        """The light of ``case_id`` at the last tick (NONE without a timer); cheaper than reading()."""
        return self._table.light(case_id) if case_id in self._rows else Light.NONE

    def explain(self, case_id: int) -> str:
        """The timer's explanation text (limit, extensions, pauses, deadline) at the last tick."""
        row = self._rows.get(case_id)
        if row is None or row.timer is None or self._now is None:
            return ""
        return explain(row.timer, self.calendar, self._now)

    def departments(self) -> list[tuple[str, str]]:
        """(code, name) of every department that has a row, sorted by name."""
        seen = {r.department_code: r.department_name or r.department_code
                for r in self._rows.values() if r.department_code}
        return sorted(seen.items(), key=lambda kv: kv[1])

    def states(self) -> list[CaseState]:
        """The states that occur in the rows, in the enum's (workflow) order."""
        present = {r.state for r in self._rows.values()}
        return [s for s in CaseState if s in present]

    # ---- changing ------------------------------------------------------------------
    def begin_load(self) -> int:
        """Mark the start of a fresh load; pass the returned token to :meth:`reset` with its rows."""
        return self._epoch

    def reset(self, rows: Iterable[CaseSummary], now: datetime, token: int | None = None) -> None:
        """Replace every row (a fresh load from the store) and compute the readings at ``now``.

        With the ``token`` of :meth:`begin_load` taken before the load started, changes that
        arrived while it ran win over the (older) snapshot: a row upserted since then is kept
        when the snapshot lacks it or holds an older version, and a row removed since then
        stays removed. Without a token every row is replaced, except that an already held row
        newer than the snapshot's is kept.
        """
        fresh = {r.id: r for r in rows}
        if token is not None and token < self._loaded_token:
            return  # an older load than the one shown: it can only bring stale rows back
        for case_id, held in self._rows.items():
            loaded = fresh.get(case_id)
            if loaded is not None and held.version > loaded.version:
                fresh[case_id] = held
            elif loaded is None and token is not None and self._touched.get(case_id, -1) >= token:
                fresh[case_id] = held  # arrived (live sync, the bus) after the load began
        if token is not None:
            for case_id, (epoch, version) in self._removed.items():
                loaded = fresh.get(case_id)
                if epoch >= token and loaded is not None and (version is None or loaded.version <= version):
                    del fresh[case_id]  # closed or gone while the load ran
            self._loaded_token = token
            self._touched = {i: e for i, e in self._touched.items() if e >= token}
        else:
            self._touched.clear()
        self._rows = fresh
        self._table = self._table_factory(
            self.calendar, [(r.id, r.timer) for r in self._rows.values() if r.timer is not None]
        )
        if self._selected not in self._rows and self._selected != self.archived_id:
            self._selected = None
        self._advance(now)
        self._rows_changed()
        self._refilter()
        self.events.rows_reset.emit()
        self.events.counters_changed.emit(self.counters)

    def upsert(self, row: CaseSummary, action: str | None = None) -> None:
        """Add or replace one row (the app learned about a change) and announce ``action``.

        A row older than the one held, or than the version it was removed at, is ignored:
        worker results may arrive out of order.
        """
        old = self._rows.get(row.id)
        if old is not None and row.version < old.version:
            return
        gone = self._removed.get(row.id)
        if old is None and gone is not None and gone[1] is not None and row.version <= gone[1]:
            return
        self._removed.pop(row.id, None)
        self._touch(row.id)
        self._rows[row.id] = row
        if row.timer is not None:
            self._table.update(row.id, row.timer)
        elif old is not None:
            self._table.remove(row.id)
        self._after_change(row.id, action, old)

    def remove(self, case_id: int, action: str | None = None, version: int | None = None) -> None:
        """Drop a row (closed, voided; ``version``: the case's version when it left) and announce ``action``."""
        old = self._rows.pop(case_id, None)
        known = [v for v in (version, old.version if old is not None else None) if v is not None]
        self._removed[case_id] = (self._epoch, max(known) if known else None)
        self._touch(case_id)
        self._removed.move_to_end(case_id)
        while len(self._removed) > MAX_REMOVED:
            self._removed.popitem(last=False)
        if old is None:
            return
        self._table.remove(case_id)
        if self._selected == case_id:
            self.select(None)
        self._after_change(case_id, action, old)

    def _touch(self, case_id: int) -> None:
        self._touched[case_id] = self._epoch
        self._epoch += 1

    def _after_change(self, case_id: int, action: str | None, old: CaseSummary | None) -> None:
        self._cache.pop(case_id, None)
        before = list(self._visible)
        new = self._rows.get(case_id)
        if self._now is not None and self._table.position is None:
            self._advance(self._now)  # rows arrived by upsert before any reset
            self._rows_changed()
            self._refilter()
        else:
            self._row_changed(old, new)
            self._place(case_id)
        if self._batch_depth:
            self._batch_ids[case_id] = None
            if action is not None:
                self._batch_events.append((case_id, action))
            return
        if before == self._visible:
            self.events.rows_changed.emit([case_id])
        else:
            self.events.rows_reset.emit()
        self.events.counters_changed.emit(self.counters)
        if action is not None:
            self.events.case_event.emit(case_id, action)

    def tick(self, now: datetime) -> None:
        """Move the readings to ``now`` (no store access); reorder only if needed."""
        old_counters = self.counters
        changes = self._advance(now)
        before = list(self._visible)
        self._reorder(changes)
        if before != self._visible:
            self.events.rows_reset.emit()
        if changes.lights:
            self.events.lights_changed.emit(list(changes.lights))
        self.events.tick.emit(now)
        if self.counters != old_counters:
            self.events.counters_changed.emit(self.counters)

    def set_filter(self, spec: QueueFilter) -> None:
        """Show only the rows matching ``spec``."""
        if spec == self._filter:
            return
        self._filter = spec
        self._refilter()
        self.events.rows_reset.emit()

    def update_filter(self, **changes: Unpack[FilterChanges]) -> None:
        """Change some fields of the filter (``update_filter(lights=frozenset({Light.RED}))``)."""
        self.set_filter(replace(self._filter, **changes))

    def set_sort(self, key: SortKey, descending: bool = False) -> None:
        """Order the shown rows by ``key``; ties keep case-number order."""
        self._sort_key = SortKey(key)
        self._descending = descending
        self._refilter()
        self.events.rows_reset.emit()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make several :meth:`upsert`/:meth:`remove` calls one change for the views: when the
        outermost batch ends they hear one ``rows_reset`` (the shown rows or their order changed)
        or one ``rows_changed`` with every changed id, one ``counters_changed``, then each
        ``case_event`` in order. A burst of live changes or a bulk action's results then repaints
        the table, the map's case layer and the lists once instead of once per case. The state
        itself (rows, order, counters) is current after each call, as without a batch; a
        ``selection_changed`` (the current case removed) is still announced at once."""
        if self._batch_depth == 0:
            self._batch_before = list(self._visible)
            self._batch_ids = {}
            self._batch_events = []
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self._end_batch()

    def _end_batch(self) -> None:
        before, ids, case_events = self._batch_before, list(self._batch_ids), self._batch_events
        self._batch_before, self._batch_ids, self._batch_events = None, {}, []
        if not ids:
            return
        if before == self._visible:
            self.events.rows_changed.emit(ids)
        else:
            self.events.rows_reset.emit()
        self.events.counters_changed.emit(self.counters)
        for case_id, action in case_events:
            self.events.case_event.emit(case_id, action)

    def select(self, case_id: int | None) -> None:
        """Make ``case_id`` the current case (None clears); announces the change once."""
        if case_id is not None and case_id not in self._rows and case_id != self.archived_id:
            raise KeyError(f"case {case_id} is not in the queue")
        if self._archived is not None and case_id != self._archived.id:
            self._archived = None
        if case_id == self._selected:
            return
        self._selected = case_id
        self.events.selection_changed.emit(case_id)

    def on_case_selected(self, callback: Callable[[int, float, float], None]) -> Callable[[], None]:
        """Call ``callback(case_id, x, y)`` whenever a case becomes current; returns the disconnector."""

        def forward(case_id: int | None) -> None:
            row = self.summary(case_id) if case_id is not None else None
            if row is not None:
                callback(row.id, row.x, row.y)

        return self.events.selection_changed.connect(forward)

    # ---- internals: clock and counters -----------------------------------------------
    def _advance(self, now: datetime) -> TickChanges[int]:
        self._now = now
        self._cache.clear()
        changes = self._table.advance(now)
        if changes.lights or self.counters.open != self._totals.open:
            self._count()
        return changes

    def _rows_changed(self) -> None:
        """Recount the row-dependent totals and case-number ranks from scratch (a new load)."""
        self._totals.recount(self._rows)
        self._rerank()
        self._count()

    def _rerank(self) -> None:
        # in place: a RemainingOrder holds this dict (shifted ranks keep the relative order)
        by_number = sorted(self._rows, key=lambda i: self._rows[i].number)
        self._rank.clear()
        self._rank.update((case_id, k) for k, case_id in enumerate(by_number))

    def _row_changed(self, old: CaseSummary | None, new: CaseSummary | None) -> None:
        """Update the row-dependent totals and ranks for one row replaced, added or removed."""
        self._totals.replace(old, new, len(self._rows))
        if old is None or new is None or old.number != new.number:
            self._rerank()
        self._count()

    def _count(self) -> None:
        self.counters = self._totals.counters(self._table)

    # ---- internals: filter and sort --------------------------------------------------
    def _matches(self, row: CaseSummary) -> bool:
        return row_matches(self._filter, row, self._table.light(row.id))

    def _tier(self, case_id: int) -> int:
        """The leading sort term of a row in the time orders (0 for all unless urged cases go first)."""
        return urge_tier(self._rows[case_id].urge_level) if self.urged_first else 0

    def _sort_by_light(self, ids: list[int]) -> None:
        """Sort ``ids`` in place: running timers before paused ones (缓办/挂账), then by light, then
        ratio (descending folded in, ties by case number)."""
        table, rank = self._table, self._rank
        sign = -1 if self._descending else 1
        keys = {
            case_id: (self._tier(case_id), sign * table.is_paused(case_id), sign * _LIGHT_RANK[table.light(case_id)],
                      -sign * ratio,
                      rank[case_id])
            for case_id, ratio in zip(ids, table.ratios(ids) if table.position else [0.0] * len(ids), strict=True)
        }
        ids.sort(key=keys.__getitem__)

    def _follow_lights(self, changed: list[int], entering: list[int], leaving: list[int]) -> None:
        """Keep the light sort: rows whose light changed move to their new light group at once;
        the ratio order inside a group (which drifts continuously) is re-sorted every
        ``LIGHT_RESORT_SECONDS`` only, as re-sorting every row each second costs O(rows)."""
        now = self._now
        assert now is not None
        last = self._light_sorted_at
        if last is None or now < last or (now - last).total_seconds() >= LIGHT_RESORT_SECONDS:
            gone = set(leaving)
            self._visible = self._sort([i for i in self._visible if i not in gone] + entering)
            return
        if not (changed or entering):
            return
        shown = set(self._visible)
        drop = set(leaving) | {i for i in changed if i in shown}
        if drop:
            self._visible = [i for i in self._visible if i not in drop]
        table, rank = self._table, self._rank
        sign = -1 if self._descending else 1

        def key(case_id: int) -> tuple:
            ratio = table.ratio(case_id) if case_id in table else 0.0
            return (self._tier(case_id), sign * table.is_paused(case_id), sign * _LIGHT_RANK[table.light(case_id)],
                    -sign * ratio,
                    rank[case_id])

        for case_id in [i for i in changed if i in shown and i not in leaving] + entering:
            insort(self._visible, case_id, key=key)

    def _insert_sorted(self, case_id: int) -> None:
        """Insert ``case_id`` into the shown rows (sorted by a static key) where the sort puts it:
        a binary search, O(log rows) comparisons, instead of sorting every row again."""
        value, rows, rank, visible = _STATIC_VALUES[self._sort_key], self._rows, self._rank, self._visible
        v, r = value(rows[case_id]), rank[case_id]
        lo, hi = 0, len(visible)
        if self._descending:  # value descending, ties in case-number order (as _sort)
            while lo < hi:
                mid = (lo + hi) // 2
                other = visible[mid]
                mv = value(rows[other])
                if mv > v or (mv == v and rank[other] < r):
                    lo = mid + 1
                else:
                    hi = mid
        else:
            while lo < hi:
                mid = (lo + hi) // 2
                other = visible[mid]
                if (value(rows[other]), rank[other]) < (v, r):
                    lo = mid + 1
                else:
                    hi = mid
        visible.insert(lo, case_id)

    def _sort(self, ids: list[int]) -> list[int]:
        if self._sort_key is SortKey.REMAINING:
            self._order = RemainingOrder(self._table, self._rank, ids, self._descending,
                                         self._tier if self.urged_first else None)
            return self._order.ids
        self._order = None
        if self._sort_key is SortKey.LIGHT:
            self._sort_by_light(ids)
            self._light_sorted_at = self._now
            return ids
        rows, value = self._rows, _STATIC_VALUES[self._sort_key]
        ids.sort(key=self._rank.__getitem__)
        ids.sort(key=lambda i: value(rows[i]), reverse=self._descending)
        return ids

    def _refilter(self) -> None:
        self._visible = self._sort([r.id for r in self._rows.values() if self._matches(r)])

    def _place(self, case_id: int) -> None:
        """One row was added, replaced or removed: move just that row where the sort allows."""
        row = self._rows.get(case_id)
        wanted = row is not None and self._matches(row)
        shown = self._order is not None and case_id in self._order
        if self._order is not None:
            self._order.update([case_id] if shown else [], [case_id] if wanted else [])
            self._visible = self._order.ids
        elif self._sort_key in _STATIC_VALUES:
            # the other rows keep their order: take this one out and put it back where it belongs
            if case_id in self._visible:
                self._visible.remove(case_id)
            if wanted:
                self._insert_sorted(case_id)
        else:
            self._refilter()  # the light sort: O(rows log rows), only on a change of a row

    def _reorder(self, changes: TickChanges[int]) -> None:
        """Follow the clock: light-filter membership, then the order of a time-dependent sort."""
        entering, leaving = [], []
        if self._filter.lights and changes.lights:
            shown = set(self._visible)
            for case_id in changes.lights:
                row = self._rows.get(case_id)
                wanted = row is not None and self._matches(row)
                if wanted and case_id not in shown:
                    entering.append(case_id)
                elif not wanted and case_id in shown:
                    leaving.append(case_id)
        if changes.reordered:
            self._refilter()  # order terms changed (a start was reached, or the clock went back)
        elif self._order is not None:
            self._order.advance()
            if entering or leaving:
                self._order.update(leaving, entering)
            self._visible = self._order.ids
        elif self._sort_key is SortKey.LIGHT:
            self._follow_lights(changes.lights, entering, leaving)
        elif entering or leaving:
            gone = set(leaving)
            self._visible = self._sort([i for i in self._visible if i not in gone] + entering)
