"""The one input policy: every text a person, a file or a client hands GridHall passes here first.

Pure Python (no Qt, no SQL). Every entry point — the GUI forms, the command line, plugins, the
coming importers and the HTTP server — cleans user text with :func:`clean_text` (the services
do it for them: ``app.services.intake.clean_text`` raises the services' ``ValidationError``).

The policy, per field (:data:`FIELDS`):

- **Normalised**: Unicode NFC for prose (description, address, names, notes); NFKC for codes,
  digits and phone numbers, whose decimal digits of any script also become ASCII (so
  ``０６０１０`` is the category ``06010`` and ``ｕｒｇｅｎｔ`` the level ``urgent``). Line ends
  (``\\r\\n``, ``\\r``, U+2028, U+2029) become ``\\n`` in multi-line fields; in single-line fields
  tabs and line ends become a space. Leading and trailing white space and invisible characters
  are removed.
- **Empty**: text with no visible character (only white space, zero-width characters, BOMs,
  fillers, format characters) counts as empty: ``None`` (a required field says so).
- **Refused** (nothing is stripped silently: what enters the append-only history is what the
  user saw): C0 and C1 control characters (``\\n`` and ``\\t`` allowed in multi-line fields only),
  DEL, the bidirectional overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069),
  Unicode noncharacters, lone surrogates (a non-UTF-8 byte decoded with ``surrogateescape``
  is named as that byte) and more than 30 combining marks on one character ("zalgo"). The
  message names the field, the character's code point and its position, never the text.
- **Length**: at most the field's limit in characters (the column's declared length; the
  long text columns have the caps below); longer input is named by its size, never echoed.

Code-like fields (category, codes, level, source, kind, department, case numbers) have an
input cap larger than the code itself, so the code parsers can still say precisely what is
wrong with a code that is one digit too long.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum

from app.domain.messages import Msg, MsgError


class Shape(Enum):
    """How a field's text is normalised."""

    PROSE = "prose"  # multi-line text, NFC; \n and \t kept
    LINE = "line"  # one line, NFC; tabs and line ends become spaces
    CODE = "code"  # one line, NFKC, decimal digits of every script as ASCII
    PHONE = "phone"  # like CODE, then only digits and the usual separators


@dataclass(frozen=True)
class FieldSpec:
    """One input field: its name (the ValidationError's ``field``), label, limit and shape."""

    name: str
    label: Msg
    limit: int
    shape: Shape


#: Long text columns (``Text`` in the schema) have these caps (GB/T 47678.5 gives 1,000 for 备注).
MAX_DESCRIPTION = 2000
MAX_NOTE = 1000
#: At most this many combining marks on one base character (Unicode's stream-safe limit, UAX #15).
MAX_COMBINING = 30

_SPECS = (
    # case text (app/store/models.py Case): address VARCHAR(200), reporter_* VARCHAR(64)/(32)
    FieldSpec("description", Msg("问题描述"), MAX_DESCRIPTION, Shape.PROSE),
    FieldSpec("address", Msg("地址"), 200, Shape.LINE),
    FieldSpec("reporter_name", Msg("上报人姓名"), 64, Shape.LINE),
    FieldSpec("reporter_phone", Msg("上报人电话"), 32, Shape.PHONE),
    # notes and reasons of case steps (case_events.reason, Text)
    FieldSpec("reason", Msg("理由"), MAX_NOTE, Shape.PROSE),
    FieldSpec("note", Msg("备注"), MAX_NOTE, Shape.PROSE),
    FieldSpec("result", Msg("结果说明"), MAX_NOTE, Shape.PROSE),
    # users (VARCHAR(64) each; phone VARCHAR(32))
    FieldSpec("username", Msg("用户名"), 64, Shape.CODE),
    FieldSpec("display_name", Msg("姓名"), 64, Shape.LINE),
    FieldSpec("phone", Msg("电话"), 32, Shape.PHONE),
    # attachments.filename VARCHAR(200); case_claims.workstation VARCHAR(64)
    FieldSpec("filename", Msg("文件名"), 200, Shape.LINE),
    FieldSpec("workstation", Msg("席位"), 64, Shape.LINE),
    # codes and choices: input caps (the parsers judge the exact form)
    FieldSpec("category", Msg("问题类别"), 64, Shape.CODE),
    FieldSpec("kind", Msg("类型"), 32, Shape.CODE),
    FieldSpec("level", Msg("等级"), 32, Shape.CODE),
    FieldSpec("source", Msg("来源"), 32, Shape.CODE),
    FieldSpec("component", Msg("部件标识码"), 64, Shape.CODE),
    FieldSpec("grid", Msg("网格编码"), 64, Shape.CODE),
    FieldSpec("code", Msg("编码"), 64, Shape.CODE),
    FieldSpec("department", Msg("部门代码"), 32, Shape.CODE),
    FieldSpec("case", Msg("案卷编号"), 32, Shape.CODE),
)
#: Every field of the policy by name.
FIELDS: dict[str, FieldSpec] = {s.name: s for s in _SPECS}

