"""Overdue supervisors' tasks alert the acceptor (issue 11, item 4), Qt-free: a case in 核实中/核查中
turning red is a "task" alert for the acceptor's rules, a plain "red" one for a dispatcher's; the
feed groups and rate-limits them like any other alert."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from samples import case_row

from app.domain.definitions import CaseState
from app.i18n import Catalogue
from app.views.alerts import AlertCenter, AlertFeed, load_rules
from app.views.queue_state import QueueState

from .conftest import NOW


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _queue(calendar) -> QueueState:
    s = QueueState(calendar)
    s.reset([replace(case_row(1, NOW, limit_minutes=60, started_minutes_ago=10), state=CaseState.VERIFYING),
             replace(case_row(2, NOW, limit_minutes=60, started_minutes_ago=10), state=CaseState.CHECKING),
             case_row(3, NOW, limit_minutes=60, started_minutes_ago=10)], NOW)  # 处置中: the dispatchers'
    return s


def test_an_overdue_verify_or_check_task_alerts_the_acceptor(calendar):
    s = _queue(calendar)
    rules, problems = load_rules("acceptor")
    assert problems == [] and "task" in rules.kinds and "task" in rules.sound
    clock = Clock()
    center = AlertCenter(s, Catalogue(), rules)
    feed = AlertFeed(center, clock=clock)
    s.tick(NOW)  # baseline
    s.tick(NOW + timedelta(minutes=45))  # yellow: the acceptor does not get yellow
    assert feed.history == []
    s.tick(NOW + timedelta(minutes=61))  # all three red: only the two tasks reach the acceptor
    kinds = [(e.alert.kind, e.alert.case_id) for e in reversed(feed.history)]
    assert kinds == [("task", 1), ("task", 2)]
    texts = [e.alert.text for e in reversed(feed.history)]
    assert texts[0].startswith("核实任务超时（红灯）：") and texts[1].startswith("核查任务超时（红灯）：")
    # the first is shown at once with a beep, the second waits for the interval and comes alone
    assert feed.shown.kind == "task" and feed.shown.beep and feed.shown.case_id == 1
    clock.t += rules.interval_s
    group = feed.poll()
    assert group is not None and group.case_ids == (2,) and feed.unacknowledged == 2
    feed.teardown()
    center.teardown()


def test_tasks_going_red_together_are_one_group_in_either_language(calendar):
    s = QueueState(calendar)
    s.reset([replace(case_row(i, NOW, limit_minutes=60, started_minutes_ago=10), state=CaseState.VERIFYING)
             for i in range(1, 6)], NOW)
    rules, _ = load_rules("acceptor")
    center = AlertCenter(s, Catalogue(), rules)
    feed = AlertFeed(center, clock=Clock())
    s.tick(NOW)
    s.tick(NOW + timedelta(minutes=61))
    [entry] = feed.history  # five at once: one grouped alert
    assert entry.alert.kind == "task" and entry.alert.case_ids == (1, 2, 3, 4, 5)
    assert feed.group_text([entry, entry]).startswith("5 件核实/核查任务超时")
    en = AlertFeed(catalogue=Catalogue("en"), clock=Clock())
    assert "task" in en.group_text([entry, entry]).lower()
    feed.teardown()
    center.teardown()


def test_a_dispatcher_gets_a_red_task_as_a_plain_red_alert(calendar):
    s = _queue(calendar)
    rules, _ = load_rules("dispatcher")
    assert "task" not in rules.kinds
    center = AlertCenter(s, Catalogue(), rules)
    feed = AlertFeed(center, clock=Clock())
    s.tick(NOW)
    s.tick(NOW + timedelta(minutes=61))
    assert sorted((e.alert.kind, e.alert.case_id) for e in feed.history) == [("red", 1), ("red", 2), ("red", 3)]
    feed.teardown()
    center.teardown()
