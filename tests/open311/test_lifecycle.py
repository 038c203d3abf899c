"""A request posted over Open311 is a public report in the hall: in the queue, verified before filing,
followed through the loop to closed by GET (status, status_notes, expected_datetime, updated_datetime).
Real clients' habits: form-encoded bodies, booleans as strings, JSON and XML bodies, photo uploads,
media_url from an allowed host only."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.parse
import uuid
from datetime import timedelta

import pytest
from services.loop_steps import shot
from services.world import T0, png_bytes, service

from app.domain.definitions import CaseState, Source
from app.services.errors import ValidationError
from app.store.engine import open_store
from open311.conftest import inside_lonlat


def _row(svc, case_id):
    from app.store.models import Case

    with svc.store.session() as session:
        row = session.get(Case, case_id)
        session.expunge(row)
        return row


def _fields(**more):
    lat, long = inside_lonlat()
    return {"service_code": "event:06010", "lat": lat, "long": long, "description": "人民路边有一堆暴露垃圾", **more}


@pytest.fixture
def hall(server, district_world):
    """The case service over the server's store, with the server's clock, and the district's actors."""
    store = open_store(server.url)
    svc = service(store, server.clock)
    yield svc, district_world[1].actors
    store.dispose()
    server.clock.set(T0)


def test_posted_request_is_a_public_report_in_the_queue_that_needs_verification(server, hall):
    svc, a = hall
    r = server.post("/requests.json", _fields(first_name="三", last_name="张", phone="13800000000"))
    assert r.status == 200, r.body
    number = r.json[0]["service_request_id"]
    row = next(c for c in svc.list_cases() if c.number == number)
    assert row.state is CaseState.REPORTED
    case = _row(svc, row.id)
    assert Source(case.source) is Source.PUBLIC
    assert case.reporter_name == "张三" and case.reporter_phone == "13800000000"
    with pytest.raises(ValidationError):  # 公众举报: verified on site before filing, as any public report
        svc.file(a["leader_shift"], row.id, row.version)


def test_followed_to_closed(server, hall):
    svc, a = hall
    number = server.post("/requests.json", _fields()).json[0]["service_request_id"]
    case_id = next(c.id for c in svc.list_cases() if c.number == number)
    doc = server.get(f"/requests/{number}.json").json[0]
    assert (doc["status"], doc["status_notes"]) == ("open", "已受理，等待现场核实")
    r = svc.send_verify(a["acceptor"], case_id, 1)
    assert server.get(f"/requests/{number}.json").json[0]["status_notes"] == "监督员正在现场核实"
    server.clock.advance(timedelta(minutes=30))
    r = svc.verify(a["supervisor"], r.case.id, r.version, result="现场属实")
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    filed_note = server.get(f"/requests/{number}.json").json[0]["status_notes"]  # 两次回复, the first
    assert filed_note.startswith("已立案，等待派遣：您好！") and f"（案卷号 {number}）已立案" in filed_note
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], r.case.id, r.version)
    doc = server.get(f"/requests/{number}.json").json[0]
    assert doc["status"] == "open" and doc["status_notes"] == filed_note.replace("已立案，等待派遣", "处置部门正在处置", 1)
    assert doc["agency_responsible"]
    handle = _row(svc, case_id).handle_deadline_at
    assert doc["expected_datetime"] == handle.isoformat() + "+08:00"
    server.clock.advance(timedelta(hours=1))
    r = svc.feedback(a["dept_jd"], r.case.id, r.version, text="已清运", photos=(shot("after", server.clock, "后.png"),))
    r = svc.send_check(a["acceptor"], r.case.id, r.version)
    r = svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")
    r = svc.close(a["leader_shift"], r.case.id, r.version, override=True, note="现场已清理，整改前照片缺失")
    closed_doc = server.get(f"/requests/{number}.json").json[0]
    assert closed_doc["status"] == "closed"
    assert closed_doc["status_notes"] == (f"已结案：您好！您反映的「暴露垃圾」问题（案卷号 {number}）已处置完毕，"
                                          "经监督员现场核查后结案。如仍有问题，欢迎再次反映。感谢您对城市管理的支持！")
    assert closed_doc["expected_datetime"] is None
    assert closed_doc["updated_datetime"] == (T0 + timedelta(minutes=90)).isoformat() + "+08:00"
    assert number in [d["service_request_id"] for d in server.get("/requests.json", status="closed").json]
    x = server.get(f"/requests/{number}.xml").xml.find("request")
    assert x.find("status").text == "closed" and x.find("expected_datetime").text is None