#: Refused: bidirectional embeddings, overrides and isolates (they reorder what is shown).
BIDI_CONTROLS = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
#: Invisible although not white space: counted as nothing (a text of only these is empty).
_FILLERS = frozenset({0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x034F, 0x17B4, 0x17B5, 0x180E})
_LINE_ENDS = {"\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n"}
_PHONE_SIGNS = frozenset(" +-()#*/.,;、转分机extEXT")
_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x09: "TAB", 0x0A: "LF", 0x0B: "VT", 0x0C: "FF", 0x0D: "CR",
          0x1B: "ESC", 0x7F: "DEL", 0x85: "NEL", 0x9B: "CSI", 0x202A: "LRE", 0x202B: "RLE", 0x202C: "PDF",
          0x202D: "LRO", 0x202E: "RLO", 0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI"}


class TextRefused(MsgError, ValueError):
    """A text breaks the input policy; ``field`` names the field (as the services' ValidationError)."""

    def __init__(self, field: str, message: str | Msg):
        super().__init__(message)
        self.field = field


def spec(field: str) -> FieldSpec:
    """The policy of ``field`` (KeyError for a name the policy does not know: a programming error)."""
    return FIELDS[field]


def code_point(ch: str) -> str:
    """``U+001B`` for a character."""
    return f"U+{ord(ch):04X}"


def _name(cp: int) -> Msg | str:
    short = _NAMES.get(cp)
    return Msg("（{name}）", name=short) if short else ""


def _invisible(ch: str) -> bool:
    """White space, format characters (zero-width, BOM, marks) and blank fillers."""
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp", "Cc") or ord(ch) in _FILLERS


def visible(text: str) -> bool:
    """True when ``text`` shows at least one character (not only white space or invisibles)."""
    return any(not _invisible(ch) and unicodedata.category(ch) not in ("Mn", "Me") for ch in text)


def _strip(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def too_long(label: Msg | str, count: int, limit: int) -> Msg:
    """"地址共 3,000 字，超过 200 字上限": the size, never the text."""
    return Msg("{label}共 {count:,} 字，超过 {limit:,} 字上限", label=label, count=count, limit=limit)


def _forbidden(s: FieldSpec, text: str) -> Msg | None:
    """The message for the first character the policy refuses, or None."""
    for pos, ch in enumerate(text, start=1):
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp <= 0x9F:
            if ch in "\n\t\r":
                continue  # line ends and tabs: kept in prose, spaces elsewhere (see _normalise)
            return Msg("{label}含有控制字符 {code}{name}（第 {pos} 个字符），不能保存：请删除后重试",
                       label=s.label, code=code_point(ch), name=_name(cp), pos=pos)
        if cp in BIDI_CONTROLS:
            return Msg("{label}含有改变文字显示方向的控制字符 {code}{name}（第 {pos} 个字符），会让显示的文字与实际内容不同，不能保存",
                       label=s.label, code=code_point(ch), name=_name(cp), pos=pos)
        if 0xD800 <= cp <= 0xDFFF:
            if 0xDC80 <= cp <= 0xDCFF:  # surrogateescape: the byte that was not UTF-8
                return Msg("{label}含有无法按 UTF-8 解码的字节 0x{byte:02X}（第 {pos} 个字符）：请以 UTF-8 编码输入",
                           label=s.label, byte=cp - 0xDC00, pos=pos)
            return Msg("{label}含有无效的 Unicode 代理字符 {code}（第 {pos} 个字符），不能保存",
                       label=s.label, code=code_point(ch), pos=pos)
        if 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE:
            return Msg("{label}含有 Unicode 非字符 {code}（第 {pos} 个字符），不能保存",
                       label=s.label, code=code_point(ch), pos=pos)
    return None


def _zalgo(s: FieldSpec, text: str) -> Msg | None:
    run = 0
    for pos, ch in enumerate(text, start=1):
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me"):
            run += 1
            if run > MAX_COMBINING:
                return Msg("{label}第 {pos} 个字符处叠加了超过 {limit} 个组合符号，不能保存",
                           label=s.label, pos=pos - run + 1, limit=MAX_COMBINING)
        else:
            run = 0
    return None


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.decimal(ch, None) is not None
                   else ch for ch in text)


