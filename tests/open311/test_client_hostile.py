"""The exchange client against a hostile upper platform on loopback (real HTTP, a plain http.server):
answers that are too deep, too large, dripping, redirected or in XML, and requests of the wrong schema or
out-of-range times. Each is one clear error or one refused item; nothing half-taken, the rest of the
page taken. Bounded in count and time."""

from __future__ import annotations

import http.server
import json
import threading
import time
from datetime import timedelta

import pytest
from services.world import INSIDE, T0, build_world

from app.core import build_core
from app.domain.clock import FixedClock
from app.open311.client import MAX_ANSWER_BYTES, Exchange, ExchangeError, Open311Client
from app.services.exchange import parse_remote_time, store_to_lonlat
from app.store.exchange import log_rows

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LON, LAT = store_to_lonlat(*INSIDE)


def _request(rid: object, **more: object) -> dict[str, object]:
    return {"service_request_id": rid, "service_code": "event:06010", "description": f"人民路垃圾 {rid}",
            "requested_datetime": (T0 - timedelta(hours=1)).isoformat() + "+08:00", "lat": LAT, "long": LON,
            **more}


ANSWERS: dict[str, bytes] = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "errxml": b"<errors><error><code>403</code><description>bad key</description></error></errors>",
    "badtime": json.dumps([_request("T1", requested_datetime="0001-01-01T00:00:00+09:00"),
                           _request("T2", requested_datetime="9999-12-31T23:59:59-10:00"),
                           _request("T3")]).encode(),
    "nul": json.dumps([_request("N\x001"), _request("N2", service_code="event:0601\x00"),
                       _request("N3", address="人民路\x00", lat=None, long=None), _request("N4")]).encode(),
    "schema": json.dumps([_request({"a": 1}), _request("W2", description=["x"]), _request("W3", address={"x": 1}),
                          _request("W" * 100), _request(True), _request("W6")]).encode(),
}


