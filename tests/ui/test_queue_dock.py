"""CaseQueueDock: row selection → callback with coordinates, filter bar, stats header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qtpy.QtCore import Qt

from app.domain.definitions import Light
from app.ui.controller import QueueController
from app.ui.queue_dock import CaseQueueDock
from app.views.queue_state import QueueState

pytestmark = pytest.mark.neutral


@pytest.fixture
def dock(qtbot, calendar, source, runner, clock):
    state = QueueState(calendar)
    controller = QueueController(state, source, runner, clock)
    widget = CaseQueueDock(state)
    qtbot.addWidget(widget)
    widget.resize(1400, 400)
    widget.show()
    controller.refresh()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 5)
    widget.controller = controller
    yield widget
    widget.teardown()


def visible(dock):
    return [dock.model.case_id_at(r) for r in range(dock.model.rowCount())]


def test_clicking_a_row_fires_the_selection_callback_with_coordinates(qtbot, dock):
    seen = []
    dock.state.on_case_selected(lambda *args: seen.append(args))
    row = dock.model.row_of(2)
    rect = dock.table.visualRect(dock.model.index(row, 2))
    qtbot.mouseClick(dock.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert seen == [(2, 1002.0, 2002.0)]
    assert dock.state.selected_id == 2


def test_selection_survives_a_reorder_on_tick(qtbot, dock, clock):
    dock.state.select(1)
    clock.advance(timedelta(minutes=15))  # case 2 turns red and the order may change
    dock.controller.tick_now()
    assert dock.model.case_id_at(dock.table.currentIndex().row()) == 1


def test_light_buttons_show_counts_and_filter(qtbot, dock):
    red = dock.light_buttons[Light.RED]
    assert red.text() == "红 1"
    red.click()
    assert visible(dock) == [3]
    dock.light_buttons[Light.YELLOW].click()
    assert set(visible(dock)) == {2, 3}


def test_search_box_takes_category_codes_and_text(qtbot, dock):
    qtbot.keyClicks(dock.search, "01")
    assert visible(dock) == [2]
    dock.search.clear()
    dock.search.setText("小广告")  # QTest.keyClicks handles ASCII only
    assert visible(dock) == [3]


def test_department_state_grid_filters_and_clear(qtbot, dock):
    dock.department_combo.setCurrentIndex(dock.department_combo.findData("D01"))
    assert set(visible(dock)) == {1, 5}
    qtbot.keyClicks(dock.grid_edit, "320582002")
    assert visible(dock) == [5]
    dock.clear_button.click()
    assert len(visible(dock)) == 5
    dock.state_combo.setCurrentIndex(dock.state_combo.findData("filed"))
    assert visible(dock) == [3]


def test_stats_header_and_clock(qtbot, dock, clock):
    assert dock.stats.text().startswith("在办 5 · 超时 1 · 预警 1 · 正常 2 · 暂停 1")
    dock.controller.tick_now()
    assert dock.clock_label.text() == clock.now().strftime("%Y-%m-%d %H:%M:%S")


def test_focus_filter_puts_the_cursor_in_the_search_box(qtbot, dock):
    dock.activateWindow()
    dock.focus_filter()
    qtbot.waitUntil(dock.search.hasFocus)
