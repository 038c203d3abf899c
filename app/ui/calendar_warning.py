"""The desk's working-calendar warning and the calendar's live reload (issue 12).

A permanent amber label in the status bar while any day of the next 60 falls in a year whose
statutory holidays are only estimated (or unknown): deadlines there may still move once an
administrator enters the State Council's notice. Its tooltip says what and what to do.

Every ``interval_ms`` a worker thread asks the store whether the configuration changed and, if
so, reloads the running calendar in place (app.services.calendar.refresh_calendar): the next
timer computation of this workstation uses the days another workstation saved, without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QLabel, QWidget

from app.i18n import Catalogue
from app.services.calendar import WARNING_DAYS, calendar_warning, refresh_calendar

log = logging.getLogger(__name__)

#: How often the store's configuration version is asked (milliseconds).
INTERVAL_MS = 10_000


class CalendarWarning(QLabel):
    """Amber status-bar label: '工作日历：2027年为推算'; hidden while every day ahead is official."""

    def __init__(self, catalogue: Catalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cat = catalogue
        self.setObjectName("calendarWarning")
        self.setStyleSheet("#calendarWarning { background: #f9a825; color: black; font-weight: bold; "
                           "padding: 1px 6px; border-radius: 3px; }")
        self.setVisible(False)

    def show_for(self, calendar, today) -> None:
        """Show (or hide) the warning for ``calendar`` as of ``today``."""
        uncertain = calendar.uncertain_years(today, today + timedelta(days=WARNING_DAYS))
        message = calendar_warning(calendar, today)
        if message is None or not uncertain:
            self.setVisible(False)
            self.setToolTip("")
            return
        years = [self.cat.tr("{year}年", year=y) for y in sorted(uncertain)]
        self.setText("⚠ " + self.cat.tr("工作日历：{years}为推算", years=self.cat.tr("、").join(years)))
        self.setToolTip(self.cat.text(message))
        self.setVisible(True)


def install_calendar_watch(window, store, calendar, clock, runner, catalogue: Catalogue,
                           interval_ms: int = INTERVAL_MS, watch=None) -> Callable[[], None]:
    """The warning in ``window``'s status bar, refreshed (and the calendar reloaded when the
    configuration changed) every ``interval_ms`` off the GUI thread, and at once on each update of
    ``watch`` (app.services.config_live.ConfigWatch: a saved change); returns the teardown."""
    label = CalendarWarning(catalogue)
    window.statusBar().addPermanentWidget(label)
    label.show_for(calendar, clock.now().date())
    timer = QTimer(window)
    timer.setInterval(interval_ms)

    def check() -> None:
        runner.run_in_thread(lambda: refresh_calendar(store, calendar),
                             lambda _changed: label.show_for(calendar, clock.now().date()),
                             lambda exc: log.info("calendar refresh failed: %s", exc), key="calendar-watch")

    timer.timeout.connect(check)
    timer.start()
    label.check = check  # (tests run one check without waiting for the timer)
    unsubscribe = watch.subscribe(lambda _update: label.show_for(calendar, clock.now().date())) if watch else None

    def close() -> None:
        if unsubscribe is not None:
            unsubscribe()
        timer.stop()
        runner.cancel("calendar-watch")
        window.statusBar().removeWidget(label)
        label.deleteLater()

    return close


__all__ = ["INTERVAL_MS", "CalendarWarning", "install_calendar_watch"]
