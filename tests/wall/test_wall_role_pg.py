"""The wall's own read-only role on PostGIS (migration 0020, app/store/wall_role.py), attacked with
raw SQL as a wall login on the tests' throwaway cluster: every write to every table is refused,
every read of the wall succeeds and sees every case; stores that passed 0020 while it was an empty
placeholder get the role from ``gridhall db upgrade``."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import psycopg2
import pytest
from services.world import T0
from sqlalchemy import text

from app.cli import main
from app.domain.clock import FixedClock
from app.services.calendar import load_calendar
from app.services.case_source import StoreCaseSource
from app.store import security
from app.store.commands import upgrade_db
from app.store.wall import open_wall_store
from app.store.wall_role import WALL_GROUP, WALL_TABLES, drop_wall_role, sync_wall_role, wall_role_missing
from app.views.wall.layout import DEFAULT
from app.views.wall.model import read_snapshot
from tests.store.hall import backend, hall  # noqa: F401, F811

pytestmark = pytest.mark.postgis

WALL = "wall"


@pytest.fixture
def wall_hall(hall, monkeypatch, capsys):  # noqa: F811
    """The hall plus a wall login, added by the hall's administrator with ``gridhall wall --add-login``."""
    name = f"wall{secrets.token_hex(3)}"
    hall.names[WALL] = name  # the hall drops it afterwards
    monkeypatch.setenv("GRIDHALL_PASSWORD", hall.password)
    assert main(["wall", "--db", hall.url_as("admin"), "--add-login", name]) == 0
    assert f"gh_{name}" in capsys.readouterr().out
    return hall


def _tables(h) -> list[str]:
    with h.cluster.admin(h.db) as conn, conn.cursor() as cur:
        cur.execute("SELECT relname FROM pg_class c WHERE relnamespace = current_schema()::regnamespace "
                    "AND (relkind IN ('r', 'p') OR (relkind IN ('v', 'm') AND NOT EXISTS ("
                    "  SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
                    "  AND d.deptype = 'e'))) ORDER BY 1")  # PostGIS's own views are not tables
        return [r[0] for r in cur.fetchall()]


def _first_column(h, table: str) -> str:
    with h.cluster.admin(h.db) as conn, conn.cursor() as cur:
        cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                    "AND NOT attisdropped ORDER BY attnum LIMIT 1", (table,))
        return cur.fetchone()[0]


def test_the_wall_login_is_in_the_wall_group_only(wall_hall):
    with wall_hall.cluster.admin(wall_hall.db) as conn, conn.cursor() as cur:
        cur.execute("SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                    "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", (wall_hall.login(WALL),))
        assert [r[0] for r in cur.fetchall()] == [WALL_GROUP]
        cur.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin FROM pg_roles "
                    "WHERE rolname = %s", (WALL_GROUP,))
        assert cur.fetchone() == (False, False, False, False, False)


def test_every_write_to_every_table_is_refused(wall_hall):
    tables = _tables(wall_hall)
    assert set(WALL_TABLES) <= set(tables) and "users" in tables
    conn = wall_hall.connect(WALL)
    try:
        for table in tables:
            column = _first_column(wall_hall, table)
            for sql in (f'INSERT INTO "{table}" DEFAULT VALUES',
                        f'UPDATE "{table}" SET "{column}" = "{column}"',
                        f'DELETE FROM "{table}"',
                        f'TRUNCATE "{table}"',
                        f'SELECT 1 FROM "{table}" FOR UPDATE'):
                with pytest.raises(psycopg2.Error) as info, conn.cursor() as cur:
                    cur.execute(sql)
                conn.rollback()
                assert "permission denied" in str(info.value) or "must be owner" in str(info.value), (sql, info.value)
        with conn.cursor() as cur:  # no sequence, no function of the schema
            cur.execute("SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'S' "
                        "AND c.relnamespace = current_schema()::regnamespace")
            sequences = [r[0] for r in cur.fetchall()]
        for sequence in sequences:
            with pytest.raises(psycopg2.Error, match="permission denied"), conn.cursor() as cur:
                cur.execute("SELECT nextval(%s)", (sequence,))
            conn.rollback()
        with conn.cursor() as cur:
            cur.execute("""SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace = current_schema()::regnamespace AND has_function_privilege(p.oid, 'EXECUTE')
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                  AND d.objid = p.oid AND d.deptype = 'e')""")
            assert cur.fetchall() == []
        with pytest.raises(psycopg2.Error, match="permission denied"), conn.cursor() as cur:
            cur.execute("SELECT username FROM users")  # people's accounts: not the wall's business
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("LISTEN gridhall_changes")  # the change feed needs no privilege
        conn.commit()
    finally:
        conn.close()


