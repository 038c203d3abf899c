"""The real 今日督办 plugin: lists urged cases, follows urge events, selects on click."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from pytestqt.qt_compat import qt_api

os.environ.setdefault("QT_API", getattr(qt_api, "pytest_qt_api", None) or "pyqt5")

from qtpy.QtCore import QSettings, Qt  # noqa: E402
from samples import case_row  # noqa: E402

import plugins  # noqa: E402
from app.domain.calendar import WorkCalendar  # noqa: E402
from app.domain.clock import FixedClock  # noqa: E402
from app.i18n import Catalogue  # noqa: E402
from app.plugin.api import AppServices  # noqa: E402
from app.plugin.loader import PluginManager  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.views.queue_state import QueueState  # noqa: E402

pytestmark = pytest.mark.neutral

NOW = datetime(2026, 11, 20, 10, 0)


@pytest.fixture
def setup(qtbot, tmp_path):
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), capabilities=("cases",))
    qtbot.addWidget(window)
    state = QueueState(WorkCalendar())
    state.reset([
        case_row(1, NOW, urge_count=0),
        case_row(2, NOW, urge_count=1),
        case_row(3, NOW, urge_count=3),
    ], NOW)
    services = AppServices(window.dock_registry, window.action_registry, state, FixedClock(NOW), Catalogue())
    manager = PluginManager(Path(plugins.__file__).parent, "plugins", services)
    manager.start()
    assert manager.record("duban_today").state.value == "enabled", manager.record("duban_today").error
    yield state, window.dock_registry.widget("duban_today.dock"), manager
    manager.shutdown()


def test_lists_urged_cases_most_urged_first(setup):
    state, widget, _ = setup
    assert widget.case_ids() == [3, 2]


def test_an_urge_event_puts_the_case_on_top_marked_today(setup):
    state, widget, _ = setup
    state.upsert(case_row(1, NOW, urge_count=1), "urge")
    assert widget.case_ids() == [1, 3, 2]
    assert widget.list.item(0).text().startswith("【今日】")
    assert widget.summary.text().startswith("今日督办: 1")


def test_clicking_selects_the_case(qtbot, setup):
    state, widget, _ = setup
    widget.show()
    rect = widget.list.visualItemRect(widget.list.item(1))
    qtbot.mouseClick(widget.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.selected_id == 2


def test_disabling_removes_the_dock(setup):
    state, widget, manager = setup
    manager.disable("duban_today")
    assert len(state.events.case_event) == 0
    assert "duban_today.dock" not in manager.services.docks.ids()
