"""The Open311 server's own PostgreSQL role (migration 0022): what a public intake may do and no more.

Raw SQL as the open311 login: it cannot read reporters' names or phones, cannot update or delete
cases, events or attachments, cannot record any event but a new public report, cannot write keys.
The server itself, run as that login, files a public report over real HTTP.
"""

from __future__ import annotations

import secrets

import psycopg2
import pytest
from services.world import T0, build_world, draft, service
from sqlalchemy.engine import make_url

from app.domain.clock import FixedClock, SystemClock
from app.open311.testing import running_server
from app.services import open311 as o3
from app.store.commands import init_db
from app.store.open311 import create_intake_login
from app.store.security import drop_login
from open311.conftest import Server, inside_lonlat

pytestmark = pytest.mark.postgis


@pytest.fixture
def intake(pg_url):
    """(owner URL, open311 login URL, a case reported by the hotline with a phone number, a key)."""
    store = init_db(pg_url)
    world = build_world(store)
    svc = service(store, FixedClock(T0))
    r = svc.report(world.actors["acceptor"], draft(source="hotline", reporter_name="李四",
                                                   reporter_phone="13912345678"))
    svc.edit(world.actors["acceptor"], r.case.id, r.version, reason="号码记错", reporter_phone="13912345679")
    case = r.case
    key = o3.add_key(store, "pg", rate_per_minute=600, now=T0).key
    password = secrets.token_urlsafe(12)
    name = "o311_" + secrets.token_hex(3)
    login = create_intake_login(pg_url, name, password)
    url = make_url(pg_url).set(username=login, password=password).render_as_string(hide_password=False)
    yield pg_url, url, case, key
    store.dispose()
    from app.store.engine import open_store

    owner = open_store(pg_url)
    drop_login(owner, name)
    owner.dispose()


def _actor(store, username):
    from sqlalchemy import select

    from app.services.actors import Actor
    from app.store.models import User

    with store.session() as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        return Actor(u.username, u.display_name, u.role, u.department_id, u.id)


def _refused(conn, sql: str, args=()) -> str:
    with conn.cursor() as cur:
        try:
            cur.execute(sql, args)
        except psycopg2.Error as exc:
            conn.rollback()
            return exc.pgcode or "?"
    conn.rollback()
    raise AssertionError(f"the open311 login was allowed: {sql}")


def test_the_open311_login_reads_public_columns_only_and_writes_nothing_else(intake):
    owner, url, case, _key = intake
    from app.store.engine import open_store

    hall = open_store(owner)  # a reply by hand to the hotline's caller (not posted over Open311): never shown
    service(hall, FixedClock(T0)).reply(_actor(hall, "acceptor"), case.id, 2, text="李四先生您好，已记录")
    hall.dispose()
    u = make_url(url)
    conn = psycopg2.connect(host=u.host, port=u.port, dbname=u.database, user=u.username, password=u.password)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT number, description, state FROM cases WHERE id = %s", (case.id,))
            assert cur.fetchone()[0] == case.number  # public columns: yes
        conn.rollback()
        assert _refused(conn, "SELECT reporter_phone FROM cases") == "42501"
        assert _refused(conn, "SELECT reporter_name FROM cases WHERE id = %s", (case.id,)) == "42501"
        assert _refused(conn, "SELECT * FROM cases") == "42501"
        assert _refused(conn, "SELECT data FROM attachments") == "42501"
        assert _refused(conn, "SELECT reason FROM case_events") == "42501"
        with conn.cursor() as cur:  # report events only: an edit's payload carries the old and new phone
            cur.execute("SELECT DISTINCT action FROM case_events")
            assert cur.fetchall() == [("report",)]
            cur.execute("SELECT * FROM gridhall_open311_replies(ARRAY[%s])", (case.id,))
            assert cur.fetchall() == []
        conn.rollback()
        assert _refused(conn, "SELECT phone FROM users") == "42501"
        assert _refused(conn, "UPDATE cases SET description = 'x' WHERE id = %s", (case.id,)) == "42501"
        assert _refused(conn, "UPDATE cases SET state = 'closed'") == "42501"
        with conn.cursor() as cur:  # its compare-and-set reaches a new public report only
            cur.execute("UPDATE cases SET version = version WHERE id = %s", (case.id,))
            assert cur.rowcount == 0
        conn.rollback()
        assert _refused(conn, "DELETE FROM cases WHERE id = %s", (case.id,)) == "42501"
        assert _refused(conn, "DELETE FROM case_events") == "42501"
        assert _refused(conn, "UPDATE case_events SET reason = 'x'") == "42501"
        assert _refused(conn, "DELETE FROM attachments") == "42501"
        assert _refused(conn, "INSERT INTO open311_keys (name, prefix, key_hash, rate_per_minute, created_at) "
                              "VALUES ('x', 'x', 'x', 1, now())") == "42501"
        assert _refused(conn, "UPDATE open311_keys SET revoked_at = NULL") == "42501"
        assert _refused(conn, "INSERT INTO users (username, display_name, role) VALUES ('x', 'x', 'admin')") == "42501"
        assert _refused(conn, "INSERT INTO case_events (case_id, action, from_state, to_state, actor, role, at) "
                              "VALUES (%s, 'file', 'reported', 'filed', %s, 'acceptor', now())",
                        (case.id, u.username[3:])) in ("42501", "23514")
        assert _refused(conn, "INSERT INTO departments (code, name, kind) VALUES ('X', 'X', 'bureau')") == "42501"
    finally:
        conn.close()


