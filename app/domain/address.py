"""Pure parsing of a spoken or typed Chinese address (no store, no index).

``parse_address("江苏省苏州市姑苏区人民路友谊桥往南200米")`` splits the text into its parts:

- ``prefix``: the administrative prefix (省/市/区/县/街道 …) that a hotline caller often says first;
- ``place``: what is left to match against the gazetteer (road and/or landmark names);
- ``number``: a house number (``128号``, ``128 号``, ``一百二十八号``);
- ``direction`` / ``distance_m``: "往南200米", "东侧约50米", "向西北100m".

Numbers may be written in Arabic, full-width or Chinese numerals. Segmenting ``place`` into road
and landmark words needs the gazetteer's vocabulary and lives in ``app.services.geocode``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

#: Unit vectors (east, north) of the eight directions a caller names.
DIRECTIONS: dict[str, tuple[float, float]] = {
    "东": (1.0, 0.0), "西": (-1.0, 0.0), "南": (0.0, -1.0), "北": (0.0, 1.0),
    "东北": (math.sqrt(0.5), math.sqrt(0.5)), "东南": (math.sqrt(0.5), -math.sqrt(0.5)),
    "西北": (-math.sqrt(0.5), math.sqrt(0.5)), "西南": (-math.sqrt(0.5), -math.sqrt(0.5)),
}
#: Road-name suffixes, longest first (a caller often drops them: "人民" for 人民路).
ROAD_SUFFIXES = ("大道", "大街", "公路", "路", "街", "巷", "道", "弄")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = "[零〇一二两三四五六七八九十百千]+"

_PREFIX = re.compile(r"^(?:[^省市区县]{1,7}?(?:省|自治区))?(?:[^省市区县]{1,7}?市(?!场))?"
                     r"(?:[^省市区县路街]{1,7}?(?:区|县)(?!域|医|政))?(?:[^街路]{1,6}?街道)?")
_OFFSET = re.compile(r"(?:往|向|朝)?(东南|东北|西南|西北|东|西|南|北)(?:侧|边|面|方向|方)?(?:约|大约|大概)?"
                     r"(\d+(?:\.\d+)?)\s*(?:米|公尺|m|M)(?:处|左右|附近)?$")
_NUMBER = re.compile(r"(\d+)\s*(?:号|號)(?:楼|院)?")
_BARE_NUMBER = re.compile(r"(?<=[^\d])(\d{1,5})$")
_NOISE = re.compile(r"(附近|旁边|门口|对面|这里|那里|一带|路口|交叉口)$")


@dataclass(frozen=True)
class ParsedAddress:
    """The parts of one address text; ``place`` is never None (may be empty)."""

    text: str
    prefix: str
    place: str
    number: int | None = None
    direction: str | None = None
    distance_m: float | None = None

    @property
    def offset(self) -> tuple[float, float] | None:
        """(dx, dy) in metres for the direction and distance, or None."""
        if self.direction is None or self.distance_m is None:
            return None
        ux, uy = DIRECTIONS[self.direction]
        return ux * self.distance_m, uy * self.distance_m


def chinese_number(text: str) -> int | None:
    """``"二百"`` → 200, ``"一百二十八"`` → 128, ``"十五"`` → 15, ``"三零五"`` → 305; None if not a number."""
    if not text or any(c not in _CN_DIGITS and c not in _CN_UNITS for c in text):
        return None
    if not any(c in _CN_UNITS for c in text):  # digit by digit: 三零五
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total, digit = 0, None
    for c in text:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[c]
            digit = None
    return total + (digit or 0)


def normalize(text: str) -> str:
    """Full-width to half-width, spaces and punctuation dropped, Chinese numerals before 号/米 as digits."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[\s,，。、;；:：\"'“”‘’]+", "", text)
    return re.sub(f"({_CN_NUMBER})(?=号|號|米|公尺)",
                  lambda m: str(chinese_number(m.group(1))) if chinese_number(m.group(1)) is not None else m.group(1),
                  text)


def road_stem(name: str) -> str:
    """A road name without its suffix (人民路 → 人民); a name that is only a suffix stays whole."""
    for suffix in ROAD_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def parse_address(text: str) -> ParsedAddress:
    """Split ``text`` into prefix, place, house number, direction and distance (see the module doc)."""
    clean = normalize(text)
    prefix_match = _PREFIX.match(clean)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = clean[len(prefix):]
    if not rest:  # the "prefix" was the whole text: it is a place name after all
        prefix, rest = "", clean
    direction = distance = None
    offset = _OFFSET.search(rest)
    if offset:
        direction, distance = offset.group(1), float(offset.group(2))
        rest = rest[: offset.start()]
    number = None
    found = _NUMBER.search(rest)
    if found:
        number = int(found.group(1))
        rest = (rest[: found.start()] + rest[found.end():])
    else:  # typing "人民路10": a trailing number after a name is a house number without its 号
        bare = _BARE_NUMBER.search(rest)
        if bare:
            number, rest = int(bare.group(1)), rest[: bare.start()]
    rest = _NOISE.sub("", rest)
    return ParsedAddress(text=text, prefix=prefix, place=rest, number=number,
                         direction=direction, distance_m=distance)
