"""RemainingOrder: the kinetic remaining-time order, driven directly by a TickTable."""

from __future__ import annotations

from datetime import timedelta

from ui.conftest import NOW

from app.domain.cases import TimerSpec
from app.domain.definitions import Basis, Stage
from app.domain.ticktable import CONSTANT_TERM, NATURAL_TERM, WORKING_TERM, TickTable
from app.views.queue_order import RemainingOrder

# A Friday afternoon, inside working hours: the working and natural clocks both run.
START = NOW.replace(hour=16, minute=50)


def timer(basis, paused_minutes=0, limit_minutes=1):
    return TimerSpec(Stage.HANDLE, basis, limit_minutes, START, paused_minutes=paused_minutes)


def test_a_row_reinserted_with_another_term_next_to_the_same_neighbour_drops_its_old_swap(calendar):
    # Both rows start with one minute left on the working clock; rank decides: 1 before 2.
    table = TickTable(calendar, [(1, timer(Basis.WORKING)), (2, timer(Basis.WORKING))])
    table.advance(START)
    order = RemainingOrder(table, {1: 0, 2: 1}, [1, 2])
    # Row 1's start moves 5 minutes ahead (a finished pause): constant one minute left, so
    # row 2 (working clock) is due to overtake it after the next working microsecond.
    table.update(1, timer(Basis.WORKING, paused_minutes=5))
    assert table.order_term(1)[0] == CONSTANT_TERM
    order.update([1], [1])
    assert order.ids == [1, 2]
    # Row 1 changes again, to a natural timer: it now runs at least as fast as row 2 and
    # stays ahead for good. It lands next to row 2 again, in the same place.
    table.update(1, timer(Basis.NATURAL))
    assert table.order_term(1)[0] == NATURAL_TERM and table.order_term(2)[0] == WORKING_TERM
    order.update([1], [1])
    assert order.ids == [1, 2]
    changes = table.advance(START + timedelta(seconds=1))
    assert not changes.reordered
    order.advance()
    assert order.ids == [1, 2]
    assert table.remaining_us(1) == table.remaining_us(2) == 59_000_000  # a tie: case number keeps 1 first


def test_a_removed_row_coming_back_does_not_revive_its_old_swaps(calendar):
    table = TickTable(calendar, [(1, timer(Basis.WORKING)), (2, timer(Basis.WORKING))])
    table.advance(START)
    order = RemainingOrder(table, {1: 0, 2: 1}, [1, 2])
    table.update(1, timer(Basis.WORKING, paused_minutes=5))
    order.update([1], [1])  # constant: row 2 is due to overtake it
    order.update([1], [])
    table.update(1, timer(Basis.NATURAL))
    order.update([], [1])
    table.advance(START + timedelta(seconds=1))
    order.advance()
    assert order.ids == [1, 2]