def test_the_server_as_the_open311_login_files_a_public_report(intake):
    owner, url, _case, key = intake
    clock = SystemClock()  # the database refuses an event time 5 minutes off its own clock
    lat, long = inside_lonlat()
    with running_server(url, clock=clock) as base:
        srv = Server(base, url, key, clock)
        r = srv.post("/requests.json", {"service_code": "event:06010", "lat": lat, "long": long,
                                        "description": "人行道上有垃圾", "phone": "13700000000"})
        assert r.status == 200, r.json
        number = r.json[0]["service_request_id"]
        doc = srv.get(f"/requests/{number}.json").json[0]
        assert doc["status"] == "open" and "13700000000" not in srv.get("/requests.json").body.decode()
        assert srv.get("/services.json").status == 200
        assert srv.get(f"/tokens/{r.json[0]['token']}.json").json[0]["service_request_id"] == number
        from app.store.engine import open_store

        hall = open_store(owner)
        world_actors = {"leader_shift": _actor(hall, "leader_shift")}
        svc = service(hall, SystemClock())
        case_id = next(c.id for c in svc.list_cases() if c.number == number)
        svc.reject(world_actors["leader_shift"], case_id, 1, reason="不属于城市管理范围")
        # 两次回复: the filing reply the database wrote reaches the reporter while the case is open
        second = srv.post("/requests.json", {"service_code": "event:06010", "lat": lat, "long": long,
                                             "description": "路灯不亮"}).json[0]["service_request_id"]
        second_id = next(c.id for c in svc.list_cases() if c.number == second)
        for name in ("acceptor", "supervisor", "dispatcher"):
            world_actors[name] = _actor(hall, name)
        r = svc.send_verify(world_actors["acceptor"], second_id, 1)
        r = svc.verify(world_actors["supervisor"], second_id, r.version, result="现场属实")
        r = svc.file(world_actors["leader_shift"], second_id, r.version)
        r = svc.dispatch(world_actors["dispatcher"], second_id, r.version, department="JD001")
        hall.dispose()
        doc = srv.get(f"/requests/{number}.json").json[0]
        assert doc["status"] == "closed" and doc["status_notes"].startswith("不予立案：您好！")
        assert "原因：不属于城市管理范围" in doc["status_notes"]
        notes = srv.get(f"/requests/{second}.json").json[0]["status_notes"]
        assert notes.startswith("已派遣到处置部门：您好！") and f"（案卷号 {second}）已立案" in notes
    u = make_url(owner)
    conn = psycopg2.connect(host=u.host, port=u.port, dbname=u.database, user=u.username, password=u.password)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT c.source, c.reporter_phone, e.role, e.actor FROM cases c JOIN case_events e "
                        "ON e.case_id = c.id AND e.seq = 1 WHERE c.number = %s", (number,))
            source, phone, role, actor = cur.fetchone()
        assert (source, phone, role) == ("public", "13700000000", "acceptor")
        assert actor == make_url(url).username[3:]
    finally:
        conn.close()


def test_a_report_from_the_open311_login_reaches_the_halls_live_feed(intake):
    """The desks listen on PostgreSQL's channel: a report the open311 login files is announced like any."""
    import threading
    import time

    from app.store.engine import open_store
    from app.store.notify import change_feed

    owner, url, _case, key = intake
    hall = open_store(owner)
    got = threading.Event()
    feed = change_feed(hall)
    feed.on_changes = lambda changes: got.set() if any(a == "report" for a, _ in changes.cases.values()) else None
    feed.start()
    try:
        deadline = time.monotonic() + 10
        while feed.status.value != "online" and time.monotonic() < deadline:
            time.sleep(0.05)
        lat, long = inside_lonlat()
        with running_server(url, clock=SystemClock()) as base:
            r = Server(base, url, key, SystemClock()).post(
                "/requests.json", {"service_code": "event:06010", "lat": lat, "long": long, "description": "直播"})
            assert r.status == 200, r.json
            assert got.wait(10)
    finally:
        feed.stop()
        hall.dispose()


def test_a_database_gone_midway_is_a_503_with_an_errors_body_never_a_500(pg_cluster):
    name = pg_cluster.create_database()
    url = pg_cluster.url(name)
    store = init_db(url)
    build_world(store)
    key = o3.add_key(store, "gone", now=T0).key
    store.dispose()
    lat, long = inside_lonlat()
    with running_server(url, clock=SystemClock()) as base:
        srv = Server(base, url, key, SystemClock())
        assert srv.get("/services.json").status == 200
        pg_cluster.drop_database(name)  # disconnects the server's sessions, and the database is no more
        for fmt in ("json", "xml"):
            r = srv.get(f"/requests.{fmt}")
            assert r.status == 503, r.body
            assert (r.json[0]["code"] if fmt == "json" else int(r.xml.find("error/code").text)) == 503
        r = srv.post("/requests.json", {"service_code": "event:06010", "lat": lat, "long": long})
        assert r.status in (503, 403), r.body  # the key cannot be checked: refused, not a 500


def test_a_photo_upload_as_the_open311_login_is_filed(intake):
    from services.world import png_bytes

    owner, url, _case, key = intake
    clock = SystemClock()
    lat, long = inside_lonlat()
    fields = {"api_key": key, "service_code": "event:06010", "lat": str(lat), "long": str(long), "description": "井盖缺失"}
    body = b"".join(b'--xyz\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v.encode())
                    for k, v in fields.items())
    body += (b'--xyz\r\nContent-Disposition: form-data; name="media"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n'
             + png_bytes() + b"\r\n--xyz--\r\n")
    with running_server(url, clock=clock) as base:
        r = Server(base, url, key, clock).call("POST", "/requests.json", body,
                                               {"Content-Type": "multipart/form-data; boundary=xyz"})
    assert r.status == 200, r.body
