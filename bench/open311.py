"""Open311 throughput: `python -m bench.open311 [--db data/demo/district.sqlite] [--seconds 10] [--clients 4]`.

Copies ``--db`` (never the original), upgrades the copy, makes a key, starts ``gridhall serve-open311``
on it in its own process on a free loopback port (uvicorn, as deployed), then drives it from this
process with ``--clients`` keep-alive HTTP connections (threads) for ``--seconds`` each:

  GET  /requests.json   a week of the district's requests (start_date/end_date; the count is printed)
  POST /requests.json   a form-encoded public report at a random grid's centre

and records (2 cores: server and clients share them):

  open311.get_rps, open311.get_p50_ms, open311.get_p99_ms
  open311.post_rps, open311.post_p50_ms, open311.post_p99_ms
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def _drive(host: str, port: int, make: object, seconds: float, clients: int) -> tuple[int, int, list[float]]:
    """(ok, failed, latencies in ms) of ``clients`` threads sending ``make(rng)`` → (method, path, body, headers)."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    ok = failed = 0
    latencies: list[float] = []

    def client(seed: int) -> None:
        nonlocal ok, failed
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine: list[float] = []
        good = bad = 0
        while time.monotonic() < stop:
            method, path, body, headers = make(rng)  # type: ignore[operator]
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                status = 0
            mine.append((time.perf_counter() - t0) * 1000)
            if status == 200:
                good += 1
            else:
                bad += 1
        conn.close()
        with lock:
            ok += good
            failed += bad
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, failed, latencies


def _start_server(db: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve-open311", "--db", db, "--host", "127.0.0.1",
                             "--port", "0", "--anonymous-rate", "1000000"], cwd=ROOT, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env={**os.environ, "GRIDHALL_LANG": "en"})
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError("gridhall serve-open311 exited before it listened")
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
            return proc, int(m.group(1))
    proc.kill()
    raise RuntimeError("gridhall serve-open311 did not say where it listens")


def run(db: str, *, seconds: float = 10.0, clients: int = 4) -> dict[str, float]:
    from app.domain.clock import SystemClock
    from app.services import open311 as o3
    from app.store.commands import upgrade_db
    from app.store.models import Case, UnitGrid
    from bench import figures

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "district.sqlite"
        shutil.copy(db, copy)  # never the original
        store = upgrade_db(copy)
        key = o3.add_key(store, "bench", rate_per_minute=100000, now=SystemClock().now()).key
        with store.session() as s:
            latest = s.scalar(select(func.max(Case.reported_at)))
            points = [(float(x), float(y)) for x, y in s.execute(
                select(func.ST_X(func.ST_Centroid(UnitGrid.geom)), func.ST_Y(func.ST_Centroid(UnitGrid.geom)))
                .limit(500)).all()]
        store.dispose()
        lonlats = [o3.lonlat(x, y) for x, y in points]
        end = latest or SystemClock().now()
        start = end - timedelta(days=7)
        get_path = "/requests.json?" + urllib.parse.urlencode({"start_date": o3.w3(start), "end_date": o3.w3(end)})
        proc, port = _start_server(str(copy))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", get_path)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            count = body.count(b'"service_request_id"')
            print(f"GET {get_path} → {resp.status}, {count} requests, {len(body):,} bytes")

            def get(_rng: random.Random) -> tuple[str, str, None, dict[str, str]]:
                return "GET", get_path, None, {}

            def post(rng: random.Random) -> tuple[str, str, bytes, dict[str, str]]:
                lat, long = rng.choice(lonlats)
                body = urllib.parse.urlencode({"api_key": key, "service_code": "event:06010", "lat": lat, "long": long,
                                               "description": "bench: 暴露垃圾", "phone": "13800000000"}).encode()
                return "POST", "/requests.json", body, {"Content-Type": "application/x-www-form-urlencoded"}

            for name, make in (("get", get), ("post", post)):
                _drive("127.0.0.1", port, make, 1.0, clients)  # warm-up
                t0 = time.perf_counter()
                good, bad, lat_ms = _drive("127.0.0.1", port, make, seconds, clients)
                elapsed = time.perf_counter() - t0
                rps = good / elapsed
                out[f"{name}_rps"] = figures.record(f"open311.{name}_rps", rps, "per_s")
                out[f"{name}_p50_ms"] = figures.record(f"open311.{name}_p50_ms", _percentile(lat_ms, 0.50), "ms")
                out[f"{name}_p99_ms"] = figures.record(f"open311.{name}_p99_ms", _percentile(lat_ms, 0.99), "ms")
                print(f"open311.{name}_rps {rps:.1f} ({good} ok, {bad} not 200, {clients} clients, {elapsed:.1f} s); "
                      f"p50 {out[f'{name}_p50_ms']:.1f} ms, p99 {out[f'{name}_p99_ms']:.1f} ms")
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="data/demo/district.sqlite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    run(args.db, seconds=args.seconds, clients=args.clients)


if __name__ == "__main__":
    main()
