"""Replies to public and hotline reporters (两次回复): one when the case is filed, one when closed."""

from __future__ import annotations

from datetime import date

from app.domain.definitions import Action, Source

#: Sources whose reporter expects a reply from the centre.
REPLY_SOURCES = frozenset({Source.PUBLIC, Source.HOTLINE})
#: The actions after which a reply is generated automatically, and what it says.
_TEMPLATES = {
    Action.FILE: ("您好！您{when}反映的「{category}」问题（案卷号 {number}）已立案，我们将尽快派遣责任部门处置，"
                  "处置结果将再次告知您。感谢您对城市管理的支持！"),
    Action.CLOSE: ("您好！您反映的「{category}」问题（案卷号 {number}）已处置完毕，经监督员现场核查后结案。"
                   "如仍有问题，欢迎再次反映。感谢您对城市管理的支持！"),
    Action.REJECT: ("您好！您{when}反映的「{category}」问题（案卷号 {number}）经核实不予立案，原因：{reason}。"
                    "如有疑问，欢迎来电咨询。"),
    Action.LINK: ("您好！您{when}反映的「{category}」问题已由案卷 {original} 受理处置，我们会按该案卷的进展处理，"
                  "不再重复立案。感谢您的反映！"),
}


def needs_reply(source: Source | str, action: Action) -> bool:
    """Whether ``action`` on a case from ``source`` triggers an automatic reply."""
    return Source(source) in REPLY_SOURCES and action in _TEMPLATES


def reply_text(action: Action, *, number: str, category: str, reported_at: date | None = None, reason: str | None = None,
               original: str | None = None) -> str:
    """The reply to send after ``action`` (Chinese, ready to read out or text)."""
    when = f"于{reported_at.month}月{reported_at.day}日" if reported_at is not None else ""
    return _TEMPLATES[action].format(when=when, category=category, number=number, reason=reason or "不符合立案标准",
                                     original=original or "")


__all__ = ["REPLY_SOURCES", "needs_reply", "reply_text"]
