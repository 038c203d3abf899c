"""Holes a review found after the first round of issue 8, each attacked with raw SQL as a login.

A new case's kind, component and grid must agree with its category and location; attachments
are stored only with the event that records them, with their true size and digest; a login
cannot mark its own event automatic, name another department on it, or date it before the
case's last event; calling the release function at will ends no honest work, and an analyst
cannot call it at all.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import psycopg2
import pytest

from tests.store import hall as _hall
from tests.store.hall import event_sql, refused, run, step
from tests.store.test_derive import db_now

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

NEW_CASE = ("INSERT INTO cases (number, kind, category_id, state, source, description, reported_at, version, level, "
            "urge_count, rework_count, paused_minutes, extension_minutes, grid_id, component_id, geom) "
            "VALUES (%s, %s, %s, 'reported', 'hotline', 'x', now(), 0, 'general', 0, 0, 0, 0, %s, %s, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4549))")


def _ids(hall, sql: str, args=()) -> list[tuple]:
    with hall.store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql, args).all()]


def test_a_new_case_agrees_with_its_category_and_location(hall):
    (event_cat,), = _ids(hall, "SELECT id FROM categories WHERE kind = 'event' LIMIT 1")
    comp_id, comp_cat, x, y = _ids(hall, "SELECT id, category_id, ST_X(geom), ST_Y(geom) FROM components "
                                         "WHERE geom IS NOT NULL LIMIT 1")[0]
    (other_cat,), = _ids(hall, "SELECT id FROM categories WHERE kind = 'component' AND id <> %s LIMIT 1", (comp_cat,))
    grid, gx, gy = _ids(hall, "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                              "FROM unit_grids LIMIT 1")[0]
    (far_grid,), = _ids(hall, "SELECT id FROM unit_grids WHERE NOT ST_DWithin(geom, ST_SetSRID(ST_MakePoint(%s, %s), "
                              "4549), 10) LIMIT 1", (gx, gy))
    refused(hall, "acceptor", NEW_CASE, ("H1", "component", event_cat, None, None, gx, gy), match="category's kind")
    refused(hall, "acceptor", NEW_CASE, ("H2", "component", other_cat, None, comp_id, x, y),
            match="component of its own category")
    refused(hall, "acceptor", NEW_CASE, ("H3", "event", event_cat, far_grid, None, gx, gy),
            match="grid its location lies in")
    # the honest row passes this check (and is then refused at commit for want of its report event)
    message = refused(hall, "acceptor", NEW_CASE, ("H4", "event", event_cat, grid, None, gx, gy))
    assert "has no events" in message


def _attach(cur, case_id: int, event_id: int, data: bytes, *, size=None, digest=None) -> None:
    cur.execute("INSERT INTO attachments (case_id, event_id, kind, filename, mime, size, sha256, data) "
                "VALUES (%s, %s, 'after', 'a.png', 'image/png', %s, %s, %s)",
                (case_id, event_id, len(data) if size is None else size,
                 hashlib.sha256(data).hexdigest() if digest is None else digest, psycopg2.Binary(data)))


def test_attachments_come_with_their_event_and_their_true_digest(hall):
    case = hall.cases["handling_a"]
    conn = hall.connect("dept_a")
    try:
        with conn.cursor() as cur:  # a feedback of its own, committed
            sql, args = event_sql(step(hall, "dept_a", case, "feedback", "handling", "fed_back", at=db_now(),
                                       reason="已处理"))
            cur.execute(sql + " RETURNING id", args)
            (event_id,) = cur.fetchone()
        conn.commit()
        for kwargs, words in (({}, "same transaction"),):  # later: evidence added after the fact
            with pytest.raises(psycopg2.Error, match=words), conn.cursor() as cur:
                _attach(cur, case, event_id, b"\x89PNG later", **kwargs)
            conn.rollback()
    finally:
        conn.close()
    case = hall.cases["handling_b"]
    conn = hall.connect("dept_b")
    try:
        for kwargs in ({"size": 1}, {"digest": "0" * 64}):
            with pytest.raises(psycopg2.Error, match="size and sha256"), conn.cursor() as cur:
                sql, args = event_sql(step(hall, "dept_b", case, "feedback", "handling", "fed_back", at=db_now(),
                                           reason="已处理"))
                cur.execute(sql + " RETURNING id", args)
                (event_id,) = cur.fetchone()
                _attach(cur, case, event_id, b"\x89PNG now", **kwargs)
            conn.rollback()
        with conn.cursor() as cur:  # the honest way: the event and its photo in one transaction
            sql, args = event_sql(step(hall, "dept_b", case, "feedback", "handling", "fed_back", at=db_now(),
                                       reason="已处理"))
            cur.execute(sql + " RETURNING id", args)
            (event_id,) = cur.fetchone()
            _attach(cur, case, event_id, b"\x89PNG now")
        conn.commit()
    finally:
        conn.close()


def test_a_login_cannot_mark_its_event_automatic_or_name_another_department(hall):
    case = hall.cases["filed"]
    sql, args = event_sql(step(hall, "acceptor", case, "reply", "filed", "filed", at=db_now(),
                               payload='{"text": "已处理完毕，案卷已结案", "auto": true}'))
    refused(hall, "acceptor", sql, args, match="only the database marks")
    other = hall.world.dept["HW"]
    sql, args = event_sql(step(hall, "acceptor", case, "reply", "filed", "filed", at=db_now(),
                               payload='{"text": "您好"}', department_id=other))
    refused(hall, "acceptor", sql, args, match="names the department of the login")


def test_an_event_is_not_dated_before_the_case_s_last_event(hall):
    case = hall.cases["filed"]
    now = db_now()
    sql, args = event_sql(step(hall, "acceptor", case, "reply", "filed", "filed", at=now, payload='{"text": "您好"}'))
    run(hall, "acceptor", sql, args)
    sql, args = event_sql(step(hall, "acceptor", case, "reply", "filed", "filed", at=now - timedelta(minutes=2),
                               payload='{"text": "您好"}'))
    refused(hall, "acceptor", sql, args, match="before the case's last event")


def test_the_release_function_ends_no_honest_work_and_analysts_cannot_call_it(hall):
    refused(hall, "analyst", "SELECT gridhall_release_blockers()", match="permission denied")
    case = hall.cases["handling_a"]
    worker = hall.connect("dispatcher")
    done: dict = {}

    def honest_long_step():  # active all along (a slow upload, say), holding the case's row lock
        try:
            with worker.cursor() as cur:
                cur.execute("UPDATE cases SET version = version WHERE id = %s", (case,))
                cur.execute("SELECT pg_sleep(7)")
            worker.commit()
            done["ok"] = True
        except psycopg2.Error as exc:
            done["error"] = exc

    thread = threading.Thread(target=honest_long_step)
    thread.start()
    try:
        time.sleep(5)  # older than the 4 s an idle transaction is given
        assert run(hall, "acceptor", "SELECT gridhall_release_blockers()") == [(0,)]
        thread.join(30)
        assert done == {"ok": True}
    finally:
        thread.join(30)
        worker.close()


def test_the_database_caps_reasons_payloads_and_descriptions(hall):
    case = hall.cases["filed"]
    sql, args = event_sql(step(hall, "acceptor", case, "reply", "filed", "filed", at=db_now(),
                               payload='{"text": "您好"}', reason="长" * 1001))
    refused(hall, "acceptor", sql, args, match="a reason holds at most 1000")
    sql, args = event_sql(step(hall, "acceptor", case, "reply", "filed", "filed", at=db_now(),
                               payload='{"text": "%s"}' % ("x" * 70_000)))
    refused(hall, "acceptor", sql, args, match="a payload at most")
    (event_cat,), = _ids(hall, "SELECT id FROM categories WHERE kind = 'event' LIMIT 1")
    refused(hall, "acceptor", NEW_CASE.replace("'x'", "repeat('描', 2001)"), ("H5", "event", event_cat, None, None, 1, 1),
            match="description holds at most 2000")
