"""The wall's view models, Qt-free: the snapshot of every figure, staleness, alerts, the playlist.

``read_snapshot(store, now)`` reads every figure the wall shows in one go (a worker thread
calls it); ``WallModel`` keeps the last good snapshot and says whether it is stale: a read
that fails keeps the picture and turns ``stale`` on with the time of the last good data
(数据截至 HH:MM), the next good read turns it off (a full resync). ``WallAlerts`` watches the
queue of open cases and raises an alert when a case turns red or an urgent case arrives — also
for what happened while the wall was cut off (compared at the resync). ``Playlist`` rotates
the panels by their dwell time on an injected clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.definitions import Level, Light
from app.domain.wall import Tile, daily_trend, headline, windows
from app.i18n import Catalogue
from app.store import wall as q
from app.store.engine import Store
from app.views.events import EventGroup, Signal
from app.views.queue_state import QueueState


@dataclass(frozen=True)
class WallSnapshot:
    """Every figure of the wall as read at ``as_of``."""

    as_of: datetime
    tiles: tuple[Tile, ...]
    departments: tuple[q.DepartmentRow, ...]
    trend_days: tuple
    trend: tuple[tuple[str, list[int]], ...]
    hotspots: tuple[q.GridRow, ...]
    ticker: tuple[q.TickerRow, ...]
    urged: tuple[q.UrgedRow, ...]
    heat_points: tuple[tuple[int, float, float], ...]


def read_tiles(store: Store, now: datetime) -> list[Tile]:
    """The headline tiles at ``now`` (today until now against yesterday until the same hour)."""
    (t0, t1), (y0, y1) = windows(now)
    today = q.window_counts(store, t0, t1).__dict__
    yesterday = q.window_counts(store, y0, y1).__dict__
    return headline(today, yesterday, overdue=q.overdue_now(store, now),
                    urgent=q.urgent_open_at(store, now), urgent_yesterday=q.urgent_open_at(store, y1))


def read_snapshot(store: Store, now: datetime) -> WallSnapshot:
    """Every figure at ``now`` (raises the store's error when it cannot be reached)."""
    (t0, _), _ = windows(now)
    day_ago = now - timedelta(hours=24)
    days, trend = daily_trend(q.category_counts(store, datetime.combine((now - timedelta(days=6)).date(),
                                                                        datetime.min.time()), now), now.date())
    return WallSnapshot(
        as_of=now, tiles=tuple(read_tiles(store, now)),
        departments=tuple(q.department_ranking(store, t0, now)),
        trend_days=tuple(days), trend=tuple(trend),
        hotspots=tuple(q.hotspot_grids(store, day_ago, now)),
        ticker=tuple(q.latest_events(store, now)),
        urged=tuple(q.urged_open(store)),
        heat_points=tuple(q.report_points(store, day_ago, now)))


class WallEvents(EventGroup):
    snapshot: Signal  # (WallSnapshot)
    stale: Signal  # (bool, datetime | None): stale now?, the time of the last good data


class WallModel:
    """The last good snapshot and whether the wall is stale (the store cannot be reached)."""

    def __init__(self) -> None:
        self.events = WallEvents()
        self.snapshot: WallSnapshot | None = None
        self.stale = False
        self.problem: str | None = None
        self.as_of: datetime | None = None  # the time of the last good data (snapshot or live change)

    def apply(self, snapshot: WallSnapshot) -> None:
        self.snapshot = snapshot
        self.as_of = snapshot.as_of
        self.events.snapshot.emit(snapshot)
        self.set_stale(False)

    def failed(self, problem: str) -> None:
        self.problem = problem
        self.set_stale(True)

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self.events.stale.emit(stale, self.as_of)

    def stamp(self, now: datetime) -> str:
        """'数据截至 HH:MM' of the last good data."""
        at = self.as_of or now
        return at.strftime("%H:%M")


@dataclass(frozen=True)
class WallAlert:
    kind: str  # 'red' | 'urgent'
    case_id: int
    number: str
    category: str
    place: str
    at: datetime | None


class AlertEvents(EventGroup):
    raised: Signal  # (list[WallAlert])


class WallAlerts:
    """Watches a QueueState of every open case: a case turning red, an urgent case arriving.

    The first load is the baseline (no alerts for what was already there); a later reload (the
    resync after an outage) compares with what was seen, so an alert raised while the wall was
    cut off still shows.
    """

    def __init__(self, state: QueueState, now: Callable[[], datetime] | None = None, keep: int = 50) -> None:
        self.state = state
        self.events = AlertEvents()
        self.history: deque[WallAlert] = deque(maxlen=keep)
        self._now = now
        self._seen: dict[int, Light] | None = None
        ev = state.events
        self._undo = [ev.rows_reset.connect(self._reset), ev.rows_changed.connect(self._changed),
                      ev.lights_changed.connect(self._changed)]
        if state.rows:
            self._reset()

    def close(self) -> None:
        for undo in self._undo:
            undo()
        self._undo.clear()

    def _light(self, case_id: int) -> Light:
        return self.state.light(case_id) or Light.NONE

    def _reset(self) -> None:
        if self._seen is None:
            self._seen = {row.id: self._light(row.id) for row in self.state.rows}
            return
        self._compare([row.id for row in self.state.rows])
        current = {row.id for row in self.state.rows}
        for gone in set(self._seen) - current:
            del self._seen[gone]

    def _changed(self, ids: Iterable[int]) -> None:
        if self._seen is None:
            return
        self._compare(list(ids))

    def _compare(self, ids: list[int]) -> None:
        assert self._seen is not None
        raised = []
        for case_id in ids:
            row = self.state.summary(case_id)
            if row is None:
                self._seen.pop(case_id, None)
                continue
            light = self._light(case_id)
            new = case_id not in self._seen
            before = self._seen.get(case_id, Light.NONE)
            self._seen[case_id] = light
            place = row.street_name or row.community_name or ""
            now = self._now() if self._now else self.state.now
            if new and row.level == Level.URGENT:
                raised.append(WallAlert("urgent", case_id, row.number, row.category_name, place, now))
            if light == Light.RED and before != Light.RED:
                raised.append(WallAlert("red", case_id, row.number, row.category_name, place, now))
        if raised:
            self.history.extend(raised)
            self.events.raised.emit(raised)


def alert_text(alerts: list[WallAlert], tr: Callable[..., str] | None = None) -> str:
    """One banner line: '紧急案卷 E… 暴露垃圾（某街道）' or '3 件案卷转红：E…、E…' (``tr``: a catalogue's)."""
    tr = tr or Catalogue("zh_CN").tr
    urgent = [a for a in alerts if a.kind == "urgent"]
    red = [a for a in alerts if a.kind == "red"]
    parts = []
    for group, one, many in ((urgent, "紧急案卷 {number} {category}", "{n} 件紧急案卷：{numbers}"),
                             (red, "案卷转红 {number} {category}", "{n} 件案卷转红：{numbers}")):
        if len(group) == 1:
            a = group[0]
            line = tr(one, number=a.number, category=a.category)
            parts.append(line + (tr("（{place}）", place=a.place) if a.place else ""))
        elif group:
            parts.append(tr(many, n=len(group), numbers="、".join(a.number for a in group[:3])))
    return "　".join(parts)


@dataclass
class Playlist:
    """Rotates ``panels`` every ``dwell_s`` seconds of the injected monotonic clock."""

    panels: tuple[str, ...]
    dwell_s: float
    started: float = 0.0
    index: int = field(default=0)

    def current(self) -> str:
        return self.panels[self.index]

    def advance(self, now: float) -> bool:
        """Move on when the dwell time is up; True when the panel changed."""
        if len(self.panels) < 2 or now - self.started < self.dwell_s:
            return False
        steps = int((now - self.started) // self.dwell_s)
        self.index = (self.index + steps) % len(self.panels)
        self.started += steps * self.dwell_s
        return True


__all__ = ["Playlist", "WallAlert", "WallAlerts", "WallModel", "WallSnapshot", "alert_text", "read_snapshot",
           "read_tiles"]
