"""The video wall's composition root: ``gridhall wall`` (docs/wall.md).

Built on a read-only store (``app.store.wall.open_wall_store``), never on the desk: no command
registry, no forms, no docks — nothing on the wall can edit a case. ``Wall`` wires

* the open cases into a ``QueueState`` (lights tick by the working-time clock every second, no
  store read per tick) mirrored onto the map's case layer (``CaseLayerSync``),
* the change feed (``LiveSync``: LISTEN/NOTIFY or SpatiaLite polling every 0.5 s) into that
  queue, so a change from any workstation moves its point and light in place; each batch also
  asks for a fresh snapshot of the figures 0.3 s later (in a worker thread),
* ``WallModel`` (the last good snapshot; stale when a read fails or the feed goes offline, with
  the 数据截至 banner and greyed panels; a full resync when the feed is back),
* ``WallAlerts`` into the red banner, the playlist into the rotating panels.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtWidgets import QWidget

from app.domain.clock import Clock
from app.gis.case_sync import CaseLayerSync
from app.gis.layers import build_layers
from app.gis.wall_map import WallMap
from app.services.bus import CaseBus
from app.services.calendar import load_calendar
from app.services.case_source import StoreCaseSource
from app.services.live import LiveSync
from app.store.engine import Store
from app.store.notify import FeedStatus, change_feed
from app.ui.live_bridge import GuiDeliverer
from app.ui.tasks import TaskRunner
from app.ui.wall.widgets import Theme, WallScreen
from app.views.queue_state import QueueState
from app.views.wall.layout import WallLayout
from app.views.wall.model import Playlist, WallAlerts, WallModel, WallSnapshot, alert_text, read_snapshot

log = logging.getLogger(__name__)

#: A live change asks for fresh figures this much later (a burst is one read).
REFRESH_AFTER_CHANGE_MS = 300


class Wall:
    """The wall's windows over ``store``; ``start()`` goes live, ``close()`` tears down."""

    def __init__(self, store: Store, clock: Clock, layout: WallLayout, *, height: int = 1080,
                 screens: Sequence[int] | None = None, monotonic=time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.layout = layout
        self.monotonic = monotonic
        self.theme = Theme(layout.min_text_px, height)
        self.state = QueueState(load_calendar(store))
        self.source = StoreCaseSource(store)
        self.layers = build_layers(store)
        self.map = WallMap(self.layers, magnification=self.theme.map_magnification)
        self.case_sync = CaseLayerSync(self.state, self.layers.feeder)
        self.model = WallModel()
        self.alerts = WallAlerts(self.state, now=clock.now)
        self.playlist = Playlist(layout.panels, layout.dwell_s, started=monotonic())
        self.runner = TaskRunner(max_threads=1)
        self.deliver = GuiDeliverer()
        self.bus = CaseBus()
        self.live: LiveSync | None = None
        self.config_watch = None  # app.services.config_live.ConfigWatch once live (issue 12)
        self.alert_until = 0.0
        self.closed = False  # after close(): late deliveries (a queued resync) start no work
        from app.wall.watchdog import HEARTBEAT_ENV

        #: a file touched every second while the event loop runs (the watchdog's hang check)
        self.heartbeat = os.environ.get(HEARTBEAT_ENV) or None
        self.reads = 0  # snapshots applied (tests, bench)
        self._reading = False  # a snapshot read is in the worker
        self._again: str | None = None  # "refresh" or "resync" asked meanwhile
        chosen = list(screens) if screens else list(range(len(layout.screens)))
        self.screens: list[WallScreen] = []
        for index in chosen:
            spec = layout.screens[index % len(layout.screens)]
            self.screens.append(WallScreen(layout, spec, self.theme, self.playlist, self.map))
        self.model.events.snapshot.connect(self._show)
        self.model.events.stale.connect(self._stale)
        self.alerts.events.raised.connect(self._alert)
        self._refresh_soon = QTimer()
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(REFRESH_AFTER_CHANGE_MS)
        self._refresh_soon.timeout.connect(self.refresh)
        self._tick = QTimer()
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.tick)
        self._refresh = QTimer()
        self._refresh.setInterval(layout.refresh_s * 1000)
        self._refresh.timeout.connect(self.refresh)
        self._unsubscribe = self.bus.subscribe(lambda _change: self.deliver(self._refresh_soon.start))

    # --- loading --------------------------------------------------------------------------

    def load_now(self) -> None:
        """Read everything in this thread (screenshots, tests): the queue, then the figures."""
        now = self.clock.now()
        self.state.reset(self.source.open_cases(), now)
        self.model.apply(read_snapshot(self.store, now))
        self.reads += 1
        self.tick()

    def refresh(self) -> None:
        """Read the figures in the worker; a failure keeps the picture and marks it stale.

        One read at a time: asked while one runs, the next starts when it ends (with the clock of
        then), so a loaded machine never queues a backlog of reads whose answers would be dropped."""
        if self.closed:
            return
        if self._reading:
            self._again = self._again or "refresh"
            return
        self._reading = True
        now = self.clock.now()
        self.runner.run_in_thread(lambda: read_snapshot(self.store, now), self._read, self._failed, key="snapshot")

    def resync(self) -> None:
        """A full reload (after an outage or a bulk change): the open cases, then the figures."""
        if self.closed:
            return
        if self._reading:
            self._again = "resync"
            return
        self._reading = True
        now = self.clock.now()

        def load():
            return self.source.open_cases(), read_snapshot(self.store, now)

        def done(result) -> None:
            if self.closed:
                return
            rows, snapshot = result
            try:
                self.state.reset(rows, now)
            except Exception:  # the figures still go up; the queue keeps its rows until the next resync
                log.exception("the wall could not reload its open cases")
            self._read(snapshot)

        self.runner.run_in_thread(load, done, self._failed, key="snapshot")

    def _next_read(self) -> None:
        self._reading = False
        again, self._again = self._again, None
        if again == "resync":
            self.resync()
        elif again == "refresh":
            self.refresh()

    def _read(self, snapshot: WallSnapshot) -> None:
        if self.closed:
            return
        try:
            self.reads += 1
            self.model.apply(snapshot)
        finally:
            self._next_read()

    def _failed(self, exc: BaseException) -> None:
        if self.closed:
            return
        try:
            log.warning("the wall could not read the store: %s", exc)
            self.store.engine.dispose()  # the next read opens fresh connections (a restarted server, a new file)
            self.model.failed(str(exc))
        finally:
            self._next_read()

    # --- live -------------------------------------------------------------------------------

    def start(self, *, live: bool = True) -> None:
        """Go live: tick every second, refresh every ``refresh_s``, follow the change feed."""
        self._tick.start()
        self._refresh.start()
        if live:
            self.live = LiveSync(change_feed(self.store), self.source, self.bus, self.deliver, queue=self.state,
                                 on_resync=self.resync, on_status=self._feed_status)
            self.live.start()
            # a saved configuration change (calendar, limits): the calendar reloads and the wall resyncs
            from app.services.calendar import refresh_calendar
            from app.services.config_live import ConfigWatch

            self.config_watch = ConfigWatch(self.store, self.deliver,
                                            refresh=lambda: refresh_calendar(self.store, self.state.calendar))
            self.config_watch.subscribe(lambda update: None if update.first or self.closed else self.resync())
            self.config_watch.start()

    def _feed_status(self, status: FeedStatus) -> None:
        if status == FeedStatus.ONLINE:
            if self.model.stale:
                self.resync()
        else:
            # the pooled connections may hold a file moved away or replaced: the resync opens fresh ones
            self.store.engine.dispose()
            self.model.failed(status.label)

    def tick(self) -> None:
        if self.heartbeat:
            try:
                Path(self.heartbeat).touch()
            except OSError:
                log.warning("cannot touch the heartbeat file %s", self.heartbeat)
        now = self.clock.now()
        self.state.tick(now)
        t = self.monotonic()
        for screen in self.screens:
            screen.set_clock(now)
            if screen.playlist_stack is not None:
                screen.playlist_stack.advance(t)
            if self.alert_until and t > self.alert_until:
                screen.alert.say("")
        if self.alert_until and t > self.alert_until:
            self.alert_until = 0.0

    # --- showing ----------------------------------------------------------------------------

    def _show(self, snapshot: WallSnapshot) -> None:
        for screen in self.screens:
            screen.show_snapshot(snapshot)
            screen.set_age(snapshot.as_of, False)
        self.map.heat.set_points(snapshot.heat_points)
        self.map.hotspots.set_grids((g.code, g.reports, g.wkt) for g in snapshot.hotspots[:5])

    def _stale(self, stale: bool, as_of: datetime | None) -> None:
        for screen in self.screens:
            screen.set_age(as_of, stale)

    def _alert(self, alerts) -> None:
        from app.ui.wall.widgets import tr

        text = "⚠ " + alert_text(alerts, tr)
        self.alert_until = self.monotonic() + self.layout.alert_hold_s
        for screen in self.screens:
            screen.alert.say(text)

    # --- windows ----------------------------------------------------------------------------

    def show(self, app=None, indexes: Sequence[int] | None = None) -> None:
        """Each window full screen on its screen: window ``k`` on ``app.screens()[indexes[k]]``.

        With ``app``, a screen unplugged and plugged back gets its window back (Qt's screenAdded /
        screenRemoved re-place every window)."""
        self.indexes = list(indexes) if indexes is not None else list(range(len(self.screens)))
        for window in self.screens:
            window.setWindowFlags(Qt.FramelessWindowHint | Qt.WindowStaysOnTopHint)
        if app is not None:
            app.screenAdded.connect(lambda _screen: self.place(app.screens()))
            app.screenRemoved.connect(lambda _screen: self.place(app.screens()))
            self.place(app.screens())
        else:
            for window in self.screens:
                window.showFullScreen()

    def place(self, qt_screens) -> None:
        """Put window ``k`` full screen on ``qt_screens[indexes[k]]`` (or leave it where it is while
        that screen is missing)."""
        indexes = getattr(self, "indexes", list(range(len(self.screens))))
        for window, index in zip(self.screens, indexes, strict=False):
            if index >= len(qt_screens):
                continue
            target = qt_screens[index]
            handle = window.windowHandle()
            if handle is not None:
                handle.setScreen(target)
            window.setGeometry(target.geometry())
            window.showFullScreen()

    def grab(self, width: int, height: int):
        """Render every screen at width×height side by side into one QImage (offscreen)."""
        from qgis.PyQt.QtGui import QImage, QPainter

        for window in self.screens:
            window.resize(width, height)
            window.show()
        from qgis.PyQt.QtWidgets import QApplication

        QApplication.processEvents()
        self.map.zoom_full()
        self.map.wait_rendered()
        QApplication.processEvents()
        image = QImage(width * len(self.screens), height, QImage.Format_RGB32)
        painter = QPainter(image)
        for i, window in enumerate(self.screens):
            painter.drawPixmap(i * width, 0, window.grab())
        painter.end()
        return image

    def close(self) -> None:
        self.closed = True
        self._tick.stop()
        self._refresh.stop()
        self._refresh_soon.stop()
        self._unsubscribe()
        if self.live is not None:
            self.live.close()
            self.live = None
        if self.config_watch is not None:
            self.config_watch.close()
            self.config_watch = None
        self.runner.wait(60_000)  # a read still running under load (10 s is not always enough) ends first
        self.deliver.close()
        self.alerts.close()
        self.case_sync.close()
        self.map.teardown()
        for window in self.screens:
            window.close()
            window.deleteLater()
        self.screens.clear()


def windows_of(wall: Wall) -> list[QWidget]:
    return list(wall.screens)


__all__ = ["Wall", "windows_of"]
