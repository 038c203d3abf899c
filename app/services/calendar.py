"""The working calendar as configured in a store: chinesecalendar plus the store's local overrides."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.calendar import WorkCalendar
from app.store.engine import Store
from app.store.models import CalendarDay


def load_calendar(store: Store) -> WorkCalendar:
    """A WorkCalendar with the local overrides kept in ``calendar_days``."""
    with store.session() as session:
        overrides = {row.day: bool(row.workday) for row in session.scalars(select(CalendarDay))}
    return WorkCalendar(overrides=overrides)
