"""AlertCenter: cases that join the queue after the start are alerted like the first ones."""

from __future__ import annotations

from datetime import timedelta

from samples import case_row

from app.domain.definitions import Action
from app.ui.work.alerts import AlertCenter
from app.views.events import Signal, Subscriptions
from app.views.queue_state import QueueState

from ..conftest import NOW


def _kinds(center: AlertCenter) -> list[tuple[str, int]]:
    return [(a.kind, a.case_id) for a in reversed(center.alerts)]


def test_a_case_upserted_later_is_alerted_when_it_turns_yellow_then_red(calendar):
    s = QueueState(calendar)
    s.reset([case_row(1, NOW, limit_minutes=1000, started_minutes_ago=10)], NOW)
    center = AlertCenter(s)
    s.tick(NOW)  # baseline
    s.upsert(case_row(2, NOW, limit_minutes=100, started_minutes_ago=70), Action.REPORT.value)
    s.upsert(case_row(3, NOW, limit_minutes=100, started_minutes_ago=50), Action.DISPATCH.value)
    s.tick(NOW + timedelta(minutes=15))  # 2 at 85 % (yellow); 3 at 65 %
    s.tick(NOW + timedelta(minutes=55))  # 2 at 125 %, 3 at 105 %: both red
    kinds = _kinds(center)
    assert kinds[:2] == [("new", 2), ("yellow", 2)] and sorted(kinds[2:]) == [("red", 2), ("red", 3)]
    center.teardown()


def test_a_case_arriving_by_a_reload_is_alerted_when_it_turns_red(calendar):
    s = QueueState(calendar)
    first = case_row(1, NOW, limit_minutes=1000, started_minutes_ago=10)
    s.reset([first], NOW)
    center = AlertCenter(s)
    s.tick(NOW)
    s.reset([first, case_row(4, NOW, limit_minutes=100, started_minutes_ago=10)], NOW)  # a resync
    s.tick(NOW + timedelta(minutes=120))
    assert _kinds(center) == [("red", 4)]
    center.teardown()
    s.upsert(case_row(5, NOW, limit_minutes=100), Action.REPORT.value)
    assert len(center.alerts) == 1  # torn down: no longer listening


def test_subscriptions_disconnect_everything_once():
    sig, calls, undone = Signal("s"), [], []
    subs = Subscriptions()
    subs.connect(sig, calls.append)
    subs.add(lambda: undone.append(True))
    sig.emit(1)
    subs.close()
    subs.close()
    sig.emit(2)
    assert calls == [1] and undone == [True] and len(subs) == 0 and len(sig) == 0
