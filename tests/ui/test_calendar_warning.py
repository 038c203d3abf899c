"""The desk's working-calendar warning and live reload (issue 12), with qtbot on a real store."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from qtpy.QtWidgets import QMainWindow

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.services import calendar as service
from app.services.actors import Actor
from app.ui.calendar_warning import install_calendar_watch
from app.ui.tasks import TaskRunner

ADMIN = Actor("admin", "管理员", "admin")


@pytest.mark.parametrize("backend", ["spatialite"])
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_warning_shows_an_estimated_year_and_leaves_when_the_notice_is_entered(qtbot, store, lang):
    window = QMainWindow()
    qtbot.addWidget(window)
    runner = TaskRunner()
    calendar = service.load_calendar(store)
    clock = FixedClock(datetime(2026, 12, 7, 9))
    close = install_calendar_watch(window, store, calendar, clock, runner, Catalogue(lang), interval_ms=3_600_000)
    label = window.findChild(object, "calendarWarning")
    assert label is not None and not label.isHidden()
    if lang == "zh_CN":
        assert "2027年" in label.text() and "推算" in label.text() and "国务院办公厅通知" in label.toolTip()
    else:
        assert "2027" in label.text() and "estimated" in label.text() and "State Council" in label.toolTip()
    start = datetime(2027, 2, 4, 17)
    assert calendar.add_working_minutes(start, 1440) == datetime(2027, 2, 15, 17)
    # another workstation's administrator enters the official arrangement
    service.set_year(store, ADMIN, 2027, holidays=["2027-01-01=元旦", "2027-02-05..2027-02-10=春节"],
                     workdays=["2027-02-14"], official=True, source="国办发明电〔2026〕N号", reason="通知")
    label.check()
    qtbot.waitUntil(lambda: label.isHidden(), timeout=5000)
    assert calendar.add_working_minutes(start, 1440) == datetime(2027, 2, 14, 17)  # the running calendar
    close()
    runner.wait()
    assert date(2027, 2, 14) in service.show_year(store, 2027).workdays
