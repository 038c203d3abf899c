"""Live sync figures on a throwaway PostGIS cluster: `python -m bench.live [--cases 200]`.

1. Raw NOTIFY round trip (one connection notifies, another LISTENs): median and p95.
2. Change-to-other-screen: this process commits a change (督办); a second OS process running
   LiveSync (its own LISTEN connection, reload of the row, queue upsert) records when the row
   arrives. Latency from the commit returning to the row being in the other queue.
3. A busy day: twenty simulated workstations (threads, one database connection each) push the
   cases through the whole loop (上报 → 立案 → 派遣 → 接收 → 反馈 → 派核查 → 核查 → 结案) as
   fast as they can, while the observer process's LiveSync follows: throughput, errors (must
   be zero), change-to-other-screen latency under load, and audit verification. By default
   every step runs as its user's own database login (``gh_<user>``, opened with hall_login:
   row-level security and the workflow triggers apply); ``--as-owner`` runs them all on the
   owner's connection (exempt from the workflow checks) for comparison.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # tests/pg.py starts the cluster, world.py fills it


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _fmt(values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return f"median {statistics.median(ms):7.1f} ms   p95 {_pct(ms, 95):7.1f} ms   max {max(ms):7.1f} ms   (n={len(ms)})"


# -- the other screen ------------------------------------------------------------------------

class _Recorder:
    """The observer's queue: records when each row version arrived (monotonic, system-wide)."""

    def __init__(self, out) -> None:
        self.out = out

    def upsert(self, row, action=None) -> None:
        self.out.put((row.id, row.version, time.monotonic()))

    def remove(self, case_id, action=None) -> None:
        self.out.put((case_id, None, time.monotonic()))


def observer(url: str, out, ready, stop) -> None:
    """Process B: LiveSync on its own connection; rows go to ``out`` as they are delivered."""
    from app.services.bus import CaseBus
    from app.services.case_source import StoreCaseSource
    from app.services.live import LiveSync
    from app.store.engine import open_store
    from app.store.notify import FeedStatus, change_feed

    store = open_store(url)
    feed = change_feed(store, timeout=0.5)
    online = threading.Event()
    live = LiveSync(feed, StoreCaseSource(store), CaseBus(), lambda fn: fn(), queue=_Recorder(out),
                    on_status=lambda st: online.set() if st is FeedStatus.ONLINE else None,
                    bulk_limit=10_000)
    live.start()
    online.wait(30)
    ready.set()
    stop.wait()
    live.close()
    store.dispose()


# -- figures ---------------------------------------------------------------------------------

def raw_notify(cluster, db: str, rounds: int) -> list[float]:
    """Round trips of NOTIFY from one connection to a LISTENing other."""
    import select

    times = []
    with cluster.admin(db) as listener, cluster.admin(db) as sender:
        listener.cursor().execute("LISTEN bench")
        cur = sender.cursor()
        for i in range(rounds):
            t0 = time.monotonic()
            cur.execute(f"NOTIFY bench, '{i}'")
            while True:
                select.select([listener], [], [], 5)
                listener.poll()
                if listener.notifies:
                    listener.notifies.clear()
                    break
            times.append(time.monotonic() - t0)
    return times


def _wait_rows(out, wanted: dict[int, int], deliveries: dict, timeout: float = 30) -> None:
    """Drain ``out`` until every case id in ``wanted`` arrived at (at least) its version."""
    deadline = time.monotonic() + timeout
    while any(deliveries.get(cid, (-1,))[0] < v for cid, v in wanted.items()):
        try:
            cid, version, at = out.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise SystemExit(f"bench: LiveSync did not deliver {wanted} within {timeout} s") from None
        deliveries[cid] = (version if version is not None else 10**9, at)


def single_changes(store, world, out, rounds: int) -> tuple[list[float], list[float]]:
    """(commit durations, commit-to-other-screen latencies) of ``rounds`` sequential 督办."""
    from services.world import draft, service

    from app.domain.clock import SystemClock

    svc = service(store, SystemClock())
    r = svc.report(world.actors["supervisor"], draft())
    version, deliveries, calls, latencies = r.version, {}, [], []
    _wait_rows(out, {r.case.id: version}, deliveries)
    for i in range(rounds):
        t0 = time.monotonic()
        version = svc.urge(world.actors["boss"], r.case.id, version, note=f"第 {i} 次").version
        t1 = time.monotonic()
        _wait_rows(out, {r.case.id: version}, deliveries)
        calls.append(t1 - t0)
        latencies.append(deliveries[r.case.id][1] - t1)
    return calls, latencies


#: The busy day of the issue: 3,000 cases through the whole loop in ten minutes.
DAY_CASES = 3000

STEPS = (
    ("file", "leader_shift", {}), ("dispatch", "dispatcher", {"department": "JD001"}),
    ("accept", "dept_jd", {}), ("feedback", "dept_jd", {"text": "已清运"}),
    ("send_check", "acceptor", {}), ("check", "supervisor", {"outcome": "passed"}),
    ("close", "leader_shift", {}),
)


#: The password of the bench's database logins (a throwaway cluster).
LOGIN_PASSWORD = "Bench-login-pass-1"


def login_stores(url: str, world) -> dict:
    """One Store per user of STEPS (and the reporter), opened as that user's own database login."""
    from app.domain.clock import SystemClock
    from app.services.hall_login import hall_login
    from app.store import security
    from app.store.engine import open_store

    owner = open_store(url)
    stores = {}
    try:
        for who in {"supervisor", *(w for _, w, _ in STEPS)}:
            actor = world.actors[who]
            if not security.login_exists(owner, who):
                security.create_login(owner, who, actor.role, LOGIN_PASSWORD, department_id=actor.department_id)
            stores[who] = hall_login(url, who, LOGIN_PASSWORD, clock=SystemClock())[0]
    finally:
        owner.dispose()
    return stores