def test_the_wall_reads_every_case_through_its_login(wall_hall, qapp):
    from app.wall import Wall

    store = open_wall_store(wall_hall.url_as(WALL))
    now = T0 + timedelta(hours=1)
    try:
        with wall_hall.store.session() as s:
            every = s.execute(text("SELECT count(*) FROM cases")).scalar_one()
            open_ = s.execute(text("SELECT count(*) FROM cases WHERE state NOT IN "
                                   "('closed', 'voided', 'not_filed')")).scalar_one()
            events = s.execute(text("SELECT count(*) FROM case_events")).scalar_one()
        assert every >= 6
        with store.session() as s:  # row-level security lets the wall see every case and event
            assert s.execute(text("SELECT count(*) FROM cases")).scalar_one() == every
            assert s.execute(text("SELECT count(*) FROM case_events")).scalar_one() == events >= every
        assert len(StoreCaseSource(store).open_cases()) == open_
        load_calendar(store)
        snapshot = read_snapshot(store, now)
        assert len(snapshot.tiles) == 7
        wall = Wall(store, FixedClock(now), DEFAULT, height=1080)
        try:
            wall.load_now()  # the map's layers too, through QGIS's provider as the wall login
            assert len(wall.state.rows) == open_
            assert not wall.model.stale
        finally:
            wall.close()
    finally:
        store.dispose()


def test_a_store_that_passed_an_empty_0020_gets_the_role_on_upgrade(store, caplog):
    """Alembic never runs 0020 again: ``gridhall db upgrade`` completes the role (a superuser)."""
    url = store.url.render_as_string(hide_password=False)
    with store.engine.begin() as conn:
        assert wall_role_missing(conn) == []
        assert sync_wall_role(conn) is False  # complete: nothing to do
        drop_wall_role(conn)
        missing = wall_role_missing(conn)
        assert missing  # the role or its grants, policies and account-function entry
    upgrade_db(url).dispose()
    with store.engine.begin() as conn:
        assert wall_role_missing(conn) == []
        definitions = conn.execute(text(
            "SELECT pg_get_functiondef('gridhall_accounts.create_login(text,text,text)'::regprocedure)")).scalar_one()
        assert definitions.count(f"'{WALL_GROUP}'") == 2  # the check and its message, once each
        assert definitions.count("'gridhall_admin'") == 2


def test_without_a_superuser_the_upgrade_warns_and_changes_nothing(store, pg_cluster, caplog):
    with store.engine.begin() as conn:
        for table, in conn.execute(text("SELECT tablename FROM pg_policies WHERE policyname = 'gridhall_wall_reads'")):
            conn.execute(text(f'DROP POLICY gridhall_wall_reads ON "{table}"'))
        before = wall_role_missing(conn)
    assert before and all(m.startswith("policy on") for m in before)
    name = f"dba_{secrets.token_hex(3)}"
    with pg_cluster.admin() as conn, conn.cursor() as cur:
        cur.execute(f'CREATE ROLE "{name}" LOGIN PASSWORD %s', ("pw-" + name,))
        cur.execute(f'GRANT {security.OWNER_ROLE} TO "{name}"')
    try:
        url = store.url.set(username=name, password="pw-" + name).render_as_string(hide_password=False)
        with caplog.at_level(logging.WARNING, logger="app.store.wall_role"):
            upgrade_db(url).dispose()
        assert "gridhall db upgrade" in caplog.text and WALL_GROUP in caplog.text
        with store.engine.begin() as conn:
            assert wall_role_missing(conn) == before
    finally:
        with pg_cluster.admin() as conn, conn.cursor() as cur:
            cur.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_a_wall_login_on_spatialite_is_refused_with_a_clear_message(tmp_path, capsys):
    from app.store.commands import init_db

    path = tmp_path / "s.sqlite"
    init_db(path).dispose()
    assert main(["wall", "--db", str(path), "--add-login", "wall1"]) == 1
    err = capsys.readouterr().err
    assert "mode=ro" in err and "Traceback" not in err
