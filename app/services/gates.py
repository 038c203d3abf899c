"""The loop's gates (issue 11): verification before filing (立案) and closing evidence (结案证据).

Both are checked here for the case services on every store; on PostgreSQL migration 0013's
trigger refuses the same events whatever client writes them.

- Verification: a report whose source needs it (``source_rules``: public, hotline, media,
  police by default) is filed only after a confirmed verification (核实); a case whose latest
  verification says *not confirmed* is never filed, whatever its source: it is rejected
  (不予立案, the reporter is told why) or sent to verify again.
- Closing evidence: app.domain.evidence's rule on the case's stored photos (kind and shooting
  time) and its latest dispatch; the category's ``close_evidence`` (or the configuration's
  ``require_photos_to_close``) decides between refused, the shift leader's override, and none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.definitions import Action, Source
from app.domain.evidence import EvidenceCheck, closing_evidence, rule_for_mode
from app.domain.messages import Msg
from app.store.models import Attachment, Case, CaseEvent, Category, SourceRule

#: The actions after which a department works on the case (the after photo is taken after the latest).
DISPATCH_ACTIONS = (Action.DISPATCH.value, "rule")


@dataclass(frozen=True)
class Verification:
    """What the case's record says about verification before filing."""

    needed: bool  # the case's source must be verified before filing
    done: bool  # a verification is recorded
    confirmed: bool | None  # the latest verification's finding (None: none recorded)
    result: str | None  # its text


def source_needs_verification(session: Session, source: str) -> bool:
    """Whether reports from ``source`` are verified before filing (``source_rules``; unknown: no)."""
    return bool(session.scalar(select(SourceRule.verify_before_filing).where(SourceRule.source == source)))


def verification(session: Session, case: Case) -> Verification:
    """The case's verification state (its latest verify event decides)."""
    row = session.execute(select(CaseEvent.id, CaseEvent.payload)
                          .where(CaseEvent.case_id == case.id, CaseEvent.action == Action.VERIFY.value)
                          .order_by(CaseEvent.seq.desc()).limit(1)).first()
    needed = source_needs_verification(session, case.source)
    if row is None:
        return Verification(needed, False, None, None)
    payload = row.payload
    data: dict[str, Any] = payload if isinstance(payload, dict) else {}
    return Verification(needed, True, data.get("confirmed") is not False, data.get("result"))


def filing_refusal(session: Session, case: Case) -> Msg | None:
    """Why the case may not be filed now (None: it may), in words that say what to do instead."""
    state = verification(session, case)
    if state.confirmed is False:
        result = Msg("（{result}）", result=state.result) if state.result else ""
        return Msg("案卷 {number} 经现场核实问题不属实{result}，不能立案：请「不予立案」并写明理由（将回复举报人），"
                   "或再次「派发核实」", number=case.number, result=result)
    if state.needed and not state.done:
        return Msg("案卷 {number} 来自「{source}」，按规定须先由监督员现场核实才能立案：请先「派发核实」，核实属实后再立案",
                   number=case.number, source=_source(case.source))
    return None


def _source(value: str) -> Source | str:
    return Source(value) if value in Source._value2member_map_ else value


def latest_dispatch(session: Session, case_id: int) -> datetime | None:
    """When the case was last dispatched (or ruled to a department)."""
    return session.scalar(select(func.max(CaseEvent.at))
                          .where(CaseEvent.case_id == case_id, CaseEvent.action.in_(DISPATCH_ACTIONS)))


@dataclass(frozen=True)
class _Photo:
    kind: str
    taken_at: datetime | None


def closing_check(session: Session, case: Case, category: Category, *, strict: bool = False) -> EvidenceCheck:
    """The case's closing evidence against its category's rule (``strict``: every category refuses)."""
    rows = session.execute(select(Attachment.kind, Attachment.taken_at)
                           .where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
    rule = rule_for_mode(getattr(category, "close_evidence", None), strict=strict)
    return closing_evidence([_Photo(k, t) for k, t in rows], rule, dispatched_at=latest_dispatch(session, case.id))


__all__ = ["DISPATCH_ACTIONS", "Verification", "closing_check", "filing_refusal", "latest_dispatch",
           "source_needs_verification", "verification"]
