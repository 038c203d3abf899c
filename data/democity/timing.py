"""When people act: desk staff, field supervisors and departments keep different hours."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from app.domain.calendar import US_PER_MINUTE, WorkCalendar

#: Hours in which each kind of actor plausibly records a step (start, end).
HOURS = {
    "supervisor": (time(7, 0), time(19, 0)),
    "desk": (time(7, 30), time(21, 30)),  # the command hall runs two shifts
    "leader": (time(8, 30), time(18, 0)),
}
#: Share of department steps done outside the working windows (overtime, night crews).
OVERTIME = 0.12


class Timing:
    """Moves instants forward by plausible delays for each actor kind."""

    def __init__(self, cal: WorkCalendar, rng: random.Random):
        self.cal = cal
        self.rng = rng

    def within(self, t: datetime, actor: str) -> datetime:
        """``t`` itself if ``actor`` works then, else shortly after the next opening."""
        start, end = HOURS[actor]
        if actor == "leader":  # leaders urge on working days only
            while not self.cal.is_workday(t.date()):
                t = datetime.combine(t.date() + timedelta(days=1), start)
        if t.time() < start:
            return datetime.combine(t.date(), start) + timedelta(minutes=self.rng.uniform(0, 40))
        if t.time() > end:
            return datetime.combine(t.date() + timedelta(days=1), start) + timedelta(minutes=self.rng.uniform(0, 40))
        return t

    def after(self, t: datetime, actor: str, minutes: float) -> datetime:
        """The instant a step by ``actor`` is recorded ``minutes`` (basis of that actor) after ``t``."""
        minutes = max(1.0, minutes)
        if actor == "department":
            if self.rng.random() < OVERTIME:
                return t + timedelta(minutes=minutes)
            return self.cal.add_working_minutes(t, minutes)
        return self.within(t + timedelta(minutes=minutes), actor)

    def back_working(self, t: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` working minutes before ``t``."""
        return self.cal.from_ordinal_us(max(0, self.cal.ordinal_us(t) - round(minutes * US_PER_MINUTE)))
