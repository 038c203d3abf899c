"""The history only grows, even for the database owner: UPDATE, DELETE, TRUNCATE and broken links are refused."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from geoalchemy2 import WKTElement
from sqlalchemy import select, text

from app.domain.definitions import Action, CaseState, Role
from app.store.audit import append_event, import_path
from app.store.commands import verify_audit
from app.store.models import Case, Category

T0 = datetime(2026, 5, 11, 9, 30)


def _history(store) -> int:
    """One case with three events; returns its id."""
    with store.session() as s, s.begin():
        import_path(s)  # a written history, not the loop: no derived columns, no replies (PostGIS)
        cat = s.scalars(select(Category).where(Category.kind == "event", Category.code == "06001")).one()
        case = Case(number="SJ2026051100001", kind="event", category_id=cat.id, state="reported", source="public",
                    description="路面有暴露垃圾", reported_at=T0, geom=WKTElement("POINT(500000 3500000)", srid=4549))
        s.add(case)
        s.flush()
        for i, (action, state, role) in enumerate([(Action.REPORT, CaseState.REPORTED, Role.ACCEPTOR),
                                                   (Action.FILE, CaseState.FILED, Role.SHIFT_LEADER),
                                                   (Action.DISPATCH, CaseState.DISPATCHED, Role.DISPATCHER)]):
            append_event(s, case, action=action, to_state=state, actor="zhang", role=role,
                         at=T0 + timedelta(minutes=i), payload={"n": i, "x": 557150.25, "名": "甲"})
        return case.id


def _refused(store, sql: str, match: str, **params) -> None:
    with store.engine.connect() as conn:
        with pytest.raises(Exception, match=match):
            conn.execute(text(sql), params)
            conn.commit()
        conn.rollback()


@pytest.mark.parametrize("sql", [
    "UPDATE case_events SET reason = '已处理' WHERE seq = 2",
    "UPDATE case_events SET hash = prev_hash",
    "DELETE FROM case_events WHERE seq = 3",
    "DELETE FROM case_events",
])
def test_the_owner_cannot_rewrite_the_history(store, sql):
    _history(store)
    _refused(store, sql, "append-only")
    assert verify_audit(store) is None


def test_the_chain_head_cannot_be_deleted(store):
    _history(store)
    _refused(store, "DELETE FROM audit_head", "append-only")
    assert verify_audit(store) is None


def test_a_link_that_does_not_follow_the_chain_is_refused(store):
    case_id = _history(store)
    with store.engine.connect() as conn:
        last = conn.execute(text("SELECT chain_no, hash FROM case_events ORDER BY chain_no DESC LIMIT 1")).one()
    row = ("INSERT INTO case_events (chain_no, case_id, seq, action, from_state, to_state, actor, role, at, "
           "prev_hash, hash) VALUES (:no, :case, :seq, 'accept', 'dispatched', 'handling', 'li', 'department', "
           ":at, :prev, :hash)")
    good = {"no": last.chain_no + 1, "case": case_id, "seq": 4, "at": T0 + timedelta(hours=1), "prev": last.hash,
            "hash": "a" * 64}
    _refused(store, row, "chain_no", **{**good, "no": last.chain_no + 2})
    _refused(store, row, "prev_hash", **{**good, "prev": "0" * 64})
    _refused(store, row, "seq", **{**good, "seq": 6})
    assert verify_audit(store) is None


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"])
def test_postgis_refuses_truncate_and_a_forged_head(store):
    _history(store)
    _refused(store, "TRUNCATE case_events CASCADE", "append-only")
    _refused(store, "TRUNCATE audit_head", "append-only")
    _refused(store, "TRUNCATE cases CASCADE", "append-only")  # would take the events with it
    _refused(store, "UPDATE audit_head SET chain_no = 2", "audit_head must name the last link")
    _refused(store, "UPDATE audit_head SET hash = :h", "audit_head must name the last link", h="b" * 64)
    assert verify_audit(store) is None


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"])
def test_postgis_hashes_like_python_and_fills_in_the_chain(store):
    # A client that only gives the content gets the same hash the Python chain would compute.
    case_id = _history(store)
    with store.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO case_events (case_id, action, from_state, to_state, actor, role, at, reason, payload) "
            "VALUES (:c, 'accept', 'dispatched', 'handling', 'li', 'department', :at, :r, CAST(:p AS json))"),
            {"c": case_id, "at": T0 + timedelta(hours=1, microseconds=7), "r": '引号"与\\反斜杠\n换行\x01',
             "p": '{"b":[1,2.5,1e-07,1.5e15,-0.0,true,null,{"z":1,"a":"\\u00e9"}],"a":"x","a":"dup"}'})
        conn.execute(text("UPDATE cases SET state = 'handling', version = 4 WHERE id = :c"), {"c": case_id})
    assert verify_audit(store) is None


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"])
def test_a_superuser_can_still_tamper_for_tests_and_is_caught(store):
    # The documented way for tamper tests: a superuser session with triggers off.
    _history(store)
    with store.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_head"))
    problem = verify_audit(store)
    assert problem is not None and "audit_head" in problem.message


@pytest.mark.parametrize("backend", ["spatialite"])
def test_spatialite_tamperer_must_drop_the_triggers_first(store):
    _history(store)
    with store.engine.begin() as conn:
        names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        assert {"case_events_no_update", "case_events_no_delete", "audit_head_no_delete",
                "case_events_chain_check"} <= names
        conn.execute(text("DROP TRIGGER case_events_no_update"))
        conn.execute(text("UPDATE case_events SET reason = 'x' WHERE seq = 2"))
    problem = verify_audit(store)
    assert problem is not None and "edited" in problem.message


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"])
def test_sql_hash_equals_python_hash_for_every_stored_event(store):
    import json
    import random

    _history(store)
    rng = random.Random(7)
    floats = [rng.uniform(-1e6, 1e6) for _ in range(200)] + [10.0 ** e * rng.random() for e in range(-12, 22)]
    floats += [float(rng.randrange(1, 10**19)) for _ in range(100)] + [rng.random() * 10.0 ** rng.randint(-30, 30)
                                                                     for _ in range(300)]
    floats += [0.0, -0.0, 1e15, 1.5e15, 9.999999999999998e15, 1e16, 1e-4, 1e-5, 123456789.0, 5e-324, 1.7976931348623157e308]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM case_events "
                                 "WHERE gridhall_event_hash(case_events) <> hash")).scalar() == 0
        tokens = [repr(f) for f in floats] + ["1E5", "1.50", "-0", "2e+2", "0.000001"]
        got = conn.execute(text("SELECT gridhall_json_number(t) FROM unnest(CAST(:t AS text[])) AS t"),
                           {"t": tokens}).scalars().all()
    assert got == [json.dumps(json.loads(t)) for t in tokens]
