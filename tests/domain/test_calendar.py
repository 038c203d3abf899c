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
