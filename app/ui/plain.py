"""Text from cases and users shown as data, never as markup.

Qt guesses: a QLabel, a tooltip or a QMessageBox whose text merely *looks* like HTML
(``Qt.mightBeRichText``) is rendered as rich text — fonts, headings, tables, links, and ``<img>``
tags that load local files into the window. Addresses, descriptions, notes and names come from
strangers (public reports, hotlines, imports), so every widget that shows them either takes the
text as plain text (:class:`PlainLabel`, :class:`ElidedLabel`, an item view's display role) or
gets it escaped (:func:`html`, :func:`tooltip`).

Shown text is also made harmless to the layout and the eye:

- control characters, bidi overrides and isolates appear as U+FFFD (�), so nothing clears,
  reorders or hides the text around them;
- long runs without a break opportunity (a 3,000-character ``AAAA…`` or a URL) get zero-width
  spaces every :data:`RUN` characters, so they wrap instead of widening the dock; Chinese text
  and ordinary words are left as they are;
- labels can clamp what they show (characters and lines), the whole text then being in a
  plain tooltip.

The stored text is never changed: this is only how it is shown.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel, QSizePolicy, QWidget

ZWSP = "\u200b"
#: The longest run of characters without a break opportunity shown unbroken.
RUN = 20
#: Tooltips show at most this many characters (a 120 KB note must not fill the screen).
TOOLTIP_CHARS = 1500
#: A plain tooltip line longer than this is wrapped (Qt shows plain tooltips on one line).
TOOLTIP_LINE = 80
ELLIPSIS = "…"
#: What a control or bidi character shows as (the Control Pictures ␛ ␇ are missing from the CJK fonts).
REPLACEMENT = "\ufffd"

_NEWLINES = re.compile(r"\r\n|[\r\u2028\u2029\x85\x0b\x0c]")
# C0 controls except tab and newline, DEL, C1 controls; bidi embeddings, overrides and isolates
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
# a run of characters none of which offers a line break: not white space, not CJK / Hangul /
# full-width (those break anywhere), not an existing zero-width space
_UNBROKEN = re.compile(r"[^\s\u200b\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
                       + f"{{{RUN + 1},}}")


def clean(text: object) -> str:
    """``text`` as a string with line breaks normalised to ``\\n`` and control and bidi
    characters shown as U+FFFD (None → '')."""
    if text is None:
        return ""
    return _CONTROLS.sub(REPLACEMENT, _NEWLINES.sub("\n", str(text)))


def _break_run(match: re.Match) -> str:
    run = match.group()
    out, start = [], 0
    while len(run) - start > RUN:
        cut = start + RUN
        while cut < len(run) and unicodedata.combining(run[cut]):
            cut += 1  # never between a letter and its accent
        out.append(run[start:cut])
        start = cut
    out.append(run[start:])
    return ZWSP.join(part for part in out if part)


def breakable(text: str) -> str:
    """``text`` with a zero-width space every :data:`RUN` characters of a run that has no
    line-break opportunity (so a word-wrapping label or list can wrap it)."""
    return _UNBROKEN.sub(_break_run, text)


def clamp(text: str, max_chars: int | None = None, max_lines: int | None = None) -> tuple[str, bool]:
    """(the first ``max_lines`` lines / ``max_chars`` characters of ``text`` + "…", whether cut)."""
    cut = False
    if max_lines is not None:
        lines = text.split("\n")
        if len(lines) > max_lines:
            text, cut = "\n".join(lines[:max_lines]), True
    if max_chars is not None and len(text) > max_chars:
        text, cut = text[:max_chars], True
    return (text.rstrip() + ELLIPSIS if cut else text), cut


def line(text: object, max_chars: int | None = None) -> str:
    """``text`` for a one-line place (a table cell, a combo box, the status bar): cleaned, line
    breaks as spaces, optionally cut to ``max_chars`` with "…"."""
    return clamp(" ".join(clean(text).split("\n")), max_chars)[0]


def display(text: object, max_chars: int | None = None, max_lines: int | None = None) -> str:
    """``text`` for a wrapping plain-text place (a label, a list item): cleaned, clamped, breakable."""
    return breakable(clamp(clean(text), max_chars, max_lines)[0])


def html(text: object) -> str:
    """``text`` escaped for a rich-text widget: shown literally, wrapping, line breaks kept."""
    return _html.escape(breakable(clean(text))).replace("\n", "<br>")


def looks_rich(text: str) -> bool:
    """Whether Qt might take ``text`` for HTML (it looks for tags and entities)."""
    return "<" in text or "&" in text


def tooltip(text: object) -> str:
    """A tooltip that shows ``text`` literally and wraps ('' for empty text).

    Qt renders a tooltip that looks like HTML as rich text, and never wraps a plain one: text
    with markup characters, long lines or beyond :data:`TOOLTIP_CHARS` becomes an escaped,
    wrapping paragraph; short ordinary text stays as it is."""
    shown, cut = clamp(clean(text), TOOLTIP_CHARS, 40)
    if not shown.strip():
        return ""
    if not cut and not looks_rich(shown) and all(len(x) <= TOOLTIP_LINE for x in shown.split("\n")):
        return shown
    return f'<p style="white-space:pre-wrap">{_html.escape(breakable(shown))}</p>'


def plain_text_label(label: QLabel) -> QLabel:
    """Make ``label`` take its text literally (never as HTML); returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setOpenExternalLinks(False)
    return label


