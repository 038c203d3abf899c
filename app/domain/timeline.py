"""The facts of one timeline entry, as messages: what the CLI's text timeline and the desk's detail
dock both show under an event's first line.

Pure: an event's action, payload and photo count in, a list of ``Msg`` out (each one line of the
user's language once an edge renders it with ``Catalogue.text``). Every key an event's payload
carries is shown: the known ones in words (the department a case was dispatched to, the level,
the deadline set, the extension minutes asked and granted, the 核实 result, the feedback text, the
check outcome, the supervisor a task went to, the urge level and deadline, the ruling of a
协调裁定, the call-back result, the closing evidence or its override, an edit's before and after,
an automatic reply, a duplicate link), any other key generically as ``key：value``, never dropped.

Values typed by people (texts, results, notes) stay as they are; an edge clamps them for display.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from app.domain.cases import CaseEventRecord
from app.domain.definitions import Action, Basis, CaseState, Kind, Level, Source
from app.domain.evidence import MISSING_CODES
from app.domain.loop import CALLBACK_LABELS, RULING_LABELS, URGE_LEVELS
from app.domain.messages import Msg, Seq
from app.domain.workflow import Outcome

#: The fields a 修改 event changes, as the timeline names them (Chinese source text).
EDITED_FIELDS: dict[str, str] = {"address": "地址", "description": "描述", "reporter_name": "举报人",
                                 "reporter_phone": "联系电话"}
#: How a report was located (payload ``location``).
LOCATION_METHODS: dict[str, str] = {"point": "坐标", "lonlat": "经纬度", "component": "部件", "address": "地址"}
#: A generic value is shown up to this many characters (a payload is at most 64 KB).
GENERIC_CHARS = 300


def when(value: Any) -> str:
    """A payload time ("2026-03-02 17:00:00", ISO or a datetime) as ``2026-03-02 17:00``."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    try:
        return f"{datetime.fromisoformat(str(value)):%Y-%m-%d %H:%M}"
    except ValueError:
        return str(value)


def _enum_label(enum: type[Enum], value: Any) -> Any:
    """The member (shown by its label in each language), or the raw value when unknown."""
    try:
        return enum(value)
    except (ValueError, TypeError):  # an unknown or odd value is shown as it is
        return _plain(value)


def _label(table: Mapping[Any, str], value: Any) -> Any:
    """A label of ``table`` as a message (translated at the edge), or the raw value when unknown."""
    try:
        label = table.get(value)
    except TypeError:  # unhashable (a list where a code belongs): shown as it is
        return _plain(value)
    if label is None and isinstance(value, str) and value.isdigit():
        label = table.get(int(value))
    return Msg(label) if label is not None else _plain(value)


