"""Live sync figures on a throwaway PostGIS cluster: `python -m bench.live [--cases 200]`.

Also `make bench ONLY=live`. Every figure printed is recorded as ``live.*`` in build/bench.json
(``bench/figures.py``).

1. Raw NOTIFY round trip (one connection notifies, another LISTENs): median and p95.
2. Change-to-other-screen: this process commits a change (督办); a second OS process running
   LiveSync (its own LISTEN connection, reload of the row, queue upsert) records when the row
   arrives. Latency from the commit returning to the row being in the other queue.
3. A busy day: twenty simulated workstations (OS processes, one database connection each, as
   in a hall) push the cases through the whole loop (上报 → 立案 → 派遣 → 接收 → 反馈 → 派核查 →
   核查 → 结案) as fast as they can, handing each case on to a desk of the next step's user,
   while the observer process's LiveSync follows: throughput, errors (must be zero),
   change-to-other-screen latency under load, and audit verification. By default each desk is
   its user's own database login (``gh_<user>``, opened with hall_login: row-level security
   and the workflow triggers apply); ``--as-owner`` connects them as the owner (exempt from
   the workflow checks) for comparison.
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
if str(ROOT) not in sys.path:  # `python bench/live.py` as well as `python -m bench.live`
    sys.path.insert(0, str(ROOT))

from bench.figures import record  # noqa: E402


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _fmt(values_s: list[float], name: str) -> str:
    """Median, p95 and max in ms; each recorded as ``<name>_median`` / ``_p95`` / ``_max``."""
    ms = [v * 1000 for v in values_s]
    med, p95, top = record(f"{name}_median", statistics.median(ms), "ms"), \
        record(f"{name}_p95", _pct(ms, 95), "ms"), record(f"{name}_max", max(ms), "ms")
    return f"median {med:7.1f} ms   p95 {p95:7.1f} ms   max {top:7.1f} ms   (n={len(ms)})"


# -- the other screen ------------------------------------------------------------------------

class _Recorder:
    """The observer's queue: records when each row version arrived (monotonic, system-wide)."""

    def __init__(self, out) -> None:
        self.out = out

    def upsert(self, row, action=None) -> None:
        self.out.put((row.id, row.version, time.monotonic()))

    def remove(self, case_id, action=None, version=None) -> None:
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
    from app.domain.clock import SystemClock
    from bench.world import draft, service

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
#: Workstations per user: each workstation is one OS process with one login (one connection),
#: as in a hall; the counts follow the steps each user takes (see STEPS).
DESKS = {"supervisor": 5, "leader_shift": 5, "dept_jd": 5, "dispatcher": 3, "acceptor": 2}
#: The user of each step of the loop, 0 being 上报.
STEP_USERS = ("supervisor", *(who for _, who, _ in STEPS))


def create_logins(url: str, world) -> None:
    """A database login for every user of the loop (gh_<user>, in its role's group)."""
    from app.store import security
    from app.store.engine import open_store

    owner = open_store(url)
    try:
        for who in DESKS:
            actor = world.actors[who]
            if not security.login_exists(owner, who):
                security.create_login(owner, who, actor.role, LOGIN_PASSWORD, department_id=actor.department_id)
    finally:
        owner.dispose()


def _next_item(mine, fresh):
    """The next work item: cases already in the loop first, new reports (``fresh``) otherwise."""
    while True:
        for source in (mine, fresh):
            if source is not None:
                try:
                    return source.get_nowait()
                except queue.Empty:
                    pass
        try:
            return mine.get(timeout=0.05)
        except queue.Empty:
            continue


def desk(url: str, who: str, actor, as_owner: bool, inboxes, fresh, results, go) -> None:
    """One workstation process: ``who``'s steps from its inbox (上报 from ``fresh``) until None."""
    from app.domain.clock import SystemClock
    from app.services.hall_login import hall_login
    from app.store.engine import open_store
    from bench.world import INSIDE, draft, service

    clock = SystemClock()
    store = open_store(url) if as_owner else hall_login(url, who, LOGIN_PASSWORD, clock=clock)[0]
    svc = service(store, clock)
    mine, fresh = inboxes[who], fresh if who == "supervisor" else None
    results.put(("ready", None, None, None))
    go.wait()
    try:
        while True:
            item = _next_item(mine, fresh)
            if item is None:
                return
            step, case_id, version = item
            try:
                if step == 0:
                    at = (INSIDE[0] + (case_id % 97), INSIDE[1] + (case_id % 89))
                    r = svc.report(actor, draft(at=at, description=f"{who} 第 {case_id} 件"))
                else:
                    action, _, kw = STEPS[step - 1]
                    r = getattr(svc, action)(actor, case_id, version, **kw)
                results.put(("commit", r.case.id, r.version, time.monotonic()))
                if step < len(STEPS):
                    inboxes[STEP_USERS[step + 1]].put((step + 1, r.case.id, r.version))
                else:
                    results.put(("done", r.case.id, None, None))
            except Exception as exc:  # counted and printed by the bench
                results.put(("error", case_id, f"{type(exc).__name__}: {exc}", None))
    finally:
        store.dispose()