def busy_day(url: str, world, cases: int, stations: int, out, *, as_owner: bool = False) -> dict:
    """``stations`` threads push ``cases`` cases through the loop; returns the figures."""
    from services.world import INSIDE, draft, service

    from app.domain.clock import SystemClock
    from app.store.engine import open_store

    logins = {} if as_owner else login_stores(url, world)

    commits: list[tuple[int, int, float]] = []  # (case id, version, commit returned at)
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(cases))

    def station(k: int) -> None:
        store = open_store(url) if as_owner else None
        clock = SystemClock()
        # A workstation's service per login (the login stores' pools are shared by the stations).
        svcs = {who: service(store or logins[who], clock) for who in {"supervisor", *(w for _, w, _ in STEPS)}}
        try:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    at = (INSIDE[0] + (n % 97), INSIDE[1] + (n % 89))
                    r = svcs["supervisor"].report(world.actors["supervisor"],
                                                  draft(at=at, description=f"工作站 {k} 第 {n} 件"))
                    mine = [(r.case.id, r.version, time.monotonic())]
                    for action, who, kw in STEPS:
                        r = getattr(svcs[who], action)(world.actors[who], r.case.id, r.version, **kw)
                        mine.append((r.case.id, r.version, time.monotonic()))
                    with lock:
                        commits.extend(mine)
                except Exception as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if store is not None:
                store.dispose()

    t0 = time.monotonic()
    threads = [threading.Thread(target=station, args=(k,)) for k in range(stations)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for opened in logins.values():
        opened.dispose()
    # Match each commit with the first delivery of that case at that version or later.
    arrivals: dict[int, list[tuple[int, float]]] = {}
    last_version = {}
    for cid, version, _at in commits:
        last_version[cid] = max(version, last_version.get(cid, 0))
    deadline = time.monotonic() + 60
    pending = dict(last_version)
    while pending and time.monotonic() < deadline:
        try:
            cid, version, at = out.get(timeout=1)
        except queue.Empty:
            continue
        version = version if version is not None else 10**9
        arrivals.setdefault(cid, []).append((version, at))
        if cid in pending and version >= pending[cid]:
            del pending[cid]
    latencies = []
    for cid, version, at in commits:
        seen = [t for v, t in arrivals.get(cid, ()) if v >= version and t >= at]
        if seen:
            latencies.append(min(seen) - at)
    return {"elapsed": elapsed, "commits": len(commits), "errors": errors, "latencies": latencies,
            "missed": len(pending)}


def main(argv: list[str] | None = None) -> int:
    """Run the live-sync benchmarks and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200,
                        help=f"cases through the loop (the real day is {DAY_CASES} in ten minutes; the "
                             "figure printed projects the measured rate onto it)")
    parser.add_argument("--stations", type=int, default=20, help="simulated workstations")
    parser.add_argument("--rounds", type=int, default=200, help="sequential changes for the latency figures")
    parser.add_argument("--as-owner", action="store_true",
                        help="run the busy day on the owner's connection instead of each user's own login")
    args = parser.parse_args(argv)

    from pg import start_cluster
    from services.world import build_world

    from app.store.commands import init_db, verify_audit

    print("starting a throwaway PostgreSQL + PostGIS cluster …", flush=True)
    cluster = start_cluster()
    ctx = mp.get_context("spawn")
    stop, ready, out = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = None
    try:
        db = cluster.create_database()
        url = cluster.url(db)
        store = init_db(url)
        world = build_world(store)
        proc = ctx.Process(target=observer, args=(url, out, ready, stop), daemon=True)
        proc.start()
        if not ready.wait(60):
            raise SystemExit("bench: the observer process did not come online")

        print(f"\n1. raw NOTIFY round trip          {_fmt(raw_notify(cluster, db, args.rounds))}")
        calls, latencies = single_changes(store, world, out, args.rounds)
        print(f"2. change → other screen          {_fmt(latencies)}")
        print(f"   (the change itself: 督办 call  {_fmt(calls)})")

        who = "the owner's connection" if args.as_owner else "each user's own database login"
        print(f"\n3. busy day: {args.cases} cases × {len(STEPS) + 1} steps by {args.stations} workstations "
              f"as {who} …", flush=True)
        day = busy_day(url, world, args.cases, args.stations, out, as_owner=args.as_owner)
        rate = day["commits"] / day["elapsed"]
        print(f"   {day['commits']} committed steps in {day['elapsed']:.1f} s = {rate:.0f} steps/s "
              f"({rate * 600 / (len(STEPS) + 1):.0f} cases per ten minutes; the busy day needs {DAY_CASES})")
        print(f"   errors: {len(day['errors'])}" + "".join(f"\n     {e}" for e in day["errors"][:5]))
        if day["latencies"]:
            print(f"   change → other screen under load  {_fmt(day['latencies'])}")
        print(f"   cases never seen by the other screen: {day['missed']}")
        problem = verify_audit(store)
        print(f"   audit chain: {'OK' if problem is None else problem}")
        store.dispose()
        return 1 if day["errors"] or day["missed"] or problem is not None else 0
    finally:
        stop.set()
        if proc is not None:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        cluster.stop()


if __name__ == "__main__":
    raise SystemExit(main())
