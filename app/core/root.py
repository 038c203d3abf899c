"""The headless composition root: ``build_core`` builds the store-backed application every edge shares.

``Core`` bundles what every edge calls (the GUI's forms and docks always from worker threads):
the case service publishing on one bus, claims and a few store lookups. ``open_core`` opens the
store first (the CLI's way in); the GUI root passes the store it logged in with.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from app.commands import CommandRegistry, default_registry
from app.domain.calendar import WorkCalendar
from app.domain.cases import PhotoRecord
from app.domain.clock import Clock
from app.domain.definitions import Action
from app.domain.limits import LimitTable
from app.domain.taxonomy import Taxonomy
from app.services.actors import Actor
from app.services.bus import CaseBus
from app.services.calendar import load_calendar
from app.services.case_source import StoreCaseSource, read_scope
from app.services.cases import CaseService, CaseSettings
from app.services.claims import ClaimOutcome, ClaimService, explain_conflict
from app.services.config import ConfigService
from app.services.evaluation import Evaluation, EvaluationService
from app.services.ledger import LedgerReport, LedgerService
from app.services.limits import load_limits
from app.services.location import LocationInput, ResolvedLocation, resolve
from app.services.search import CaseSearch, SearchResult
from app.store import queries
from app.store.engine import Store

if TYPE_CHECKING:
    from app.services.geocode import Candidate


@dataclass
class Core:
    """The headless application: store, clock, calendar, limits, taxonomy, the case service, the bus,
    claims and a few lookups. The CLI, benchmarks, reports, servers and the GUI all build on it.

    The lookups (``locate``, ``photos``, ``departments``) are thin reads the case service does
    not offer yet; they open their own short sessions and are safe to call from workers, as are
    the claim calls (``claim``, ``release``, ``claim_text``, ``explain_conflict``).
    ``claims_changed(ids)`` (GUI thread; LiveSync's ``on_claims``) tells the desk's watchers.
    """

    store: Store
    cases: CaseService
    bus: CaseBus
    clock: Clock
    taxonomy: Taxonomy
    source: StoreCaseSource | None = None
    workstation: str | None = None
    commands: CommandRegistry | None = None  # every edge's case commands (default: the process's)
    claims: ClaimService = field(init=False)
    _claim_listeners: list = field(init=False, default_factory=list)

    @property
    def calendar(self) -> WorkCalendar:
        """The working-time calendar every timer is computed with (loaded once from the store)."""
        return self.cases.calendar

    @property
    def limits(self) -> LimitTable:
        """The time limits in force (the store's ``time_limits``)."""
        return self.cases.limits

    def close(self) -> None:
        """Dispose the store (the CLI's and servers' end; the GUI's Hall owns its store itself)."""
        self.store.dispose()

    def configuration(self) -> ConfigService:
        """The administrator's configuration editors (issue 12, app/services/config.py) over the core's
        store and clock. Safe from workers; on PostGIS the core's login is the one that writes."""
        return ConfigService(self.store, self.clock)

    def refresh_config(self) -> bool:
        """Reload the calendar and the time limits now if the store's configuration changed (the case
        service also does so by itself before each operation); whether it reloaded."""
        return self.cases.refresh_config()

    def __post_init__(self) -> None:
        if self.source is None:
            self.source = StoreCaseSource(self.store)
        if self.workstation is None:
            self.workstation = default_workstation()
        if self.commands is None:
            self.commands = default_registry()
        self.claims = ClaimService(self.store, self.clock)

    # ---- conflict control (advisory claims) ----------------------------------------
    def claim(self, actor: Actor, case_id: int, action: Action | str | None = None) -> ClaimOutcome:
        """Claim (or renew) ``case_id`` for ``actor`` at this workstation while a form is open."""
        return self.claims.claim(actor, case_id, self.workstation, action=action)

    def release(self, actor: Actor, case_id: int) -> bool:
        """Drop ``actor``'s claim on ``case_id`` (form saved, cancelled or closed)."""
        return self.claims.release(actor, case_id)

    def claim_text(self, actor: Actor | None, case_id: int) -> str | None:
        """The banner text of someone else's live claim on ``case_id`` (actor None: anyone's), or None."""
        claim = self.claims.holder(case_id) if actor is None else self.claims.held_by_others(actor, case_id)
        return claim.text if claim is not None else None

    def explain_conflict(self, case_id: int, since_version: int) -> str:
        """Who did what to ``case_id`` after ``since_version`` (the text under a conflict error)."""
        return explain_conflict(self.store, case_id, since_version)

    def on_claims_changed(self, listener: Callable[[set[int]], None]) -> Callable[[], None]:
        """Call ``listener(case_ids)`` when claims change; returns the unsubscribe function."""
        self._claim_listeners.append(listener)
        return lambda: self._claim_listeners.remove(listener) if listener in self._claim_listeners else None

    def claims_changed(self, case_ids: Iterable[int]) -> None:
        """Claims on ``case_ids`` changed somewhere (LiveSync ``on_claims``; GUI thread)."""
        ids = set(case_ids)
        for listener in list(self._claim_listeners):
            listener(ids)

    def locate(self, location: LocationInput) -> ResolvedLocation:
        """Grid, street and community of a point / component / address (ValidationError if outside)."""
        with self.store.session() as session:
            return resolve(session, location, self.taxonomy)

    def geocode(self, text: str, limit: int = 5) -> list[Candidate]:
        """Gazetteer candidates for an address text (app.services.geocode; any thread)."""
        from app.services.geocode import geocode

        return geocode(self.store, text, limit)

    def reverse_geocode(self, x: float, y: float) -> Candidate | None:
        """The nearest address to a point in the store CRS, or None (app.services.geocode)."""
        from app.services.geocode import reverse_geocode

        return reverse_geocode(self.store, x, y)

    def scope_to(self, actor: Actor | None) -> None:
        """Limit the shared case source's reads to what ``actor`` may see (a department operator on
        SpatiaLite: its department's cases and its own undispatched reports; PostGIS: its login's RLS)."""
        assert self.source is not None
        self.source.scope_to(actor)
        self.cases.scope = read_scope(self.store, actor)  # CaseService.get / events / list_cases too

    def photos(self, case_id: int) -> list[PhotoRecord]:
        """The case's photos, oldest first (none for a case outside the source's scope)."""
        assert self.source is not None
        return self.source.photos(case_id)

    def departments(self) -> list[tuple[int, str, str]]:
        """(id, code, name) of every active department, by code."""
        with self.store.session() as session:
            return queries.active_departments(session)

    def department_code(self, department_id: int | None) -> str | None:
        """The code of a department id (None for None or an unknown id)."""
        if department_id is None:
            return None
        with self.store.session() as session:
            return queries.department_code(session, department_id)

    def find_cases(self, actor: Actor | None, query: str, *, limit: int = 50, offset: int = 0) -> SearchResult:
        """Search every case, any state (app/services/search.py's query language); safe from workers.

        A department operator finds only its department's cases: on PostGIS row-level security
        decides (its login is the store's), on SpatiaLite the search is scoped to its department.
        Raises ``SearchError`` (a MsgError) for a query it cannot understand.
        """
        scope = read_scope(self.store, actor)
        return CaseSearch(self.store).find(query, department_id=scope, limit=limit, offset=offset)

    def ledger(self, actor: Actor | None, start: date, end: date, *, kind: str | None = None,
               department: str | None = None) -> LedgerReport:
        """The request ledger (台账) of ``start`` … ``end`` with its monthly shares (app/services/ledger.py);
        a department operator reads its own department's cases only. Safe from workers."""
        return LedgerService(self.store).report(actor, start, end, kind=kind, department=department)

    def evaluate(self, actor: Actor | None, subject: str, start: date, end: date, *, level: str | None = None,
                 department: str | None = None) -> Evaluation:
        """The evaluation (考核评价) of regions, departments or positions over ``start`` … ``end``, from the
        case events only (app/services/evaluation.py); ranked, with every count behind every rate. The
        day is the core's clock's. Safe from workers."""
        today = self.clock.now().date()
        return EvaluationService(self.store, today=lambda: today).evaluate(actor, subject, start, end, level=level,
                                                                          department=department)


def default_workstation() -> str:
    """This workstation's name in claims: $GRIDHALL_WORKSTATION, else the host name."""
    return (os.environ.get("GRIDHALL_WORKSTATION") or socket.gethostname() or "").strip()[:64]


def build_core(store: Store, clock: Clock, bus: CaseBus | None = None, *, calendar: WorkCalendar | None = None,
                        source: StoreCaseSource | None = None, workstation: str | None = None,
                        limits: LimitTable | None = None, commands: CommandRegistry | None = None,
                        actor: Actor | None = None) -> Core:
    """The application's services over ``store`` (one CaseService publishing on ``bus``).

    ``calendar``, ``limits`` and ``source`` reuse what the caller already built (the composition
    root loads them once); without them they are loaded/built here (limits from the store's
    time_limits table). ``commands`` defaults to the process's registry (built-ins and plugins'),
    so the GUI, the CLI and plugins share one set of case commands. ``actor``: the user whose
    reads the case source is scoped to (``Core.scope_to``; a department operator on SpatiaLite).
    """
    taxonomy = Taxonomy.load()
    bus = bus or CaseBus()
    calendar = calendar if calendar is not None else load_calendar(store)
    limits = limits if limits is not None else load_limits(store, clock.now())
    cases = CaseService(store, clock=clock, calendar=calendar, limits=limits, taxonomy=taxonomy, bus=bus,
                        settings=CaseSettings.from_env())
    cases.config_live = True  # reload the calendar and limits on another workstation's saved change
    cases.config_seen = calendar.version if isinstance(calendar.version, int) else None
    core = Core(store, cases, bus, clock, taxonomy, source=source, workstation=workstation, commands=commands)
    if actor is not None:
        core.scope_to(actor)
    return core


def open_core(db_url: str, clock: Clock, *, workstation: str | None = None) -> Core:
    """Open the store at ``db_url`` and build the core over it (``core.close()`` disposes the store)."""
    from app.store.engine import open_store

    store = open_store(db_url)
    try:
        return build_core(store, clock, workstation=workstation)
    except BaseException:
        store.dispose()
        raise


__all__ = ["Core", "PhotoRecord", "build_core", "default_workstation", "open_core"]
