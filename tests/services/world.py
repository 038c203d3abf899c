"""A tiny fictitious district for the service and CLI tests: 16 grids, 2 roads, 6 departments, users.

The district itself (grids, roads, departments, users, ``build_world``, ``draft``) is defined once,
in ``bench/world.py``, and shared with the benchmarks; this module adds what only the tests need.
Grids are 100 m squares covering x 557000–557400, y 3464300–3464700 (EPSG:4549), i.e. around
120.6°E 31.3°N; the west half is 东园社区, the east half 北园社区, both in 平江街道.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.calendar import WorkCalendar
from app.domain.clock import FixedClock
from app.domain.limits import LimitTable
from app.domain.taxonomy import Taxonomy
from app.services.bus import CaseBus
from app.services.cases import CaseService, CaseSettings
from bench.world import CELL, INSIDE, MANHOLE, MANHOLE_LEGACY, USERS, X0, Y0, World, build_world, draft

OUTSIDE = (560000.0, 3470000.0)
PASSWORD = "Gridhall-test-1"
#: A Monday 09:00 without holidays around it (2026-03-02).
T0 = datetime(2026, 3, 2, 9, 0)

_TAXONOMY = None
_LIMITS = None


def service(store, clock: FixedClock, *, bus: CaseBus | None = None, settings: CaseSettings | None = None,
            calendar: WorkCalendar | None = None) -> CaseService:
    """A CaseService over ``store`` with the shipped taxonomy and limit table (``settings`` to vary
    the rules a test is about)."""
    global _TAXONOMY, _LIMITS
    if _TAXONOMY is None:
        _TAXONOMY, _LIMITS = Taxonomy.load(), LimitTable.load()
    return CaseService(store, clock=clock, calendar=calendar or WorkCalendar(), limits=_LIMITS,
                       taxonomy=_TAXONOMY, bus=bus, settings=settings)


def png_bytes(width: int = 8, height: int = 8, color=(200, 30, 30)) -> bytes:
    """A real, small PNG image."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def photo(kind: str = "report", name: str = "现场.png", taken_at: datetime | None = None, **kw):
    """A valid PhotoInput (``taken_at``: the shooting time the handheld states)."""
    from app.services.attachments import PhotoInput

    return PhotoInput(name, png_bytes(**kw), kind, taken_at)


def verified(svc, world, result, *, confirmed: bool = True, text: str = "现场属实"):
    """派发核实 then 核实 of a reported case (public and hotline reports are filed only after it)."""
    a = world.actors
    r = svc.send_verify(a["acceptor"], result.case.id, result.version)
    return svc.verify(a["supervisor"], r.case.id, r.version, result=text, confirmed=confirmed)


__all__ = ["CELL", "INSIDE", "MANHOLE", "MANHOLE_LEGACY", "OUTSIDE", "PASSWORD", "T0", "USERS", "X0", "Y0", "World",
           "build_world", "draft", "photo", "png_bytes", "service", "verified"]
