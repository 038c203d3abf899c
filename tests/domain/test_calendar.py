"""Working-time calendar: statutory days, overrides, and the arithmetic of working minutes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import WORKING_DAY_MINUTES, WorkCalendar

CAL = WorkCalendar()
# a calendar with local changes: a Monday off, a named local day off and a working Saturday
LOCAL = WorkCalendar(
    overrides={date(2026, 11, 23): False, date(2026, 11, 28): True},
    holidays={date(2026, 12, 2): "防汛停工"},
)
ODD = WorkCalendar(windows=((time(7, 30), time(11, 45)), (time(13), time(17, 20, 30))))

instants = st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2027, 1, 31))
minutes = st.floats(min_value=0, max_value=12 * WORKING_DAY_MINUTES, allow_nan=False)
calendars = st.sampled_from([CAL, LOCAL, ODD])
US = timedelta(microseconds=1)


def brute_force_minutes(cal: WorkCalendar, start: datetime, end: datetime) -> float:
    """Reference: walk every day and intersect [start, end) with its windows."""
    total = timedelta()
    d = start.date()
    while d <= end.date():
        for w_start, w_end in cal.windows_on(d):
            lo, hi = max(w_start, start), min(w_end, end)
            if hi > lo:
                total += hi - lo
        d += timedelta(days=1)
    return total / timedelta(minutes=1)


# ---------------------------------------------------------------- properties


@settings(deadline=None)  # the first call fills the calendar caches
@given(calendars, instants, minutes)
def test_adding_then_measuring_gives_back_the_minutes(cal, start, m):
    end = cal.add_working_minutes(start, m)
    assert end >= start
    assert cal.working_minutes(start, end) == pytest.approx(m, abs=1e-6)


@settings(deadline=None)  # the first call fills the calendar caches
@given(calendars, instants, minutes)
def test_added_result_is_inside_or_at_the_end_of_a_window_on_a_workday(cal, start, m):
    end = cal.add_working_minutes(start, m)
    assert cal.is_workday(end.date())
    assert any(w_start <= end <= w_end for w_start, w_end in cal.windows_on(end.date()))


@settings(deadline=None)  # the first call fills the calendar caches
@given(calendars, instants, st.floats(min_value=0.001, max_value=5000))
def test_added_result_is_the_earliest_instant_reaching_the_minutes(cal, start, m):
    end = cal.add_working_minutes(start, m)
    assert cal.working_minutes(start, end - US) < m


@settings(deadline=None)  # the first call fills the calendar caches
@given(calendars, instants, instants)
def test_ordinal_is_monotone(cal, a, b):
    a, b = min(a, b), max(a, b)
    assert cal.ordinal(a) <= cal.ordinal(b)
    assert cal.ordinal_us(a) <= cal.ordinal_us(b)


@settings(deadline=None)  # the first call fills the calendar caches
@given(calendars, instants)
def test_from_ordinal_is_the_earliest_instant_with_that_ordinal(cal, t):
    back = cal.from_ordinal(cal.ordinal(t))
    assert back <= t
    assert cal.ordinal_us(back) == cal.ordinal_us(t)
    assert cal.ordinal_us(back - US) < cal.ordinal_us(t)


@settings(deadline=None)  # the first call fills the calendar caches
@given(calendars, instants, instants, instants)
def test_working_minutes_is_additive_over_split_points(cal, a, b, c):
    whole = cal.working_minutes(a, c)
    assert whole == pytest.approx(cal.working_minutes(a, b) + cal.working_minutes(b, c), abs=1e-6)
    assert cal.working_minutes(c, a) == -whole


@settings(max_examples=60, deadline=None)
@given(calendars, instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_working_minutes_matches_a_day_by_day_walk(cal, start, span):
    end = start + span
    assert cal.working_minutes(start, end) == pytest.approx(brute_force_minutes(cal, start, end), abs=1e-6)


@settings(deadline=None)  # the first call fills the calendar caches
@given(instants)
def test_a_full_workday_holds_eight_working_hours(t):
    d = t.date()
    windows = CAL.windows_on(d)
    midnight = datetime(d.year, d.month, d.day)
    expected = WORKING_DAY_MINUTES if CAL.is_workday(d) else 0
    assert CAL.working_minutes(midnight, midnight + timedelta(days=1)) == expected
    assert len(windows) == (2 if expected else 0)


# ---------------------------------------------------------------- examples


def test_four_hours_from_eight_end_at_noon_not_after_lunch():
    assert CAL.add_working_minutes(datetime(2026, 11, 20, 8), 240) == datetime(2026, 11, 20, 12)
    assert CAL.add_working_minutes(datetime(2026, 11, 20, 8), 480) == datetime(2026, 11, 20, 18)


def test_friday_afternoon_limit_continues_on_monday():
    # Friday 20 Nov 2026 16:30: 90 minutes left that day, 150 more on Monday
    assert CAL.add_working_minutes(datetime(2026, 11, 20, 16, 30), 240) == datetime(2026, 11, 23, 10, 30)
    assert CAL.working_minutes(datetime(2026, 11, 20, 16, 30), datetime(2026, 11, 23, 10, 30)) == 240


def test_start_outside_the_windows_counts_from_the_next_opening():
    assert CAL.add_working_minutes(datetime(2026, 11, 20, 12, 30), 60) == datetime(2026, 11, 20, 15)
    assert CAL.add_working_minutes(datetime(2026, 11, 21, 10), 60) == datetime(2026, 11, 23, 9)
    assert CAL.add_working_minutes(datetime(2026, 11, 20, 19), 0) == datetime(2026, 11, 23, 8)
    assert CAL.add_working_minutes(datetime(2026, 11, 20, 10), 0) == datetime(2026, 11, 20, 10)
    assert CAL.add_working_minutes(datetime(2026, 11, 20, 12), 0) == datetime(2026, 11, 20, 12)


def test_negative_minutes_are_refused():
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_minutes(datetime(2026, 11, 20, 10), -1)


def test_national_day_2025_with_its_working_weekend_days():
    assert chinese_calendar.is_holiday(date(2025, 10, 8))
    # Tuesday 30 Sep 16:00: two hours that day, the rest after the holiday (1–8 Oct)
    assert CAL.add_working_minutes(datetime(2025, 9, 30, 16), 240) == datetime(2025, 10, 9, 10)
    # Saturday 11 Oct 2025 is a 调休 working day
    assert CAL.add_working_minutes(datetime(2025, 10, 10, 17), 120) == datetime(2025, 10, 11, 9)
    assert CAL.is_workday(date(2025, 9, 28))  # Sunday, worked
    assert CAL.describe_day(date(2025, 10, 11)) == "调休工作日"
    assert CAL.describe_day(date(2025, 10, 3)) == "法定节假日（国庆节）"
    assert CAL.describe_day(date(2025, 10, 6)) == "法定节假日（中秋节）"


def test_national_day_2026():
    assert [d.day for d in CAL.days_off_between(date(2026, 9, 30), date(2026, 10, 12))] == [1, 2, 3, 4, 5, 6, 7, 11]
    assert CAL.add_working_minutes(datetime(2026, 9, 30, 17), 120) == datetime(2026, 10, 8, 9)
    assert CAL.add_working_minutes(datetime(2026, 10, 9, 17), 120) == datetime(2026, 10, 10, 9)
    assert CAL.working_minutes(datetime(2026, 9, 30, 8), datetime(2026, 10, 9, 8)) == 2 * WORKING_DAY_MINUTES


def test_statutory_days_agree_with_chinese_calendar():
    for year in (2024, 2025, 2026):
        d = date(year, 1, 1)
        while d.year == year:
            assert CAL.is_workday(d) == chinese_calendar.is_workday(d), d
            d += timedelta(days=1)


def test_describe_day_names_each_kind_of_day():
    assert CAL.describe_day(date(2026, 11, 20)) == "工作日"
    assert CAL.describe_day(date(2026, 11, 21)) == "周末"
    assert CAL.describe_day(date(2026, 2, 17)) == "法定节假日（春节）"
    assert CAL.describe_day(date(2026, 1, 4)) == "调休工作日"


def test_local_overrides_take_precedence():
    assert not LOCAL.is_workday(date(2026, 11, 23))
    assert LOCAL.is_workday(date(2026, 11, 28))
    assert not LOCAL.is_workday(date(2026, 12, 2))
    assert LOCAL.add_working_minutes(datetime(2026, 11, 20, 16, 30), 240) == datetime(2026, 11, 24, 10, 30)
    assert LOCAL.windows_on(date(2026, 11, 23)) == []
    assert LOCAL.describe_day(date(2026, 11, 23)) == "本地调整：休息日"
    assert LOCAL.describe_day(date(2026, 11, 28)) == "本地调整：工作日"
    assert LOCAL.describe_day(date(2026, 12, 2)) == "本地调整：休息日（防汛停工）"


def test_years_unknown_to_chinesecalendar_fall_back_to_monday_to_friday():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2099, 1, 1))
    assert CAL.is_workday(date(2099, 1, 1))  # a Thursday; no holiday data for 2099
    assert not CAL.is_workday(date(2099, 1, 3))
    assert CAL.is_fallback(date(2099, 1, 1))
    assert not CAL.is_fallback(date(2026, 1, 1))
    assert "2099年节假日数据缺失" in CAL.describe_day(date(2099, 1, 3))
    assert CAL.add_working_minutes(datetime(2099, 1, 2, 17), 120) == datetime(2099, 1, 5, 9)


def test_windows_on_a_workday():
    assert CAL.windows_on(date(2026, 11, 20)) == [
        (datetime(2026, 11, 20, 8), datetime(2026, 11, 20, 12)),
        (datetime(2026, 11, 20, 14), datetime(2026, 11, 20, 18)),
    ]
    assert CAL.window_text() == "08:00–12:00、14:00–18:00"


def test_ordinal_counts_from_the_2000_epoch_and_inverts():
    assert CAL.ordinal(datetime(2000, 1, 1)) == 0
    t = datetime(2026, 11, 20, 10, 15, 30)
    assert CAL.from_ordinal(CAL.ordinal(t)) == t
    # lunch break and the night map back to the end of the previous window
    assert CAL.from_ordinal(CAL.ordinal(datetime(2026, 11, 20, 13))) == datetime(2026, 11, 20, 12)
    assert CAL.from_ordinal(CAL.ordinal(datetime(2026, 11, 21, 13))) == datetime(2026, 11, 20, 18)
    # before the epoch works too
    t = datetime(1999, 3, 3, 10)
    assert CAL.from_ordinal(CAL.ordinal(t)) == t


@pytest.mark.parametrize(
    "windows, message",
    [
        ((), "at least one"),
        (((time(12), time(8)),), "ends before it starts"),
        (((time(8), time(12)), (time(11), time(13))), "overlaps"),
    ],
)
def test_bad_windows_are_refused(windows, message):
    with pytest.raises(ValueError, match=message):
        WorkCalendar(windows=windows)


# ------------------------------------------------------------- statutory years as data (issue 12)

from app.domain.calendar_file import CalendarFileError, parse_csv, parse_toml  # noqa: E402
from app.domain.deadlines import explain  # noqa: E402
from app.domain.messages import MsgError  # noqa: E402
from app.domain.statutory import ESTIMATED, OFFICIAL, StatutoryYear, estimated_year, official_year, seed_years  # noqa: E402


def test_the_seed_is_official_where_chinesecalendar_knows_and_estimated_after():
    years = seed_years(2026)
    assert years[2026].status == OFFICIAL and "chinesecalendar" in years[2026].source
    assert years[2027].status == ESTIMATED and years[2028].status == ESTIMATED and 2029 not in years
    # chinesecalendar's flags and names come through unchanged
    assert years[2025].flags() == CAL_STATUTORY_2025 and years[2025].holidays[date(2025, 10, 1)] == "国庆节"
    assert date(2025, 1, 26) in years[2025].workdays  # a 调休 Sunday
    # 2027 from the holidays library: the Spring Festival and its observed days, no 调休 workday
    spring = {d for d, n in years[2027].holidays.items() if n == "春节"}
    assert {date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)} <= spring
    assert years[2027].workdays == frozenset()
    assert estimated_year(2027) == years[2027] and official_year(2027) is None


CAL_STATUTORY_2025 = tuple(chinese_calendar.is_workday(date(2025, 1, 1) + timedelta(days=i)) for i in range(365))


def test_without_a_store_the_calendar_counts_2027_s_spring_festival_and_says_it_is_estimated():
    assert not CAL.is_workday(date(2027, 2, 8)) and not CAL.is_workday(date(2027, 2, 10))
    assert CAL.is_estimated(date(2027, 2, 8)) and not CAL.is_fallback(date(2027, 2, 8))
    assert CAL.year_status(2027) == ESTIMATED and CAL.year_status(2026) == OFFICIAL and CAL.year_status(2099) is None
    assert CAL.describe_day(date(2027, 2, 8)) == "法定节假日（春节）"
    # Thursday 17:00 + 2 working hours: Friday the 5th is New Year's Eve, the festival runs to the 10th
    assert CAL.add_working_minutes(datetime(2027, 2, 4, 17), 120) == datetime(2027, 2, 11, 9)
    from app.domain.cases import TimerSpec
    from app.domain.definitions import Basis, Stage

    text = explain(TimerSpec(Stage.HANDLE, Basis.WORKING, 960, datetime(2027, 2, 4, 9)), CAL, datetime(2027, 2, 4, 10))
    assert "2027年的节假日安排为推算" in text


def test_a_calendar_built_from_stored_years_uses_them_and_reloads_whole():
    # the estimate's days off, plus one 调休 working Sunday
    official = StatutoryYear(2027, OFFICIAL, {date(2027, 2, 5) + timedelta(days=i): "春节" for i in range(6)},
                             frozenset({date(2027, 2, 14)}), "国办发明电〔2026〕N号")
    cal = WorkCalendar(years={2027: estimated_year(2027)}, version=1)
    before = cal.add_working_minutes(datetime(2027, 2, 4, 17), 3 * 480)
    assert cal.year_status(2026) is None and cal.is_fallback(date(2026, 10, 1))  # only what it was given
    cal.reload({2027: official}, version=2)
    assert cal.version == 2 and cal.is_workday(date(2027, 2, 14)) and not cal.is_workday(date(2027, 2, 10))
    assert cal.describe_day(date(2027, 2, 14)) == "调休工作日"
    after = cal.add_working_minutes(datetime(2027, 2, 4, 17), 3 * 480)
    # 1 h on the 4th, the 11th, the 12th, then 7 h: Monday the 15th, or the 调休 Sunday the 14th
    assert (before, after) == (datetime(2027, 2, 15, 17), datetime(2027, 2, 14, 17))


@pytest.mark.parametrize(("year", "message"), [
    (StatutoryYear(2027, OFFICIAL, {date(2026, 12, 31): "x"}), "日期不在 2027 年内"),
    (StatutoryYear(2027, OFFICIAL, {date(2027, 2, 6): "春节"}, frozenset({date(2027, 2, 6)})), "既是节假日又是调休工作日"),
    (StatutoryYear(2027, OFFICIAL, {}, frozenset({date(2027, 2, 8)})), "调休工作日应为周六或周日"),
    (StatutoryYear(2027, OFFICIAL, {date(2027, 1, 1) + timedelta(days=i): "" for i in range(365)}), "没有任何工作日"),
    (StatutoryYear(2027, "rumoured"), "状态“rumoured”无效"),
])
def test_a_wrong_year_is_refused_with_every_reason(year, message):
    assert any(message in str(p) for p in year.problems())
    with pytest.raises(MsgError, match="未做任何修改"):
        year.check()


def test_a_year_round_trips_through_its_record_and_its_days():
    year = seed_years(2026)[2026]
    assert StatutoryYear.from_record(year.as_record()) == year
    rows = year.days()
    assert len(rows) == 365 and StatutoryYear.from_days(2026, year.status, rows, year.source).same_days(year)


def test_calendar_files_toml_and_csv():
    toml = parse_toml('year = 2027\nsource = "通知"\nworkdays = ["2027-02-14"]\n'
                      '[holidays]\n"2027-01-01" = "元旦"\n"2027-02-05..2027-02-11" = "春节"\n')
    assert toml.year == 2027 and toml.status == OFFICIAL and toml.source == "通知"
    assert len(toml.holidays) == 8 and toml.holidays[date(2027, 2, 11)] == "春节" and toml.workdays == {date(2027, 2, 14)}
    csv_year = parse_csv("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-05..2027-02-11,节假日,春节\n2027-02-14,workday,\n")
    assert (csv_year.year, csv_year.holidays, csv_year.workdays) == (2027, toml.holidays, toml.workdays)
    for bad, message in (("date,kind\n2027-02-30,holiday\n", "日期“2027-02-30”无效"),
                         ("date,kind\n2027-01-01,party\n", "类型“party”无效"),
                         ("date,kind\n2027-01-01,holiday\n2028-01-01,holiday\n", "只能包含一年"),
                         ("day,what\n", "表头")):
        with pytest.raises(CalendarFileError, match=message):
            parse_csv(bad)
    with pytest.raises(CalendarFileError, match="year = 2027"):
        parse_toml('[holidays]\n"2027-01-01" = "元旦"\n')
    with pytest.raises(CalendarFileError, match="日期范围"):
        parse_toml('year = 2027\n[holidays]\n"2027-02-11..2027-02-05" = "春节"\n')