def _plain(value: Any) -> str:
    """Any payload value as one short text (lists and mappings as compact JSON)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, (int, float)):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= GENERIC_CHARS else text[:GENERIC_CHARS - 1] + "…"


def _empty(value: Any) -> Any:
    return Msg("（空）") if value in (None, "") else value


def generic(key: str, value: Any) -> Msg:
    """A payload entry the timeline has no words for: ``key：value``."""
    return Msg("{key}：{value}", key=key, value=_plain(value))


# ---- one function per key (or group of keys); each consumes what it shows ---------------------

Facts = list[Msg]
Handler = Callable[[str, dict[str, Any], Facts], None]


def _department(action: str, p: dict[str, Any], out: Facts) -> None:
    code, name = p.pop("department", None), p.pop("department_name", None)
    if code is None and name is None:
        return
    if action == Action.RULE.value:
        out.append(Msg("裁定由 {department} 负责", department=_dept(code, name)))
    elif action == Action.DISPATCH.value:
        out.append(Msg("派往：{department}", department=_dept(code, name)))
    else:
        out.append(Msg("部门：{department}", department=_dept(code, name)))


def _dept(code: Any, name: Any) -> Any:
    if name and code:
        return Msg("{name}（{code}）", name=str(name), code=str(code))
    return str(name or code)


def _rank(action: str, p: dict[str, Any], out: Facts) -> None:
    if "suggested_rank" not in p:
        return
    rank = p.pop("suggested_rank")
    out.append(Msg("派遣建议第 {rank} 位", rank=rank) if rank is not None else Msg("不在派遣建议中"))


def _level(action: str, p: dict[str, Any], out: Facts) -> None:
    if "level" in p:
        out.append(Msg("等级改为：{level}", level=_enum_label(Level, p.pop("level"))))


def _deadline(action: str, p: dict[str, Any], out: Facts) -> None:
    if "deadline" in p:
        value = p.pop("deadline")
        out.append(Msg("时限截止：{at}", at=when(value)) if value else Msg("时限截止：无"))


def _limit(action: str, p: dict[str, Any], out: Facts) -> None:
    """The limit a timer started with (recorded where a limit starts, with its basis)."""
    if "limit_minutes" in p:
        minutes, basis = p.pop("limit_minutes"), p.pop("basis", None)
        if basis is None:
            out.append(Msg("时限 {minutes} 分钟", minutes=minutes))
        else:
            out.append(Msg("时限 {minutes} 分钟（{basis}）", minutes=minutes, basis=_enum_label(Basis, basis)))


#: The report event's own facts (kind, category, source and where), each as "label：value".
_REPORT_FACTS: tuple[tuple[str, str, type[Enum] | None], ...] = (
    ("kind", "类型：{value}", Kind), ("category", "类别：{value}", None), ("source", "来源：{value}", Source),
    ("street", "街道：{value}", None), ("community", "社区：{value}", None), ("grid", "网格：{value}", None),
    ("component", "部件：{value}", None),
)


def _report_facts(action: str, p: dict[str, Any], out: Facts) -> None:
    if action != Action.REPORT.value:
        return
    for key, text, enum in _REPORT_FACTS:
        if key in p:
            value = p.pop(key)
            if value is not None and value != "":
                out.append(Msg(text, value=_enum_label(enum, value) if enum is not None else value))


def _minutes(action: str, p: dict[str, Any], out: Facts) -> None:
    if "minutes" in p:
        minutes = p.pop("minutes")
        if action == Action.APPROVE.value:
            out.append(Msg("批准延期 {minutes} 分钟", minutes=minutes))
        else:
            out.append(Msg("申请延期 {minutes} 分钟", minutes=minutes))
    if "requested_minutes" in p:
        out.append(Msg("原申请延期 {minutes} 分钟", minutes=p.pop("requested_minutes")))


def _request(action: str, p: dict[str, Any], out: Facts) -> None:
    if "request" in p:
        out.append(Msg("所涉申请：{request}", request=_enum_label(CaseState, p.pop("request"))))
    if "returned_by" in p:
        out.append(Msg("退回部门（编号）：{department}", department=_plain(p.pop("returned_by"))))


def _verify(action: str, p: dict[str, Any], out: Facts) -> None:
    if action == Action.VERIFY.value and "result" in p:
        out.append(Msg("核实结果：{result}", result=_empty(p.pop("result"))))
    if "confirmed" in p:
        out.append(Msg("问题属实") if p.pop("confirmed") else Msg("问题不属实"))


def _callback(action: str, p: dict[str, Any], out: Facts) -> None:
    if action != Action.CALLBACK.value:
        return
    if "result" in p:
        out.append(Msg("回访结果：{result}", result=_label(CALLBACK_LABELS, p.pop("result"))))
    if "note" in p:
        out.append(Msg("回访记录：{note}", note=_empty(p.pop("note"))))


def _text(action: str, p: dict[str, Any], out: Facts) -> None:
    if "text" not in p and "caused_by" not in p:
        return
    text = _empty(p.pop("text", None))
    auto = p.pop("auto", None)
    after, caused_by = p.pop("after", None), p.pop("caused_by", None)
    if action == Action.REPLY.value and (auto or caused_by):
        out.append(Msg("自动回复（{after}，由 {user} 的操作引起）：{text}",
                       after=_enum_label(Action, after) if after else Msg("未注明"),
                       user=caused_by or Msg("未注明"), text=text))
    elif action == Action.REPLY.value:
        out.append(Msg("回复内容：{text}", text=text))
    elif action == Action.FEEDBACK.value:
        out.append(Msg("处置情况：{text}", text=text))
    else:
        out.append(Msg("内容：{text}", text=text))
        if after is not None:
            out.append(generic("after", after))
        if caused_by is not None:
            out.append(generic("caused_by", caused_by))
    if auto is not None and action != Action.REPLY.value:
        out.append(generic("auto", auto))


def _outcome(action: str, p: dict[str, Any], out: Facts) -> None:
    if "outcome" in p:
        out.append(Msg("核查结论：{outcome}", outcome=_enum_label(Outcome, p.pop("outcome"))))


def _supervisor(action: str, p: dict[str, Any], out: Facts) -> None:
    if "supervisor" in p:
        out.append(Msg("派给监督员：{supervisor}", supervisor=_empty(p.pop("supervisor"))))


def _urge(action: str, p: dict[str, Any], out: Facts) -> None:
    if "urge_level" in p:
        level = p.pop("urge_level")
        out.append(Msg("督办级别：{level} 级（{label}）", level=level, label=_label(URGE_LEVELS, level)))
    if "urge_deadline" in p:
        value = p.pop("urge_deadline")
        out.append(Msg("督办时限：{at}", at=when(value)) if value else Msg("督办时限：无"))
    if "urge_count" in p:
        out.append(Msg("第 {n} 次督办", n=p.pop("urge_count")))


def _ruling(action: str, p: dict[str, Any], out: Facts) -> None:
    if "ruling" in p:
        out.append(Msg("裁定结果：{ruling}", ruling=_label(RULING_LABELS, p.pop("ruling"))))
    if "responsible" in p:
        out.append(Msg("实际责任部门：{department}", department=_empty(p.pop("responsible"))))
    if "remedial" in p:
        out.append(Msg("代整改部门：{department}", department=_plain(p.pop("remedial"))))


def _evidence(action: str, p: dict[str, Any], out: Facts) -> None:
    if "evidence" in p:
        given = p.pop("evidence")
        if isinstance(given, Mapping):
            rest = dict(given)
            before, after = rest.pop("before_at", None), rest.pop("after_at", None)
            out.append(Msg("处置前照片拍摄于：{at}", at=when(before)) if before else Msg("处置前照片：无拍摄时间"))
            out.append(Msg("处置后照片拍摄于：{at}", at=when(after)) if after else Msg("处置后照片：无拍摄时间"))
            missing = rest.pop("missing", None) or []
            if missing:
                codes = MISSING_CODES
                names = [codes.get(m, str(m)) if isinstance(m, str) else _plain(m) for m in
                         (missing if isinstance(missing, list) else [missing])]
                out.append(Msg("结案证据缺少：{missing}", missing=Seq(names)))
            else:
                out.append(Msg("结案证据齐全"))
            out.extend(generic(f"evidence.{k}", v) for k, v in rest.items())
        else:
            out.append(generic("evidence", given))
    if "override" in p:
        out.append(Msg("证据不全，值班长确认结案") if p.pop("override") else Msg("未使用值班长确认"))


def _changes(action: str, p: dict[str, Any], out: Facts) -> None:
    changes = p.get("changes")
    if not isinstance(changes, Mapping):
        return
    p.pop("changes")
    for name, pair in changes.items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            out.append(Msg("{field}：{before} → {after}", field=Msg(EDITED_FIELDS[name]) if name in EDITED_FIELDS
                           else str(name), before=_empty(pair[0]), after=_empty(pair[1])))
        else:
            out.append(generic(f"changes.{name}", pair))


def _duplicate(action: str, p: dict[str, Any], out: Facts) -> None:
    if "duplicate_of" in p:
        p.pop("duplicate_of_id", None)
        out.append(Msg("与案卷 {number} 重复", number=_plain(p.pop("duplicate_of"))))


def _location(action: str, p: dict[str, Any], out: Facts) -> None:
    if "location" not in p:
        return
    method = p.pop("location")
    grid, x, y = p.pop("grid", None), p.pop("x", None), p.pop("y", None)
    where = _label(LOCATION_METHODS, method)
    if x is not None and y is not None:
        out.append(Msg("定位方式：{method}，网格 {grid}（x={x}, y={y}）", method=where, grid=grid or "-", x=x, y=y))
    else:
        out.append(Msg("定位方式：{method}，网格 {grid}", method=where, grid=grid or "-"))


_HANDLERS: tuple[Handler, ...] = (
    _location, _report_facts, _duplicate, _department, _rank, _level, _deadline, _limit, _minutes, _request,
    _verify, _callback,
    _text, _outcome, _supervisor, _urge, _ruling, _evidence, _changes,
)


def payload_facts(action: str, payload: Mapping[str, Any] | None, *, photos: int = 0) -> list[Msg]:
    """The facts of an event of ``action`` with ``payload`` and ``photos`` attached, one message each."""
    rest = dict(payload or {})
    out: Facts = []
    for handle in _HANDLERS:
        handle(action, rest, out)
    out.extend(generic(str(key), value) for key, value in rest.items())
    if photos:
        out.append(Msg("附照片 {n} 张", n=photos))
    return out


def event_facts(event: CaseEventRecord) -> list[Msg]:
    """The facts of one timeline entry (see :func:`payload_facts`)."""
    return payload_facts(event.action, event.payload, photos=getattr(event, "photos", 0) or 0)


# ---- attachments and the urge mark -------------------------------------------------------------

#: Attachment kinds (attachments.kind) as a list names them.
ATTACHMENT_KINDS: dict[str, str] = {"report": "上报照片", "before": "处置前照片", "after": "处置后照片", "other": "其他照片"}


def size_text(size: int | None) -> str:
    """A byte count as ``512 B``, ``12.3 KB`` or ``4.2 MB`` (the same in every language)."""
    if size is None:
        return "?"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_line(kind: str, filename: str, taken_at: Any, size: int | None) -> Msg:
    """One attachment: kind, file name, size and shooting time (or that it has none)."""
    label = Msg(ATTACHMENT_KINDS[kind]) if kind in ATTACHMENT_KINDS else kind
    if taken_at:
        return Msg("「{filename}」（{kind}）{size}，拍摄于 {at}", kind=label, filename=filename,
                   size=size_text(size), at=when(taken_at))
    return Msg("「{filename}」（{kind}）{size}，无拍摄时间", kind=label, filename=filename, size=size_text(size))


def urge_text(level: int, deadline: Any = None) -> Msg | None:
    """A case's 督办 mark: ``挂牌督办（3 级），督办时限 2026-03-03 17:00``; None when not urged."""
    if not level:
        return None
    label = _label(URGE_LEVELS, level)
    if deadline:
        return Msg("{label}（{level} 级），督办时限 {at}", label=label, level=level, at=when(deadline))
    return Msg("{label}（{level} 级）", label=label, level=level)


__all__ = ["ATTACHMENT_KINDS", "EDITED_FIELDS", "GENERIC_CHARS", "LOCATION_METHODS", "attachment_line",
           "event_facts", "generic", "payload_facts", "size_text", "urge_text", "when"]