def test_rejected_report_is_closed_with_the_reason(server, hall):
    svc, a = hall
    number = server.post("/requests.json", _fields()).json[0]["service_request_id"]
    case_id = next(c.id for c in svc.list_cases() if c.number == number)
    svc.reject(a["leader_shift"], case_id, 1, reason="不属于城市管理范围")
    doc = server.get(f"/requests/{number}.json").json[0]
    assert doc["status"] == "closed" and "不属于城市管理范围" in doc["status_notes"]
    assert doc["status_notes"].startswith("不予立案：您好！") and "经审核不予立案" in doc["status_notes"]


# ---- clients' habits ----------------------------------------------------------------------------

def test_fixmystreet_style_form_with_string_booleans_and_unknown_extras(server):
    body = urllib.parse.urlencode({**_fields(), "api_key": server.key, "jurisdiction_id": "gridhall",
                                   "device_id": "fms", "account_id": "", "email": "a@b.example",
                                   "attribute[component_code]": "", "emergency": "false", "private": "true"})
    r = server.call("POST", "/requests.xml", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert r.status == 200, r.body  # attributes an event service does not define are ignored
    body = urllib.parse.urlencode({**_fields(), "api_key": server.key, "device_id": "fms", "emergency": "false"})
    r = server.call("POST", "/requests.xml", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert r.status == 200 and r.xml.find("request/service_request_id").text


def test_json_and_xml_bodies(server):
    import json

    r = server.call("POST", "/requests.json", json.dumps({**_fields(), "api_key": server.key}),
                    {"Content-Type": "application/json"})
    assert r.status == 200, r.body
    lat, long = inside_lonlat()
    xml = (f"<?xml version='1.0'?><request><api_key>{server.key}</api_key><service_code>event:06010</service_code>"
           f"<lat>{lat}</lat><long>{long}</long><description>井盖旁有垃圾</description></request>")
    r = server.call("POST", "/requests.xml", xml, {"Content-Type": "text/xml"})
    assert r.status == 200, r.body


def _multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for name, filename, data in files:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f"Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def test_photo_upload_is_attached_to_the_case(server, hall):
    svc, _ = hall
    body, ctype = _multipart({**_fields(), "api_key": server.key}, [("media", "现场.png", png_bytes())])
    r = server.call("POST", "/requests.json", body, {"Content-Type": ctype})
    assert r.status == 200, r.body
    case_id = next(c.id for c in svc.list_cases() if c.number == r.json[0]["service_request_id"])
    assert [a.kind for a in svc.attachments(case_id)] == ["report"]
    body, ctype = _multipart({**_fields(), "api_key": server.key}, [("media", "x.png", b"not an image")])
    assert server.call("POST", "/requests.json", body, {"Content-Type": ctype}).status == 400


@pytest.fixture(scope="module")
def photo_host():
    """A plain HTTP server on loopback serving one PNG at /p.png (and a redirect at /r)."""
    data = png_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/drip.png":  # a PNG's first bytes, one every 0.5 s for 15 s
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                try:
                    for byte in data[:30]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:
                    pass  # the server gave up on it
                return
            if self.path == "/r":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/")
                self.end_headers()
                return
            self.send_response(200 if self.path == "/p.png" else 404)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            if self.path == "/p.png":
                self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_media_url_only_from_allowed_hosts(district, photo_host, tmp_path):
    from app.domain.clock import FixedClock
    from app.open311.testing import running_server
    from app.services import open311 as o3
    from open311.conftest import Server

    store = open_store(district)
    key = o3.add_key(store, f"media-{uuid.uuid4().hex[:6]}", now=T0).key
    svc = service(store, FixedClock(T0))
    clock = FixedClock(T0)
    with running_server(district, clock=clock, allowed_media_hosts=[photo_host]) as base:
        srv = Server(base, district, key, clock)
        ok = srv.post("/requests.json", _fields(media_url=f"http://{photo_host}/p.png"))
        assert ok.status == 200, ok.body
        number = ok.json[0]["service_request_id"]
        assert srv.get(f"/requests/{number}.json").json[0]["media_url"] == f"http://{photo_host}/p.png"
        case_id = next(c.id for c in svc.list_cases() if c.number == number)
        assert [a.kind for a in svc.attachments(case_id)] == ["report"]
        for url in ("http://media.user.com/image.png", f"ftp://{photo_host}/p.png", f"http://{photo_host}/r",
                    f"http://{photo_host}/missing.png", "http://[::1", "file:///etc/passwd"):
            bad = srv.post("/requests.json", _fields(media_url=url))
            assert bad.status == 400, (url, bad.body)
    store.dispose()


def test_a_posted_request_reaches_the_halls_live_feed(server):
    """What the desk's live sync listens to (app/store/notify.py) tells of the new report within seconds."""
    from app.store.notify import change_feed

    seen: list = []
    got = threading.Event()
    store = open_store(server.url)
    feed = change_feed(store, interval=0.2)

    def on_changes(changes):
        seen.append(changes)
        if any(action == "report" for action, _actor in changes.cases.values()):
            got.set()

    feed.on_changes = on_changes
    feed.start()
    try:
        import time

        deadline = time.monotonic() + 10
        while feed.status.value != "online" and time.monotonic() < deadline:
            time.sleep(0.05)
        r = server.post("/requests.json", _fields(description="直播测试"))
        assert r.status == 200
        assert got.wait(10), seen
        case_ids = [cid for c in seen for cid, (action, _a) in c.cases.items() if action == "report"]
        svc = service(store, server.clock)
        assert r.json[0]["service_request_id"] in {svc.get(cid).number for cid in case_ids}
    finally:
        feed.stop()
        store.dispose()


def test_status_notes_carry_the_reply_in_force(server, hall):
    """两次回复 over Open311: the newest reply while open (automatic or by hand), none from before the end."""
    svc, a = hall
    number = server.post("/requests.json", _fields()).json[0]["service_request_id"]
    case_id = next(c.id for c in svc.list_cases() if c.number == number)
    r = svc.send_verify(a["acceptor"], case_id, 1)
    server.clock.advance(timedelta(minutes=30))
    r = svc.verify(a["supervisor"], r.case.id, r.version, result="现场属实")
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    assert "已立案，我们将尽快派遣" in server.get(f"/requests/{number}.json").json[0]["status_notes"]
    r = svc.reply(a["acceptor"], r.case.id, r.version, text="已转交环卫所，今天下午清运")
    doc = server.get("/requests.json", service_request_id=number).json[0]
    assert doc["status_notes"] == "已立案，等待派遣：已转交环卫所，今天下午清运"
    svc.void(a["leader_shift"], r.case.id, r.version, reason="重复录入")
    doc = server.get(f"/requests/{number}.json").json[0]
    assert (doc["status"], doc["status_notes"]) == ("closed", "已作废：重复录入")
    assert "清运" not in server.get(f"/requests/{number}.xml").body.decode()


def test_a_hand_reply_to_a_report_not_posted_over_open311_is_never_published(server, hall):
    """A reply written by hand to a hotline caller may name them: only automatic replies of such cases show."""
    from services.world import draft

    svc, a = hall
    r = svc.report(a["acceptor"], draft(source="hotline", reporter_name="李四", reporter_phone="13912345678"))
    svc.reply(a["acceptor"], r.case.id, r.version, text="李四先生您好，已记录，请保持电话畅通")
    doc = server.get("/requests.json", service_request_id=r.case.number).json[0]
    assert doc["status_notes"] == "已受理，等待现场核实" and "李四" not in doc["status_notes"]


def test_a_media_url_that_drips_is_cut_off_within_its_time(district, photo_host):
    """The media time-out bounds the whole fetch, not each read: a host sending a byte every 0.5 s is cut
    off after about a second, with a 400 and nothing written."""
    from app.domain.clock import FixedClock
    from app.open311.testing import running_server
    from app.services import open311 as o3
    from open311.conftest import Server

    store = open_store(district)
    key = o3.add_key(store, f"drip-{uuid.uuid4().hex[:6]}", now=T0).key
    svc = service(store, FixedClock(T0))
    before = len(svc.list_cases())
    clock = FixedClock(T0)
    with running_server(district, clock=clock, allowed_media_hosts=[photo_host], media_timeout_s=1.0) as base:
        started = time.monotonic()
        bad = Server(base, district, key, clock).post("/requests.json", _fields(media_url=f"http://{photo_host}/drip.png"))
        took = time.monotonic() - started
    assert bad.status == 400 and "media_url" in bad.json[0]["description"], bad.body
    assert took < 10, took  # the host drips for 15 s
    assert len(svc.list_cases()) == before
    store.dispose()
