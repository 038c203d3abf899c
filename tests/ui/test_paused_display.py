"""A paused timer (缓办/挂账) reads 暂停, not a frozen (often negative) countdown, and its row sorts after
every running timer (issue 10, item 1)."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt
from samples import case_row

from app.domain.definitions import CaseState
from app.i18n import Catalogue
from app.ui.queue_model import REMAINING_COLUMN, CaseQueueModel
from app.views.queue_state import QueueState, SortKey

from .conftest import NOW

pytestmark = pytest.mark.neutral


def _rows():
    return [
        case_row(1, NOW, limit_minutes=100, started_minutes_ago=10),  # 90 min left
        case_row(2, NOW, limit_minutes=60, started_minutes_ago=200, paused=True, state=CaseState.SHELVED),  # frozen -140
        case_row(3, NOW, limit_minutes=100, started_minutes_ago=150),  # overdue 50 min
        case_row(4, NOW, limit_minutes=None, state=CaseState.VERIFYING),
        case_row(5, NOW, limit_minutes=60, started_minutes_ago=30, paused=True, state=CaseState.DEFERRED),
    ]


@pytest.mark.parametrize("language, word", [("zh_CN", "暂停"), ("en", "paused")])
def test_paused_rows_read_paused_and_come_after_the_running_ones(qtbot, calendar, language, word):
    state = QueueState(calendar)
    state.reset(_rows(), NOW)
    model = CaseQueueModel(state, Catalogue(language))
    cells = {model.case_id_at(r): model.data(model.index(r, REMAINING_COLUMN), Qt.ItemDataRole.DisplayRole)
             for r in range(model.rowCount())}
    assert cells[2] == word and cells[5] == word  # not "-02:20:00"
    assert cells[3].startswith("-") and cells[1] == "01:30:00"
    assert model.data(model.index(model.row_of(2), REMAINING_COLUMN), Qt.ItemDataRole.FontRole) is None  # not bold red
    # remaining time: overdue first, then time left, then the paused ones, then untimed
    assert state.visible_ids == (3, 1, 2, 5, 4)
    state.set_sort(SortKey.LIGHT)
    assert state.visible_ids.index(2) > state.visible_ids.index(1)  # a paused red light is not "most urgent"
    state.set_sort(SortKey.REMAINING, descending=True)
    assert state.visible_ids == (4, 5, 2, 1, 3)
    model.teardown()
