"""What a configuration change changes, as lines a person reads (Qt-free).

The configuration history (``config_changes``) keeps each entity's record before and after the
change as canonical JSON; a dry run gives the same two records before anything is written. The
administrator's workspace shows both the same way: :func:`record_diff` walks the two records
and names each field added, removed or changed (nested mappings by their path, lists by the
items added and removed), and :func:`diff_lines` says it in the user's language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.messages import Msg, Seq

ADDED, REMOVED, CHANGED = "added", "removed", "changed"

#: Field names shown by their meaning (other fields by their own name).
FIELD_LABELS: dict[str, str] = {
    "holidays": "节假日", "workdays": "调休上班日", "status": "状态", "source": "来源", "year": "年份",
    "name": "名称", "code": "代码", "kind": "类型", "parent": "上级", "contact": "联系方式", "active": "启用",
    "level": "级别", "priority": "优先级", "department": "部门", "category": "类别", "minutes": "时限（分钟）",
    "filing_standard": "立案标准", "closing_standard": "结案标准", "evidence": "结案证据",
}
#: Values shown by their meaning.
VALUE_LABELS: dict[str, str] = {"official": "正式", "estimated": "推算"}


@dataclass(frozen=True)
class DiffLine:
    """One difference: ``path`` (field names from the record's top), the value before and after
    (None when added / removed), and ``kind`` (added, removed, changed)."""

    path: tuple[str, ...]
    before: Any
    after: Any
    kind: str


def parse_record(text: str | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A stored record (canonical JSON text, a mapping or None) as a mapping or None."""
    if text is None or isinstance(text, Mapping):
        return text
    value = json.loads(text)
    return value if isinstance(value, Mapping) else {"value": value}


def record_diff(before: Mapping[str, Any] | str | None, after: Mapping[str, Any] | str | None) -> list[DiffLine]:
    """Every difference between two records, in the order of their (sorted) fields."""
    return _walk((), parse_record(before) or {}, parse_record(after) or {})


def _walk(path: tuple[str, ...], before: Mapping[str, Any], after: Mapping[str, Any]) -> list[DiffLine]:
    lines: list[DiffLine] = []
    for key in sorted(set(before) | set(after), key=str):
        here = (*path, str(key))
        old, new = before.get(key), after.get(key)
        if key not in after:
            lines.append(DiffLine(here, old, None, REMOVED))
        elif key not in before:
            if isinstance(new, Mapping):
                lines.extend(_walk(here, {}, new))
            elif isinstance(new, list):
                lines.extend(DiffLine(here, None, item, ADDED) for item in new)
            else:
                lines.append(DiffLine(here, None, new, ADDED))
        elif isinstance(old, Mapping) and isinstance(new, Mapping):
            lines.extend(_walk(here, old, new))
        elif isinstance(old, list) and isinstance(new, list):
            lines.extend(DiffLine(here, item, None, REMOVED) for item in old if item not in new)
            lines.extend(DiffLine(here, None, item, ADDED) for item in new if item not in old)
        elif old != new:
            lines.append(DiffLine(here, old, new, CHANGED))
    return lines


def _value(value: Any) -> Any:
    if value is None or value == "":
        return Msg("（空）")
    if isinstance(value, bool):
        return Msg("是") if value else Msg("否")
    if isinstance(value, str) and value in VALUE_LABELS:
        return Msg(VALUE_LABELS[value])
    if isinstance(value, (Mapping, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _field(path: tuple[str, ...]) -> Any:
    parts = [Msg(FIELD_LABELS[p]) if p in FIELD_LABELS else p for p in path]
    return Seq(parts, " ", " ") if len(parts) > 1 else parts[0]


def diff_line(line: DiffLine) -> Msg:
    """One difference as a sentence: ``+ 节假日 2027-02-05：春节``, ``- 调休工作日：2027-02-14``,
    ``状态：推算 → 正式``."""
    field = _field(line.path)
    if line.kind == ADDED:
        return Msg("+ {field}：{value}", field=field, value=_value(line.after))
    if line.kind == REMOVED:
        return Msg("- {field}：{value}", field=field, value=_value(line.before))
    return Msg("{field}：{before} → {after}", field=field, before=_value(line.before), after=_value(line.after))


def diff_lines(before: Mapping[str, Any] | str | None, after: Mapping[str, Any] | str | None) -> list[Msg]:
    """The differences as sentences (empty when nothing changes)."""
    return [diff_line(line) for line in record_diff(before, after)]


__all__ = ["ADDED", "CHANGED", "REMOVED", "DiffLine", "diff_line", "diff_lines", "parse_record", "record_diff"]
