"""Read access to cases for the views: the store-backed implementation of the UI's CaseSource port."""

from __future__ import annotations

from app.domain.cases import CaseEventRecord, CaseSummary
from app.store import queries
from app.store.engine import Store


class StoreCaseSource:
    """Loads queue rows and timelines from a store; every call opens its own short session."""

    def __init__(self, store: Store):
        self._store = store

    def open_cases(self) -> list[CaseSummary]:
        with self._store.session() as session:
            return queries.open_case_summaries(session)

    def case(self, case_id: int) -> CaseSummary | None:
        with self._store.session() as session:
            return queries.case_summary(session, case_id)

    def events(self, case_id: int) -> list[CaseEventRecord]:
        with self._store.session() as session:
            return queries.case_events(session, case_id)
