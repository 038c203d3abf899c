"""Replies to public and hotline reporters (两次回复): one when the case is filed, one when closed."""

from __future__ import annotations

from datetime import date

from app.domain.definitions import Action, Source
from app.domain.derived import DEFAULT_REASON, REPLY_SOURCES, TEMPLATES


def needs_reply(source: Source | str, action: Action) -> bool:
    """Whether ``action`` on a case from ``source`` triggers an automatic reply."""
    return Source(source) in REPLY_SOURCES and action in TEMPLATES


def reply_text(action: Action, *, number: str, category: str, reported_at: date | None = None, reason: str | None = None,
               original: str | None = None) -> str:
    """The reply to send after ``action`` (Chinese, ready to read out or text)."""
    when = f"于{reported_at.month}月{reported_at.day}日" if reported_at is not None else ""
    return TEMPLATES[action].format(when=when, category=category, number=number, reason=reason or DEFAULT_REASON,
                                     original=original or "")


def reply_payload(text: str, after: Action, caused_by: str) -> dict[str, object]:
    """The payload of an automatic reply event: its text, the action and the user that caused it."""
    return {"text": text, "auto": True, "after": after.value, "caused_by": caused_by}


__all__ = ["DEFAULT_REASON", "REPLY_SOURCES", "TEMPLATES", "needs_reply", "reply_payload", "reply_text"]
