"""Extension points that are not widgets: map layers and report sections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.views.events import Signal
from app.views.handles import Registration


@dataclass(frozen=True)
class MapLayerEntry:
    """A layer the GIS adds to the map; ``factory()`` returns the layer (opaque here)."""

    name: str
    factory: Callable[[], object]


@dataclass(frozen=True)
class ReportSection:
    """A section of the printed/PDF report; ``render(context)`` returns its content."""

    id: str
    title: str
    render: Callable[..., object]


T = TypeVar("T")


class NamedRegistry(Generic[T]):
    """Entries by key; consumers follow ``added(entry)`` / ``removed(entry)``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self.added = Signal(f"{kind}.added")
        self.removed = Signal(f"{kind}.removed")

    def register(self, key: str, entry: T) -> Registration:
        """Add ``entry`` under ``key``; ValueError if the key is taken."""
        if key in self._entries:
            raise ValueError(f"{self.kind} '{key}' is already registered; choose a unique name")
        self._entries[key] = entry
        self.added.emit(entry)
        return Registration(self.kind, key, lambda: self.unregister(key))

    def unregister(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.removed.emit(entry)

    def entries(self) -> list[T]:
        return list(self._entries.values())

    def __contains__(self, key: object) -> bool:
        return key in self._entries
