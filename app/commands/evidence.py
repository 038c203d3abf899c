"""Closing evidence checked in the command layer, before 结案 is sent (any edge: dialog, bulk run).

The rule is pure (``app.domain.evidence``); this reads the case's photos through the Core and the
strictness from the case service's settings (``CaseSettings.require_photos_to_close``). The
service checks again when it closes (refusing only when strict; otherwise it warns afterwards).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.commands.model import cases_of
from app.domain.definitions import Action
from app.domain.evidence import CategoryRules, EvidenceCheck, EvidenceRule, closing_evidence, rule_for
from app.services.errors import ValidationError


def strict_evidence(target: Any) -> bool:
    """Whether the store's configuration refuses a close without its evidence."""
    settings = getattr(cases_of(target), "settings", None)
    return bool(getattr(settings, "require_photos_to_close", False))


def needs_evidence(command: Any) -> bool:
    """Whether ``command`` closes a case (its evidence is checked before it is sent)."""
    return getattr(command, "action", None) is Action.CLOSE


def check_closing(target: Any, case: Any, *, categories: CategoryRules | None = None,
                  default: EvidenceRule | None = None) -> EvidenceCheck:
    """Check ``case``'s (anything with ``id`` and ``category_code``) photos against its category's
    closing evidence. ``target`` is the Core (its ``photos(case_id)``). Call from a worker thread.

    Without ``categories``/``default`` the case service answers (``CaseService.closing_evidence``):
    the category's ``close_evidence``, the photos' shooting times and the latest dispatch, exactly
    as 结案 checks them."""
    cases = cases_of(target)
    if categories is None and default is None and hasattr(cases, "closing_evidence"):
        return cases.closing_evidence(case.id)
    rule = rule_for(getattr(case, "category_code", "") or "", strict=strict_evidence(target), default=default,
                    categories=categories)
    return closing_evidence(target.photos(case.id), rule)


def closing_precheck(target: Any, *, accept_incomplete: bool = False,
                     categories: CategoryRules | None = None) -> Callable[[Any], None]:
    """A per-case check for a bulk close: raises ValidationError naming what is missing (always when
    the configuration is strict; otherwise unless ``accept_incomplete``, which the user ticked)."""
    def check(row: Any) -> None:
        result = check_closing(target, row, categories=categories)
        if result.missing and (result.refused or not accept_incomplete):
            message = result.message()
            assert message is not None
            raise ValidationError("photo", message)
    return check


__all__ = ["check_closing", "closing_precheck", "needs_evidence", "strict_evidence"]
