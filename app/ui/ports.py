"""Narrow ports the UI needs from the rest of the application (implemented in app/services)."""

from __future__ import annotations

from typing import Protocol

from app.domain.cases import CaseEventRecord, CaseSummary


class CaseSource(Protocol):
    """Read access to cases; calls may be slow (remote database) and run in worker threads."""

    def open_cases(self) -> list[CaseSummary]:
        """Every open case as a queue row."""
        ...

    def events(self, case_id: int) -> list[CaseEventRecord]:
        """The timeline of one case, oldest first."""
        ...
