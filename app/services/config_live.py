"""A saved configuration change reaches a running workstation or wall within seconds (issue 12, item 3).

``ConfigWatch`` starts the configuration feed (app.store.config_feed: LISTEN gridhall_config on
PostGIS, polling on SpatiaLite). On a new version it reloads, on the feed's thread, what the
headless core holds (the working calendar in place, the time limits: ``refresh``) and reads the
stored settings the desk shows (the alert rules' override) and the categories switched off; then it hands one closure to
``deliver`` (the GUI thread's) that calls every subscriber with a :class:`ConfigUpdate`, so the
desk's views (calendar warning, alert banner, queue lights and deadlines, the administrator's
pages) reload without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.store.config_feed import config_feed
from app.store.engine import Store

log = logging.getLogger(__name__)

Deliver = Callable[[Callable[[], None]], None]


@dataclass(frozen=True)
class ConfigUpdate:
    """What a saved change brought: the version and the stored settings' overrides (name → value)."""

    version: int
    settings: dict[str, Any] = field(default_factory=dict)
    first: bool = False  # the version read at the start (nothing changed yet)
    #: ``kind:code`` of the categories the city does not use (not offered at intake).
    disabled_categories: frozenset[str] = frozenset()


def disabled_categories(store: Store) -> frozenset[str]:
    """``kind:code`` of every category the administrator switched off."""
    from app.services.config import ConfigService

    return frozenset(f"{c['kind']}:{c['code']}" for c in ConfigService(store).categories() if not c["enabled"])


def read_settings(store: Store) -> dict[str, Any]:
    """The stored whole settings (``alerts``, ``evaluation``, ``component_routing``) by name."""
    from app.services.config import SETTINGS, stored_setting

    out = {}
    for name in SETTINGS:
        value = stored_setting(store, name)
        if value is not None:
            out[name] = value
    return out


class ConfigWatch:
    """Follows ``store``'s configuration; ``subscribe(fn)`` (fn(ConfigUpdate) on ``deliver``'s thread)."""

    def __init__(self, store: Store, deliver: Deliver, *, refresh: Callable[[], object] | None = None,
                 feed: Any = None) -> None:
        self.store = store
        self.deliver = deliver
        self.refresh = refresh
        self.feed = feed if feed is not None else config_feed(store)
        self.feed.on_version = self._version
        self.subscribers: list[Callable[[ConfigUpdate], None]] = []
        self.last: ConfigUpdate | None = None
        self._lock = threading.Lock()
        self._count = 0

    def subscribe(self, fn: Callable[[ConfigUpdate], None]) -> Callable[[], None]:
        """Call ``fn`` on every change (and at once with the last update, if there is one)."""
        self.subscribers.append(fn)
        if self.last is not None:
            fn(self.last)
        return lambda: self.subscribers.remove(fn) if fn in self.subscribers else None

    def start(self) -> None:
        self.feed.start()

    def close(self) -> None:
        self.feed.stop()
        self.subscribers.clear()

    def _version(self, version: int) -> None:  # the feed's thread
        with self._lock:
            first = self._count == 0
            self._count += 1
        if self.refresh is not None and not first:
            try:
                self.refresh()
            except Exception:  # a failed reload must not stop the feed; the next change tries again
                log.exception("reloading the configuration failed")
        try:
            settings, disabled = read_settings(self.store), disabled_categories(self.store)
        except Exception:  # noqa: BLE001 - the store went away: the feed reconnects and reads again
            log.info("reading the stored settings failed", exc_info=True)
            settings, disabled = {}, frozenset()
        update = ConfigUpdate(version, settings, first, disabled)
        self.deliver(lambda: self._publish(update))

    def _publish(self, update: ConfigUpdate) -> None:  # deliver's thread (the GUI's)
        self.last = update
        for fn in list(self.subscribers):
            try:
                fn(update)
            except Exception:
                log.exception("a configuration subscriber failed")


__all__ = ["ConfigUpdate", "ConfigWatch", "disabled_categories", "read_settings"]
