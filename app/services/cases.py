"""CaseService: every operation of the closed loop, for the GUI, the CLI and plugins alike.

Each operation takes the acting ``Actor`` and the ``expected_version`` the caller saw, checks the
role and state through the workflow, changes the case, records its event(s) in the same
transaction and publishes ``CaseChanged`` after the commit. Bad input raises a ServiceError
subclass with a Chinese message and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.cases import CaseEventRecord, CaseSummary
from app.domain.deadlines import format_limit
from app.domain.definitions import STORE_SRID, Action, CaseState, Kind, Level, Role, Source, Stage
from app.domain.evidence import EvidenceCheck
from app.domain.limit_versions import limits_at
from app.domain.messages import Msg
from app.domain.workflow import Outcome
from app.services import dispatch as dispatching
from app.services import duplicates as dup
from app.services import gates, intake, routing, timers
from app.services import loop as looping
from app.services.actors import Actor
from app.services.attachments import CheckedPhoto, PhotoInput, check_photos
from app.services.core import DEPARTMENT_BOUND, ActionResult, CaseSettings, ServiceCore, Step, db_refusals
from app.services.errors import NotFound, ValidationError
from app.services.location import resolve
from app.store import queries, security
from app.store.audit import db_derives, lock_head
from app.store.locks import run_releasing
from app.store.models import AdminArea, Attachment, Case, Category


@dataclass(frozen=True)
class AttachmentInfo:
    """One attachment of a case as ``CaseService.attachments`` lists it (no data)."""

    id: int
    kind: str  # report | before | after | other
    filename: str
    mime: str
    taken_at: datetime | None  # the shooting time (EXIF or stated), None when unknown
    size: int
    sha256: str
    event_id: int | None


def _required(text: str | None, field: str, message: str) -> str:
    value = (text or "").strip()
    if not value:
        raise ValidationError(field, message)
    return value


def _with_kind(photos: Iterable[PhotoInput] | None, kind: str) -> list[PhotoInput]:
    # photos given without an explicit kind take the one the step implies (e.g. "after" at feedback)
    return [p if p.kind != "report" else PhotoInput(p.filename, p.data, kind, p.taken_at) for p in photos or ()]


def _number_taken(session: Session, case: Case, number: str) -> bool:
    """Whether ``number`` is in use, asked of the unique index (row-level security hides rows)."""
    case.number = number
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
            raise _Probe
    except _Probe:
        return False
    except IntegrityError as exc:
        if "number" not in str(exc.orig):
            raise
        return True
    finally:
        if case in session:
            session.expunge(case)
        case.id = None  # type: ignore[assignment]  # the rolled-back insert's id is not the case's


def report_facts(session: Session, case: Case, category: Category, where: Any) -> dict[str, Any]:
    """What the report event records of its case so that evaluation never needs the case row:
    kind, category, level, source, grid, community, street and component (codes; None where the
    case has none). PostGIS (migration 0017) adds the same from the case row and refuses others."""
    areas = dict(session.execute(select(AdminArea.id, AdminArea.code).where(
        AdminArea.id.in_([i for i in (where.community_id, where.street_id) if i is not None]))).all())
    return {"kind": case.kind, "category": category.code, "level": case.level, "source": case.source,
            "grid": where.grid_code, "community": areas.get(where.community_id),
            "street": areas.get(where.street_id), "component": where.component_code}


class _Probe(Exception):
    """Undoes a probe insert that succeeded (its number is free)."""


def _note_request(step: Step) -> None:
    """不批准: record which request is refused (the case's state is the request state)."""
    assert step.state is not None  # a request is pending on an existing case
    step.payload.update(request=step.state.value)


def _insert_numbered(session: Session, case: Case, kind: Kind, now: datetime) -> None:
    """Insert ``case`` with the next number of the day (call under the chain lock).

    A 专业部门操作员's login on PostGIS sees only its department's cases, so the largest
    number it can read may be taken: the numbers are contiguous (handed out under the chain
    lock), so the first free one is found by galloping and bisecting on the unique index.
    """
    case.number = intake.next_number(session, kind, now)
    hidden = security.session_in_group(session, Role.DEPARTMENT)
    if hidden:
        prefix, serial = case.number[:-4], int(case.number[-4:])
        step = 1
        while _number_taken(session, case, f"{prefix}{serial + step - 1:04d}"):
            serial, step = serial + step, step * 2
        low, high = serial, serial + step - 1  # low-1 is taken (or nothing), high is free
        while low < high:
            mid = (low + high) // 2
            if _number_taken(session, case, f"{prefix}{mid:04d}"):
                low = mid + 1
            else:
                high = mid
        case.number = f"{prefix}{low:04d}"
    session.add(case)
    session.flush()


class CaseService(ServiceCore):
    """The case operations (one method per step of the loop) and the reads the views need."""

    # -- intake ---------------------------------------------------------------------------

    def report(self, actor: Actor, draft: intake.ReportDraft, *, link_to: int | str | None = None) -> ActionResult:
        """上报: validate everything, then create the case and its first event in one transaction.

        ``link_to`` (a case id or number) records the report as a duplicate of that case in the
        same transaction (上报 + 关联重复): either both are written or neither.
        """
        self._check(actor, None, Action.REPORT)
        if link_to is not None:
            self._check(actor, CaseState.REPORTED, Action.LINK, reason="-")
        draft = intake.check_draft(draft)  # the one input policy (app/domain/text.py) on every field
        kind, code, notes = intake.parse_category(draft.category, draft.kind, self.taxonomy)
        description = intake.check_description(draft.description)
        level = intake.check_level(draft.level)
        source = intake.check_source(draft.source, actor.role)
        photos = check_photos(draft.photos, self.settings.max_photo_bytes)
        self._follow_config()
        now = self._now()

        def attempt() -> ActionResult:  # a whole transaction: run again after a lock timeout
            return self._report(actor, draft, link_to, kind, code, notes, description, level, source, photos, now)

        result = run_releasing(self.store, attempt)
        self._publish(result, actor, now)
        return result

    def _report(self, actor: Actor, draft: intake.ReportDraft, link_to: int | str | None, kind: Kind, code: str,
                notes: list[str], description: str, level: Level, source: Source, photos: list[CheckedPhoto],
                now: datetime) -> ActionResult:
        with db_refusals(), self.store.session() as session, session.begin():
            category = intake.category_row(session, kind, code)
            where = resolve(session, draft.location, self.taxonomy)
            if where.component_id is not None and kind is Kind.COMPONENT \
                    and where.component_category_id != category.id:
                comp_cat = session.get_one(Category, where.component_category_id)
                raise ValidationError("category", Msg("部件 {component_code} 属于「{comp_cat}」，"
                                                      "与所选类别「{category}」不符；请改选类别或部件", component_code=where.component_code, comp_cat=comp_cat.name, category=category.name))
            # Read-only work before the chain lock: other workstations keep appending meanwhile.
            duplicates = dup.find_duplicates(
                session, category=category, x=where.x, y=where.y, now=now,
                radius_m=self.settings.duplicate_radius_m, window_days=self.settings.duplicate_window_days)
            lock_head(session)  # case numbers are handed out under the chain lock
            case = Case(number="", kind=kind.value, category_id=category.id,
                        level=level.value, state=CaseState.REPORTED.value, source=source.value,
                        grid_id=where.grid_id, component_id=where.component_id, address=where.address,
                        description=description, reporter_name=intake.clean(draft.reporter_name),
                        reporter_phone=intake.clean(draft.reporter_phone), reported_at=now, version=0,
                        urge_count=0, rework_count=0, paused_minutes=0, extension_minutes=0,
                        geom=WKTElement(f"POINT({where.x!r} {where.y!r})", srid=STORE_SRID))
            _insert_numbered(session, case, kind, now)
            step = Step(session, case, category, actor, None, None, self._check(actor, None, Action.REPORT),
                        CaseState.REPORTED, now, photos=photos, department_id=actor.department_id)
            step.payload = {"location": where.method, "grid": where.grid_code, "x": round(where.x, 2),
                            "y": round(where.y, 2), **report_facts(session, case, category, where)}
            step.warnings.extend(list(notes) + list(where.notes))
            step.details["location"] = where
            step.details["duplicates"] = duplicates
            result = self._record(step, None, None)
            if link_to is not None:
                result = self._link_in(step, link_to, result)
        return result

    def _link_in(self, reported: Step, original: int | str, first: ActionResult) -> ActionResult:
        """Record 关联重复 right after 上报, inside the report's transaction."""
        why = f"与已有案卷重复（{original}）"
        step = Step(reported.session, reported.case, reported.category, reported.actor, CaseState.REPORTED, None,
                    self._check(reported.actor, CaseState.REPORTED, Action.LINK, reason=why),
                    CaseState.NOT_FILED, reported.now, department_id=reported.department_id)
        self._link_original(step, original)
        result = self._record(step, why, None)
        details = {**first.details, **result.details}
        return ActionResult(result.case, result.action, result.version, first.warnings + result.warnings, details)

    def _link_original(self, step: Step, original: int | str) -> None:
        orig = self._find_row(step.session, original)
        if orig.id == step.case.id:
            raise ValidationError("original", Msg("不能把案卷关联到它自己"))
        if orig.state in (CaseState.NOT_FILED.value, CaseState.VOIDED.value):
            hint = Msg("（它是案卷 {number} 的重复）", number=self._number(step.session, orig.duplicate_of_id)) \
                if orig.duplicate_of_id else ""
            raise ValidationError("original", Msg("案卷 {number} 「{state}」{hint}，不能作为原案卷；请关联到仍有效的案卷",
                                                  number=orig.number, state=CaseState(orig.state), hint=hint))
        step.case.duplicate_of_id = orig.id
        step.payload.update({"duplicate_of": orig.number, "duplicate_of_id": orig.id})

    def suggest_duplicates(self, draft: intake.ReportDraft) -> list[dup.DuplicateCandidate]:
        """Cases that may already cover what ``draft`` reports (before it is written)."""
        kind, code, _ = intake.parse_category(draft.category, draft.kind, self.taxonomy)
        with self.store.session() as session:
            category = intake.category_row(session, kind, code)
            where = resolve(session, draft.location, self.taxonomy)
            return dup.find_duplicates(session, category=category, x=where.x, y=where.y, now=self._now(),
                                       radius_m=self.settings.duplicate_radius_m,
                                       window_days=self.settings.duplicate_window_days)

    def send_verify(self, actor: Actor, case_id: int, expected_version: int, *, note: str | None = None,
                    supervisor: str | None = None) -> ActionResult:
        """派发核实: ask a supervisor to verify on site: ``supervisor`` (checked: exists, active, 监督员),
        else the first suggestion (the grid's assigned supervisor, then the nearest on duty)."""
        from app.services.supervisors import prepare_send

        return self._act(actor, case_id, expected_version, Action.SEND_VERIFY, reason=note,
                         prepare=lambda step: prepare_send(step, supervisor))

    def verify(self, actor: Actor, case_id: int, expected_version: int, *, result: str, confirmed: bool = True,
               photos: Iterable[PhotoInput] = ()) -> ActionResult:
        """核实回复: the supervisor's finding on site (the case returns to the desk to be filed)."""
        text = _required(result, "result", "核实结果不能为空：请写明现场是否属实及情况")
        checked = check_photos(_with_kind(photos, "other"), self.settings.max_photo_bytes)

        def prepare(step: Step) -> None:
            if not confirmed:  # the gate: never filed silently (CaseService.file refuses it)
                step.warnings.append(Msg("核实结果为不属实：案卷不能立案，请「不予立案」并写明理由，或再次「派发核实」"))

        return self._act(actor, case_id, expected_version, Action.VERIFY, photos=checked, prepare=prepare,
                         payload={"result": text, "confirmed": bool(confirmed)})

    def file(self, actor: Actor, case_id: int, expected_version: int, *, level: Level | str | None = None,
             note: str | None = None) -> ActionResult:
        """立案: the case meets its category's filing standard (shown in the result).

        Refused (app.services.gates) when the case's latest verification says not confirmed, and
        when its source needs verification (``source_rules``) and none is recorded.
        """
        new_level = intake.check_level(level) if level is not None else None

        def prepare(step: Step) -> None:
            refusal = gates.filing_refusal(step.session, step.case)
            if refusal is not None:
                raise ValidationError("verify", refusal)
            if new_level is not None and new_level.value != step.case.level:
                step.case.level = new_level.value
                step.payload["level"] = new_level.value
            step.case.filed_at = step.now
            step.details["filing_standard"] = self._standard(step.category, Level(step.case.level))

        return self._act(actor, case_id, expected_version, Action.FILE, reason=note, prepare=prepare)

    def reject(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """不予立案: archived with the reason, never deleted."""
        return self._act(actor, case_id, expected_version, Action.REJECT, reason=reason)

    def link(self, actor: Actor, case_id: int, expected_version: int, *, original: int | str,
             reason: str | None = None) -> ActionResult:
        """关联重复: this report duplicates ``original`` (id or number) and is not filed itself."""

        def prepare(step: Step) -> None:
            self._link_original(step, original)

        why = reason or f"与已有案卷重复（{original}）"
        return self._act(actor, case_id, expected_version, Action.LINK, reason=why, prepare=prepare)

    # -- dispatch and handling ------------------------------------------------------------

    def dispatch(self, actor: Actor, case_id: int, expected_version: int, *, department: int | str,
                 level: Level | str | None = None, reason: str | None = None) -> ActionResult:
        """派遣 to a department; the handling limit comes from the limit table."""
        new_level = intake.check_level(level) if level is not None else None
        why = (reason or "").strip() or None
        return self._act(actor, case_id, expected_version, Action.DISPATCH, reason=why,
                         prepare=lambda step: dispatching.prepare_dispatch(step, department, new_level, why))

    def accept(self, actor: Actor, case_id: int, expected_version: int) -> ActionResult:
        """接收: the department takes the task."""
        return self._act(actor, case_id, expected_version, Action.ACCEPT)

    def feedback(self, actor: Actor, case_id: int, expected_version: int, *, text: str,
                 photos: Iterable[PhotoInput] = ()) -> ActionResult:
        """处置反馈 with photos (taken as 处置后照片 unless marked otherwise)."""
        body = _required(text, "text", "处置反馈不能为空：请写明处置情况")
        checked = check_photos(_with_kind(photos, "after"), self.settings.max_photo_bytes)

        def prepare(step: Step) -> None:
            step.case.fed_back_at = step.now

        return self._act(actor, case_id, expected_version, Action.FEEDBACK, photos=checked, prepare=prepare,
                         payload={"text": body})

    def request_return(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """申请回退: not this department's job."""
        return self._act(actor, case_id, expected_version, Action.REQUEST_RETURN, reason=reason)

    def request_extension(self, actor: Actor, case_id: int, expected_version: int, *, minutes: int,
                          reason: str) -> ActionResult:
        """申请延期 by ``minutes`` (basis minutes of the handling limit)."""
        asked = dispatching.check_minutes(minutes)
        return self._act(actor, case_id, expected_version, Action.REQUEST_EXTENSION, reason=reason,
                         payload={"minutes": asked})

    def request_defer(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """申请缓办 (the timer pauses once approved)."""
        return self._act(actor, case_id, expected_version, Action.REQUEST_DEFER, reason=reason)

    def request_shelve(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """申请挂账 (long-term; the timer pauses once approved)."""
        return self._act(actor, case_id, expected_version, Action.REQUEST_SHELVE, reason=reason)

    def request_void(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """申请作废 (the shift leader approves)."""
        return self._act(actor, case_id, expected_version, Action.REQUEST_VOID, reason=reason)

    def approve(self, actor: Actor, case_id: int, expected_version: int, *, minutes: int | None = None,
                note: str | None = None) -> ActionResult:
        """批准 the pending request (延期 adds the minutes asked, or ``minutes`` when given)."""
        return self._act(actor, case_id, expected_version, Action.APPROVE, reason=note,
                         prepare=lambda step: dispatching.prepare_approve(step, minutes))

    def refuse(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """不批准: the case returns to the state before the request."""
        return self._act(actor, case_id, expected_version, Action.REFUSE, reason=reason,
                         prepare=_note_request)

    def restore(self, actor: Actor, case_id: int, expected_version: int, *, note: str | None = None) -> ActionResult:
        """恢复 a 缓办/挂账 case: the handling timer runs again (the pause is not counted)."""
        return self._act(actor, case_id, expected_version, Action.RESTORE, reason=note)

    # -- check and close ------------------------------------------------------------------

    def send_check(self, actor: Actor, case_id: int, expected_version: int, *, note: str | None = None,
                   supervisor: str | None = None) -> ActionResult:
        """派发核查: ask a supervisor to check the result on site (named or suggested, as for 派发核实)."""
        from app.services.supervisors import prepare_send

        return self._act(actor, case_id, expected_version, Action.SEND_CHECK, reason=note,
                         prepare=lambda step: prepare_send(step, supervisor))

    def check(self, actor: Actor, case_id: int, expected_version: int, *, outcome: Outcome | str,
              reason: str | None = None, photos: Iterable[PhotoInput] = ()) -> ActionResult:
        """核查回复: passed → 待结案; failed → 返工 to the same department (a reason is required)."""
        checked = check_photos(_with_kind(photos, "after"), self.settings.max_photo_bytes)
        return self._act(actor, case_id, expected_version, Action.CHECK, outcome=outcome, reason=reason,
                         photos=checked)

    def close(self, actor: Actor, case_id: int, expected_version: int, *, note: str | None = None,
              override: bool = False) -> ActionResult:
        """结案 with its evidence (app.services.gates.closing_check), recorded in the payload.

        Missing evidence (before/after photos with their shooting times, the after photo taken
        after the latest dispatch and not before the before photo): refused when the category's
        ``close_evidence`` is 'refuse' (or the settings' ``require_photos_to_close``); with
        'override' only as the shift leader's ``override`` with a reason (``note``), recorded as
        ``"override": true``; 'none' does not check.
        """
        reason = (note or "").strip()

        def prepare(step: Step) -> None:
            check = gates.closing_check(step.session, step.case, step.category,
                                        strict=self.settings.require_photos_to_close)
            step.payload["evidence"] = check.payload()
            message = check.message()
            if message is not None:
                if check.refused:
                    raise ValidationError("photo", Msg("案卷 {number}：{message}；请返工并要求责任部门补充带拍摄时间的处置前后照片",
                                                       number=step.case.number, message=message))
                if not override:
                    raise ValidationError("override", Msg(
                        "案卷 {number}：{message}；按类别「{category}」的规定，须由值班长确认仍然结案（--override）并在备注中写明理由，"
                        "或返工补充照片", number=step.case.number, message=message, category=step.category.name))
                if not reason:
                    raise ValidationError("note", Msg("证据不完整仍然结案，须在备注中写明理由（记录在案）"))
                step.payload["override"] = True
                step.warnings.append(Msg("结案证据不完整，已按值班长确认结案（记录在案）：{message}", message=message))
            step.case.closed_at = step.now

        return self._act(actor, case_id, expected_version, Action.CLOSE, reason=note, prepare=prepare)

    def rework(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """返工 to the same department with a fresh handling limit."""
        return self._act(actor, case_id, expected_version, Action.REWORK, reason=reason)

    def void(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """作废 directly (shift leader); the record stays."""
        return self._act(actor, case_id, expected_version, Action.VOID, reason=reason)

    def urge(self, actor: Actor, case_id: int, expected_version: int, *, level: int | str = 1,
             deadline: datetime | str | None = None, note: str | None = None) -> ActionResult:
        """督办: a leader raises the case's priority (``level`` 1 一般 / 2 重点 / 3 挂牌督办; the case keeps
        the highest) and may set a ``deadline`` that replaces a later handling deadline."""
        lvl = looping.check_urge_level(level)
        due = looping.check_urge_deadline(deadline)
        return self._act(actor, case_id, expected_version, Action.URGE, reason=note,
                         prepare=lambda step: looping.prepare_urge(step, lvl, due))

    def dispute(self, actor: Actor, case_id: int, expected_version: int, *, reason: str) -> ActionResult:
        """职责争议: the department disputes its responsibility; the coordinator rules (the handling timer runs on)."""
        return self._act(actor, case_id, expected_version, Action.DISPUTE, reason=reason)

    def rule(self, actor: Actor, case_id: int, expected_version: int, *, department: int | str, ruling: str,
             reason: str, responsible: int | str | None = None) -> ActionResult:
        """协调裁定 a dispute: ``department`` is responsible (upheld / reassigned) or does the remedial work
        (``remedial``, 代整改; ``responsible``: the department it works for); the case is 待接收 again."""
        chosen = looping.check_ruling(ruling)
        return self._act(actor, case_id, expected_version, Action.RULE, reason=reason,
                         prepare=lambda step: looping.prepare_rule(step, department, chosen, responsible))

    def callback(self, actor: Actor, case_id: int, expected_version: int, *, result: str,
                 note: str | None = None) -> ActionResult:
        """回访: the reporter's satisfaction with a closed case (public and hotline reports)."""
        chosen = looping.check_callback_result(result)
        text = intake.clean_text("reason", note)
        return self._act(actor, case_id, expected_version, Action.CALLBACK,
                         prepare=lambda step: looping.prepare_callback(step, chosen, text))

    def reply(self, actor: Actor, case_id: int, expected_version: int, *, text: str) -> ActionResult:
        """回复举报人 by hand (the automatic replies at filing and closing are recorded too)."""
        body = _required(text, "text", "回复内容不能为空")
        return self._act(actor, case_id, expected_version, Action.REPLY, payload={"text": body, "auto": False})

    def edit(self, actor: Actor, case_id: int, expected_version: int, *, reason: str, address: str | None = None,
             description: str | None = None, reporter_name: str | None = None,
             reporter_phone: str | None = None) -> ActionResult:
        """修改: correct an open case's descriptive fields; the event records each field's before and after.

        ``None`` leaves a field as it is; empty text clears the address, reporter name or phone
        (a description cannot be emptied). Every new value goes through the input policy.
        """
        wanted: dict[str, str | None] = {}
        if address is not None:
            wanted["address"] = intake.clean_text("address", address)
        if description is not None:
            wanted["description"] = intake.check_description(description)
        if reporter_name is not None:
            wanted["reporter_name"] = intake.clean_text("reporter_name", reporter_name)
        if reporter_phone is not None:
            wanted["reporter_phone"] = intake.clean_text("reporter_phone", reporter_phone)
        if not wanted:
            raise ValidationError("changes", Msg("没有要修改的内容：请填写要改正的地址、描述、举报人或联系电话"))

        def prepare(step: Step) -> None:
            case = step.case
            changes = {name: [getattr(case, name), value] for name, value in wanted.items()
                       if getattr(case, name) != value}
            if not changes:
                raise ValidationError("changes", Msg("没有要修改的内容：新的内容与案卷现有的相同"))
            step.payload["changes"] = changes
            if db_derives(step.session):
                # PostGIS (migration 0012): the database applies the event's changes; read them back.
                step.session.expire(case, list(changes))
            else:
                for name, (_before, after) in changes.items():
                    setattr(case, name, after)

        return self._act(actor, case_id, expected_version, Action.EDIT, reason=reason, prepare=prepare)

    # -- reads ----------------------------------------------------------------------------

    #: The department the reads below are limited to (``app.services.case_source.read_scope``: a
    #: department operator on SpatiaLite; PostGIS's row-level security needs none), set by
    #: ``Core.scope_to``; an ``actor`` passed to a read decides for that call instead.
    scope: int | None = None

    def _scope(self, actor: Actor | None) -> int | None:
        from app.services.case_source import read_scope

        return read_scope(self.store, actor) if actor is not None else self.scope

    def get(self, case_ref: int | str, *, actor: Actor | None = None) -> CaseSummary:
        """A case by id or number; NotFound otherwise — also for a case outside the reader's scope
        (another department's: the same answer as for no such case, nothing of it is read)."""
        scope = self._scope(actor)
        with self.store.session() as session:
            summary = queries.case_summary(session, self._find_row(session, case_ref).id, scope=scope)
        if summary is None:  # outside the scope
            raise NotFound(Msg("案卷 {text} 不存在：请核对案卷号", text=str(case_ref).strip()))
        return summary

    def events(self, case_id: int, *, actor: Actor | None = None) -> list[CaseEventRecord]:
        """The case's timeline; NotFound for a case outside the reader's scope."""
        scope = self._scope(actor)
        with self.store.session() as session:
            if scope is not None and not queries.visible(session, case_id, scope):
                raise NotFound(Msg("案卷不存在（id {case_id}）", case_id=case_id))
            return queries.case_events(session, case_id)

    def list_cases(self, *, states: list[CaseState] | None = None, limit: int = 200,
                   actor: Actor | None = None) -> list[CaseSummary]:
        """Open cases (or those in ``states``), oldest report first; only those in the reader's scope."""
        scope = self._scope(actor)
        with self.store.session() as session:
            if states is None:
                return queries.open_case_summaries(session, scope=scope)[:limit]
            stmt = select(Case.id).where(Case.state.in_([s.value for s in states]))
            if scope is not None:
                stmt = stmt.where(queries.department_scope(scope))
            ids = session.scalars(stmt.order_by(Case.reported_at, Case.id).limit(limit)).all()
            return [s for s in (queries.case_summary(session, i) for i in ids) if s is not None]

    def allowed_actions(self, actor: Actor, case_id: int) -> list[Action]:
        """What ``actor`` may do on the case now (for enabling buttons; the operations check again)."""
        with self.store.session() as session:
            case = self._read(session, case_id, actor)
            actions = self.workflow.actions(CaseState(case.state), actor.role)
            if actor.role is Role.DEPARTMENT and case.department_id != actor.department_id:
                actions = [a for a in actions if a not in DEPARTMENT_BOUND]
            if Action.FILE in actions and gates.filing_refusal(session, case) is not None:
                actions = [a for a in actions if a is not Action.FILE]
            return actions

    def action_blocks(self, actor: Actor, case_id: int) -> dict[Action, Msg]:
        """Actions the workflow gives ``actor`` on the case that a gate refuses now, with why (立案 before 核实)."""
        with self.store.session() as session:
            case = self._read(session, case_id, actor)
            if Action.FILE not in self.workflow.actions(CaseState(case.state), actor.role):
                return {}
            refusal = gates.filing_refusal(session, case)
            return {Action.FILE: refusal} if refusal is not None else {}

    def closing_evidence(self, case_id: int) -> EvidenceCheck:
        """The case's closing evidence now, as 结案 will check it (for the desk, before sending)."""
        with self.store.session() as session:
            case = self._read(session, case_id)
            return gates.closing_check(session, case, session.get_one(Category, case.category_id),
                                       strict=self.settings.require_photos_to_close)

    def attachments(self, case_id: int) -> list[AttachmentInfo]:
        """The case's attachments without their data (kind, file name, type, shooting time, size, digest)."""
        with self.store.session() as session:
            self._read(session, case_id)
            rows = session.execute(select(Attachment.id, Attachment.kind, Attachment.filename, Attachment.mime,
                                          Attachment.taken_at, Attachment.size, Attachment.sha256,
                                          Attachment.event_id)
                                   .where(Attachment.case_id == case_id).order_by(Attachment.id)).all()
            return [AttachmentInfo(*row) for row in rows]

    def dispatch_suggestions(self, case_id: int) -> list[routing.DispatchSuggestion]:
        """Departments for the case, ranked, with reasons."""
        with self.store.session() as session:
            return routing.suggest(session, self._read(session, case_id))

    def preview_deadline(self, case_id: int, level: Level | str | None = None,
                         stage: Stage = Stage.HANDLE) -> timers.DeadlinePreview:
        """The limit and deadline the case would get if ``stage`` started now (default: 处置; a
        督办 deadline earlier than the handling limit's is the deadline, as the dispatch will set)."""
        self._follow_config()  # the limits in force now, also when another workstation just saved one
        with self.store.session() as session:
            case = self._read(session, case_id)
            code = session.get_one(Category, case.category_id).code
        lvl = intake.check_level(level) if level is not None else Level(case.level)
        now = self._now()
        return timers.preview(Kind(case.kind), code, lvl, stage, now, limits_at(self.limits, now), self.calendar,
                              urge_deadline=case.urge_deadline_at)

    def filing_standard(self, case_id: int) -> str:
        """The filing standard (立案标准) of the case's category."""
        with self.store.session() as session:
            case = self._read(session, case_id)
            return self._standard(session.get_one(Category, case.category_id), Level(case.level))

    def closing_standard(self, case_id: int) -> str | None:
        """The closing standard (结案标准, migration 0018) of the case's category; None when none was entered."""
        with self.store.session() as session:
            case = self._read(session, case_id)
            return session.get_one(Category, case.category_id).closing_standard

    def timer(self, case_id: int) -> dict[str, Any]:
        """The running timer as plain data with its explanation."""
        with self.store.session() as session:
            case = self._read(session, case_id)
            return timers.timer_text(timers.spec_of(case), self.calendar, self._now())

    # -- helpers --------------------------------------------------------------------------

    def _standard(self, category: Category, level: Level) -> str:
        if category.filing_standard:
            return category.filing_standard
        rule = limits_at(self.limits, self._now()).lookup(Kind(category.kind), category.code, level, Stage.HANDLE)
        condition = Msg("；条件：{condition}", condition=rule.condition) if rule.condition else ""
        return Msg("「{name}」（{code}）没有单独录入的立案标准：按 GB/T 47678.5 类别定义立案，处置时限 {limit}{condition}",
                   name=category.name, code=category.code, limit=format_limit(rule.minutes, rule.basis),
                   condition=condition)

    def _read(self, session: Session, case_id: int, actor: Actor | None = None) -> Case:
        """The case for a read: NotFound, as for no such case, also when it lies outside the
        reader's scope (a department operator on SpatiaLite reading another department's case)."""
        case = self._load(session, case_id)
        scope = self._scope(actor)
        if scope is not None and not queries.visible(session, case_id, scope):
            raise NotFound(Msg("案卷不存在（id {case_id}）", case_id=case_id))
        return case

    @staticmethod
    def _load(session: Session, case_id: int) -> Case:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(Msg("案卷不存在（id {case_id}）", case_id=case_id))
        return case

    @staticmethod
    def _find_row(session: Session, ref: int | str) -> Case:
        text = str(ref).strip()
        case = session.scalars(select(Case).where(Case.number == text)).first()
        if case is None and text.isdigit() and len(text) < 12:
            case = session.get(Case, int(text))
        if case is None:
            raise NotFound(Msg("案卷 {text} 不存在：请核对案卷号", text=text))
        return case

    @staticmethod
    def _number(session: Session, case_id: int | None) -> str:
        case = session.get(Case, case_id) if case_id else None
        return case.number if case else "?"



__all__ = ["ActionResult", "AttachmentInfo", "CaseService", "CaseSettings"]
