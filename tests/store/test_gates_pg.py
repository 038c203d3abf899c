"""The loop's gates in the database (migration 0013), attacked with raw SQL as each role's login.

A report whose source needs verification is not filed without one, a report verified as not
confirmed is never filed, and a close without its evidence is refused, or needs the shift
leader's recorded override with a reason, as the category says. ``source_rules`` is read by
everyone and written only by the administrator. SpatiaLite: the migration goes down and up.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from services.seed import seed_case
from services.world import T0, draft, photo, service
from sqlalchemy import select, text, update

from app.domain.clock import FixedClock
from app.domain.definitions import CaseState
from app.store.commands import verify_audit
from app.store.models import Case, Category
from tests.store import hall as _hall
from tests.store.hall import event_sql, refused, run, step
from tests.store.test_derive import db_now

backend = _hall.backend
hall = _hall.hall


def _ev(hall, who: str, case: int, action: str, from_state: str, to_state: str, **extra) -> tuple[str, tuple]:
    if "payload" in extra:
        extra["payload"] = json.dumps(extra["payload"], ensure_ascii=False)
    return event_sql(step(hall, who, case, action, from_state, to_state, at=db_now(), **extra))


def _state(hall, case: int) -> str:
    with hall.store.session() as s:
        return s.get(Case, case).state


def _reported(hall, source: str) -> int:
    svc = service(hall.store_as("acceptor"), FixedClock(db_now()))
    return svc.report(hall.actor("acceptor"), draft(source=source)).case.id


@pytest.mark.postgis
def test_filing_waits_for_a_confirmed_verification(hall):
    case = _reported(hall, "public")
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", case, "file", "reported", "filed"),
            match="verified on site before it is filed")
    run(hall, "acceptor", *_ev(hall, "acceptor", case, "send_verify", "reported", "verifying"))
    run(hall, "supervisor", *_ev(hall, "supervisor", case, "verify", "verifying", "reported",
                                 payload={"result": "现场未见", "confirmed": False}))
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", case, "file", "reported", "filed"),
            match="not confirmed")
    run(hall, "shift_leader", *_ev(hall, "shift_leader", case, "reject", "reported", "not_filed", reason="不属实"))
    assert _state(hall, case) == "not_filed"
    with hall.store.engine.connect() as conn:
        reply = conn.execute(text("SELECT payload->>'text' FROM case_events WHERE case_id = :c AND action = 'reply'"),
                             {"c": case}).scalar_one()
    assert "不予立案" in reply and "不属实" in reply and "已立案" not in reply and "经审核" in reply
    # verified again and confirmed: filed
    other = _reported(hall, "hotline")
    run(hall, "acceptor", *_ev(hall, "acceptor", other, "send_verify", "reported", "verifying"))
    run(hall, "supervisor", *_ev(hall, "supervisor", other, "verify", "verifying", "reported",
                                 payload={"result": "未见", "confirmed": False}))
    run(hall, "acceptor", *_ev(hall, "acceptor", other, "send_verify", "reported", "verifying"))
    run(hall, "supervisor", *_ev(hall, "supervisor", other, "verify", "verifying", "reported",
                                 payload={"result": "属实", "confirmed": True}))
    run(hall, "shift_leader", *_ev(hall, "shift_leader", other, "file", "reported", "filed"))
    assert _state(hall, other) == "filed"
    assert verify_audit(hall.store) is None


@pytest.mark.postgis
def test_a_supervisor_report_files_directly_unless_verified_as_not_confirmed(hall):
    case = seed_case(hall.store, hall.world, CaseState.REPORTED, at=db_now(), department=None)[0]
    second = seed_case(hall.store, hall.world, CaseState.REPORTED, at=db_now(), department=None)[0]
    run(hall, "shift_leader", *_ev(hall, "shift_leader", case, "file", "reported", "filed"))
    run(hall, "acceptor", *_ev(hall, "acceptor", second, "send_verify", "reported", "verifying"))
    run(hall, "supervisor", *_ev(hall, "supervisor", second, "verify", "verifying", "reported",
                                 payload={"result": "已自行清理", "confirmed": False}))
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", second, "file", "reported", "filed"),
            match="not confirmed")


@pytest.mark.postgis
def test_a_close_without_evidence_needs_the_override_and_a_reason(hall):
    case = hall.cases["checked"]  # seeded: no photos
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", case, "close", "checked", "closed"),
            match="before_photo, after_photo")
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", case, "close", "checked", "closed",
                                       payload={"override": True}), match="override")
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", case, "close", "checked", "closed",
                                       payload={"override": "yes"}, reason="照片丢失"), match="override")
    run(hall, "shift_leader", *_ev(hall, "shift_leader", case, "close", "checked", "closed",
                                   payload={"override": True}, reason="照片丢失，现场已核查"))
    assert _state(hall, case) == "closed"


@pytest.mark.postgis
def test_a_refusing_category_refuses_even_the_override_and_none_checks_nothing(hall):
    case = seed_case(hall.store, hall.world, CaseState.CHECKED, at=T0)[0]
    with hall.store.session() as s, s.begin():
        s.execute(update(Category).where(Category.kind == "event", Category.code == "06010")
                  .values(close_evidence="refuse"))
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", case, "close", "checked", "closed",
                                       payload={"override": True}, reason="照片丢失"), match="category refuses")
    with hall.store.session() as s, s.begin():
        s.execute(update(Category).where(Category.kind == "event", Category.code == "06010")
                  .values(close_evidence="none"))
    run(hall, "shift_leader", *_ev(hall, "shift_leader", case, "close", "checked", "closed"))
    assert _state(hall, case) == "closed"
    refused(hall, "admin", "UPDATE categories SET close_evidence = 'sometimes' WHERE code = '06010'",
            match="ck_categories_close_evidence")


@pytest.mark.postgis
def test_the_after_photo_is_checked_against_the_latest_dispatch(hall):
    clock = FixedClock(db_now())
    svc = service(hall.store, clock)  # the owner's session walks the case; the close is a raw login's
    a = {who: hall.actor(who) for who in ("supervisor", "shift_leader", "dispatcher", "dept_a", "acceptor")}
    early = db_now() - timedelta(hours=2)
    r = svc.report(a["supervisor"], draft(photos=(photo(taken_at=early - timedelta(hours=1)),)))
    r = svc.file(a["shift_leader"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    r = svc.accept(a["dept_a"], r.case.id, r.version)
    r = svc.feedback(a["dept_a"], r.case.id, r.version, text="已清理", photos=(photo("after", taken_at=early),))
    r = svc.send_check(a["acceptor"], r.case.id, r.version)
    r = svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")
    refused(hall, "shift_leader", *_ev(hall, "shift_leader", r.case.id, "close", "checked", "closed"),
            match="after_after_dispatch")
    assert svc.closing_evidence(r.case.id).codes == ("after_after_dispatch",)  # the service says the same


@pytest.mark.postgis
def test_source_rules_are_read_by_everyone_and_written_by_the_administrator(hall):
    for who in _hall.EVERYONE:
        assert run(hall, who, "SELECT count(*) FROM source_rules") == [(8,)]
    refused(hall, "shift_leader", "UPDATE source_rules SET verify_before_filing = false WHERE source = 'public'",
            match="permission denied")
    refused(hall, "admin", "DELETE FROM source_rules WHERE source = 'public'", match="permission denied")
    refused(hall, "admin", "UPDATE source_rules SET source = 'x' WHERE source = 'public'", match="permission denied")
    assert run(hall, "admin", "UPDATE source_rules SET verify_before_filing = false WHERE source = 'hotline'") == 1
    case = _reported(hall, "hotline")
    run(hall, "shift_leader", *_ev(hall, "shift_leader", case, "file", "reported", "filed"))
    assert run(hall, "admin", "UPDATE categories SET close_evidence = 'refuse' WHERE code = '06010'") >= 1


@pytest.mark.postgis
def test_the_gate_function_is_locked_down(hall):
    with hall.store.engine.connect() as conn:
        acl, config, definer = conn.execute(text(
            "SELECT proacl::text, array_to_string(proconfig, ','), prosecdef FROM pg_proc "
            "WHERE proname = 'gridhall_case_events_gates'")).one()
    assert "search_path=" in config and "pg_temp" in config and definer
    assert acl is not None and not any(entry.startswith("=") for entry in acl.strip("{}").split(","))
    with hall.store.session() as s:
        assert s.scalar(select(Category.close_evidence).limit(1)) == "override"


@pytest.mark.parametrize("backend", ["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_the_migration_goes_down_and_up_again(store_url):
    """0013 downgrades to 0012 (no source_rules, no close_evidence, no gate trigger) and upgrades again."""
    from alembic import command

    from app.store.commands import alembic_config, init_db

    store = init_db(store_url)
    try:
        postgres = store.engine.dialect.name == "postgresql"
        tables = ("SELECT count(*) FROM pg_tables WHERE tablename = 'source_rules'" if postgres else
                  "SELECT count(*) FROM sqlite_master WHERE name = 'source_rules'")
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0012")
        with store.engine.begin() as conn:
            assert conn.execute(text(tables)).scalar_one() == 0
            if postgres:
                assert conn.execute(text("SELECT count(*) FROM pg_trigger WHERE tgname = 'case_events_gates'")
                                    ).scalar_one() == 0
                assert "经核实不予立案" in conn.execute(text(
                    "SELECT template FROM reply_templates WHERE action = 'reject'")).scalar_one()
                cols = conn.execute(text("SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'categories'")).scalars().all()
            else:
                cols = [r[1] for r in conn.execute(text("PRAGMA table_info(categories)"))]
            assert "close_evidence" not in cols
            command.upgrade(alembic_config(conn), "0013")
        with store.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM source_rules WHERE verify_before_filing")).scalar_one() == 4
            assert conn.execute(text("SELECT count(*) FROM categories WHERE close_evidence = 'override'")
                                ).scalar_one() > 0
            if postgres:
                assert "经审核不予立案" in conn.execute(text(
                    "SELECT template FROM reply_templates WHERE action = 'reject'")).scalar_one()
            command.upgrade(alembic_config(conn), "head")
    finally:
        store.dispose()
