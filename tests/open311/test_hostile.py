"""Malformed and hostile requests: oversized bodies, bad XML/JSON/UTF-8, slow clients, bursts past the
rate limit, and a hammer of bad input that must never get a 5xx. Bounded in count and time."""

from __future__ import annotations

import random
import socket
import time
import urllib.parse

import pytest
from services.world import T0

from app.domain.clock import FixedClock
from app.open311.testing import running_server
from app.services import open311 as o3
from app.store.engine import open_store
from open311.conftest import Server, inside_lonlat, validate

LIMIT = 256 * 1024
BODY_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def tight(district):
    """A server with small limits: 256 KiB bodies, 1.5 s for a body, 30 anonymous GETs a minute."""
    store = open_store(district)
    key = o3.add_key(store, "hostile", rate_per_minute=600, now=T0).key
    slow_key = o3.add_key(store, "burst", rate_per_minute=5, now=T0).key
    store.dispose()
    clock = FixedClock(T0)
    with running_server(district, clock=clock, max_body_bytes=LIMIT, body_timeout_s=BODY_TIMEOUT,
                        anonymous_rate_per_minute=30) as base:
        yield Server(base, district, key, clock, extra={"burst": slow_key})


def _fields(**more):
    lat, long = inside_lonlat()
    return {"service_code": "event:06010", "lat": lat, "long": long, "description": "垃圾", **more}


