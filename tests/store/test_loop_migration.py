"""Migration 0015 (督办 columns, the derive's urge/rule/callback edits) goes down and up again on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

FUNCTIONS = "SELECT proname, prosrc FROM pg_proc WHERE proname IN ('gridhall_case_events_derive', " \
            "'gridhall_cases_unchanged') AND pronamespace = current_schema()::regnamespace ORDER BY proname"


@pytest.mark.parametrize("backend", ["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_the_migration_goes_down_and_up_again(store_url):
    from alembic import command

    from app.store.commands import alembic_config, init_db

    store = init_db(store_url)
    try:
        postgres = store.engine.dialect.name == "postgresql"
        with store.engine.begin() as conn:
            up = conn.execute(text(FUNCTIONS)).all() if postgres else []
            command.downgrade(alembic_config(conn), "0014")
        with store.engine.begin() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("cases")}
            assert not {"urge_level", "urge_deadline_at"} & columns
            if postgres:
                down = dict(conn.execute(text(FUNCTIONS)).all())
                assert "urge" in down["gridhall_case_events_derive"]  # (the urge count of 0006)
                assert "urge_level" not in down["gridhall_case_events_derive"]
                assert "urge_level" not in down["gridhall_cases_unchanged"]
                assert conn.execute(text("SELECT count(*) FROM workflow_transitions WHERE action IN "
                                         "('dispute', 'rule', 'callback') OR to_state = 'disputed'")).scalar_one() == 0
            command.upgrade(alembic_config(conn), "head")
        with store.engine.begin() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("cases")}
            assert {"urge_level", "urge_deadline_at"} <= columns
            if postgres:
                assert conn.execute(text(FUNCTIONS)).all() == up  # the very same functions again
                assert conn.execute(text("SELECT count(*) FROM workflow_transitions WHERE action = 'rule'")
                                    ).scalar_one() > 0
    finally:
        store.dispose()
