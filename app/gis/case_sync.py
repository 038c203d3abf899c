"""Keep the map's case layer in step with the queue: the same rows, the same lights.

The queue (``QueueState``) is the single source of what is open and how late it is; this
subscriber mirrors it onto the QGIS case layer, changing only the features that changed.
"""

from __future__ import annotations

from collections.abc import Callable

from app.domain.definitions import Light
from app.gis.cases_layer import CaseLayerFeeder, CaseRow
from app.ui.queue_state import QueueState


class CaseLayerSync:
    """Subscribes to a QueueState and feeds a CaseLayerFeeder; ``close()`` unsubscribes."""

    def __init__(self, state: QueueState, feeder: CaseLayerFeeder):
        self._state = state
        self._feeder = feeder
        self._shown: dict[int, CaseRow] = {}
        ev = state.events
        self._disconnect: list[Callable[[], None]] = [
            ev.rows_reset.connect(self._sync_rows),
            ev.rows_changed.connect(lambda _ids: self._sync_rows()),
            ev.lights_changed.connect(self._sync_lights),
        ]
        self._sync_rows()

    def _light(self, case_id: int) -> str:
        return (self._state.light(case_id) or Light.NONE).value

    def _row(self, s) -> CaseRow:
        return CaseRow(s.id, s.x, s.y, self._light(s.id), str(s.state), s.number,
                       f"{s.category_code} {s.category_name}", str(s.level))

    def _sync_rows(self) -> None:
        wanted = {s.id: self._row(s) for s in self._state.rows}
        if not self._shown:
            self._feeder.set_cases(wanted.values())
        else:
            for case_id in self._shown.keys() - wanted.keys():
                self._feeder.remove(case_id)
            for case_id, row in wanted.items():
                if self._shown.get(case_id) != row:
                    self._feeder.upsert(row)
        self._shown = wanted

    def _sync_lights(self, ids) -> None:
        """Only the cases whose light changed on this tick are touched."""
        lights = {cid: self._light(cid) for cid in ids if cid in self._shown}
        if self._feeder.update_lights(lights):
            for cid, light in lights.items():
                self._shown[cid] = self._shown[cid]._replace(light=light)

    def close(self) -> None:
        for disconnect in self._disconnect:
            disconnect()
        self._disconnect.clear()
