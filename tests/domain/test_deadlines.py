"""Deadline timers: deadlines, readings, lights, explanations, formatting and the queue tick table."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import WorkCalendar
from app.domain.cases import TimerSpec
from app.domain.deadlines import (
    NO_TIMER,
    deadline,
    explain,
    format_countdown_seconds,
    format_limit,
    format_remaining,
    read_timer,
)
from app.domain.definitions import Basis, Light, Stage
from app.domain.ticktable import TickTable

CAL = WorkCalendar()
FRIDAY = datetime(2026, 11, 20, 16, 30)


def working(limit, started=FRIDAY, **kw) -> TimerSpec:
    return TimerSpec(Stage.HANDLE, Basis.WORKING, limit, started, **kw)


def natural(limit, started=FRIDAY, **kw) -> TimerSpec:
    return TimerSpec(Stage.HANDLE, Basis.NATURAL, limit, started, **kw)


# ---------------------------------------------------------------- deadlines


def test_working_deadline_skips_the_weekend():
    assert deadline(working(240), CAL) == datetime(2026, 11, 23, 10, 30)


def test_pause_and_extension_shift_the_deadline():
    # 240 + 120 extension + 90 finished pause = 450 working minutes from Friday 16:30
    spec = working(240, paused_minutes=90, extension_minutes=120)
    assert deadline(spec, CAL) == datetime(2026, 11, 23, 16)
    r = read_timer(spec, CAL, datetime(2026, 11, 23, 10, 30))
    assert r.limit_minutes == 360
    assert r.elapsed_minutes == 240 - 90  # 90 on Friday + 150 on Monday, minus the pause
    assert r.remaining_minutes == 210


def test_natural_deadline_runs_through_the_night():
    spec = natural(120, started=datetime(2026, 11, 20, 23, 30))
    assert deadline(spec, CAL) == datetime(2026, 11, 21, 1, 30)
    r = read_timer(spec, CAL, datetime(2026, 11, 21, 1))
    assert r.elapsed_minutes == 90 and r.remaining_minutes == 30


def test_running_pause_freezes_the_timer_and_hides_the_deadline():
    spec = working(240, paused_since=datetime(2026, 11, 23, 9))  # 90 Fri + 60 Mon used
    assert deadline(spec, CAL) is None
    first = read_timer(spec, CAL, datetime(2026, 11, 23, 10))
    later = read_timer(spec, CAL, datetime(2026, 11, 30, 17))
    assert first == later
    assert first.paused and first.deadline is None
    assert first.elapsed_minutes == 150 and first.remaining_minutes == 90


def test_national_day_is_not_counted():
    spec = working(240, started=datetime(2026, 9, 30, 14))
    assert deadline(spec, CAL) == datetime(2026, 9, 30, 18)
    spec = working(480, started=datetime(2026, 9, 30, 14))
    assert deadline(spec, CAL) == datetime(2026, 10, 8, 12)


def test_local_day_off_moves_the_deadline():
    cal = WorkCalendar(overrides={date(2026, 11, 23): False})
    assert deadline(working(240), cal) == datetime(2026, 11, 24, 10, 30)


# ---------------------------------------------------------------- lights


@pytest.mark.parametrize(
    "after, light, overdue",
    [
        (timedelta(minutes=79), Light.GREEN, False),
        (timedelta(minutes=80), Light.GREEN, False),  # exactly 80 %
        (timedelta(minutes=80, microseconds=1), Light.YELLOW, False),
        (timedelta(minutes=100), Light.YELLOW, False),  # exactly 100 %
        (timedelta(minutes=100, seconds=1), Light.RED, True),
    ],
)
def test_light_thresholds_on_natural_time(after, light, overdue):
    spec = natural(100)
    r = read_timer(spec, CAL, FRIDAY + after)
    assert r.light is light
    assert r.overdue is overdue


def test_light_thresholds_on_working_time():
    spec = working(240, started=datetime(2026, 11, 23, 8))
    assert read_timer(spec, CAL, datetime(2026, 11, 23, 11, 12)).light is Light.GREEN  # 192 = 80 %
    assert read_timer(spec, CAL, datetime(2026, 11, 23, 11, 13)).light is Light.YELLOW
    at_limit = read_timer(spec, CAL, datetime(2026, 11, 23, 13))  # lunch: still 240 = 100 %
    assert at_limit.light is Light.YELLOW and at_limit.ratio == 1.0 and not at_limit.overdue
    assert read_timer(spec, CAL, datetime(2026, 11, 23, 14, 1)).light is Light.RED


def test_no_timer_reads_as_none():
    assert read_timer(None, CAL, FRIDAY) == NO_TIMER
    assert NO_TIMER.light is Light.NONE
    assert deadline(None, CAL) is None


# ---------------------------------------------------------------- explanation


def test_explanation_covers_weekend_pause_extension_and_result():
    spec = working(240, paused_minutes=90, extension_minutes=120)
    text = explain(spec, CAL, datetime(2026, 11, 23, 10, 30))
    assert "处置时限 4 工作小时" in text
    assert "08:00–12:00、14:00–18:00" in text
    assert "自 11月20日 16:30 开始计时" in text
    assert "11月21日–22日为周末" in text
    assert "暂停 1小时30分" in text
    assert "延期 +2 工作小时" in text
    assert "截止 11月23日 16:00" in text
    assert "已用 2小时30分（42%）" in text
    assert "剩余 3小时30分" in text
    assert text.endswith("绿灯。")


def test_explanation_names_the_holiday_and_the_working_saturday():
    spec = working(1440, started=datetime(2026, 9, 30, 16))
    text = explain(spec, CAL, datetime(2026, 10, 12, 9))
    assert "10月1日–7日为法定节假日（国庆节）" in text
    assert "10月10日为调休工作日，照常计时" in text
    assert "3 个工作日" in text
    assert "1 个工作日按 8 工作小时计" in text
    # 2 h on 30 Sep, 8 h on 8 and 9 Oct, the last 6 h on the working Saturday
    assert "截止 10月10日 16:00" in text
    assert "已用 3个工作日3小时（112%），超时 3小时，红灯。" in text


def test_explanation_of_a_running_pause_and_an_overdue_timer():
    paused = working(240, paused_since=datetime(2026, 11, 23, 9))
    text = explain(paused, CAL, datetime(2026, 11, 23, 10))
    assert "自 11月23日 09:00 起缓办/挂账暂停中（已暂停 1小时）" in text
    assert "截止时间待恢复计时后重新计算" in text
    late = natural(60)
    text = explain(late, CAL, FRIDAY + timedelta(minutes=75))
    assert "按自然时间连续计时" in text
    assert "超时 15分" in text and "（125%）" in text and text.endswith("红灯。")


def test_explanation_percent_never_contradicts_the_light():
    text = explain(natural(1000), CAL, FRIDAY + timedelta(minutes=800, seconds=3))
    assert "80.0%" not in text and "（80%）" not in text
    assert "黄灯" in text


def test_explanation_warns_when_holiday_data_is_missing():
    text = explain(working(480, started=datetime(2099, 1, 2, 14)), CAL, datetime(2099, 1, 5, 9))
    assert "2099年的法定节假日数据缺失" in text
    assert "1月3日–4日为周末" in text


def test_explanation_without_timer():
    assert explain(None, CAL, FRIDAY) == "当前环节没有计时。"


# ---------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    "minutes, basis, text",
    [
        (125, Basis.WORKING, "2时05分"),
        (35, Basis.WORKING, "35分"),
        (0.2, Basis.WORKING, "1分"),
        (0, Basis.WORKING, "0分"),
        (-600, Basis.WORKING, "-1天2时"),  # a working day is 8 hours
        (-600, Basis.NATURAL, "-10时00分"),
        (3 * 1440 + 65, Basis.NATURAL, "3天1时"),
    ],
)
def test_format_remaining(minutes, basis, text):
    assert format_remaining(minutes, basis) == text


@pytest.mark.parametrize(
    "seconds, text",
    [(7170, "01:59:30"), (-723, "-00:12:03"), (0, "00:00:00"), (0.4, "00:00:01"), (360000, "100:00:00")],
)
def test_format_countdown_seconds(seconds, text):
    assert format_countdown_seconds(seconds) == text


def test_format_limit():
    assert format_limit(240, Basis.WORKING) == "4 工作小时"
    assert format_limit(2400, Basis.WORKING) == "5 个工作日"
    assert format_limit(30, Basis.NATURAL) == "30 分钟"
    assert format_limit(120, Basis.NATURAL) == "2 小时"


# ---------------------------------------------------------------- tick table

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31))


@st.composite
def specs(draw):
    started = draw(instants)
    paused_since = draw(st.one_of(st.none(), st.datetimes(min_value=started, max_value=datetime(2026, 12, 31))))
    return TimerSpec(
        stage=draw(st.sampled_from(list(Stage))),
        basis=draw(st.sampled_from(list(Basis))),
        limit_minutes=draw(st.integers(min_value=1, max_value=4800)),
        started_at=started,
        paused_minutes=draw(st.integers(min_value=0, max_value=600)),
        paused_since=paused_since,
        extension_minutes=draw(st.integers(min_value=0, max_value=960)),
    )


@settings(deadline=None)  # the first call fills the calendar caches
@given(st.lists(st.one_of(st.none(), specs()), max_size=8), instants)
def test_tick_table_agrees_with_read_timer(rows, now):
    table = TickTable(CAL, enumerate(rows))
    readings = table.readings(now)
    assert list(readings) == list(range(len(rows)))
    for case_id, spec in enumerate(rows):
        expected = read_timer(spec, CAL, now)
        assert readings[case_id] == expected
        assert table.reading(case_id, now) == expected


@settings(deadline=None)  # the first call fills the calendar caches
@given(specs(), instants)
def test_remaining_equals_limit_minus_elapsed(spec, now):
    r = read_timer(spec, CAL, now)
    assert r.remaining_minutes == pytest.approx(r.limit_minutes - r.elapsed_minutes, abs=1e-9)
    assert r.overdue == (r.remaining_minutes < 0)
    if r.deadline is not None:
        assert (now >= r.deadline) == (r.remaining_minutes <= 0)


class CountingCalendar(WorkCalendar):
    """A real calendar that counts how often an ordinal is computed."""

    calls = 0

    def ordinal_us(self, dt):
        self.calls += 1
        return super().ordinal_us(dt)


def test_one_tick_computes_a_single_ordinal():
    cal = CountingCalendar()
    table = TickTable(cal, [(i, working(240 + i, started=FRIDAY + timedelta(minutes=i))) for i in range(50)])
    table.update("urgent", natural(60))
    cal.calls = 0
    table.readings(datetime(2026, 11, 23, 9))
    assert cal.calls == 1


def test_tick_table_updates_and_removes_rows():
    table = TickTable(CAL)
    table.update(7, working(240))
    now = datetime(2026, 11, 23, 9)
    assert table.reading(7, now).remaining_minutes == 90
    table.update(7, working(240, extension_minutes=60))
    assert table.reading(7, now).remaining_minutes == 150
    table.update(7, working(240, paused_since=datetime(2026, 11, 23, 8, 30)))
    assert table.reading(7, now).remaining_minutes == 120
    assert table.reading(7, now + timedelta(days=3)).remaining_minutes == 120
    table.remove(7)
    assert 7 not in table and len(table) == 0
    with pytest.raises(KeyError, match="not in the tick table"):
        table.reading(7, now)


def test_explanation_lists_local_days_and_summarises_long_spans():
    cal = WorkCalendar(overrides={date(2026, 11, 23): False}, holidays={date(2026, 11, 24): "防汛停工"})
    text = explain(working(240), cal, datetime(2026, 11, 25, 9))
    assert "11月23日为本地调整：休息日" in text
    assert "11月24日为本地调整：休息日（防汛停工）" in text
    assert "截止 11月25日 10:30" in text
    # an engineering timer over the National Day and many weekends: counts instead of a list
    text = explain(working(9600, started=datetime(2026, 9, 1, 8)), CAL, datetime(2026, 10, 30, 9))
    assert "9月20日为调休工作日，10月10日为调休工作日，照常计时" in text
    assert "其间共有 20 个非工作日不计时（周末 10 天、法定节假日（中秋节） 3 天、法定节假日（国庆节） 7 天）" in text


# ---------------------------------------------------------------- incremental tick table

# steps from a second to a few days, so runs cross 80 %/100 %, working windows and days off
steps = st.lists(
    st.one_of(st.integers(1, 120), st.integers(121, 6 * 3600), st.integers(6 * 3600, 4 * 86_400)),
    min_size=1, max_size=12,
)


def _check_table(table, rows, now):
    counts = dict.fromkeys(Light, 0)
    for case_id, spec in rows.items():
        expected = read_timer(spec, CAL, now)
        assert table.last_reading(case_id) == expected
        assert table.light(case_id) is expected.light
        assert table.ratio(case_id) == expected.ratio
        left = table.remaining_us(case_id)
        if spec is None:
            assert left is None and table.order_term(case_id) is None
        else:
            assert left / 60_000_000 == expected.remaining_minutes
        counts[expected.light] += 1
    assert table.light_counts() == counts
    assert table.paused_count == sum(1 for s in rows.values() if s is not None and s.paused_since is not None)
    assert table.ratios(list(rows)) == [read_timer(s, CAL, now).ratio for s in rows.values()]


@settings(deadline=None, max_examples=60)
@given(st.lists(st.one_of(st.none(), specs()), max_size=8), instants, steps)
def test_advancing_tick_table_agrees_with_read_timer_and_reports_light_changes(specs_, start, deltas):
    rows = dict(enumerate(specs_))
    table = TickTable(CAL, rows.items())
    assert table.advance(start).lights == []  # the first advance only places the rows
    _check_table(table, rows, start)
    now = start
    for seconds in deltas:
        before = {i: table.light(i) for i in rows}
        now += timedelta(seconds=seconds)
        changes = table.advance(now)
        _check_table(table, rows, now)
        assert sorted(changes.lights) == sorted(i for i in rows if table.light(i) is not before[i])


@settings(deadline=None, max_examples=40)
@given(st.lists(specs(), min_size=1, max_size=6), st.lists(instants, min_size=1, max_size=6))
def test_tick_table_survives_a_clock_going_backwards(specs_, times):
    rows = dict(enumerate(specs_))
    table = TickTable(CAL, rows.items())
    for now in times:  # in random order
        table.advance(now)
        _check_table(table, rows, now)


def test_rows_changed_between_ticks_are_placed_at_the_current_time():
    table = TickTable(CAL)
    now = datetime(2026, 11, 23, 9)
    table.advance(now)
    table.update(1, natural(100, started=now - timedelta(minutes=90)))
    assert table.light(1) is Light.YELLOW and table.light_counts()[Light.YELLOW] == 1
    changes = table.advance(now + timedelta(minutes=11))
    assert changes.lights == [1] and table.light(1) is Light.RED
    table.update(1, natural(100, started=now, paused_since=now))  # replaced: the old event is stale
    assert table.advance(now + timedelta(days=3)).lights == []
    assert table.paused_count == 1 and table.light(1) is Light.GREEN
    table.remove(1)
    assert table.light_counts()[Light.GREEN] == 0 and table.paused_count == 0


def test_advance_reports_a_start_that_was_ahead_as_a_reorder():
    now = datetime(2026, 11, 23, 9)
    table = TickTable(CAL, [(1, natural(60, started=now + timedelta(minutes=5)))])
    table.advance(now)
    assert table.order_term(1)[0] == "c"  # remaining stays at the limit until the start
    assert not table.advance(now + timedelta(minutes=4)).reordered
    assert table.advance(now + timedelta(minutes=6)).reordered
    assert table.order_term(1)[0] == "n"


def test_one_advance_computes_a_single_ordinal():
    cal = CountingCalendar()
    table = TickTable(cal, [(i, working(240 + i, started=FRIDAY + timedelta(minutes=i))) for i in range(50)])
    table.advance(datetime(2026, 11, 23, 9))
    cal.calls = 0
    table.advance(datetime(2026, 11, 23, 11))
    assert cal.calls == 1


def test_last_reading_needs_an_advance_first():
    table = TickTable(CAL, [(1, working(240))])
    with pytest.raises(RuntimeError, match="call advance"):
        table.last_reading(1)


def test_advance_changes_the_light_one_microsecond_past_the_threshold():
    table = TickTable(CAL, [(1, natural(100))])
    eighty = FRIDAY + timedelta(minutes=80)
    table.advance(eighty)
    assert table.light(1) is Light.GREEN
    assert table.advance(eighty + timedelta(microseconds=1)).lights == [1]
    assert table.light(1) is Light.YELLOW
    assert table.advance(FRIDAY + timedelta(minutes=100)).lights == []
    assert table.advance(FRIDAY + timedelta(minutes=100, microseconds=1)).lights == [1]
