"""A plugin's case commands, declared once for the GUI and the command line (Qt-free).

A plugin's ``MANIFEST.toml`` may name a command hook, ``commands = "plugins.<id>.commands:register"``:
a function of a module of the plugin's own package that imports no Qt (the package's
``__init__`` must not either). It receives the :class:`~app.commands.CommandRegistry`, registers
its commands there and returns their handles. The GUI's PluginManager calls it when it enables
the plugin (the handles go when the plugin is disabled); ``gridhall case`` calls it before it
builds its verbs (:func:`load_plugin_commands`), so the plugin's command is a verb too.

This module imports neither Qt nor the GUI's plugin API: the command line imports it.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from app.commands import CommandRegistry
from app.plugin.manifest import Manifest, ManifestError, read_manifest
from app.views.handles import Registration

log = logging.getLogger(__name__)

#: ``hook(registry)`` → the handles of what it registered (one handle, several, or None).
CommandHook = Callable[[CommandRegistry], Any]


class HookError(RuntimeError):
    """A plugin's command hook cannot be found or called; the message says what to fix."""


def resolve_hook(spec: str, package: str) -> CommandHook:
    """The function ``spec`` ("module.path:function") names, imported; it must lie in ``package``
    (the plugin's own, e.g. ``plugins.duban_today``). HookError, or the import's own error."""
    module_name, _, attr = spec.partition(":")
    if module_name != package and not module_name.startswith(package + "."):
        raise HookError(f"commands hook '{spec}' must be a module of the plugin's own package '{package}'")
    try:
        module = importlib.import_module(module_name)
    except Exception:
        sys.modules.pop(module_name, None)  # a half-imported module must not linger
        raise
    hook = getattr(module, attr, None)
    if not callable(hook):
        raise HookError(f"commands hook '{spec}': module {module_name} has no function {attr}(registry)")
    return hook


def register_commands(hook: CommandHook, registry: CommandRegistry) -> list[Registration]:
    """Call ``hook(registry)``; the handles of every command it registered.

    Commands it registered without returning their handle are covered too (each gets a handle
    that unregisters it). If the hook raises or returns something else than handles, whatever
    it registered is removed again and the error propagates: a plugin's commands come all or none.
    """
    added: list[str] = []
    disconnect = registry.added.connect(lambda command: added.append(command.id))
    try:
        returned = hook(registry)
        handles = _handles(returned)
    except Exception:
        for command_id in added:
            registry.unregister(command_id)
        raise
    finally:
        disconnect()
    covered = {h.id for h in handles if h.kind == "command"}
    handles += [Registration("command", cid, partial(registry.unregister, cid)) for cid in added if cid not in covered]
    return handles


def _handles(returned: object) -> list[Registration]:
    if returned is None:
        return []
    if isinstance(returned, Registration):
        return [returned]
    if isinstance(returned, Iterable) and not isinstance(returned, (str, bytes)):
        items = list(returned)
        if all(isinstance(h, Registration) for h in items):
            return items
    raise HookError(f"a commands hook returns the registration handles (or None), not {returned!r}")


@dataclass
class PluginCommands:
    """What :func:`load_plugin_commands` did: handles per plugin id, one line per skipped plugin."""

    handles: dict[str, list[Registration]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (plugin id, why it was skipped)

    @property
    def commands(self) -> list[str]:
        """The ids of the commands the plugins registered."""
        return [h.id for hs in self.handles.values() for h in hs if h.kind == "command"]

    def remove(self) -> None:
        """Unregister every plugin command again (newest first)."""
        for hs in reversed(list(self.handles.values())):
            for h in reversed(hs):
                h.remove()
        self.handles.clear()


def plugin_folders(directory: Path) -> list[Path]:
    """The plugin folders of ``directory`` as the PluginManager finds them (sorted by name)."""
    if not directory.is_dir():
        return []
    return [f for f in sorted(directory.iterdir())
            if f.is_dir() and not f.name.startswith(("_", "."))
            and ((f / "MANIFEST.toml").exists() or (f / "__init__.py").exists())]


def load_plugin_commands(directory: Path, package: str, registry: CommandRegistry,
                         skip: Iterable[str] = ()) -> PluginCommands:
    """Register the commands of every plugin in ``directory`` (imported as ``<package>.<folder>``)
    that declares a hook, except ``skip``. A plugin whose manifest or hook fails is skipped with
    one line in ``failures``; it never stops the others."""
    done = PluginCommands()
    skipped = set(skip)
    for folder in plugin_folders(Path(directory)):
        try:
            manifest = read_manifest(folder)
        except ManifestError as exc:
            done.failures.append((folder.name, str(exc)))
            continue
        if not manifest.commands or manifest.id in skipped:
            continue
        try:
            done.handles[manifest.id] = plugin_commands(manifest, package, registry)
        except Exception as exc:
            done.failures.append((manifest.id, describe_failure(exc)))
            log.debug("plugin %s: commands hook failed", manifest.id, exc_info=True)
    return done


def plugin_commands(manifest: Manifest, package: str, registry: CommandRegistry) -> list[Registration]:
    """Resolve and call ``manifest``'s command hook (the plugin package is ``<package>.<id>``)."""
    hook = resolve_hook(manifest.commands, f"{package}.{manifest.id}")
    return register_commands(hook, registry)


def describe_failure(exc: BaseException) -> str:
    """One line: the error's type and message (HookError's message alone)."""
    if isinstance(exc, HookError):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def snapshot(registry: CommandRegistry) -> CommandRegistry:
    """A new registry holding ``registry``'s commands (plugins' hooks then add to the copy only)."""
    copy = CommandRegistry()
    for command in registry:
        copy.register(command)
    return copy


__all__ = ["CommandHook", "HookError", "PluginCommands", "describe_failure", "load_plugin_commands",
           "plugin_commands", "plugin_folders", "register_commands", "resolve_hook", "snapshot"]

