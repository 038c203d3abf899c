"""CaseQueueModel: ticking countdown without store queries, light colours, sorting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qtpy.QtCore import Qt
from samples import MemoryCaseSource, case_row

from app.domain.definitions import Light
from app.ui.controller import QueueController
from app.ui.queue_model import LIGHT_COLUMN, REMAINING_COLUMN, CaseQueueModel
from app.ui.style import LIGHT_COLOURS, LIGHT_TINTS, OVERDUE_TEXT
from app.views.queue_state import QueueState

from .conftest import NOW

pytestmark = pytest.mark.neutral

DISPLAY = Qt.ItemDataRole.DisplayRole


def loaded(qtbot, calendar, source, runner, clock):
    state = QueueState(calendar)
    controller = QueueController(state, source, runner, clock)
    model = CaseQueueModel(state)
    controller.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == len(source.cases))
    return state, controller, model


def cell(model, case_id, column, role=DISPLAY):
    return model.data(model.index(model.row_of(case_id), column), role)


def test_countdown_ticks_from_the_clock_without_querying_the_store(qtbot, calendar, source, runner, clock):
    state, controller, model = loaded(qtbot, calendar, source, runner, clock)
    assert cell(model, 1, REMAINING_COLUMN) == "00:50:00"
    clock.advance(timedelta(seconds=30))
    controller.tick_now()
    assert cell(model, 1, REMAINING_COLUMN) == "00:49:30"
    clock.advance(timedelta(minutes=61, seconds=33))
    controller.tick_now()
    assert cell(model, 1, REMAINING_COLUMN) == "-00:12:03"
    assert source.open_cases_calls == 1


def test_tick_repaints_only_the_timer_columns(qtbot, calendar, source, runner, clock):
    state, controller, model = loaded(qtbot, calendar, source, runner, clock)
    with qtbot.waitSignal(model.dataChanged, timeout=1000) as blocker:
        clock.advance(timedelta(seconds=1))
        controller.tick_now()
    top_left, bottom_right = blocker.args[:2]
    assert (top_left.column(), bottom_right.column()) == (LIGHT_COLUMN, REMAINING_COLUMN)
    assert (top_left.row(), bottom_right.row()) == (0, model.rowCount() - 1)


def test_light_colour_changes_at_80_and_100_percent(qtbot, calendar, runner, clock):
    source = MemoryCaseSource([case_row(7, NOW, limit_minutes=100, started_minutes_ago=79)])
    state, controller, model = loaded(qtbot, calendar, source, runner, clock)

    def tint():
        return cell(model, 7, LIGHT_COLUMN, Qt.ItemDataRole.BackgroundRole).color().name()

    assert tint() == LIGHT_TINTS[Light.GREEN]
    clock.advance(timedelta(minutes=1))  # exactly 80 % is still green
    controller.tick_now()
    assert tint() == LIGHT_TINTS[Light.GREEN]
    clock.advance(timedelta(seconds=1))
    controller.tick_now()
    assert tint() == LIGHT_TINTS[Light.YELLOW]
    assert cell(model, 7, REMAINING_COLUMN, Qt.ItemDataRole.ForegroundRole) is None
    clock.advance(timedelta(minutes=20))  # past 100 %
    controller.tick_now()
    assert tint() == LIGHT_TINTS[Light.RED]
    assert cell(model, 7, LIGHT_COLUMN, Qt.ItemDataRole.ForegroundRole).color().name() == LIGHT_COLOURS[Light.RED]
    assert cell(model, 7, REMAINING_COLUMN, Qt.ItemDataRole.ForegroundRole).color().name() == OVERDUE_TEXT
    assert cell(model, 7, REMAINING_COLUMN, Qt.ItemDataRole.FontRole).bold()


def test_header_sort_by_remaining_puts_overdue_first(qtbot, calendar, source, runner, clock):
    state, controller, model = loaded(qtbot, calendar, source, runner, clock)
    model.sort(REMAINING_COLUMN, Qt.SortOrder.AscendingOrder)
    assert [model.case_id_at(r) for r in range(model.rowCount())] == [3, 2, 1, 5, 4]
    assert model.data(model.index(0, REMAINING_COLUMN), DISPLAY).startswith("-")
    model.sort(2, Qt.SortOrder.DescendingOrder)  # case number
    numbers = [model.data(model.index(r, 2), DISPLAY) for r in range(model.rowCount())]
    assert numbers == sorted(numbers, reverse=True)


def test_countdown_tooltip_explains_the_timer_and_paused_rows_say_so(qtbot, calendar, source, runner, clock):
    state, controller, model = loaded(qtbot, calendar, source, runner, clock)
    assert "截止" in cell(model, 1, REMAINING_COLUMN, Qt.ItemDataRole.ToolTipRole)
    assert cell(model, 5, REMAINING_COLUMN).endswith("暂停")
    assert cell(model, 4, REMAINING_COLUMN) == "—"


def test_load_failure_is_announced(qtbot, calendar, runner, clock):
    class BrokenSource(MemoryCaseSource):
        def open_cases(self):
            raise ConnectionError("database at db.example is unreachable")

    state = QueueState(calendar)
    controller = QueueController(state, BrokenSource([]), runner, clock)
    messages = []
    state.events.load_failed.connect(messages.append)
    controller.refresh()
    qtbot.waitUntil(lambda: bool(messages))
    assert "unreachable" in messages[0]


def test_a_tracked_view_gets_only_its_visible_countdown_cells_and_changed_lights(qtbot, calendar, runner, clock):
    from qtpy.QtWidgets import QTableView

    # case 100 turns yellow one minute from now; the others stay green
    cases = [case_row(i, NOW, limit_minutes=1000, started_minutes_ago=i) for i in range(1, 200) if i != 100]
    cases.append(case_row(100, NOW, limit_minutes=100, started_minutes_ago=79.5))
    source = MemoryCaseSource(cases)
    state, controller, model = loaded(qtbot, calendar, source, runner, clock)
    model.sort(2, Qt.SortOrder.AscendingOrder)  # case number: the order does not move with the clock
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    model.track_view(view)
    view.scrollTo(model.index(model.row_of(100), 0), QTableView.ScrollHint.PositionAtCenter)
    top, bottom = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
    assert 0 < top <= model.row_of(100) <= bottom < model.rowCount() - 1
    changes = []
    model.dataChanged.connect(lambda tl, br, *_: changes.append((tl.row(), tl.column(), br.row(), br.column())))
    clock.advance(timedelta(seconds=1))
    controller.tick_now()
    assert sorted(changes) == [(r, REMAINING_COLUMN, r, REMAINING_COLUMN) for r in range(top, bottom + 1)]
    changes.clear()
    clock.advance(timedelta(minutes=1))
    controller.tick_now()
    light_cells = [c for c in changes if c[1] == LIGHT_COLUMN]
    assert light_cells == [(model.row_of(100), LIGHT_COLUMN, model.row_of(100), LIGHT_COLUMN)]
    assert len(changes) == bottom - top + 2
    view.hide()
    changes.clear()
    controller.tick_now()
    assert changes == []  # nothing shown, nothing to repaint
