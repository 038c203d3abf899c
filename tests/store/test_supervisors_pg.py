"""Migration 0014 on PostGIS, by raw SQL as each role's own login: a supervisor writes only its own
position row, nobody else writes positions, only the administrator assigns grids, everyone reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.clock import FixedClock
from app.services.supervisors import SupervisorService
from tests.store import hall as _hall
from tests.store.hall import EVERYONE, refused, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

GRID = "320599001001006"
POINT = "ST_SetSRID(ST_MakePoint(557150, 3464450), 4549)"


def _now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


def _insert(hall, who: str, username: str, at: datetime | None = None):
    return (f"INSERT INTO supervisor_positions (username, on_duty, at, geom) VALUES (%s, true, %s, {POINT})",
            (username, at or _now()))


def test_a_supervisor_writes_its_own_position_and_nobody_else_s(hall):
    me = hall.names["supervisor"]
    sql, args = _insert(hall, "supervisor", me)
    assert run(hall, "supervisor", sql, args) == 1
    assert run(hall, "supervisor", "UPDATE supervisor_positions SET on_duty = false WHERE username = %s", (me,)) == 1
    # another supervisor's row: neither inserted in its name nor changed
    other = hall.add_login("sup_b", hall.actor("supervisor").role)
    sql, args = _insert(hall, "supervisor", other)
    refused(hall, "supervisor", sql, args, match="row-level security")
    sql, args = _insert(hall, "sup_b", other)
    assert run(hall, "sup_b", sql, args) == 1
    assert run(hall, "supervisor", "UPDATE supervisor_positions SET on_duty = false WHERE username = %s",
               (other,)) == 0  # not its row: nothing to update
    assert run(hall, "supervisor", "UPDATE supervisor_positions SET on_duty = false") == 1  # its own only
    refused(hall, "supervisor", "UPDATE supervisor_positions SET username = %s WHERE username = %s", (other, me),
            match="permission denied")
    refused(hall, "supervisor", "DELETE FROM supervisor_positions WHERE username = %s", (me,),
            match="permission denied")
    assert run(hall, "admin", "SELECT on_duty FROM supervisor_positions WHERE username = %s", (other,)) == [(True,)]


def test_a_position_is_not_dated_ahead_of_the_database(hall):
    me = hall.names["supervisor"]
    sql, args = _insert(hall, "supervisor", me, _now() + timedelta(hours=2))
    refused(hall, "supervisor", sql, args, match="row-level security")


@pytest.mark.parametrize("who", ["acceptor", "shift_leader", "dispatcher", "dept_a", "leader", "analyst", "admin"])
def test_no_other_role_writes_positions(hall, who):
    sql, args = _insert(hall, who, hall.names[who])
    refused(hall, who, sql, args, match="permission denied")


def test_only_the_administrator_assigns_grids_and_everyone_reads(hall):
    sup = hall.actor("supervisor")
    for who in ("supervisor", "acceptor", "dispatcher", "leader"):
        refused(hall, who, "UPDATE unit_grids SET supervisor_id = %s WHERE code = %s", (sup.user_id, GRID),
                match="permission denied")
    assert run(hall, "admin", "UPDATE unit_grids SET supervisor_id = %s WHERE code = %s", (sup.user_id, GRID)) == 1
    sql, args = _insert(hall, "supervisor", sup.username)
    run(hall, "supervisor", sql, args)
    for who in EVERYONE:
        assert run(hall, who, "SELECT count(*) FROM supervisor_positions") == [(1,)]
        assert run(hall, who, "SELECT supervisor_id FROM unit_grids WHERE code = %s", (GRID,)) == [(sup.user_id,)]


def test_the_service_as_logins(hall):
    clock = FixedClock(_now())
    sup = hall.actor("supervisor")
    as_sup = SupervisorService(hall.store_as("supervisor"), clock, _calendar())
    p = as_sup.report_position(sup, 557160.0, 3464450.0, True)
    assert (p.username, p.on_duty) == (sup.username, True)
    assert SupervisorService(hall.store_as("admin"), clock, _calendar()).assign(hall.actor("admin"), GRID,
                                                                                sup.username) == sup.username
    as_acceptor = SupervisorService(hall.store_as("acceptor"), clock, _calendar())
    [first] = as_acceptor.suggest_supervisors(hall.cases["filed"])
    assert (first.username, first.assigned, first.on_duty, first.distance_m) == (sup.username, True, True, 10.0)


def _calendar():
    from app.domain.calendar import WorkCalendar

    return WorkCalendar()


def test_downgrade_removes_the_table_and_upgrade_brings_it_back(pg_url):
    from alembic import command
    from sqlalchemy import text

    from app.store.commands import alembic_config, init_db

    opened = init_db(pg_url)

    def state():
        with opened.engine.connect() as conn:
            return conn.execute(text("""
                SELECT to_regclass('supervisor_positions') IS NOT NULL,
                       (SELECT count(*) FROM pg_policies WHERE tablename = 'supervisor_positions'),
                       coalesce(has_table_privilege('gridhall_supervisor', 'supervisor_positions', 'INSERT'), false)
                 WHERE to_regclass('supervisor_positions') IS NOT NULL
                UNION ALL SELECT false, 0, false WHERE to_regclass('supervisor_positions') IS NULL""")).one()

    try:
        assert tuple(state()) == (True, 3, True)
        with opened.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0013")
        assert tuple(state()) == (False, 0, False)
        with opened.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        assert tuple(state()) == (True, 3, True)
    finally:
        opened.dispose()