class PlainLabel(QLabel):
    """A label for data: plain text, word-wrapped (long runs too), optionally clamped to
    ``max_chars`` / ``max_lines`` with the whole text in a plain tooltip."""

    def __init__(self, text: object = "", parent: QWidget | None = None, *, max_chars: int | None = None,
                 max_lines: int | None = None, wrap: bool = True, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.max_chars, self.max_lines = max_chars, max_lines
        self._full = ""
        plain_text_label(self)
        self.setWordWrap(wrap)
        self.setText(text)

    def setText(self, text: object) -> None:  # noqa: N802 (Qt override)
        self._full = clean(text)
        shown, cut = clamp(self._full, self.max_chars, self.max_lines)
        super().setText(breakable(shown) if self.wordWrap() else shown)
        self.setToolTip(tooltip(self._full) if cut else "")

    def clear(self) -> None:
        self.setText("")

    def full_text(self) -> str:
        """The whole text (cleaned), not only what is shown."""
        return self._full


class ElidedLabel(QLabel):
    """A one-line label for data: plain text elided ("…") to at most ``max_width`` pixels, with the
    whole text in a plain tooltip when cut. ``text()`` is the whole (cleaned) text. The label is
    never wider than ``max_width``, so a 10,000-character name cannot widen the status bar or the
    alert strip.

    No Qt virtual is overridden in Python (paint, resize, size hints): a Python override called
    while Qt tears a window down at exit crashed the interpreter ("wrapped C/C++ object has been
    deleted" inside paintEvent, then a segmentation fault).
    """

    def __init__(self, text: object = "", parent: QWidget | None = None, *, max_width: int = 480,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.max_width, self.mode = max_width, mode
        self._full = ""
        plain_text_label(self)
        self.setWordWrap(False)
        self.setMaximumWidth(max_width)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("…") * 3)  # a layout may squeeze it
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def setText(self, text: object) -> None:  # noqa: N802 (shadows QLabel.setText for Python callers)
        self._full = line(text, 4 * TOOLTIP_CHARS)
        shown = self.shown_text()
        super().setText(shown)
        self.setToolTip(tooltip(self._full) if shown != self._full else "")

    def text(self) -> str:  # the whole text (QLabel holds the elided one)
        return self._full

    def clear(self) -> None:
        self.setText("")

    def shown_text(self) -> str:
        """What the label shows: the text elided to ``max_width``."""
        margins = self.contentsMargins()
        room = max(0, self.max_width - margins.left() - margins.right() - 2 * max(self.margin(), 0) - 2)
        return self.fontMetrics().elidedText(self._full, self.mode, room) if self._full else ""
