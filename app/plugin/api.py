"""The narrow facade a plugin receives in ``enable(api)``; everything it registers is undone on disable."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.commands import Command, CommandRegistry, default_registry
from app.domain.cases import CaseSummary
from app.domain.clock import Clock
from app.i18n import Catalogue
from app.plugin.hooks import register_commands
from app.plugin.manifest import API_VERSION, Manifest
from app.plugin.registries import MapLayerEntry, NamedRegistry, ReportSection
from app.ui.actions import ActionRegistry, ActionSpec
from app.ui.docks import DockRegistry, DockSpec
from app.views.handles import Registration
from app.views.queue_state import QueueState

log = logging.getLogger(__name__)


class AppServices:
    """What the application lends to every plugin's API (built once by the composition root)."""

    def __init__(
        self,
        docks: DockRegistry,
        actions: ActionRegistry,
        queue: QueueState,
        clock: Clock,
        catalogue: Catalogue,
        map_layers: NamedRegistry[MapLayerEntry] | None = None,
        report_sections: NamedRegistry[ReportSection] | None = None,
        commands: CommandRegistry | None = None,
    ) -> None:
        self.docks = docks
        self.actions = actions
        self.queue = queue
        self.clock = clock
        self.catalogue = catalogue
        self.map_layers = map_layers if map_layers is not None else NamedRegistry("map layer")
        self.report_sections = report_sections if report_sections is not None else NamedRegistry("report section")
        # the case commands every edge shares (the Core's; by default the process's registry)
        self.commands = commands if commands is not None else default_registry()


class PluginApi:
    """API version 1.0: typed ``register_*`` methods returning handles, read-only case access."""

    version = API_VERSION

    def __init__(self, manifest: Manifest, services: AppServices) -> None:
        self.manifest = manifest
        self._s = services
        self._handles: list[Registration] = []

    # ---- registration --------------------------------------------------------------
    def register_dock(self, spec: DockSpec) -> Registration:
        """Add a dock panel (its id should start with the plugin id)."""
        return self._keep(self._s.docks.register(spec))

    def register_action(self, spec: ActionSpec) -> Registration:
        """Add a menu command (use ``menu="plugins"`` unless another menu fits)."""
        return self._keep(self._s.actions.register(spec))

    def register_command(self, command: Command) -> Registration:
        """Add a case command (``app.commands.Command``; its id should start with the plugin id).

        It shows wherever the registry is followed: a menu entry with its shortcut for the roles
        that may take it, enabled per case state, its prompt built from its fields, and a
        ``gridhall case <verb>`` on the command line of the same process. Removed on disable.
        """
        return self._keep(self._s.commands.register(command))

    def register_command_hook(self, hook: Callable[[CommandRegistry], object]) -> list[Registration]:
        """Call a plugin's command hook (``MANIFEST.toml`` ``commands``) with the command registry and
        keep the handles of what it registered (removed on disable). The loader calls this; the
        command line calls the same hook (``app.plugin.hooks``), so the commands are declared once."""
        handles = register_commands(hook, self._s.commands)
        for handle in handles:
            self._keep(handle)
        return handles

    def register_map_layer(self, name: str, factory: Callable[[], object]) -> Registration:
        """Offer a map layer; the GIS calls ``factory()`` to build it."""
        return self._keep(self._s.map_layers.register(name, MapLayerEntry(name, factory)))

    def register_report_section(self, id: str, title: str, render: Callable[..., object]) -> Registration:
        """Add a report section rendered by ``render(context)``."""
        return self._keep(self._s.report_sections.register(id, ReportSection(id, title, render)))

    def subscribe_case_events(self, callback: Callable[[int, str], None]) -> Registration:
        """Call ``callback(case_id, action)`` whenever the app learns of a case change."""
        disconnect = self._s.queue.events.case_event.connect(callback)
        return self._keep(Registration("case events", self.manifest.id, disconnect))

    def subscribe_queue_reset(self, callback: Callable[[], None]) -> Registration:
        """Call ``callback()`` when the queue rows are reloaded or reordered."""
        disconnect = self._s.queue.events.rows_reset.connect(callback)
        return self._keep(Registration("queue reset", self.manifest.id, disconnect))

    # ---- read-only access ----------------------------------------------------------
    def cases(self) -> tuple[CaseSummary, ...]:
        """The current queue rows (immutable snapshots)."""
        return self._s.queue.rows

    def select_case(self, case_id: int) -> None:
        """Make ``case_id`` the current case (map and detail dock follow)."""
        self._s.queue.select(case_id)

    @property
    def clock(self) -> Clock:
        return self._s.clock

    def tr(self, text: str, **values: object) -> str:
        """Translate a user-visible string."""
        return self._s.catalogue.tr(text, **values)

    # ---- lifecycle (used by the loader) --------------------------------------------
    def teardown(self) -> None:
        """Undo every registration, newest first; a failing undo does not stop the rest."""
        while self._handles:
            handle = self._handles.pop()
            try:
                handle.remove()
            except Exception:
                log.exception("plugin %s: removing %r failed", self.manifest.id, handle)

    def registrations(self) -> list[Registration]:
        return list(self._handles)

    def _keep(self, handle: Registration) -> Registration:
        self._handles.append(handle)
        return handle
