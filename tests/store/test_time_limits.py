"""time_limits holds every scope of rule (0004): seeded from the CSV, upgraded from 0003 intact."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.domain.limits import LimitTable
from app.store.commands import alembic_config, seed_reference, upgrade_db, verify_audit
from app.store.engine import head_revision, open_store
from app.store.models import Category, TimeLimit

CSV_RULES = sum(1 for _ in LimitTable.load().rules())


def _count(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(TimeLimit))


def test_init_seeds_every_csv_rule_with_its_scope(store):
    assert _count(store) == CSV_RULES
    with store.session() as session:
        rows = session.execute(select(TimeLimit, Category.code).outerjoin(Category)).all()
    scopes = {(r.kind, code, r.major_code, r.level, r.stage) for r, code in rows}
    assert (None, None, None, "general", "dispatch") in scopes            # global
    assert ("event", None, None, "general", "handle") in scopes           # kind default
    assert ("event", None, "06", "general", "handle") in scopes           # major
    assert ("event", "06010", None, "general", "handle") in scopes        # category, by category_id
    assert all(r.category_id is None or r.major_code is None for r, _ in rows)


def test_seed_is_idempotent_and_keeps_edited_limits(store):
    with store.session() as session, session.begin():
        row = session.scalars(select(TimeLimit).where(TimeLimit.kind.is_(None), TimeLimit.stage == "dispatch",
                                                      TimeLimit.level == "general")).one()
        row.minutes = 45
        session.execute(text("DELETE FROM time_limits WHERE major_code = '06'"))
    before = _count(store)
    with store.session() as session, session.begin():
        seed_reference(session)
        seed_reference(session)
    assert _count(store) == before < CSV_RULES  # a non-empty table is maintenance's: not refilled
    with store.session() as session:
        assert session.scalar(select(TimeLimit.minutes).where(
            TimeLimit.kind.is_(None), TimeLimit.stage == "dispatch", TimeLimit.level == "general")) == 45


def test_empty_table_is_refilled_by_seed(store):
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM time_limits"))
    with store.session() as session, session.begin():
        seed_reference(session)
    assert _count(store) == CSV_RULES


def test_database_at_0003_with_data_upgrades_to_0004(store_url):
    from alembic import command

    plain = open_store(store_url, create=True)
    with plain.engine.begin() as conn:
        if plain.backend == "spatialite":
            conn.exec_driver_sql("BEGIN")
        command.upgrade(alembic_config(conn), "0003")
        conn.execute(text("INSERT INTO categories (kind, code, major_code, major_name, name) "
                          "VALUES ('event', '06010', '06', '市容环境类', '暴露垃圾')"))
        cat = conn.execute(text("SELECT id FROM categories WHERE code = '06010'")).scalar()
        conn.execute(text("INSERT INTO time_limits (category_id, level, stage, minutes, basis, condition) "
                          "VALUES (:c, 'general', 'handle', 200, 'working', '旧规则'), "
                          "(NULL, 'general', 'dispatch', 25, 'natural', NULL)"), {"c": cat})
    plain.dispose()
    upgraded = upgrade_db(store_url)
    try:
        with upgraded.engine.connect() as conn:
            rows = conn.execute(text("SELECT category_id, kind, major_code, minutes, condition FROM time_limits "
                                     "ORDER BY minutes")).all()
        assert [tuple(r) for r in rows] == [(None, None, None, 25, None), (cat, None, None, 200, "旧规则")]
        assert verify_audit(upgraded) is None
        # The new key takes what the old one could not: a kind default beside the global one.
        with upgraded.session() as session, session.begin():
            session.add(TimeLimit(kind="event", level="general", stage="dispatch", minutes=20, basis="natural"))
            session.add(TimeLimit(kind="event", major_code="06", level="general", stage="dispatch", minutes=15,
                                  basis="natural"))
    finally:
        upgraded.dispose()
    again = open_store(store_url)
    try:
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    finally:
        again.dispose()


def test_the_database_refuses_a_second_identical_global_rule(store):
    """NULL scope columns must not let two identical rules in (a coalesced unique index)."""
    import sqlalchemy.exc
    from sqlalchemy import text as sql

    with store.engine.begin() as conn:
        conn.execute(sql("DELETE FROM time_limits"))
        conn.execute(sql("INSERT INTO time_limits (level, stage, minutes, basis) "
                         "VALUES ('general', 'handle', 480, 'working')"))
    with pytest.raises(sqlalchemy.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(sql("INSERT INTO time_limits (level, stage, minutes, basis) "
                         "VALUES ('general', 'handle', 240, 'working')"))
