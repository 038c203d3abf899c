"""督办 in the lists and the detail: an urged case carries a ring before its number, its level in the
督办 column, the level and urge deadline in the detail, and every fact of its events in the
timeline (shared with the CLI); in either language."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from qtpy.QtCore import Qt
from qtpy.QtGui import QIcon
from samples import MemoryCaseSource

from app.domain.cases import CaseEventRecord
from app.i18n import Catalogue
from app.ui.detail_dock import CaseDetailDock, event_text
from app.ui.queue_model import NUMBER_COLUMN, URGE_COLOUR, URGED_COLUMN, CaseQueueModel
from app.views.queue_state import QueueState

from .conftest import NOW

pytestmark = pytest.mark.neutral
DUE = datetime(2026, 11, 21, 17, 0)


def _urged(rows):
    first = replace(rows[0], urge_level=3, urge_count=2, urge_deadline_at=DUE)
    return [first, *rows[1:]]


def test_the_queue_marks_an_urged_case(qtbot, calendar, rows):
    rows = _urged(rows)
    state = QueueState(calendar)
    state.reset(rows, NOW)
    for lang, cell, tip in (("zh_CN", "3 级 · 2 次", "挂牌督办（3 级），督办时限 2026-11-21 17:00"),
                            ("en", "L3 · 2×", "(level 3), urge deadline 2026-11-21 17:00")):
        model = CaseQueueModel(state, Catalogue(lang))
        row = model.row_of(rows[0].id)
        other = model.row_of(rows[1].id)
        number = model.index(row, NUMBER_COLUMN)
        urged = model.index(row, URGED_COLUMN)
        assert isinstance(model.data(number, Qt.ItemDataRole.DecorationRole), QIcon)
        assert model.data(model.index(other, NUMBER_COLUMN), Qt.ItemDataRole.DecorationRole) is None
        assert model.data(urged) == cell
        assert tip in model.data(urged, Qt.ItemDataRole.ToolTipRole)
        assert model.data(urged, Qt.ItemDataRole.ForegroundRole).color().name() == URGE_COLOUR
        assert model.data(number) == rows[0].number  # the number itself is untouched
        model.teardown()


def test_the_detail_shows_the_urge_level_and_deadline(qtbot, calendar, rows, runner):
    rows = _urged(rows)
    state = QueueState(calendar)
    state.reset(rows, NOW)
    dock = CaseDetailDock(state, MemoryCaseSource(rows, {}), runner)
    qtbot.addWidget(dock)
    state.select(rows[0].id)
    assert dock.fields["督办"].text() == "挂牌督办（3 级），督办时限 2026-11-21 17:00 · 督办 2 次 · 返工 0 次"
    assert URGE_COLOUR in dock.fields["督办"].styleSheet()
    state.select(rows[1].id)
    assert dock.fields["督办"].text().startswith("督办 ") and dock.fields["督办"].styleSheet() == ""
    dock.teardown()


def test_a_timeline_entry_tells_every_fact_of_its_event():
    urge = CaseEventRecord(7, NOW, "urge", "handling", "handling", "刘局", "leader", reason="尽快",
                           payload={"urge_level": 2, "urge_deadline": "2026-11-21 17:00:00", "urge_count": 1,
                                    "deadline": "2026-11-21 17:00:00", "mood": "急"})
    lines = event_text(urge, Catalogue("zh_CN")).split("\n")
    assert lines[2:] == ["时限截止：2026-11-21 17:00", "督办级别：2 级（重点督办）", "督办时限：2026-11-21 17:00",
                         "第 1 次督办", "mood：急"]
    feedback = CaseEventRecord(8, NOW + timedelta(hours=1), "feedback", "handling", "to_check", "周敏", "department",
                               payload={"text": "已清运" * 200}, photos=2)
    lines = event_text(feedback, Catalogue("en")).split("\n")
    assert lines[2].startswith("Handling: 已清运") and lines[2].endswith("…") and len(lines[2]) < 450  # clamped
    assert lines[3] == "2 photo(s) attached"
