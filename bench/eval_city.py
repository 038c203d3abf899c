"""The city-scale demo store, built once and cached under build/demo/ for the evaluation and bulletin benches.

``python -m bench.eval_city [--backend spatialite|postgis|both]`` builds what is missing:

  build/demo/city.sqlite        ``gridhall demo --scale city`` (seed 1) on SpatiaLite (~3 GB, ~4 min)
  build/demo/city-pg/           a stopped PostgreSQL cluster holding the same city (~3.3 GB, ~5 min);
                                 :func:`city_postgis` starts it (on a free port) and stops it after use

The stores are the platform issue's city demo (bench/demo_city.py builds the same in a temporary
place and throws it away). Delete the files to rebuild; a half-built cache is never left: the
SpatiaLite file is built under another name and renamed, the cluster directory likewise.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CACHE = ROOT / "build" / "demo"
CITY_SQLITE = CACHE / "city.sqlite"
CITY_PG = CACHE / "city-pg"
#: The demo's "now" (fixed, so the cached city is the same whichever day it was built).
NOW = datetime(2026, 12, 1, 8, 0, 0)


def _progress(label: str) -> Callable[[float, str], None]:
    started, last = time.monotonic(), [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 60 or fraction >= 1.0:
            last[0] = now
            print(f"    {label} {now - started:7.1f} s  {fraction:6.1%}  {message}", flush=True)

    return report


def ensure_city_spatialite() -> Path:
    """build/demo/city.sqlite, built now if missing."""
    if CITY_SQLITE.is_file():
        return CITY_SQLITE
    from data.democity.generate import generate

    CACHE.mkdir(parents=True, exist_ok=True)
    part = CACHE / "city.sqlite.part"
    part.unlink(missing_ok=True)
    print("  building the city demo on SpatiaLite (cached in build/demo/city.sqlite) …", flush=True)
    generate(str(part), seed=1, scale="city", now=NOW, progress=_progress("spatialite"))
    part.rename(CITY_SQLITE)
    return CITY_SQLITE


def _cluster_at(root: Path) -> tuple[Any, str]:
    """A PgCluster object for the cached cluster directory ``root`` (not started)."""
    from app.store.cluster import PgCluster, _free_port

    cluster = PgCluster()
    shutil.rmtree(cluster.root, ignore_errors=True)  # the fresh temp dir it made
    cluster.root = root
    cluster.data = root / "data"
    cluster.socket_dir = root
    cluster.log = root / "server.log"
    cluster.port = _free_port()
    meta = json.loads((root / "bench.json").read_text())
    cluster.password = meta["password"]
    return cluster, meta["database"]


def ensure_city_postgis() -> Path:
    """build/demo/city-pg (a stopped cluster with the city), built now if missing."""
    if (CITY_PG / "bench.json").is_file():
        return CITY_PG
    from app.store.cluster import start_cluster
    from data.democity.generate import generate

    CACHE.mkdir(parents=True, exist_ok=True)
    cluster = start_cluster()
    try:
        name = cluster.create_database()
        print("  building the city demo on PostGIS (cached in build/demo/city-pg) …", flush=True)
        generate(cluster.url(name), seed=1, scale="city", now=NOW, progress=_progress("postgis"))
        with cluster.admin(name) as conn:
            conn.cursor().execute("VACUUM ANALYZE")
        cluster.stop_server("fast")
        part = CACHE / "city-pg.part"
        shutil.rmtree(part, ignore_errors=True)
        shutil.move(str(cluster.root), part)
        meta = {"password": cluster.password, "database": name}
        (part / "bench.json").write_text(json.dumps(meta))
        if os.geteuid() == 0:  # the server runs as postgres: the directory must stay its own
            pg = pwd.getpwnam("postgres")
            os.chown(part, pg.pw_uid, pg.pw_gid)
        part.rename(CITY_PG)
    except BaseException:
        cluster.stop()
        raise
    return CITY_PG


@contextmanager
def city_postgis() -> Iterator[str]:
    """Start the cached city cluster; yields its URL; stops it afterwards (the files stay)."""
    root = ensure_city_postgis()
    cluster, name = _cluster_at(root)
    cluster.start_server()
    try:
        yield cluster.url(name)
    finally:
        cluster.stop_server("fast")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_city", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    args = parser.parse_args(argv)
    if args.backend in ("spatialite", "both"):
        print(ensure_city_spatialite())
    if args.backend in ("postgis", "both"):
        print(ensure_city_postgis())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
