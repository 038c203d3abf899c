"""Field lengths are enforced identically on both backends (migration 0009 on SQLite; PostgreSQL
refuses VARCHAR overflow itself): a writer that bypasses the services cannot store a 100 KB
address in ``VARCHAR(200)`` on one backend while the other refuses it."""

from __future__ import annotations

import importlib

import pytest
from services.world import T0, build_world, draft, photo, service
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text

from app.domain.clock import FixedClock
from app.store.models import Case, CaseClaim

LENGTHS = importlib.import_module("app.store.migrations.versions.0009_lengths").LENGTHS


@pytest.fixture
def case_id(store):
    world = build_world(store)
    return service(store, FixedClock(T0)).report(world.actors["acceptor"], draft()).case.id


def _refused(store, sql: str, **params) -> str:
    with pytest.raises(sa_exc.DBAPIError) as err, store.engine.begin() as conn:
        conn.execute(text(sql), params)
    message = str(err.value.orig)
    assert "value too long" in message, message
    return message


def _accepted(store, sql: str, **params) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


@pytest.mark.parametrize("column, length", LENGTHS["cases"][5:8])  # address, reporter_name, reporter_phone
def test_case_text_longer_than_its_column_is_refused(store, case_id, column, length):
    sql = f"UPDATE cases SET {column} = :v WHERE id = :id"
    message = _refused(store, sql, v="é" * (length + 1), id=case_id)
    if store.engine.dialect.name == "sqlite":
        assert message == f"value too long for cases.{column}: at most {length} characters"
    _accepted(store, sql, v="é" * length, id=case_id)  # characters, not bytes, on both
    with store.session() as s:
        assert getattr(s.get_one(Case, case_id), column) == "é" * length


def test_a_100_kb_value_is_refused_on_insert_too(store, case_id):
    _refused(store, "INSERT INTO case_claims (case_id, holder, role, claimed_at, expires_at) "
                    "VALUES (:id, :h, 'acceptor', '2026-03-02 09:00:00', '2026-03-02 09:05:00')",
             id=case_id, h="x" * 100_000)
    with store.session() as s:  # nothing was claimed
        assert s.scalar(select(func.count()).select_from(CaseClaim)) == 0


def test_attachment_file_name(store):
    world = build_world(store)
    service(store, FixedClock(T0)).report(world.actors["acceptor"], draft(photos=(photo(),)))
    message = _refused(store, "UPDATE attachments SET filename = :v", v="a" * 201)
    if store.engine.dialect.name == "sqlite":
        assert message == "value too long for attachments.filename: at most 200 characters"


def test_user_names(store, case_id):
    _refused(store, "UPDATE users SET display_name = :v", v="张" * 65)
    _refused(store, "UPDATE users SET username = :v WHERE username = 'acceptor'", v="a" * 65)
    _accepted(store, "UPDATE users SET display_name = :v WHERE username = 'acceptor'", v="张" * 64)


@pytest.mark.parametrize("backend", ["spatialite"], indirect=True)
def test_the_sqlite_triggers_go_with_a_downgrade(store):
    from alembic import command

    from app.store.commands import alembic_config

    def triggers():
        with store.engine.connect() as conn:
            return {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                    "AND name LIKE '%\\_length\\_%' ESCAPE '\\'"))}

    assert triggers() == {f"{t}_length_{v}" for t in LENGTHS for v in ("insert", "update")}
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0008")
    assert triggers() == set()
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0009")
    assert len(triggers()) == 2 * len(LENGTHS)
