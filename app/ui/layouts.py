"""Applying a :class:`~app.views.layouts.Layout` to a QMainWindow, and the user's own arrangement.

:func:`apply_layout` moves every registered dock where the layout wants it (tab groups, fronts,
hidden docks, corners, bar visibility) and sizes the areas. :class:`SavedArrangements` keeps
what a user made of the window, per user and mode, in QSettings. :class:`WindowLayouts` ties
both to one window: it places docks that register later (plugins), restores the user's
arrangement at start, saves it on close and resets to the built-in layout on request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from qtpy.QtCore import QByteArray, QRect, QSettings, Qt
from qtpy.QtWidgets import QApplication, QDockWidget, QMainWindow, QToolBar, QWidget

from app.domain.messages import Msg
from app.ui.docks import AREAS, DockRegistry
from app.views.layouts import SIDES, Layout, Plan, clamp_rect, screen_bucket

log = logging.getLogger(__name__)

ORIENTATIONS = {"vertical": Qt.Orientation.Vertical, "horizontal": Qt.Orientation.Horizontal}
CORNER_ENUMS = {
    "top_left": Qt.Corner.TopLeftCorner,
    "top_right": Qt.Corner.TopRightCorner,
    "bottom_left": Qt.Corner.BottomLeftCorner,
    "bottom_right": Qt.Corner.BottomRightCorner,
}
#: Version passed to saveState/restoreState: bump when saved arrangements must be dropped.
SAVED_VERSION = 2
_NO_TITLE = "gridhallNoTitleBar"


#: QSettings key of 视图 → 允许面板浮动 (off: a careless drag cannot tear a dock off the window).
FLOATABLE_KEY = "layouts/floatable"
_MOVABLE = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable


def set_floatable(dock: QDockWidget, allowed: bool) -> None:
    """Let ``dock`` float (be dragged off the window) or not; a floating one docks back when not."""
    features = _MOVABLE | (QDockWidget.DockWidgetFeature.DockWidgetFloatable if allowed
                           else QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
    dock.setFeatures(features)
    if not allowed and dock.isFloating():
        dock.setFloating(False)


def screen_of(window: QWidget) -> tuple[tuple[int, int], QRect]:
    """The size in device pixels and the usable area (logical) of the screen ``window`` is on."""
    handle = window.windowHandle()
    screen = (handle.screen() if handle is not None else None) or QApplication.screenAt(
        window.geometry().center()) or QApplication.primaryScreen()
    ratio = screen.devicePixelRatio()
    size = screen.geometry().size()
    return (round(size.width() * ratio), round(size.height() * ratio)), screen.availableGeometry()


def clamp_to_screen(window: QWidget, available: QRect) -> bool:
    """Move and shrink ``window`` into ``available``; True if it had to (it hung off the screen)."""
    frame, inner = window.frameGeometry(), window.geometry()
    extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
    rect = (frame.x(), frame.y(), frame.width(), frame.height())
    x, y, w, h = clamp_rect(rect, (available.x(), available.y(), available.width(), available.height()))
    if (x, y, w, h) == rect:
        return False
    if window.isMaximized() or window.isFullScreen():
        return False  # the window manager fits those
    window.resize(w - extra_w, h - extra_h)
    window.move(x, y)
    return True


def _across(area: str) -> Qt.Orientation:
    """The direction of an area's own size: width for the side columns, height for top/bottom."""
    return Qt.Orientation.Horizontal if area in ("left", "right") else Qt.Orientation.Vertical


