"""A case change repaints the case layer alone: the render cache keeps every other layer and the labels."""

from __future__ import annotations

import pytest
from qgis.core import QgsMapRendererCache, QgsMapRendererParallelJob, QgsPointXY, QgsRenderContext

from app.gis.render import extent_at_scale, map_settings

pytestmark = pytest.mark.qgis
LABELS = "_labels_"  # QgsMapRendererJob's cache key of the labelling pass


def _cached_render(layers, extent) -> QgsMapRendererCache:
    cache = QgsMapRendererCache()
    job = QgsMapRendererParallelJob(map_settings(layers, extent, 600, 400))
    job.setCache(cache)
    job.start()
    job.waitForFinished()
    return cache


def _street(map_layers, district):
    return extent_at_scale(QgsPointXY(*district.rel(400, 300)), 4000, 600, 400)


def test_invalidating_the_case_layer_keeps_the_labels_and_the_other_layers(map_layers, district):
    layers = map_layers.top_down()
    cache = _cached_render(layers, _street(map_layers, district))
    assert cache.hasCacheImage(LABELS)
    assert {layer.id() for layer in layers} <= {layer.id() for layer in layers if cache.hasCacheImage(layer.id())}
    assert map_layers.cases not in cache.dependentLayers(LABELS)
    cache.invalidateCacheForLayer(map_layers.cases)  # what the canvas does on its repaintRequested
    assert cache.hasCacheImage(LABELS)
    assert not cache.hasCacheImage(map_layers.cases.id())
    for layer in layers[1:]:
        assert cache.hasCacheImage(layer.id()), layer.name()
    # control: a labelled layer's change does drop the labels
    cache.invalidateCacheForLayer(map_layers.roads)
    assert not cache.hasCacheImage(LABELS)


def test_a_case_change_asks_only_the_case_layer_to_repaint(map_layers, qtbot):
    asked: list[str] = []
    for layer in map_layers.top_down():
        layer.repaintRequested.connect(lambda _deferred=False, name=layer.name(): asked.append(name))
    feeder = map_layers.feeder
    feeder.update_lights({next(iter(feeder._fid)): "red"})
    feeder.apply([], [next(iter(feeder._fid))])
    qtbot.waitUntil(lambda: not feeder.repaint_pending(), timeout=2000)
    assert asked and set(asked) == {map_layers.cases.name()}


def test_a_burst_of_changes_is_a_few_repaints_and_the_last_one_is_not_lost(qgis_app, qtbot):
    from app.gis.cases_layer import CaseLayerFeeder, new_case_layer

    layer = new_case_layer()
    feeder = CaseLayerFeeder(layer, repaint_ms=200)
    feeder.set_cases([(i, 500000.0 + i, 3400000.0, "green", "handling", f"N{i}") for i in range(60)])
    first = feeder.repaints
    for i in range(50):
        feeder.update_lights({i: "red" if i % 2 else "yellow"})
    assert feeder.repaints == first  # within the interval: deferred, not one per change
    assert feeder.repaint_pending()
    qtbot.waitUntil(lambda: not feeder.repaint_pending(), timeout=3000)
    assert feeder.repaints == first + 1
    assert feeder.light_of(49) == "red"  # the features changed at once all along


def test_the_canvas_caches_layers_and_draws_labels_as_text(view):
    canvas = view.canvas
    assert canvas.isCachingEnabled() and canvas.isParallelRenderingEnabled()
    assert canvas.mapSettings().textRenderFormat() == QgsRenderContext.TextFormatAlwaysText
    engine = canvas.labelingEngineSettings()
    assert engine.maximumLineCandidatesPerCm() <= 1.0
