"""Alerts as a Qt-free view model: a case is new, turns yellow or turns red (the banner shows them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.domain.definitions import Action, Light
from app.i18n import Catalogue
from app.views.events import EventGroup, Signal, Subscriptions
from app.views.queue_state import QueueState

MAX_KEPT = 50
GROUP_OVER = 3  # more lights than this turning in one tick become one alert
FLASH_MS = 8000


@dataclass(frozen=True)
class Alert:
    """One alert: ``kind`` is new | yellow | red | info."""

    kind: str
    case_id: int | None
    number: str
    text: str
    at: datetime | None = None


class AlertEvents(EventGroup):
    """The signals of an :class:`AlertCenter`: ``alert(Alert)``."""

    alert: Signal


class AlertCenter:
    """Watches a QueueState and emits ``events.alert(Alert)`` on new cases and on lights turning worse.

    Qt-free: a tick's ``lights_changed`` ids are compared with the lights last seen; the first
    load is the baseline (no alert storm when the client starts). A case that joins the queue
    later is recorded with its light when it arrives, so its later turns are alerted too.
    """

    def __init__(self, state: QueueState, catalogue: Catalogue | None = None) -> None:
        self.state = state
        self.cat = catalogue or Catalogue()
        self.events = AlertEvents()
        self.alerts: list[Alert] = []
        self._lights: dict[int, Light] | None = None
        ev = state.events
        self._subs = Subscriptions()
        self._subs.connect(ev.tick, self._tick)
        self._subs.connect(ev.rows_reset, self._reset)
        self._subs.connect(ev.rows_changed, self._rows_changed)
        self._subs.connect(ev.case_event, lambda case_id, action: self._case_event(case_id, action))
        self._subs.connect(ev.lights_changed, self._lights_changed)

    def teardown(self) -> None:
        self._subs.close()

    def _snapshot(self) -> dict[int, Light]:
        return {row.id: self._light(row.id) for row in self.state.rows}

    def _baseline(self) -> bool:
        """Take the first lights as the baseline once there are readings; True when just taken."""
        if self._lights is None and self.state.now is not None:
            self._lights = self._snapshot()
            return True
        return False

    def _reset(self) -> None:
        if self._baseline() or self._lights is None:
            return
        present = {row.id for row in self.state.rows}
        for case_id in [i for i in self._lights if i not in present]:
            del self._lights[case_id]  # gone: a case coming back is new again
        self._record(present)

    def _record(self, ids: Iterable[int]) -> None:
        """Remember the light of the ids not seen before (later turns are compared with it)."""
        lights = self._lights
        if lights is None:  # no baseline yet: nothing to compare with
            return
        for case_id in ids:
            if case_id not in lights:
                lights[case_id] = self._light(case_id)

    def _rows_changed(self, ids: list[int]) -> None:
        if self._baseline() or self._lights is None:
            return
        present = [i for i in ids if self.state.summary(i) is not None]
        for case_id in ids:
            if case_id not in present:
                self._lights.pop(case_id, None)  # removed: if it comes back, it is new again
        self._record(present)
        self._compare(present, self.state.now)  # a re-read row may show a worse light at once

    def _light(self, case_id: int) -> Light:
        reading = self.state.reading(case_id)
        return reading.light if reading is not None else Light.NONE

    def _tick(self, _now: datetime) -> None:
        self._baseline()

    def _lights_changed(self, ids: list[int]) -> None:
        if self._lights is not None:
            self._compare(ids, self.state.now)

    def _compare(self, ids: Iterable[int], now: datetime | None) -> None:
        lights = self._lights
        if lights is None:  # no baseline yet: nothing to compare with
            return
        turned: dict[str, list[int]] = {"red": [], "yellow": []}
        for case_id in ids:
            light = self._light(case_id)
            before = lights.get(case_id)
            lights[case_id] = light
            if before is None or before == light:
                continue
            if light is Light.RED:
                turned["red"].append(case_id)
            elif light is Light.YELLOW and before is Light.GREEN:
                turned["yellow"].append(case_id)
        for kind, what in (("red", self.cat.tr("超时（红灯）")), ("yellow", self.cat.tr("即将超时（黄灯）"))):
            found = turned[kind]
            if len(found) > GROUP_OVER:
                # many at once (the workday starts, timers resume): one alert, not a storm
                self._emit_group(kind, found, what, now)
            else:
                for case_id in found:
                    self._emit(kind, case_id, what, now)

    def _case_event(self, case_id: int, action: str) -> None:
        if self._lights is not None and self.state.summary(case_id) is not None:
            self._record([case_id])
        if action == Action.REPORT.value:
            self._emit("new", case_id, self.cat.tr("新上报案卷"), self.state.now)

    def _emit_group(self, kind: str, ids: list[int], what: str, now: datetime | None) -> None:
        numbers = [row.number for row in map(self.state.summary, ids[:3]) if row is not None]
        text = self.cat.tr("{n} 件案卷{what}：{numbers} 等", n=len(ids), what=what, numbers="、".join(numbers))
        alert = Alert(kind, ids[0], numbers[0] if numbers else "", text, now)
        self.alerts.insert(0, alert)
        del self.alerts[MAX_KEPT:]
        self.events.alert.emit(alert)

    def _emit(self, kind: str, case_id: int, what: str, now: datetime | None) -> None:
        row = self.state.summary(case_id)
        number = row.number if row is not None else str(case_id)
        detail = f"{row.category_name} {row.street_name or ''}" if row is not None else ""
        alert = Alert(kind, case_id, number, self.cat.tr("{what}：{number} {detail}", what=what, number=number, detail=detail).strip(), now)
        self.alerts.insert(0, alert)
        del self.alerts[MAX_KEPT:]
        self.events.alert.emit(alert)


__all__ = ["FLASH_MS", "GROUP_OVER", "MAX_KEPT", "Alert", "AlertCenter", "AlertEvents"]
