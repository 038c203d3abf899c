"""The tamper-evident history of base-data changes, and the unit-grid numbering (pure: no SQL).

Every change an administrator makes to a management component (管理部件) or a unit grid (单元网格)
is one row of ``base_changes``: which feature (entity and code), what was done (``action``), the
record before and after (canonical JSON; ``before`` is null when the feature was added), who,
when and why. Rows form a hash chain like ``config_changes`` (app.domain.config_audit): ``seq`` is
gap-free from 1 and ``hash`` is SHA-256 over ``prev_hash`` and the canonical change.

Grid codes (standards §2): 6 admin + 3 street + 3 community + 3 sequence, the sequence numbered
west→east, north→south inside a community. A grid split or merged away is retired, never deleted,
and its code is never given again: new grids take the next sequence numbers after the highest one
the community ever used (in the table or in the history), in reading order (north first, then west).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.domain import config_audit
from app.domain.codes import CodeError, GridCode
from app.domain.config_audit import GENESIS_HASH, record_json
from app.domain.definitions import _Labelled
from app.domain.messages import Msg

#: Fields that enter the hash, in order. Changing this list breaks every existing chain.
HASHED_FIELDS = ("seq", "entity", "key", "action", "before", "after", "actor", "at", "reason")


class Entity(_Labelled):
    """What a base-data change is about."""

    COMPONENT = ("component", "部件")
    GRID = ("grid", "单元网格")


class Action(_Labelled):
    """What an administrator did to a feature."""

    SET = ("set", "修改属性")
    MOVE = ("move", "移动位置")
    STATUS = ("status", "变更状态")
    ADD = ("add", "新增")
    RETIRE = ("retire", "注销")
    SPLIT = ("split", "拆分")
    MERGE = ("merge", "合并")
    REGRID = ("regrid", "改属网格")


def canonical(change: Mapping[str, Any]) -> str:
    """Canonical JSON of the hashed fields of ``change`` (the configuration history's rule)."""
    return config_audit.canonical(change, HASHED_FIELDS)


def change_hash(change: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 hex of ``prev_hash`` and the canonical change (the configuration history's rule)."""
    return config_audit.change_hash(change, prev_hash, HASHED_FIELDS)


def verify_changes(changes: Iterable[Mapping[str, Any]]) -> Msg | None:
    """Walk ``changes`` in ``seq`` order; the first broken link, or None when the chain holds."""
    expected, prev = 1, GENESIS_HASH
    for change in changes:
        seq = change.get("seq")
        if seq != expected:
            return Msg("基础数据变更记录第 {expected} 条缺失（下一条是第 {seq} 条）", expected=expected, seq=seq)
        if change.get("prev_hash") != prev:
            return Msg("基础数据变更记录第 {seq} 条的前一哈希不符：前一条被改动或删除", seq=seq)
        if change_hash(change, prev) != change.get("hash"):
            return Msg("基础数据变更记录第 {seq} 条的内容与哈希不符：该条被改动", seq=seq)
        prev = str(change.get("hash"))
        expected += 1
    return None


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """The keys whose values differ between two records (sorted)."""
    b, a = before or {}, after or {}
    return sorted(k for k in set(b) | set(a) if b.get(k) != a.get(k))


# ------------------------------------------------------------------------------ grid numbering


def highest_sequence(community_code: str, used_codes: Iterable[str]) -> int:
    """The highest grid sequence number ``community_code`` (12 digits) has ever used (0: none)."""
    top = 0
    for code in used_codes:
        if len(code) == 15 and code.startswith(community_code) and code[12:].isdigit():
            top = max(top, int(code[12:]))
    return top


def reading_order(centroids: Sequence[tuple[float, float]], *, row_height: float = 50.0) -> list[int]:
    """Indexes of ``centroids`` (x east, y north) north→south, then west→east within a row.

    Centroids whose y differ by less than ``row_height`` metres count as one row.
    """
    order = sorted(range(len(centroids)), key=lambda i: -centroids[i][1])
    rows: list[list[int]] = []
    for i in order:
        if rows and abs(centroids[rows[-1][0]][1] - centroids[i][1]) < row_height:
            rows[-1].append(i)
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda j: centroids[j][0])]


def next_grid_codes(community_code: str, used_codes: Iterable[str], count: int) -> list[str]:
    """``count`` new grid codes for the community, after every sequence it ever used.

    CodeError when the community's 999 sequence numbers run out or the community code is bad.
    """
    start = highest_sequence(community_code, used_codes) + 1
    if start + count - 1 > 999:
        raise CodeError(Msg("社区 {community} 的网格顺序号已用到 {top}，不足 {n} 个新编码（最大 999，已注销的编码不再使用）",
                            community=community_code, top=start - 1, n=count), "seq")
    codes = [f"{community_code}{seq:03d}" for seq in range(start, start + count)]
    for code in codes:
        GridCode.parse(code)
    return codes


__all__ = ["GENESIS_HASH", "HASHED_FIELDS", "Action", "Entity", "canonical", "change_hash", "changed_fields",
           "highest_sequence", "next_grid_codes", "reading_order", "record_json", "verify_changes"]
