"""The tamper-evident history of configuration changes (pure: no SQL).

Every change of the hall's rules (a calendar year today; departments, categories, routing,
limits and weights as issue 12 adds their editors) is one row of ``config_changes``: which
entity and key, the record before and after (canonical JSON, null when created or removed),
who, when and why. Rows form a hash chain like ``case_events`` (app.domain.audit): ``seq`` is
gap-free from 1 and ``hash`` is SHA-256 over ``prev_hash`` and the canonical change, so editing a
row breaks its hash and deleting one leaves a gap or breaks the next ``prev_hash``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from app.domain.messages import Msg

GENESIS_HASH = "0" * 64
#: Fields that enter the hash, in order. Changing this list breaks every existing chain.
HASHED_FIELDS = ("seq", "entity", "key", "before", "after", "actor", "at", "reason")


def record_json(record: Mapping[str, Any] | None) -> str | None:
    """The canonical JSON of a before/after record (sorted keys, no spaces); None stays None."""
    if record is None:
        return None
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    return value


def canonical(change: Mapping[str, Any], fields: Sequence[str] = HASHED_FIELDS) -> str:
    """Canonical JSON of the hashed ``fields`` of ``change`` (missing fields count as null); other
    hash-chained histories (app.domain.base_history) pass their own fields."""
    body = {k: _norm(change.get(k)) for k in fields}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def change_hash(change: Mapping[str, Any], prev_hash: str, fields: Sequence[str] = HASHED_FIELDS) -> str:
    """SHA-256 hex of ``prev_hash`` and the canonical change."""
    h = hashlib.sha256()
    h.update(prev_hash.encode("ascii"))
    h.update(canonical(change, fields).encode("utf-8"))
    return h.hexdigest()


def verify_changes(changes: Iterable[Mapping[str, Any]]) -> Msg | None:
    """Walk ``changes`` in ``seq`` order; the first broken link, or None when the chain holds."""
    expected, prev = 1, GENESIS_HASH
    for change in changes:
        seq = change.get("seq")
        if seq != expected:
            return Msg("配置变更记录第 {expected} 条缺失（下一条是第 {seq} 条）", expected=expected, seq=seq)
        if change.get("prev_hash") != prev:
            return Msg("配置变更记录第 {seq} 条的前一哈希不符：前一条被改动或删除", seq=seq)
        if change_hash(change, prev) != change.get("hash"):
            return Msg("配置变更记录第 {seq} 条的内容与哈希不符：该条被改动", seq=seq)
        prev = str(change.get("hash"))
        expected += 1
    return None


__all__ = ["GENESIS_HASH", "HASHED_FIELDS", "canonical", "change_hash", "record_json", "verify_changes"]
