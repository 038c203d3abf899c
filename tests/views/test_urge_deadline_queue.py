"""A 督办 deadline in the queue (issue 11, item 5): the row's light, remaining time, order and
alerts count to the leader's deadline when it is earlier than the computed one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from samples import case_row

from app.domain.cases import CaseSummary
from app.domain.definitions import Action, Light
from app.views.alerts import AlertCenter, AlertFeed
from app.views.queue_state import QueueState, SortKey

from .conftest import NOW


def urged(row: CaseSummary, due: datetime, level: int = 1) -> CaseSummary:
    """The row as the store reads it after an urge with a deadline (queries caps the handling timer)."""
    assert row.timer is not None
    return replace(row, urge_level=level, urge_count=row.urge_count + 1, urge_deadline_at=due,
                   timer=replace(row.timer, cap=due), version=row.version + 1)


def _rows():
    # 1: 50 of 100 minutes left; 2: 90 left by its limit, but the leader wants it in 20
    return [case_row(1, NOW, limit_minutes=100, started_minutes_ago=50),
            urged(case_row(2, NOW, limit_minutes=100, started_minutes_ago=10), NOW + timedelta(minutes=20))]


def test_a_capped_row_reads_to_the_urge_deadline(calendar):
    s = QueueState(calendar)
    s.reset(_rows(), NOW)
    r = s.reading(2)
    assert r is not None and r.capped and r.deadline == NOW + timedelta(minutes=20)
    assert (r.limit_minutes, r.remaining_minutes, r.light) == (30, 20, Light.GREEN)
    s.set_sort(SortKey.REMAINING)
    assert s.visible_ids == (2, 1)  # 20 minutes left before 50
    s.tick(NOW + timedelta(minutes=15))  # 25 of the 30 minutes to the cap: past 80 %
    assert (s.light(1), s.light(2)) == (Light.GREEN, Light.YELLOW)
    s.tick(NOW + timedelta(minutes=21))
    assert s.light(2) is Light.RED and s.reading(2).overdue and s.reading(2).remaining_minutes == -1
    assert s.light(1) is Light.GREEN  # 71 of 100
    assert "督办限时" in s.explain(2) and "督办限时" not in s.explain(1)


def test_an_urge_with_an_earlier_deadline_reorders_and_alerts(calendar):
    s = QueueState(calendar)
    s.reset([case_row(1, NOW, limit_minutes=100, started_minutes_ago=50),
             case_row(2, NOW, limit_minutes=100, started_minutes_ago=10)], NOW)
    s.set_sort(SortKey.REMAINING)
    center = AlertCenter(s)
    feed = AlertFeed(center)
    s.tick(NOW)  # baseline
    assert s.visible_ids == (1, 2)
    s.upsert(urged(s.summary(2), NOW + timedelta(minutes=2)), Action.URGE.value)
    assert s.visible_ids == (2, 1) and s.light(2) is Light.YELLOW  # 10 of 12 minutes used: past 80 %
    s.tick(NOW + timedelta(minutes=4))
    assert s.light(2) is Light.RED and s.light(1) is Light.GREEN
    assert ("red", 2) in [(e.alert.kind, e.alert.case_id) for e in feed.history]
    assert all(e.alert.case_id != 1 for e in feed.history)
    feed.teardown()
    center.teardown()


def test_a_later_urge_deadline_changes_nothing(calendar):
    plain = QueueState(calendar)
    plain.reset(_rows()[:1], NOW)
    late = QueueState(calendar)
    late.reset([urged(_rows()[0], NOW + timedelta(days=1))], NOW)
    assert late.reading(1) == plain.reading(1) and late.reading(1).deadline == NOW + timedelta(minutes=50)