def _normalise(s: FieldSpec, text: str) -> str:
    for old, new in _LINE_ENDS.items():
        text = text.replace(old, new)
    if s.shape is not Shape.PROSE:
        text = text.replace("\n", " ").replace("\t", " ")
    if s.shape in (Shape.CODE, Shape.PHONE):
        return _ascii_digits(unicodedata.normalize("NFKC", text))
    return unicodedata.normalize("NFC", text)


def _phone(s: FieldSpec, text: str) -> Msg | None:
    for pos, ch in enumerate(text, start=1):
        if not (ch.isascii() and ch.isdigit()) and ch not in _PHONE_SIGNS:
            return Msg("{label}「{value}」无效：第 {pos} 个字符「{ch}」不是数字；电话号码只能包含数字、空格和 + - ( ) # * 等符号",
                       label=s.label, value=text, pos=pos, ch=ch)
    if sum(ch.isdigit() for ch in text) < 3:
        return Msg("{label}「{value}」无效：至少应有 3 位数字", label=s.label, value=text)
    return None


def clean_text(field: str, value: object, *, label: Msg | None = None) -> str | None:
    """``value`` normalised by the policy of ``field``; None when it shows nothing.

    Raises :class:`TextRefused` (with ``field``) for a control, bidi or invalid character, an
    oversized text (named by its size) or a value that is not text at all. ``label`` names the
    field in messages instead of the field's own label (e.g. "网格编码" for the field "code").
    """
    s = FIELDS[field]
    if label is not None:
        s = FieldSpec(s.name, label, s.limit, s.shape)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TextRefused(field, Msg("{label}应为文本，实际为 {type}", label=s.label, type=type(value).__name__))
    if len(value) > 4 * s.limit + 256:  # hopeless whatever the normalisation: refuse before any work
        raise TextRefused(field, too_long(s.label, len(value), s.limit))
    problem = _forbidden(s, value)
    if problem is not None:
        raise TextRefused(field, problem)
    text = _strip(_normalise(s, value))
    if not visible(text):
        return None
    if len(text) > s.limit:
        raise TextRefused(field, too_long(s.label, len(text), s.limit))
    problem = _zalgo(s, text) or (_phone(s, text) if s.shape is Shape.PHONE else None)
    if problem is not None:
        raise TextRefused(field, problem)
    return text


def require_text(field: str, value: object, empty: Msg | None = None) -> str:
    """Like :func:`clean_text`, but an empty (or invisible-only) text is refused with ``empty``."""
    text = clean_text(field, value)
    if text is None:
        raise TextRefused(field, empty or Msg("{label}不能为空", label=FIELDS[field].label))
    return text


def normalize_code(value: str) -> str:
    """A code as typed, NFKC-normalised with ASCII digits and trimmed (no policy checks)."""
    return _ascii_digits(unicodedata.normalize("NFKC", value)).strip()


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() and ord(ch) not in BIDI_CONTROLS else f"\\u{ord(ch):04x}"
                   for ch in text)


def excerpt(value: object, width: int = 48) -> Msg | str:
    """User input fit to be quoted in a message: escaped, and elided in the middle when long."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= width:
        return _printable(text)
    half = width // 2
    return Msg("{head}…{tail}（共 {count:,} 字）", head=_printable(text[:half]), tail=_printable(text[-half:]),
               count=len(text))


__all__ = ["BIDI_CONTROLS", "FIELDS", "MAX_COMBINING", "MAX_DESCRIPTION", "MAX_NOTE", "FieldSpec", "Shape",
           "TextRefused", "clean_text", "code_point", "excerpt", "normalize_code", "require_text", "spec",
           "too_long", "visible"]