def apply_layout(window: QMainWindow, registry: DockRegistry, layout: Layout, *, sizes: bool = True) -> Plan:
    """Arrange every dock of ``registry`` in ``window`` as ``layout`` says; returns the plan used.

    Docks are taken out and put back group by group, so the result does not depend on where
    they were. ``sizes`` False leaves the sizes to a later :func:`apply_sizes` (once the window
    has its final size).
    """
    plan = layout.plan(registry.areas())
    docks = {dock_id: registry.dock(dock_id) for dock_id in registry.ids()}
    for name, enum in CORNER_ENUMS.items():
        window.setCorner(enum, AREAS[layout.corner(name)])
    for dock_id, dock in docks.items():
        dock.setFloating(False)
        window.removeDockWidget(dock)
        # visible before it is put back: shown after the tabs are made, a dock would take the
        # front of its tab group once the window appears
        dock.setVisible(dock_id not in plan.hidden)
    for area in SIDES:
        orientation = ORIENTATIONS[layout.split(area)]
        for group in plan.in_area(area):
            first = docks[group.docks[0]]
            window.addDockWidget(AREAS[area], first, orientation)
            for other in group.docks[1:]:
                window.tabifyDockWidget(first, docks[other])
            for dock_id in group.docks:
                set_titlebar(docks[dock_id], group.titlebar)
    for group in plan.groups:
        if group.front not in plan.hidden:
            docks[group.front].raise_()
    window.menuBar().setVisible(layout.menubar)
    window.statusBar().setVisible(layout.statusbar)
    for toolbar in window.findChildren(QToolBar):
        toolbar.setVisible(layout.toolbars)
    if sizes:
        apply_sizes(window, registry, layout, plan)
    return plan


def apply_sizes(window: QMainWindow, registry: DockRegistry, layout: Layout, plan: Plan | None = None) -> None:
    """Size the areas (percent of the window or pixels) and the groups along each area's split."""
    plan = plan or layout.plan(registry.areas())
    for area in SIDES:
        groups = [g for g in plan.in_area(area) if plan.shown(g)]
        if not groups:
            continue
        fronts = [registry.dock(g.front) for g in groups]
        across = _across(area)
        whole = window.width() if across == Qt.Orientation.Horizontal else window.height()
        size = layout.area_sizes.get(area)
        along = ORIENTATIONS[layout.split(area)]
        if along == across:  # groups side by side across the area: share the area's size
            length = size.pixels(whole) if size else sum(_extent(d, across) for d in fronts)
            window.resizeDocks(fronts, _shares(groups, length), across)
            continue
        if size is not None:
            window.resizeDocks(fronts[:1], [size.pixels(whole)], across)
        if len(groups) > 1 and any(g.size for g in groups):
            length = sum(_extent(d, along) for d in fronts) or (
                window.height() if along == Qt.Orientation.Vertical else window.width())
            window.resizeDocks(fronts, _shares(groups, length), along)


def set_titlebar(dock: QDockWidget, shown: bool) -> None:
    """Show the dock's own title bar, or replace it by an empty one (no caption, no buttons)."""
    current = dock.titleBarWidget()
    if not shown and current is None:
        dock.setTitleBarWidget(QWidget(objectName=_NO_TITLE))
    elif shown and current is not None and current.objectName() == _NO_TITLE:
        dock.setTitleBarWidget(None)
        current.deleteLater()


def _extent(dock: QDockWidget, orientation: Qt.Orientation) -> int:
    return dock.width() if orientation == Qt.Orientation.Horizontal else dock.height()


