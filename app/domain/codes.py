"""Parsing and validation of the digital-urban-management identifiers.

- unit grid code, 15 digits: admin(6, GB/T 2260) + street/town(3, GB/T 10114) + community(3) + seq(3)
- component identifier, 17 digits: admin(6) + major(2) + minor(3) + serial(6) (GB/T 47678.5-2026)
- legacy component identifier, 16 digits: admin(6) + major(2) + minor(2) + serial(6) (CJ/T 214)
- event (matter) code, 11 digits: admin(6) + category(5); it names a type at a place, not a case

Every error is a ``CodeError`` whose message names the faulty part and the rule it breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.definitions import Kind
from app.domain.messages import Msg, MsgError, Seq, msg_of
from app.domain.taxonomy import Taxonomy, UnknownCategory, UnmappedLegacyCode
from app.domain.text import TextRefused, clean_text

#: Province-level prefixes of GB/T 2260 (including 71 Taiwan, 81 Hong Kong, 82 Macao).
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})

_GRID = Msg("网格编码")
_COMPONENT = Msg("部件标识码")
_LEGACY = Msg("旧版部件标识码")
_EVENT = Msg("事件编码")
_STREET_RULE = Msg("001–399（001–099 街道，100–199 镇，200–399 乡）")
_MAJOR, _MINOR, _SERIAL = Msg("大类段"), Msg("小类段"), Msg("流水号段")


def _of(label: Msg, code: str) -> Msg:
    """"网格编码 320… 的" (English: "grid code 320…: "), the prefix of a segment's message."""
    return Msg("{label} {code} 的", label=label, code=code)


class CodeError(MsgError, ValueError):
    """An identifier is malformed; ``part`` names the faulty segment (or None for the whole)."""

    def __init__(self, message: str | Msg, part: str | None = None):
        super().__init__(message)
        self.part = part


