"""Replies to public and hotline reporters (两次回复): one when the case is filed, one when closed.

The texts are written as ``reply`` case events in the operation's own transaction (app.services.core
on SpatiaLite, migration 0006's trigger on PostGIS). Whether a reply reached the reporter is the
``public_replies`` table (migration 0023): a reply is due for every 立案/结案 event of a public or
hotline case without a row there (:func:`due_replies`, derived from the events alone); the desk
records a call-back or text with :func:`mark_done`, ``gridhall exchange push`` records the replies it
delivered to an upper platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.definitions import Action, Role, Source
from app.domain.derived import DEFAULT_REASON, REPLY_SOURCES, TEMPLATES
from app.domain.messages import Msg
from app.services.actors import Actor
from app.services.intake import clean_text
from app.store import replies as stored
from app.store.engine import Store
from app.store.models import Case, CaseEvent, Category


def needs_reply(source: Source | str, action: Action) -> bool:
    """Whether ``action`` on a case from ``source`` triggers an automatic reply."""
    return Source(source) in REPLY_SOURCES and action in TEMPLATES


def reply_text(action: Action, *, number: str, category: str, reported_at: date | None = None, reason: str | None = None,
               original: str | None = None) -> str:
    """The reply to send after ``action`` (Chinese, ready to read out or text)."""
    when = f"于{reported_at.month}月{reported_at.day}日" if reported_at is not None else ""
    return TEMPLATES[action].format(when=when, category=category, number=number, reason=reason or DEFAULT_REASON,
                                     original=original or "")


def reply_payload(text: str, after: Action, caused_by: str) -> dict[str, object]:
    """The payload of an automatic reply event: its text, the action and the user that caused it."""
    return {"text": text, "auto": True, "after": after.value, "caused_by": caused_by}


# --- due replies and their delivery (issue 16, item 5) -----------------------------------------

#: The events whose reporter is owed a reply (两次回复: when the report is filed and when it is closed).
DUE_AFTER = (Action.FILE, Action.CLOSE)
#: How long after the event the reply is due (natural time; a hotline operator calls back or texts).
REPLY_WITHIN = timedelta(hours=24)
#: Who may record a reply as delivered (the desk: 受理员 and 值班长) — and the exchange's account.
DELIVERERS = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER})
#: Channels: how the reporter gets the reply.
CHANNELS = {
    "hotline": Msg("热线回电/短信"),  # the desk calls back or texts
    "public": Msg("公众渠道（回电/短信）"),  # a public report taken at the desk
    "platform": Msg("上级平台（推送状态）"),  # gridhall exchange push delivers it
}


@dataclass(frozen=True)
class DueReply:
    """A reply owed to a reporter: the 立案/结案 event it answers, its text, when it is due, the channel."""

    case_id: int
    number: str
    event_id: int
    after: str  # file | close
    at: datetime
    due_at: datetime
    text: str
    channel: str
    reporter_name: str | None
    reporter_phone: str | None
    remote_id: str | None = None
    category: str = ""
    reported_at: datetime | None = None

    def template_values(self) -> dict[str, str]:
        """The placeholders of the reply's template (``TEMPLATES``), for showing it in another language."""
        when = f"于{self.reported_at.month}月{self.reported_at.day}日" if self.reported_at is not None else ""
        return {"when": when, "category": self.category, "number": self.number}

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at

    def record(self, now: datetime) -> dict[str, object]:
        return {"case_id": self.case_id, "number": self.number, "event_id": self.event_id, "after": self.after,
                "at": self.at.isoformat(sep=" ", timespec="seconds"),
                "due_at": self.due_at.isoformat(sep=" ", timespec="seconds"), "overdue": self.overdue(now),
                "channel": self.channel, "text": self.text, "reporter_name": self.reporter_name,
                "reporter_phone": self.reporter_phone, "remote_id": self.remote_id}


def _text_of(event: stored.AnsweredEvent, session: Session) -> str:
    """The reply event's text; without one (automatic replies switched off) the template filled in."""
    if event.reply_text:
        return event.reply_text
    case = session.get_one(Case, event.case_id)
    category = session.get_one(Category, case.category_id)
    return reply_text(Action(event.action), number=case.number, category=category.name,
                      reported_at=case.reported_at)


