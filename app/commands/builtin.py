"""Every built-in case operation, declared once: 上报 … 结案, the requests, approvals, 督办, 回复, 修改, 争议, 裁定, 回访.

The GUI, ``gridhall case``, bulk runs and plugins all reach the case services through these.
Order: the workflow's ``Action`` order (menus follow it).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.commands.model import Call, CliAlias, Command, Field, Problem
from app.commands.model import FieldKind as K
from app.domain.definitions import Action, Level
from app.domain.loop import CALLBACK_LABELS, RULING_LABELS, URGE_LEVELS
from app.domain.messages import Msg
from app.domain.workflow import Outcome
from app.services.errors import ValidationError

if TYPE_CHECKING:
    from app.commands.registry import CommandRegistry
    from app.views.handles import Registration

A = Action
WORKDAY_MINUTES = 480
PREFIX = "gridhall.case."


def command_id(action: Action) -> str:
    """The stable id of a built-in case command, e.g. ``gridhall.case.dispatch``."""
    return f"{PREFIX}{action.value}"


# ---- fields used by several commands -------------------------------------------------------

def _note() -> Field:
    return Field("note", K.LINE, "备注")


def _reason(help: str = "", *, required: bool = True) -> Field:
    return Field("reason", K.LINE, "理由", required=required, help=help)


def _text(label: str = "内容", *, option: str | None = None, help: str = "") -> Field:
    return Field("text", K.TEXT, label, required=True, option=option, help=help)


def _photos(kind: str, *, name: str = "photos", option: str = "--photo", label: str = "照片",
            prompt: bool = True) -> Field:
    return Field(name, K.PHOTOS, label, photo_kind=kind, option=option, prompt=prompt)


def _photo_time() -> Field:
    return Field("photo_time", K.LINE, "拍摄时间", option="--photo-time", prompt=False,
                 help="照片的拍摄时间，如 2026-03-02 10:15（手持终端给出的时间；优先于照片的 EXIF 拍摄时间）")


def _timed(photos: Any, stated: Any) -> tuple:
    """The photos with the stated shooting time (``--photo-time``) where one is given."""
    from app.services.attachments import PhotoInput

    photos = tuple(photos or ())
    text = (stated or "").strip() if isinstance(stated, str) else stated
    if not text:
        return photos
    if not photos:
        raise ValidationError("photo_time", Msg("给出了拍摄时间（--photo-time），但没有附照片"))
    at = None
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            at = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    if at is None:
        raise ValidationError("photo_time", Msg("拍摄时间「{text}」无效：应为「年-月-日 时:分」，如 2026-03-02 10:15",
                                                text=str(text)[:40]))
    return tuple(PhotoInput(p.filename, p.data, p.kind, at) for p in photos)


def _level(default: str | None = None) -> Field:
    return Field("level", K.LEVEL, "等级", default=default, help="一般/紧急/工程（general/urgent/engineering）")


def _alias(verb: str, option: str, value: str | None = None, field: str | None = None) -> tuple[CliAlias, ...]:
    return (CliAlias(verb, option, value, field),)


# ---- checks that involve several fields ------------------------------------------------------

def _failed_check_needs_reason(values: dict) -> Problem | None:
    if values.get("outcome") == Outcome.FAILED.value and not values.get("reason"):
        return Problem("reason", "理由", "核查不通过时{label}不能为空")
    return None


# ---- the service calls -----------------------------------------------------------------------

def _report(cases: Any, actor: Any, _case_id: Any, _version: Any, v: dict) -> Any:
    from app.services.intake import ReportDraft
    from app.services.location import LocationInput

    at, lonlat = v.get("at") or (None, None), v.get("lonlat") or (None, None)
    location = LocationInput(x=at[0], y=at[1], lon=lonlat[0], lat=lonlat[1], component_code=v.get("component"),
                             address=v.get("address"))
    draft = ReportDraft(category=v["category"], description=v.get("description") or "", location=location,
                        level=v.get("level") or Level.GENERAL, source=v.get("source"),
                        reporter_name=v.get("reporter"), reporter_phone=v.get("phone"),
                        photos=_timed(v.get("photos"), v.get("photo_time")))
    return cases.report(actor, draft, link_to=v.get("duplicate_of") or None)


def _first_suggestion(cases: Any, row: Any, values: dict) -> dict:
    """Bulk dispatch without a department: each case goes to its first suggestion."""
    if values.get("department") is not None:
        return values
    suggestions = cases.dispatch_suggestions(row.id)
    if not suggestions:
        raise ValidationError("department", "没有派遣建议：请单独派遣并选择部门")
    return {**values, "department": suggestions[0].department_id}


def _supervisor_suggestions(cases: Any, case_id: int) -> str:
    """The supervisors suggested for the case's verify/check task (a form's INFO field)."""
    from app.services.supervisors import suggestions_for

    return suggestions_for(cases.store, case_id)


def _supervisor_choices(cases: Any, case_id: int) -> list:
    """The supervisors a form offers for the task: the first suggestion (empty value), each suggested one,
    then every other active supervisor."""
    from app.services.supervisors import supervisor_choices

    return supervisor_choices(cases.store, case_id)


def _send_fields() -> tuple[Field, ...]:
    """派发核实/派发核查: the suggestion shown, the supervisor named (empty: the first suggestion), a note."""
    return (Field("suggestion", K.INFO, "监督员建议", load=_supervisor_suggestions),
            Field("supervisor", K.CHOICE, "监督员", help="监督员用户名；不填则派给首选建议", load=_supervisor_choices),
            _note())


def _request(kind: str) -> Call:
    def call(cases: Any, actor: Any, case_id: Any, version: Any, v: dict) -> Any:
        return getattr(cases, f"request_{kind}")(actor, case_id, version, reason=v["reason"])
    return call


def _edit(cases: Any, actor: Any, case_id: Any, version: Any, v: dict) -> Any:
    # An empty field leaves the case's value as it is (a form shows every field empty).
    given = {name: v.get(name) or None for name in ("address", "description", "reporter_name", "reporter_phone")}
    return cases.edit(actor, case_id, version, reason=v["reason"], **given)


def builtin_commands() -> tuple[Command, ...]:
    """The built-in case commands (a new tuple each call; the declarations are immutable)."""
    made = [
        Command(
            command_id(A.REPORT), A.REPORT.label, _report, A.REPORT, on_case=False, verb="report",
            fields=(
                Field("at", K.POINT, "坐标", group="where", help="存储坐标系（EPSG:4549）中的点 X,Y"),
                Field("lonlat", K.POINT, "经纬度", group="where", help="CGCS2000/WGS84 经度,纬度"),
                Field("component", K.LINE, "部件标识码", group="where", help="17 位（或旧 16 位）部件标识码"),
                Field("address", K.LINE, "地址", help="地址；没有坐标时按地址定位"),
                Field("category", K.LINE, "类别", required=True, help="如 event:06010 或 06010"),
                Field("level", K.LEVEL, "等级", default=Level.GENERAL.value, help="一般/紧急/工程"),
                Field("source", K.LINE, "来源", help="supervisor|hotline|public|media|video|police|leader|department"),
                Field("description", K.TEXT, "描述", default="", help="现场情况：什么问题、在哪里、影响多大"),
                _photos("report"),
                _photo_time(),
                Field("reporter", K.LINE, "举报人"),
                Field("phone", K.LINE, "联系电话"),
                Field("duplicate_of", K.CASE_REF, "原案卷号", prompt=False,
                      help="与已有案卷重复时：同时关联到该案卷（不予重复立案）"),
            ),
            tip="登记新上报的问题"),
        Command(
            command_id(A.SEND_VERIFY), A.SEND_VERIFY.label,
            lambda c, a, i, ver, v: c.send_verify(a, i, ver, note=v.get("note"), supervisor=v.get("supervisor")),
            A.SEND_VERIFY, _send_fields(), hint="派给一名监督员现场核实（不填则派给首选建议）", shortcut="Ctrl+Shift+V",
            aliases=_alias("verify", "--send")),
        Command(
            command_id(A.VERIFY), A.VERIFY.label,
            lambda c, a, i, ver, v: c.verify(a, i, ver, result=v["text"], confirmed=v["confirmed"],
                                             photos=_timed(v["photos"], v.get("photo_time"))), A.VERIFY,
            (_text("核实结果", option="--result"),
             Field("confirmed", K.BOOL, "问题属实", default=True, option="--not-confirmed"),
             _photos("other"), _photo_time()),
            hint="写明现场是否属实及情况；不属实的案卷不能立案（不予立案或再次派发核实）", shortcut="Ctrl+Shift+Y"),
        Command(
            command_id(A.FILE), A.FILE.label,
            lambda c, a, i, ver, v: c.file(a, i, ver, level=v.get("level"), note=v.get("note")), A.FILE,
            (Field("standard", K.INFO, "立案标准", load=lambda cases, case_id: cases.filing_standard(case_id)),
             _level(), _note()),
            shortcut="Ctrl+L"),
        Command(
            command_id(A.REJECT), A.REJECT.label,
            lambda c, a, i, ver, v: c.reject(a, i, ver, reason=v["reason"]), A.REJECT,
            (_reason("不予立案的理由（将回复举报人）"),), hint="不予立案的理由（将回复举报人）", shortcut="Ctrl+Shift+N"),
        Command(
            command_id(A.DISPATCH), A.DISPATCH.label,
            lambda c, a, i, ver, v: c.dispatch(a, i, ver, department=v["department"], level=v.get("level"),
                                               reason=v.get("reason")), A.DISPATCH,
            (Field("department", K.DEPARTMENT, "部门", required=True, help="部门代码、名称或 id"),
             _level(), _reason("派遣给建议以外的部门时必填", required=False)),
            shortcut="Ctrl+D", form="dispatch", bulk=True, bulk_shortcut="Ctrl+Shift+P",
            bulk_prepare=_first_suggestion),
        Command(
            command_id(A.ACCEPT), A.ACCEPT.label, lambda c, a, i, ver, v: c.accept(a, i, ver), A.ACCEPT,
            direct=True, shortcut="Ctrl+J"),
        Command(
            command_id(A.REQUEST_RETURN), A.REQUEST_RETURN.label, _request("return"), A.REQUEST_RETURN,
            (_reason(),), hint="为什么不属于本部门职责", shortcut="Ctrl+Shift+B",
            aliases=_alias("request", "--type", "return")),
        Command(
            command_id(A.REQUEST_EXTENSION), A.REQUEST_EXTENSION.label,
            lambda c, a, i, ver, v: c.request_extension(a, i, ver, minutes=v["minutes"], reason=v["reason"]),
            A.REQUEST_EXTENSION,
            (Field("minutes", K.INT, "延期时长", required=True, default=WORKDAY_MINUTES, minimum=1,
                   maximum=60 * 24 * 365, step=WORKDAY_MINUTES, suffix=" 分钟（1 个工作日 = 480 分钟）",
                   help="延长的分钟数（1 个工作日 = 480 分钟）"),
             _reason()),
            hint="需要延长多久、为什么", shortcut="Ctrl+Shift+E", aliases=_alias("request", "--type", "extension")),
        Command(
            command_id(A.REQUEST_DEFER), A.REQUEST_DEFER.label, _request("defer"), A.REQUEST_DEFER,
            (_reason(),), hint="缓办期间计时暂停", shortcut="Ctrl+Shift+D", aliases=_alias("request", "--type", "defer")),
        Command(
            command_id(A.REQUEST_SHELVE), A.REQUEST_SHELVE.label, _request("shelve"), A.REQUEST_SHELVE,
            (_reason(),), hint="长期无法解决的原因", shortcut="Ctrl+Shift+G",
            aliases=_alias("request", "--type", "shelve")),
        Command(
            command_id(A.REQUEST_VOID), A.REQUEST_VOID.label, _request("void"), A.REQUEST_VOID,
            (_reason(),), hint="需值班长批准", shortcut="Ctrl+Shift+Z", aliases=_alias("request", "--type", "void")),
        Command(
            command_id(A.APPROVE), A.APPROVE.label,
            lambda c, a, i, ver, v: c.approve(a, i, ver, minutes=v.get("minutes"), note=v.get("note")), A.APPROVE,
            (Field("minutes", K.INT, "批准的延期时长", minimum=1, maximum=60 * 24 * 365, prompt=False,
                   help="批准延期的分钟数（默认按申请）"),
             _note()),
            shortcut="Ctrl+Shift+A"),
        Command(
            command_id(A.REFUSE), A.REFUSE.label, lambda c, a, i, ver, v: c.refuse(a, i, ver, reason=v["reason"]),
            A.REFUSE, (_reason(),), hint="不批准的理由（案卷回到申请前的状态）", shortcut="Ctrl+Shift+X"),
        Command(
            command_id(A.FEEDBACK), A.FEEDBACK.label,
            lambda c, a, i, ver, v: c.feedback(a, i, ver, text=v["text"],
                                               photos=_timed(tuple(v.get("before") or ()) + tuple(v.get("photos") or ()),
                                                             v.get("photo_time"))),
            A.FEEDBACK,
            (_text(), _photos("after"),
             _photos("before", name="before", option="--before", label="处置前照片", prompt=False), _photo_time()),
            hint="处置情况；附处置后照片", shortcut="Ctrl+Shift+F"),
        Command(
            command_id(A.SEND_CHECK), A.SEND_CHECK.label,
            lambda c, a, i, ver, v: c.send_check(a, i, ver, note=v.get("note"), supervisor=v.get("supervisor")),
            A.SEND_CHECK, _send_fields(), hint="派给一名监督员现场核查（不填则派给首选建议）", shortcut="Ctrl+Shift+C",
            aliases=_alias("check", "--send")),
        Command(
            command_id(A.CHECK), A.CHECK.label,
            lambda c, a, i, ver, v: c.check(a, i, ver, outcome=v["outcome"], reason=v.get("reason"),
                                            photos=_timed(v["photos"], v.get("photo_time"))), A.CHECK,
            (Field("outcome", K.CHOICE, "核查结果", required=True, default=Outcome.PASSED.value,
                   choices=((Outcome.PASSED.value, "通过（待结案）"), (Outcome.FAILED.value, "不通过（返工）"))),
             _reason(required=False), _photos("after"), _photo_time()),
            hint="不通过时必须写明理由（返工给原部门）", shortcut="Ctrl+K", checks=(_failed_check_needs_reason,)),
        Command(
            command_id(A.CLOSE), A.CLOSE.label,
            lambda c, a, i, ver, v: c.close(a, i, ver, note=v.get("note"), override=bool(v.get("override"))),
            A.CLOSE,
            (_note(),
             Field("override", K.BOOL, "证据不完整，仍然结案", default=False, option="--override", prompt=False,
                   help="结案证据不完整时由值班长确认仍然结案（须在 --note 中写明理由，记录在案）")),
            shortcut="Ctrl+E", bulk=True, bulk_shortcut="Ctrl+Shift+J"),
        Command(
            command_id(A.REWORK), A.REWORK.label, lambda c, a, i, ver, v: c.rework(a, i, ver, reason=v["reason"]),
            A.REWORK, (_reason(),), hint="处置不合格的原因", shortcut="Ctrl+Shift+W"),
        Command(
            command_id(A.VOID), A.VOID.label, lambda c, a, i, ver, v: c.void(a, i, ver, reason=v["reason"]),
            A.VOID, (_reason(),), hint="作废的原因（记录保留）", shortcut="Ctrl+Shift+Del"),
        Command(
            command_id(A.URGE), A.URGE.label,
            lambda c, a, i, ver, v: c.urge(a, i, ver, level=int(v.get("level") or 1), deadline=v.get("deadline"),
                                           note=v.get("note")),
            A.URGE,
            (Field("level", K.CHOICE, "督办级别", default="1", help="1 一般督办 / 2 重点督办 / 3 挂牌督办",
                   choices=tuple((str(n), f"{n} {label}") for n, label in URGE_LEVELS.items())),
             Field("deadline", K.LINE, "督办时限",
                   help="限期办结的时间，如 2026-12-08 17:30（早于现有处置时限时取代它）"),
             _note()),
            shortcut="Ctrl+U"),
        Command(
            command_id(A.RESTORE), A.RESTORE.label,
            lambda c, a, i, ver, v: c.restore(a, i, ver, note=v.get("note")), A.RESTORE, (_note(),),
            shortcut="Ctrl+Shift+H"),
        Command(
            command_id(A.REPLY), A.REPLY.label, lambda c, a, i, ver, v: c.reply(a, i, ver, text=v["text"]),
            A.REPLY, (_text(),), hint="回复举报人的内容", shortcut="Ctrl+R"),
        Command(
            command_id(A.LINK), A.LINK.label,
            lambda c, a, i, ver, v: c.link(a, i, ver, original=v["original"], reason=v.get("reason")), A.LINK,
            (Field("original", K.CASE_REF, "原案卷号", required=True, option="--to", help="案卷号，如 SJ2026112000001"),
             _reason(required=False)),
            hint="本条与哪件案卷重复", shortcut="Ctrl+Shift+K",
            aliases=_alias("reject", "--duplicate-of", field="original")),
        Command(
            command_id(A.EDIT), A.EDIT.label, _edit, A.EDIT,
            (Field("address", K.LINE, "地址", help="新的地址（不填则不改）"),
             Field("description", K.TEXT, "描述", help="新的问题描述（不填则不改）"),
             Field("reporter_name", K.LINE, "举报人", option="--reporter", help="新的举报人（不填则不改）"),
             Field("reporter_phone", K.LINE, "联系电话", option="--phone", help="新的联系电话（不填则不改）"),
             _reason("为什么修改（记入办理过程）")),
            hint="只填写要改正的内容；修改前后的内容记入办理过程", shortcut="Ctrl+Shift+M"),
        Command(
            command_id(A.DISPUTE), A.DISPUTE.label,
            lambda c, a, i, ver, v: c.dispute(a, i, ver, reason=v["reason"]), A.DISPUTE,
            (_reason("为什么不属于本部门职责（提交协调）"),), hint="为什么不属于本部门职责（提交协调）",
            shortcut="Ctrl+Shift+T"),
        Command(
            command_id(A.RULE), A.RULE.label,
            lambda c, a, i, ver, v: c.rule(a, i, ver, department=v["department"], ruling=v["ruling"],
                                           reason=v["reason"], responsible=v.get("responsible") or None), A.RULE,
            (Field("department", K.DEPARTMENT, "部门", required=True,
                   help="裁定负责（或代整改）的部门：代码、名称或 id"),
             Field("ruling", K.CHOICE, "裁定结果", required=True, default="upheld",
                   help="upheld 维持原责任部门 / reassigned 改由其他部门负责 / remedial 指定部门代整改",
                   choices=tuple(RULING_LABELS.items())),
             Field("responsible", K.LINE, "责任部门", help="代整改时：实际责任部门的代码或名称"),
             _reason("裁定的依据")),
            hint="裁定的依据（记入办理过程）", shortcut="Ctrl+Shift+O"),
        Command(
            command_id(A.CALLBACK), A.CALLBACK.label,
            lambda c, a, i, ver, v: c.callback(a, i, ver, result=v["result"], note=v.get("note")), A.CALLBACK,
            (Field("result", K.CHOICE, "回访结果", required=True, default="satisfied",
                   help="satisfied 满意 / basically_satisfied 基本满意 / unsatisfied 不满意 / unreachable 未联系上",
                   choices=tuple(CALLBACK_LABELS.items())),
             _note()),
            hint="举报人对处置结果的评价", shortcut="Ctrl+Shift+U"),
    ]
    return tuple(made)


def register_builtins(registry: CommandRegistry) -> list[Registration]:
    """Register every built-in command in ``registry``; returns the handles."""
    return [registry.register(c) for c in builtin_commands()]


_DEFAULT: CommandRegistry | None = None


def default_registry() -> CommandRegistry:
    """The process's registry: the built-in commands plus whatever plugins (or tests) register.

    ``build_core`` hands it to every edge, so a command registered here shows in the GUI's menus
    and as a ``gridhall case`` verb.
    """
    global _DEFAULT
    if _DEFAULT is None:
        from app.commands.registry import CommandRegistry

        registry = CommandRegistry()
        register_builtins(registry)
        _DEFAULT = registry
    return _DEFAULT


__all__ = ["WORKDAY_MINUTES", "builtin_commands", "command_id", "default_registry", "register_builtins"]
