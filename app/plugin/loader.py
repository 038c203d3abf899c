"""Plugin discovery and lifecycle: discovered → validated → loaded → enabled (or failed / disabled)."""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import ModuleType

from app.plugin.api import AppServices, PluginApi
from app.plugin.hooks import resolve_hook
from app.plugin.manifest import Manifest, ManifestError, read_manifest

log = logging.getLogger(__name__)


class PluginState(StrEnum):
    """Where a plugin stands in its lifecycle."""

    DISCOVERED = "discovered"
    VALIDATED = "validated"
    LOADED = "loaded"
    ENABLED = "enabled"
    DISABLED = "disabled"
    FAILED = "failed"


_ALLOWED = {
    PluginState.DISCOVERED: {PluginState.VALIDATED, PluginState.FAILED},
    PluginState.VALIDATED: {PluginState.LOADED, PluginState.FAILED},
    PluginState.LOADED: {PluginState.ENABLED, PluginState.DISABLED, PluginState.FAILED},
    PluginState.ENABLED: {PluginState.DISABLED, PluginState.FAILED},
    PluginState.DISABLED: {PluginState.ENABLED, PluginState.FAILED},
    PluginState.FAILED: set(),
}


class PluginStateError(RuntimeError):
    """An operation was asked of a plugin in a state that does not allow it."""


@dataclass(frozen=True)
class PluginStatus:
    """One line of :meth:`PluginManager.report`."""

    id: str
    name: str
    version: str
    state: str
    error: str


class PluginRecord:
    """One plugin folder and its state machine."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state = PluginState.DISCOVERED
        self.manifest: Manifest | None = None
        self.module: ModuleType | None = None
        self.api: PluginApi | None = None
        self.error = ""
        self.details = ""  # traceback of the failure, for logs and bug reports

    @property
    def id(self) -> str:
        return self.manifest.id if self.manifest else self.folder.name

    def move(self, to: PluginState) -> None:
        if to not in _ALLOWED[self.state]:
            raise PluginStateError(f"plugin '{self.id}' cannot go from {self.state.value} to {to.value}")
        self.state = to

    def fail(self, stage: str, exc: BaseException) -> None:
        self.error = f"{stage}: {type(exc).__name__}: {exc}" if not isinstance(exc, ManifestError) else str(exc)
        self.details = "".join(traceback.format_exception(exc))
        self.state = PluginState.FAILED
        log.warning("plugin %s failed and is skipped — %s", self.id, self.error)
        log.debug("%s", self.details)


class PluginManager:
    """Finds ``<directory>/<name>/MANIFEST.toml``, imports ``<package>.<name>``, calls ``enable(api)``
    (and first the manifest's ``commands`` hook with the command registry, if it names one).

    A broken plugin is marked failed with its reason and skipped; it never stops the others.
    """

    def __init__(
        self,
        directory: Path,
        package: str,
        services: AppServices,
        api_factory: Callable[[Manifest, AppServices], PluginApi] = PluginApi,
    ) -> None:
        self.directory = Path(directory)
        self.package = package
        self.services = services
        self._api_factory = api_factory
        self._records: dict[str, PluginRecord] = {}

    # ---- lifecycle -----------------------------------------------------------------
    def discover(self) -> list[PluginRecord]:
        """Find plugin folders (those with a manifest or an ``__init__.py``), sorted by name."""
        if not self.directory.is_dir():
            log.info("no plugin directory %s", self.directory)
            return []
        for folder in sorted(self.directory.iterdir()):
            if not folder.is_dir() or folder.name.startswith(("_", ".")):
                continue
            if not ((folder / "MANIFEST.toml").exists() or (folder / "__init__.py").exists()):
                continue
            self._records.setdefault(folder.name, PluginRecord(folder))
        return list(self._records.values())

    def validate(self, record: PluginRecord) -> bool:
        try:
            record.manifest = read_manifest(record.folder)
        except ManifestError as exc:
            record.fail("manifest", exc)
            return False
        record.move(PluginState.VALIDATED)
        return True

    def load(self, record: PluginRecord) -> bool:
        name = f"{self.package}.{record.folder.name}"
        try:
            module = importlib.import_module(name)
            commands_only = record.manifest is not None and bool(record.manifest.commands)
            if not callable(getattr(module, "enable", None)) and not commands_only:
                raise AttributeError(f"module {name} has no enable(api) function (nor a commands hook)")
        except Exception as exc:
            sys.modules.pop(name, None)  # a half-imported module must not linger
            record.fail("import", exc)
            return False
        record.module = module
        record.move(PluginState.LOADED)
        return True

    def enable(self, plugin_id: str) -> bool:
        """Enable a loaded or disabled plugin; False (and state failed) if ``enable`` raises."""
        record = self.record(plugin_id)
        if record.state not in (PluginState.LOADED, PluginState.DISABLED):
            raise PluginStateError(f"plugin '{plugin_id}' is {record.state.value}; only a loaded or "
                                   "disabled plugin can be enabled")
        assert record.manifest is not None and record.module is not None
        api = self._api_factory(record.manifest, self.services)
        try:
            if record.manifest.commands:  # the Qt-free hook `gridhall case` calls too (app.plugin.hooks)
                api.register_command_hook(resolve_hook(record.manifest.commands, f"{self.package}.{record.folder.name}"))
            enable = getattr(record.module, "enable", None)
            if callable(enable):
                enable(api)
        except Exception as exc:
            api.teardown()  # undo whatever it registered before raising
            record.fail("enable", exc)
            return False
        record.api = api
        record.move(PluginState.ENABLED)
        log.info("plugin %s %s enabled", record.id, record.manifest.version)
        return True

    def disable(self, plugin_id: str) -> None:
        """Call the plugin's ``disable()`` (if any) and remove everything it registered."""
        record = self.record(plugin_id)
        if record.state is not PluginState.ENABLED:
            raise PluginStateError(f"plugin '{plugin_id}' is {record.state.value}, not enabled")
        hook = getattr(record.module, "disable", None)
        try:
            if callable(hook):
                hook()
        except Exception:
            log.exception("plugin %s: disable() raised; its registrations are removed anyway", plugin_id)
        finally:
            if record.api is not None:
                record.api.teardown()
            record.api = None
        record.move(PluginState.DISABLED)

    def start(self, skip: Iterable[str] = ()) -> list[PluginStatus]:
        """Discover, validate, load and enable every plugin except ``skip``; returns the report."""
        skip = set(skip)
        for record in self.discover():
            if record.state is not PluginState.DISCOVERED:
                continue
            if self.validate(record) and self.load(record) and record.id not in skip:
                self.enable(record.id)
        return self.report()

    def shutdown(self) -> None:
        """Disable every enabled plugin, newest first."""
        for record in reversed(list(self._records.values())):
            if record.state is PluginState.ENABLED:
                self.disable(record.id)

    # ---- reading -------------------------------------------------------------------
    def record(self, plugin_id: str) -> PluginRecord:
        """The record of ``plugin_id`` (its manifest id or folder name)."""
        for record in self._records.values():
            if plugin_id in (record.id, record.folder.name):
                return record
        raise KeyError(f"no plugin '{plugin_id}'; known: {', '.join(r.id for r in self._records.values())}")

    def report(self) -> list[PluginStatus]:
        """Id, name, version, state and error of every discovered plugin."""
        rows = []
        for r in self._records.values():
            m = r.manifest
            rows.append(PluginStatus(r.id, m.name if m else r.folder.name, m.version if m else "",
                                     r.state.value, r.error))
        return rows
