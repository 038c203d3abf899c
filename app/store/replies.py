"""Replies to the public (两次回复) as the store keeps them (issue 16, item 5; migration 0023).

The texts themselves are case events: after 立案, 不予立案, 关联重复 and 结案 of a public or
hotline report the automatic ``reply`` event (payload ``text``, ``auto``, ``after``) is written
in the same transaction (SpatiaLite: app.services.core; PostGIS: migration 0006's trigger), and an
acceptor may add one by hand (``reply``, ``auto`` false). Nothing here adds a hook to that path:

- :func:`latest_reply_text`: the newest reply event's text of a case (what an Open311 request's
  ``status_notes`` shows);
- :func:`reply_events`: the filing and closing events of public cases with the reply written after
  each, read from ``case_events`` alone (so a due reply cannot be missed by a hook that did not run);
- the table ``public_replies`` (one row per delivered reply, keyed by the event it answers):
  :func:`delivered_events`, :func:`record_delivery`, :func:`deliveries`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    CursorResult,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    insert,
    select,
)
from sqlalchemy.orm import Session

from app.domain.definitions import Action
from app.store.models import Case, CaseEvent, Category

_meta = MetaData()
#: Migration 0023's table (not in the ORM models: only this module reads and writes it).
PUBLIC_REPLIES = Table(
    "public_replies", _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False),
    Column("event_id", Integer, nullable=False, unique=True),  # the 立案/结案 event answered
    Column("after", String(24), nullable=False),  # file | close
    Column("channel", String(16), nullable=False),  # hotline | public | platform | open311
    Column("text", Text, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("done_at", DateTime, nullable=False),
    Column("done_by", String(64), nullable=False),
    Column("note", Text),
)

#: Migration 0022's record of the requests posted to this hall's own Open311 server (the case ids only).
OPEN311_TOKENS = Table("open311_tokens", _meta, Column("case_id", Integer))


def open311_cases(session: Session, case_ids: Sequence[int]) -> set[int]:
    """The cases among ``case_ids`` that were posted to the hall's own Open311 server."""
    found: set[int] = set()
    for chunk in range(0, len(case_ids), 500):
        found |= set(session.scalars(select(OPEN311_TOKENS.c.case_id)
                                     .where(OPEN311_TOKENS.c.case_id.in_(list(case_ids[chunk:chunk + 500])))))
    return found


def latest_reply_text(session: Session, case_id: int) -> str | None:
    """The text of the case's newest ``reply`` event (automatic or by hand); None without one."""
    payload = session.scalar(select(CaseEvent.payload)
                             .where(CaseEvent.case_id == case_id, CaseEvent.action == Action.REPLY.value)
                             .order_by(CaseEvent.seq.desc()).limit(1))
    text = (payload or {}).get("text") if isinstance(payload, dict) else None
    return text if isinstance(text, str) and text else None


@dataclass(frozen=True)
class AnsweredEvent:
    """A filing or closing event of a public case, with the reply text written after it (if any)."""

    case_id: int
    number: str
    source: str
    event_id: int
    seq: int
    action: str
    at: datetime
    reply_text: str | None
    reporter_name: str | None
    reporter_phone: str | None
    category: str = ""
    reported_at: datetime | None = None


def reply_events(session: Session, sources: Iterable[str], actions: Iterable[str], *,
                 case_ids: Sequence[int] | None = None, since: datetime | None = None) -> list[AnsweredEvent]:
    """Every ``actions`` event (立案/结案) of a case from ``sources``, oldest first, with the text of
    the first ``reply`` event after it that answers it (payload ``after`` equal to its action)."""
    query = (select(CaseEvent.id, CaseEvent.case_id, CaseEvent.seq, CaseEvent.action, CaseEvent.at, Case.number,
                    Case.source, Case.reporter_name, Case.reporter_phone, Case.reported_at,
                    Category.name.label("category"))
             .join(Case, Case.id == CaseEvent.case_id)
             .join(Category, Category.id == Case.category_id)
             .where(CaseEvent.action.in_(list(actions)), Case.source.in_(list(sources))))
    if case_ids is not None:
        query = query.where(CaseEvent.case_id.in_(list(case_ids)))
    if since is not None:
        query = query.where(CaseEvent.at >= since)
    rows = session.execute(query.order_by(CaseEvent.at, CaseEvent.id)).all()
    if not rows:
        return []
    texts = _reply_texts(session, sorted({r.case_id for r in rows}))
    out = []
    for r in rows:
        text = next((t for seq, after, t in texts.get(r.case_id, ()) if seq > r.seq and after == r.action), None)
        out.append(AnsweredEvent(r.case_id, r.number, r.source, r.id, r.seq, r.action, r.at, text,
                                 r.reporter_name, r.reporter_phone, r.category, r.reported_at))
    return out


def _reply_texts(session: Session, case_ids: list[int]) -> dict[int, list[tuple[int, str | None, str]]]:
    found: dict[int, list[tuple[int, str | None, str]]] = {}
    for chunk in range(0, len(case_ids), 500):
        part = case_ids[chunk:chunk + 500]
        for case_id, seq, payload in session.execute(
                select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.payload)
                .where(CaseEvent.case_id.in_(part), CaseEvent.action == Action.REPLY.value)
                .order_by(CaseEvent.case_id, CaseEvent.seq)).all():
            data = payload if isinstance(payload, dict) else {}
            text = data.get("text")
            if isinstance(text, str) and text:
                after = data.get("after")
                found.setdefault(case_id, []).append((seq, after if isinstance(after, str) else None, text))
    return found


def delivered_events(session: Session, event_ids: Sequence[int] | None = None) -> set[int]:
    """The event ids that already have a ``public_replies`` row."""
    query = select(PUBLIC_REPLIES.c.event_id)
    if event_ids is not None:
        found: set[int] = set()
        for chunk in range(0, len(event_ids), 500):
            found |= set(session.scalars(query.where(PUBLIC_REPLIES.c.event_id.in_(list(event_ids[chunk:chunk + 500])))))
        return found
    return set(session.scalars(query))


def record_delivery(session: Session, *, case_id: int, event_id: int, after: str, channel: str, text: str,
                    due_at: datetime, done_at: datetime, done_by: str, note: str | None = None) -> int:
    """Insert the delivery record of one reply (the caller's transaction); returns its id.

    The unique ``event_id`` makes a second delivery of the same reply fail (IntegrityError).
    """
    result = session.execute(insert(PUBLIC_REPLIES).values(
        case_id=case_id, event_id=event_id, after=after, channel=channel, text=text, due_at=due_at,
        done_at=done_at, done_by=done_by, note=note))
    key = cast("CursorResult[Any]", result).inserted_primary_key
    assert key is not None
    return int(key[0])


def deliveries(session: Session, *, case_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Delivery records, newest first (one case's with ``case_id``), with the case number."""
    query = (select(PUBLIC_REPLIES, Case.number).join(Case, Case.id == PUBLIC_REPLIES.c.case_id)
             .order_by(PUBLIC_REPLIES.c.done_at.desc(), PUBLIC_REPLIES.c.id.desc()).limit(limit))
    if case_id is not None:
        query = query.where(and_(PUBLIC_REPLIES.c.case_id == case_id))
    return [dict(r._mapping) for r in session.execute(query).all()]


__all__ = ["OPEN311_TOKENS", "PUBLIC_REPLIES", "AnsweredEvent", "open311_cases", "deliveries", "delivered_events", "latest_reply_text",
           "record_delivery", "reply_events"]
