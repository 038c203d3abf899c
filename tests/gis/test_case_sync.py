"""The map's case layer mirrors the queue: rows, removals and lights, touching only what changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from samples import case_row

from app.domain.calendar import WorkCalendar
from app.domain.definitions import Basis
from app.gis.case_sync import CaseLayerSync
from app.gis.cases_layer import CaseLayerFeeder, new_case_layer
from app.views.queue_state import QueueState, SortKey

pytestmark = pytest.mark.qgis
NOW = datetime(2026, 11, 20, 10, 30)


@pytest.fixture
def synced(qgis_app):
    layer = new_case_layer()
    feeder = CaseLayerFeeder(layer)
    state = QueueState(WorkCalendar())
    state.reset([case_row(1, NOW, started_minutes_ago=10),                      # green
                 case_row(2, NOW, started_minutes_ago=90),                      # yellow
                 case_row(3, NOW, started_minutes_ago=150)], NOW)               # red
    sync = CaseLayerSync(state, feeder)
    yield state, feeder, layer
    sync.close()


def _lights(layer) -> dict[int, str]:
    return {f["case_id"]: f["light"] for f in layer.getFeatures()}


def test_the_layer_starts_with_every_queue_row_and_its_light(synced):
    _state, _feeder, layer = synced
    assert _lights(layer) == {1: "green", 2: "yellow", 3: "red"}


def test_a_changed_row_moves_and_a_removed_row_leaves(synced):
    state, feeder, layer = synced
    moved = replace(state.summary(1), x=5000.0, y=6000.0, version=9)
    state.upsert(moved, "dispatch")
    state.remove(3, "close")
    points = {f["case_id"]: f.geometry().asPoint() for f in layer.getFeatures()}
    assert set(points) == {1, 2}
    assert (points[1].x(), points[1].y()) == (5000.0, 6000.0)
    assert feeder.feature_id(3) is None


def test_a_light_change_on_a_tick_recolours_only_that_case(synced):
    state, feeder, layer = synced
    before = {cid: feeder.feature_id(cid) for cid in (1, 2, 3)}
    state.tick(NOW + timedelta(minutes=15))  # case 2: 105 of 100 minutes → red
    assert _lights(layer) == {1: "green", 2: "red", 3: "red"}
    assert {cid: feeder.feature_id(cid) for cid in (1, 2, 3)} == before  # edited in place


def test_a_reorder_or_filter_change_does_not_rewrite_the_layer(synced):
    state, feeder, layer = synced
    before = {cid: feeder.feature_id(cid) for cid in (1, 2, 3)}
    state.set_sort(SortKey.REMAINING, descending=True)
    state.update_filter(text="人民路1号")
    assert {cid: feeder.feature_id(cid) for cid in (1, 2, 3)} == before
    assert len(list(layer.getFeatures())) == 3  # the map keeps every open case


def test_natural_and_working_rows_share_one_layer(qgis_app):
    layer = new_case_layer()
    state = QueueState(WorkCalendar())
    state.reset([case_row(7, NOW, basis=Basis.WORKING, limit_minutes=240)], NOW)
    sync = CaseLayerSync(state, CaseLayerFeeder(layer))
    try:
        assert _lights(layer) == {7: "green"}
    finally:
        sync.close()
