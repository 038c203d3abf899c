"""The Open311 server's tables and reads (migration 0022): API keys, tokens, public request rows.

Every read here names its columns: on PostGIS the server's login (group ``gridhall_open311``) may
read the cases' public columns only, never ``reporter_name`` or ``reporter_phone``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from app.store.engine import Store
from app.store.models import Case, Category, Department

_meta = MetaData()

keys = Table(
    "open311_keys", _meta,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("rate_per_minute", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

tokens = Table(
    "open311_tokens", _meta,
    Column("token", String(40), primary_key=True),
    Column("case_id", Integer, nullable=False, unique=True),
    Column("key_id", Integer, ForeignKey("open311_keys.id")),
    Column("media_url", String(2000)),
    Column("created_at", DateTime, nullable=False),
)

# The events' columns the server reads (a light table: no ORM entity, so no other column is selected).
_events = Table(
    "case_events", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer),
    Column("seq", Integer),
    Column("action", String(24)),
    Column("from_state", String(24)),
    Column("to_state", String(24)),
    Column("at", DateTime),
    Column("reason", Text),
    Column("payload", JSON),
)


@dataclass(frozen=True)
class KeyRow:
    """One API key as listed (never the key itself)."""

    id: int
    name: str
    prefix: str
    rate_per_minute: int
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class RequestRow:
    """What GET requests shows of one case (public columns only)."""

    id: int
    number: str
    kind: str
    category_code: str
    category_name: str
    state: str
    description: str
    address: str | None
    x: float | None
    y: float | None
    reported_at: datetime
    updated_at: datetime | None
    closed_at: datetime | None
    deadline_at: datetime | None
    handle_deadline_at: datetime | None
    department: str | None
    duplicate_of: str | None
    token: str | None
    media_url: str | None
    last_reply: str | None
    last_reason: str | None
    last_event_at: datetime | None


# ---- keys --------------------------------------------------------------------------------------

def add_key(session: Session, name: str, prefix: str, key_hash: str, rate_per_minute: int, now: datetime) -> int:
    """Insert a key; returns its id (IntegrityError when the name is taken)."""
    result = session.execute(insert(keys).values(name=name, prefix=prefix, key_hash=key_hash,
                                                 rate_per_minute=rate_per_minute, created_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


def name_taken(session: Session, name: str) -> bool:
    return session.scalar(select(keys.c.id).where(keys.c.name == name)) is not None


def list_keys(session: Session) -> list[KeyRow]:
    rows = session.execute(select(keys.c.id, keys.c.name, keys.c.prefix, keys.c.rate_per_minute, keys.c.created_at,
                                  keys.c.revoked_at).order_by(keys.c.id)).all()
    return [KeyRow(*row) for row in rows]


def revoke_key(session: Session, name: str, now: datetime) -> bool:
    """Revoke the key named ``name`` (or whose prefix it is); whether one was active."""
    result = session.execute(update(keys).where(keys.c.name == name, keys.c.revoked_at.is_(None))
                             .values(revoked_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def key_by_hash(session: Session, key_hash: str) -> KeyRow | None:
    row = session.execute(select(keys.c.id, keys.c.name, keys.c.prefix, keys.c.rate_per_minute, keys.c.created_at,
                                 keys.c.revoked_at).where(keys.c.key_hash == key_hash)).first()
    return KeyRow(*row) if row is not None else None


# ---- tokens ------------------------------------------------------------------------------------

def add_token(session: Session, token: str, case_id: int, key_id: int | None, media_url: str | None,
              now: datetime) -> None:
    session.execute(insert(tokens).values(token=token, case_id=case_id, key_id=key_id, media_url=media_url,
                                          created_at=now))


def token_request(session: Session, token: str) -> str | None:
    """The case number a token was handed out for, or None."""
    return session.scalar(select(Case.number).join(tokens, tokens.c.case_id == Case.id)
                          .where(tokens.c.token == token))


def case_id_of_number(session: Session, number: str) -> int | None:
    return session.scalar(select(Case.id).where(Case.number == number))


# ---- services and requests ---------------------------------------------------------------------

def enabled_categories(session: Session) -> list[tuple[str, str, str, str, str]]:
    """(kind, code, name, major_code, major_name) of every category the city uses, by kind and code."""
    rows = session.execute(select(Category.kind, Category.code, Category.name, Category.major_code,
                                  Category.major_name).where(Category.enabled.isnot(False))
                           .order_by(Category.kind, Category.code)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _request_query() -> Any:
    dup = Case.__table__.alias("dup")
    return (select(Case.id, Case.number, Case.kind, Category.code, Category.name, Case.state, Case.description,
                   Case.address, func.ST_X(Case.geom), func.ST_Y(Case.geom), Case.reported_at, Case.updated_at,
                   Case.closed_at, Case.deadline_at, Case.handle_deadline_at, Department.name, dup.c.number,
                   tokens.c.token, tokens.c.media_url)
            .select_from(Case)
            .join(Category, Category.id == Case.category_id)
            .outerjoin(Department, Department.id == Case.department_id)
            .outerjoin(dup, dup.c.id == Case.duplicate_of_id)
            .outerjoin(tokens, tokens.c.case_id == Case.id))


#: States whose notes name the reason that ended the case.
TERMINAL = ("closed", "not_filed", "voided")
#: Events that end a case as not filed or voided (their reason is the one the public is told).
ENDING = ("reject", "void", "approve", "link")


def _replies_sqlite(session: Session, rows: Sequence[Any]) -> dict[int, str]:
    """SpatiaLite's reading of ``gridhall_open311_replies`` (migration 0022): per case the newest reply that
    still speaks of its state (an automatic one, or any for a request posted over Open311; for an ended case
    one written after it ended)."""
    states = {row[0]: row[5] for row in rows}
    tokened = {row[0] for row in rows if row[17] is not None}
    out: dict[int, str] = {}
    ids = list(states)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        ended = dict(session.execute(
            select(_events.c.case_id, func.max(_events.c.seq)).join(Case, Case.id == _events.c.case_id)
            .where(_events.c.case_id.in_(chunk), Case.state.in_(TERMINAL), _events.c.to_state == Case.state,
                   or_(_events.c.from_state.is_(None), _events.c.from_state != _events.c.to_state))
            .group_by(_events.c.case_id)).all())
        found = session.execute(select(_events.c.case_id, _events.c.seq, _events.c.payload)
                                .where(_events.c.case_id.in_(chunk), _events.c.action == "reply")
                                .order_by(_events.c.case_id, _events.c.seq.desc())).all()
        for case_id, seq, payload in found:
            if case_id in out or not isinstance(payload, dict):
                continue
            reply = payload.get("text")
            if not (isinstance(reply, str) and reply) or not (payload.get("auto") is True or case_id in tokened):
                continue
            if states[case_id] in TERMINAL and seq <= ended.get(case_id, seq):
                continue
            out[case_id] = reply
    return out


def _last_facts(session: Session, rows: Sequence[Any]) -> dict[int, tuple[str | None, str | None, datetime | None]]:
    """(the newest reply to the public that still speaks of the case's state, the reason that ended a
    not-filed or voided case, the case's ``updated_at``) per case.

    Never the events' payloads but a reply's text (an edit's carries the reporter's phone). On PostgreSQL both
    come through functions of migration 0022 (``gridhall_open311_replies``, ``gridhall_open311_reason``): the
    server's login may read neither reply events nor reasons."""
    out: dict[int, list[Any]] = {row[0]: [None, None, row[11]] for row in rows}
    ended = [row[0] for row in rows if row[5] in ("not_filed", "voided")]
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        ids = list(out)
        for i in range(0, len(ids), 500):
            for case_id, reply in session.execute(text("SELECT o_case, o_text FROM gridhall_open311_replies("
                                                       "CAST(:ids AS integer[]))"), {"ids": ids[i:i + 500]}).all():
                out[case_id][0] = reply
    else:
        for case_id, reply in _replies_sqlite(session, rows).items():
            out[case_id][0] = reply
    if not ended:
        return {cid: (f[0], f[1], f[2]) for cid, f in out.items()}
    if postgres:
        for i in range(0, len(ended), 500):
            found = session.execute(text("SELECT id, gridhall_open311_reason(id) FROM unnest(CAST(:ids AS integer[])) "
                                         "AS t(id)"), {"ids": ended[i:i + 500]}).all()
            for case_id, reason in found:
                out[case_id][1] = reason
    else:
        for i in range(0, len(ended), 500):
            found = session.execute(select(_events.c.case_id, _events.c.reason)
                                    .join(Case, Case.id == _events.c.case_id)
                                    .where(_events.c.case_id.in_(ended[i:i + 500]), _events.c.to_state == Case.state,
                                           _events.c.action.in_(ENDING))
                                    .order_by(_events.c.case_id, _events.c.seq)).all()
            for case_id, reason in found:
                out[case_id][1] = reason
    return {cid: (f[0], f[1], f[2]) for cid, f in out.items()}


def _rows(session: Session, query: Any) -> list[RequestRow]:
    rows = session.execute(query).all()
    facts = _last_facts(session, rows)
    return [RequestRow(*row, *facts.get(row[0], (None, None, None))) for row in rows]  # type: ignore[call-arg]


def requests_by_number(session: Session, numbers: Sequence[str]) -> list[RequestRow]:
    """The cases numbered ``numbers`` (in that order; unknown ones left out)."""
    found = {r.number: r for r in _rows(session, _request_query().where(Case.number.in_(list(numbers))))}
    return [found[n] for n in numbers if n in found]


def find_requests(session: Session, *, start: datetime, end: datetime, categories: Sequence[tuple[str, str]] = (),
                  states: Sequence[str] | None = None, limit: int = 1000) -> list[RequestRow]:
    """Cases reported in [start, end], newest first, of the given (kind, code) categories and states."""
    query = _request_query().where(Case.reported_at >= start, Case.reported_at <= end)
    if categories:
        query = query.where(or_(*(and_(Category.kind == k, Category.code == c) for k, c in categories)))
    if states is not None:
        query = query.where(Case.state.in_(list(states)))
    return _rows(session, query.order_by(Case.reported_at.desc(), Case.id.desc()).limit(limit))


def login_username(session: Session) -> str | None:
    """The application username of the session's PostgreSQL login (None on SpatiaLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.scalar(text("SELECT gridhall_username(session_user)"))


def backend_of(store: Store) -> str:
    return store.backend


__all__ = ["KeyRow", "RequestRow", "add_key", "add_token", "backend_of", "case_id_of_number", "enabled_categories",
           "find_requests", "key_by_hash", "keys", "list_keys", "login_username", "name_taken", "requests_by_number",
           "revoke_key", "token_request", "tokens"]


def create_intake_login(url: str, username: str, password: str) -> str:
    """Make the PostgreSQL login ``gh_<username>`` in the group ``gridhall_open311`` and its ``users`` row
    (role 受理员, the role its report events carry). Run as a superuser or the DBA (CREATEROLE); returns
    the login name. The password is sent only as a SCRAM-SHA-256 verifier."""
    from psycopg2 import sql
    from psycopg2.extensions import encrypt_password

    from app.store.engine import open_store
    from app.store.security import login_name

    login = login_name(username)
    store = open_store(url)
    try:
        with store.engine.begin() as conn:
            raw = conn.connection.dbapi_connection
            verifier = encrypt_password(password, login, raw, "scram-sha-256")  # type: ignore[arg-type]
            with raw.cursor() as cur:  # type: ignore[union-attr]
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
                                    "PASSWORD {} IN ROLE gridhall_open311").format(sql.Identifier(login),
                                                                                  sql.Literal(verifier)))
                cur.execute("INSERT INTO users (username, display_name, role, active, failed_attempts, locked) "
                            "VALUES (%s, 'Open311', 'acceptor', true, 0, false) ON CONFLICT (username) DO NOTHING",
                            (username,))
    finally:
        store.dispose()
    return login
