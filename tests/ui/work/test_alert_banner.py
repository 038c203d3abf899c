"""The alert strip (issue 10, item 6) with qtbot: a calm banner under a burst, grouping,
acknowledge by button and key, the history (click selects the case), rules from the settings
and the rules dialog, both languages."""

from __future__ import annotations

from datetime import timedelta

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialog, QWidget
from samples import case_row

from app.domain.definitions import Action
from app.i18n import Catalogue
from app.ui.work.alerts import ACK_SHORTCUT, AlertBanner, AlertRulesDialog, rules_key
from app.ui.work.install import ALERTS_DOCK
from app.views.alerts import AlertCenter, AlertRules
from app.views.queue_state import QueueState

from ..conftest import NOW
from .helpers import desk_window


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _desk(qtbot, calendar, n=45, **kw):
    state = QueueState(calendar)
    state.reset([case_row(i, NOW, limit_minutes=100, started_minutes_ago=10) for i in range(1, 4)], NOW)
    center = AlertCenter(state, kw.pop("catalogue", None))
    clock = Clock()
    flashes = []
    banner = AlertBanner(center, state, center.cat, status=lambda text, ms: flashes.append(text), clock=clock, **kw)
    qtbot.addWidget(banner)
    state.tick(NOW)  # the baseline
    return state, center, banner, clock, flashes


def _report(state, i):
    state.upsert(case_row(i, NOW, limit_minutes=100), Action.REPORT.value)


def test_a_burst_of_45_in_five_minutes_changes_the_banner_a_few_times(qtbot, calendar):
    state, center, banner, clock, flashes = _desk(qtbot, calendar, rules=AlertRules(interval_s=30))
    headlines = []
    for i in range(100, 145):  # 45 new reports, one every 6.7 s
        _report(state, i)
        clock.t += 300 / 45
        banner.poll()  # what the banner's timer does when the interval has passed
        if not headlines or headlines[-1] != banner.headline.text():
            headlines.append(banner.headline.text())
    clock.t += 30
    banner.poll()
    assert len(center.alerts) == 45 and len(banner.feed.history) == 45
    assert banner.feed.banner_changes <= 11 and len(flashes) == banner.feed.banner_changes
    assert any(t.endswith("等") or "件新上报案卷" in t for t in headlines)  # grouped: "n 件新上报案卷：…"
    assert banner.unacked.text() == "未确认 45"
    assert banner.history_button.text() == "历史 (45)"
    banner.teardown()
    center.teardown()


def test_acknowledge_by_button_and_key_and_the_count_stays(qtbot, calendar):
    state, center, banner, clock, _ = _desk(qtbot, calendar, rules=AlertRules(interval_s=10))
    host = QWidget()
    qtbot.addWidget(host)
    banner.setParent(host)
    host.show()
    qtbot.waitExposed(host)
    _report(state, 10)
    _report(state, 11)
    _report(state, 12)
    assert banner.headline.property("kind") == "new" and banner.unacked.text() == "未确认 3"
    qtbot.mouseClick(banner.ack_button, Qt.MouseButton.LeftButton)
    assert banner.unacked.text() == "未确认 2" and not banner.ack_button.isEnabled()
    clock.t += 10
    banner.poll()
    assert "2 件新上报案卷" in banner.headline.text() and banner.ack_button.isEnabled()
    banner.acknowledge()  # what the window's 确认提醒 action (Ctrl+K) calls
    assert banner.unacked.text() == "" and banner.feed.unacknowledged == 0
    banner.teardown()
    center.teardown()


def test_history_lists_time_and_case_and_a_click_selects_it(qtbot, calendar):
    state, center, banner, clock, _ = _desk(qtbot, calendar)
    state.tick(NOW + timedelta(minutes=200))  # the three cases turn red in one tick
    banner.history_button.setChecked(True)
    assert banner.list.count() == 3
    item = banner.list.item(2)
    assert item.text().startswith(f"{NOW + timedelta(minutes=200):%H:%M:%S}") and "超时" in item.text()
    assert item.font().bold()  # not acknowledged yet
    banner.list.itemClicked.emit(item)
    assert state.selected_id == item.data(Qt.ItemDataRole.UserRole)
    banner.select_shown()
    assert state.selected_id == banner.feed.shown.case_id
    banner.acknowledge()  # the group shown: the first of the three (the others wait for the interval)
    assert not banner.list.item(2).font().bold() and banner.list.item(0).font().bold()
    banner.teardown()
    center.teardown()


