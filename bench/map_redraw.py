"""Map redraw figures (issue 10, item 7), part of the ``map`` group of ``make bench``.

map.street_redraw_ms   a full redraw at 1:5,000 with labels, 1600x1000 px, no cache (median).
map.case_update_ms     a real ``MapView`` canvas (render cache on) at 1:5,000: one case changes
                       light through the case feeder, time until the canvas has repainted (median).
map.case_update_labels_cached
                       1 if the label cache survived those case changes (the case layer is not
                       in the shared labelling pass), else 0.
"""

from __future__ import annotations

import statistics
import time

from bench.figures import record

W, H = 1600, 1000
STREET_SCALE = 5000


def _median(fn, rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def street_redraw(layers, rounds: int) -> float:
    from qgis.core import QgsPointXY

    from app.gis.render import extent_at_scale, render_layers

    centre = layers.unit_grids.extent().center()
    extent = extent_at_scale(QgsPointXY(centre.x(), centre.y()), STREET_SCALE, W, H)
    stack = layers.top_down()
    return _median(lambda: render_layers(stack, extent, W, H), rounds)


def label_cache_survives(layers, settings) -> bool:
    """Whether a case-layer change leaves the render cache's labels (what the canvas does on a
    layer's repaintRequested: invalidate the images that depend on that layer)."""
    from qgis.core import QgsMapRendererCache, QgsMapRendererParallelJob

    cache = QgsMapRendererCache()
    job = QgsMapRendererParallelJob(settings)
    job.setCache(cache)
    job.start()
    job.waitForFinished()
    cache.invalidateCacheForLayer(layers.cases)
    return cache.hasCacheImage("_labels_")


def case_update(layers, summaries, rounds: int) -> tuple[float, bool]:
    from qgis.core import QgsPointXY
    from qgis.PyQt.QtCore import QEventLoop, QTimer
    from qgis.PyQt.QtWidgets import QApplication

    from app.gis.canvas import MapView

    try:
        from app.gis.cases_layer import REPAINT_MS
    except ImportError:  # a tree from before the repaint throttle (before/after comparisons)
        REPAINT_MS = 0  # noqa: N806

    app = QApplication.instance()
    view = MapView(layers)
    view.resize(W, H)
    view.show()
    app.processEvents()
    canvas = view.canvas
    centre = layers.unit_grids.extent().center()
    canvas.setCenter(QgsPointXY(centre.x(), centre.y()))
    canvas.zoomScale(STREET_SCALE)
    view.wait_rendered(60000)
    # The case nearest the centre: its change is in view.
    near = min(summaries, key=lambda s: (s.x - centre.x()) ** 2 + (s.y - centre.y()) ** 2)
    lights = ["red", "yellow", "green", "none"]

    def one(i: int) -> float:
        # one change on its own, as a dispatcher sees it (a burst repaints at most every REPAINT_MS)
        pause = QEventLoop()
        QTimer.singleShot(REPAINT_MS + 50, pause.quit)
        pause.exec_()
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        canvas.mapCanvasRefreshed.connect(loop.quit)
        t0 = time.perf_counter()
        layers.feeder.update_lights({near.id: lights[i % len(lights)]})
        timer.start(30000)
        loop.exec_()
        dt = (time.perf_counter() - t0) * 1000
        canvas.mapCanvasRefreshed.disconnect(loop.quit)
        return dt

    one(0)
    times = [one(i) for i in range(1, rounds + 1)]
    labels_cached = label_cache_survives(layers, canvas.mapSettings())
    view.teardown()
    view.deleteLater()
    app.processEvents()
    return statistics.median(times), labels_cached


def run(store, rounds: int) -> None:
    from app.gis.cases_layer import rows_from_summaries
    from app.gis.layers import build_layers
    from app.services.case_source import StoreCaseSource

    summaries = StoreCaseSource(store).open_cases()
    layers = build_layers(store)
    layers.feeder.set_cases(rows_from_summaries(summaries, {s.id: "green" for s in summaries}))
    redraw = street_redraw(layers, rounds)
    record("map.street_redraw_ms", redraw, "ms")
    update, cached = case_update(layers, summaries, max(rounds, 9))
    record("map.case_update_ms", update, "ms")
    record("map.case_update_labels_cached", cached, "bool")
    print(f"   street-scale redraw with labels (1:5,000, {W}x{H}) {redraw:8.1f} ms   "
          f"repaint after one case change {update:8.1f} ms   label cache kept: {'yes' if cached else 'no'}")
