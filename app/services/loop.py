"""督办 with a level and deadline, 协调裁定 and 回访: input checks and the preparation steps (inside the operation's transaction).

What these steps set on the case is what migration 0015 derives on PostgreSQL from the same
event (the checks below refuse what the database would refuse, with a message for the
operator): the case's ``urge_level`` is the highest level of its urges and ``urge_deadline_at``
the earliest urge deadline (app.services.timers.update_timer lets it replace a later handling
deadline); a ruling names the department responsible (upheld keeps its running timer, another
department gets a fresh handling limit); a call-back is made to reporters who get replies.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.definitions import Source
from app.domain.derived import REPLY_SOURCES
from app.domain.loop import CALLBACK_LABELS, CALLBACK_RESULTS, RULING_LABELS, RULINGS, URGE_LEVELS
from app.domain.messages import Msg, Seq
from app.services.core import Step
from app.services.errors import NotFound, ValidationError
from app.services.routing import find_department
from app.store.models import Department

#: The forms an urge deadline may be typed in (the payload always says YYYY-MM-DD HH:MM:SS).
_DEADLINE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")
STAMP = "%Y-%m-%d %H:%M:%S"


def check_urge_level(level: object) -> int:
    """1, 2 or 3 (also given as text or by its label), or ValidationError."""
    if isinstance(level, str):
        text = level.strip()
        by_label = {label: value for value, label in URGE_LEVELS.items()}
        level = by_label.get(text, int(text) if text.isdigit() and len(text) < 3 else text)
    if isinstance(level, bool) or not isinstance(level, int) or level not in URGE_LEVELS:
        raise ValidationError("level", Msg("督办级别应为 1（一般督办）、2（重点督办）或 3（挂牌督办），而不是 {level!r}",
                                           level=level))
    return level


def check_urge_deadline(deadline: datetime | str | None) -> datetime | None:
    """The urge deadline as a whole-second time (None when not given), or ValidationError."""
    if deadline is None or (isinstance(deadline, str) and not deadline.strip()):
        return None
    if isinstance(deadline, datetime):
        return deadline.replace(microsecond=0, tzinfo=None)
    text = str(deadline).strip()
    for form in _DEADLINE_FORMATS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    raise ValidationError("deadline", Msg("督办时限应写成「年-月-日 时:分」，如 2026-12-08 17:30，而不是 {deadline!r}",
                                          deadline=text[:40]))


def check_ruling(ruling: object) -> str:
    """upheld / reassigned / remedial (also by its label), or ValidationError."""
    text = str(ruling or "").strip()
    by_label = {label: value for value, label in RULING_LABELS.items()}
    value = by_label.get(text, text)
    if value not in RULINGS:
        raise ValidationError("ruling", Msg("裁定结果应为 upheld（维持原责任部门）、reassigned（改由其他部门负责）"
                                            "或 remedial（指定部门代整改），而不是 {ruling!r}", ruling=text[:40]))
    return value


def check_callback_result(result: object) -> str:
    """satisfied / basically_satisfied / unsatisfied / unreachable (also by its label), or ValidationError."""
    text = str(result or "").strip()
    by_label = {label: value for value, label in CALLBACK_LABELS.items()}
    value = by_label.get(text, text)
    if value not in CALLBACK_RESULTS:
        raise ValidationError("result", Msg("回访结果应为 satisfied（满意）、basically_satisfied（基本满意）、"
                                            "unsatisfied（不满意）或 unreachable（未联系上），而不是 {result!r}",
                                            result=text[:40]))
    return value


def prepare_urge(step: Step, level: int, deadline: datetime | None) -> None:
    """Count the urge, raise the case's level, keep the earliest urge deadline (a future time)."""
    case = step.case
    if deadline is not None and deadline <= step.now:
        raise ValidationError("deadline", Msg("督办时限 {deadline} 不晚于现在（{now}）：请给出将来的时间",
                                              deadline=f"{deadline:%Y-%m-%d %H:%M}", now=f"{step.now:%Y-%m-%d %H:%M}"))
    case.urge_count = (case.urge_count or 0) + 1
    step.payload["urge_count"] = case.urge_count
    step.payload["urge_level"] = level
    case.urge_level = max(case.urge_level or 0, level)
    if deadline is not None:
        step.payload["urge_deadline"] = f"{deadline:{STAMP}}"
        if case.urge_deadline_at is None or deadline < case.urge_deadline_at:
            case.urge_deadline_at = deadline


def prepare_rule(step: Step, department: int | str, ruling: str, responsible: int | str | None) -> None:
    """The coordinator's ruling: the department responsible (or doing the remedial work) gets the case."""
    session, case = step.session, step.case
    dept = find_department(session, department)
    if dept is None:
        raise NotFound(Msg("部门「{department}」不存在：请按部门代码或名称选择", department=department))
    if not dept.active:
        raise ValidationError("department", Msg("部门「{dept}」已停用，不能裁定由其负责", dept=dept.name))
    current = session.get(Department, case.department_id) if case.department_id else None
    if ruling == "upheld" and dept.id != case.department_id:
        raise ValidationError("department", Msg("「维持原责任部门」的裁定仍由「{current}」负责，而不是「{dept}」；"
                                                "改由其他部门负责请选 reassigned",
                                                current=current.name if current else "?", dept=dept.name))
    if ruling == "reassigned" and dept.id == case.department_id:
        raise ValidationError("department", Msg("「改由其他部门负责」的裁定要指定另一个部门，而不是原部门「{dept}」",
                                                dept=dept.name))
    step.payload["ruling"] = ruling
    if responsible is not None and str(responsible).strip():
        if ruling != "remedial":
            raise ValidationError("responsible", Msg("只有「指定部门代整改」的裁定才写明责任部门"))
        owner = find_department(session, responsible)
        if owner is None:
            raise NotFound(Msg("部门「{department}」不存在：请按部门代码或名称选择", department=responsible))
        if owner.id == dept.id:
            raise ValidationError("responsible", Msg("代整改的部门「{dept}」与责任部门相同：代整改由另一个部门承担",
                                                     dept=dept.name))
        step.payload["responsible"] = owner.code
    step.payload.update({"department": dept.code, "department_name": dept.name})
    step.department_id = dept.id
    if dept.id != case.department_id:  # another department: a fresh handling limit (upheld: the timer runs on)
        case.department_id = dept.id
        case.dispatched_at = step.now
        step.restart_timer = True


def prepare_callback(step: Step, result: str, note: str | None) -> None:
    """回访 a reporter who gets replies; the case's department (the one evaluated) is recorded."""
    case = step.case
    source = Source(case.source) if case.source in Source._value2member_map_ else None
    if source not in REPLY_SOURCES:
        raise ValidationError("result", Msg("案卷 {number} 来源为「{source}」，没有要回访的举报人：只回访{sources}的举报人",
                                            number=case.number, source=source or case.source,
                                            sources=Seq(sorted(REPLY_SOURCES, key=lambda s: s.value), "、", ", ")))
    step.payload["result"] = result
    if note:
        step.payload["note"] = note
    dept = step.session.get(Department, case.department_id) if case.department_id else None
    if dept is not None:
        step.payload.update({"department": dept.code, "department_name": dept.name})


__all__ = ["STAMP", "check_callback_result", "check_ruling", "check_urge_deadline", "check_urge_level",
           "prepare_callback", "prepare_rule", "prepare_urge"]
