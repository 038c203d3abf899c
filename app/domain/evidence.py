"""Closing evidence (结案证据): which photos a case needs before it may be closed, checked before the
close is sent, so the user learns what is missing while it can still be fixed.

Pure: the photos are anything with a ``kind`` (report / before / after / other) and, when the
source knows it, ``taken_at`` (the time the photo was taken). A report photo counts as the
"before" photo, as the case service counts it when it closes (``CaseService.close``).

The after photo must also be taken after the case's latest dispatch (``dispatched_at``): a photo
from before the department got the task proves nothing about its work. Each thing missing has
a stable code (``MISSING_CODES``), recorded in the close event's payload and computed the same
way by migration 0013's trigger on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.messages import Msg, Seq

BEFORE_KINDS = frozenset({"before", "report"})
AFTER_KINDS = frozenset({"after"})
#: What a category's ``close_evidence`` says when evidence is missing (categories.close_evidence).
CLOSE_EVIDENCE_MODES = ("refuse", "override", "none")
#: The code of each thing that can be missing, with its Chinese name (the order they are checked in).
MISSING_CODES = {
    "before_photo": Msg("处置前照片"),
    "after_photo": Msg("处置后照片"),
    "before_time": Msg("处置前照片的拍摄时间"),
    "after_time": Msg("处置后照片的拍摄时间"),
    "after_after_dispatch": Msg("派遣之后拍摄的处置后照片"),
    "after_after_before": Msg("晚于处置前照片拍摄的处置后照片"),
}
#: The marker of a photo source that does not carry photo times at all (no ``taken_at`` attribute).
_NO_TIME = object()


@dataclass(frozen=True)
class EvidenceRule:
    """What closing a case needs.

    ``before``/``after``: a photo before/after handling; ``times``: each of them with the time it
    was taken, the before photo not later than the after photo; ``strict``: missing evidence
    refuses the close (the case service's ``require_photos_to_close``) — otherwise the user must
    confirm closing without it.
    """

    before: bool = True
    after: bool = True
    times: bool = True
    strict: bool = False

    @property
    def needs_anything(self) -> bool:
        return self.before or self.after


#: Category code prefixes (major "06", or full "06010") whose evidence differs from the default; the
#: longest matching prefix wins. Empty by default: every category needs both photos with times.
CategoryRules = Mapping[str, EvidenceRule]


def rule_for(category_code: str, *, strict: bool = False, default: EvidenceRule | None = None,
             categories: CategoryRules | None = None) -> EvidenceRule:
    """The closing evidence of a category (``strict`` from the configuration decides refuse or confirm)."""
    rule = default or EvidenceRule()
    for prefix in sorted(categories or {}, key=len, reverse=True):
        if category_code.startswith(prefix):
            rule = (categories or {})[prefix]
            break
    return EvidenceRule(rule.before, rule.after, rule.times, strict)


def rule_for_mode(mode: str | None, *, strict: bool = False) -> EvidenceRule:
    """The closing evidence of a category's ``close_evidence`` mode ('refuse', 'override', 'none').

    ``strict`` (the configuration's ``require_photos_to_close``) makes every category refuse,
    'none' included.
    """
    if strict or mode == "refuse":
        return EvidenceRule(strict=True)
    if mode == "none":
        return EvidenceRule(before=False, after=False, times=False)
    return EvidenceRule()


@dataclass(frozen=True)
class EvidenceCheck:
    """The outcome: what is present (with its time), what is missing, and whether closing may go on."""

    rule: EvidenceRule
    before_at: datetime | None  # the earliest before photo's time (None: none, or no time)
    after_at: datetime | None  # the latest after photo's time
    has_before: bool
    has_after: bool
    times_known: bool  # the photo source carries photo times
    missing: tuple[Msg, ...]
    codes: tuple[str, ...] = ()  # the MISSING_CODES of what is missing, in the order of ``missing``
    dispatched_at: datetime | None = None  # the latest dispatch the after photo is checked against

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def refused(self) -> bool:
        """Missing evidence and a strict rule: the close must not be sent."""
        return bool(self.missing) and self.rule.strict

    def message(self) -> Msg | None:
        """One message naming everything missing (None when complete)."""
        if not self.missing:
            return None
        text = "结案证据不完整，缺少：{missing}" if not self.rule.strict else \
            "结案证据不完整，按规定不能结案，缺少：{missing}"
        return Msg(text, missing=Seq(self.missing))


    def payload(self) -> dict[str, Any]:
        """What the close event records: ``{"before_at", "after_at", "missing": [codes]}``."""
        def at(value: datetime | None) -> str | None:
            return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None
        return {"before_at": at(self.before_at), "after_at": at(self.after_at), "missing": list(self.codes)}


def closing_evidence(photos: Iterable[Any], rule: EvidenceRule, *,
                     dispatched_at: datetime | None = None) -> EvidenceCheck:
    """Check ``photos`` against ``rule`` (and the after photo against the latest dispatch)."""
    befores: list[datetime | None] = []
    afters: list[datetime | None] = []
    times_known = True
    for photo in photos:
        kind = getattr(photo, "kind", None)
        raw = getattr(photo, "taken_at", _NO_TIME)
        if raw is _NO_TIME:
            times_known = False
        at = raw if isinstance(raw, datetime) else None
        if kind in BEFORE_KINDS:
            befores.append(at)
        elif kind in AFTER_KINDS:
            afters.append(at)
    codes: list[str] = []
    if rule.before and not befores:
        codes.append("before_photo")
    if rule.after and not afters:
        codes.append("after_photo")
    before_times = [t for t in befores if t is not None]
    after_times = [t for t in afters if t is not None]
    before_at = min(before_times) if before_times else None
    after_at = max(after_times) if after_times else None
    if rule.times and times_known:
        if rule.before and befores and not before_times:
            codes.append("before_time")
        if rule.after and afters and not after_times:
            codes.append("after_time")
        if rule.after and after_at is not None and dispatched_at is not None and after_at < dispatched_at:
            codes.append("after_after_dispatch")
        if rule.before and rule.after and before_at is not None and after_at is not None and after_at < before_at:
            codes.append("after_after_before")
    missing = tuple(MISSING_CODES[code] for code in codes)
    return EvidenceCheck(rule, before_at, after_at, bool(befores), bool(afters), times_known, missing,
                         tuple(codes), dispatched_at)


__all__ = ["AFTER_KINDS", "BEFORE_KINDS", "CLOSE_EVIDENCE_MODES", "MISSING_CODES", "CategoryRules", "EvidenceCheck",
           "EvidenceRule", "closing_evidence", "rule_for", "rule_for_mode"]
