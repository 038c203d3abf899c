"""load_limits: the store's time_limits table drives deadlines; same rules as the shipped CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.domain.calendar import WorkCalendar
from app.domain.definitions import Kind, Level, Stage
from app.domain.limits import LimitTable
from app.domain.taxonomy import Taxonomy
from app.services.cases import CaseService
from app.services.errors import ValidationError
from app.services.limits import load_limits
from app.store.models import Category, TimeLimit
from services.world import draft


def _category_row(session, kind: str, code: str) -> TimeLimit:
    return session.scalars(select(TimeLimit).join(Category).where(
        Category.kind == kind, Category.code == code, TimeLimit.level == "general",
        TimeLimit.stage == "handle")).one()


def test_store_limits_equal_the_csv_for_every_category_level_and_stage(store):
    csv, table = LimitTable.load(), load_limits(store)
    with store.session() as session:
        categories = session.execute(select(Category.kind, Category.code)).all()
    assert len(categories) > 400
    for kind, code in [*categories, ("event", None), ("component", None)]:
        for level in Level:
            for stage in Stage:
                assert table.lookup(kind, code, level, stage) == csv.lookup(kind, code, level, stage), \
                    (kind, code, level, stage)
    # same explanation scope, with the table row as the source
    text_ = table.explain_source(Kind.EVENT, "06010", Level.GENERAL, Stage.HANDLE)
    assert "该小类 06010 的专门规定" in text_ and "time_limits 表第" in text_


def test_empty_table_falls_back_to_the_csv(store):
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM time_limits"))
    table = load_limits(store)
    assert table.lookup("event", "06010", "general", "handle") == LimitTable.load().lookup(
        "event", "06010", "general", "handle")


def test_edited_row_changes_the_dispatch_deadline_of_a_new_service(store, world, clock):
    def deadline_after_dispatch():
        svc = CaseService(store, clock=clock, calendar=WorkCalendar(), limits=load_limits(store),
                          taxonomy=Taxonomy.load())
        a = world.actors
        r = svc.report(a["supervisor"], draft())
        r = svc.file(a["leader_shift"], r.case.id, r.version)
        r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
        return r.case.deadline_at

    shipped = deadline_after_dispatch()
    with store.session() as session, session.begin():
        row = _category_row(session, "event", "06010")
        row.minutes, row.basis = 90, "natural"
    edited = deadline_after_dispatch()
    assert edited == clock.now() + timedelta(minutes=90) != shipped


def test_desk_services_read_limits_from_the_store_unless_given(store, world, clock):
    from app.core import build_core

    with store.session() as session, session.begin():
        _category_row(session, "event", "06010").minutes = 7
    desk = build_core(store, clock, calendar=WorkCalendar(), workstation="ws1")
    assert desk.cases.limits.lookup("event", "06010", "general", "handle").minutes == 7
    given = LimitTable.load()
    assert build_core(store, clock, calendar=WorkCalendar(), workstation="ws1",
                               limits=given).cases.limits is given


@pytest.mark.parametrize(("change", "message"), [
    ({"level": "sometimes"}, "level 无效"),
    ({"basis": "lunar"}, "basis 无效"),
    ({"minutes": 0}, "须为正整数"),
    ({"kind": "component"}, "属于 event"),
])
def test_bad_category_row_is_named(store, change, message):
    with store.session() as session, session.begin():
        row = _category_row(session, "event", "06010")
        row_id = row.id
        for name, value in change.items():
            setattr(row, name, value)
    with pytest.raises(ValidationError) as err:
        load_limits(store)
    assert f"time_limits 表第 {row_id} 行" in str(err.value) and message in str(err.value)


def test_major_without_kind_and_duplicate_scope_are_refused(store):
    with store.session() as session, session.begin():
        session.add(TimeLimit(kind=None, major_code="06", level="general", stage="handle", minutes=5,
                              basis="natural"))
    with pytest.raises(ValidationError, match="须同时填写 kind"):
        load_limits(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM time_limits WHERE kind IS NULL AND major_code = '06'"))
    # A second rule with the same scope is refused by the database itself (coalesced unique index)
    import sqlalchemy.exc

    with pytest.raises(sqlalchemy.exc.IntegrityError), store.session() as session, session.begin():
        session.add(TimeLimit(kind="event", major_code="06", level="general", stage="handle", minutes=5,
                              basis="natural"))
