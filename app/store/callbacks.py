"""回访 for evaluation: the share of satisfied call-backs per department in a period, from the events alone.

A call-back event (``callback``, payload ``result`` and — added by the service or by migration
0015's derive — ``department`` / ``department_name``: the department that handled the case)
is counted in the period ``[start, end)`` of its time. When a case was called back more than
once in the period only its latest call-back counts (an unreachable reporter reached later, a
corrected result). The satisfied share is

    numerator   = satisfied + basically_satisfied
    denominator = call-backs that reached the reporter (every result but unreachable)

so an unreachable reporter neither helps nor hurts a department. An event without the
department in its payload (an imported one) takes the department of the case's last dispatch or
ruling before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain.definitions import Action
from app.domain.loop import CALLBACK_RESULTS, REACHED_RESULTS, SATISFIED_RESULTS
from app.store.engine import Store
from app.store.models import CaseEvent, Department


@dataclass(frozen=True)
class Satisfaction:
    """One department's call-backs in a period."""

    department: str | None  # code (None: a case without a department)
    department_name: str | None
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    unreachable: int

    @property
    def numerator(self) -> int:
        return self.satisfied + self.basically_satisfied

    @property
    def denominator(self) -> int:
        return self.satisfied + self.basically_satisfied + self.unsatisfied

    @property
    def share(self) -> float | None:
        """numerator / denominator (None when no call-back reached a reporter)."""
        return self.numerator / self.denominator if self.denominator else None


def satisfaction(store: Store, start: datetime, end: datetime) -> list[Satisfaction]:
    """Per department (by code), the latest call-back of each case in ``[start, end)``."""
    assert set(SATISFIED_RESULTS) <= set(REACHED_RESULTS)  # the share's parts (app.domain.loop)
    with store.session() as s:
        rows = s.execute(select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.payload)
                         .where(CaseEvent.action == Action.CALLBACK.value, CaseEvent.at >= start,
                                CaseEvent.at < end)
                         .order_by(CaseEvent.case_id, CaseEvent.seq)).all()
        latest = {case_id: (seq, dict(payload or {})) for case_id, seq, payload in rows}  # the last one wins
        missing = [cid for cid, (_seq, p) in latest.items() if not p.get("department")]
        if missing:
            handled = s.execute(select(CaseEvent.case_id, CaseEvent.seq, Department.code, Department.name)
                                .join(Department, Department.id == CaseEvent.department_id)
                                .where(CaseEvent.case_id.in_(missing),
                                       CaseEvent.action.in_([Action.DISPATCH.value, Action.RULE.value]))
                                .order_by(CaseEvent.case_id, CaseEvent.seq)).all()
            for case_id, seq, dept_code, dept_name in handled:
                if seq < latest[case_id][0]:
                    latest[case_id][1].update(department=dept_code, department_name=dept_name)
    counts: dict[str | None, dict[str, int]] = {}
    names: dict[str | None, str | None] = {}
    for _seq, payload in latest.values():
        result = payload.get("result")
        if not isinstance(result, str) or result not in CALLBACK_RESULTS:
            continue
        code: str | None = payload.get("department")
        names.setdefault(code, payload.get("department_name"))
        tally = counts.setdefault(code, dict.fromkeys(CALLBACK_RESULTS, 0))
        tally[result] += 1
    return [Satisfaction(code, names[code], **counts[code])
            for code in sorted(counts, key=lambda c: (c is None, c or ""))]


__all__ = ["Satisfaction", "satisfaction"]
