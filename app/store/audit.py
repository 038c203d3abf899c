"""Append case events to the hash chain, inside the caller's transaction.

The chain only grows: this module (and the whole code base) has no way to update or
delete a case event, and the schema's triggers refuse both.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, insert, select, text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.domain.audit import GENESIS_HASH, canonical, event_hash
from app.domain.messages import Msg
from app.store.errors import StaleCase, StoreError
from app.store.models import AuditHead, Case, CaseEvent

_HEAD = AuditHead.__table__


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


_PLAIN = (str, int, float, bool, type(None))


def _json_payload(payload: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # Store exactly what is hashed: enums as values, datetimes as text, no microseconds.
    if not payload:
        return None
    if all(type(k) is str and type(v) in _PLAIN for k, v in payload.items()):
        return dict(payload)  # already canonical (the common case when bulk loading)
    return json.loads(canonical({"payload": payload}))["payload"]


def lock_head(session: Session) -> tuple[int, str]:
    """Take the chain's write lock and return the head (chain_no, hash)."""
    if session.get_bind().dialect.name == "sqlite":
        # A no-op write takes SQLite's database write lock now (waiting busy_timeout),
        # so no other writer can append between our read of the head and our insert.
        session.execute(_HEAD.update().where(_HEAD.c.id == 1).values(chain_no=_HEAD.c.chain_no))
        stmt = select(_HEAD.c.chain_no, _HEAD.c.hash).where(_HEAD.c.id == 1)
    elif _db_triggers(session)[2]:
        # Migration 0010: logins may not lock audit_head themselves; the owner's function does.
        stmt = select(text("chain_no"), text("hash")).select_from(text("gridhall_lock_chain()"))
    else:
        stmt = select(_HEAD.c.chain_no, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        raise StoreError(Msg("audit_head 表缺少第 1 行（审计链头），数据库可能被篡改；请运行 gridhall db verify"))
    return row.chain_no, row.hash


def _set_head(session: Session, head: tuple[int, str]) -> None:
    session.execute(_HEAD.update().where(_HEAD.c.id == 1).values(chain_no=head[0], hash=head[1]))


def append_event(
    session: Session,
    case: Case,
    *,
    action: Any,
    to_state: Any,
    actor: str,
    role: Any,
    at: datetime,
    from_state: Any = None,
    department_id: int | None = None,
    reason: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> CaseEvent:
    """Record one step of ``case`` as the next link of the chain and move the case to ``to_state``.

    ``from_state`` defaults to the case's current state (None for its first event).
    Raises StaleCase when another writer recorded an event of this case meanwhile.
    On PostGIS the chain trigger of migration 0002 numbers and hashes the event under the chain
    lock; on SpatiaLite (no such trigger) this function takes the lock and hashes it.
    """
    if case.id is None:
        session.add(case)
        session.flush()
    if _db_fills_chain(session):
        return _append_db_chained(session, case, action=action, to_state=to_state, actor=actor, role=role,
                                  at=at, from_state=from_state, department_id=department_id, reason=reason,
                                  payload=payload)
    head_no, head_hash = lock_head(session)
    db_version = session.execute(select(Case.version).where(Case.id == case.id)).scalar_one()
    if db_version != (case.version or 0):
        raise _stale(case, db_version)
    if from_state is None and db_version > 0:
        from_state = case.state
    at = at.replace(microsecond=0)
    fields = {
        "chain_no": head_no + 1, "case_id": case.id, "seq": db_version + 1,
        "action": _value(action), "from_state": _value(from_state), "to_state": _value(to_state),
        "actor": actor, "role": _value(role), "department_id": department_id, "at": at,
        "reason": reason, "payload": _json_payload(payload),
    }
    digest = event_hash(fields, head_hash)
    event = CaseEvent(**fields, prev_hash=head_hash, hash=digest)
    session.add(event)
    _set_head(session, (head_no + 1, digest))
    case.version = db_version + 1
    case.state = fields["to_state"]
    case.updated_at = at
    session.flush()
    return event


def _stale(case: Case, db_version: int | None) -> StaleCase:
    return StaleCase(Msg("案卷 {number} 已被他人更新（版本 {db_version}，本地 {version}），请刷新后重试",
                         number=case.number, db_version=db_version, version=case.version))


# Per engine: (case_events has the chain trigger, it has migration 0006's derive trigger, the
# schema has migration 0010's gridhall_lock_chain()).
_DB_CHAINED: weakref.WeakKeyDictionary[Engine, tuple[bool, bool, bool]] = weakref.WeakKeyDictionary()


def _db_triggers(session: Session) -> tuple[bool, bool, bool]:
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False, False, False
    engine = bind.engine
    known = _DB_CHAINED.get(engine)
    if known is None:
        row = session.execute(text(
            "SELECT bool_or(tgname = 'case_events_chain'), bool_or(tgname = 'case_events_derive'), "
            "to_regprocedure('gridhall_lock_chain()') IS NOT NULL FROM pg_trigger "
            "WHERE tgrelid = to_regclass('case_events') AND tgenabled <> 'D'")).one()
        known = (bool(row[0]), bool(row[1]), bool(row[2]))
        _DB_CHAINED[engine] = known
    return known


def _db_fills_chain(session: Session) -> bool:
    return _db_triggers(session)[0]


def db_derives(session: Session) -> bool:
    """Whether the database derives a case's loop columns from its appended events (PostGIS,
    migration 0006): the client then appends the event and reads the case back."""
    return _db_triggers(session)[1]


def import_path(session: Session) -> None:
    """Make the session's transaction the owner's import path (PostGIS, migration 0006).

    Inside it the database takes case columns, event times and payloads as they come (no
    derived columns, no automatic replies), so :func:`append_event` keeps the case's version
    and state itself, as on SpatiaLite. Only an exempt session (the owner, a superuser) gets
    this; for a login the setting has no effect. A no-op on SpatiaLite.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SET LOCAL gridhall.import = 'on'"))
    session.info["gridhall_import"] = session.get_transaction()


def _importing(session: Session) -> bool:
    marked = session.info.get("gridhall_import")
    return marked is not None and marked is session.get_transaction()


#: The case columns the events set (migration 0006 derives them on PostGIS).
LOOP_COLUMNS = ("state", "version", "updated_at", "reported_at", "level", "department_id", "duplicate_of_id",
                "filed_at", "dispatched_at", "fed_back_at", "closed_at", "stage", "timer_basis", "limit_minutes",
                "timer_started_at", "paused_since", "paused_minutes", "extension_minutes", "deadline_at",
                "handle_deadline_at", "urge_count", "rework_count", "urge_level", "urge_deadline_at")


_CASES = Case.__table__
_EVENTS = CaseEvent.__table__


def _append_db_chained(session: Session, case: Case, *, action: Any, to_state: Any, actor: str, role: Any,
                       at: datetime, from_state: Any, department_id: int | None, reason: str | None,
                       payload: Mapping[str, Any] | None) -> CaseEvent:
    # Pending changes of the case go out first, before the chain lock is taken.
    session.flush()
    expected = case.version or 0
    if from_state is None and expected > 0:
        from_state = case.state
    at = at.replace(microsecond=0)
    to_value = _value(to_state)
    # Compare-and-set on the case row, taking its row lock until the commit (a no-op for a
    # service that claimed the case already): a writer that got in first makes it match nothing.
    # The version moves only after the event exists: a department's new report is visible to
    # it (row-level security) at version 0, or once its first event names the department.
    claimed = cast(CursorResult[Any], session.execute(  # DML: a CursorResult (typed Result)
        _CASES.update().where(_CASES.c.id == case.id, _CASES.c.version == expected)
        .values(version=_CASES.c.version))).rowcount
    if claimed != 1:
        raise _stale(case, session.execute(select(Case.version).where(Case.id == case.id)).scalar())
    fields = {
        "case_id": case.id, "seq": expected + 1, "action": _value(action), "from_state": _value(from_state),
        "to_state": to_value, "actor": actor, "role": _value(role), "department_id": department_id, "at": at,
        "reason": reason, "payload": _json_payload(payload),
    }
    # chain_no, prev_hash and hash left empty: the BEFORE INSERT trigger takes the chain lock,
    # fills them in (the same hash as app.domain.audit) and an AFTER trigger moves the head.
    # With migration 0006 the database also sets the case's columns from the event (and may add
    # what it derived to the payload, and write an automatic reply): the case is read back.
    derives = db_derives(session) and not _importing(session)
    returning = [_EVENTS.c.id, _EVENTS.c.chain_no, _EVENTS.c.prev_hash, _EVENTS.c.hash]
    if derives:
        returning.append(_EVENTS.c.payload)
    row = session.execute(_EVENTS.insert().values(fields).returning(*returning)).one()
    if derives:
        fields["payload"] = row.payload
        session.expire(case, LOOP_COLUMNS)
    else:
        session.execute(_CASES.update().where(_CASES.c.id == case.id)
                        .values(version=expected + 1, state=to_value, updated_at=at))
        for name, value in (("version", expected + 1), ("state", to_value), ("updated_at", at)):
            set_committed_value(case, name, value)
    event = CaseEvent(**fields, id=row.id, chain_no=row.chain_no, prev_hash=row.prev_hash, hash=row.hash)
    make_transient_to_detached(event)
    session.add(event)  # persistent without another INSERT
    return event


def bulk_chain(
    rows: Iterable[Mapping[str, Any]], head: tuple[int, str] = (0, GENESIS_HASH),
) -> tuple[list[dict[str, Any]], tuple[int, str]]:
    """Number and hash ``rows`` (in chain order) after ``head``; returns (rows, new head).

    Each row needs case_id, seq, action, to_state, actor, role and at; the others default
    to null. The result rows are ready for ``insert(CaseEvent)`` with executemany.
    """
    chain_no, prev = head
    out: list[dict[str, Any]] = []
    for row in rows:
        chain_no += 1
        ev = {
            "chain_no": chain_no, "case_id": row["case_id"], "seq": row["seq"],
            "action": _value(row["action"]), "from_state": _value(row.get("from_state")),
            "to_state": _value(row["to_state"]), "actor": row["actor"], "role": _value(row["role"]),
            "department_id": row.get("department_id"), "at": row["at"].replace(microsecond=0),
            "reason": row.get("reason"), "payload": _json_payload(row.get("payload")),
        }
        ev["prev_hash"] = prev
        ev["hash"] = prev = event_hash(ev, prev)
        out.append(ev)
    return out, (chain_no, prev)


def bulk_append(session: Session, rows: Iterable[Mapping[str, Any]], batch: int = 10000) -> tuple[int, str]:
    """Lock the head, chain and insert ``rows`` with executemany, move the head; returns it.

    The caller keeps each case's ``version`` (its last seq) and ``state`` consistent: this is the
    owner's import path (:func:`import_path`), where the database derives nothing.
    """
    import_path(session)
    head = lock_head(session)
    chained, new_head = bulk_chain(rows, head)
    for start in range(0, len(chained), batch):
        # Core executemany on the session's connection skips the ORM's per-row bookkeeping.
        session.connection().execute(insert(CaseEvent.__table__), chained[start:start + batch])
    _set_head(session, new_head)
    return new_head


def read_head(session: Session) -> tuple[int, str] | None:
    """The recorded head (chain_no, hash) without locking, or None when the row is gone."""
    row = session.execute(select(AuditHead.chain_no, AuditHead.hash).where(AuditHead.id == 1)).first()
    return (row.chain_no, row.hash) if row else None


__all__ = ["LOOP_COLUMNS", "append_event", "bulk_append", "bulk_chain", "db_derives", "import_path", "lock_head", "read_head"]
