"""The operator's desk: case services for the GUI and ``install_desk`` that wires the desk docks.

``DeskServices`` bundles what the forms and docks call (always from worker threads);
``install_desk(hall, desk, actor)`` registers the desk's docks and actions in the main window,
wires the map pick tool, follows the CaseBus and returns the teardown.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from app.domain.clock import Clock
from app.domain.limits import LimitTable
from app.domain.taxonomy import Taxonomy
from app.services.actors import Actor
from app.services.bus import CaseBus
from app.services.calendar import load_calendar
from app.services.case_source import StoreCaseSource
from app.services.cases import CaseService
from app.services.claims import ClaimOutcome, ClaimService, explain_conflict
from app.services.limits import load_limits
from app.services.location import LocationInput, ResolvedLocation, resolve
from app.store.engine import Store
from app.store.models import Attachment, Department


@dataclass(frozen=True)
class PhotoRecord:
    """One stored photo of a case, for thumbnails."""

    id: int
    kind: str
    filename: str
    mime: str
    data: bytes
    event_id: int | None = None


@dataclass
class DeskServices:
    """What the desk needs from the application: the case service, the bus and a few lookups.

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
    claims: ClaimService = field(init=False)
    _claim_listeners: list = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.source is None:
            self.source = StoreCaseSource(self.store)
        if self.workstation is None:
            self.workstation = default_workstation()
        self.claims = ClaimService(self.store, self.clock)

    # ---- conflict control (advisory claims) ----------------------------------------
    def claim(self, actor: Actor, case_id: int, action=None) -> ClaimOutcome:
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

    def photos(self, case_id: int) -> list[PhotoRecord]:
        """The case's photos, oldest first."""
        with self.store.session() as session:
            rows = session.scalars(select(Attachment).where(Attachment.case_id == case_id)
                                   .order_by(Attachment.id)).all()
            return [PhotoRecord(r.id, r.kind, r.filename, r.mime, bytes(r.data), r.event_id) for r in rows]

    def departments(self) -> list[tuple[int, str, str]]:
        """(id, code, name) of every active department, by code."""
        with self.store.session() as session:
            rows = session.execute(select(Department.id, Department.code, Department.name)
                                   .where(Department.active.isnot(False)).order_by(Department.code)).all()
            return [tuple(r) for r in rows]

    def department_code(self, department_id: int | None) -> str | None:
        """The code of a department id (None for None or an unknown id)."""
        if department_id is None:
            return None
        with self.store.session() as session:
            return session.scalar(select(Department.code).where(Department.id == department_id))


def default_workstation() -> str:
    """This workstation's name in claims: $GRIDHALL_WORKSTATION, else the host name."""
    return (os.environ.get("GRIDHALL_WORKSTATION") or socket.gethostname() or "").strip()[:64]


def build_desk_services(store: Store, clock: Clock, bus: CaseBus | None = None, *, calendar=None,
                        source: StoreCaseSource | None = None, workstation: str | None = None,
                        limits: LimitTable | None = None) -> DeskServices:
    """The desk's services over ``store`` (one CaseService publishing on ``bus``).

    ``calendar``, ``limits`` and ``source`` reuse what the caller already built (the composition
    root loads them once); without them they are loaded/built here (limits from the store's
    time_limits table).
    """
    taxonomy = Taxonomy.load()
    bus = bus or CaseBus()
    calendar = calendar if calendar is not None else load_calendar(store)
    limits = limits if limits is not None else load_limits(store)
    cases = CaseService(store, clock=clock, calendar=calendar, limits=limits, taxonomy=taxonomy, bus=bus)
    return DeskServices(store, cases, bus, clock, taxonomy, source=source, workstation=workstation)


def ask_login(store: Store | None, clock: Clock, *, catalogue=None, parent=None, username: str = "",
              attempt: Callable[[str, str], Actor] | None = None) -> Actor | None:
    """Show the login dialog (the login itself runs in a worker); the Actor, or None if cancelled.

    ``attempt(name, password)`` performs one login (default: argon2 ``auth.login`` on ``store``);
    the hall passes ``hall_login.LoginAttempts`` so PostGIS users connect as their own login.
    """
    from app.services.auth import login
    from app.ui.forms.login_dialog import LoginDialog
    from app.ui.tasks import TaskRunner

    if attempt is None:
        def attempt(name: str, password: str) -> Actor:
            return login(store, name, password, clock=clock)

    runner = TaskRunner()
    dialog = LoginDialog(attempt, runner, catalogue, parent, username)
    accepted = dialog.exec() == dialog.DialogCode.Accepted
    runner.wait()
    return dialog.actor if accepted else None


def install_desk(hall, desk: DeskServices, actor: Actor | None) -> Callable[[], None]:
    """Register the desk docks and case actions for ``actor`` in ``hall.window``; returns the teardown.

    ``actor`` None (demo mode without login) installs a read-only desk: timers, alerts, photos.
    """
    from app.ui.work.install import install_work

    pick = None
    map_view = getattr(hall, "map_view", None)
    if map_view is not None and hasattr(map_view, "canvas"):
        from app.gis.pick_tool import MapPicker

        picker = MapPicker(map_view.canvas, lambda: map_view.layers.components if map_view.layers else None)
        pick = picker.pick
    teardown = install_work(hall.window, hall.state, hall.runner, desk, actor, pick=pick,
                            catalogue=getattr(hall.window, "cat", None))
    stop_watching = watch_claims(hall.window.dock_registry, hall.state, hall.runner, desk, actor)
    if actor is not None:
        hall.window.set_user(actor.label)

    def teardown_all() -> None:
        stop_watching()
        teardown()

    teardown_all.desk = getattr(teardown, "desk", None)  # type: ignore[attr-defined]
    return teardown_all


def watch_claims(registry, state, runner, desk: DeskServices, actor: Actor | None) -> Callable[[], None]:
    """Show on the case detail dock who else holds the selected case; follows selection and
    ``desk.claims_changed``. Returns the teardown."""
    from app.ui.builtin import DETAIL_DOCK
    from app.ui.claim_banner import ClaimWatcher

    def show(case_id: int, text: str | None) -> None:
        # looked up each time: the detail dock may be closed and registered again
        if DETAIL_DOCK in registry.ids():
            widget = registry.widget(DETAIL_DOCK)
            if hasattr(widget, "show_claim"):
                widget.show_claim(case_id, text)

    watcher = ClaimWatcher(state, lambda case_id: desk.claim_text(actor, case_id), runner, show)
    unsubscribe = desk.on_claims_changed(watcher.claims_changed)

    def teardown() -> None:
        unsubscribe()
        watcher.teardown()

    teardown.watcher = watcher  # type: ignore[attr-defined]
    return teardown


__all__ = ["DeskServices", "PhotoRecord", "ask_login", "build_desk_services", "default_workstation", "install_desk",
           "watch_claims"]
