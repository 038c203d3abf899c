"""GB/T 47678.5-2026 management component (管理部件) and matter (管理事项) categories.

The lists ship as CSV under ``data/taxonomy`` (columns kind,major_code,major_name,code,name).
(kind, code) is the key: the same five digits exist in both lists. ``legacy_map.csv`` maps
4-digit CJ/T 214 / GB/T 30428.2 category codes to 2026 codes; the event part of that map is
unconfirmed in the standards notes [?], so it is data that a city may edit, not code.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.domain.definitions import Kind
from app.domain.messages import Msg, MsgError

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "taxonomy"
_FILES = {Kind.COMPONENT: "components.csv", Kind.EVENT: "events.csv"}
_LEGACY_FILE = "legacy_map.csv"
_COLUMNS = ("kind", "major_code", "major_name", "code", "name")
_LEGACY_COLUMNS = ("kind", "legacy_code", "legacy_name", "code")

#: Major classes of the legacy (CJ/T 214-2007 / GB/T 30428.2-2013) lists, for messages.
LEGACY_MAJORS: dict[Kind, dict[str, str]] = {
    Kind.COMPONENT: {
        "01": "公用设施", "02": "道路交通", "03": "市容环境",
        "04": "园林绿化", "05": "房屋土地", "06": "其他设施",
    },
    Kind.EVENT: {"01": "市容环境", "02": "宣传广告", "03": "施工管理", "04": "街面秩序"},
}


class TaxonomyError(ValueError):
    """A taxonomy data file is malformed (names the file and line)."""


class UnknownCategory(MsgError, ValueError):
    """A (kind, code) pair is not in the GB/T 47678.5-2026 lists."""


class UnmappedLegacyCode(MsgError, ValueError):
    """A legacy 4-digit category code has no row in the legacy map."""


@dataclass(frozen=True)
class CategoryDef:
    """One category (小类) of the 2026 lists."""

    kind: Kind
    code: str
    major_code: str
    major_name: str
    name: str

    @property
    def key(self) -> tuple[Kind, str]:
        return (self.kind, self.code)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class LegacyMapping:
    """One row of the legacy map: a 4-digit legacy code and the 2026 code it became."""

    kind: Kind
    legacy_code: str
    legacy_name: str
    code: str


def _kind(kind: Kind | str) -> Kind:
    return kind if isinstance(kind, Kind) else Kind.parse(str(kind))


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) of a UTF-8 CSV, skipping blank and '#' comment lines."""
    if not path.is_file():
        raise TaxonomyError(f"找不到分类数据文件 {path}：请确认 data/taxonomy 目录完整")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = [(n, line) for n, line in enumerate(fh, start=1)
                 if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise TaxonomyError(f"{path} 是空文件")
    reader = csv.reader(line for _, line in lines)
    header = tuple(h.strip() for h in next(reader))
    if header != columns:
        raise TaxonomyError(f"{path} 第{lines[0][0]}行：表头应为 {','.join(columns)}，实际为 {','.join(header)}")
    for (lineno, _), values in zip(lines[1:], reader, strict=True):
        if len(values) != len(columns):
            raise TaxonomyError(f"{path} 第{lineno}行：应有{len(columns)}列，实际{len(values)}列")
        yield lineno, {c: v.strip() for c, v in zip(columns, values, strict=True)}


def _read_categories(path: Path, kind: Kind) -> list[CategoryDef]:
    out = []
    for lineno, row in _rows(path, _COLUMNS):
        where = f"{path} 第{lineno}行"
        if row["kind"] != kind.value:
            raise TaxonomyError(f"{where}：kind 应为 {kind.value}，实际为 {row['kind']!r}")
        code, major = row["code"], row["major_code"]
        if not (len(code) == 5 and code.isdigit()):
            raise TaxonomyError(f"{where}：代码 {code!r} 应为5位数字")
        if not code.startswith(major):
            raise TaxonomyError(f"{where}：代码 {code} 不属于大类 {major}")
        if not row["name"] or not row["major_name"]:
            raise TaxonomyError(f"{where}：名称不能为空")
        out.append(CategoryDef(kind, code, major, row["major_name"], row["name"]))
    return out


def _read_legacy(path: Path) -> list[LegacyMapping]:
    out = []
    for lineno, row in _rows(path, _LEGACY_COLUMNS):
        where = f"{path} 第{lineno}行"
        try:
            kind = _kind(row["kind"])
        except ValueError:
            raise TaxonomyError(f"{where}：kind {row['kind']!r} 应为 component 或 event") from None
        legacy = row["legacy_code"]
        if not (len(legacy) == 4 and legacy.isdigit()):
            raise TaxonomyError(f"{where}：旧版代码 {legacy!r} 应为4位数字")
        out.append(LegacyMapping(kind, legacy, row["legacy_name"], row["code"]))
    return out


class Taxonomy:
    """The category lists plus the legacy code map; immutable once built."""

    def __init__(self, categories: Iterable[CategoryDef], legacy: Iterable[LegacyMapping] = ()):
        self._by_key: dict[tuple[Kind, str], CategoryDef] = {}
        for c in categories:
            if c.key in self._by_key:
                raise TaxonomyError(f"重复的{c.kind.label}分类代码 {c.code}")
            self._by_key[c.key] = c
        self._ordered = sorted(self._by_key.values(), key=lambda c: (c.kind != Kind.COMPONENT, c.code))
        self._legacy: dict[tuple[Kind, str], LegacyMapping] = {}
        for m in legacy:
            if (m.kind, m.legacy_code) in self._legacy:
                raise TaxonomyError(f"旧版代码映射重复：{m.kind.value} {m.legacy_code}")
            if (m.kind, m.code) not in self._by_key:
                raise TaxonomyError(
                    f"旧版代码 {m.legacy_code} 映射到的{m.kind.label}代码 {m.code} 不在 GB/T 47678.5-2026 清单中")
            self._legacy[(m.kind, m.legacy_code)] = m

    @classmethod
    def load(cls, directory: Path | str | None = None) -> Taxonomy:
        """Load the CSVs from ``directory`` (default: the shipped data/taxonomy; cached)."""
        if directory is None:
            return _default()
        return cls._load(Path(directory))

    @classmethod
    def _load(cls, directory: Path) -> Taxonomy:
        categories: list[CategoryDef] = []
        for kind, name in _FILES.items():
            categories += _read_categories(directory / name, kind)
        legacy_path = directory / _LEGACY_FILE
        legacy = _read_legacy(legacy_path) if legacy_path.is_file() else []
        return cls(categories, legacy)

    # -- lookups -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[CategoryDef]:
        return iter(self._ordered)

    def __len__(self) -> int:
        return len(self._ordered)

    def __contains__(self, key: object) -> bool:
        if not (isinstance(key, tuple) and len(key) == 2):
            return False
        try:
            return self.find(*key) is not None
        except ValueError:  # not a kind at all
            return False

    def find(self, kind: Kind | str, code: str) -> CategoryDef | None:
        """The category or None."""
        return self._by_key.get((_kind(kind), str(code).strip()))

    def get(self, kind: Kind | str, code: str) -> CategoryDef:
        """The category; UnknownCategory (with suggestions) when absent."""
        kind = _kind(kind)
        found = self.find(kind, code)
        if found is None:
            raise UnknownCategory(self._unknown_message(kind, str(code).strip()))
        return found

    def of_kind(self, kind: Kind | str) -> list[CategoryDef]:
        """All categories of one kind, by code."""
        kind = _kind(kind)
        return [c for c in self._ordered if c.kind == kind]

    def majors(self, kind: Kind | str) -> list[tuple[str, str]]:
        """(major_code, major_name) of one kind, by code."""
        seen: dict[str, str] = {}
        for c in self.of_kind(kind):
            seen.setdefault(c.major_code, c.major_name)
        return list(seen.items())

    def in_major(self, kind: Kind | str, major_code: str) -> list[CategoryDef]:
        """The categories of one major class, by code."""
        return [c for c in self.of_kind(kind) if c.major_code == major_code]

    def search(self, text: str, kind: Kind | str | None = None, limit: int = 20) -> list[CategoryDef]:
        """Categories matching a code prefix, a name or a major name, best first.

        Rank: exact code, code prefix, name prefix, name substring, major-name substring.
        """
        text = (text or "").strip()
        if not text:
            return []
        wanted = None if kind is None else _kind(kind)
        scored = []
        for c in self._ordered:
            if wanted is not None and c.kind != wanted:
                continue
            if c.code == text:
                rank = 0
            elif c.code.startswith(text):
                rank = 1
            elif c.name.startswith(text):
                rank = 2
            elif text in c.name:
                rank = 3
            elif text in c.major_name:
                rank = 4
            else:
                continue
            scored.append((rank, len(c.name) if rank in (2, 3) else 0, c.kind != Kind.COMPONENT, c.code, c))
        scored.sort(key=lambda t: t[:4])
        return [t[-1] for t in scored[: max(limit, 0)]]

    # -- legacy codes --------------------------------------------------------------------

    def legacy_mappings(self, kind: Kind | str | None = None) -> list[LegacyMapping]:
        """The rows of the legacy map (optionally of one kind), by legacy code."""
        rows = sorted(self._legacy.values(), key=lambda m: (m.kind != Kind.COMPONENT, m.legacy_code))
        return rows if kind is None else [m for m in rows if m.kind == _kind(kind)]

    def from_legacy(self, kind: Kind | str, legacy_code: str) -> CategoryDef:
        """The 2026 category a 4-digit legacy code maps to; UnmappedLegacyCode otherwise."""
        kind = _kind(kind)
        code = str(legacy_code).strip()
        label = Msg("旧版{kind}代码", kind=kind)
        if not (len(code) == 4 and code.isdigit()):
            raise UnmappedLegacyCode(Msg("{label} {code!r} 应为4位数字（2位大类 + 2位小类）", label=label, code=code))
        majors = LEGACY_MAJORS[kind]
        if code[:2] not in majors:
            choices = [f"{k} {v}" for k, v in majors.items()]
            raise UnmappedLegacyCode(Msg("{label} {code} 的大类 {major} 不在已知的旧版大类中（{choices}）", label=label,
                                         code=code, major=code[:2], choices=choices))
        mapping = self._legacy.get((kind, code))
        if mapping is None:
            raise UnmappedLegacyCode(Msg(
                "{label} {code}（旧大类「{major}」）在 legacy_map.csv 中没有对应的 GB/T 47678.5-2026 代码："
                "请在该文件补一行 {kind},{code},<旧名称>,<新代码>，或人工选择新代码", label=label, code=code,
                major=majors[code[:2]], kind=kind.value))
        return self._by_key[(kind, mapping.code)]

    # -- messages ------------------------------------------------------------------------

    def _unknown_message(self, kind: Kind, code: str) -> Msg:
        head = Msg("未知的{kind}分类代码 {code!r}：GB/T 47678.5-2026 {kind}清单中没有这一项", kind=kind, code=code)
        if len(code) == 4 and code.isdigit() and (kind, code) in self._legacy:
            target = self._by_key[(kind, self._legacy[(kind, code)].code)]
            return Msg("{head}。这像是4位旧版代码，对应新代码 {target}", head=head, target=str(target))
        hints = self._suggest(kind, code)
        if hints:
            return Msg("{head}。相近的有：{hints}", head=head, hints=[str(c) for c in hints])
        return Msg("{head}。请按代码或名称搜索分类", head=head)

    def _suggest(self, kind: Kind, code: str, n: int = 3) -> list[CategoryDef]:
        pool = self.of_kind(kind)
        if len(code) == 5 and code.isdigit():
            same_major = [c for c in pool if c.major_code == code[:2]]
            same_major.sort(key=lambda c: (abs(int(c.code) - int(code)), c.code))
            return same_major[:n]
        named = self.search(code, kind, limit=n)
        if named:
            return named
        by_name = {c.name: c for c in pool}
        close = difflib.get_close_matches(code, list(by_name), n=n, cutoff=0.4)
        return [by_name[name] for name in close]


@lru_cache(maxsize=1)
def _default() -> Taxonomy:
    return Taxonomy._load(DEFAULT_DIR)
