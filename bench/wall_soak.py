"""The wall runs for days (issue 14, item 4): the ``wall`` group of ``make bench``.

The wall (``app.wall.Wall``, offscreen at 3840x2160) over a copy of the demo district, live on its
change feed, while another process — a leader at another workstation — writes ``rate`` changes a
second (督办 urges, one transaction each) for ``seconds`` seconds. Both run on one accelerated
clock (``speed`` × real time, starting at the district's last event), so the default two minutes
at ×30 replay one busy hour: lights turn, the playlist rotates, the figures are re-read after
every burst and every ``refresh_s``.

Figures::

  wall.soak_rss_growth_mb       resident memory at the end minus after the warm-up (first quarter)
  wall.redraw_ms                median time of one map redraw (renderStarting → mapCanvasRefreshed)
  wall.stall_max_ms             the largest lateness of a 5 ms probe timer on the GUI thread after the
                                first 5 s (start-up, printed apart)
  wall.change_to_wall_p95_ms    commit at the workstation → the row in the wall's queue, 95th percentile
  wall.changes                  changes written and seen (count)

  python -m bench.wall_soak [--db data/demo/district.sqlite] [--seconds 120] [--rate 10] [--speed 30]
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
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyqt5")

from bench.figures import record  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Seconds of start-up left out of the stall figure (printed apart).
WARMUP_S = 5.0


class AcceleratedClock:
    """``start`` at the real instant ``epoch``, then ``speed`` times faster than real time."""

    def __init__(self, start: datetime, epoch: float, speed: float) -> None:
        self.start, self.epoch, self.speed = start, epoch, speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.epoch) * self.speed)


_WRITER = """
import sys, time
from datetime import datetime
from app.core import open_core
from app.services.case_source import StoreCaseSource
from bench.desk_stall import _actor
from bench.wall_soak import AcceleratedClock
db, start, epoch, speed, seconds, rate = sys.argv[1:7]
clock = AcceleratedClock(datetime.fromisoformat(start), float(epoch), float(speed))
core = open_core("sqlite:///" + db, clock)
leader = _actor(core.store, "leader")
source = StoreCaseSource(core.store)
rows = source.open_cases()
end = time.time() + float(seconds)
interval = 1.0 / float(rate)
i = 0
next_at = time.time()
while time.time() < end:
    row = rows[i % len(rows)]
    i += 1
    try:
        current = source.case(row.id)
        version = current.version if current is not None else row.version
        result = core.cases.urge(leader, row.id, version, note="大屏压测")
        print(row.id, result.version, repr(time.time()), flush=True)
    except Exception as exc:
        print("skip", row.id, type(exc).__name__, file=sys.stderr)
    next_at += interval
    time.sleep(max(0.0, next_at - time.time()))