def _shares(groups, length: int) -> list[int]:
    """Pixel lengths of ``groups`` out of ``length``: sized ones as asked, the rest share equally.

    Qt scales them together to what the area really has, so they act as proportions.
    """
    asked = [g.size.pixels(length) if g.size else None for g in groups]
    free = [i for i, px in enumerate(asked) if px is None]
    rest = max(length - sum(px for px in asked if px is not None), len(free) * 50)
    return [max(1, px if px is not None else rest // len(free)) for px in asked]


def place_dock(window: QMainWindow, registry: DockRegistry, layout: Layout, dock_id: str) -> None:
    """Put one dock (registered after the layout was applied) where ``layout`` wants it.

    It joins a registered dock of its group as a tab, or opens its group after the groups
    that precede it in its area; hidden when the layout hides it, in front when it is the front.
    """
    plan = layout.plan(registry.areas())
    group = plan.group_of(dock_id)
    if group is None:
        return
    dock = registry.dock(dock_id)
    set_titlebar(dock, group.titlebar)
    dock.setVisible(dock_id not in plan.hidden)
    mates = [registry.dock(d) for d in group.docks if d != dock_id and not registry.dock(d).isFloating()]
    shown_mates = [m for m in mates if not m.isHidden()]
    if mates:
        window.tabifyDockWidget((shown_mates or mates)[0], dock)
    else:
        orientation = ORIENTATIONS[layout.split(group.area)]
        area_groups = plan.in_area(group.area)
        before = area_groups[:area_groups.index(group)]
        anchor = next((registry.dock(g.docks[0]) for g in reversed(before)
                       if not registry.dock(g.docks[0]).isFloating()), None)
        window.removeDockWidget(dock)
        if anchor is not None and window.dockWidgetArea(anchor) == AREAS[group.area]:
            window.splitDockWidget(anchor, dock, orientation)
        else:
            window.addDockWidget(AREAS[group.area], dock, orientation)
        dock.setVisible(dock_id not in plan.hidden)  # removeDockWidget hid it
    if group.front not in plan.hidden:  # a new tab comes to the front: give it back
        registry.dock(group.front).raise_()


class SavedArrangements:
    """The user's own window arrangement per user, mode and screen size
    (QSettings group ``layouts/<user>/<mode>/<screen>``, screen e.g. ``1920x1080``).

    Holds the window geometry, Qt's dock state (versioned by :data:`SAVED_VERSION`) and the
    ids of the docks it covered, so docks that are new since are placed by the layout instead
    of being left closed by ``restoreState``.
    """

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    @staticmethod
    def group(user: str | None, mode: str, screen: str | None = None) -> str:
        """The settings group of ``user`` (None: not logged in) in ``mode`` on ``screen`` (a
        :func:`~app.views.layouts.screen_bucket`; None: the whole mode)."""
        group = f"layouts/{_key(user or '_anonymous')}/{_key(mode)}"
        return f"{group}/{_key(screen)}" if screen else group

    def save(self, window: QMainWindow, user: str | None, mode: str, dock_ids: Iterable[str],
             screen: str | None = None) -> None:
        """Remember ``window``'s geometry and dock arrangement (for ``screen``)."""
        s = self.settings
        s.remove("window")  # the single, user-less layout of older versions
        s.beginGroup(self.group(user, mode, screen))
        try:
            s.setValue("geometry", window.saveGeometry())
            s.setValue("state", window.saveState(SAVED_VERSION))
            s.setValue("version", SAVED_VERSION)
            s.setValue("docks", ",".join(dock_ids))
        finally:
            s.endGroup()
        s.sync()

    def restore(self, window: QMainWindow, user: str | None, mode: str,
                screen: str | None = None) -> list[str] | None:
        """Restore what was saved; returns the dock ids it covered, or None (nothing usable).

        A missing, older or damaged entry is ignored (logged), never an error: start-up goes on
        with the built-in layout.
        """
        s = self.settings
        s.beginGroup(self.group(user, mode, screen))
        try:
            version, state, geometry, docks = (s.value(k) for k in ("version", "state", "geometry", "docks"))
        finally:
            s.endGroup()
        if state is None:
            return None
        try:
            if int(version) != SAVED_VERSION:
                raise ValueError(f"saved by layout version {version}")
            state, geometry = _bytes(state), _bytes(geometry) if geometry is not None else None
        except (TypeError, ValueError) as exc:
            log.warning("ignoring the saved window layout of %s/%s: %s", user, mode, exc)
            return None
        if not window.restoreState(state, SAVED_VERSION):
            log.warning("ignoring the saved window layout of %s/%s: Qt could not read it", user, mode)
            return None
        if geometry is not None:
            window.restoreGeometry(geometry)
        text = docks if isinstance(docks, str) else ",".join(docks or [])
        return [d for d in text.split(",") if d]

    def forget(self, user: str | None, mode: str, screen: str | None = None) -> None:
        """Drop the saved arrangement of ``user`` in ``mode`` (on ``screen``; None: on every screen)."""
        self.settings.remove(self.group(user, mode, screen))
        self.settings.sync()


def _key(text: str) -> str:
    """``text`` safe as one QSettings key segment (no slashes, no backslashes, ASCII)."""
    return re.sub(r"[^A-Za-z0-9_.\-]", lambda m: f"%{ord(m.group()):04X}", text) or "_"


def _bytes(value) -> QByteArray:
    if isinstance(value, QByteArray):
        return value
    if isinstance(value, (bytes, bytearray)):
        return QByteArray(bytes(value))
    raise TypeError(f"not a saved Qt state but {type(value).__name__}")


class WindowLayouts:
    """One window's layout: the built-in (or given) one, the user's saved one, late docks.

    ``remember`` False (a ``--layout`` file, screenshots) neither restores nor saves the
    user's arrangement. ``problems`` are shown in the status bar once the window is up.
    ``screen`` gives the screen's size in device pixels and usable area (default: asked of Qt
    for the window's screen); arrangements are kept per screen size and a restored window is
    kept inside the usable area. Docks do not float unless 允许面板浮动 is on (kept in settings).
    """

    def __init__(self, window: QMainWindow, registry: DockRegistry, layout: Layout, settings: QSettings,
                 *, user: str | None = None, mode: str = "desk", remember: bool = True,
                 problems: Iterable[Msg] = (), screen=None) -> None:
        self.window, self.registry, self.layout = window, registry, layout
        self.user, self.mode, self.remember = user, mode, remember
        self.saved = SavedArrangements(settings)
        self.settings = settings
        self.problems = list(problems)
        self.restored = False
        self.screen = screen or (lambda: screen_of(window))
        self.floatable = _flag(settings.value(FLOATABLE_KEY, False))
        self._disconnect = registry.registered.connect(self._registered)

    def apply(self, sizes: bool = True) -> Plan:
        """Arrange the window as the layout says (sizes too unless ``sizes`` is False)."""
        self.restored = False
        plan = apply_layout(self.window, self.registry, self.layout, sizes=sizes)
        self._set_floatable()
        return plan

    def apply_sizes(self) -> None:
        """Size the areas and groups for the window's current size."""
        apply_sizes(self.window, self.registry, self.layout)

    def start(self, restore: bool = True) -> bool:
        """Once the window has its size: the user's saved arrangement, or the layout's sizes.

        Returns True when the saved arrangement was restored. Docks it does not cover (new
        since it was saved) are placed by the layout.
        """
        covered = (self.saved.restore(self.window, self.user, self.mode, self.bucket())
                   if restore and self.remember else None)
        if covered is None:
            self.apply_sizes()
            return False
        self.restored = True
        self.keep_on_screen()
        for dock_id in self.registry.ids():
            if dock_id not in covered:
                place_dock(self.window, self.registry, self.layout, dock_id)
        self._set_floatable()
        return True

    def bucket(self) -> str:
        """The screen-size key of the window's screen ("1920x1080")."""
        return screen_bucket(*self.screen()[0])

    def keep_on_screen(self) -> bool:
        """Move and shrink the window into its screen's usable area (True if it was off it)."""
        return clamp_to_screen(self.window, self.screen()[1])

    def reset(self) -> None:
        """Back to the layout as built in (视图 → 重置布局), sized for the window on this screen;
        the next save keeps it."""
        self.keep_on_screen()
        self.apply()

    def set_floatable(self, allowed: bool) -> None:
        """视图 → 允许面板浮动: let docks be dragged off the window (kept for the next start)."""
        self.floatable = bool(allowed)
        self.settings.setValue(FLOATABLE_KEY, self.floatable)
        self._set_floatable()

    def _set_floatable(self) -> None:
        for dock_id in self.registry.ids():
            set_floatable(self.registry.dock(dock_id), self.floatable)

    def save(self) -> None:
        """Remember the user's arrangement for this screen size (on close)."""
        if self.remember:
            self.saved.save(self.window, self.user, self.mode, self.registry.ids(), self.bucket())

    def close(self) -> None:
        """Stop following the dock registry."""
        self._disconnect()

    def _registered(self, dock_id: str) -> None:
        set_floatable(self.registry.dock(dock_id), self.floatable)
        if self.restored and self.registry.restored(dock_id):
            return  # the user's saved arrangement knows this dock: Qt put it back
        place_dock(self.window, self.registry, self.layout, dock_id)


def _flag(value) -> bool:
    """A QSettings boolean (INI files give back the text "true"/"false")."""
    return value.lower() == "true" if isinstance(value, str) else bool(value)
