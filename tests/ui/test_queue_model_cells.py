"""CaseQueueModel: a cell's text follows every new version of its row (the texts are kept per
version of the row), and a plain text cell answers only its text, tooltip and case id."""

from __future__ import annotations

from dataclasses import replace

import pytest
from qtpy.QtCore import Qt
from samples import case_row

from app.ui.queue_model import CASE_ID_ROLE, COLUMNS, CaseQueueModel
from app.views.queue_state import QueueState, SortKey

from .conftest import NOW

pytestmark = pytest.mark.neutral

CATEGORY = next(i for i, c in enumerate(COLUMNS) if c.key is SortKey.CATEGORY)
GRID = next(i for i, c in enumerate(COLUMNS) if c.key is SortKey.GRID)


def test_a_changed_row_shows_its_new_text(calendar):
    state = QueueState(calendar)
    state.reset([case_row(1, NOW), case_row(2, NOW)], NOW)
    model = CaseQueueModel(state)
    index = model.index(model.row_of(1), GRID)
    assert model.data(index) == "320582001001001"
    assert model.data(index) == "320582001001001"  # asked again (a repaint): the same text
    state.upsert(replace(state.summary(1), version=2, grid_code="320582009009009"))
    assert model.data(model.index(model.row_of(1), GRID)) == "320582009009009"
    state.reset([replace(state.summary(1), version=3, grid_code="320582007007007")], NOW)
    assert model.rowCount() == 1 and model.data(model.index(0, GRID)) == "320582007007007"


def test_a_plain_text_cell_answers_its_text_tooltip_and_case_id_only(calendar):
    state = QueueState(calendar)
    state.reset([replace(case_row(1, NOW), description="井盖<b>缺失</b>")], NOW)
    model = CaseQueueModel(state)
    index = model.index(0, CATEGORY)
    assert model.data(index) == "06010 暴露垃圾"
    assert model.data(index, CASE_ID_ROLE) == 1
    assert "缺失" in model.data(index, Qt.ItemDataRole.ToolTipRole)
    for role in (Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
                 Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.CheckStateRole,
                 Qt.ItemDataRole.EditRole):
        assert model.data(index, role) is None


def test_the_delegate_paints_what_data_answers(qtbot, calendar):
    """QueueDelegate paints each cell from cell_style in one call; every painting role of every
    cell (timers on time, overdue and paused, an urged case, a plain row) equals data's answer."""
    from qtpy.QtGui import QBrush, QFont, QIcon
    from qtpy.QtWidgets import QStyleOptionViewItem, QTableView

    from app.ui.queue_model import QueueDelegate

    state = QueueState(calendar)
    rows = [case_row(1, NOW), case_row(2, NOW, started_minutes_ago=500), case_row(3, NOW, paused=True),
            replace(case_row(4, NOW), urge_level=2, urge_count=3), case_row(5, NOW, limit_minutes=None)]
    state.reset(rows, NOW)
    model = CaseQueueModel(state)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    delegate = QueueDelegate(model, view)
    view.setItemDelegate(delegate)
    roles = {"text": Qt.ItemDataRole.DisplayRole, "foreground": Qt.ItemDataRole.ForegroundRole,
             "background": Qt.ItemDataRole.BackgroundRole, "font": Qt.ItemDataRole.FontRole,
             "icon": Qt.ItemDataRole.DecorationRole, "alignment": Qt.ItemDataRole.TextAlignmentRole}
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            style = model.cell_style(r, c)
            index = model.index(r, c)
            for name, role in roles.items():
                mine, theirs = getattr(style, name), model.data(index, role)
                if isinstance(theirs, QBrush):
                    assert mine is not None and mine.color() == theirs.color(), (r, c, name)
                elif isinstance(theirs, QFont):
                    assert mine is not None and mine.bold() == theirs.bold(), (r, c, name)
                elif isinstance(theirs, QIcon):
                    assert mine is not None and not mine.isNull(), (r, c, name)
                else:
                    assert mine == (theirs if theirs is not None or name != "text" else ""), (r, c, name)
            option = QStyleOptionViewItem()
            delegate.initStyleOption(option, index)
            assert option.text == style.text
    assert model.cell_style(model.rowCount(), 0) is None