def due_replies(store: Store, *, channel: str | None = None, case_ids: Sequence[int] | None = None,
                since: datetime | None = None) -> list[DueReply]:
    """Every reply owed and not yet delivered, oldest first: each 立案/结案 event of a public or hotline
    case (pulled platform requests are public reports) that has no ``public_replies`` row. A request
    posted to the hall's own Open311 server is answered by its ``status_notes`` (the newest reply
    event's text) as soon as the event exists: it owes no delivery and is not listed.

    Derived from ``case_events`` alone, so no hook can miss one; ``channel`` keeps one channel.
    """
    from app.store.exchange import links_of_cases

    sources = sorted(s.value for s in REPLY_SOURCES)
    with store.session() as s:
        events = stored.reply_events(s, sources, [a.value for a in DUE_AFTER], case_ids=case_ids, since=since)
        if not events:
            return []
        done = stored.delivered_events(s, [e.event_id for e in events])
        pending = [e for e in events if e.event_id not in done]
        ids = sorted({e.case_id for e in pending})
        linked, published = links_of_cases(s, ids), stored.open311_cases(s, ids)
        out = []
        for e in pending:
            if e.case_id in published:  # its Open311 status_notes show the reply the moment it is written
                continue
            link = linked.get(e.case_id)
            via = "platform" if link is not None and link.origin == "remote" else (
                "hotline" if e.source == Source.HOTLINE.value else "public")
            if channel is not None and via != channel:
                continue
            out.append(DueReply(e.case_id, e.number, e.event_id, e.action, e.at, e.at + REPLY_WITHIN,
                                _text_of(e, s), via, e.reporter_name, e.reporter_phone,
                                link.remote_id if link is not None else None, e.category, e.reported_at))
    return out


def mark_done(store: Store, actor: Actor, event_id: int, now: datetime, *, note: str | None = None) -> int:
    """Record that the reply answering ``event_id`` reached the reporter (by ``actor``, now); the record's id.

    Refused: a role that does not reply (受理员/值班长 do), an event that owes no reply, a reply
    already recorded (one record per event: the database's unique key decides between two desks).
    """
    from sqlalchemy.exc import IntegrityError

    from app.services.errors import NotFound, PermissionDenied, ValidationError

    if actor.role not in DELIVERERS:
        raise PermissionDenied(Msg("「{role}」不能登记回复：由受理员或值班长登记", role=actor.role))
    note = clean_text("note", note)
    with store.session() as s:
        case_id = s.scalar(select(CaseEvent.case_id).where(CaseEvent.id == event_id))
    if case_id is None:
        raise NotFound(Msg("没有编号为 {event_id} 的案卷事件", event_id=event_id))
    owed = {r.event_id: r for r in due_replies(store, case_ids=[case_id])}
    reply = owed.get(event_id)
    if reply is None:
        with store.session() as s:
            if event_id in stored.delivered_events(s, [event_id]):
                raise ValidationError("event", Msg("事件 {event_id} 的回复已登记过", event_id=event_id))
        raise ValidationError("event", Msg("事件 {event_id} 不需要回复：只有公众和热线案卷的立案、结案需要回复",
                                           event_id=event_id))
    try:
        with store.session() as s, s.begin():
            return stored.record_delivery(s, case_id=reply.case_id, event_id=reply.event_id, after=reply.after,
                                          channel=reply.channel, text=reply.text, due_at=reply.due_at, done_at=now,
                                          done_by=actor.username, note=note)
    except IntegrityError:
        raise ValidationError("event", Msg("事件 {event_id} 的回复已登记过", event_id=event_id)) from None


def delivered(store: Store, *, case_id: int | None = None, limit: int = 200) -> list[dict[str, object]]:
    """Delivery records, newest first (with the case number)."""
    with store.session() as s:
        return stored.deliveries(s, case_id=case_id, limit=limit)


__all__ = ["CHANNELS", "DEFAULT_REASON", "DELIVERERS", "DUE_AFTER", "REPLY_SOURCES", "REPLY_WITHIN", "TEMPLATES",
           "DueReply", "delivered", "due_replies", "mark_done", "needs_reply", "reply_payload", "reply_text"]
