"""Fixtures for the binding-neutral UI: fixed clock, in-memory case source, temp settings (no QGIS)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from pytestqt.qt_compat import qt_api

# qtpy and pytest-qt must drive the same binding, or Qt crashes instead of failing clearly.
# Loaded before pytest-qt configures (tests/ui given on the command line): steer pytest-qt to
# QT_API, defaulting to PyQt5 (the binding QGIS uses). Loaded later: make qtpy follow pytest-qt.
_chosen = getattr(qt_api, "pytest_qt_api", None)
if _chosen is None:
    os.environ.setdefault("PYTEST_QT_API", os.environ.get("QT_API", "pyqt5").lower())
else:
    os.environ.setdefault("QT_API", _chosen)
    if os.environ["QT_API"].lower() != _chosen:
        raise pytest.UsageError(
            f"QT_API={os.environ['QT_API']} but pytest-qt uses {_chosen}; set PYTEST_QT_API to the same binding"
        )

from samples import MemoryCaseSource, case_row  # noqa: E402

from app.domain.calendar import WorkCalendar  # noqa: E402  (after the binding is settled)
from app.domain.clock import FixedClock  # noqa: E402
from app.domain.definitions import CaseState  # noqa: E402

# A Friday, inside the morning working window.
NOW = datetime(2026, 11, 20, 10, 0)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    """Immutable, so one per session (building its year tables is the slow part)."""
    return WorkCalendar()


@pytest.fixture
def rows():
    """Red (150 %), yellow (90 %), green (50 %), no-timer and paused rows, natural time."""
    return [
        case_row(1, NOW, limit_minutes=100, started_minutes_ago=50,
                 department=("D01", "区环卫所"), grid_code="320582001001001"),
        case_row(2, NOW, limit_minutes=100, started_minutes_ago=90, category=("01002", "污水井盖"),
                 department=("D02", "区排水公司"), grid_code="320582001002003", urge_count=2),
        case_row(3, NOW, limit_minutes=60, started_minutes_ago=90, state=CaseState.FILED,
                 category=("07001", "非法小广告"), department=("D03", "城东街道办"),
                 grid_code="320582002001001"),
        case_row(4, NOW, limit_minutes=None, state=CaseState.VERIFYING, department=None),
        case_row(5, NOW, limit_minutes=600, started_minutes_ago=30, paused=True,
                 department=("D01", "区环卫所"), grid_code="320582002003004"),
    ]


@pytest.fixture
def source(rows) -> MemoryCaseSource:
    return MemoryCaseSource(rows)


@pytest.fixture
def settings(tmp_path):
    """QSettings in a temp INI file, never the user's."""
    from qtpy.QtCore import QSettings

    return QSettings(str(tmp_path / "gridhall.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def runner(qtbot):
    """A TaskRunner whose workers are finished before the test ends."""
    from app.ui.tasks import TaskRunner

    task_runner = TaskRunner()
    yield task_runner
    assert task_runner.wait(), "background tasks still running at teardown"
