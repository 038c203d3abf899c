"""The administrator's stored alert rules (config_values 'alerts', issue 12 item 5) lie between the
shipped file and the user's own rules."""

from __future__ import annotations

from app.views.alerts import load_rules


def test_the_stored_rules_override_the_file_and_the_user_overrides_them():
    shipped, _ = load_rules("dispatcher")
    stored = {"default": {"interval_s": 7}, "roles": {"dispatcher": {"kinds": ["red"]}, "leader": {"kinds": ["new"]}}}
    rules, problems = load_rules("dispatcher", stored=stored)
    assert problems == [] and rules.kinds == frozenset({"red"}) and rules.interval_s == 7
    assert rules.sound == shipped.sound  # what the stored rules leave out stays the file's
    mine, _ = load_rules("dispatcher", {"kinds": ["red", "yellow"]}, stored=stored)
    assert mine.kinds == frozenset({"red", "yellow"}) and mine.interval_s == 7
    other, _ = load_rules("acceptor", stored=stored)
    assert other.interval_s == 7 and other.kinds == load_rules("acceptor")[0].kinds