@pytest.fixture(scope="module")
def bad_platform():
    """A platform whose answers are hostile: the first path segment chooses how."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes, ctype: str = "application/json", **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def do_GET(self):
            mode = self.path.split("/")[1]
            try:
                if mode == "huge":  # a valid list, larger than the client reads
                    item = json.dumps(_request("H")).encode() + b","
                    count = MAX_ANSWER_BYTES // len(item) + 1000
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(1 + count * len(item)))
                    self.end_headers()
                    self.wfile.write(b"[")
                    for _ in range(count // 1000):
                        self.wfile.write(item * 1000)
                elif mode == "drip":  # a byte every 0.2 s for 12 s
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "60")
                    self.end_headers()
                    for _ in range(60):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.2)
                elif mode == "redirect":
                    self._send(302, b"", Location="http://127.0.0.1:9/requests.json")
                elif mode == "errxml":
                    self._send(403, ANSWERS[mode], "text/xml")
                else:
                    self._send(200, ANSWERS[mode])
            except OSError:
                pass  # the client gave up on it

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def hall(store):
    clock = FixedClock(T0)
    world = build_world(store)
    return build_core(store, clock), world


def _case_count(store) -> int:
    from sqlalchemy import func, select

    from app.store.models import Case

    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(Case)))


@pytest.mark.parametrize("mode,kind,says", [
    ("deep", "answer", "不是 JSON"),
    ("huge", "answer", "太大"),
    ("redirect", "refused", "重定向"),
    ("errxml", "refused", "HTTP 403 bad key"),
])
def test_a_bad_answer_is_one_clear_error_and_takes_nothing(hall, store, bad_platform, mode, kind, says):
    core, world = hall
    before = _case_count(store)
    with Open311Client(f"{bad_platform}/{mode}", "k", timeout=10) as client:
        summary = Exchange(core, world.actors["acceptor"], client, platform=mode).pull()
    assert isinstance(summary.error, ExchangeError) and summary.error.kind == kind, summary.error
    assert says in str(summary.error)
    assert _case_count(store) == before and summary.counts == {}
    with store.session() as s:
        assert [r["outcome"] for r in log_rows(s, endpoint=mode)] == ["failed"]


def test_a_dripping_answer_is_cut_off(bad_platform):
    """The time-out bounds each read; the whole answer must come within four of them."""
    started = time.monotonic()
    with Open311Client(f"{bad_platform}/drip", "k", timeout=0.5) as client, pytest.raises(ExchangeError) as cut:
        client.requests(T0 - timedelta(days=1), T0)
    assert cut.value.kind == "lost" and "没有传完" in str(cut.value)
    assert time.monotonic() - started < 8  # the platform drips for 12 s


def test_an_out_of_range_time_does_not_block_the_pull(hall, store, bad_platform):
    assert parse_remote_time("0001-01-01T00:00:00+09:00") is None
    assert parse_remote_time("9999-12-31T23:59:59-10:00") is None
    core, world = hall
    with Open311Client(f"{bad_platform}/badtime", "k", timeout=10) as client:
        summary = Exchange(core, world.actors["acceptor"], client, platform="badtime").pull()
    assert summary.error is None and summary.counts == {"created": 3}


def test_requests_of_the_wrong_schema_are_refused_and_the_rest_taken(hall, store, bad_platform):
    """An id that is an object, a boolean or longer than the links keep, a description or an address that
    is not a text: each refused with its reason; the good request taken; no case of a refused one."""
    core, world = hall
    before = _case_count(store)
    with Open311Client(f"{bad_platform}/schema", "k", timeout=10) as client:
        summary = Exchange(core, world.actors["acceptor"], client, platform="schema").pull()
    assert summary.error is None, summary.error
    assert summary.counts == {"refused": 5, "created": 1}
    assert _case_count(store) == before + 1
    with store.session() as s:
        rows = log_rows(s, endpoint="schema")
    details = " ".join(str(r["detail"]) for r in rows if r["outcome"] == "refused")
    assert "description 应为文本" in details and "address 应为文本" in details and "至多 64 个字符" in details


def test_a_push_refused_for_its_key_stops_at_once_and_sends_again_next_run(hall, store, bad_platform):
    """A 403 (the key) refuses the run, not each case: one clear error, the run stops at the first case,
    nothing is logged as that case's refusal and the cases go up with the next run."""
    from services.world import draft

    core, world = hall
    for _ in range(3):
        core.cases.report(world.actors["acceptor"], draft(source="public"))
    with Open311Client(f"{bad_platform}/errxml", "k", timeout=10) as client:
        summary = Exchange(core, world.actors["acceptor"], client, platform="keyed").push(
            send_new=["public"], since=T0 - timedelta(days=1))
    assert isinstance(summary.error, ExchangeError) and summary.error.status == 403, summary.error
    assert "bad key" in str(summary.error) and summary.counts == {}
    with store.session() as s:
        assert [r["outcome"] for r in log_rows(s, endpoint="keyed")] == ["failed"]
        from app.store.exchange import links

        assert links(s, "keyed") == []  # no claim left: the next run sends them


def test_a_nul_in_a_request_is_refused_and_the_rest_taken(hall, store, bad_platform):
    """PostgreSQL refuses a NUL in a query: an id, a service code or an address with one stopped every run
    at that request (an internal ValueError); now each is refused and the rest taken, on both stores."""
    core, world = hall
    before = _case_count(store)
    with Open311Client(f"{bad_platform}/nul", "k", timeout=10) as client:
        summary = Exchange(core, world.actors["acceptor"], client, platform="nul").pull()
    assert summary.error is None, summary.error
    assert summary.counts == {"refused": 3, "created": 1}
    assert _case_count(store) == before + 1
    with store.session() as s:
        rows = log_rows(s, endpoint="nul")
    assert not any("\x00" in str(r["detail"]) + str(r["remote_id"]) for r in rows)
