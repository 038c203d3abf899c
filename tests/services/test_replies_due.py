"""Replies to the public (两次回复, issue 16 item 5): owed replies derived from the case events, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services import replies
from app.services.cases import CaseSettings
from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.store.replies import latest_reply_text
from services.loop_steps import closed, handling
from services.world import draft, service, verified


def _filed(svc, world, source="public", **kw):
    a = world.actors
    r = svc.report(a["acceptor"], draft(source=source, reporter_name="市民甲", reporter_phone="13800000000", **kw))
    r = verified(svc, world, r)
    return svc.file(a["leader_shift"], r.case.id, r.version)


def test_a_filed_public_report_owes_one_reply_with_its_text_and_due_time(svc, world, store, clock):
    r = _filed(svc, world)
    owed = replies.due_replies(store)
    assert [(d.case_id, d.after, d.channel) for d in owed] == [(r.case.id, "file", "public")]
    due = owed[0]
    assert due.text.startswith("您好！") and "已立案" in due.text and r.case.number in due.text
    assert due.due_at == due.at + replies.REPLY_WITHIN
    assert not due.overdue(clock.now()) and due.overdue(clock.now() + timedelta(days=2))
    assert (due.reporter_name, due.reporter_phone) == ("市民甲", "13800000000")
    with store.session() as s:
        assert latest_reply_text(s, r.case.id) == due.text


def test_reports_of_other_sources_owe_nothing(svc, world, store):
    a = world.actors
    r = svc.report(a["supervisor"], draft(source="supervisor"))
    svc.file(a["leader_shift"], r.case.id, r.version)
    assert replies.due_replies(store) == []
    with store.session() as s:
        assert latest_reply_text(s, r.case.id) is None


def test_a_closed_hotline_case_owes_the_filing_and_the_closing_reply(svc, world, store, clock):
    r = closed(svc, world, clock, source="hotline")
    owed = replies.due_replies(store)
    assert [(d.after, d.channel) for d in owed] == [("file", "hotline"), ("close", "hotline")]
    assert "已处置完毕" in owed[1].text and owed[1].case_id == r.case.id
    assert replies.due_replies(store, channel="platform") == []


def test_marking_a_reply_done_records_who_and_when_once(svc, world, store, clock):
    r = _filed(svc, world, source="hotline")
    event_id = replies.due_replies(store)[0].event_id
    a = world.actors
    record = replies.mark_done(store, a["acceptor"], event_id, clock.now(), note="已电话告知")
    assert record > 0
    assert replies.due_replies(store) == []
    done = replies.delivered(store)
    assert [(d["number"], d["event_id"], d["done_by"], d["note"], d["channel"]) for d in done] == [
        (r.case.number, event_id, "acceptor", "已电话告知", "hotline")]
    assert done[0]["done_at"] == clock.now()
    with pytest.raises(ValidationError, match="已登记过"):
        replies.mark_done(store, a["leader_shift"], event_id, clock.now())


def test_refusals_of_mark_done(svc, world, store, clock):
    r = _filed(svc, world)
    event_id = replies.due_replies(store)[0].event_id
    a = world.actors
    with pytest.raises(PermissionDenied):
        replies.mark_done(store, a["dispatcher"], event_id, clock.now())
    with pytest.raises(NotFound):
        replies.mark_done(store, a["acceptor"], 10_000_000, clock.now())
    with store.session() as s:  # the report event owes no reply
        from sqlalchemy import select

        from app.store.models import CaseEvent
        first_event = s.scalar(select(CaseEvent.id).where(CaseEvent.case_id == r.case.id, CaseEvent.seq == 1))
    with pytest.raises(ValidationError, match="不需要回复"):
        replies.mark_done(store, a["acceptor"], first_event, clock.now())
    assert len(replies.due_replies(store)) == 1  # nothing was written


def test_a_reply_is_owed_even_when_no_reply_event_was_written(store, world, clock):
    """Derived from the 立案 event itself: automatic replies switched off (SpatiaLite) lose nothing."""
    svc = service(store, clock, settings=CaseSettings(auto_reply=False))
    r = _filed(svc, world)
    owed = replies.due_replies(store)
    assert [(d.case_id, d.after) for d in owed] == [(r.case.id, "file")]
    assert r.case.number in owed[0].text and "已立案" in owed[0].text


def test_every_filing_and_closing_is_owed_until_delivered(svc, world, store, clock):
    cases = [handling(svc, world, clock, source=s).case.id for s in ("public", "hotline", "supervisor")]
    owed = replies.due_replies(store)
    assert sorted(d.case_id for d in owed) == sorted(cases[:2])
    for d in owed:
        replies.mark_done(store, world.actors["acceptor"], d.event_id, clock.now())
    assert replies.due_replies(store) == []
    assert len(replies.delivered(store)) == 2


def test_the_reply_texts_have_english_with_the_same_placeholders():
    from string import Formatter

    from app.i18n import Catalogue, english_missing

    assert english_missing([*replies.TEMPLATES.values(), replies.DEFAULT_REASON]) == []
    en = Catalogue("en")
    for template in replies.TEMPLATES.values():
        names = {f for _, f, _, _ in Formatter().parse(template) if f}
        assert {f for _, f, _, _ in Formatter().parse(en.tr(template)) if f} == names
