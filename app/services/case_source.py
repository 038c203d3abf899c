"""Read access to cases for the views: the store-backed implementation of the UI's CaseSource port.

Scope: a department operator reads only its department's cases and its own reports not yet
dispatched. On PostGIS the department's login is the store's and row-level security decides; on
SpatiaLite (no such thing) the source is scoped to the actor's department and every read —
the queue, one case, its timeline, its photos — applies the same rule (``queries.department_scope``).
"""

from __future__ import annotations

from app.domain.cases import CaseEventRecord, CaseSummary, PhotoRecord
from app.domain.definitions import Role
from app.services.actors import Actor
from app.store import queries
from app.store.engine import Store

#: The scope of a department operator without a department: matches no case.
NO_DEPARTMENT = -1


def read_scope(store: Store, actor: Actor | None) -> int | None:
    """The department id the reads of ``actor`` must be limited to on ``store``, or None (no filter).

    Only a department operator on SpatiaLite is scoped here; on PostGIS row-level security
    already limits what its login reads. A department operator without a department sees nothing.
    """
    if actor is None or actor.role is not Role.DEPARTMENT or store.backend != "spatialite":
        return None
    return actor.department_id if actor.department_id is not None else NO_DEPARTMENT


class StoreCaseSource:
    """Loads queue rows and timelines from a store; every call opens its own short session.

    ``scope`` (a department id, see :func:`read_scope`) limits every read; ``scope_to(actor)``
    sets it once the user is known (the desk's views share this one source).
    """

    def __init__(self, store: Store, scope: int | None = None):
        self._store = store
        self.scope = scope

    @classmethod
    def for_actor(cls, store: Store, actor: Actor | None) -> StoreCaseSource:
        return cls(store, read_scope(store, actor))

    def scope_to(self, actor: Actor | None) -> None:
        """Limit every later read to what ``actor`` may see (no-op for staff and on PostGIS)."""
        self.scope = read_scope(self._store, actor)

    def open_cases(self) -> list[CaseSummary]:
        with self._store.session() as session:
            return queries.open_case_summaries(session, scope=self.scope)

    def case(self, case_id: int) -> CaseSummary | None:
        with self._store.session() as session:
            return queries.case_summary(session, case_id, scope=self.scope)

    def events(self, case_id: int) -> list[CaseEventRecord]:
        with self._store.session() as session:
            return queries.case_events(session, case_id, scope=self.scope)

    def photos(self, case_id: int) -> list[PhotoRecord]:
        with self._store.session() as session:
            return queries.case_photos(session, case_id, scope=self.scope)