core.store.dispose()
"""


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _last_event(path: Path) -> datetime:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return datetime.fromisoformat(conn.execute("SELECT max(at) FROM case_events").fetchone()[0])
    finally:
        conn.close()


def run(db: str, *, seconds: float = 120, rate: float = 10, speed: float = 30, size=(3840, 2160)) -> dict:
    from qgis.PyQt.QtCore import QTimer

    from app.gis.qgis_app import start_qgis
    from app.store.commands import upgrade_db
    from app.store.wall import open_wall_store
    from app.views.wall.layout import load_layout
    from app.wall import Wall
    from bench.desk_stall import Probe

    app = start_qgis()
    tmp = Path(tempfile.mkdtemp(prefix="gridhall-wall-soak-"))
    try:
        copy = tmp / "district.sqlite"
        shutil.copyfile(db, copy)
        upgrade_db(copy).dispose()
        start = _last_event(copy) + timedelta(minutes=1)
        epoch = time.time()
        clock = AcceleratedClock(start, epoch, speed)
        store = open_wall_store(copy)
        layout, _problem = load_layout()
        wall = Wall(store, clock, layout, height=size[1])
        for window in wall.screens:
            window.resize(*size)
            window.show()
        wall.load_now()
        wall.start(live=True)
        seen: dict[tuple[int, int], float] = {}

        def heard(ids) -> None:
            t = time.time()
            for case_id in ids:
                row = wall.state.summary(case_id)
                if row is not None:
                    seen.setdefault((case_id, row.version), t)

        wall.state.events.rows_changed.connect(heard)
        redraws: list[float] = []
        started: list[float] = []
        canvas = wall.map.canvas
        canvas.renderStarting.connect(lambda: started.append(time.perf_counter()))
        canvas.mapCanvasRefreshed.connect(lambda: redraws.append((time.perf_counter() - started[-1]) * 1000)
                                          if started else None)
        rss: list[tuple[float, float]] = []
        sampler = QTimer()
        sampler.setInterval(1000)
        sampler.timeout.connect(lambda: rss.append((time.time() - epoch, _rss_mb())))
        sampler.start()
        probe = Probe()
        probe.start()
        sampler_stacks = None
        if os.environ.get("GRIDHALL_BENCH_VERBOSE"):  # name what the GUI thread did in the longest stalls
            from bench.desk_stall import Watchdog

            sampler_stacks = Watchdog(probe)
        out = open(tmp / "writer.out", "w")  # noqa: SIM115 - closed below
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(copy), start.isoformat(), repr(epoch),
                                   str(speed), str(seconds), str(rate)], cwd=ROOT, stdout=out,
                                  stderr=subprocess.DEVNULL)
        while writer.poll() is None:
            app.processEvents()
            time.sleep(0.002)
        settle = time.time() + 3
        while time.time() < settle:  # the last changes arrive
            app.processEvents()
            time.sleep(0.002)
        probe.stop()
        sampler.stop()
        if sampler_stacks is not None:
            sampler_stacks.close()
            for gap, end in sorted(zip(probe.gaps, probe.ends, strict=True), reverse=True)[:3]:
                print(f"   stall {gap:.0f} ms at {end - probe.ends[0]:.1f} s:")
                for where, n in sampler_stacks.blame(end - gap / 1000 - 0.005, end)[:4]:
                    print(f"      {n:3d} × {where}")
        out.close()
        written = []
        for line in (tmp / "writer.out").read_text().split("\n"):
            parts = line.split()
            if len(parts) == 3:
                written.append(((int(parts[0]), int(parts[1])), float(parts[2])))
        latencies = sorted((seen[key] - t) * 1000 for key, t in written if key in seen)
        warm = [m for t, m in rss if t >= seconds / 4]
        # the event loop after start-up (the first WARMUP_S: the first paint of the 4K windows and the map)
        first = probe.ends[0] if probe.ends else 0.0
        steady = [g for g, end in zip(probe.gaps, probe.ends, strict=True) if end - first >= WARMUP_S]
        startup = [g for g, end in zip(probe.gaps, probe.ends, strict=True) if end - first < WARMUP_S]
        growth = (rss[-1][1] - warm[0]) if warm else 0.0
        figures = {
            "wall.soak_rss_growth_mb": (growth, "mb"),
            "wall.redraw_ms": (statistics.median(redraws) if redraws else 0.0, "ms"),
            "wall.stall_max_ms": (max(steady) if steady else 0.0, "ms"),
            "wall.change_to_wall_p95_ms": (latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
                                          "ms"),
            "wall.changes": (len(latencies), "count"),
        }
        print(f"wall soak: {len(written)} changes written in {seconds:.0f} s at {rate:g}/s, clock ×{speed:g} "
              f"({seconds * speed / 3600:.2f} simulated hours); {len(latencies)} seen on the wall; "
              f"{len(redraws)} map redraws; start-up stall {max(startup) if startup else 0:.0f} ms; RSS {rss[0][1] if rss else 0:.0f} → {rss[-1][1] if rss else 0:.0f} MB")
        for name, (value, unit) in figures.items():
            print(f"   {name:32s} {value:10.1f} {unit}")
            if value == value:  # NaN (nothing seen) is printed, never recorded
                record(name, value, unit)
        wall.close()
        store.dispose()
        return figures
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.wall_soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="data/demo/district.sqlite")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--speed", type=float, default=30)
    args = parser.parse_args(argv)
    run(args.db, seconds=args.seconds, rate=args.rate, speed=args.speed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