def busy_day(url: str, world, cases: int, out, *, as_owner: bool = False) -> dict:
    """Workstation processes (DESKS) push ``cases`` cases through the loop; returns the figures."""
    ctx = mp.get_context("spawn")
    if not as_owner:
        create_logins(url, world)
    inboxes = {who: ctx.Queue() for who in DESKS}
    fresh, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    for n in range(cases):
        fresh.put((0, n, 0))
    procs = [ctx.Process(target=desk, args=(url, who, world.actors[who], as_owner, inboxes, fresh, results, go),
                         daemon=True) for who, count in DESKS.items() for _ in range(count)]
    commits: list[tuple[int, int, float]] = []  # (case id, version, commit returned at)
    errors: list[str] = []
    for proc in procs:
        proc.start()
    for _ in procs:  # every desk logged in (process start-up is not part of the day)
        if results.get(timeout=300)[0] != "ready":
            raise SystemExit("bench: a workstation reported before all were ready")
    t0 = time.monotonic()
    go.set()
    finished = 0
    while finished < cases:
        try:
            kind, cid, value, at = results.get(timeout=120)
        except queue.Empty:
            raise SystemExit(f"bench: the workstations stopped after {finished} of {cases} cases") from None
        if kind == "commit":
            commits.append((cid, value, at))
        else:
            finished += 1
            if kind == "error":
                errors.append(value)
    elapsed = time.monotonic() - t0
    for who, count in DESKS.items():
        for _ in range(count):
            inboxes[who].put(None)
    for proc in procs:
        proc.join(30)
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
    parser.add_argument("--rounds", type=int, default=200, help="sequential changes for the latency figures")
    parser.add_argument("--as-owner", action="store_true",
                        help="run the busy day on the owner's connection instead of each user's own login")
    args = parser.parse_args(argv)

    from app.store.cluster import start_cluster
    from app.store.commands import init_db, verify_audit
    from bench.world import build_world

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

        print(f"\n1. raw NOTIFY round trip          {_fmt(raw_notify(cluster, db, args.rounds), 'live.notify_roundtrip')}")
        calls, latencies = single_changes(store, world, out, args.rounds)
        print(f"2. change → other screen          {_fmt(latencies, 'live.change_to_screen')}")
        print(f"   (the change itself: 督办 call  {_fmt(calls, 'live.urge_call')})")

        who = "the owner's connection" if args.as_owner else "each user's own database login"
        print(f"\n3. busy day: {args.cases} cases × {len(STEPS) + 1} steps by {sum(DESKS.values())} workstation "
              f"processes as {who} …", flush=True)
        day = busy_day(url, world, args.cases, out, as_owner=args.as_owner)
        rate = day["commits"] / day["elapsed"]
        fig = "live.busy_day_owner" if args.as_owner else "live.busy_day"
        record(f"{fig}_steps", day["commits"], "count")
        record(f"{fig}_seconds", day["elapsed"], "s")
        record(f"{fig}_steps_per_s", rate, "per_s")
        per_ten = record(f"{fig}_cases_per_10min", rate * 600 / (len(STEPS) + 1), "count")
        print(f"   {day['commits']} committed steps in {day['elapsed']:.1f} s = {rate:.0f} steps/s "
              f"({per_ten:.0f} cases per ten minutes; the busy day needs {DAY_CASES})")
        record(f"{fig}_errors", len(day["errors"]), "count")
        print(f"   errors: {len(day['errors'])}" + "".join(f"\n     {e}" for e in day["errors"][:5]))
        if day["latencies"]:
            print(f"   change → other screen under load  {_fmt(day['latencies'], f'{fig}_change_to_screen')}")
        record(f"{fig}_missed", day["missed"], "count")
        print(f"   cases never seen by the other screen: {day['missed']}")
        problem = verify_audit(store)
        record(f"{fig}_audit_ok", problem is None, "bool")
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
