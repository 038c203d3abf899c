"""Dock registry: built-in panels and plugin panels declare themselves the same way."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from app.i18n import Catalogue
from app.views.events import Signal
from app.views.handles import Registration

log = logging.getLogger(__name__)

AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}


class DockError(ValueError):
    """A dock cannot be registered (bad spec, duplicate id, missing requirement)."""


@dataclass(frozen=True)
class DockSpec:
    """A panel: ``factory()`` builds its widget; ``requires`` names capabilities it needs.

    If the widget has a ``teardown()`` method it is called when the dock is unregistered,
    as is ``teardown`` here (for whatever the factory connected outside the widget).
    """

    id: str
    title: str  # Chinese source text; translated by the catalogue
    area: str
    factory: Callable[[], QWidget]
    requires: tuple[str, ...] = ()
    teardown: Callable[[], None] | None = None


class DockRegistry:
    """Adds docks to a main window and removes them with their teardown.

    ``registered`` is emitted with the dock id once a dock is in the window (at its spec's
    area), so the window's layout can move it where the layout wants it (``app.ui.layouts``).
    """

    def __init__(
        self,
        window: QMainWindow,
        capabilities: Iterable[str] = (),
        catalogue: Catalogue | None = None,
        panels_menu: QMenu | None = None,
    ) -> None:
        self._window = window
        self._capabilities = set(capabilities)
        self._cat = catalogue or Catalogue()
        self._menu = panels_menu
        self._docks: dict[str, tuple[DockSpec, QDockWidget]] = {}
        self._restored: set[str] = set()
        self.registered = Signal("registered")

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self._capabilities)

    def ids(self) -> list[str]:
        return list(self._docks)

    def dock(self, dock_id: str) -> QDockWidget:
        """The QDockWidget of ``dock_id``; KeyError naming the registered ids otherwise."""
        try:
            return self._docks[dock_id][1]
        except KeyError:
            raise KeyError(f"no dock '{dock_id}'; registered: {', '.join(self._docks)}") from None

    def spec(self, dock_id: str) -> DockSpec:
        """The spec ``dock_id`` was registered with."""
        self.dock(dock_id)  # the KeyError naming the registered ids
        return self._docks[dock_id][0]

    def areas(self) -> dict[str, str]:
        """Each registered dock's own area, in registration order (what a layout plans over)."""
        return {dock_id: spec.area for dock_id, (spec, _dock) in self._docks.items()}

    def restored(self, dock_id: str) -> bool:
        """Whether ``dock_id`` was put back where the window's restored state had it."""
        return dock_id in self._restored

    def widget(self, dock_id: str) -> QWidget:
        """The content widget of ``dock_id``."""
        return self.dock(dock_id).widget()

    def register(self, spec: DockSpec) -> Registration:
        """Build the dock's widget and add it to the window; DockError explains a refusal."""
        if spec.id in self._docks:
            raise DockError(f"dock id '{spec.id}' is already registered; choose a unique id")
        if spec.area not in AREAS:
            raise DockError(f"dock '{spec.id}': area '{spec.area}' is not one of {', '.join(AREAS)}")
        missing = [r for r in spec.requires if r not in self._capabilities]
        if missing:
            raise DockError(
                f"dock '{spec.id}' requires {', '.join(missing)}, which this window does not provide "
                f"(available: {', '.join(sorted(self._capabilities)) or 'none'})"
            )
        widget = spec.factory()
        dock = QDockWidget(self._cat.tr(spec.title), self._window)
        dock.setObjectName(spec.id)  # saveState/restoreState key
        dock.setWidget(widget)
        # a dock the window's restored state knows (a plugin enabled again) goes back to its place
        if self._window.restoreDockWidget(dock):
            self._restored.add(spec.id)
        else:
            self._window.addDockWidget(AREAS[spec.area], dock)
        if self._menu is not None:
            self._menu.addAction(dock.toggleViewAction())
        self._docks[spec.id] = (spec, dock)
        self.registered.emit(spec.id)
        return Registration("dock", spec.id, lambda: self.unregister(spec.id))

    def unregister(self, dock_id: str) -> None:
        """Tear down and remove the dock (unknown ids are ignored: teardown may run twice)."""
        entry = self._docks.pop(dock_id, None)
        if entry is None:
            return
        spec, dock = entry
        self._restored.discard(dock_id)
        widget = dock.widget()
        for teardown in (getattr(widget, "teardown", None), spec.teardown):
            if teardown is not None:
                try:
                    teardown()
                except Exception:
                    log.exception("teardown of dock %s failed", dock_id)
        if self._menu is not None:
            self._menu.removeAction(dock.toggleViewAction())
        self._window.removeDockWidget(dock)
        dock.setParent(None)
        dock.deleteLater()

    def unregister_all(self) -> None:
        """Remove every dock, newest first (on shutdown)."""
        for dock_id in reversed(list(self._docks)):
            self.unregister(dock_id)
