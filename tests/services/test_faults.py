"""Faults: a server restart mid-session and a client killed mid-transaction leave nothing half-done."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pg import start_cluster
from pg_control import start_server, stop_server
from sqlalchemy import func, select

from app.domain.clock import FixedClock
from app.services.bus import CaseBus
from app.services.case_source import StoreCaseSource
from app.services.connectivity import OFFLINE_MESSAGE, Connectivity, OfflineError
from app.services.live import LiveSync
from app.store.commands import init_db, verify_audit
from app.store.models import CaseEvent
from app.store.notify import FeedStatus, change_feed
from services.world import T0, build_world, draft, service

TESTS = Path(__file__).resolve().parents[1]
WAIT_S = 30


@pytest.fixture(scope="module")
def own_cluster():
    """A cluster of its own: stopping it must not disturb the session's other tests."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


def _events(store, case_id: int) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))


def _wait_for(q: queue.Queue, wanted) -> None:
    while q.get(timeout=WAIT_S) != wanted:
        pass


@pytest.mark.postgis
def test_server_restart_goes_offline_refuses_and_recovers(own_cluster):
    store = init_db(own_cluster.url(own_cluster.create_database()))
    world = build_world(store)
    svc = service(store, FixedClock(T0))
    r = svc.report(world.actors["supervisor"], draft())
    connectivity = Connectivity.for_store(store)
    heard: queue.Queue = queue.Queue()
    live = LiveSync(change_feed(store, timeout=0.1, backoff=(0.2, 0.5)), StoreCaseSource(store), CaseBus(),
                    lambda fn: fn(), on_status=heard.put, on_resync=lambda: heard.put("resync"),
                    connectivity=connectivity)
    guarded = connectivity.wrap(svc)
    live.start()
    try:
        _wait_for(heard, FeedStatus.ONLINE)
        stop_server(own_cluster)
        _wait_for(heard, FeedStatus.OFFLINE)
        assert not connectivity.online
        with pytest.raises(OfflineError, match=OFFLINE_MESSAGE):
            guarded.urge(world.actors["boss"], r.case.id, r.version, note="抓紧")
        # A client whose feed has not noticed yet: the call itself fails on the dead server,
        # and the driver's error becomes the same clear message.
        unaware = Connectivity.for_store(store)
        with pytest.raises(OfflineError, match=OFFLINE_MESSAGE):
            unaware.call(svc.urge, world.actors["boss"], r.case.id, r.version, note="抓紧")
        assert not unaware.online
        start_server(own_cluster)
        _wait_for(heard, "resync")  # notifications were missed: the client reloads its queue
        assert connectivity.online
        urged = guarded.urge(world.actors["boss"], r.case.id, r.version, note="抓紧")
        assert urged.version == r.version + 1 == _events(store, r.case.id)  # the refused calls wrote nothing
        assert unaware.call(svc.get, r.case.id).version == urged.version and unaware.online
        assert verify_audit(store) is None
    finally:
        live.close()
        store.dispose()


KILLED = """
import sys, time
from datetime import datetime
from app.store.audit import append_event
from app.store.engine import open_store
from app.store.models import Case
store = open_store(sys.argv[1])
session = store.session()
session.begin()
case = session.get(Case, int(sys.argv[2]))
append_event(session, case, action="urge", from_state=case.state, to_state=case.state, actor="boss",
             role="leader", at=datetime(2026, 3, 2, 9, 5))
case.urge_count = (case.urge_count or 0) + 1
session.flush()
print("inside", flush=True)
time.sleep(120)
"""


def test_a_client_killed_mid_transaction_leaves_nothing_partial(store, world, clock):
    svc = service(store, clock)
    r = svc.report(world.actors["supervisor"], draft())
    url = str(store.path) if store.backend == "spatialite" else store.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])}
    proc = subprocess.Popen([sys.executable, "-c", KILLED, url, str(r.case.id)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "inside", proc.stderr.read()[-3000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert _events(store, r.case.id) == r.version
    assert svc.get(r.case.id).version == r.version and svc.get(r.case.id).urge_count == 0
    assert verify_audit(store) is None
    # The dead client's locks are gone: the next operation goes through.
    assert svc.urge(world.actors["boss"], r.case.id, r.version, note="抓紧").version == r.version + 1
    assert verify_audit(store) is None
