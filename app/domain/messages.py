"""Messages as data: an id (the Chinese source text) plus parameters, translated at the edge.

Services, the store and the domain raise errors and return explanations as ``Msg`` values
instead of finished text. ``str(msg)`` gives the Chinese text (the default language, and what
the logs and tests read); an edge (GUI, CLI) renders the same message in the user's language
with ``app.i18n.Catalogue.text(msg)``, which looks the id up and fills in the parameters.

Parameters may be plain values (numbers keep their format spec: ``{dist:.0f}``), enum members
with a ``label`` (shown as the label in the user's language), nested ``Msg`` values, or
lists/tuples of these (joined with "、" in Chinese and ", " in English).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

ZH_JOIN = "、"


class Msg(str):
    """A user-visible message: ``Msg("案卷 {number} 不存在", number="S1")``.

    ``id`` is the Chinese source text with ``{name}`` placeholders; it is also the key of the
    message catalogue, so every literal id must have an English entry (tests/i18n checks it).
    A ``Msg`` *is* its Chinese text (a ``str``), so code that only shows or compares text keeps
    working; edges that translate look at ``id`` and ``params``.
    """

    id: str
    params: Mapping[str, Any]

    def __new__(cls, id: str, /, **params: Any) -> Msg:  # noqa: A002 - the catalogue's word
        template = str(id)
        text = template.format(**{k: chinese(v) for k, v in params.items()}) if params else template
        self = super().__new__(cls, text)
        self.id = template
        self.params = params
        return self

    def render(self, lookup: Callable[[str], str], value: Callable[[Any], Any]) -> str:
        """The text with ``lookup`` applied to the id and ``value`` to each parameter."""
        template = lookup(self.id)
        if not self.params:
            return template
        return template.format(**{k: value(v) for k, v in self.params.items()})

    def text(self) -> str:
        """The Chinese text (the source language) as a plain ``str``."""
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Msg({self.id!r}{params})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickle (worker processes): rebuild from id and parameters
        return _rebuild, (self.id, dict(self.params))


def _rebuild(id: str, params: dict[str, Any]) -> Msg:  # noqa: A002
    return Msg(id, **params)


class Seq(tuple):
    """A parameter shown as its items joined: ``zh`` between them in Chinese, ``en`` in English."""

    zh: str
    en: str

    def __new__(cls, items: Iterable[Any] = (), zh: str = ZH_JOIN, en: str = ", ") -> Seq:
        self = super().__new__(cls, items)
        self.zh, self.en = zh, en
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return Seq, (tuple(self), self.zh, self.en)


def Lines(items: Iterable[Any]) -> Seq:  # noqa: N802 - reads like a type at the call site
    """A parameter shown as one line per item (in every language)."""
    return Seq(items, "\n", "\n")


def Words(items: Iterable[Any]) -> Seq:  # noqa: N802
    """Parts written together in Chinese and apart in English ("3小时10分" / "3 h 10 min")."""
    return Seq(items, "", " ")


def chinese(value: Any) -> Any:
    """A parameter as shown in Chinese: enum members by label, messages as text, lists joined."""
    if isinstance(value, Msg):
        return value.text()
    if isinstance(value, Seq):
        return value.zh.join(str(chinese(v)) for v in value)
    if isinstance(value, Enum):
        return getattr(value, "label", value.value)
    if isinstance(value, (list, tuple)):
        return ZH_JOIN.join(str(chinese(v)) for v in value)
    return value


def as_msg(message: str | Msg) -> Msg:
    """``message`` as a ``Msg`` (a plain string becomes a message without parameters)."""
    return message if isinstance(message, Msg) else Msg(str(message))


def msg_of(exc: BaseException) -> Msg:
    """The message an exception carries (``exc.msg``), else its text as a message."""
    message = getattr(exc, "msg", None)
    return message if isinstance(message, Msg) else Msg(str(exc))


class MsgError(Exception):
    """An exception whose message is a ``Msg``: ``str(exc)`` is Chinese, ``exc.msg`` translatable."""

    def __init__(self, message: str | Msg = "", *args: Any) -> None:
        self.msg = as_msg(message)
        super().__init__(self.msg.text(), *args)


__all__ = ["Lines", "Msg", "MsgError", "Seq", "Words", "ZH_JOIN", "as_msg", "chinese", "msg_of"]