def _digits(text: str | int, label: Msg, lengths: tuple[int, ...]) -> str:
    """The digit string (NFKC: full-width and other scripts' digits become ASCII, the input policy
    of app.domain.text applied), or CodeError naming the length or the first non-digit."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise CodeError(Msg("{label}应为数字文本，实际为 {type}", label=label, type=type(text).__name__))
    try:
        s = clean_text("code", text, label=label) or ""
    except TextRefused as exc:
        raise CodeError(msg_of(exc)) from None
    want = Seq((Msg("{n}位", n=n) for n in lengths), "或", " or ")
    if not s:
        raise CodeError(Msg("{label}为空：应为{want}数字", label=label, want=want))
    for i, ch in enumerate(s, start=1):
        if not ("0" <= ch <= "9"):
            raise CodeError(Msg("{label} {code} 第{i}位「{ch}」不是数字：应为{want}数字", label=label, code=s, i=i,
                                ch=ch, want=want))
    if len(s) not in lengths:
        raise CodeError(Msg("{label} {code} 应为{want}数字，实际{n}位", label=label, code=s, want=want, n=len(s)))
    return s


def check_admin_code(admin: str, label: str | Msg = "") -> str:
    """Validate a 6-digit county-level GB/T 2260 code; return it or raise CodeError."""
    msg = Msg("{label}行政区划段 {admin} 不是有效的县级行政区划代码", label=label, admin=admin)
    if len(admin) != 6 or not admin.isdigit():
        raise CodeError(Msg("{msg}：应为6位数字", msg=msg), "admin")
    if admin[:2] not in PROVINCES:
        raise CodeError(Msg("{msg}：省级代码 {province} 不存在（GB/T 2260 省级代码为 11–82 中的34个）", msg=msg,
                            province=admin[:2]), "admin")
    if admin[2:4] == "00":
        raise CodeError(Msg("{msg}：第3–4位（地级段）不能为 00", msg=msg), "admin")
    if admin[4:] == "00":
        raise CodeError(Msg("{msg}：第5–6位（县级段）不能为 00，{admin} 是地级或省级代码", msg=msg, admin=admin), "admin")
    return admin


def _segment(value: str, label: Msg, whole: str, part: str, what: Msg, rule: str | Msg, ok: bool) -> None:
    if not ok:
        raise CodeError(Msg("{label} {whole} 的{what} {value} 无效：应为 {rule}", label=label, whole=whole, what=what,
                            value=value, rule=rule), part)


def street_kind_of(street: str) -> str:
    """街道 / 镇 / 乡 for a 3-digit GB/T 10114 street/town code (001–399)."""
    n = int(street)
    if 1 <= n <= 99:
        return "街道"
    if 100 <= n <= 199:
        return "镇"
    if 200 <= n <= 399:
        return "乡"
    raise CodeError(Msg("街道/乡镇代码 {street} 无效：应为 {rule}", street=street, rule=_STREET_RULE), "street")


@dataclass(frozen=True)
class GridCode:
    """A 15-digit unit grid (单元网格) identifier."""

    admin: str
    street: str
    community: str
    seq: str

    @classmethod
    def parse(cls, text: str | int) -> GridCode:
        """Parse and validate; CodeError names the faulty part."""
        s = _digits(text, _GRID, (15,))
        check_admin_code(s[:6], _of(_GRID, s))
        street, community, seq = s[6:9], s[9:12], s[12:]
        _segment(street, _GRID, s, "street", Msg("街道/乡镇段"), _STREET_RULE, 1 <= int(street) <= 399)
        _segment(community, _GRID, s, "community", Msg("社区/村段"), "001–999", community != "000")
        _segment(seq, _GRID, s, "seq", Msg("网格顺序号段"), "001–999", seq != "000")
        return cls(s[:6], street, community, seq)

    def __str__(self) -> str:
        return self.admin + self.street + self.community + self.seq

    @property
    def street_code(self) -> str:
        """The 9-digit street/town code (admin + street)."""
        return self.admin + self.street

    @property
    def community_code(self) -> str:
        """The 12-digit community/village code (admin + street + community)."""
        return self.admin + self.street + self.community

    @property
    def street_kind(self) -> str:
        """街道 / 镇 / 乡."""
        return street_kind_of(self.street)


def _check_category(kind: Kind, code: str, label: str, whole: str, taxonomy: Taxonomy | None) -> None:
    if taxonomy is None:
        return
    try:
        taxonomy.get(kind, code)
    except UnknownCategory as exc:
        raise CodeError(Msg("{label} {whole} 的类别段 {code} 无效：{error}", label=label, whole=whole, code=code,
                            error=msg_of(exc)), "category") from None


@dataclass(frozen=True)
class ComponentId:
    """A 17-digit management component (管理部件) identifier."""

    admin: str
    major: str
    minor: str
    serial: str

    @classmethod
    def parse(cls, text: str | int, taxonomy: Taxonomy | None = None) -> ComponentId:
        """Parse and validate; with ``taxonomy`` the category must exist in the component list."""
        s = _digits(text, _COMPONENT, (17,))
        return cls._from_digits(s, taxonomy)

    @classmethod
    def _from_digits(cls, s: str, taxonomy: Taxonomy | None) -> ComponentId:
        check_admin_code(s[:6], _of(_COMPONENT, s))
        major, minor, serial = s[6:8], s[8:11], s[11:]
        _segment(major, _COMPONENT, s, "major", _MAJOR, "01–05", "01" <= major <= "05")
        _segment(minor, _COMPONENT, s, "minor", _MINOR, "001–999", minor != "000")
        _segment(serial, _COMPONENT, s, "serial", _SERIAL, "000001–999999", serial != "000000")
        _check_category(Kind.COMPONENT, major + minor, _COMPONENT, s, taxonomy)
        return cls(s[:6], major, minor, serial)

    @classmethod
    def make(cls, admin: str, category_code: str, serial: int, taxonomy: Taxonomy | None = None) -> ComponentId:
        """Build from parts (serial as a number 1–999999), validating like ``parse``."""
        if not 1 <= serial <= 999_999:
            raise CodeError(Msg("{label}流水号 {serial} 超出范围：应为 1–999999", label=_COMPONENT, serial=serial), "serial")
        return cls.parse(f"{admin}{category_code}{serial:06d}", taxonomy)

    @classmethod
    def from_legacy(cls, legacy: LegacyComponentId | str, taxonomy: Taxonomy) -> ComponentId:
        """Convert a 16-digit legacy identifier through the taxonomy's legacy map."""
        old = legacy if isinstance(legacy, LegacyComponentId) else LegacyComponentId.parse(legacy)
        try:
            cat = taxonomy.from_legacy(Kind.COMPONENT, old.category_code)
        except UnmappedLegacyCode as exc:
            raise CodeError(Msg("{label} {old} 无法转换为17位：{error}", label=_LEGACY, old=old, error=msg_of(exc)),
                            "category") from None
        return cls(old.admin, cat.major_code, cat.code[2:], old.serial)

    def __str__(self) -> str:
        return self.admin + self.major + self.minor + self.serial

    @property
    def category_code(self) -> str:
        """The 5-digit GB/T 47678.5-2026 component category."""
        return self.major + self.minor


