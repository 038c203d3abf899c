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
