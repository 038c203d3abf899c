"""Time-limit tables: how long each stage of each category may take, and on which time basis.

A rule is looked up most-specific first: the category (kind + 5-digit code), then its major
(first 2 digits), then the kind's default, then a global default, then the built-in defaults
of standards.md §4. ``data/taxonomy/time_limits.csv`` holds the shipped table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from app.domain.calendar import WORKING_DAY_MINUTES
from app.domain.deadlines import format_limit
from app.domain.definitions import Basis, Kind, Level, Stage, _Labelled
from app.domain.messages import Msg, as_msg

_Enum = TypeVar("_Enum", bound=_Labelled)

_TAXONOMY = Path(__file__).resolve().parents[2] / "data" / "taxonomy"
DEFAULT_PATH = _TAXONOMY / "time_limits.csv"
COLUMNS = ("kind", "category_code", "level", "stage", "minutes", "basis", "condition")


@dataclass(frozen=True)
class LimitKey:
    """Which limit: kind (None: any), category or major code (None: any), level and stage."""

    kind: Kind | None
    category_code: str | None
    level: Level
    stage: Stage


@dataclass(frozen=True)
class LimitRule:
    """A time limit in ``basis`` minutes; ``condition`` describes the filing/closing condition."""

    minutes: int
    basis: Basis
    condition: str | None = None
    source: str = field(default="", compare=False)  # where the rule came from, for explanations


_N, _W = Basis.NATURAL, Basis.WORKING
_G, _U, _E = Level.GENERAL, Level.URGENT, Level.ENGINEERING
_BUILTIN_SOURCE = "内置默认（standards.md §4）"

#: Built-in defaults (standards.md §4): urgent limits run on natural time.
BUILTIN_DEFAULTS: dict[tuple[Stage, Level], LimitRule] = {
    (Stage.ACCEPT, _G): LimitRule(WORKING_DAY_MINUTES // 2, _W, "热线受理半个工作日内", _BUILTIN_SOURCE),
    (Stage.ACCEPT, _U): LimitRule(10, _N, None, _BUILTIN_SOURCE),
    (Stage.ACCEPT, _E): LimitRule(WORKING_DAY_MINUTES // 2, _W, None, _BUILTIN_SOURCE),
    (Stage.VERIFY, _G): LimitRule(60, _N, None, _BUILTIN_SOURCE),
    (Stage.VERIFY, _U): LimitRule(30, _N, None, _BUILTIN_SOURCE),
    (Stage.VERIFY, _E): LimitRule(60, _N, None, _BUILTIN_SOURCE),
    (Stage.DISPATCH, _G): LimitRule(30, _N, "立案+派遣", _BUILTIN_SOURCE),
    (Stage.DISPATCH, _U): LimitRule(10, _N, "立案+派遣", _BUILTIN_SOURCE),
    (Stage.DISPATCH, _E): LimitRule(30, _N, "立案+派遣", _BUILTIN_SOURCE),
    (Stage.HANDLE, _G): LimitRule(WORKING_DAY_MINUTES, _W, None, _BUILTIN_SOURCE),
    (Stage.HANDLE, _U): LimitRule(120, _N, None, _BUILTIN_SOURCE),
    (Stage.HANDLE, _E): LimitRule(5 * WORKING_DAY_MINUTES, _W, None, _BUILTIN_SOURCE),
    (Stage.CHECK, _G): LimitRule(60, _N, None, _BUILTIN_SOURCE),
    (Stage.CHECK, _U): LimitRule(30, _N, None, _BUILTIN_SOURCE),
    (Stage.CHECK, _E): LimitRule(60, _N, None, _BUILTIN_SOURCE),
    (Stage.CLOSE, _G): LimitRule(60, _N, None, _BUILTIN_SOURCE),
    (Stage.CLOSE, _U): LimitRule(30, _N, None, _BUILTIN_SOURCE),
    (Stage.CLOSE, _E): LimitRule(60, _N, None, _BUILTIN_SOURCE),
}


def read_taxonomy_codes(taxonomy_dir: Path = _TAXONOMY) -> dict[Kind, set[str]]:
    """Category and major codes per kind, from components.csv and events.csv."""
    codes: dict[Kind, set[str]] = {}
    for kind, name in ((Kind.COMPONENT, "components.csv"), (Kind.EVENT, "events.csv")):
        found: set[str] = set()
        with open(taxonomy_dir / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                found.add(row["code"].strip())
                found.add(row["major_code"].strip())
        codes[kind] = found
    return codes


def _parse_enum(enum: type[_Enum], text: str, what: str) -> _Enum:
    try:
        return enum.parse(text)
    except ValueError as exc:
        raise ValueError(f"invalid {what}: {exc}") from None


def _parse_row(row: dict[str, str], codes: dict[Kind, set[str]], where: str) -> tuple[LimitKey, LimitRule]:
    kind_text = (row.get("kind") or "").strip()
    code = (row.get("category_code") or "").strip() or None
    kind = _parse_enum(Kind, kind_text, "kind") if kind_text else None
    if code is not None:
        if kind is None:
            raise ValueError(f"category code '{code}' needs a kind (component or event)")
        if len(code) not in (2, 5) or not code.isdigit():
            raise ValueError(f"category code '{code}' must be a 5-digit category or a 2-digit major code")
        if code not in codes[kind]:
            source = "components.csv" if kind is Kind.COMPONENT else "events.csv"
            raise ValueError(f"unknown {kind.value} category code '{code}': it is not in "
                             f"data/taxonomy/{source}; use a code listed there")
    level = _parse_enum(Level, (row.get("level") or "").strip(), "level")
    stage = _parse_enum(Stage, (row.get("stage") or "").strip(), "stage")
    basis = _parse_enum(Basis, (row.get("basis") or "").strip(), "basis")
    minutes_text = (row.get("minutes") or "").strip()
    if not minutes_text.isdigit() or int(minutes_text) <= 0:
        raise ValueError(f"minutes '{minutes_text}' must be a positive whole number of {basis.label}分钟 "
                         f"(1 个工作日 = {WORKING_DAY_MINUTES} 分钟)")
    condition = (row.get("condition") or "").strip() or None
    return LimitKey(kind, code, level, stage), LimitRule(int(minutes_text), basis, condition, where)


class LimitTable:
    """Time limits with per-category, per-major, per-kind and global rules over built-in defaults."""

    def __init__(self, rules: dict[LimitKey, LimitRule] | None = None):
        self._rules: dict[LimitKey, LimitRule] = dict(rules or {})

    @classmethod
    def load(cls, path: str | Path | None = None, taxonomy_dir: str | Path | None = None) -> LimitTable:
        """Read a time-limit CSV (default: the shipped table); ValueError naming the bad line."""
        path = Path(path) if path is not None else DEFAULT_PATH
        codes = read_taxonomy_codes(Path(taxonomy_dir) if taxonomy_dir is not None else _TAXONOMY)
        rules: dict[LimitKey, LimitRule] = {}
        lines: dict[LimitKey, int] = {}
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; "
                                 f"the header must be {','.join(COLUMNS)}")
            for row in reader:
                line = reader.line_num
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue  # blank line
                try:
                    key, rule = _parse_row(row, codes, Msg("{file} 第 {line} 行", file=path.name, line=line))
                except ValueError as exc:
                    raise ValueError(f"{path}, line {line}: {exc}") from None
                if key in rules:
                    raise ValueError(f"{path}, line {line}: duplicate rule for {_key_text(key)} "
                                     f"(already given on line {lines[key]}); keep one of them")
                rules[key] = rule
                lines[key] = line
        return cls(rules)

    def rules(self) -> Iterator[tuple[LimitKey, LimitRule]]:
        """The table's own rules (built-in defaults not included)."""
        return iter(self._rules.items())

    def _candidates(self, kind: Kind, code: str | None, level: Level, stage: Stage) -> Iterator[tuple[LimitKey, str]]:
        if code:
            yield LimitKey(kind, code, level, stage), "category"
            if len(code) > 2:
                yield LimitKey(kind, code[:2], level, stage), "major"
        yield LimitKey(kind, None, level, stage), "kind"
        yield LimitKey(None, None, level, stage), "global"

    def _find(self, kind: Kind | str, code: str | None, level: Level | str,
              stage: Stage | str) -> tuple[LimitRule, str, LimitKey | None]:
        kind_, level_, stage_ = _coerce(kind, level, stage)
        for key, scope in self._candidates(kind_, code, level_, stage_):
            rule = self._rules.get(key)
            if rule is not None:
                return rule, scope, key
        return BUILTIN_DEFAULTS[(stage_, level_)], "builtin", None

    def lookup(self, kind: Kind | str, category_code: str | None, level: Level | str,
               stage: Stage | str) -> LimitRule:
        """The rule that applies: category → major → kind default → global default → built-in."""
        return self._find(kind, category_code, level, stage)[0]

    def explain_source(self, kind: Kind | str, category_code: str | None, level: Level | str,
                       stage: Stage | str) -> Msg:
        """Which rule applied and where it came from (a ``Msg``: Chinese as ``str``)."""
        rule, scope, key = self._find(kind, category_code, level, stage)
        kind_, level_, stage_ = _coerce(kind, level, stage)
        what = Msg("{kind} {category} {level}案件的{stage}时限", kind=kind_, category=category_code or Msg("（无类别）"),
                   level=level_, stage=stage_)
        scope_text = {
            "category": Msg("该小类 {code} 的专门规定", code=category_code),
            "major": Msg("大类 {code} 的规定（该小类没有专门规定）", code=key.category_code if key else ""),
            "kind": Msg("{kind}类的默认规定（该类别及其大类都没有专门规定）", kind=kind_),
            "global": Msg("全局默认规定（该类别、大类和部件/事件类都没有专门规定）"),
            "builtin": Msg("系统内置默认值（时限表中没有适用的规定）"),
        }[scope]
        condition = Msg("，条件：{condition}", condition=rule.condition) if rule.condition else ""
        source = Msg("，来源：{source}", source=as_msg(rule.source)) if rule.source else ""
        return Msg("{what}采用{scope}：{limit}（{basis}）{condition}{source}。", what=what, scope=scope_text,
                   limit=format_limit(rule.minutes, rule.basis), basis=rule.basis, condition=condition, source=source)


def _coerce(kind: Kind | str, level: Level | str, stage: Stage | str) -> tuple[Kind, Level, Stage]:
    kind = kind if isinstance(kind, Kind) else Kind.parse(kind)
    level = level if isinstance(level, Level) else Level.parse(level)
    stage = stage if isinstance(stage, Stage) else Stage.parse(stage)
    return kind, level, stage


def _key_text(key: LimitKey) -> str:
    kind = key.kind.value if key.kind else "any kind"
    return f"{kind} {key.category_code or '(default)'} {key.level.value} {key.stage.value}"
