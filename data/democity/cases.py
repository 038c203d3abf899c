"""Draw cases: which problem, where, reported how, handled by whom (standards.md §5 shares)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.domain.definitions import Light
from data.democity import names, texts
from data.democity.geography import City
from data.democity.history import Clockwork, Draft, build_path, open_targets, variations
from data.democity.org import event_department
from data.democity.sampling import pick

SOURCES = (("supervisor", 0.72), ("hotline", 0.12), ("public", 0.07), ("video", 0.05), ("media", 0.01),
           ("police", 0.01), ("leader", 0.01), ("department", 0.01))
LEVELS = (("general", 0.92), ("urgent", 0.06), ("engineering", 0.02))
COMPONENT_SHARE = 0.15
#: Shares of the event majors; 06 + 09 + 07 = 81 % as in Nantong (standards.md §5).
EVENT_MAJORS = (("06", 0.44), ("09", 0.26), ("07", 0.11), ("08", 0.15), ("10", 0.04))
#: Relative weights of the common categories inside their major (others weigh 1).
COMMON = {
    "06010": 30, "06012": 25, "06036": 20, "06042": 18, "06013": 10, "06007": 10, "06001": 8, "06017": 8,
    "06011": 6, "06035": 6, "06040": 5, "06014": 5, "06029": 4, "06027": 4, "06028": 4, "06019": 4,
    "09009": 30, "09010": 25, "09005": 25, "09006": 20, "09011": 15, "09001": 12, "09012": 4,
    "07001": 60, "07006": 10, "07002": 10, "07003": 8, "07007": 4,
    "08002": 20, "08004": 15, "08005": 15, "08006": 10, "08007": 10, "08001": 8, "10002": 2,
}
# Hour-of-day weights by source: supervisors patrol 07–19 with morning and afternoon peaks.
_SUPERVISOR_HOURS = {7: 4, 8: 9, 9: 12, 10: 12, 11: 9, 12: 4, 13: 6, 14: 10, 15: 11, 16: 10, 17: 7, 18: 4}
_PUBLIC_HOURS = {h: w for h, w in zip(range(7, 23), (2, 5, 8, 9, 9, 7, 6, 7, 8, 8, 8, 7, 6, 5, 4, 2), strict=True)}
_DESK_HOURS = {h: 1 for h in range(8, 18)}
TERMINAL = (("closed", 0.97), ("not_filed", 0.02), ("voided", 0.01))


@dataclass
class CompRef:
    """What a component case needs to know about its component."""

    id: int
    code: str
    i: int
    j: int
    u: float
    v: float
    x: float
    y: float
    maintainer: str


class CaseFactory:
    """Makes case drafts for the district's grids, components and departments."""

    def __init__(self, city: City, components: list[CompRef], event_codes: dict[str, str],
                 event_names: dict[str, str], clockwork: Clockwork, rng: random.Random):
        self.city = city
        self.components = components
        self.clock = clockwork
        self.rng = rng
        self.names = event_names
        self.by_major: dict[str, tuple[list[str], list[float]]] = {}
        for code in sorted(event_codes):
            if code[:2] in dict(EVENT_MAJORS):
                codes, weights = self.by_major.setdefault(code[:2], ([], []))
                codes.append(code)
                weights.append(COMMON.get(code, 1))
        self.all_depts: list[str] = []

    def _hour(self, source: str) -> dict[int, int]:
        if source == "supervisor":
            return _SUPERVISOR_HOURS
        if source in ("video", "leader", "department"):
            return _DESK_HOURS
        return _PUBLIC_HOURS

    def report_time(self, day: date, source: str) -> datetime:
        """A plausible report instant on ``day`` for ``source``."""
        hours = self._hour(source)
        h = self.rng.choices(list(hours), weights=list(hours.values()))[0]
        return datetime.combine(day, time(h)) + timedelta(seconds=self.rng.randrange(3600))

    def draft(self, source: str | None = None) -> Draft:
        """A new problem: kind, category, place, text and handling department."""
        rng = self.rng
        source = source or pick(rng, SOURCES)
        level = pick(rng, LEVELS)
        if self.components and rng.random() < COMPONENT_SHARE:
            comp = self.components[rng.randrange(len(self.components))]
            code, kind = comp.code, "component"
            i, j, u, v, point = comp.i, comp.j, comp.u, comp.v, (comp.x, comp.y)
            dept, comp_id = comp.maintainer, comp.id
        else:
            major = pick(rng, EVENT_MAJORS)
            codes, weights = self.by_major[major]
            code, kind = rng.choices(codes, weights=weights)[0], "event"
            g = self.city.grids[rng.randrange(len(self.city.grids))]
            i, j, u, v = g.i, g.j, rng.uniform(0.03, 0.97), rng.uniform(0.03, 0.97)
            point = self.city.point(i, j, u, v)
            dept, comp_id = event_department(code, g.street_index), None
        grid = self.city.grid_at[(i, j)]
        street = self.city.grids[grid].street_index
        wrong = rng.choice([k for k in self.all_depts if k != dept]) if self.all_depts else dept
        if kind == "event" and code.startswith(("06", "09")):
            wrong = f"JD{street + 1:03d}" if dept != f"JD{street + 1:03d}" else "CGJ"
        reporter = None
        if source in ("hotline", "public", "media", "police"):
            reporter = (names.person(rng)[0] + rng.choice(("先生", "女士")),
                        f"1{rng.choice('35789')}{rng.randint(0, 999999999):09d}")
        return Draft(kind=kind, code=code, level=level, source=source, grid=grid, component=comp_id,
                     point=point, address=self.city.address(i, j, u, v),
                     description=texts.description(rng, code, self.names[code], kind == "component"),
                     dept=dept, wrong_dept=wrong, reporter=reporter)

    def terminal(self, day: date, compact: bool) -> Draft:
        """A case reported on ``day`` and run to 结案, 作废 or 不予立案."""
        d = self.draft()
        target = pick(self.rng, TERMINAL)
        if d.source != "supervisor" and target == "closed" and self.rng.random() < 0.05:
            target = "not_filed"  # public reports fail verification more often
        var = set() if compact else variations(self.rng)
        if target == "voided" and self.rng.random() < 0.5:
            var.add("late_void")
        d.steps = build_path(self.rng, d.source, target, var, compact)
        d.times = self.clock.forward(self.rng, d, self.report_time(day, d.source), d.steps)
        return d

    def open_cases(self, count: int, now: datetime) -> list[Draft]:
        """Open cases over every non-terminal state and light, timed against ``now``."""
        out = []
        for state, light in open_targets(count, self.rng):
            # Only reports from outside the hall are verified on site.
            d = self.draft(self.rng.choice(("hotline", "public")) if state == "verifying" else None)
            var = {"urge"} if light is Light.RED and self.rng.random() < 0.3 else set()
            if state == "void_requested" and self.rng.random() < 0.5:
                var.add("late_void")
            d.steps = build_path(self.rng, d.source, state, var)
            self.clock.anchor_open(self.rng, d, now, light)
            out.append(d)
        return out
