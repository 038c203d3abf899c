"""The operator's desk: case services for the GUI and ``install_desk`` that wires the desk docks.

``DeskServices`` bundles what the forms and docks call (always from worker threads);
``install_desk(hall, desk, actor)`` registers the desk's docks and actions in the main window,
wires the map pick tool, follows the CaseBus and returns the teardown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from app.domain.clock import Clock
from app.domain.definitions import OPEN_STATES
from app.domain.limits import LimitTable
from app.domain.taxonomy import Taxonomy
from app.services.actors import Actor
from app.services.bus import CaseBus
from app.services.calendar import load_calendar
from app.services.case_source import StoreCaseSource
from app.services.cases import CaseService
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
    not offer yet; they open their own short sessions and are safe to call from workers.
    """

    store: Store
    cases: CaseService
    bus: CaseBus
    clock: Clock
    taxonomy: Taxonomy
    source: StoreCaseSource = field(init=False)

    def __post_init__(self) -> None:
        self.source = StoreCaseSource(self.store)

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

    def is_open(self, state) -> bool:
        """Whether a case in ``state`` belongs in the queue."""
        return state in OPEN_STATES


def build_desk_services(store: Store, clock: Clock, bus: CaseBus | None = None) -> DeskServices:
    """The desk's services over ``store`` (one CaseService publishing on ``bus``)."""
    taxonomy = Taxonomy.load()
    bus = bus or CaseBus()
    cases = CaseService(store, clock=clock, calendar=load_calendar(store), limits=LimitTable.load(),
                        taxonomy=taxonomy, bus=bus)
    return DeskServices(store, cases, bus, clock, taxonomy)


def ask_login(store: Store, clock: Clock, *, catalogue=None, parent=None, username: str = "") -> Actor | None:
    """Show the login dialog (the real argon2 login runs in a worker); the Actor, or None if cancelled."""
    from app.services.auth import login
    from app.ui.forms.login_dialog import LoginDialog
    from app.ui.tasks import TaskRunner

    runner = TaskRunner()
    dialog = LoginDialog(lambda name, password: login(store, name, password, clock=clock), runner, catalogue,
                         parent, username)
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
    if actor is not None:
        hall.window.set_user(actor.label)
    return teardown


__all__ = ["DeskServices", "PhotoRecord", "ask_login", "build_desk_services", "install_desk"]
