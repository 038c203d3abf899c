"""The configuration history as the administrator reads it (issue 12): who, when, what, before, after, why.

Every change of the hall's rules is a row of ``config_changes`` (app.domain.config_audit; written by
the services that change the rules, in the same transaction). This is the read side for the
administrator's workspace: the newest changes first, optionally of one entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.store import calendar_years as years_store
from app.store.engine import Store

#: Most changes read at once.
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class ChangeView:
    """One recorded change; ``before``/``after`` the canonical JSON records (None: created / removed)."""

    seq: int
    entity: str
    key: str
    actor: str
    at: datetime
    reason: str | None
    before: str | None
    after: str | None


def history(store: Store, entity: str | None = None, *, limit: int = DEFAULT_LIMIT) -> list[ChangeView]:
    """The newest ``limit`` changes (of ``entity`` when given), newest first (anyone may read)."""
    with store.engine.connect() as conn:
        years_store.require_calendar_tables(conn)
        rows: list[dict[str, Any]] = years_store.changes(conn, entity)
    rows = rows[-limit:] if limit else rows
    return [ChangeView(int(r["seq"]), str(r["entity"]), str(r["key"]), str(r["actor"]), r["at"], r["reason"],
                       r["before"], r["after"]) for r in reversed(rows)]


__all__ = ["DEFAULT_LIMIT", "ChangeView", "history"]
