"""Keep the map's case layer in step with the queue: the same rows, the same lights.

The queue (``QueueState``) is the single source of what is open and how late it is; this
subscriber mirrors it onto the QGIS case layer, changing only the features that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.domain.definitions import Light
from app.gis.cases_layer import CaseLayerFeeder, case_row
from app.views.queue_state import QueueState


class CaseLayerSync:
    """Subscribes to a QueueState and feeds a CaseLayerFeeder; ``close()`` unsubscribes."""

    def __init__(self, state: QueueState, feeder: CaseLayerFeeder):
        self._state = state
        self._feeder = feeder
        self._shown: dict[int, object] = {}  # case id → the CaseSummary drawn (compared by identity)
        ev = state.events
        self._disconnect: list[Callable[[], None]] = [
            ev.rows_reset.connect(self._sync_all),
            ev.rows_changed.connect(self._sync_ids),
            ev.lights_changed.connect(self._sync_lights),
        ]
        self._sync_all()

    def _light(self, case_id: int) -> Light:
        return self._state.light(case_id) or Light.NONE

    def _sync_all(self) -> None:
        """After a reset, filter change or reorder: touch only rows that are new, gone or replaced."""
        rows = {s.id: s for s in self._state.rows}
        if rows.keys() == self._shown.keys() and all(rows[i] is self._shown[i] for i in rows):
            return  # a reorder or filter change: the map shows every open case regardless
        self._apply(rows, (i for i in rows if rows[i] is not self._shown.get(i)),
                    self._shown.keys() - rows.keys())

    def _sync_ids(self, ids: Iterable[int]) -> None:
        rows = {}
        removed = []
        for case_id in ids:
            summary = self._state.summary(case_id)
            if summary is None:
                removed.append(case_id)
            else:
                rows[case_id] = summary
        self._apply(rows, rows.keys(), removed)

    def _apply(self, rows: dict, changed: Iterable[int], removed: Iterable[int]) -> None:
        changed, removed = list(changed), list(removed)
        self._feeder.apply([case_row(rows[i], self._light(i)) for i in changed], removed)
        for case_id in removed:
            self._shown.pop(case_id, None)
        for case_id in changed:
            self._shown[case_id] = rows[case_id]

    def _sync_lights(self, ids) -> None:
        """Only the cases whose light changed on this tick are touched."""
        self._feeder.update_lights({cid: self._light(cid) for cid in ids if cid in self._shown})

    def close(self) -> None:
        for disconnect in self._disconnect:
            disconnect()
        self._disconnect.clear()
