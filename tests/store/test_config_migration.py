"""Migration 0018 (versioned time limits, categories.enabled/closing_standard, routing_rules.active,
config_values; the PG limit lookup at a time and the derive passing the event's time) goes down
and up again on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

FUNCTIONS = ("SELECT p.oid::regprocedure::text, prosrc FROM pg_proc p WHERE proname IN "
             "('gridhall_case_events_derive', 'gridhall_limit') AND pronamespace = current_schema()::regnamespace "
             "ORDER BY 1")


@pytest.mark.parametrize("backend", ["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_the_migration_goes_down_and_up_again(store_url):
    from alembic import command

    from app.store.commands import alembic_config, init_db

    store = init_db(store_url)
    try:
        postgres = store.engine.dialect.name == "postgresql"
        with store.engine.begin() as conn:
            up = conn.execute(text(FUNCTIONS)).all() if postgres else []
            limits = conn.execute(text("SELECT count(*) FROM time_limits")).scalar_one()
            command.downgrade(alembic_config(conn), "0017")
        with store.engine.begin() as conn:
            assert not {"valid_from", "valid_to"} & {c["name"] for c in inspect(conn).get_columns("time_limits")}
            assert "enabled" not in {c["name"] for c in inspect(conn).get_columns("categories")}
            assert not inspect(conn).has_table("config_values")
            assert conn.execute(text("SELECT count(*) FROM time_limits")).scalar_one() == limits
            if postgres:
                down = dict(conn.execute(text(FUNCTIONS)).all())
                assert list(down) == ["gridhall_case_events_derive()",
                                      "gridhall_limit(text,integer,text,text)"]
                assert "NEW.at);" not in down["gridhall_case_events_derive()"].split("gridhall_limit(")[1][:120]
            command.upgrade(alembic_config(conn), "head")
        with store.engine.begin() as conn:
            assert {"valid_from", "valid_to"} <= {c["name"] for c in inspect(conn).get_columns("time_limits")}
            if postgres:
                assert conn.execute(text(FUNCTIONS)).all() == up  # the very same functions again
    finally:
        store.dispose()
