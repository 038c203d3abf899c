"""The calendar years and the configuration history on PostGIS, attacked by raw SQL as every login (migration 0016).

Only the administrator's login writes ``calendar_years`` and ``statutory_days`` and appends to
``config_changes``; nobody deletes, updates or truncates the history, the DBA's owner role
included (the trigger, not a privilege, refuses it); everyone reads the three tables (the
desk warns from them). What the administrator enters through the service as its own login is
what the SQL timers count.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from app.services import calendar as service
from app.store.calendar_years import days_off_the_record, verify_config_history
from tests.store import hall as _hall
from tests.store.hall import DBA, EVERYONE, refused, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

WRITES = [
    "UPDATE calendar_years SET status = 'official' WHERE year = 2027",
    "INSERT INTO calendar_years VALUES (2031, 'official', 'x', now(), 'x')",
    "UPDATE statutory_days SET workday = true WHERE day = '2027-02-08'",
    "INSERT INTO statutory_days (day, workday) VALUES ('2031-01-01', false)",
    "INSERT INTO config_changes (seq, entity, key, actor, at, prev_hash, hash) "
    "SELECT max(seq) + 1, 'calendar_year', '2027', 'x', now(), 'x', 'y' FROM config_changes",
]


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "admin"])
def test_no_login_but_the_administrator_writes_the_calendar(hall, who):
    for sql in WRITES:
        refused(hall, who, sql, match="permission denied")
    for table in ("calendar_years", "statutory_days", "config_changes"):
        assert run(hall, who, f"SELECT count(*) FROM {table}")[0][0] > 0  # everyone reads


@pytest.mark.parametrize("who", ["admin", DBA])
def test_nobody_rewrites_or_deletes_the_history(hall, who):
    for sql in ("UPDATE config_changes SET reason = 'tidied' WHERE seq = 1", "DELETE FROM config_changes",
                "TRUNCATE config_changes"):
        message = refused(hall, who, sql)
        assert "append-only" in message or "permission denied" in message, message
    # the administrator deletes no calendar rows either (a correction is a new entry)
    if who == "admin":
        refused(hall, who, "DELETE FROM statutory_days WHERE day = '2027-02-08'", match="permission denied")
        refused(hall, who, "DELETE FROM calendar_years WHERE year = 2027", match="permission denied")
    # an appended link must be the next one, with the last hash
    refused(hall, who, "INSERT INTO config_changes (seq, entity, key, actor, at, prev_hash, hash) "
                       "VALUES (999999, 'calendar_year', '2027', 'x', now(), 'x', 'y')", match="next link")
    with hall.store.engine.connect() as conn:
        assert verify_config_history(conn) is None


def test_the_administrator_enters_a_year_as_its_own_login_and_the_sql_timers_count_it(hall):
    admin_store = hall.store_as("admin")
    start = datetime(2027, 2, 4, 17)

    def sql_deadline():
        return run(hall, "dispatcher", "SELECT gridhall_deadline('working', 1440, %s, 0, NULL, 0)", (start,))[0][0]

    assert sql_deadline() == datetime(2027, 2, 15, 17)
    change = service.set_year(admin_store, hall.actor("admin"), 2027,
                              holidays=["2027-01-01=元旦", "2027-02-05..2027-02-10=春节"], workdays=["2027-02-14"],
                              official=True, source="国办发明电〔2026〕N号", reason="国务院通知")
    assert change is not None
    assert sql_deadline() == datetime(2027, 2, 14, 17)
    assert service.load_calendar(hall.store_as("dispatcher")).add_working_minutes(start, 1440) == sql_deadline()
    with hall.store.engine.connect() as conn:
        assert verify_config_history(conn) is None and days_off_the_record(conn) == []
    # a day written around the history (by the administrator's login, by raw SQL) is noticed
    assert run(hall, "admin", "UPDATE statutory_days SET workday = true WHERE day = '2027-02-08'") == 1
    assert run(hall, "admin", "INSERT INTO statutory_days (day, workday) VALUES ('2035-01-01', false)") == 1
    with hall.store.engine.connect() as conn:
        assert days_off_the_record(conn) == [2027, 2035]
