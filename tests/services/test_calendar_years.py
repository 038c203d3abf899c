"""The working calendar's years in the store, on both backends (issue 12, migration 0016).

A timer across the 2027 Spring Festival with the estimated calendar, then with an official one
entered by an administrator (one more 调休 workday): the deadline moves, Python and (on
PostGIS) SQL agree; every change is on the hash-chained configuration history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from app.domain.cases import TimerSpec
from app.domain.deadlines import deadline, explain
from app.domain.definitions import Basis, Stage
from app.domain.statutory import ESTIMATED, OFFICIAL, chinesecalendar_years
from app.services import calendar as service
from app.services.actors import Actor
from app.services.errors import PermissionDenied, ValidationError
from app.store.calendar_years import changes, verify_config_history

ADMIN = Actor("admin", "管理员", "admin")
DISPATCHER = Actor("dispatcher", "张三", "dispatcher")
NOTICE = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）"
SPRING = ["2027-01-01=元旦", "2027-02-05..2027-02-10=春节"]
#: 1 h on Thursday the 4th, then three more working days' worth: 1440 working minutes.
SPEC = TimerSpec(Stage.HANDLE, Basis.WORKING, 3 * 480, datetime(2027, 2, 4, 17))


def _sql_deadline(store, spec: TimerSpec):
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT gridhall_deadline(:b, :l, :s, 0, NULL, 0)"),
                            {"b": spec.basis.value, "l": spec.limit_minutes, "s": spec.started_at}).scalar()


def test_a_new_store_holds_the_seeded_years_on_the_record(store):
    cal = service.load_calendar(store)
    assert cal.year_status(2026) == OFFICIAL and cal.year_status(2027) == ESTIMATED
    assert cal.year_status(chinesecalendar_years()[0]) == OFFICIAL and cal.year_status(1999) is None
    view = service.show_year(store, 2027)
    assert view.status == ESTIMATED and "holidays" in view.source and view.workdays == []
    assert view.updated_by == "gridhall db" and len(view.history) == 1
    with store.engine.connect() as conn:
        assert verify_config_history(conn) is None
        assert len(changes(conn)) == len(chinesecalendar_years()) + 2 == cal.version


def test_a_timer_across_the_2027_spring_festival_moves_when_the_official_calendar_is_entered(store):
    estimated = service.load_calendar(store)
    before = deadline(SPEC, estimated)
    assert before == datetime(2027, 2, 15, 17)  # the 11th, the 12th, then Monday the 15th
    assert "2027年的节假日安排为推算" in explain(SPEC, estimated, datetime(2027, 2, 4, 17, 30))
    if store.backend == "postgis":
        assert _sql_deadline(store, SPEC) == before
    change = service.set_year(store, ADMIN, 2027, holidays=SPRING, workdays=["2027-02-14"], official=True,
                              source=NOTICE, reason="录入国务院通知")
    assert change is not None
    # a running workstation picks the change up at its next computation
    assert service.refresh_calendar(store, estimated) and not service.refresh_calendar(store, estimated)
    after = deadline(SPEC, estimated)
    assert after == datetime(2027, 2, 14, 17)  # the 调休 Sunday counts
    assert estimated.year_status(2027) == OFFICIAL
    assert "推算" not in explain(SPEC, estimated, datetime(2027, 2, 4, 17, 30))
    if store.backend == "postgis":
        assert _sql_deadline(store, SPEC) == after
    # the same entry again changes nothing and records nothing
    assert service.set_year(store, ADMIN, 2027, holidays=SPRING, workdays=["2027-02-14"], official=True,
                            source=NOTICE) is None
    view = service.show_year(store, 2027)
    assert (view.status, view.source, view.updated_by, view.workdays) == (OFFICIAL, NOTICE, "admin", [date(2027, 2, 14)])
    assert [h["reason"] for h in view.history][-1] == "录入国务院通知"
    with store.engine.connect() as conn:
        assert verify_config_history(conn) is None


def test_python_and_sql_agree_on_every_day_of_the_stored_years(store):
    service.set_year(store, ADMIN, 2027, holidays=SPRING, workdays=["2027-02-14", "2027-02-20"], official=True,
                     source=NOTICE)
    cal = service.load_calendar(store)
    if store.backend != "postgis":
        pytest.skip("the SQL timer functions exist on PostGIS only")
    first, last = date(2026, 12, 1), date(2029, 1, 31)
    with store.engine.connect() as conn:
        flags = dict(conn.execute(text(
            "SELECT d::date, gridhall_is_workday(d::date) FROM generate_series(:a, :b, interval '1 day') d"),
            {"a": first, "b": last}).all())
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert {d: cal.is_workday(d) for d in days} == flags
    for start in (datetime(2027, 2, 4, 17), datetime(2027, 9, 30, 10), datetime(2028, 1, 27, 11)):
        for limit in (60, 480, 1440, 4800):
            spec = TimerSpec(Stage.HANDLE, Basis.WORKING, limit, start)
            assert _sql_deadline(store, spec) == deadline(spec, cal), spec


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"holidays": ["2026-12-31"]}, "日期不在 2027 年内"),
    ({"holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}, "既是节假日又是调休工作日"),
    ({"holidays": ["2027-01-01..2027-12-31"]}, "没有任何工作日"),
    ({"holidays": ["2027-02-30"]}, "无效"),
])
def test_a_wrong_year_is_refused_and_nothing_is_written(store, kwargs, message):
    with store.engine.connect() as conn:
        before = len(changes(conn))
    with pytest.raises(ValidationError, match=message):
        service.set_year(store, ADMIN, 2027, official=True, source=NOTICE, **kwargs)
    with store.engine.connect() as conn:
        assert len(changes(conn)) == before
    assert service.show_year(store, 2027).status == ESTIMATED


def test_only_an_administrator_changes_the_calendar(store):
    with pytest.raises(PermissionDenied, match="只有管理员"):
        service.set_year(store, DISPATCHER, 2027, workdays=["2027-02-14"])
    with pytest.raises(PermissionDenied):
        service.estimate_year(store, DISPATCHER, 2029)


def test_a_year_not_stored_yet_starts_from_the_libraries_estimate(store):
    assert service.set_year(store, ADMIN, 2030, workdays=["2030-02-09"]) is not None
    view = service.show_year(store, 2030)
    assert view.status == ESTIMATED and view.workdays == [date(2030, 2, 9)]
    assert "春节" in view.holidays.values() and "holidays" in view.source


def test_estimate_and_import(store, tmp_path):
    seeded, change = service.estimate_year(store, ADMIN, 2029)
    assert seeded.status == ESTIMATED and change is not None
    assert service.load_calendar(store).year_status(2029) == ESTIMATED
    path = tmp_path / "2029.toml"
    path.write_text(f'year = 2029\nsource = "{NOTICE}"\nworkdays = ["2029-02-10"]\n'
                    '[holidays]\n"2029-01-01" = "元旦"\n"2029-02-12..2029-02-16" = "春节"\n', encoding="utf-8")
    assert service.import_year(store, ADMIN, path)[0] == 2029
    cal = service.load_calendar(store)
    assert cal.year_status(2029) == OFFICIAL and cal.is_workday(date(2029, 2, 10))
    with pytest.raises(ValidationError, match="不能用推算覆盖"):
        service.estimate_year(store, ADMIN, 2029)
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind,name\n2029-03-01,holiday,x\n2030-01-01,holiday,y\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="只能包含一年"):
        service.import_year(store, ADMIN, bad)


def test_the_desk_warning_names_the_estimated_year_within_sixty_days(store):
    cal = service.load_calendar(store)
    warning = service.calendar_warning(cal, date(2026, 12, 7))
    assert warning is not None and "2027年节假日安排为推算" in str(warning)
    assert service.calendar_warning(cal, date(2026, 6, 1)) is None  # the next 60 days are all in 2026
    service.set_year(store, ADMIN, 2027, holidays=SPRING, official=True, source=NOTICE)
    service.refresh_calendar(store, cal)
    assert service.calendar_warning(cal, date(2026, 12, 7)) is None


def test_the_configuration_history_is_append_only(store):
    service.set_year(store, ADMIN, 2027, workdays=["2027-02-14"], official=True, source=NOTICE)
    for sql in ("UPDATE config_changes SET reason = 'x' WHERE seq = 1", "DELETE FROM config_changes WHERE seq = 1"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    with store.engine.connect() as conn:
        assert verify_config_history(conn) is None


@pytest.mark.parametrize("backend", ["spatialite"])
def test_verify_audit_checks_the_configuration_history_too(store):
    from app.store.commands import verify_audit

    assert verify_audit(store) is None
    with store.engine.begin() as conn:  # tampering on SpatiaLite: the trigger dropped first
        conn.execute(text("DROP TRIGGER config_changes_no_update"))
        conn.execute(text("UPDATE config_changes SET reason = 'nothing to see' WHERE seq = 3"))
    problem = verify_audit(store)
    assert problem is not None and "配置变更记录第 3 条的内容与哈希不符" in problem.message
