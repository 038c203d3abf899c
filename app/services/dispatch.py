"""The preparation steps of dispatching and of approving requests (run inside the operation's transaction)."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.definitions import Action, CaseState, Level
from app.domain.derived import MAX_EXTENSION_MINUTES
from app.domain.messages import Msg
from app.services.core import Step
from app.services.errors import InvalidTransition, NotFound, ValidationError
from app.services.routing import departments_handling, find_department, suggest
from app.store.models import CaseEvent, Component, Department


def prepare_dispatch(step: Step, department: int | str, level: Level | None, reason: str | None) -> None:
    """Check the department handles the category (a reason when outside the suggestions); assign it."""
    session, case = step.session, step.case
    dept = find_department(session, department)
    if dept is None:
        raise NotFound(Msg("部门「{department}」不存在：请按部门代码或名称选择", department=department))
    if not dept.active:
        raise ValidationError("department", Msg("部门「{dept}」已停用，不能派遣", dept=dept.name))
    if level is not None and level.value != case.level:
        case.level = level.value
        step.payload["level"] = level.value
    suggestions = suggest(session, case)
    ranked = {s.department_id: s for s in suggestions}
    handling: dict[int, Department | None] = {d.id: d for d in departments_handling(session, step.category)}
    if case.component_id is not None:
        comp = session.get_one(Component, case.component_id)
        for dept_id in (comp.maintainer_department_id, comp.owner_department_id, comp.authority_department_id):
            if dept_id is not None:
                handling.setdefault(dept_id, None)
    if dept.id not in ranked and dept.id not in handling:
        names = [f"{s.name}（{s.code}）" for s in suggestions] or [
            f"{d.name}（{d.code}）" for d in handling.values() if d is not None]
        listed = names or Msg("（没有：请先在路由规则中为该类别配置责任部门）")
        raise ValidationError("department", Msg("「{dept}」不负责「{category}」类问题，不能派遣；负责该类别的部门有：{listed}",
                                                dept=dept.name, category=step.category.name, listed=listed))
    if dept.id not in ranked and not reason:
        top = [s.name for s in suggestions[:3]] or Msg("无")
        raise ValidationError("reason", Msg("「{dept}」不在派遣建议中（建议：{top}），请填写派遣理由", dept=dept.name, top=top))
    case.department_id = dept.id
    case.dispatched_at = step.now
    step.department_id = dept.id
    step.restart_timer = True
    step.payload.update({"department": dept.code, "department_name": dept.name,
                         "suggested_rank": ranked[dept.id].rank if dept.id in ranked else None})
    step.details["suggestions"] = suggestions


def requested_minutes(step: Step) -> int | None:
    """The minutes asked for in the pending 延期 request (from its event payload)."""
    payload = step.session.scalar(select(CaseEvent.payload).where(
        CaseEvent.case_id == step.case.id, CaseEvent.action == Action.REQUEST_EXTENSION.value)
        .order_by(CaseEvent.seq.desc()).limit(1))
    value = (payload or {}).get("minutes")
    return int(value) if value is not None else None


def check_minutes(minutes: object) -> int:
    """A positive whole number of minutes, or ValidationError."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise ValidationError("minutes", Msg("延期时长应为正整数分钟（1 个工作日 = 480 分钟），而不是 {minutes!r}", minutes=minutes))
    if minutes > MAX_EXTENSION_MINUTES:
        raise ValidationError("minutes", Msg("延期时长 {minutes} 分钟过长：最多 {max_extension_minutes} 分钟",
                                             minutes=minutes, max_extension_minutes=MAX_EXTENSION_MINUTES))
    return minutes


def prepare_approve(step: Step, minutes: int | None) -> None:
    """Apply what the approval grants: 延期 minutes, a 回退 that clears the department."""
    request = step.state
    assert request is not None  # a request is pending on an existing case
    step.payload["request"] = request.value
    if request is CaseState.EXTENSION_REQUESTED:
        asked = requested_minutes(step)
        granted = check_minutes(minutes) if minutes is not None else asked
        if granted is None:
            raise InvalidTransition(Msg("找不到延期申请的时长：请在批准时给出延期分钟数"))
        step.extension_minutes = granted
        step.payload["minutes"] = granted
        if asked is not None and granted != asked:
            step.payload["requested_minutes"] = asked
    elif minutes is not None:
        raise ValidationError("minutes", Msg("只有延期申请需要时长；「{request}」的批准不接受分钟数", request=request))
    if request is CaseState.RETURN_REQUESTED:
        step.payload["returned_by"] = step.case.department_id
        step.case.department_id = None  # wrongly dispatched: the dispatcher picks again


__all__ = ["check_minutes", "prepare_approve", "prepare_dispatch", "requested_minutes"]
