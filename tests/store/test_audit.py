"""The case-event hash chain on the store: appending, verifying, and catching tampering."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from geoalchemy2 import WKTElement
from sqlalchemy import select, text

from app.domain.audit import GENESIS_HASH, event_hash
from app.domain.definitions import Action, CaseState, Role
from app.store.audit import append_event, bulk_append, import_path, read_head
from app.store.commands import verify_audit
from app.store.errors import StaleCase
from app.store.models import Case, CaseEvent, Category

T0 = datetime(2026, 5, 11, 9, 30)


def _new_case(session, number: str) -> Case:
    cat = session.scalars(select(Category).where(Category.kind == "event", Category.code == "06001")).one()
    case = Case(number=number, kind="event", category_id=cat.id, state=CaseState.REPORTED.value,
                source="public", description="路面有暴露垃圾", reported_at=T0,
                geom=WKTElement("POINT(500000 3500000)", srid=4549))
    session.add(case)
    session.flush()
    return case


STEPS = [
    (Action.REPORT, CaseState.REPORTED, Role.ACCEPTOR),
    (Action.FILE, CaseState.FILED, Role.SHIFT_LEADER),
    (Action.DISPATCH, CaseState.DISPATCHED, Role.DISPATCHER),
]


def _history(store, n_cases: int = 2) -> list[int]:
    """Cases whose events interleave in the chain (case 1 step 1, case 2 step 1, ...)."""
    with store.session() as s, s.begin():
        import_path(s)  # a written history, not the loop: no derived columns, no replies (PostGIS)
        cases = [_new_case(s, f"E0601202605110{i}") for i in range(n_cases)]
        minute = 0
        for action, state, role in STEPS:
            for case in cases:
                minute += 1
                append_event(s, case, action=action, to_state=state, actor="zhang", role=role,
                             at=T0 + timedelta(minutes=minute, microseconds=123),
                             reason=f"{action.label}：{case.number}")
        return [c.id for c in cases]


def _drop_guard(store) -> None:
    # A tamperer with admin rights first removes every trigger guarding the history.
    with store.engine.begin() as conn:
        if store.backend == "spatialite":
            names = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('case_events', 'audit_head')")).scalars().all()
            for name in names:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            rows = conn.execute(text(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid IN ('case_events'::regclass, 'audit_head'::regclass)")).all()
            for name, table in rows:
                conn.execute(text(f'DROP TRIGGER "{name}" ON {table}'))


def _tamper(store, sql: str) -> None:
    _drop_guard(store)
    with store.engine.begin() as conn:
        assert conn.execute(text(sql)).rowcount == 1


def test_appending_builds_a_valid_chain(store):
    ids = _history(store)
    assert verify_audit(store) is None
    with store.session() as s:
        events = s.scalars(select(CaseEvent).order_by(CaseEvent.chain_no)).all()
        assert [e.chain_no for e in events] == [1, 2, 3, 4, 5, 6]
        assert [(e.case_id, e.seq) for e in events] == [(ids[0], 1), (ids[1], 1), (ids[0], 2),
                                                        (ids[1], 2), (ids[0], 3), (ids[1], 3)]
        prev = GENESIS_HASH
        for e in events:
            assert e.prev_hash == prev
            fields = {k: getattr(e, k) for k in ("chain_no", "case_id", "seq", "action", "from_state",
                                                 "to_state", "actor", "role", "department_id", "at",
                                                 "reason", "payload")}
            assert event_hash(fields, prev) == e.hash
            prev = e.hash
        assert events[0].from_state is None and events[2].from_state == "reported"
        assert events[0].at == T0 + timedelta(minutes=1)  # stored without microseconds
        assert read_head(s) == (6, prev)
        case = s.get(Case, ids[0])
        assert (case.version, case.state, case.updated_at) == (3, "dispatched", T0 + timedelta(minutes=5))


def test_edited_reason_names_the_link(store):
    _history(store)
    _tamper(store, "UPDATE case_events SET reason = '已处理完毕' WHERE chain_no = 3")
    problem = verify_audit(store)
    assert problem is not None and problem.chain_no == 3
    assert "link 3" in problem.message and "edited" in problem.message


def test_deleted_middle_event_names_the_missing_link(store):
    _history(store)
    _tamper(store, "DELETE FROM case_events WHERE chain_no = 4")
    problem = verify_audit(store)
    assert problem is not None and problem.chain_no == 4
    assert "link 4 is missing" in problem.message


def test_deleted_last_event_is_detected(store):
    _history(store)
    _tamper(store, "DELETE FROM case_events WHERE chain_no = 6")
    problem = verify_audit(store)
    assert problem is not None
    assert "ends at link 5" in problem.message and "head is link 6" in problem.message


def test_deleted_tail_with_forged_head_is_caught_by_case_version(store):
    ids = _history(store)
    with store.engine.connect() as conn:
        prev5 = conn.execute(text("SELECT hash FROM case_events WHERE chain_no = 5")).scalar()
    _tamper(store, "DELETE FROM case_events WHERE chain_no = 6")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET chain_no = 5, hash = :h"), {"h": prev5})  # forged
    problem = verify_audit(store)
    assert problem is not None and problem.case_id == ids[1]


def test_missing_head_row_is_reported(store):
    _history(store, 1)
    _tamper(store, "DELETE FROM audit_head")
    problem = verify_audit(store)
    assert problem is not None and "audit_head" in problem.message


def test_triggers_refuse_update_and_delete(store):
    _history(store, 1)
    with store.engine.connect() as conn:
        for sql in ("UPDATE case_events SET reason = 'x' WHERE chain_no = 1",
                    "DELETE FROM case_events WHERE chain_no = 3"):
            with pytest.raises(Exception, match="append-only"):
                conn.execute(text(sql))
            conn.rollback()
    assert verify_audit(store) is None


def test_payload_is_stored_as_hashed(store):
    with store.session() as s, s.begin():
        import_path(s)  # the payload exactly as given (PostGIS would add the derived deadline)
        case = _new_case(s, "E06012026051199")
        ev = append_event(s, case, action=Action.REPORT, to_state=CaseState.REPORTED, actor="li",
                          role=Role.SUPERVISOR, at=T0,
                          payload={"due": T0 + timedelta(hours=2, microseconds=5), "level": Role.LEADER,
                                   "photos": (1, 2)})
        ev_id = ev.id
    with store.session() as s:
        assert s.get(CaseEvent, ev_id).payload == {"due": "2026-05-11 11:30:00", "level": "leader",
                                                   "photos": [1, 2]}
    assert verify_audit(store) is None


def test_stale_case_is_refused(store):
    with store.session() as s, s.begin():
        case_id = _new_case(s, "E06012026051101").id
    with store.session() as a, store.session() as b:
        case_b = b.get(Case, case_id)  # b read the case before a recorded an event
        with a.begin():
            append_event(a, a.get(Case, case_id), action=Action.REPORT, to_state=CaseState.REPORTED,
                         actor="a", role=Role.ACCEPTOR, at=T0)
        with pytest.raises(StaleCase):
            append_event(b, case_b, action=Action.REPORT, to_state=CaseState.REPORTED, actor="b",
                         role=Role.ACCEPTOR, at=T0)
        b.rollback()
    assert verify_audit(store) is None


def test_bulk_append_continues_the_chain(store):
    _history(store, 1)
    with store.session() as s, s.begin():
        case = _new_case(s, "E06012026051102")
        rows = [{"case_id": case.id, "seq": i + 1, "action": a, "to_state": st, "actor": "gen",
                 "role": r, "at": T0 + timedelta(hours=i)} for i, (a, st, r) in enumerate(STEPS)]
        head = bulk_append(s, rows)
        case.version, case.state = 3, "dispatched"
    assert head[0] == 6
    with store.session() as s, s.begin():
        case = s.get(Case, case.id)
        ev = append_event(s, case, action=Action.ACCEPT, to_state=CaseState.HANDLING, actor="dept",
                          role=Role.DEPARTMENT, at=T0 + timedelta(hours=5))
        assert (ev.chain_no, ev.seq, ev.from_state) == (7, 4, "dispatched")
    assert verify_audit(store) is None


def test_concurrent_writers_keep_one_chain(store):
    with store.session() as s, s.begin():
        ids = [_new_case(s, f"E0601202605112{i}").id for i in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(case_id: int) -> None:
        try:
            start.wait()
            for i in range(8):
                with store.session() as s, s.begin():
                    append_event(s, s.get(Case, case_id), action=Action.URGE, to_state=CaseState.REPORTED,
                                 actor=f"w{case_id}", role=Role.LEADER, at=T0 + timedelta(minutes=i))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert verify_audit(store) is None
    with store.session() as s:
        assert read_head(s)[0] == 16


def test_the_database_numbers_and_hashes_on_postgis_python_on_spatialite(store):
    from sqlalchemy import event as sa_event

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()).lower())

    with store.session() as s, s.begin():
        case = _new_case(s, "E06012026051131")
        sa_event.listen(store.engine, "before_cursor_execute", record)
        try:
            ev = append_event(s, case, action=Action.REPORT, to_state=CaseState.REPORTED, actor="li",
                              role=Role.ACCEPTOR, at=T0, reason="上报")
        finally:
            sa_event.remove(store.engine, "before_cursor_execute", record)
        assert s.get(CaseEvent, ev.id) is ev  # the returned event belongs to the session
        assert (case.version, case.state) == (1, "reported")
        fields = {k: getattr(ev, k) for k in ("chain_no", "case_id", "seq", "action", "from_state", "to_state",
                                              "actor", "role", "department_id", "at", "reason", "payload")}
        assert (ev.chain_no, ev.prev_hash) == (1, GENESIS_HASH)
        assert ev.hash == event_hash(fields, GENESIS_HASH)
    head_writes = [q for q in statements if "audit_head" in q]
    if store.backend == "postgis":
        # The chain trigger takes the lock and moves the head: the client does neither.
        assert head_writes == []
    else:
        assert any("update audit_head" in q for q in head_writes)
    with store.session() as s:
        assert read_head(s) == (1, ev.hash)
        assert s.get(Case, case.id).version == 1
    assert verify_audit(store) is None


PAYLOADS = [
    {"x": 512345.67, "y": 3512345.1, "tiny": 1e-05, "big": 1e16, "neg": -0.5, "int": 12345678901234},
    {"text": "人民路 18 号「东」\n\t\"引号\" \\ é ✓ 😀", "empty": "", "none": None, "yes": True, "no": False},
    {"nested": {"b": [1, 2.5, {"z": None, "a": "甲"}], "a": {}}, "list": [], "Upper": 1, "_under": 2, "a b": 3},
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=["numbers", "text", "nested"])
def test_payloads_hash_the_same_in_python_and_in_the_database(store, payload):
    with store.session() as s, s.begin():
        case = _new_case(s, "E06012026051132")
        case.source = "supervisor"  # filed directly (a public report is verified first: migration 0013)
        append_event(s, case, action=Action.REPORT, to_state=CaseState.REPORTED, actor="li",
                     role=Role.ACCEPTOR, at=T0, payload=payload)
        append_event(s, case, action=Action.FILE, to_state=CaseState.FILED, actor="wang",
                     role=Role.SHIFT_LEADER, at=T0 + timedelta(seconds=1), payload=payload)
    assert verify_audit(store) is None


def test_a_writer_waiting_on_the_case_gets_stale_case_not_a_chain_error(store):
    with store.session() as s, s.begin():
        case_id = _new_case(s, "E06012026051133").id
    outcome: list[BaseException | None] = []
    with store.session() as a, store.session() as b:
        case_b = b.get(Case, case_id)  # read at version 0, before a writes
        b.commit()

        def second() -> None:
            try:
                with b.begin():
                    append_event(b, case_b, action=Action.REPORT, to_state=CaseState.REPORTED, actor="b",
                                 role=Role.ACCEPTOR, at=T0)
                outcome.append(None)
            except BaseException as exc:  # checked below, in the test's thread
                outcome.append(exc)

        with a.begin():
            append_event(a, a.get(Case, case_id), action=Action.REPORT, to_state=CaseState.REPORTED,
                         actor="a", role=Role.ACCEPTOR, at=T0)
            t = threading.Thread(target=second)
            t.start()  # waits for a's locks (or runs after a's commit): either way it is stale
        t.join()
    assert len(outcome) == 1 and isinstance(outcome[0], StaleCase), outcome
    with store.session() as s:
        assert [e.actor for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id))] == ["a"]
    assert verify_audit(store) is None


# -- verifying as a job: progress per batch, cancel within one batch -----------------------------

def _recording_feedback(cancel_after: int | None = None):
    """A job's Feedback recording each report; with ``cancel_after``, cancel at that report."""
    from app.jobs import Feedback

    fb, reports = Feedback(), []

    def listen(fraction, message):
        reports.append((fraction, message))
        if cancel_after is not None and len(reports) == cancel_after:
            fb.cancel()  # what the cancel button (or Ctrl+C) does, from the listener's thread

    fb.subscribe(listen)
    return fb, reports


