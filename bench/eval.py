"""One month's evaluation against a raw SQL count over the same rows: `python -m bench.eval [--db URL|FILE]`.

For the last complete month of the store's events, each subject (regions by street, departments,
positions) is evaluated twice through ``EvaluationService``: the Python walk (``detail=True``,
every event into Python, the cases behind each count) and the SQL aggregation (``detail=False``,
app.store.evaluation_sql: one row per subject). The baseline is a raw count over the same rows —
every event, up to the month's end, of the cases with an event in the month::

    SELECT count(*) FROM case_events WHERE case_id IN (<cases with an event in the month>) AND at < :end

Figures (build/bench.json), ``<scale>`` = district | city, ``<backend>`` = spatialite | postgis:

  eval.month_<scale>_ratio.<backend>        (the faster path's time for the three subjects) /
                                            (three raw counts); goal ≤ 2
  eval.month_<scale>_s.<backend>.sql        the SQL aggregation, three subjects (s)
  eval.month_<scale>_s.<backend>.python     the Python walk, three subjects (s)
  eval.month_<scale>_raw_s.<backend>        one raw count (s)
  eval.month_<scale>_events.<backend>       the rows counted

Each time is the median of ``--rounds`` runs after one warm-up run (the store's pages cached, as for
an analyst evaluating twice). The city stores come from bench/eval_city.py (cached under build/demo).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.figures import record  # noqa: E402

SUBJECTS = (("region", "street"), ("department", None), ("position", None))


def _month(store) -> tuple[date, date]:
    from sqlalchemy import func, select

    from app.store.models import CaseEvent

    with store.session() as s:
        last = s.scalar(select(func.max(CaseEvent.at)))
    first = date(last.year, last.month, 1)
    start = (first - timedelta(days=1)).replace(day=1)
    return start, first - timedelta(days=1)


def _raw(store, start: date, end: date) -> tuple[float, int]:
    from sqlalchemy import text

    since, until = datetime.combine(start, datetime.min.time()), datetime.combine(end + timedelta(days=1),
                                                                                 datetime.min.time())
    sql = text("SELECT count(*) FROM case_events WHERE case_id IN "
               "(SELECT DISTINCT case_id FROM case_events WHERE at >= :s AND at < :e) AND at < :e")
    with store.session() as s:
        t0 = time.perf_counter()
        n = int(s.execute(sql, {"s": since, "e": until}).scalar() or 0)
        return time.perf_counter() - t0, n


def _timed(fn, rounds: int, warm: bool = True) -> float:
    if warm:
        fn()  # warm-up
    times = []
    for _ in range(max(1, rounds)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_store(url: str, scale: str, backend: str, *, rounds: int = 3, python: bool = True,
                warm: bool = True) -> dict[str, float]:
    """Time the month's evaluation of ``url`` both ways and the raw count; record and return the figures."""
    from app.services.evaluation import EvaluationService
    from app.store.engine import open_store

    store = open_store(url)
    try:
        start, end = _month(store)
        service = EvaluationService(store, today=lambda: end + timedelta(days=1))
        raw = _timed(lambda: _raw(store, start, end), max(3, rounds))
        _t, events = _raw(store, start, end)
        sql = sum(_timed(lambda s=s, lv=lv: service.evaluate(None, s, start, end, level=lv, detail=False), rounds,
                         warm) for s, lv in SUBJECTS)
        walk = None
        if python:
            walk = sum(_timed(lambda s=s, lv=lv: service.evaluate(None, s, start, end, level=lv), max(1, rounds - 2),
                              warm) for s, lv in SUBJECTS)
    finally:
        store.dispose()
    best = min(sql, walk) if walk is not None else sql
    figures = {f"eval.month_{scale}_ratio.{backend}": round(best / (3 * raw), 2),
               f"eval.month_{scale}_s.{backend}.sql": round(sql, 3),
               f"eval.month_{scale}_raw_s.{backend}": round(raw, 4),
               f"eval.month_{scale}_events.{backend}": events}
    if walk is not None:
        figures[f"eval.month_{scale}_s.{backend}.python"] = round(walk, 3)
    for key, value in figures.items():
        unit = "ratio" if "_ratio." in key else ("count" if "_events." in key else "s")
        record(key, value, unit)
    load = os.getloadavg()[0]
    print(f"eval {scale} {backend} {start}…{end}: {events:,} events; raw count {raw * 1000:.0f} ms; "
          f"SQL aggregation {sql:.2f} s" + (f"; Python walk {walk:.2f} s" if walk is not None else "")
          + f" (three subjects); ratio {best / (3 * raw):.1f}× (goal ≤ 2×); load {load:.1f}", flush=True)
    return figures


def run(*, district: str | None = None, city: bool = True, rounds: int = 3) -> None:
    """The district (a SpatiaLite file) and, when ``city``, the cached city stores on both backends."""
    if district:
        bench_store(district, "district", "spatialite", rounds=rounds)
    if city:
        from bench.eval_city import city_postgis, ensure_city_spatialite

        # minutes per run at city scale: one run each, the raw count warmed up by its own first run
        bench_store(str(ensure_city_spatialite()), "city", "spatialite", rounds=1, warm=False)
        with city_postgis() as url:
            bench_store(url, "city", "postgis", rounds=1, warm=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.eval", description=__doc__.splitlines()[0])
    p.add_argument("--db", help="one store to time (file or URL) instead of the district and the city")
    p.add_argument("--scale", default="district", help="the figures' scale name for --db (default district)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-city", action="store_true", help="the district only")
    p.add_argument("--no-warm-up", action="store_true", help="time the first run (a large store: minutes per run)")
    args = p.parse_args(argv)
    if args.db:
        backend = "postgis" if args.db.startswith("postgresql") else "spatialite"
        bench_store(args.db, args.scale, backend, rounds=args.rounds, warm=not args.no_warm_up)
        return 0
    run(district=str(ROOT / "data/demo/district.sqlite"), city=not args.no_city, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
