"""The exchange client against the real Open311 server on loopback (issue 16, items 4–6).

The upper platform is a second GridHall store served by ``app.open311.server`` (uvicorn in a
thread, real HTTP); the hall under test is the ``store`` fixture (SpatiaLite and PostGIS). For the
status push the platform also answers FixMyStreet's ``POST servicerequestupdates.json`` (the
extension the client uses; this hall's own server does not offer it), recorded by the test.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
from services.loop_steps import shot
from services.world import INSIDE, T0, build_world

from app.core import build_core
from app.domain.clock import FixedClock
from app.open311.client import Exchange, ExchangeError, Open311Client
from app.open311.server import make_app
from app.open311.testing import running_server
from app.services import open311 as o3
from app.services import replies
from app.services.exchange import MARKER, report_values, store_to_lonlat
from app.store.commands import init_db
from app.store.exchange import links, log_rows

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LON, LAT = store_to_lonlat(*INSIDE)


class WithUpdates:
    """The platform's server plus FixMyStreet's updates extension (``POST servicerequestupdates.json``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.updates: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/servicerequestupdates.json" and scope["method"] == "POST":
            from starlette.requests import Request
            from starlette.responses import JSONResponse

            form = dict(await Request(scope, receive).form())
            self.updates.append({k: str(v) for k, v in form.items()})
            answer = JSONResponse({"service_request_updates": [{"update_id": f"u{len(self.updates)}"}]})
            await answer(scope, receive, send)
            return
        await self.inner(scope, receive, send)


class Platform:
    """The upper platform: its store, key, clock and (while running) its base URL."""

    def __init__(self, tmp_path, clock: FixedClock) -> None:
        self.store = init_db(tmp_path / "platform.sqlite")
        self.world = build_world(self.store)
        self.url = str(self.store.engine.url)
        self.clock = clock
        self.key = o3.add_key(self.store, "district", rate_per_minute=100_000, now=clock.now()).key
        self.app: WithUpdates | None = None
        self.base: str | None = None
        self._stack: ExitStack | None = None

    def start(self, *, updates: bool = True, **settings: Any) -> str:
        inner = make_app(self.url, clock=self.clock, **settings)
        self.app = WithUpdates(inner) if updates else None
        self._stack = ExitStack()
        self.base = self._stack.enter_context(running_server(self.url, app=self.app or inner))
        return self.base

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def post(self, description: str, **extra: str) -> str:
        assert self.base is not None
        answer = httpx.post(self.base + "/requests.json", data={
            "api_key": self.key, "service_code": "event:06010", "lat": f"{LAT:.7f}", "long": f"{LON:.7f}",
            "description": description, "first_name": "市民", **extra}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()[0]["service_request_id"]

    def requests(self) -> list[dict[str, Any]]:
        assert self.base is not None
        return httpx.get(self.base + "/requests.json", params={"start_date": (T0 - timedelta(days=1)).isoformat()},
                         timeout=30).json()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def platform(tmp_path, clock):
    p = Platform(tmp_path, clock)
    p.start()
    yield p
    p.stop()
    p.store.dispose()


@pytest.fixture
def hall(store, clock):
    world = build_world(store)
    core = build_core(store, clock)
    return core, world


def exchange(hall, platform, **kw) -> tuple[Exchange, Open311Client]:
    core, world = hall
    client = Open311Client(platform.base, platform.key, timeout=10)
    return Exchange(core, world.actors["acceptor"], client, platform="city", **kw), client


def _posted(platform, clock, n: int) -> list[str]:
    ids = []
    for i in range(n):
        ids.append(platform.post(f"人民路边有一堆暴露垃圾 {i}"))
        clock.advance(timedelta(minutes=30))
    return ids


def _hall_cases(store) -> list[tuple[int, str, str]]:
    from sqlalchemy import select

    from app.store.models import Case

    with store.session() as s:
        return [tuple(r) for r in s.execute(select(Case.id, Case.source, Case.description).order_by(Case.id)).all()]


def test_pulling_twice_takes_each_request_in_once(hall, platform, clock, store):
    remote = _posted(platform, clock, 3)
    run, client = exchange(hall, platform)
    with client:
        first = run.pull()
        second = run.pull()  # from the cursor: nothing new
        third = run.pull(since=T0 - timedelta(hours=1))  # the same requests again
    assert first.ok and first.counts == {"created": 3}
    assert second.ok and second.counts == {}
    assert third.ok and third.counts == {"known": 3}
    cases = _hall_cases(store)
    assert len(cases) == 3 and {c[1] for c in cases} == {"public"}
    assert sorted(MARKER.format(remote_id=r) in c[2] for r in remote for c in cases).count(True) == 3
    with store.session() as s:
        linked = links(s, "city")
        assert sorted(link.remote_id for link in linked) == sorted(remote)
        assert {link.state for link in linked} == {"linked"} and {link.origin for link in linked} == {"remote"}
        created = [r for r in log_rows(s, endpoint="city") if r["outcome"] == "created"]
    assert sorted(r["remote_id"] for r in created) == sorted(remote)
    # the window was looked at whole: the cursor is now less the safety margin (after the newest request)
    assert first.cursor == (clock.now() - timedelta(minutes=10)).isoformat() + "+08:00"
    # the pulled reports are located like any intake: the point's grid
    core, _ = hall
    assert all(core.cases.get(c[0]).grid_code for c in cases)


def test_a_run_that_fails_midway_resumes_without_duplicates(hall, platform, clock, store):
    remote = _posted(platform, clock, 5)
    seen: list[str] = []

    def stop_after_two(outcome: str, remote_id: str | None, case_id: int | None) -> None:
        seen.append(outcome)
        if seen.count("created") == 2:
            platform.stop()  # the platform goes away while the run still has windows to ask for

    run, client = exchange(hall, platform, max_per_call=2, on_item=stop_after_two)
    with client:
        broken = run.pull(since=T0 - timedelta(hours=1))
    assert not broken.ok and isinstance(broken.error, ExchangeError) and broken.error.kind == "unreachable"
    assert broken.counts.get("created") == 2 and len(_hall_cases(store)) == 2
    with store.session() as s:
        assert [r["outcome"] for r in log_rows(s, endpoint="city")][0] == "failed"

    platform.start()  # back, at another port: the platform's name keeps its links
    again, client = exchange(hall, platform, max_per_call=2)
    with client:
        resumed = again.pull(since=T0 - timedelta(hours=1))
    assert resumed.ok and resumed.counts.get("created") == 3
    assert len(_hall_cases(store)) == 5
    with store.session() as s:
        assert sorted(link.remote_id for link in links(s, "city")) == sorted(remote)


def test_a_claim_left_by_a_crash_is_recovered_not_made_twice(hall, platform, clock, store):
    """A run that died after the case was written but before its link: the next run links that case."""
    (remote_id,) = _posted(platform, clock, 1)
    run, client = exchange(hall, platform)
    request = next(r for r in platform.requests() if r["service_request_id"] == remote_id)
    claim = run.book.claim_remote(remote_id)
    assert claim is not None
    core, world = hall
    assert core.commands is not None
    core.commands.by_verb("report").run(core, world.actors["acceptor"], None, None, report_values(request))
    with client:
        summary = run.pull()
    assert summary.counts == {"recovered": 1}
    assert len(_hall_cases(store)) == 1
    with store.session() as s:
        (link,) = links(s, "city")
    assert (link.state, link.case_id) == ("linked", _hall_cases(store)[0][0])


def _close(core, world, clock, case_id: int) -> None:
    """Verify, file, dispatch, accept, feed back, check and close a pulled case in the hall."""
    svc, a = core.cases, world.actors
    r = svc.get(case_id)
    v = r.version
    r = svc.send_verify(a["acceptor"], case_id, v)
    r = svc.verify(a["supervisor"], case_id, r.version, result="现场属实")
    r = svc.file(a["leader_shift"], case_id, r.version)
    r = svc.dispatch(a["dispatcher"], case_id, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], case_id, r.version)
    clock.advance(timedelta(hours=1))
    r = svc.feedback(a["dept_jd"], case_id, r.version, text="已清运", photos=(shot("after", clock, "后.png"),))
    r = svc.send_check(a["acceptor"], case_id, r.version)
    r = svc.check(a["supervisor"], case_id, r.version, outcome="passed")
    svc.close(a["leader_shift"], case_id, r.version, override=True, note="上级平台转来的请求没有处置前照片")


def test_push_sends_both_replies_and_the_status_after_close(hall, platform, clock, store):
    (remote_id,) = _posted(platform, clock, 1)
    run, client = exchange(hall, platform)
    core, world = hall
    with client:
        assert run.pull().counts == {"created": 1}
        case_id = _hall_cases(store)[0][0]
        before = run.push()  # reported, not filed: its status goes out, no reply is owed yet
        assert before.ok and before.counts == {"updated": 1}
        assert platform.app is not None
        assert [(u["service_request_id"], u["status"]) for u in platform.app.updates] == [(remote_id, "OPEN")]
        _close(core, world, clock, case_id)
        assert [d.channel for d in replies.due_replies(store)] == ["platform", "platform"]
        after = run.push()
        again = run.push()
    assert after.ok and after.counts == {"updated": 2}
    assert again.ok and again.counts == {}  # nothing new: nothing sent twice
    updates = platform.app.updates[1:]
    assert [(u["service_request_id"], u["status"]) for u in updates] == [(remote_id, "ACTION_SCHEDULED"),
                                                                         (remote_id, "FIXED")]
    assert "已立案" in updates[0]["description"] and "已处置完毕" in updates[1]["description"]
    assert all(u["api_key"] == platform.key and u["update_id"].isdigit() for u in updates)
    assert updates[1]["updated_datetime"].endswith("+08:00")
    # the two replies are recorded as delivered through the platform, by the exchange's account
    assert replies.due_replies(store) == []
    done = replies.delivered(store)
    assert sorted((d["after"], d["channel"], d["done_by"]) for d in done) == [
        ("close", "platform", "acceptor"), ("file", "platform", "acceptor")]
    with store.session() as s:
        (link,) = links(s, "city")
    assert link.remote_status == "FIXED"


def test_a_platform_without_the_updates_extension_is_told_and_retried(hall, platform, clock, store):
    _posted(platform, clock, 1)
    platform.stop()
    platform.start(updates=False)
    run, client = exchange(hall, platform)
    with client:
        assert run.pull().counts == {"created": 1}
        summary = run.push()
    assert not summary.ok and summary.error is not None
    assert summary.error.kind == "refused" and summary.error.status == 404
    assert "servicerequestupdates" in str(summary.error)
    assert len(run.book.pending_status()) == 1  # still owed: the next run tries again


def test_push_sends_new_hall_cases_up_once_and_pull_does_not_take_them_back(hall, platform, clock, store):
    from services.world import draft

    core, world = hall
    mine = core.cases.report(world.actors["acceptor"], draft(source="hotline", reporter_name="市民乙")).case
    run, client = exchange(hall, platform)
    with client:
        first = run.push(send_new=["hotline"])
        second = run.push(send_new=["hotline"])
        pulled = run.pull()
    assert first.ok and first.counts == {"sent": 1, "updated": 1}
    assert second.ok and second.counts == {}
    assert pulled.ok and pulled.counts == {"known": 1}
    up = platform.requests()
    assert len(up) == 1 and mine.number in up[0]["description"] and up[0]["service_code"] == "event:06010"
    with store.session() as s:
        (link,) = links(s, "city")
    assert (link.origin, link.case_id, link.remote_id) == ("hall", mine.id, up[0]["service_request_id"])
    assert len(_hall_cases(store)) == 1


def test_refusals_are_one_clear_error(hall, platform, clock):
    core, world = hall
    bad = Open311Client(platform.base, "gh311_not-a-key", timeout=10)
    with bad, pytest.raises(ExchangeError) as refused:
        bad.requests(T0 - timedelta(days=1), T0)
    assert refused.value.kind == "refused" and refused.value.status == 403 and "api_key" in str(refused.value)
    gone = Open311Client("http://127.0.0.1:9", platform.key, timeout=5)  # discard port: nothing listens
    with gone:
        summary = Exchange(core, world.actors["acceptor"], gone, platform="nowhere").pull()
    assert summary.error is not None and summary.error.kind == "unreachable"
    assert json.dumps(summary.counts) == "{}"


def test_a_push_that_fails_midway_resumes_and_sends_each_update_once(hall, platform, clock, store):
    _posted(platform, clock, 3)
    run, client = exchange(hall, platform)
    with client:
        assert run.pull().counts == {"created": 3}
    assert platform.app is not None
    sent_before_stop: list[dict[str, str]] = []

    def stop_after_one(outcome: str, remote_id: str | None, case_id: int | None) -> None:
        if outcome == "updated" and not sent_before_stop:
            assert platform.app is not None
            sent_before_stop.extend(platform.app.updates)
            platform.stop()

    broken_run, client = exchange(hall, platform, on_item=stop_after_one)
    with client:
        broken = broken_run.push()
    assert not broken.ok and broken.counts == {"updated": 1} and len(sent_before_stop) == 1
    assert len(run.book.pending_status()) == 2
    platform.start()
    again, client = exchange(hall, platform)
    with client:
        resumed = again.push()
    assert resumed.ok and resumed.counts == {"updated": 2}
    assert platform.app is not None
    ids = {u["service_request_id"] for u in [*sent_before_stop, *platform.app.updates]}
    assert len(ids) == 3 and len(platform.app.updates) == 2  # each request's status went out once
    assert run.book.pending_status() == []


def test_a_pulled_duplicate_is_pushed_as_duplicate_with_its_reply(hall, platform, clock, store):
    first, second = _posted(platform, clock, 2)
    run, client = exchange(hall, platform)
    core, world = hall
    with client:
        assert run.pull().counts == {"created": 2}
        original, copy = (c[0] for c in _hall_cases(store))
        dup = core.cases.get(copy)
        core.cases.link(world.actors["acceptor"], copy, dup.version, original=original)
        summary = run.push()
    assert summary.ok
    assert platform.app is not None
    last = {u["service_request_id"]: u for u in platform.app.updates}
    assert last[second]["status"] == "DUPLICATE" and core.cases.get(original).number in last[second]["description"]
    assert last[first]["status"] == "OPEN"


def test_requests_posted_to_the_halls_own_server_are_answered_by_their_status_notes(platform, clock):
    """The platform is a hall too: its own Open311 requests owe no call-back, its hotline reports do."""
    from services.world import draft, service, verified

    svc, world = service(platform.store, clock), platform.world
    a = world.actors
    number = platform.post("人民路边有一堆暴露垃圾")
    case = svc.get(number)
    r = svc.send_verify(a["acceptor"], case.id, case.version)
    r = svc.verify(a["supervisor"], case.id, r.version, result="现场属实")
    svc.file(a["leader_shift"], case.id, r.version)
    hot = verified(svc, world, svc.report(a["acceptor"], draft(source="hotline")))
    svc.file(a["leader_shift"], hot.case.id, hot.version)
    owed = replies.due_replies(platform.store)
    assert [(d.case_id, d.channel) for d in owed] == [(hot.case.id, "hotline")]


@pytest.fixture
def photo_host():
    """A loopback HTTP server serving one PNG at /p/现场.png (the public's photo host)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from services.world import png_bytes

    body = png_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_pulled_photos_come_only_from_allowed_hosts(hall, platform, clock, store, photo_host):
    platform.stop()
    platform.start(allowed_media_hosts=(photo_host,))
    url = f"http://{photo_host}/p/site.png"
    first = platform.post("井盖缺失，有照片", media_url=url)
    core, world = hall
    run, client = exchange(hall, platform)
    with client:
        refused = run.pull()  # this hall allows no photo host: the report comes in without it
    assert refused.counts == {"created": 1}
    (case_id, _, _), = _hall_cases(store)
    assert core.photos(case_id) == []
    with store.session() as s:
        (row,) = [r for r in log_rows(s, endpoint="city") if r["outcome"] == "created"]
    assert "--allow-media-host" in row["detail"] and row["remote_id"] == first
    clock.advance(timedelta(minutes=30))
    second = platform.post("井盖又缺了一个", media_url=url)
    allowed, client = exchange(hall, platform, media_hosts=[photo_host])
    with client:
        taken = allowed.pull()
    assert taken.counts.get("created") == 1  # (and the first one again: known)
    newest = _hall_cases(store)[-1][0]
    photos = core.photos(newest)
    assert len(photos) == 1 and photos[0].kind == "report"
    assert second != first
