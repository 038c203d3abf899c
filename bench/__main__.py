"""`make bench`: figures, not pass/fail. Prints medians and ratios on the demo district.

  python -m bench --db data/demo/district.sqlite [--rounds 5] [--only map,queue] [--skip-demo]
  make bench ONLY=queue

Groups (``--only`` takes a comma-separated list; default all, in this order):

map    1. Map render at full extent and at street scale, styled vs a bare QGIS render of the
          same layers with default styles (ratio = styled / bare).
queue  2. Queue countdown tick with 10,000 open cases (ms per tick): the pure state, then with
          the Qt table model and a visible view repainting.
       3. Queue query: loading every open case with its timer from the store (ms).
demo   4. Demo generation of the district into a temporary SpatiaLite file (s), then the city
          (~250,000 components, ~1,000,000 cases with their history) on SpatiaLite and on a
          throwaway PostGIS cluster, each checked with verify-audit (``bench/demo_city.py``;
          demo.city_s.spatialite, demo.city_s.postgis; about 15 minutes in all on 2 cores).
          ``--skip-city`` leaves the city out.
live   Live sync on a throwaway PostGIS cluster (``bench/live.py``).
bulletin, import, geocode, search, wall, open311: see bench_bulletin, bench_base_import, bench_geocode, bench_search,
       bench_wall, bench_open311 below.
desk   The desk never stalls (``bench/desk_stall.py``): event-loop latency (5 ms probe) over a
       scripted session at 1920x1080 and 3840x2160; the department operator's start-up; quit.

Every figure printed is also recorded under a stable name in build/bench.json
(``bench/figures.py``), merged with what earlier runs of other groups left there.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyqt5")


from bench.figures import record  # noqa: E402  (after the Qt environment above)


def _median_ms(fn, rounds: int) -> tuple[float, float]:
    """(median, min) wall time of ``fn()`` in milliseconds over ``rounds`` runs after one warm-up."""
    fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times)


def bench_render(store, rounds: int) -> None:
    from qgis.core import QgsPointXY, QgsVectorLayer

    from app.gis.layers import build_layers
    from app.gis.render import extent_at_scale, render_layers

    styled = build_layers(store)
    from app.gis.cases_layer import rows_from_summaries
    from app.services.case_source import StoreCaseSource

    summaries = StoreCaseSource(store).open_cases()
    styled.feeder.set_cases(rows_from_summaries(summaries, {s.id: "green" for s in summaries}))
    bare = []
    for layer in styled.top_down():
        if layer is styled.cases:
            continue
        copy = QgsVectorLayer(layer.source(), layer.name(), layer.providerType())
        bare.append(copy)
    bare_cases = QgsVectorLayer(styled.cases.source(), "cases", "memory")
    bare_cases.dataProvider().addFeatures(list(styled.cases.getFeatures()))
    bare.insert(0, bare_cases)

    full = styled.unit_grids.extent()
    centre = full.center()
    w, h = 1600, 1000
    street = extent_at_scale(QgsPointXY(centre.x(), centre.y()), 5000, w, h)
    print(f"1. Map render, 1600x1000 px (median of {rounds}, ms)")
    print("   (bare = the same layers with QGIS default styles, which draw no labels; "
          "'no labels' = our styles with labelling switched off)")
    layers = styled.top_down()
    labelled = [layer for layer in layers if layer.labelsEnabled()]
    for key, label, extent in (("full", "full extent", full), ("street", "street scale 1:5,000", street)):
        s_med, _ = _median_ms(lambda e=extent: render_layers(layers, e, w, h), rounds)
        for layer in labelled:
            layer.setLabelsEnabled(False)
        n_med, _ = _median_ms(lambda e=extent: render_layers(layers, e, w, h), rounds)
        for layer in labelled:
            layer.setLabelsEnabled(True)
        b_med, _ = _median_ms(lambda e=extent: render_layers(bare, e, w, h), rounds)
        record(f"map.render_{key}_styled", s_med, "ms")
        record(f"map.render_{key}_no_labels", n_med, "ms")
        record(f"map.render_{key}_bare", b_med, "ms")
        record(f"map.render_{key}_ratio_styled_bare", s_med / b_med, "ratio")
        record(f"map.render_{key}_ratio_no_labels_bare", n_med / b_med, "ratio")
        print(f"   {label:<22} styled {s_med:8.1f}   no labels {n_med:8.1f}   bare QGIS {b_med:8.1f}   "
              f"ratio styled/bare {s_med / b_med:5.2f}   no labels/bare {n_med / b_med:5.2f}")


def _synthetic_rows(n: int, now: datetime):
    from app.domain.cases import CaseSummary, TimerSpec
    from app.domain.definitions import Basis, CaseState, Kind, Level, Source, Stage

    rng = random.Random(7)
    rows = []
    for i in range(1, n + 1):
        basis = Basis.NATURAL if rng.random() < 0.2 else Basis.WORKING
        spec = TimerSpec(Stage.HANDLE, basis, rng.choice([120, 240, 480, 2400]),
                         now - timedelta(minutes=rng.randint(0, 6000)))
        rows.append(CaseSummary(i, f"S20261120-{i:05d}", Kind.EVENT, "06001", "道路不洁", Level.GENERAL,
                                CaseState.HANDLING, Source.SUPERVISOR, spec.started_at,
                                500000.0 + i, 3400000.0 + i, grid_code="320508001001001",
                                department_name="区环卫所", timer=spec))
    return rows


def bench_tick(rounds: int) -> None:
    from qtpy.QtWidgets import QApplication

    from app.domain.calendar import WorkCalendar
    from app.views.queue_state import QueueState

    app = QApplication.instance() or QApplication(sys.argv[:1])
    now = datetime(2026, 11, 20, 10, 30)
    rows = _synthetic_rows(10_000, now)
    state = QueueState(WorkCalendar())
    state.reset(rows, now)
    clock = {"t": now}

    def tick():
        clock["t"] += timedelta(seconds=1)
        state.tick(clock["t"])

    pure, _ = _median_ms(tick, rounds * 20)
    from app.ui.queue_dock import CaseQueueDock

    dock = CaseQueueDock(state)  # the real dock: model + view that tracks its visible rows
    dock.resize(1600, 600)
    dock.show()
    app.processEvents()

    def tick_and_paint():
        tick()
        app.processEvents()  # deliver dataChanged and paint what it invalidated

    full, _ = _median_ms(tick_and_paint, rounds * 20)
    night = datetime(2026, 11, 20, 22, 0)
    state.reset(rows, night)
    clock["t"] = night
    nightly, _ = _median_ms(tick, rounds * 20)
    record("queue.tick_10000", pure, "ms")
    record("queue.tick_10000_painted", full, "ms")
    record("queue.tick_10000_night", nightly, "ms")
    print("2. Queue countdown tick, 10,000 open cases (median, ms per tick)")
    print(f"   state only {pure:8.3f}   state + queue dock painting {full:8.3f}   "
          f"state at 22:00 (natural rows overtake) {nightly:8.3f}")
    dock.close()
    app.processEvents()


def bench_query(store, rounds: int) -> None:
    from app.services.case_source import StoreCaseSource

    source = StoreCaseSource(store)
    n = len(source.open_cases())
    med, best = _median_ms(source.open_cases, rounds)
    record("queue.query_open_cases", n, "count")
    record("queue.query_open_median", med, "ms")
    record("queue.query_open_best", best, "ms")
    print(f"3. Queue query: {n} open cases with timers (ms)   median {med:8.1f}   best {best:8.1f}")


def bench_demo() -> None:
    from data.democity.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = generate(str(Path(tmp) / "bench.sqlite"), seed=1, scale="district")
        seconds = time.perf_counter() - t0
    record("demo.district_seconds", seconds, "s")
    record("demo.district_cases", summary.cases, "count")
    record("demo.district_events", summary.events, "count")
    record("demo.district_components", summary.components, "count")
    record("demo.district_events_per_s", summary.events / seconds, "per_s")
    print(f"4. Demo generation, district (s): {seconds:6.1f}  "
          f"({summary.cases} cases, {summary.events} events, {summary.components} components; "
          f"{summary.events / seconds:,.0f} events/s)")


def bench_city() -> int:
    """The city-scale demo on both backends (bench/demo_city.py); 1 if an audit chain is broken."""
    from bench.demo_city import run

    print("\n5. Demo generation at city scale (SpatiaLite, then PostGIS), verify-audit after each")
    figures = run()
    return 0 if all(v for k, v in figures.items() if "_audit_ok." in k) else 1


def bench_map_redraw(store, rounds: int) -> None:
    """Street-scale redraw and repaint after one case change (``bench/map_redraw.py``)."""
    from bench.map_redraw import run

    print("1b. Map redraw (issue 10): full street-scale redraw, and one case change on a cached canvas")
    run(store, rounds)


def bench_desk(db: str) -> int:
    """The desk never stalls: event-loop latency over a scripted session (``bench/desk_stall.py``)."""
    from bench.desk_stall import run

    return run(db)


def bench_live() -> int:
    """The live-sync group: its own throwaway PostGIS cluster and processes (bench/live.py)."""
    from bench.live import main as live_main

    return live_main([])


#: name → (needs, run(ctx)) in the order the groups run; ``needs`` ("qgis", "store") says what
#: main() prepares: ctx holds "store" (the --db store) and "rounds". New groups add an entry.
GROUPS: dict[str, tuple[tuple[str, ...], object]] = {
    "map": (("qgis", "store"), lambda ctx: (bench_render(ctx["store"], ctx["rounds"]),
                                            bench_map_redraw(ctx["store"], ctx["rounds"]))),
    "queue": (("qgis", "store"), lambda ctx: (bench_tick(ctx["rounds"]), bench_query(ctx["store"], ctx["rounds"]))),
    "demo": ((), lambda ctx: (bench_demo(), 0 if ctx["skip_city"] else bench_city())[1]),
    "live": ((), lambda ctx: bench_live()),
    "desk": (("qgis",), lambda ctx: bench_desk(ctx["db"])),
}


def _groups(text: str | None) -> list[str]:
    if not text:
        return list(GROUPS)
    chosen = [g.strip() for g in text.split(",") if g.strip()]
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown or not chosen:
        raise SystemExit(f"bench: unknown group {', '.join(unknown) or repr(text)}; "
                         f"choose from {', '.join(GROUPS)}")
    return [g for g in GROUPS if g in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="data/demo/district.sqlite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", metavar="GROUPS", help=f"comma-separated groups to run ({', '.join(GROUPS)})")
    parser.add_argument("--skip-demo", action="store_true", help="skip the demo generation group")
    parser.add_argument("--skip-city", action="store_true", help="demo group: the district only, not the city")
    args = parser.parse_args(argv)
    groups = _groups(args.only)
    if args.skip_demo and "demo" in groups:
        groups.remove("demo")
    needs = {need for g in groups for need in GROUPS[g][0]}

    from bench.figures import path

    ctx: dict[str, object] = {"rounds": args.rounds, "store": None, "skip_city": args.skip_city, "db": args.db}
    if "qgis" in needs:
        from app.gis.qgis_app import start_qgis

        start_qgis()
    if "store" in needs:
        from app.store.engine import open_store

        ctx["store"] = open_store(args.db)
    print(f"GridHall benchmarks ({', '.join(groups)}) on {args.db} ({os.cpu_count()} cores)")
    code = 0
    try:
        for group in groups:
            result = GROUPS[group][1](ctx)  # a group may return an exit code (live: errors seen)
            code = max(code, result if isinstance(result, int) else 0)
    finally:
        if ctx["store"] is not None:
            ctx["store"].dispose()
    print(f"\nfigures recorded in {path()}")
    return code



def bench_search(ctx) -> None:
    """Group ``search`` (bench/search.py): the district (``--db``, upgraded in a copy if its schema is
    older), the city demo if data/demo/city.sqlite exists, and 1,000,000 synthetic cases in a
    throwaway SpatiaLite (not with ``--skip-city``): search.archive_ms, .city, .million."""
    from bench.search import run

    run(str(ctx.get("db") or "data/demo/district.sqlite"), rounds=int(ctx["rounds"]),
        million=0 if ctx["skip_city"] else 1_000_000)


GROUPS["search"] = ((), bench_search)


def bench_wall(ctx) -> None:
    """Group ``wall`` (bench/wall_soak.py): the wall live for two minutes of 10 changes a second on a clock
    ×30 (one busy hour): wall.soak_rss_growth_mb, wall.redraw_ms, wall.stall_max_ms, wall.change_to_wall_p95_ms."""
    from bench.wall_soak import run

    run(str(ctx.get("db") or "data/demo/district.sqlite"))


GROUPS["wall"] = (("qgis",), bench_wall)


def bench_bulletin(ctx) -> None:
    """Group ``bulletin`` (bench/bulletin.py): the monthly bulletin command end to end on a copy of the
    district (and the city demo when build/demo/city.sqlite exists): report.monthly_s.district, .city."""
    from bench.bulletin import bench_one

    bench_one("district", str(ctx.get("db") or "data/demo/district.sqlite"), max(1, min(3, int(ctx["rounds"]))))
    city = Path("build/demo/city.sqlite")
    if city.is_file() and not ctx["skip_city"]:
        bench_one("city", str(city), 1)


GROUPS["bulletin"] = ((), bench_bulletin)


def bench_base_import(ctx) -> None:
    """Group ``import`` (bench/base_import.py): 250,000 components from a GeoPackage through
    ``gridhall import`` against a raw ogr2ogr load of the same file: import.components_250k_s,
    import.components_250k_ratio_ogr2ogr, export.components_250k_s."""
    from bench.base_import import main as run

    run(["--db", str(ctx.get("db") or "data/demo/district.sqlite")])


GROUPS["import"] = ((), bench_base_import)

def bench_geocode(ctx) -> None:
    """Group ``geocode`` (bench/geocode.py): 400 perturbed addresses of the demo gazetteer:
    geocode.top1_accuracy, geocode.per_s, geocode.build_s."""
    from bench.geocode import main as run

    run(["--db", str(ctx.get("db") or "data/demo/district.sqlite")])


GROUPS["geocode"] = ((), bench_geocode)


def bench_open311(ctx) -> None:
    """Group ``open311`` (bench/open311.py): ``gridhall serve-open311`` on a copy of the district, 4 keep-alive
    clients: open311.get_rps, open311.post_rps, open311.get_p99_ms, open311.post_p99_ms (and the p50s)."""
    from bench.open311 import run

    run(str(ctx.get("db") or "data/demo/district.sqlite"))


GROUPS["open311"] = ((), bench_open311)


def bench_eval(ctx) -> None:
    """Group ``eval`` (bench/eval.py): one month's evaluation of every subject against a raw SQL count over
    the same rows, on the district and (unless --skip-city) the city demo cached under build/demo on
    SpatiaLite and PostGIS: eval.month_city_ratio.spatialite, eval.month_city_ratio.postgis."""
    from bench.eval import run

    run(district=str(ctx.get("db") or "data/demo/district.sqlite"), city=not ctx["skip_city"],
        rounds=max(1, min(3, int(ctx["rounds"]))))


GROUPS["eval"] = ((), bench_eval)

if __name__ == "__main__":
    sys.exit(main())
