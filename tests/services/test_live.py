"""Live sync: what one workstation commits appears in another's queue and on its bus."""

from __future__ import annotations

import queue
import time

import pytest
from sqlalchemy import update

from app.domain.calendar import WorkCalendar
from app.domain.clock import FixedClock
from app.services.bus import CaseBus
from app.services.case_source import StoreCaseSource
from app.services.live import LiveSync
from app.store.audit import bulk_append
from app.store.engine import open_store
from app.store.models import Case
from app.store.notify import FeedStatus, change_feed
from app.views.queue_state import QueueState
from services.world import T0, draft, service

WAIT_S = 15


class Inbox:
    """The test thread's stand-in for the GUI thread: closures queued from any thread, run by ``pump``."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def __call__(self, fn) -> None:
        self.q.put(fn)

    def pump(self, until, what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not until():
            try:
                fn = self.q.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"timed out waiting for {what}")
            fn()


class Workstation:
    """Another client of the same database: its own engine, queue, bus and LiveSync."""

    def __init__(self, store, *, bulk_limit: int = 300) -> None:
        self.store = open_store(store.path or store.url.render_as_string(hide_password=False))
        self.state = QueueState(WorkCalendar())
        self.state.reset([], T0)
        self.bus = CaseBus()
        self.heard: list = []
        self.bus.subscribe(self.heard.append)
        self.inbox = Inbox()
        self.resyncs = 0
        self.statuses: list[FeedStatus] = []
        fast = {"timeout": 0.1} if store.backend == "postgis" else {"interval": 0.05}
        self.live = LiveSync(change_feed(self.store, **fast), StoreCaseSource(self.store), self.bus, self.inbox,
                             queue=self.state, on_resync=self._resync, on_status=self.statuses.append,
                             bulk_limit=bulk_limit)
        self.actions: list = []
        self.state.events.case_event.connect(lambda cid, action: self.actions.append((cid, action)))

    def _resync(self) -> None:
        self.resyncs += 1

    def __enter__(self):
        self.live.start()
        self.inbox.pump(lambda: FeedStatus.ONLINE in self.statuses, "the feed to come online")
        return self

    def __exit__(self, *exc):
        self.live.close()
        self.store.dispose()


def test_a_change_on_one_workstation_reaches_the_other(store, world):
    a = service(store, FixedClock(T0), bus=CaseBus())
    with Workstation(store) as b:
        r = a.report(world.actors["supervisor"], draft())
        b.inbox.pump(lambda: b.state.summary(r.case.id) is not None, "the new case in B's queue")
        assert b.actions[-1] == (r.case.id, "report")
        assert b.heard[-1].case_ids == (r.case.id,) and b.heard[-1].action == "report"
        assert b.heard[-1].versions == {r.case.id: r.version}
        urged = a.urge(world.actors["boss"], r.case.id, r.version, note="抓紧")
        b.inbox.pump(lambda: b.state.summary(r.case.id).urge_count == 1, "the urge in B's queue")
        assert b.state.summary(r.case.id).version == urged.version
        a.reject(world.actors["leader_shift"], r.case.id, urged.version, reason="不属于城管范围")
        b.inbox.pump(lambda: b.state.summary(r.case.id) is None, "the rejected case leaving B's queue")
        assert b.actions[-1] == (r.case.id, "reject")


def test_own_changes_are_not_announced_twice(store, world):
    other = service(store, FixedClock(T0), bus=CaseBus())
    with Workstation(store) as b:
        mine = service(b.store, FixedClock(T0), bus=b.bus)  # B's own desk publishes on B's bus
        r = mine.report(world.actors["supervisor"], draft())
        marker = other.report(world.actors["supervisor"], draft(description="另一处暴露垃圾"))
        b.inbox.pump(lambda: b.state.summary(marker.case.id) is not None, "the other workstation's case")
        b.inbox.q.put(lambda: None)
        b.inbox.pump(lambda: b.inbox.q.empty(), "the rest of the deliveries")
        own = [c for c in b.heard if r.case.id in c.case_ids]
        assert len(own) == 1, own  # the service's own publication only


def test_many_changes_at_once_ask_for_a_reload(store, world):
    a = service(store, FixedClock(T0), bus=CaseBus())
    made = [a.report(world.actors["acceptor"], draft(description=f"暴露垃圾 {i}")) for i in range(2)]
    with Workstation(store, bulk_limit=1) as b:
        with store.session() as s, s.begin():  # one transaction touching both cases: a bulk import
            bulk_append(s, [{"case_id": r.case.id, "seq": r.version + 1, "action": "reply", "from_state": "reported",
                             "to_state": "reported", "actor": "acceptor", "role": "acceptor", "at": T0,
                             "payload": {"text": "已收到", "auto": False}} for r in made])
            for r in made:
                s.execute(update(Case).where(Case.id == r.case.id).values(version=r.version + 1))
        b.inbox.pump(lambda: b.resyncs > 0, "the reload")
        assert all(b.state.summary(r.case.id) is None for r in made)  # not row by row


def test_connectivity_listeners_end_with_the_current_status_when_threads_race():
    import threading

    from app.services.connectivity import Connectivity

    conn = Connectivity()
    other = threading.Thread(target=conn.feed_status, args=(FeedStatus.ONLINE,))
    seen: list[FeedStatus] = []

    def first(status) -> None:
        if status is FeedStatus.OFFLINE and not other.is_alive() and other.ident is None:
            other.start()  # the feed comes back while this thread is still announcing 离线
            other.join(0.5)

    conn.on_change(first)
    conn.on_change(seen.append)
    conn.feed_status(FeedStatus.OFFLINE)
    other.join()
    assert conn.status is FeedStatus.ONLINE
    assert seen[-1] is FeedStatus.ONLINE


def test_apply_row_removes_gone_and_closed_rows_and_upserts_open_ones():
    from dataclasses import replace

    from samples import case_row

    from app.domain.definitions import CaseState
    from app.services.live import apply_row

    state = QueueState(WorkCalendar())
    state.reset([case_row(1, T0), case_row(2, T0)], T0)
    open_row = replace(case_row(1, T0), version=3)
    apply_row(state, 1, open_row, "urge")
    assert state.summary(1).version == 3
    apply_row(state, 1, replace(open_row, version=4, state=CaseState.CLOSED), "close")
    assert state.summary(1) is None
    apply_row(state, 1, open_row, "urge")  # a late read from before the close
    assert state.summary(1) is None
    apply_row(state, 2, None, None)  # gone, or no longer visible to this login
    assert state.rows == ()
