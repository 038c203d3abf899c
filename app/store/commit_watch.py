"""What a command committed, so that Ctrl+C reports the truth (the command line asks after an interrupt).

A KeyboardInterrupt is delivered between Python bytecodes: one that arrives while the
database is committing lands just *after* the commit returned, in SQLAlchemy's own code,
before anything could say "committed". Claiming "nothing was committed" then makes the
operator re-submit and file a duplicate case. :class:`CommitWatch` follows every ORM session
of the process: the case events a step adds, the moment the engine starts committing and the
moment the session's commit is done. :meth:`CommitWatch.verdict` tells, after an interrupt,
whether the interrupted step was committed and which cases it wrote; when the interrupt came
between the database's commit and SQLAlchemy's bookkeeping it asks the database itself.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    """A case event a step wrote: its case (id, number) and its place in the case's history."""

    case_id: int
    seq: int
    number: str | None


@dataclass(frozen=True)
class Verdict:
    """After an interrupt: ``committed`` True/False, or None when it cannot be told; the cases written."""

    committed: bool | None
    numbers: tuple[str, ...] = ()


@dataclass
class CommitWatch:
    """Follows the commits of every ORM session of the process (see the module's documentation)."""

    committed: list[Written] = field(default_factory=list)
    _pending: dict[int, list[Any]] = field(default_factory=dict)  # id(session) → CaseEvent objects
    _committing: dict[int, Any] = field(default_factory=dict)  # id(session) → (engine, [Written])
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _installed: list[tuple[Any, str, Any]] = field(default_factory=list)

    def install(self) -> CommitWatch:
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        for name, fn in (("transient_to_pending", self._added), ("detached_to_persistent", self._added),
                         ("before_commit", self._before_commit), ("after_commit", self._after_commit),
                         ("after_rollback", self._after_rollback)):
            event.listen(Session, name, fn)
            self._installed.append((Session, name, fn))
        return self

    def remove(self) -> None:
        from sqlalchemy import event

        for target, name, fn in self._installed:
            event.remove(target, name, fn)
        self._installed.clear()

    # -- the session events ----------------------------------------------------------------

    def _added(self, session: Any, instance: object) -> None:
        from app.store.models import CaseEvent

        if isinstance(instance, CaseEvent):
            with self._lock:
                self._pending.setdefault(id(session), []).append(instance)

    def _before_commit(self, session: Any) -> None:
        with self._lock:
            events = self._pending.pop(id(session), [])
        if not events:
            return
        session.flush()  # (the commit flushes anyway) case ids and numbers are known from here
        written = [Written(e.case_id, e.seq, _number(session, e.case_id)) for e in events]
        with self._lock:
            self._committing[id(session)] = (session.get_bind(), written)

    def _after_commit(self, session: Any) -> None:
        with self._lock:
            done = self._committing.pop(id(session), None)
            if done is not None:
                self.committed.extend(done[1])

    def _after_rollback(self, session: Any) -> None:
        with self._lock:
            self._pending.pop(id(session), None)
            self._committing.pop(id(session), None)

    # -- after an interrupt ----------------------------------------------------------------

    def verdict(self) -> Verdict:
        """Whether the interrupted work committed case changes, and which cases."""
        with self._lock:
            committed = list(self.committed)
            in_doubt = list(self._committing.values())
        verdict: bool | None = bool(committed)
        for engine, written in in_doubt:  # interrupted between the database's commit and the bookkeeping
            found = _in_database(engine, written)
            if found is None:
                verdict = None if not committed else True
            elif found:
                committed += written
                verdict = True
        return Verdict(verdict, tuple(dict.fromkeys(w.number or str(w.case_id) for w in committed)))


def _number(session: Any, case_id: int) -> str | None:
    """The case's number as the session holds it (no query: the session is committing)."""
    from sqlalchemy.orm.util import identity_key

    from app.store.models import Case

    case = session.identity_map.get(identity_key(Case, case_id))
    return getattr(case, "number", None) or None


def _in_database(engine: Any, written: list[Written]) -> bool | None:
    """Whether the events of ``written`` are in the database (None: it cannot be asked)."""
    from sqlalchemy import and_, or_, select

    from app.store.models import CaseEvent

    try:
        with engine.connect() as conn:
            rows = conn.execute(select(CaseEvent.case_id, CaseEvent.seq).where(
                or_(*(and_(CaseEvent.case_id == w.case_id, CaseEvent.seq == w.seq) for w in written)))).all()
    except Exception:  # noqa: BLE001 - the database is gone or busy: say it cannot be told
        log.info("could not ask the database whether the interrupted step was committed", exc_info=True)
        return None
    return len(rows) == len(written)


__all__ = ["CommitWatch", "Verdict", "Written"]
