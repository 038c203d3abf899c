"""Monthly bulletin build time: `python -m bench.bulletin [--db district.sqlite] [--city FILE] [--rounds 3]`.

Times the whole command an unattended timer runs (docs/bulletin.md) — a new process, the audit
chain's verification, the evaluation, the ledger, QGIS's map page and the PDF — on a copy of the
store (upgraded there if older; the build history goes into the copy):

  report.monthly_s.district   the demo district (``--db``), goal < 10 s
  report.monthly_s.city       the city demo (``--city``, when that file exists), goal < 60 s
  report.verify_s.<scale>     of which the audit chain's verification alone (make_seal)

The month is the last complete one of the store's events (the month before its newest event).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.figures import record  # noqa: E402


def _month(db: str) -> str:
    from sqlalchemy import func, select

    from app.services.bulletin import Month
    from app.store.engine import open_store
    from app.store.models import CaseEvent

    store = open_store(db)
    try:
        with store.session() as s:
            last = s.scalar(select(func.max(CaseEvent.at)))
    finally:
        store.dispose()
    return str(Month(last.year, last.month).previous())


def _verify_s(db: str) -> float:
    from app.domain.clock import SystemClock
    from app.store.engine import open_store
    from app.store.seal import make_seal

    store = open_store(db)
    try:
        t0 = time.perf_counter()
        make_seal(store, SystemClock())
        return time.perf_counter() - t0
    finally:
        store.dispose()


def bench_one(scale: str, source: str, rounds: int) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory(prefix="gridhall-bench-bulletin-") as tmp:
        db = str(Path(tmp) / "store.sqlite")
        shutil.copyfile(source, db)
        subprocess.run([sys.executable, "-m", "app", "db", "upgrade", "--db", db], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        month = _month(db)
        times = []
        for n in range(rounds):
            out = Path(tmp) / f"b{n}.pdf"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "app", "report", "monthly", "--month", month, "--out", str(out),
                            "--db", db], cwd=ROOT, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        verify = _verify_s(db)
    record(f"report.monthly_s.{scale}", round(median, 2), "s")
    record(f"report.verify_s.{scale}", round(verify, 2), "s")
    print(f"bulletin {scale} {month}: {median:.1f} s median of {rounds} (min {min(times):.1f} s); "
          f"audit chain verification alone {verify:.1f} s")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=str(ROOT / "data/demo/district.sqlite"))
    p.add_argument("--city", default=str(ROOT / "build/demo/city.sqlite"))
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    bench_one("district", args.db, args.rounds)
    if args.city and Path(args.city).is_file():
        bench_one("city", args.city, max(1, args.rounds - 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
