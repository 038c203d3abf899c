"""City-scale demo build on both backends: `python -m bench.demo_city [--backend both] [--scale city]`.

Builds ``gridhall demo --scale city`` (~250,000 components, ~1,000,000 cases, ~7,500,000
case events) into a temporary SpatiaLite file and into a throwaway PostGIS cluster, then
checks the audit chain as ``gridhall db verify-audit`` does. Figures (``bench/figures.py``,
build/bench.json):

  demo.city_s.spatialite / demo.city_s.postgis            build time, wall (s)
  demo.city_cpu_s.<backend>                                this process's CPU for the build (s)
  demo.city_writer_cpu_s.<backend>                         the writer process's CPU (s; city scale)
  demo.city_bytes.<backend>                                file / database size
  demo.city_verify_s.<backend>, demo.city_audit_ok.<backend>  verify-audit time and result
  demo.city_cases, demo.city_events, demo.city_components  what was built

The machine is shared with whatever else runs: the CPU figure says how much of the wall time
was this build's own work. ``--scale district`` (or tiny) gives the same figures under
``demo.<scale>_…`` for a quick look.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/demo_city.py` as well as `python -m bench.demo_city`
    sys.path.insert(0, str(ROOT))

from bench.figures import record  # noqa: E402

BACKENDS = ("spatialite", "postgis")


def _start_cluster():
    from app.store.cluster import start_cluster

    return start_cluster()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the writer process, once it has ended
    return usage.ru_utime + usage.ru_stime


def _progress(started: float):
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 30 or fraction >= 1.0:
            last[0] = now
            print(f"    {now - started:7.1f} s  {fraction:6.1%}  {message}", flush=True)

    return report


def build(backend: str, *, scale: str = "city", seed: int = 1, verify: bool = True,
          workdir: Path | None = None) -> dict[str, float]:
    """Build the demo at ``scale`` on ``backend``; returns (and records) its figures."""
    from app.store.commands import verify_audit
    from app.store.engine import open_store
    from data.democity.generate import generate

    prefix = f"demo.{scale}"
    out: dict[str, float] = {}
    cluster = None
    tmp = Path(tempfile.mkdtemp(prefix="gridhall-city-", dir=workdir))
    try:
        if backend == "spatialite":
            url = str(tmp / f"{scale}.sqlite")
        else:
            cluster = _start_cluster()
            name = cluster.create_database()
            url = cluster.url(name)
        print(f"  {backend}: building {scale} …", flush=True)
        started, cpu, children = time.monotonic(), time.process_time(), _children_cpu()
        summary = generate(url, seed=seed, scale=scale, progress=_progress(started))
        out[f"{prefix}_s.{backend}"] = time.monotonic() - started
        out[f"{prefix}_cpu_s.{backend}"] = time.process_time() - cpu
        out[f"{prefix}_writer_cpu_s.{backend}"] = _children_cpu() - children
        if cluster is None:
            out[f"{prefix}_bytes.{backend}"] = Path(url).stat().st_size
        else:
            out[f"{prefix}_bytes.{backend}"] = cluster.database_size(name)
        out[f"{prefix}_cases"], out[f"{prefix}_events"] = summary.cases, summary.events
        out[f"{prefix}_components"] = summary.components
        if verify:
            store = open_store(url)
            try:
                t0 = time.monotonic()
                problem = verify_audit(store)
                out[f"{prefix}_verify_s.{backend}"] = time.monotonic() - t0
                out[f"{prefix}_audit_ok.{backend}"] = int(problem is None)
                if problem is not None:
                    print(f"    verify-audit: {problem}", flush=True)
            finally:
                store.dispose()
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for key, value in out.items():
        unit = "s" if "_s." in key else ("bytes" if "_bytes." in key else ("bool" if "_ok." in key else "count"))
        record(key, value, unit)
    print("  " + "   ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in out.items()),
          flush=True)
    return out


def run(backends=BACKENDS, *, scale: str = "city", seed: int = 1, verify: bool = True) -> dict[str, float]:
    """Build on each of ``backends`` in turn; all figures (also recorded) in one dict."""
    figures: dict[str, float] = {}
    for backend in backends:
        figures.update(build(backend, scale=scale, seed=seed, verify=verify))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.demo_city", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--scale", default="city", help="city (default), district or tiny")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-verify", action="store_true", help="skip the verify-audit pass")
    args = parser.parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    figures = run(backends, scale=args.scale, seed=args.seed, verify=not args.no_verify)
    return 0 if all(v for k, v in figures.items() if "_audit_ok." in k) else 1


if __name__ == "__main__":
    raise SystemExit(main())
