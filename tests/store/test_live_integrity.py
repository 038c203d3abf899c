"""The live channel carries hints, not data: a forged notification shows nothing, a department hears only its own cases.

Any login may ``pg_notify`` the channel and anyone may LISTEN. Each role forges notifications
(the old payloads that named cases, actions and a reload, and the new hints with made-up
numbers); a workstation following the live feed shows no alert, publishes no change and
reloads nothing for them, and reads at most once per hint. A department's workstation and a
raw LISTEN as a department login learn nothing of another department's cases.
"""

from __future__ import annotations

import json
import queue
import select
import time

import pytest
from services.seed import seed_case
from services.world import T0, service
from sqlalchemy import text

from app.domain.calendar import WorkCalendar
from app.domain.clock import SystemClock
from app.domain.definitions import CaseState
from app.services.bus import CaseBus
from app.services.case_source import StoreCaseSource
from app.services.live import LiveSync
from app.store.notify import CHANNEL, FeedStatus, change_feed
from app.views.alerts import AlertCenter
from app.views.queue_state import QueueState
from tests.store import hall as _hall
from tests.store.hall import EVERYONE, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

WAIT_S = 20  # only a failure waits this long


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

    def drain(self) -> None:
        while True:
            try:
                self.q.get_nowait()()
            except queue.Empty:
                return


class Workstation:
    """``who``'s desk following the live feed: queue (loaded), alerts, bus, resync count."""

    def __init__(self, hall, who: str) -> None:
        self.store = hall.store_as(who)
        self.state = QueueState(WorkCalendar())
        self.state.reset(StoreCaseSource(self.store).open_cases(), T0)
        self.alerts = AlertCenter(self.state)
        self.bus = CaseBus()
        self.heard: list = []
        self.bus.subscribe(self.heard.append)
        self.inbox = Inbox()
        self.resyncs = 0
        self.statuses: list[FeedStatus] = []
        self.feed = change_feed(self.store, timeout=0.05)
        self.live = LiveSync(self.feed, StoreCaseSource(self.store), self.bus, self.inbox, queue=self.state,
                             on_resync=self._resync, on_status=self.statuses.append)

    def _resync(self) -> None:
        self.resyncs += 1

    def __enter__(self):
        self.live.start()
        self.inbox.pump(lambda: FeedStatus.ONLINE in self.statuses, "the feed to come online")
        return self

    def __exit__(self, *exc):
        self.live.close()

    def heard_ids(self) -> set[int]:
        return {cid for change in self.heard for cid in change.case_ids}

    def wait_for(self, case_id: int, version: int) -> None:
        self.inbox.pump(lambda: any(change.versions.get(case_id, -1) >= version for change in self.heard),
                        f"case {case_id} at version {version}")


def _urge(hall, who: str, case_id: int):
    with hall.store.engine.connect() as conn:
        version = conn.execute(text("SELECT version FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()
    return service(hall.store_as(who), SystemClock()).urge(hall.actor(who), case_id, version, note="请抓紧")


def _head(hall) -> int:
    with hall.store.engine.connect() as conn:
        return conn.execute(text("SELECT chain_no FROM audit_head")).scalar_one()


def _forgeries(hall) -> list[str]:
    ids = [hall.cases["filed"], hall.cases["handling_b"]]
    return [
        json.dumps({"ids": ids, "action": "report", "actor": "supervisor"}),  # 0003's format: named cases
        json.dumps({"resync": True, "action": "report", "actor": "x"}),  # asked every client for a full reload
        json.dumps({"claims": ids}),
        json.dumps({"chain": _head(hall)}),  # a link already read
        json.dumps({"chain": 10**9}),  # a link that does not exist
        json.dumps({"claims": True}),  # claims unchanged
        "not json",
        '{"a":' * 1200 + "1" + "}" * 1200,  # nested deeper than the JSON parser recurses
    ]


def test_forged_notifications_from_every_role_show_nothing_and_reload_nothing(hall):
    with Workstation(hall, "dispatcher") as ws:
        before = ws.feed.reads
        forged = 0
        for who in EVERYONE:
            for payload in _forgeries(hall):
                run(hall, who, "SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                forged += 1
        marker = _urge(hall, "leader", hall.cases["checked"])  # a real change after the forgeries
        ws.wait_for(marker.case.id, marker.version)
        ws.inbox.drain()
        assert ws.heard_ids() == {marker.case.id}  # no CaseChanged for cases that did not change
        assert ws.resyncs == 0  # no full reload
        assert [a for a in ws.alerts.alerts if a.kind == "new"] == []  # no fake 新上报案卷
        # Hints are coalesced and a fruitless one pauses reading: far fewer reads than forgeries.
        assert ws.feed.reads - before < forged / 2, (ws.feed.reads - before, forged)


def test_a_department_hears_only_its_own_cases(hall):
    a, b = hall.cases["handling_a"], hall.cases["handling_b"]
    listener = hall.connect("dept_a")  # a raw LISTEN as a department: hints only
    listener.autocommit = True
    listener.cursor().execute(f"LISTEN {CHANNEL}")
    try:
        with Workstation(hall, "dept_a") as ws:
            assert ws.state.summary(b) is None and ws.state.summary(a) is not None
            other = _urge(hall, "leader", b)  # another department's case
            mine = _urge(hall, "leader", a)
            ws.wait_for(a, mine.version)
            ws.inbox.drain()
            assert b not in ws.heard_ids() and ws.state.summary(b) is None
            assert ws.state.summary(a).urge_count == 1
            # A case taken away from the department (回退 approved) leaves its queue, though the
            # department cannot see the event that took it.
            back = seed_case(hall.store, hall.world, CaseState.RETURN_REQUESTED, at=T0, department="JD001")
            ws.state.reset(StoreCaseSource(ws.store).open_cases(), T0)
            assert ws.state.summary(back[0]) is not None
            svc = service(hall.store_as("dispatcher"), SystemClock())
            svc.approve(hall.actor("dispatcher"), back[0], back[1])
            ws.inbox.pump(lambda: ws.state.summary(back[0]) is None, "the returned case leaving the queue")
            assert b not in ws.heard_ids()
        payloads = []
        deadline = time.monotonic() + WAIT_S
        while len(payloads) < 3 and time.monotonic() < deadline:
            if select.select([listener], [], [], 1)[0]:
                listener.poll()
                payloads += [n.payload for n in listener.notifies]
                listener.notifies.clear()
    finally:
        listener.close()
    assert len(payloads) >= 3
    for payload in payloads:  # the chain's link number: no case id, action or actor
        assert set(json.loads(payload)) == {"chain"}, payload
    assert other.version and mine.version