def test_oversized_body_is_413_with_an_errors_body(tight):
    big = urllib.parse.urlencode({**_fields(), "api_key": tight.key, "description": "x" * (LIMIT + 10)})
    r = tight.call("POST", "/requests.json", big, {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 413
    validate(r.json, "errors")
    r = tight.call("POST", "/requests.xml", big, {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 413 and r.xml.tag == "errors"


def test_oversized_chunked_body_is_413(tight):
    """No Content-Length: the body is counted as it arrives and cut off past the limit."""
    host, port = tight.hostport
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"POST /requests.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
        chunk = b"a" * 65536
        try:
            for _ in range(LIMIT // len(chunk) + 2):
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except OSError:
            pass  # the server may close while we still write
        reply = s.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413")


def test_a_form_without_files_has_its_own_smaller_limit(tight):
    body = urllib.parse.urlencode({**_fields(), "api_key": tight.key, "description": "x" * 70000})
    r = tight.call("POST", "/requests.json", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 413


@pytest.mark.parametrize("body,ctype", [
    ("<request><service_code>event:06010</service_code>", "text/xml"),
    ("<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]><request>&b;</request>",
     "application/xml"),
    ("<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><request>&x;</request>", "text/xml"),
    ("<request><attributes><a><b>1</b></a></attributes></request>", "text/xml"),
    ("<request><service_code><x/></service_code></request>", "text/xml"),
    ("{\"service_code\": ", "application/json"),
    ("[1, 2, 3]", "application/json"),
    ("{\"service_code\": {\"a\": 1}}", "application/json"),
    ("[" * 30000 + "]" * 30000, "application/json"),
    ("api_key=%ZZ&service_code=%FF%FE", "application/x-www-form-urlencoded"),
    ("a=1", "application/octet-stream"),
    ("--xyz\r\nbroken", "multipart/form-data; boundary=xyz"),
    ("--xyz\r\nbroken", "multipart/form-data"),
])
def test_bad_bodies_are_400_or_403(tight, body, ctype):
    for fmt in ("json", "xml"):
        r = tight.call("POST", f"/requests.{fmt}", body, {"Content-Type": ctype})
        assert r.status in (400, 403), (r.status, r.body[:200])
        if fmt == "json":
            validate(r.json, "errors")
        else:
            assert r.xml.tag == "errors"


def test_bad_utf8_is_400(tight):
    r = tight.call("POST", "/requests.json", b"api_key=\xff\xfe&service_code=x",
                   {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400
    r = tight.call("GET", "/requests.json?status=%FF")
    assert r.status == 400


def test_slow_body_is_cut_off_in_bounded_time(tight):
    host, port = tight.hostport
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=BODY_TIMEOUT + 10) as s:
        s.sendall(b"POST /requests.json HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n\r\napi_key=")
        reply = b""
        while b"\r\n\r\n" not in reply:  # we never send the rest: the server answers by itself
            data = s.recv(4096)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < BODY_TIMEOUT + 8


@pytest.mark.parametrize("raw", [b"NOT HTTP AT ALL\r\n\r\n", b"GET /services.json HTTP/1.1\r\nHost x\r\n\r\n",
                                 b"GET /services.json HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n"])
def test_what_is_not_http_gets_uvicorns_plain_400_as_documented(tight, raw):
    """docs/open311.md "Errors": below the application, in plain text, and the connection closed."""
    host, port = tight.hostport
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(raw)
        reply = b""
        while data := s.recv(4096):
            reply += data
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: text/plain; charset=utf-8" in head.lower()
    assert body == b"Invalid HTTP request received."


def test_a_connection_past_the_concurrency_limit_gets_uvicorns_plain_503_as_documented(tight):
    host, port = tight.hostport
    idle = [socket.create_connection((host, port), timeout=10) for _ in range(200)]
    try:
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(b"GET /services.json HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = b""
            while data := s.recv(4096):
                reply += data
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503") and b"content-type: text/plain; charset=utf-8" in head.lower()
        assert body == b"Service Unavailable"
    finally:
        for s in idle:
            s.close()
    deadline = time.monotonic() + 10  # served again once the server has noticed the closed ones
    while (status := tight.call("GET", "/services.json?api_key=" + tight.key, timeout=10).status) == 503:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == 200


def test_a_slow_client_does_not_hold_up_the_others(tight):
    host, port = tight.hostport
    stalled = [socket.create_connection((host, port), timeout=5) for _ in range(5)]
    try:
        for s in stalled:
            s.sendall(b"GET /services.json HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        started = time.monotonic()
        r = tight.call("GET", "/services.json?api_key=" + tight.key, timeout=10)
        assert r.status == 200 and time.monotonic() - started < 10
    finally:
        for s in stalled:
            s.close()


def test_a_burst_past_the_rate_limit_gets_429_with_errors_and_retry_after(tight):
    statuses = []
    for _ in range(12):
        r = tight.post("/requests.json", {"service_code": "nope"}, key=tight.extra["burst"])
        statuses.append(r.status)
        if r.status == 429:
            validate(r.json, "errors")
            assert r.json[0]["code"] == 429 and int(r.headers["retry-after"]) >= 1
    assert statuses[:5] == [400] * 5  # the key's 5 a minute, refused for their bad service_code
    assert set(statuses[5:]) == {429}
    x = tight.post("/requests.xml", {"service_code": "nope"}, key=tight.extra["burst"])
    assert x.status == 429 and x.xml.tag == "errors"


def test_anonymous_gets_are_limited_per_address(tight):
    statuses = [tight.call("GET", "/services.json").status for _ in range(40)]
    assert 200 in statuses and statuses[-1] == 429 and statuses.count(200) <= 31


def test_revoked_and_missing_keys_are_403(tight):
    store = open_store(tight.url)
    made = o3.add_key(store, "revoked", now=T0)
    o3.revoke_key(store, "revoked", now=T0)
    store.dispose()
    for key in (made.key, "", None, "gh311_" + "A" * 43, "x" * 5000):
        data = {**_fields(), **({"api_key": key} if key is not None else {})}
        r = tight.call("POST", "/requests.json", urllib.parse.urlencode(data),
                       {"Content-Type": "application/x-www-form-urlencoded"}, source="127.0.0.3")
        assert r.status == 403, key
        validate(r.json, "errors")


def _hammer_requests(rng: random.Random, key: str) -> list[tuple[str, str, bytes | None, dict[str, str]]]:
    paths = ["/", "/services", "/services.", "/services.html", "/services.JSON", "/services/.json",
             "/services/%00.json", "/services/event:06010.yaml", "/requests/..%2F..%2Fetc%2Fpasswd.json",
             "/requests/" + "9" * 500 + ".json", "/tokens/%E4%B8%AD.xml", "/requests.json?status=open&status=",
             "/requests.json?service_request_id=" + ",".join(["x"] * 150), "/requests.json?start_date=0000-00-00",
             "/requests.json?start_date=9999-12-31T23:59:59Z", "/requests.json?end_date=-1",
             "/requests.json?service_code=" + "a:" * 300, "/services.json?jurisdiction_id=" + "j" * 3000,
             "/discovery.xml?%%%", "/requests.xml?lat=NaN", "/a/b/c/d.json", "/requests.json/extra"]
    out: list[tuple[str, str, bytes | None, dict[str, str]]] = [("GET", p, None, {}) for p in paths]
    lat, long = inside_lonlat()
    base = {"api_key": key, "service_code": "event:06010", "lat": str(lat), "long": str(long)}
    bad_values = ["", " ", "NaN", "inf", "-inf", "1e309", "91", "-181", "0x10", "\u202e", "\x00", "😀" * 10,
                  "<script>", "'; DROP TABLE cases; --", "a" * 5000, "%s%s%s", "{}", "[]", "true", "null"]
    for name in ("service_code", "lat", "long", "address_string", "description", "first_name", "phone", "email",
                 "media_url", "attribute[component_code]", "jurisdiction_id"):
        for value in bad_values:
            out.append(("POST", "/requests.json", urllib.parse.urlencode({**base, name: value}).encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"}))
    for _ in range(60):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        ctype = rng.choice(["application/x-www-form-urlencoded", "application/json", "text/xml",
                            "multipart/form-data; boundary=b", ""])
        out.append(("POST", rng.choice(["/requests.json", "/requests.xml"]), junk, {"Content-Type": ctype}))
    return out


def test_the_hammer_never_gets_a_5xx(tight, caplog):
    store = open_store(tight.url)
    key = o3.add_key(store, "hammer", rate_per_minute=100000, now=T0).key
    store.dispose()
    rng = random.Random(20261207)
    seen: dict[int, int] = {}
    for method, path, body, headers in _hammer_requests(rng, key):
        headers = {**headers} if headers.get("Content-Type") else {}
        r = tight.call(method, path if "api_key" in path or method == "POST" else path, body, headers)
        seen[r.status] = seen.get(r.status, 0) + 1
        assert r.status < 500, (method, path, body[:80] if body else None, r.status, r.body[:300])
        if r.status >= 400 and r.status != 429:
            if path.split("?")[0].endswith(".xml"):
                assert r.xml.tag == "errors"
            elif path.split("?")[0].endswith(".json"):
                validate(r.json, "errors")
    assert seen.get(200, 0) > 0 and seen.get(400, 0) > 100
    unexpected = [r.getMessage() for r in caplog.records if r.name == "app.open311.server" and r.levelname == "ERROR"]
    assert unexpected == []  # every refusal was a known one, none the catch-all "general service error"


def _case_count(url: str) -> int:
    from sqlalchemy import text

    store = open_store(url)
    try:
        with store.session() as session:
            return int(session.scalar(text("SELECT count(*) FROM cases")))
    finally:
        store.dispose()


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_as_an_errors_body(tight, method):
    for fmt in ("json", "xml"):
        r = tight.call(method, f"/requests.{fmt}", b"", {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 405 and r.headers["allow"] == "GET, HEAD, POST"
        if fmt == "json":
            validate(r.json, "errors")
            assert r.json[0]["code"] == 405 and method in r.json[0]["description"]
        else:
            assert r.xml.tag == "errors" and r.xml.find("error/code").text == "405"


def test_guessing_keys_is_rate_limited_per_address(tight):
    """A missing or wrong key counts against the address's anonymous rate (30 a minute here), GET or POST."""
    statuses = []
    for i in range(40):
        data = {**_fields(), "api_key": f"gh311_guess{i}"} if i % 2 else _fields()
        r = tight.call("POST", "/requests.json", urllib.parse.urlencode(data),
                       {"Content-Type": "application/x-www-form-urlencoded"}, source="127.0.0.4")
        statuses.append(r.status)
        validate(r.json, "errors")
    assert statuses[:30] == [403] * 30 and set(statuses[30:]) == {429}
    r = tight.call("GET", "/requests.json?api_key=gh311_guess", source="127.0.0.4")
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1
    assert tight.post("/requests.json", {"service_code": "nope"}).status == 400  # a valid key is not held up


def test_a_multipart_text_field_that_is_not_utf8_is_400_and_writes_nothing(tight):
    before = _case_count(tight.url)
    parts = {**_fields(), "api_key": tight.key, "description": "垃圾".encode("gbk")}
    body = b"".join(b"--xyz\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (k.encode(), v if isinstance(v, bytes) else str(v).encode()) for k, v in parts.items())
    body += b"--xyz--\r\n"
    r = tight.call("POST", "/requests.json", body, {"Content-Type": "multipart/form-data; boundary=xyz"})
    assert r.status == 400 and r.json[0]["description"] == "请求体不是 UTF-8 编码"
    assert _case_count(tight.url) == before
    utf8 = body.replace("垃圾".encode("gbk"), "垃圾 ÿ".encode())  # UTF-8 outside ASCII is taken
    assert tight.call("POST", "/requests.json", utf8, {"Content-Type": "multipart/form-data; boundary=xyz"}).status == 200
    assert _case_count(tight.url) == before + 1


def test_ten_thousand_ids_get_the_spec_errors_body(tight):
    """A query of 10,000 case numbers (about 150 KB) reaches the application and gets its 400, not uvicorn's."""
    ids = ",".join(f"S20260302-{i:04d}" for i in range(10000))
    r = tight.call("GET", f"/requests.json?service_request_id={ids}&api_key={tight.key}")
    assert r.status == 400
    validate(r.json, "errors")
    assert "100" in r.json[0]["description"]


def test_the_documented_description_limit_is_the_halls(tight):
    """docs/open311.md: at most 2,000 characters (the hall's limit; the spec lets clients send 4,000)."""
    before = _case_count(tight.url)
    r = tight.post("/requests.json", _fields(description="x" * 2001))
    assert r.status == 400 and r.json[0]["description"] == "description 太长：至多 2000 个字符"
    assert _case_count(tight.url) == before
    assert tight.post("/requests.json", _fields(description="x" * 2000)).status == 200


def test_a_request_whose_token_cannot_be_written_still_answers_its_id_once(tmp_path):
    """The case is committed before its token: when the token's insert is refused (here by a trigger),
    the client still gets the request's id (token null), so it does not post the same report again."""
    from sqlalchemy import text

    from open311.conftest import make_store

    url, _world = make_store(tmp_path / "token.sqlite")
    store = open_store(url)
    key = o3.add_key(store, "token", rate_per_minute=600, now=T0).key
    with store.session() as session, session.begin():
        session.execute(text("CREATE TRIGGER no_tokens BEFORE INSERT ON open311_tokens "
                             "BEGIN SELECT RAISE(ABORT, 'no tokens today'); END"))
    store.dispose()
    before = _case_count(url)
    clock = FixedClock(T0)
    with running_server(url, clock=clock) as base:
        r = Server(base, url, key, clock).post("/requests.json", _fields())
    assert r.status == 200, r.body
    validate(r.json, "posted")
    (doc,) = r.json
    assert doc["service_request_id"].startswith("S") and doc["token"] is None
    assert _case_count(url) == before + 1


def test_an_xml_body_in_a_namespace_is_read_by_its_local_names(tight):
    lat, long = inside_lonlat()
    body = (f'<request xmlns="http://example.org/open311"><api_key>{tight.key}</api_key><service_code>event:06010</service_code>'
            f"<lat>{lat}</lat><long>{long}</long><description>命名空间里的垃圾</description></request>")
    before = _case_count(tight.url)
    r = tight.call("POST", "/requests.xml", body, {"Content-Type": "application/xml"})
    assert r.status == 200, r.body
    assert r.xml.find("request/service_request_id").text.startswith("S")
    assert _case_count(tight.url) == before + 1
