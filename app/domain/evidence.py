"""Closing evidence (结案证据): which photos a case needs before it may be closed, checked before the
close is sent, so the user learns what is missing while it can still be fixed.

Pure: the photos are anything with a ``kind`` (report / before / after / other) and, when the
source knows it, ``taken_at`` (the time the photo was taken). A report photo counts as the
"before" photo, as the case service counts it when it closes (``CaseService.close``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.messages import Msg, Seq

BEFORE_KINDS = frozenset({"before", "report"})
AFTER_KINDS = frozenset({"after"})
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


def closing_evidence(photos: Iterable[Any], rule: EvidenceRule) -> EvidenceCheck:
    """Check ``photos`` against ``rule``."""
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
    missing: list[Msg] = []
    if rule.before and not befores:
        missing.append(Msg("处置前照片"))
    if rule.after and not afters:
        missing.append(Msg("处置后照片"))
    before_times = [t for t in befores if t is not None]
    after_times = [t for t in afters if t is not None]
    before_at = min(before_times) if before_times else None
    after_at = max(after_times) if after_times else None
    if rule.times and times_known:
        if rule.before and befores and not before_times:
            missing.append(Msg("处置前照片的拍摄时间"))
        if rule.after and afters and not after_times:
            missing.append(Msg("处置后照片的拍摄时间"))
        if before_at is not None and after_at is not None and after_at < before_at:
            missing.append(Msg("晚于处置前照片拍摄的处置后照片"))
    return EvidenceCheck(rule, before_at, after_at, bool(befores), bool(afters), times_known, tuple(missing))


__all__ = ["AFTER_KINDS", "BEFORE_KINDS", "CategoryRules", "EvidenceCheck", "EvidenceRule", "closing_evidence",
           "rule_for"]
