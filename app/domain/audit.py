"""The tamper-evident hash chain over case events (pure: no SQL).

Every event carries a global, gap-free ``chain_no`` and the hash of the event before it
(``prev_hash``). Its own ``hash`` is SHA-256 over a canonical JSON of its content plus
``prev_hash``. Editing any field breaks that row's hash; deleting a row breaks the
next row's ``prev_hash`` and leaves a gap in ``chain_no``; deleting the tail is caught
by the chain head kept in ``audit_head`` and by each case's ``version``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64

#: Fields that enter the hash, in order. Changing this list breaks every existing chain.
HASHED_FIELDS = (
    "chain_no", "case_id", "seq", "action", "from_state", "to_state",
    "actor", "role", "department_id", "at", "reason", "payload",
)


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, Mapping):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value  # enums
    return value


def canonical(event: Mapping[str, Any]) -> str:
    """Canonical JSON of the hashed fields of ``event`` (missing fields count as null)."""
    body = {k: _norm(event.get(k)) for k in HASHED_FIELDS}
    if body["payload"] in ({}, None):
        body["payload"] = None
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 hex of ``prev_hash`` and the canonical event."""
    h = hashlib.sha256()
    h.update(prev_hash.encode("ascii"))
    h.update(canonical(event).encode("utf-8"))
    return h.hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    """The first broken link found in the chain."""

    chain_no: int | None
    case_id: int | None
    message: str

    def __str__(self) -> str:
        return self.message


def verify_chain(
    events: Iterable[Mapping[str, Any]],
    head: tuple[int, str] | None,
    case_versions: Mapping[int, int] | None = None,
) -> AuditProblem | None:
    """Walk ``events`` in ``chain_no`` order; return the first problem or None.

    ``head`` is (chain_no, hash) of the last link as recorded in ``audit_head``;
    ``case_versions`` maps case id to its recorded ``version`` (number of events).
    """
    expected_no = 1
    prev = GENESIS_HASH
    last_seq: dict[int, int] = {}
    for ev in events:
        no = ev["chain_no"]
        cid = ev["case_id"]
        if no != expected_no:
            return AuditProblem(expected_no, None,
                                f"第 {expected_no} 环缺失，有事件被删除 (link {expected_no} is missing "
                                f"(next present link is {no}): an event was deleted)")
        if ev["prev_hash"] != prev:
            return AuditProblem(no, cid, f"第 {no} 环（案卷 {cid} 第 {ev['seq']} 条）接不上前一环，之前的事件被删除或修改 "
                                         f"(link {no} does not follow link {no - 1}: an event before it "
                                         "was deleted or edited)")
        if event_hash(ev, prev) != ev["hash"]:
            return AuditProblem(no, cid, f"第 {no} 环（案卷 {cid} 第 {ev['seq']} 条）被修改，内容与哈希不符 "
                                         f"(link {no} (case {cid}, seq {ev['seq']}) was edited: "
                                         "its content no longer matches its hash)")
        want_seq = last_seq.get(cid, 0) + 1
        if ev["seq"] != want_seq:
            return AuditProblem(no, cid, f"案卷 {cid} 缺少第 {want_seq} 条事件 (case {cid}: event seq {want_seq} is missing; "
                                         f"link {no} has seq {ev['seq']})")
        last_seq[cid] = ev["seq"]
        prev = ev["hash"]
        expected_no += 1
    last_no = expected_no - 1
    if head is not None:
        head_no, head_hash = head
        if head_no != last_no or (last_no and head_hash != prev):
            return AuditProblem(head_no, None,
                                f"审计链止于第 {last_no} 环，但链头记录为第 {head_no} 环：末尾事件被删除或链头被修改 "
                                f"(the chain ends at link {last_no} but the recorded head is link "
                                f"{head_no})")
    if case_versions is not None:
        for cid, version in sorted(case_versions.items()):
            if last_seq.get(cid, 0) != version:
                return AuditProblem(None, cid,
                                    f"案卷 {cid} 记录有 {version} 条事件，链中只有 {last_seq.get(cid, 0)} 条：事件被删除或案卷被修改 "
                                    f"(case {cid} records {version} events but the chain holds "
                                    f"{last_seq.get(cid, 0)})")
    return None
