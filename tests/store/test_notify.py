"""Change feeds: committed changes are reported with their case ids (read from the tables), rolled-back ones never."""

from __future__ import annotations

import json
import queue
import select

import pytest
from services.world import T0, build_world, draft, service, verified
from sqlalchemy import text

from app.domain.clock import FixedClock
from app.store.notify import CHANNEL, Changes, FeedStatus, change_feed, parse_hint

WAIT_S = 15  # generous: only a failure ever waits this long


class Collector:
    """Runs a change feed and queues what it reports (from the feed's thread)."""

    def __init__(self, store, **kw):
        self.items: queue.Queue = queue.Queue()
        fast = {"timeout": 0.1} if store.backend == "postgis" else {"interval": 0.05}
        self.feed = change_feed(store, **fast, **kw)
        self.feed.on_changes = lambda ch: self.items.put(("changes", ch))
        self.feed.on_status = lambda st: self.items.put(("status", st))
        self.feed.on_resync = lambda: self.items.put(("resync", None))

    def __enter__(self):
        self.feed.start()
        assert self.next("status") == FeedStatus.ONLINE
        return self

    def __exit__(self, *exc):
        self.feed.stop()

    def next(self, kind: str):
        while True:
            got_kind, value = self.items.get(timeout=WAIT_S)
            if got_kind == kind:
                return value

    def changes_until(self, case_id: int) -> Changes:
        """Every change reported until ``case_id`` shows up, merged."""
        merged = Changes()
        while case_id not in merged.cases:
            ch = self.next("changes")
            for cid, (action, actor) in ch.cases.items():
                merged.add_case(cid, action, actor)
            merged.claims |= ch.claims
        return merged


def test_a_commit_is_announced_with_its_case_and_action(store):
    world = build_world(store)
    svc = service(store, FixedClock(T0))
    with Collector(store) as feed:
        r = svc.report(world.actors["supervisor"], draft())
        got = feed.changes_until(r.case.id)
        assert got.cases[r.case.id] == ("report", "supervisor")
        svc.urge(world.actors["boss"], r.case.id, r.version, note="抓紧")
        assert feed.changes_until(r.case.id).cases[r.case.id] == ("urge", "boss")


def test_a_rolled_back_change_is_never_announced(store):
    world = build_world(store)
    svc = service(store, FixedClock(T0))
    first = svc.report(world.actors["supervisor"], draft())
    with Collector(store) as feed:
        with store.engine.connect() as conn:
            tx = conn.begin()
            conn.execute(text("UPDATE cases SET urge_count = urge_count + 1 WHERE id = :i"), {"i": first.case.id})
            tx.rollback()
        second = svc.report(world.actors["supervisor"], draft(description="另一处暴露垃圾"))
        got = feed.changes_until(second.case.id)
        assert first.case.id not in got.cases


def test_automatic_reply_does_not_rename_the_operators_step(store):
    world = build_world(store)
    svc = service(store, FixedClock(T0))
    with Collector(store) as feed:
        r = svc.report(world.actors["acceptor"], draft(source="hotline", reporter_phone="13800000000"))
        r = verified(svc, world, r)  # verified on site before filing
        filed = svc.file(world.actors["leader_shift"], r.case.id, r.version)
        assert filed.version == r.version + 2  # 立案 + the automatic reply to the hotline caller
        got = Changes()
        while got.cases.get(r.case.id, (None,))[0] != "file":
            for cid, (action, actor) in feed.next("changes").cases.items():
                got.add_case(cid, action, actor)
        assert got.cases[r.case.id] == ("file", "leader_shift")


@pytest.mark.parametrize("backend", [pytest.param("postgis", marks=pytest.mark.postgis)])
def test_postgres_hints_carry_no_case_data(pg_cluster, store):
    # Any login may LISTEN: a notification names the chain's last link, never a case, action or actor.
    from app.services.claims import ClaimService

    world = build_world(store)
    svc = service(store, FixedClock(T0))
    first = svc.report(world.actors["supervisor"], draft())
    raw = pg_cluster.admin(store.url.database)
    with raw as conn:
        conn.cursor().execute(f"LISTEN {CHANNEL}")
        r = svc.urge(world.actors["boss"], first.case.id, first.version, note="抓紧")
        with store.engine.begin() as c:  # a case row changed without an event (the owner): no hint
            c.execute(text("UPDATE cases SET updated_at = updated_at"))
        ClaimService(store, FixedClock(T0)).claim(world.actors["dispatcher"], r.case.id, "席位 3", action="dispatch")
        payloads = []
        while len(payloads) < 2:
            assert select.select([conn], [], [], WAIT_S)[0], f"only {len(payloads)} notifications"
            conn.poll()
            payloads += [n.payload for n in conn.notifies]
            conn.notifies.clear()
    with store.engine.connect() as c:
        head = c.execute(text("SELECT chain_no FROM audit_head")).scalar()
    assert [json.loads(p) for p in payloads] == [{"chain": head}, {"claims": True}]
    assert str(first.case.id) not in payloads[0].replace(str(head), "")


def test_claims_are_announced(store):
    from app.services.claims import ClaimService

    world = build_world(store)
    svc = service(store, FixedClock(T0))
    r = svc.report(world.actors["supervisor"], draft())
    claims = ClaimService(store, FixedClock(T0))
    with Collector(store) as feed:
        claims.claim(world.actors["dispatcher"], r.case.id, "席位 3", action="dispatch")
        while r.case.id not in feed.next("changes").claims:
            pass
        claims.release(world.actors["dispatcher"], r.case.id)
        while r.case.id not in feed.next("changes").claims:
            pass


def test_hints_are_parsed_strictly():
    assert parse_hint('{"chain": 12}') == (12, False)
    assert parse_hint('{"claims": true}') == (None, True)
    for junk in ("not json", "[1]", '{"ids": [5], "action": "report"}', '{"chain": "12"}', '{"chain": true}',
                 '{"claims": 1}', '{"resync": true}', '{"a":' * 3000 + "1" + "}" * 3000, '{"chain": 1e400}',
                 '{"chain": ' + "9" * 5000 + "}"):
        assert parse_hint(junk) == (None, False), junk


def test_a_forged_notification_or_a_bug_does_not_stop_the_feed(store):
    world = build_world(store)
    svc = service(store, FixedClock(T0))
    with Collector(store) as feed:
        if store.backend == "postgis":  # any database user may NOTIFY the channel
            with store.engine.begin() as conn:
                conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": '{"ids": ["x"]}'})
        else:  # an unexpected error inside the feed's loop

            def broken(_conn):
                del feed.feed._read  # fails once, then the real one again
                raise ValueError("a bug")

            feed.feed._read = broken
        r = svc.report(world.actors["supervisor"], draft())
        assert feed.changes_until(r.case.id).cases[r.case.id] == ("report", "supervisor")
        assert feed.feed.status is FeedStatus.ONLINE