def test_verify_reports_progress_per_batch_up_to_one(store):
    _history(store, 4)  # 12 links
    fb, reports = _recording_feedback()
    assert verify_audit(store, fb, batch=5) is None
    fractions = [f for f, _ in reports]
    assert fractions == [pytest.approx(5 / 12), pytest.approx(10 / 12), 1.0, 1.0]  # 3 batches, then done
    assert reports[0][1] == "5/12" and reports[-1][1] == "12/12" and not fb.cancelled


def test_verify_of_a_broken_chain_with_feedback_names_the_same_link(store):
    _history(store, 4)
    _tamper(store, "UPDATE case_events SET reason = '已处理完毕' WHERE chain_no = 7")
    fb, reports = _recording_feedback()
    assert verify_audit(store, fb, batch=5) == verify_audit(store)
    assert verify_audit(store, fb, batch=5).chain_no == 7 and reports[-1][0] == 1.0


def test_cancelled_verify_stops_within_one_batch_and_reports_nothing_broken(store):
    from app.jobs import Cancelled

    _history(store, 4)  # 12 links, read 2 at a time: 6 batches
    _tamper(store, "UPDATE case_events SET reason = '已处理完毕' WHERE chain_no = 11")  # past the cancel
    fb, reports = _recording_feedback(cancel_after=1)  # cancel once the first batch is verified
    with pytest.raises(Cancelled):
        verify_audit(store, fb, batch=2)
    assert reports == [(pytest.approx(2 / 12), "2/12")]  # one batch read: no further fetch, no verdict
    assert verify_audit(store).chain_no == 11  # not cancelled: the tampering is found


def test_verify_cancelled_before_it_starts_reads_no_event(store):
    from app.jobs import Cancelled, Feedback

    _history(store)
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Cancelled):
        verify_audit(store, fb)
    assert fb.fraction == 0.0
