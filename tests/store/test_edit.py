"""修改 edit in the database (migration 0012): descriptive fields change only through a recorded edit event.

PostGIS, attacked with raw SQL as each role (the hall); the same edit through the services as
a dispatcher's own login; SpatiaLite: the migration leaves nothing behind on the way down.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from services.world import service
from sqlalchemy import select, text

from app.domain.clock import FixedClock
from app.domain.definitions import Action
from app.services.errors import ValidationError
from app.services.search import CaseSearch
from app.store.commands import verify_audit
from app.store.models import Case, CaseEvent

try:  # the hall's own module (docs/deploy.md's set-up), else where it lived before
    from tests.store.hall import Hall, backend, event_sql, hall, refused, run, step  # noqa: F401
except ImportError:
    from tests.store.test_security import Hall, backend, event_sql, hall, refused, run, step  # noqa: F401


def db_now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


def fields(hall: Hall, case_id: int) -> dict:
    with hall.store.session() as s:
        c = s.get(Case, case_id)
        return {n: getattr(c, n) for n in ("address", "description", "reporter_name", "reporter_phone", "version",
                                           "state", "deadline_at", "department_id")}


def edit(hall: Hall, who: str, case: int, state: str, changes: dict, **extra) -> tuple[str, tuple]:
    payload = json.dumps({"changes": changes, **extra.pop("payload", {})}, ensure_ascii=False)
    reason = extra.pop("reason", "地址笔误")
    return event_sql(step(hall, who, case, "edit", state, state, at=db_now(), reason=reason, payload=payload,
                          **extra))


@pytest.mark.postgis
def test_a_dispatchers_edit_event_changes_the_case_and_the_search_index(hall):
    case = hall.cases["handling_a"]
    before = fields(hall, case)
    run(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling",
                                  {"address": [before["address"], "解放路88号"]}))
    after = fields(hall, case)
    assert after["address"] == "解放路88号" and after["version"] == before["version"] + 1
    # (the timer is the derive trigger's business: the seeded case had none running yet)
    assert {k: after[k] for k in ("description", "state", "department_id")} == \
        {k: before[k] for k in ("description", "state", "department_id")}
    assert case in {r.id for r in CaseSearch(hall.store).find("解放路88号").rows}
    with hall.store.session() as s:
        ev = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case).order_by(CaseEvent.seq.desc())).first()
        assert ev.action == "edit" and ev.payload["changes"]["address"] == [before["address"], "解放路88号"]
    assert verify_audit(hall.store) is None


@pytest.mark.postgis
def test_stale_foreign_and_unknown_edits_are_refused(hall):
    case = hall.cases["handling_a"]
    before = fields(hall, case)
    address = before["address"]
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"address": ["别的地址", "解放路1号"]}),
            match="stale edit")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"state": ["handling", "closed"]}),
            match="changes only")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling",
                                      {"address": [address, "解放路1号"], "deadline_at": [None, "2099-01-01"]}),
            match="changes only")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"colour": ["red", "blue"]}),
            match="changes only")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {}), match="names its changes")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"address": [address, address]}),
            match="changes nothing")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"address": [address]}),
            match="[before, after]")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"description": [before["description"],
                                                                                             None]}),
            match="may not be emptied")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"address": [address, "路\x07"]}),
            match="control characters")
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"address": [address, "路" * 201]}))
    # An edit still names a loop column change beside it: the derive trigger refuses that payload.
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"address": [address, "解放路1号"]},
                                      payload={"deadline": "2099-01-01 00:00:00"}), match="contradicts the database")
    # Another action may not carry changes.
    refused(hall, "leader", *event_sql(step(hall, "leader", case, "urge", "handling", "handling", at=db_now(),
                                            payload=json.dumps({"changes": {"address": [address, "x"]}}))),
            match="only an edit event")
    # Who: a department (even its own case), a supervisor, a leader may not edit; nor without a reason.
    for who in ("dept_a", "supervisor", "leader", "analyst"):
        refused(hall, who, *edit(hall, who, case, "handling", {"address": [address, "解放路1号"]}))
    refused(hall, "dispatcher", *edit(hall, "dispatcher", case, "handling", {"address": [address, "解放路1号"]},
                                      reason=" "), match="needs a reason")
    # …and nobody changes a descriptive field directly.
    for who in ("dispatcher", "acceptor", "shift_leader", "dept_a"):
        refused(hall, who, "UPDATE cases SET address = '解放路1号' WHERE id = %s", (case,))
    assert fields(hall, case) == before
    assert verify_audit(hall.store) is None


@pytest.mark.postgis
def test_the_service_edits_through_a_dispatchers_own_login(hall):
    case = hall.cases["handling_b"]
    before = fields(hall, case)
    svc = service(hall.store_as("dispatcher"), FixedClock(db_now()))
    actor = hall.actor("dispatcher")
    r = svc.edit(actor, case, before["version"], reason="举报人更正电话", reporter_phone="13700137000",
                 description="道路破损，已更正描述")
    after = fields(hall, case)
    assert (after["reporter_phone"], after["description"]) == ("13700137000", "道路破损，已更正描述")
    assert r.case.description == "道路破损，已更正描述" and r.version == after["version"]
    with pytest.raises(ValidationError):
        svc.edit(actor, case, r.version, reason="改", description="道路破损，已更正描述")
    dept = service(hall.store_as("dept_b"), FixedClock(db_now()))
    with pytest.raises(Exception):  # noqa: B017  # PermissionDenied from the services (the database refuses too)
        dept.edit(hall.actor("dept_b"), case, r.version, reason="改", address="别处")
    assert fields(hall, case)["address"] == before["address"]
    assert verify_audit(hall.store) is None


@pytest.mark.postgis
def test_the_workflow_table_has_the_edit_rows(hall):
    with hall.store.session() as s:
        rows = s.execute(text("SELECT DISTINCT role FROM workflow_transitions WHERE action = :a "
                              "AND from_state = to_state"), {"a": Action.EDIT.value}).scalars().all()
    assert set(rows) == {"acceptor", "shift_leader", "dispatcher", "system"}


@pytest.mark.parametrize("backend", ["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_the_migration_goes_down_and_up_again(store_url):
    """0012 downgrades to 0011 (no edit trigger, no edit rows) and upgrades again, on both backends."""
    from alembic import command

    from app.store.commands import alembic_config, init_db

    store = init_db(store_url)
    try:
        postgres = store.engine.dialect.name == "postgresql"
        count = ("SELECT count(*) FROM pg_trigger WHERE tgname = 'case_events_changes'" if postgres else
                 "SELECT count(*) FROM sqlite_master WHERE name = 'case_events_changes'")
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0011")
        with store.engine.begin() as conn:
            assert conn.execute(text(count)).scalar_one() == 0
            if postgres:
                assert conn.execute(text("SELECT count(*) FROM workflow_transitions WHERE action = 'edit'")
                                    ).scalar_one() == 0
            command.upgrade(alembic_config(conn), "0012")
        with store.engine.begin() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0012"
            if postgres:
                assert conn.execute(text(count)).scalar_one() == 1
                assert conn.execute(text("SELECT count(*) FROM workflow_transitions WHERE action = 'edit'")
                                    ).scalar_one() > 0
    finally:
        store.dispose()
