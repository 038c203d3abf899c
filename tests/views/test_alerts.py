"""Alerts that help (issue 10, item 6), Qt-free: rules, grouping, the rate limit, acknowledge,
history — with an injected clock, no waiting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from samples import case_row

from app.domain.definitions import Action
from app.i18n import Catalogue
from app.views.alerts import RULES_FILE, Alert, AlertCenter, AlertFeed, AlertRules, load_rules
from app.views.queue_state import QueueState

from .conftest import NOW


class Clock:
    """Monotonic seconds that only move when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _alert(i: int, kind: str = "red") -> Alert:
    return Alert(kind, i, f"S0601{i:04d}", f"超时（红灯）：S0601{i:04d}", NOW)


def test_45_alerts_in_five_minutes_change_the_banner_at_most_every_interval():
    clock = Clock()
    feed = AlertFeed(rules=AlertRules(interval_s=30), clock=clock)
    groups = []
    feed.events.banner.connect(groups.append)
    for i in range(45):  # one every 6.7 s for five minutes, polled as the GUI's timer would
        feed.push(_alert(i, "red" if i % 3 else "new"))
        clock.t += 300 / 45
        feed.poll()
    clock.t += 30
    feed.poll()  # the last ones are shown once the interval has passed
    assert feed.banner_changes <= 300 / 30 + 1  # ≤ 11 changes, not 45
    assert len(groups) == feed.banner_changes
    assert feed.pending == [] and len(feed.history) == 45 and feed.unacknowledged == 45
    assert sorted(i for g in groups for i in g.case_ids) == list(range(45))  # coalesced, none lost


def test_what_arrives_within_the_interval_is_one_group():
    clock = Clock()
    cat = Catalogue()
    feed = AlertFeed(catalogue=cat, rules=AlertRules(interval_s=20), clock=clock)
    groups = []
    feed.events.banner.connect(groups.append)
    assert feed.push(_alert(1)) is not None  # quiet before: shown at once
    for i in (2, 3, 4):
        assert feed.push(_alert(i)) is None  # within 20 s: waits
    feed.push(_alert(5, "new"))
    assert feed.due_in() == 20.0 and feed.poll() is None
    clock.t += 20
    group = feed.poll()
    assert group is not None and len(groups) == 2
    assert group.kind == "red" and group.case_id == 2 and group.case_ids == (2, 3, 4, 5)
    assert group.text.startswith("3 件案卷转红，1 件新上报案卷：") and "S06010002" in group.text
    assert feed.due_in() is None  # nothing waits
    en = AlertFeed(catalogue=Catalogue("en"), clock=clock)
    assert en.group_text(group.entries).startswith("3 cases turned red, 1 new reports: ")


def test_acknowledge_clears_the_group_shown_and_the_count_stays_visible():
    clock = Clock()
    feed = AlertFeed(rules=AlertRules(interval_s=10), clock=clock)
    feed.push(_alert(1))
    feed.push(_alert(2))
    feed.push(_alert(3))
    assert feed.unacknowledged == 3
    assert feed.acknowledge() == 1  # the shown group: alert 1 only
    assert feed.unacknowledged == 2 and feed.shown.acknowledged
    assert feed.acknowledge() == 0  # twice: nothing more
    clock.t += 10
    feed.poll()
    assert feed.shown.case_ids == (2, 3) and not feed.shown.acknowledged
    assert feed.acknowledge() == 2 and feed.unacknowledged == 0
    feed.push(_alert(4))
    assert feed.unacknowledged == 1 and feed.acknowledge_all() == 1 and feed.unacknowledged == 0


def test_history_keeps_time_and_case_newest_first_and_info_is_not_an_alert():
    clock = Clock()
    feed = AlertFeed(clock=clock)
    for i in range(3):
        feed.push(_alert(i))
    feed.push(Alert("info", None, "", "已派遣", NOW))  # the operator's own feedback: shown at once
    assert feed.shown.kind == "info" and feed.shown.text == "已派遣"
    assert [(e.alert.case_id, e.alert.at) for e in feed.history] == [(2, NOW), (1, NOW), (0, NOW)]
    assert feed.unacknowledged == 3


def test_rules_filter_kinds_categories_and_levels(calendar):
    rules = AlertRules(kinds=frozenset({"red", "new"}), categories=("0601",), levels=frozenset({"general"}))
    assert rules.accepts("red", "06010", "general")
    assert not rules.accepts("yellow", "06010", "general")
    assert not rules.accepts("red", "01002", "general")
    assert not rules.accepts("red", "06010", "urgent")
    assert rules.accepts("info")
    s = QueueState(calendar)
    s.reset([case_row(1, NOW, limit_minutes=100, started_minutes_ago=10),
             case_row(2, NOW, limit_minutes=100, started_minutes_ago=10, category=("01002", "井盖"))], NOW)
    center = AlertCenter(s, rules=rules)
    feed = AlertFeed(center)
    s.tick(NOW)  # baseline
    s.tick(NOW + timedelta(minutes=85))  # both yellow: not wanted
    s.tick(NOW + timedelta(minutes=200))  # both red: only the 0601 one
    s.upsert(case_row(3, NOW, limit_minutes=100, category=("01002", "井盖")), Action.REPORT.value)
    s.upsert(case_row(4, NOW, limit_minutes=100), Action.REPORT.value)
    assert [(e.alert.kind, e.alert.case_id) for e in reversed(feed.history)] == [("red", 1), ("new", 4)]
    feed.rules = AlertRules(kinds=frozenset())  # nothing at all (an analyst)
    assert center.rules.kinds == frozenset()
    s.upsert(case_row(5, NOW, limit_minutes=100), Action.REPORT.value)
    assert len(feed.history) == 2
    feed.teardown()
    center.teardown()


def test_rules_load_per_role_with_user_overrides():
    assert RULES_FILE.exists()
    base, problems = load_rules(None)
    assert problems == [] and base.kinds == {"red", "yellow", "new"} and base.interval_s == 20
    acceptor, _ = load_rules("acceptor")
    assert acceptor.kinds == {"new", "task"} and acceptor.sound == {"new", "task"} and acceptor.interval_s == 20
    leader, _ = load_rules("leader")
    assert leader.kinds == {"red"} and leader.interval_s == 60 and leader.sound == frozenset()
    mine, problems = load_rules("dispatcher", {"interval_s": 45, "categories": ["06"]})
    assert problems == [] and mine.interval_s == 45 and mine.categories == ("06",)
    assert AlertRules.from_mapping(mine.to_mapping())[0] == mine


def test_bad_rules_are_named_and_the_rest_kept(tmp_path: Path):
    cat = Catalogue()
    rules, problems = load_rules("dispatcher", {"kinds": ["red", "purple"], "interval_s": 0, "colour": 1})
    assert rules.kinds == {"red", "yellow", "new"} and rules.interval_s == 20  # the file's, untouched
    texts = [cat.tr(p) for p in problems]
    assert len(texts) == 3 and any("purple" in t for t in texts) and any("colour" in t for t in texts)
    broken = tmp_path / "alerts.toml"
    broken.write_text("[default\nkinds = 1", encoding="utf-8")
    rules, problems = load_rules("dispatcher", path=broken)
    assert rules == AlertRules() and len(problems) == 1 and "无法读取" in cat.tr(problems[0])
    rules, problems = load_rules(None, path=tmp_path / "missing.toml")
    assert rules == AlertRules() and "不存在" in cat.tr(problems[0])
    assert "Traceback" not in Catalogue("en").tr(problems[0])
