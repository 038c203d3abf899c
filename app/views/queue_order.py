"""Keeping the shown queue rows sorted by remaining time while the clock runs, cheaply.

A row's remaining time is ``base − coordinate`` where the coordinate is the working position
(working-time ordinal), the natural position, or 0 (paused, or its start is still ahead); see
:meth:`TickTable.order_term`. Rows sharing a coordinate never change their relative order. For
two neighbours on different coordinates the gap between them is ``sign·(base_b − base_a) − X``
where X is the working position, the natural position or natural − working, which never
decrease while time runs forward (or X only decreases: that pair never swaps). So each
neighbour pair that can swap gets a *certificate*: the value of X at which it swaps, kept in a
heap per X. A tick pops only the certificates that failed and swaps those neighbours (a
kinetic sorted list), so a tick costs O(swaps · log n) instead of a sort of every row.

督办 raises a case's priority: for the roles in ``URGED_FIRST_ROLES`` (the dispatcher and the
department operator) the time orders put urged cases first, the highest 督办 level first
(:func:`urge_tier`), each tier in its own remaining-time order. Rows of different tiers never
swap as time runs, so they get no certificate.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Iterable

from app.domain.definitions import Role
from app.domain.ticktable import CONSTANT_TERM, NATURAL_TERM, WORKING_TERM, TickTable

#: The roles whose queue puts urged cases first (issue 11: 督办 raises the priority for the
#: department that handles the case and the dispatcher who watches it); others keep the time order.
URGED_FIRST_ROLES = frozenset({Role.DISPATCHER, Role.DEPARTMENT})


def urged_first(role: Role | str | None) -> bool:
    """Whether the queue of ``role`` (None: nobody signed in) sorts urged cases first."""
    if role is None:
        return False
    try:
        return Role(role) in URGED_FIRST_ROLES
    except ValueError:
        return False


def urge_tier(urge_level: int | None) -> int:
    """The leading sort term of a row when urged cases go first: 3 级 before 2 级 before 1 级 before
    cases not urged (0)."""
    return -int(urge_level or 0)

DIFFERENCE = "d"  # natural − working position
PAUSED = "p"  # a paused timer (缓办/挂账): constant, and sorted after every running timer

# (coordinate of the row whose remaining counts "up" in X, of the other) -> X
_MONOTONE = {
    (WORKING_TERM, CONSTANT_TERM): WORKING_TERM,
    (NATURAL_TERM, CONSTANT_TERM): NATURAL_TERM,
    (NATURAL_TERM, WORKING_TERM): DIFFERENCE,
}


class RemainingOrder:
    """Ids sorted by (remaining time, case-number rank), ascending or descending, kept sorted by
    :meth:`advance`; rows with a paused timer (缓办/挂账: nothing to do until restored) come after
    the running ones, and rows without a timer after those (the reverse, descending).

    The table's order terms are read once: pass a row whose timer changed through
    :meth:`update` (out and back in), and rebuild the order when :meth:`TickTable.advance`
    reports ``reordered`` or when the set of ids changes other than through :meth:`update`.
    """

    def __init__(self, table: TickTable[int], rank: dict[int, int], ids: Iterable[int], descending: bool = False,
                 tier: Callable[[int], int] | None = None):
        self._table = table
        self._rank = rank
        self._sign = -1 if descending else 1
        # ``tier(case_id)``: a leading term (urged cases first), read when a row is admitted;
        # rows of different tiers are never neighbours that swap
        self._tier_of = tier
        self._tiers: dict[int, int] = {}
        # (coordinate, base, generation) of each row, None without a timer. Each admitted timed
        # row gets a fresh generation; a certificate names the generations of its pair, so one
        # made for a row's old term dies when the row is updated, even if the row lands next to
        # the same neighbour again (being neighbours alone does not make it live).
        self._terms: dict[int, tuple[str, int, int] | None] = {}
        self._next_gen = 0
        self.ids: list[int] = []
        self._pos: dict[int, int] = {}
        # certificates: (X at which the pair swaps, a, b, generation of a, generation of b)
        self._heaps: dict[str, list[tuple[int, int, int, int, int]]] = {
            WORKING_TERM: [], NATURAL_TERM: [], DIFFERENCE: []}
        for case_id in ids:
            self._admit(case_id)
            self.ids.append(case_id)
        self.ids.sort(key=self.key)
        self._index()
        for k in range(len(self.ids) - 1):
            self._certify(k)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._pos

    def _admit(self, case_id: int) -> None:
        """Read the row's order term now, under a new generation."""
        term = self._term(case_id)
        self._terms[case_id] = None if term is None else (*term, self._next_gen)
        self._next_gen += 1
        if self._tier_of is not None:
            self._tiers[case_id] = self._tier_of(case_id)

    def _live(self, a: int, b: int, gen_a: int, gen_b: int) -> bool:
        """Whether a certificate for (a, b) still holds: neighbours, and neither row changed since."""
        k = self._pos.get(a)
        if k is None or k + 1 >= len(self.ids) or self.ids[k + 1] != b:
            return False
        ta, tb = self._terms[a], self._terms[b]
        return ta is not None and tb is not None and ta[2] == gen_a and tb[2] == gen_b

    def _term(self, case_id: int) -> tuple[str, int] | None:
        # before the table's first advance nothing is known about time: sort as untimed
        if case_id not in self._table or self._table.position is None:
            return None
        term = self._table.order_term(case_id)
        if term is not None and self._table.is_paused(case_id):
            return PAUSED, term[1]
        return term

    def key(self, case_id: int) -> tuple[int, int, int, int]:
        """The ascending sort key of ``case_id`` at the table's current position."""
        tier = self._tiers.get(case_id, 0)
        term = self._terms[case_id]
        if term is None:
            return (tier, 2 * self._sign, 0, self._rank[case_id])
        kind, base, _ = term
        if kind == PAUSED:
            return (tier, self._sign, self._sign * base, self._rank[case_id])
        w, n = self._table.position or (0, 0)
        left = base - (w if kind == WORKING_TERM else n if kind == NATURAL_TERM else 0)
        return (tier, 0, self._sign * left, self._rank[case_id])

    def _index(self) -> None:
        self._pos = {case_id: k for k, case_id in enumerate(self.ids)}

    def _certify(self, k: int) -> None:
        """Schedule the swap of the neighbours at k and k + 1, if they can ever swap."""
        if k < 0 or k + 1 >= len(self.ids):
            return
        a, b = self.ids[k], self.ids[k + 1]
        ta, tb = self._terms[a], self._terms[b]
        if ta is None or tb is None or ta[0] == tb[0]:
            return
        if self._tiers and self._tiers.get(a, 0) != self._tiers.get(b, 0):
            return  # an urged row and one of a lower tier: never swapped by time
        (ka, base_a, gen_a), (kb, base_b, gen_b) = ta, tb
        up = (kb, ka) if self._sign > 0 else (ka, kb)
        coordinate = _MONOTONE.get(up)
        if coordinate is None:
            return  # their gap only grows
        at = self._sign * (base_b - base_a) + (0 if self._rank[b] < self._rank[a] else 1)
        heapq.heappush(self._heaps[coordinate], (at, a, b, gen_a, gen_b))

    def advance(self) -> bool:
        """Restore the order at the table's current position; True when any row moved."""
        if self._table.position is None:
            return False
        w, n = self._table.position
        values = {WORKING_TERM: w, NATURAL_TERM: n, DIFFERENCE: n - w}
        ids, pos, terms = self.ids, self._pos, self._terms
        moved = False
        busy = True
        while busy:  # a swap can make a new pair due on another coordinate
            busy = False
            for coordinate, heap in self._heaps.items():
                value = values[coordinate]
                while heap and heap[0][0] <= value:
                    _, a, b, gen_a, gen_b = heapq.heappop(heap)
                    k = pos.get(a)  # _live, inlined: this loop is the hot path of a long tick
                    if k is None or k + 1 >= len(ids) or ids[k + 1] != b:
                        continue  # stale: no longer neighbours in this order
                    ta, tb = terms[a], terms[b]
                    if ta is None or tb is None or ta[2] != gen_a or tb[2] != gen_b:
                        continue  # stale: made for a term the row no longer has (it was updated)
                    ids[k], ids[k + 1] = b, a
                    pos[a], pos[b] = k + 1, k
                    moved = busy = True
                    self._certify(k - 1)
                    self._certify(k + 1)
        self._compact()
        return moved

    def _compact(self) -> None:
        for coordinate, heap in self._heaps.items():
            if len(heap) > 3 * len(self.ids) + 64:
                self._heaps[coordinate] = [c for c in heap if self._live(*c[1:])]
                heapq.heapify(self._heaps[coordinate])

    def update(self, leaving: Iterable[int], entering: Iterable[int]) -> None:
        """Remove ``leaving`` and insert ``entering`` (a light filter followed the clock)."""
        gone = set(leaving)
        touched = [self.ids[self._pos[i] - 1] for i in gone if self._pos[i] > 0]
        if gone:
            self.ids = [i for i in self.ids if i not in gone]
        for case_id in gone:
            self._terms.pop(case_id, None)
            self._tiers.pop(case_id, None)
        for case_id in entering:
            self._admit(case_id)
            k = bisect_left(self.ids, self.key(case_id), key=self.key)
            self.ids.insert(k, case_id)
            touched.append(case_id)
        self._index()
        for case_id in touched:
            at = self._pos.get(case_id)
            if at is not None:
                self._certify(at - 1)
                self._certify(at)
