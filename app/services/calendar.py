"""The working calendar as configured in a store: chinesecalendar plus the store's local overrides."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.calendar import WorkCalendar
from app.store.engine import Store
from app.store.models import CalendarDay


def load_calendar(store: Store) -> WorkCalendar:
    """A WorkCalendar with the local overrides kept in ``calendar_days``."""
    with store.session() as session:
        rows = list(session.scalars(select(CalendarDay)))
    overrides = {row.day: bool(row.workday) for row in rows}
    named_days_off = {row.day: row.note for row in rows if not row.workday and row.note}
    return WorkCalendar(overrides=overrides, holidays=named_days_off)
