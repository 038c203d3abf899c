"""The exchange's own tables (migration 0023): links hall case ↔ platform request, cursors, the log.

Every function works in the caller's session and transaction; the service
(app.services.exchange) commits once per item, so a run that fails resumes where it stopped.
"""

from __future__ import annotations

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
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.store.models import Case, CaseEvent

_meta = MetaData()
#: Migration 0023's tables (not in the ORM models: only this module reads and writes them).
LINKS = Table(
    "exchange_links", _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint", String(200), nullable=False),
    Column("remote_id", String(64)),
    Column("case_id", Integer),
    Column("origin", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    Column("pushed_event_id", Integer, nullable=False),
    Column("remote_status", String(32)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
CURSORS = Table(
    "exchange_cursors", _meta,
    Column("endpoint", String(200), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("mark", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
LOG = Table(
    "exchange_log", _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("endpoint", String(200), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("remote_id", String(64)),
    Column("case_id", Integer),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text),
)


@dataclass(frozen=True)
class Link:
    """One row of ``exchange_links``."""

    id: int
    endpoint: str
    remote_id: str | None
    case_id: int | None
    origin: str  # remote | hall
    state: str  # claimed | linked | uncertain
    pushed_event_id: int
    remote_status: str | None


def _link(row: Any) -> Link:
    m = row._mapping
    return Link(m["id"], m["endpoint"], m["remote_id"], m["case_id"], m["origin"], m["state"],
                m["pushed_event_id"], m["remote_status"])


_LINK_COLUMNS = (LINKS.c.id, LINKS.c.endpoint, LINKS.c.remote_id, LINKS.c.case_id, LINKS.c.origin, LINKS.c.state,
                 LINKS.c.pushed_event_id, LINKS.c.remote_status)


def link_of_remote(session: Session, endpoint: str, remote_id: str) -> Link | None:
    row = session.execute(select(*_LINK_COLUMNS).where(LINKS.c.endpoint == endpoint,
                                                       LINKS.c.remote_id == remote_id)).first()
    return _link(row) if row is not None else None


def link_of_case(session: Session, endpoint: str, case_id: int) -> Link | None:
    row = session.execute(select(*_LINK_COLUMNS).where(LINKS.c.endpoint == endpoint,
                                                       LINKS.c.case_id == case_id)).first()
    return _link(row) if row is not None else None


def links(session: Session, endpoint: str | None = None, *, state: str | None = None) -> list[Link]:
    query = select(*_LINK_COLUMNS).order_by(LINKS.c.id)
    if endpoint is not None:
        query = query.where(LINKS.c.endpoint == endpoint)
    if state is not None:
        query = query.where(LINKS.c.state == state)
    return [_link(r) for r in session.execute(query).all()]


def links_of_cases(session: Session, case_ids: list[int]) -> dict[int, Link]:
    """The (first) link of each case that has one, any endpoint."""
    found: dict[int, Link] = {}
    for chunk in range(0, len(case_ids), 500):
        for row in session.execute(select(*_LINK_COLUMNS).where(LINKS.c.case_id.in_(case_ids[chunk:chunk + 500]))
                                   .order_by(LINKS.c.id)).all():
            link = _link(row)
            assert link.case_id is not None
            found.setdefault(link.case_id, link)
    return found


def claim(session: Session, *, endpoint: str, origin: str, now: datetime, remote_id: str | None = None,
          case_id: int | None = None) -> int:
    """Insert a ``claimed`` link (the unique keys refuse a second claim of the same item); its id."""
    result = session.execute(insert(LINKS).values(
        endpoint=endpoint, remote_id=remote_id, case_id=case_id, origin=origin, state="claimed",
        pushed_event_id=0, remote_status=None, created_at=now, updated_at=now))
    key = cast("CursorResult[Any]", result).inserted_primary_key
    assert key is not None
    return int(key[0])


def set_link(session: Session, link_id: int, now: datetime, **values: Any) -> None:
    """Update a link's ``case_id``, ``remote_id``, ``state``, ``pushed_event_id`` or ``remote_status``."""
    allowed = {"case_id", "remote_id", "state", "pushed_event_id", "remote_status"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not a link column: {sorted(unknown)}")
    session.execute(update(LINKS).where(LINKS.c.id == link_id).values(updated_at=now, **values))


def drop_claim(session: Session, link_id: int) -> None:
    """Remove a claim whose item was certainly not made (so the next run makes it)."""
    session.execute(delete(LINKS).where(LINKS.c.id == link_id, LINKS.c.state == "claimed"))


def get_cursor(session: Session, endpoint: str, direction: str) -> str | None:
    return session.scalar(select(CURSORS.c.mark).where(CURSORS.c.endpoint == endpoint,
                                                       CURSORS.c.direction == direction))


def set_cursor(session: Session, endpoint: str, direction: str, mark: str, now: datetime) -> None:
    done = session.execute(update(CURSORS).where(CURSORS.c.endpoint == endpoint, CURSORS.c.direction == direction)
                           .values(mark=mark, updated_at=now))
    if not getattr(done, "rowcount", 0):
        session.execute(insert(CURSORS).values(endpoint=endpoint, direction=direction, mark=mark, updated_at=now))


def cursors(session: Session) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in session.execute(select(CURSORS).order_by(CURSORS.c.endpoint,
                                                                              CURSORS.c.direction)).all()]


def add_log(session: Session, *, run_id: str, at: datetime, endpoint: str, direction: str, outcome: str,
            remote_id: str | None = None, case_id: int | None = None, detail: str | None = None) -> None:
    session.execute(insert(LOG).values(run_id=run_id, at=at, endpoint=endpoint, direction=direction,
                                       remote_id=remote_id, case_id=case_id, outcome=outcome, detail=detail))


def log_rows(session: Session, *, run_id: str | None = None, endpoint: str | None = None,
             limit: int = 200) -> list[dict[str, Any]]:
    """Log rows, newest first."""
    query = select(LOG).order_by(LOG.c.id.desc()).limit(limit)
    if run_id is not None:
        query = query.where(LOG.c.run_id == run_id)
    if endpoint is not None:
        query = query.where(LOG.c.endpoint == endpoint)
    return [dict(r._mapping) for r in session.execute(query).all()]


def case_with_marker(session: Session, marker: str, since: datetime) -> int | None:
    """The case reported at or after ``since`` whose description holds ``marker`` (a claim's recovery)."""
    return session.scalar(select(Case.id).where(Case.reported_at >= since, Case.description.contains(marker, autoescape=True))
                          .order_by(Case.id).limit(1))


def claimed_at(session: Session, link_id: int) -> datetime | None:
    return session.scalar(select(LINKS.c.created_at).where(LINKS.c.id == link_id))


def pending_status(session: Session, endpoint: str) -> list[tuple[Link, int]]:
    """Linked cases of ``endpoint`` with a state change or reply newer than what went out:
    (link, newest such event id), oldest change first."""
    newest = (select(CaseEvent.case_id, func.max(CaseEvent.id).label("newest"))
              .where((CaseEvent.from_state.is_(None)) | (CaseEvent.from_state != CaseEvent.to_state)
                     | (CaseEvent.action == "reply"))
              .group_by(CaseEvent.case_id).subquery())
    rows = session.execute(select(*_LINK_COLUMNS, newest.c.newest)
                           .join(newest, newest.c.case_id == LINKS.c.case_id)
                           .where(LINKS.c.endpoint == endpoint, LINKS.c.state == "linked",
                                  newest.c.newest > LINKS.c.pushed_event_id)
                           .order_by(newest.c.newest)).all()
    return [(_link(r), int(r.newest)) for r in rows]


def linked_as_duplicate(session: Session, case_id: int) -> bool:
    """Whether the case was closed as a duplicate of another (关联重复)."""
    return session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case_id, CaseEvent.action == "link")
                          .limit(1)) is not None


def hall_cases_to_send(session: Session, endpoint: str, sources: list[str], since: datetime,
                       limit: int = 500) -> list[int]:
    """Cases reported since ``since`` from ``sources`` that have no link to ``endpoint`` yet, oldest first."""
    linked = select(LINKS.c.case_id).where(LINKS.c.endpoint == endpoint, LINKS.c.case_id.is_not(None))
    linked_any = select(LINKS.c.case_id).where(LINKS.c.case_id.is_not(None), LINKS.c.origin == "remote")
    return list(session.scalars(select(Case.id).where(Case.source.in_(sources), Case.reported_at >= since,
                                                      Case.id.not_in(linked), Case.id.not_in(linked_any))
                                .order_by(Case.reported_at, Case.id).limit(limit)))


__all__ = ["CURSORS", "LINKS", "LOG", "Link", "add_log", "case_with_marker", "claim", "claimed_at", "cursors",
           "drop_claim", "get_cursor", "hall_cases_to_send", "link_of_case", "link_of_remote", "links",
           "linked_as_duplicate", "links_of_cases", "log_rows", "pending_status", "set_cursor", "set_link"]