def test_rules_come_from_the_role_and_the_users_settings(qtbot, calendar, settings):
    settings.setValue(rules_key("zhang"), '{"kinds": ["red"], "interval_s": 40}')
    state, center, banner, clock, _ = _desk(qtbot, calendar, settings=settings, user="zhang", role="acceptor")
    assert banner.rules.kinds == {"red"} and banner.rules.interval_s == 40 and banner.rules.sound == {"new", "task"}
    _report(state, 20)
    assert banner.feed.history == []  # the user's own rules: no new-report alerts
    other = AlertBanner(AlertCenter(state), state, settings=settings, user="li", role="acceptor")
    qtbot.addWidget(other)
    assert other.rules.kinds == {"new", "task"} and other.problems == []  # another user: the role's defaults
    settings.setValue(rules_key("wang"), "{broken")
    broken = AlertBanner(AlertCenter(state), state, settings=settings, user="wang", role="dispatcher")
    qtbot.addWidget(broken)
    assert broken.problems == ["个人提醒规则已损坏，已忽略"] and broken.rules.kinds == {"red", "yellow", "new"}
    for b in (banner, other, broken):
        b.teardown()
    center.teardown()


def test_the_rules_dialog_edits_and_saves_per_user(qtbot, calendar, settings, monkeypatch):
    state, center, banner, clock, _ = _desk(qtbot, calendar, settings=settings, user="zhang", role="dispatcher")
    dialog = AlertRulesDialog(banner.rules)
    qtbot.addWidget(dialog)
    dialog.kind_boxes["yellow"].setChecked(False)
    dialog.sound_boxes["new"].setChecked(True)
    dialog.categories.setText("06, 0101，<b>")
    dialog.level_boxes["engineering"].setChecked(False)
    dialog.interval.setValue(45)
    rules = dialog.rules()
    assert rules == AlertRules(kinds=frozenset({"red", "new"}), categories=("0101", "06"),
                               levels=frozenset({"general", "urgent"}), sound=frozenset({"red", "new"}),
                               interval_s=45.0)
    monkeypatch.setattr(AlertRulesDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(AlertRulesDialog, "rules", lambda self: rules)
    banner.edit_rules()
    assert banner.rules == rules and center.rules == rules
    again = AlertBanner(AlertCenter(state), state, settings=settings, user="zhang", role="dispatcher")
    qtbot.addWidget(again)
    assert again.rules == rules  # kept for this user
    again.reset_rules()
    assert again.rules.kinds == {"red", "yellow", "new"} and not settings.contains(rules_key("zhang"))
    banner.teardown()
    again.teardown()
    center.teardown()


def test_english(qtbot, calendar):
    state, center, banner, clock, _ = _desk(qtbot, calendar, catalogue=Catalogue("en"))
    assert banner.ack_button.text() == "Acknowledge" and banner.rules_button.text() == "Rules…"
    _report(state, 30)
    assert banner.unacked.text() == "1 unacknowledged"
    dialog = AlertRulesDialog(banner.rules, Catalogue("en"))
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Alert rules"
    banner.teardown()
    center.teardown()


def test_the_window_has_an_acknowledge_action_on_ctrl_k(qtbot, tmp_path, queue, runner, desk, login_as):
    from app.domain.definitions import Role

    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made):
        action = window.action_registry.action("gridhall.desk.ack_alert")
        assert action.shortcut().toString() == ACK_SHORTCUT
        banner = made.widgets[ALERTS_DOCK]
        assert banner.role == "dispatcher" and banner.rules.kinds == {"red", "yellow", "new"}
        queue.tick(queue.now)  # baseline
        queue.upsert(queue.rows[0], Action.REPORT.value)
        assert banner.feed.unacknowledged == 1
        action.trigger()
        assert banner.feed.unacknowledged == 0 and banner.unacked.text() == ""
