"""A 督办 deadline caps the running timer (issue 11, item 5): deadline, lights, remaining time,
the explanation and the queue's tick table all count to the earlier of the computed deadline
and the leader's deadline.

The rule: the effective limit is the counted time (on the timer's own clock, finished pauses
excluded) from the start to the effective deadline; green up to 80 % of it, yellow up to 100 %,
red after; remaining time counts to the effective deadline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.deadlines import computed_deadline, deadline, explain, read_timer, urge_cap
from app.domain.definitions import Basis, Light, Stage
from app.domain.ticktable import TickTable
from app.i18n.catalogue import Catalogue
from domain.test_deadlines import CAL, FRIDAY, _check_table, instants, natural, specs, steps, working

MONDAY = datetime(2026, 11, 23)  # FRIDAY 16:30 + 240 working minutes = Monday 10:30 (08–12, 14–18)


def test_only_the_handling_stage_is_capped():
    due = datetime(2026, 12, 8, 10)
    assert urge_cap(Stage.HANDLE, due) == due
    assert all(urge_cap(s, due) is None for s in Stage if s is not Stage.HANDLE)
    assert urge_cap(None, due) is None and urge_cap(Stage.HANDLE, None) is None


# ---------------------------------------------------------------- natural time


@pytest.mark.parametrize(("after", "light", "remaining"), [
    (timedelta(minutes=40), Light.GREEN, 10),  # exactly 80 % of the 50 minutes to the cap
    (timedelta(minutes=40, microseconds=1), Light.YELLOW, None),
    (timedelta(minutes=50), Light.YELLOW, 0),  # exactly at the cap
    (timedelta(minutes=51), Light.RED, -1),  # the limit (100 min) is far away, the cap is not
])
def test_an_earlier_cap_shortens_a_natural_timer(after, light, remaining):
    spec = natural(100, cap=FRIDAY + timedelta(minutes=50))
    r = read_timer(spec, CAL, FRIDAY + after)
    assert r.light is light and r.capped
    assert r.limit_minutes == 50 and r.deadline == FRIDAY + timedelta(minutes=50)
    if remaining is not None:
        assert r.remaining_minutes == remaining and r.overdue == (remaining < 0)
    assert computed_deadline(spec, CAL) == FRIDAY + timedelta(minutes=100)


def test_a_later_cap_changes_nothing():
    plain, capped = natural(100), natural(100, cap=FRIDAY + timedelta(minutes=101))
    for minutes in (10, 81, 100, 130):
        now = FRIDAY + timedelta(minutes=minutes)
        assert read_timer(capped, CAL, now) == read_timer(plain, CAL, now)
    assert deadline(capped, CAL) == deadline(plain, CAL) == FRIDAY + timedelta(minutes=100)
    at_limit = natural(100, cap=FRIDAY + timedelta(minutes=100))  # equal: the computed one stands
    assert read_timer(at_limit, CAL, FRIDAY).capped is False


def test_a_cap_before_the_start_leaves_no_time():
    spec = natural(60, cap=FRIDAY - timedelta(minutes=30))
    r = read_timer(spec, CAL, FRIDAY)
    assert (r.light, r.overdue, r.remaining_minutes, r.deadline) == (Light.RED, True, -30, FRIDAY - timedelta(minutes=30))
    assert "督办限时早于计时开始" in explain(spec, CAL, FRIDAY + timedelta(minutes=5))


# ---------------------------------------------------------------- working time


def test_a_cap_on_a_working_timer_counts_working_time_to_it():
    spec = working(240, cap=MONDAY.replace(hour=9))  # 90 min on Friday + 60 on Monday = 150
    assert deadline(spec, CAL) == MONDAY.replace(hour=9)
    assert computed_deadline(spec, CAL) == MONDAY.replace(hour=10, minute=30)
    green = read_timer(spec, CAL, MONDAY.replace(hour=8, minute=30))  # 120 of 150 = 80 %
    assert (green.light, green.limit_minutes, green.remaining_minutes, green.ratio) == (Light.GREEN, 150, 30, 0.8)
    assert read_timer(spec, CAL, MONDAY.replace(hour=8, minute=31)).light is Light.YELLOW
    assert read_timer(spec, CAL, MONDAY.replace(hour=9)).light is Light.YELLOW
    late = read_timer(spec, CAL, MONDAY.replace(hour=9, minute=10))
    assert (late.light, late.remaining_minutes, late.overdue) == (Light.RED, -10, True)


def test_a_cap_outside_working_hours_counts_from_the_end_of_the_last_working_period():
    saturday = datetime(2026, 11, 21, 10)
    spec = working(240, cap=saturday)  # the working clock stops at Friday 18:00: 90 minutes
    assert deadline(spec, CAL) == saturday  # the deadline shown is the leader's
    r = read_timer(spec, CAL, datetime(2026, 11, 21, 12))
    assert (r.limit_minutes, r.remaining_minutes, r.light) == (90, 0, Light.YELLOW)
    assert read_timer(spec, CAL, MONDAY.replace(hour=8, minute=1)).light is Light.RED  # red from the next working minute


def test_a_pause_freezes_the_capped_reading_and_does_not_move_the_cap():
    cap = MONDAY.replace(hour=10)
    paused = working(240, cap=cap, paused_since=MONDAY.replace(hour=9))  # 90 Fri + 60 Mon used
    r = read_timer(paused, CAL, MONDAY.replace(hour=9, minute=30))
    # 210 working minutes from the start to the cap, 150 of them used: frozen while paused
    assert (r.paused, r.deadline, r.limit_minutes, r.remaining_minutes, r.light) == (True, None, 210, 60, Light.GREEN)
    assert read_timer(paused, CAL, MONDAY.replace(hour=17)) == r
    assert deadline(paused, CAL) is None
    text = explain(paused, CAL, MONDAY.replace(hour=11))
    assert "督办限时 11月23日 10:00 已过（不因缓办/挂账顺延）" in text and "截止时间待恢复计时后重新计算" in text
    assert "督办限时 11月23日 10:00（不因缓办/挂账顺延）" in explain(paused, CAL, MONDAY.replace(hour=9, minute=30))
    # resumed at 11:00 after 120 paused minutes: the computed deadline moves to 14:30, the cap stays
    resumed = working(240, cap=cap, paused_minutes=120)
    assert computed_deadline(resumed, CAL) == MONDAY.replace(hour=14, minute=30)
    assert deadline(resumed, CAL) == cap
    r = read_timer(resumed, CAL, MONDAY.replace(hour=11))
    assert (r.limit_minutes, r.elapsed_minutes, r.remaining_minutes, r.light) == (90, 150, -60, Light.RED)


# ---------------------------------------------------------------- explanation


def test_the_explanation_names_the_urge_deadline_and_the_one_it_replaces():
    spec = working(240, cap=MONDAY.replace(hour=9))
    now = MONDAY.replace(hour=8, minute=30)
    text = explain(spec, CAL, now)
    assert "督办限时 11月23日 09:00（早于原处置时限 11月23日 10:30）" in text
    assert "截止 11月23日 09:00" in text and "截止 11月23日 10:30" not in text
    assert "已用 2小时（按督办限时 80%），剩余 30分，绿灯。" in text
    english = Catalogue("en").text(explain(spec, CAL, now))
    assert "urged deadline 11/23 09:00 (earlier than the Handling time limit's 11/23 10:30)" in english
    assert "due 11/23 09:00" in english and "(80% of the time to the urged deadline)" in english
    later = explain(working(240, cap=MONDAY.replace(hour=11)), CAL, now)
    assert "督办限时 11月23日 11:00（不早于处置时限，截止时间不变）" in later and "截止 11月23日 10:30" in later


# ---------------------------------------------------------------- tick table


def test_the_tick_table_turns_a_capped_row_at_the_cap():
    start = datetime(2026, 11, 23, 9)
    table = TickTable(CAL, [(1, natural(100, started=start, cap=start + timedelta(minutes=50))),
                            (2, natural(100, started=start))])
    table.advance(start + timedelta(minutes=40))
    assert (table.light(1), table.light(2)) == (Light.GREEN, Light.GREEN)
    assert table.advance(start + timedelta(minutes=40, microseconds=1)).lights == [1]
    assert table.remaining_us(1) == 10 * 60_000_000 - 1
    changes = table.advance(start + timedelta(minutes=50, microseconds=1))
    assert changes.lights == [1] and table.light(1) is Light.RED and table.last_reading(1).overdue
    assert table.order_term(1) == ("n", table.order_term(2)[1] - 50 * 60_000_000)  # ordered by the cap
    table.update(1, natural(100, started=start))  # the cap lifted (another stage): back to the limit
    assert table.light(1) is Light.GREEN and not table.last_reading(1).capped


@st.composite
def capped_specs(draw):
    spec = draw(specs())
    cap = draw(st.one_of(st.none(), instants,
                         st.integers(-600, 6000).map(lambda m: spec.started_at + timedelta(minutes=m))))
    return replace(spec, stage=Stage.HANDLE, cap=cap)


@settings(deadline=None, max_examples=80)
@given(st.lists(st.one_of(st.none(), capped_specs()), max_size=8), instants, steps)
def test_advancing_tick_table_agrees_with_read_timer_with_caps(specs_, start, deltas):
    rows = dict(enumerate(specs_))
    table = TickTable(CAL, rows.items())
    assert table.advance(start).lights == []
    _check_table(table, rows, start)
    now = start
    for seconds in deltas:
        before = {i: table.light(i) for i in rows}
        now += timedelta(seconds=seconds)
        changes = table.advance(now)
        _check_table(table, rows, now)
        assert sorted(changes.lights) == sorted(i for i in rows if table.light(i) is not before[i])


@settings(deadline=None)
@given(capped_specs(), instants)
def test_a_capped_reading_is_consistent(spec, now):
    r = read_timer(spec, CAL, now)
    uncapped = read_timer(replace(spec, cap=None), CAL, now)
    assert r.remaining_minutes == pytest.approx(r.limit_minutes - r.elapsed_minutes, abs=1e-9)
    assert r.overdue == (r.remaining_minutes < 0)
    assert r.remaining_minutes <= uncapped.remaining_minutes and r.elapsed_minutes == uncapped.elapsed_minutes
    assert r.light.value in {uncapped.light.value, "yellow", "red"}  # a cap never makes a light better
    due = computed_deadline(spec, CAL)
    if due is not None:
        assert r.capped == (spec.cap is not None and spec.cap < due)  # the store's rule (cases.deadline_at)
        assert r.deadline == (min(due, spec.cap) if spec.cap is not None else due)
        if now >= r.deadline:
            assert r.remaining_minutes <= 0
        # off-hours caps sit on the working clock; before the (pause-shifted) start nothing is used
        if (spec.basis is Basis.NATURAL or not r.capped) and r.elapsed_minutes > 0:
            assert (now >= r.deadline) == (r.remaining_minutes <= 0)
    if not r.capped:
        assert replace(r, capped=False) == uncapped