@dataclass(frozen=True)
class LegacyComponentId:
    """A 16-digit CJ/T 214 / GB/T 30428.2 component identifier (import only)."""

    admin: str
    major: str
    minor: str
    serial: str

    @classmethod
    def parse(cls, text: str | int) -> LegacyComponentId:
        """Parse and validate the legacy layout (major 01–06, minor 01–99)."""
        s = _digits(text, _LEGACY, (16,))
        return cls._from_digits(s)

    @classmethod
    def _from_digits(cls, s: str) -> LegacyComponentId:
        check_admin_code(s[:6], _of(_LEGACY, s))
        major, minor, serial = s[6:8], s[8:10], s[10:]
        _segment(major, _LEGACY, s, "major", _MAJOR, "01–06", "01" <= major <= "06")
        _segment(minor, _LEGACY, s, "minor", _MINOR, "01–99", minor != "00")
        _segment(serial, _LEGACY, s, "serial", _SERIAL, "000001–999999", serial != "000000")
        return cls(s[:6], major, minor, serial)

    def __str__(self) -> str:
        return self.admin + self.major + self.minor + self.serial

    @property
    def category_code(self) -> str:
        """The 4-digit legacy category (major + minor)."""
        return self.major + self.minor

    def to_component_id(self, taxonomy: Taxonomy) -> ComponentId:
        """The 17-digit identifier through the legacy map (CodeError when unmapped)."""
        return ComponentId.from_legacy(self, taxonomy)


def parse_any_component_id(text: str | int, taxonomy: Taxonomy | None = None) -> ComponentId | LegacyComponentId:
    """Parse a 17-digit identifier or a 16-digit legacy one (kept as LegacyComponentId)."""
    s = _digits(text, _COMPONENT, (17, 16))
    if len(s) == 16:
        return LegacyComponentId._from_digits(s)
    return ComponentId._from_digits(s, taxonomy)


def normalize_component_id(text: str | int, taxonomy: Taxonomy) -> ComponentId:
    """A 17-digit identifier from either layout, converting legacy ids via the legacy map."""
    parsed = parse_any_component_id(text, taxonomy)
    if isinstance(parsed, LegacyComponentId):
        return ComponentId.from_legacy(parsed, taxonomy)
    return parsed


@dataclass(frozen=True)
class EventCode:
    """An 11-digit event (管理事项) code: a category at a place."""

    admin: str
    major: str
    minor: str

    @classmethod
    def parse(cls, text: str | int, taxonomy: Taxonomy | None = None) -> EventCode:
        """Parse and validate; with ``taxonomy`` the category must exist in the event list."""
        s = _digits(text, _EVENT, (11,))
        check_admin_code(s[:6], _of(_EVENT, s))
        major, minor = s[6:8], s[8:]
        _segment(major, _EVENT, s, "major", _MAJOR, "01–10", "01" <= major <= "10")
        _segment(minor, _EVENT, s, "minor", _MINOR, "001–999", minor != "000")
        _check_category(Kind.EVENT, major + minor, _EVENT, s, taxonomy)
        return cls(s[:6], major, minor)

    def __str__(self) -> str:
        return self.admin + self.major + self.minor

    @property
    def category_code(self) -> str:
        """The 5-digit GB/T 47678.5-2026 event category."""
        return self.major + self.minor
