"""The transaction every case operation runs in: lock, compare-and-set, check, change, record, commit."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain.calendar import WorkCalendar
from app.domain.cases import CaseSummary
from app.domain.clock import Clock
from app.domain.definitions import Action, CaseState, Kind, Role
from app.domain.limit_versions import limits_at
from app.domain.limits import LimitTable
from app.domain.messages import Msg, msg_of
from app.domain.taxonomy import Taxonomy
from app.domain.workflow import (
    REQUEST_STATES,
    WORKFLOW,
    Outcome,
    Transition,
    TransitionError,
    Workflow,
    request_origin,
)
from app.services import replies
from app.services.actors import Actor
from app.services.attachments import DEFAULT_MAX_BYTES, CheckedPhoto, store_photos
from app.services.bus import CaseBus, CaseChanged
from app.services.errors import (
    ConflictError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationError,
)
from app.services.intake import clean_text
from app.services.timers import update_timer
from app.store import queries
from app.store.audit import LOOP_COLUMNS, append_event, db_derives
from app.store.engine import Store
from app.store.errors import StaleCase
from app.store.locks import run_releasing
from app.store.models import Case, CaseEvent, Category, Department, User

#: Actions a 专业部门操作员 may only take on cases dispatched to their own department.
DEPARTMENT_BOUND = frozenset({
    Action.ACCEPT, Action.FEEDBACK, Action.REQUEST_RETURN, Action.REQUEST_EXTENSION,
    Action.REQUEST_DEFER, Action.REQUEST_SHELVE, Action.DISPUTE,
})


@dataclass(frozen=True)
class CaseSettings:
    """Tunable rules of the case services (a city may change them in its configuration)."""

    #: refuse 结案 without its evidence in every category (else each category's ``close_evidence``
    #: decides); switched on by the environment variable GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE=1
    require_photos_to_close: bool = False
    max_photo_bytes: int = DEFAULT_MAX_BYTES
    duplicate_radius_m: float = 50.0
    duplicate_window_days: int = 7
    auto_reply: bool = True  # 两次回复 to public and hotline reporters

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CaseSettings:
        """The settings a hall's configuration sets (``GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE``: 1/0, true/false, yes/no, on/off)."""
        env = os.environ if environ is None else environ
        raw = env.get(REQUIRE_PHOTOS_ENV, "").strip().lower()
        if raw in ("", "0", "false", "no", "off"):
            return cls()
        if raw in ("1", "true", "yes", "on"):
            return cls(require_photos_to_close=True)
        raise ValidationError("settings", Msg("环境变量 {name} 应为 1 或 0（true/false、yes/no、on/off），不能是「{value}」",
                                              name=REQUIRE_PHOTOS_ENV, value=raw[:40]))


#: The environment variable that makes every category refuse a close without its evidence.
REQUIRE_PHOTOS_ENV = "GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE"


@dataclass(frozen=True)
class ActionResult:
    """What an operation did: the case after it, its new version, warnings and extra details."""

    case: CaseSummary
    action: Action
    version: int
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Step:
    """The state of one operation inside its transaction, handed to the operation's ``prepare``."""

    session: Session
    case: Case
    category: Category
    actor: Actor
    state: CaseState | None  # None: the case is being reported
    previous: CaseState | None  # the state before a pending request
    transition: Transition
    target: CaseState
    now: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    department_id: int | None = None  # recorded on the event (default: the actor's department)
    restart_timer: bool = False
    extension_minutes: int = 0
    photos: list[CheckedPhoto] = field(default_factory=list)


Prepare = Callable[[Step], None]


def _clean(text: str | None) -> str | None:
    """A reason or note through the one input policy (app/domain/text.py): None when empty."""
    return clean_text("reason", text)


# -- refusals by the database (PostGIS: privileges, row-level security, migration 0002's checks) --

#: (fragment of the database's English message, error class, what it means for the operator).
_REFUSALS: tuple[tuple[str, type[ServiceError], Msg], ...] = (
    ("row-level security", PermissionDenied, Msg("本部门的数据库登录无权写入这一案卷（行级安全策略）")),
    ("is not a member of gridhall_", PermissionDenied, Msg("当前数据库登录不属于这一角色的组，不能以该角色办理")),
    ("must record its events as actor", PermissionDenied, Msg("当前数据库登录只能以自己的名义记录操作")),
    ("has no active users row", PermissionDenied, Msg("当前数据库登录在 users 表中没有启用的、角色一致的账户")),
    ("records events for its own department", PermissionDenied, Msg("专业部门操作员只能以本部门的名义记录操作")),
    ("may not record a system event", PermissionDenied, Msg("只有数据库自己记录“系统”事件（自动回复）")),
    ("is disabled or locked", PermissionDenied, Msg("账户已停用或已锁定，不能再记录操作")),
    ("from the database's clock", ServiceError, Msg("本机时钟与数据库时钟相差超过 5 分钟：请校准本机时钟后重试")),
    ("contradicts the database", ServiceError, Msg("事件内容与数据库推算的结果（时限、部门、次数）不符")),
    ("changed without a case event", ServiceError, Msg("案卷的变更与其事件记录不一致")),
    ("permission denied", PermissionDenied, Msg("当前数据库登录没有这项权限")),
    ("workflow:", InvalidTransition, Msg("数据库的流程检查不允许这一步（角色或案卷状态不符）")),
    ("the event starts from state", ConflictError, Msg("案卷状态已被他人改变，请刷新后重试")),
    ("chain_no must be", ConflictError, Msg("审计链已被其他工作站推进，请重试")),
    ("prev_hash must be", ConflictError, Msg("审计链已被其他工作站推进，请重试")),
    ("every change of a case is recorded", ServiceError, Msg("案卷的变更与其事件记录不一致")),
    ("duplicate key", ConflictError, Msg("数据已被其他工作站写入（唯一约束），请刷新后重试")),
)
#: SQLSTATEs of a refusal: integrity and check violations, privileges, RAISE, concurrency (not
#: connection faults, which the caller's connectivity handling reports, nor programming errors).
_REFUSAL_CLASSES = ("23", "P0")
_REFUSAL_CODES = frozenset({"42501", "40001", "40P01"})


def refusal_error(exc: DBAPIError) -> ServiceError | None:
    """The ServiceError (a Chinese message) for a refusal by the database; None for other faults."""
    code = getattr(exc.orig, "pgcode", None) or ""
    if code == "22001" or "value too long for" in str(exc.orig):  # a length both backends enforce
        return ValidationError("text", Msg("数据库拒绝：文本超过字段长度上限；本次操作未写入任何数据"))
    if code[:2] not in _REFUSAL_CLASSES and code not in _REFUSAL_CODES:
        return None
    detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    if code in ("40001", "40P01"):  # serialization failure, deadlock: nothing was written
        return ConflictError(Msg("数据库拒绝：与其他工作站的操作同时发生冲突，请重试（{detail}）；本次操作未写入任何数据", detail=detail))
    for fragment, cls, meaning in _REFUSALS:
        if fragment in detail:
            return cls(Msg("数据库拒绝：{meaning}（{detail}）；本次操作未写入任何数据", meaning=meaning, detail=detail))
    return ServiceError(Msg("数据库拒绝：{detail}；本次操作未写入任何数据", detail=detail))


@contextmanager
def db_refusals() -> Iterator[None]:
    """Translate refusals by the database (at a statement or at COMMIT) into ServiceErrors.

    Wrap the whole transaction, commit included: migration 0002's deferred checks raise at
    COMMIT. The transaction is already rolled back then, so nothing is half-written.
    """
    try:
        yield
    except DBAPIError as exc:
        error = refusal_error(exc)
        if error is None:
            raise
        raise error from exc


_SUMMARY: list[Select] = []


def _case_summary(session: Session, case_id: int) -> CaseSummary:
    """queries.case_summary with its statement built once (it runs under the chain lock).

    Building the 30-column select costs milliseconds of Python per call, which every other
    workstation would wait for; the statement with a bound case id is built on first use.
    """
    if not _SUMMARY:
        _SUMMARY.append(queries._summary_select().where(Case.id == bindparam("summary_case_id")))
    row = session.connection().execute(_SUMMARY[0], {"summary_case_id": case_id}).first()
    assert row is not None  # the case was just written in this transaction
    return queries._summary(row)


class ServiceCore:
    """Shared machinery of the case services (see CaseService for the operations)."""

    def __init__(self, store: Store, *, clock: Clock, calendar: WorkCalendar, limits: LimitTable,
                 taxonomy: Taxonomy, workflow: Workflow = WORKFLOW, bus: CaseBus | None = None,
                 settings: CaseSettings | None = None):
        self.store = store
        self.clock = clock
        self.calendar = calendar
        self.limits = limits
        self.taxonomy = taxonomy
        self.workflow = workflow
        self.bus = bus
        self.settings = settings or CaseSettings()
        #: Follow the store's configuration (issue 12): before each operation, reload the calendar
        #: and the time limits when another workstation saved a change (build_core turns it on).
        self.config_live = False
        self.config_seen: int | None = None

    def refresh_config(self, *, force: bool = False) -> bool:
        """Reload the calendar (in place) and the time limits when the store's configuration
        version (``config_changes``' last seq) moved since the last look; whether it reloaded."""
        from app.services.calendar import refresh_calendar
        from app.services.limits import load_limits
        from app.store.calendar_years import config_version

        try:
            with self.store.engine.connect() as conn:
                version = config_version(conn)
        except DBAPIError:  # a store before migration 0016
            return False
        if version == self.config_seen and not force:
            return False
        refresh_calendar(self.store, self.calendar)
        self.limits = load_limits(self.store, self._now())
        self.config_seen = version
        return True

    def _follow_config(self) -> None:
        if self.config_live:
            self.refresh_config()

    # -- time -----------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock.now().replace(microsecond=0)

    # -- checks ---------------------------------------------------------------------------

    def _check(self, actor: Actor, state: CaseState | None, action: Action, *, outcome: Outcome | str | None = None,
               reason: str | None = None, previous: CaseState | None = None) -> Transition:
        """The workflow's transition, or PermissionDenied / ValidationError / InvalidTransition."""
        wf = self.workflow
        try:
            return wf.check(state, action, actor.role, outcome=outcome, reason=reason, previous_state=previous)
        except TransitionError as exc:
            roles = wf.roles_for(state, action)
            if roles and actor.role not in roles:
                raise PermissionDenied(msg_of(exc)) from exc
            try:  # would it pass with a reason? then the reason is what is missing
                wf.check(state, action, actor.role, outcome=outcome, reason="-", previous_state=previous)
            except TransitionError:
                raise InvalidTransition(msg_of(exc)) from exc
            raise ValidationError("reason", msg_of(exc)) from exc

    @staticmethod
    def _check_department(session: Session, actor: Actor, case: Case, action: Action) -> None:
        if actor.role is not Role.DEPARTMENT or action not in DEPARTMENT_BOUND:
            return
        if actor.department_id is None:
            raise PermissionDenied(Msg("账号 {username} 没有绑定部门，不能「{action}」；请管理员为其绑定部门",
                                       username=actor.username, action=action))
        if case.department_id != actor.department_id:
            owner = session.get(Department, case.department_id) if case.department_id else None
            mine = session.get(Department, actor.department_id)
            owner_text = Msg("派遣给「{name}」", name=owner.name) if owner else Msg("尚未派遣给任何部门")
            raise PermissionDenied(Msg("案卷 {number} {owner}，{role}属于「{department}」，不能「{action}」",
                                       number=case.number, owner=owner_text, role=actor.role,
                                       department=mine.name if mine else "?", action=action))

    # -- compare-and-set ------------------------------------------------------------------

    def _claim(self, session: Session, case_id: int, expected_version: int) -> Case:
        """Take the case's row lock only if it is still at ``expected_version`` (compare-and-set).

        Lock order (deadlock safety): the case row here, the audit chain head only later, in
        ``append_event`` just before the event is written, and both until the commit. Every
        writer of a case's events holds its row lock, so what is read below stays current while
        other workstations work on other cases in parallel; only appending to the chain and the
        commit are serialised.
        """
        if isinstance(expected_version, bool) or not isinstance(expected_version, int):
            raise ValidationError("expected_version", Msg("版本号应为整数，而不是 {expected_version!r}",
                                                          expected_version=expected_version))
        done = cast(CursorResult[Any], session.execute(  # DML: a CursorResult (typed Result)
            update(Case).where(Case.id == case_id, Case.version == expected_version)
            .values(version=Case.version)
            .execution_options(synchronize_session=False))).rowcount
        if done != 1:
            raise self._conflict(session, case_id, expected_version)
        case = session.get(Case, case_id, populate_existing=True)
        assert case is not None
        return case

    def _conflict(self, session: Session, case_id: int, expected: int) -> Exception:
        case = session.get(Case, case_id)
        if case is None:
            return NotFound(Msg("案卷不存在（id {case_id}）：可能输错了案卷号", case_id=case_id))
        ev = session.execute(select(CaseEvent.actor, CaseEvent.role, CaseEvent.action, CaseEvent.at)
                             .where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc()).limit(1)).first()
        if ev is None or expected > (case.version or 0):
            return ConflictError(Msg("案卷 {number} 的版本号 {expected} 无效（当前为第 {version} 版），请刷新后重试", number=case.number, expected=expected, version=case.version), case_number=case.number, current_version=case.version)
        name = session.scalar(select(User.display_name).where(User.username == ev.actor)) or ev.actor
        role = Role(ev.role) if ev.role in Role._value2member_map_ else ev.role
        action = Action(ev.action) if ev.action in Action._value2member_map_ else ev.action
        when = f"{ev.at:%H:%M}" if ev.at.date() == self._now().date() else \
            Msg("{month}月{day}日 {time}", month=ev.at.month, day=ev.at.day, time=f"{ev.at:%H:%M}")
        return ConflictError(Msg("案卷 {number} 已被 {name}（{role}）于 {when} {action}（当前为第 {version} 版，"
                                 "你看到的是第 {expected} 版），请刷新后重试", number=case.number, name=name, role=role, when=when, action=action, version=case.version, expected=expected),
                             case_number=case.number, current_version=case.version, by=ev.actor, action=ev.action)

    @staticmethod
    def _origin(session: Session, case: Case) -> CaseState | None:
        rows = session.execute(select(CaseEvent.action, CaseEvent.from_state, CaseEvent.to_state)
                               .where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).all()
        return request_origin([(a, f, t) for a, f, t in rows])

    # -- the operation --------------------------------------------------------------------

    def _act(self, actor: Actor, case_id: int, expected_version: int, action: Action, *,
             reason: str | None = None, outcome: Outcome | str | None = None, prepare: Prepare | None = None,
             photos: list[CheckedPhoto] | None = None, payload: dict[str, Any] | None = None) -> ActionResult:
        """Run one operation on an existing case in a single transaction and publish it."""
        reason = _clean(reason)
        self._follow_config()
        now = self._now()

        def attempt() -> ActionResult:  # a whole transaction: run again after a lock timeout
            return self._attempt(actor, case_id, expected_version, action, reason=reason, outcome=outcome,
                                 prepare=prepare, photos=photos, payload=payload, now=now)

        result = run_releasing(self.store, attempt)
        self._publish(result, actor, now)
        return result

    def _attempt(self, actor: Actor, case_id: int, expected_version: int, action: Action, *,
                 reason: str | None, outcome: Outcome | str | None, prepare: Prepare | None,
                 photos: list[CheckedPhoto] | None, payload: dict[str, Any] | None, now: datetime) -> ActionResult:
        with db_refusals(), self.store.session() as session:
            try:
                with session.begin():
                    case = self._claim(session, case_id, expected_version)
                    state = CaseState(case.state)
                    previous = self._origin(session, case) if state in REQUEST_STATES else None
                    transition = self._check(actor, state, action, outcome=outcome, reason=reason, previous=previous)
                    try:
                        target = transition.target(state, previous)
                    except TransitionError as exc:
                        raise InvalidTransition(msg_of(exc)) from exc
                    self._check_department(session, actor, case, action)
                    step = Step(session, case, session.get_one(Category, case.category_id), actor, state, previous,
                                transition, target, now, payload=dict(payload or {}), photos=list(photos or []),
                                department_id=actor.department_id)
                    if prepare is not None:
                        # PostGIS derives the case's columns: what prepare sets is never flushed.
                        with session.no_autoflush if db_derives(session) else nullcontext():
                            prepare(step)
                    result = self._record(step, reason, outcome)
            except StaleCase as exc:  # cannot happen under the lock, but never lose a write silently
                raise ConflictError(msg_of(exc)) from exc
        return result

    def _record(self, step: Step, reason: str | None, outcome: Outcome | str | None) -> ActionResult:
        """Timer, counters, the event (+ photos and automatic replies) and the resulting summary.

        On PostGIS (migration 0006) the database derives the case's columns, the deadline and
        the automatic replies from the event: what ``prepare`` set on the case is discarded
        (the database refuses a login's direct change of a case) and the case is read back.
        """
        case, session, action = step.case, step.session, step.transition.action
        with session.no_autoflush:
            derives = db_derives(session)  # (looked up once per engine)
        if derives:
            session.expire(case, LOOP_COLUMNS)  # the event carries what the database needs
        else:
            if step.transition.reworks:
                case.rework_count = (case.rework_count or 0) + 1
            before, stage, started = case.deadline_at, case.stage, case.timer_started_at
            update_timer(case, kind=Kind(case.kind), category_code=step.category.code, from_state=step.state,
                         to_state=step.target, now=step.now, limits=limits_at(self.limits, step.now), calendar=self.calendar,
                         restart=step.restart_timer or step.transition.reworks,
                         extension_minutes=step.extension_minutes)
            if case.deadline_at is not None and case.deadline_at != before:
                step.payload["deadline"] = case.deadline_at  # the new deadline is part of the record
                if step.restart_timer or step.transition.reworks or case.stage != stage or started is None:
                    # a limit starts (the condition of timers.update_timer)
                    step.payload.update(limit_minutes=case.limit_minutes, basis=case.timer_basis)
        if outcome is not None:
            chosen = step.transition.outcome
            step.payload.setdefault("outcome", chosen.value if chosen is not None
                                    else getattr(outcome, "value", str(outcome)))
        event = append_event(session, case, action=action, from_state=step.state, to_state=step.target,
                             actor=step.actor.username, role=step.actor.role, at=step.now,
                             department_id=step.department_id, reason=reason, payload=step.payload)
        if step.photos:
            step.details["attachment_ids"] = store_photos(session, case.id, event.id, step.photos)
        if derives:
            step.payload = dict(event.payload or {})  # with what the database added (the deadline …)
            self._db_replies(step, event)
        else:
            self._auto_reply(step, action, reason)
        summary = _case_summary(session, case.id)
        return ActionResult(summary, action, summary.version if derives else case.version, tuple(step.warnings),
                            step.details)

    def _auto_reply(self, step: Step, action: Action, reason: str | None) -> None:
        """SpatiaLite: write the automatic reply (PostGIS: the database writes the same event)."""
        case = step.case
        if not (self.settings.auto_reply and replies.needs_reply(case.source, action)):
            return
        original = step.payload.get("duplicate_of")
        text = replies.reply_text(action, number=case.number, category=step.category.name,
                                  reported_at=case.reported_at, reason=reason, original=original)
        append_event(step.session, case, action=Action.REPLY, from_state=step.target, to_state=step.target,
                     actor="system", role=Role.SYSTEM, at=step.now,
                     payload=replies.reply_payload(text, action, step.actor.username))
        step.details.setdefault("replies", []).append(text)

    @staticmethod
    def _db_replies(step: Step, event: CaseEvent) -> None:
        """PostGIS: the automatic replies the database wrote after ``event`` (read only when one is due)."""
        if not replies.needs_reply(step.case.source, step.transition.action):
            return
        texts = step.session.scalars(
            select(CaseEvent.payload).where(CaseEvent.case_id == event.case_id, CaseEvent.seq > event.seq,
                                            CaseEvent.role == Role.SYSTEM.value,
                                            CaseEvent.action == Action.REPLY.value)
            .order_by(CaseEvent.seq)).all()
        for payload in texts:
            step.details.setdefault("replies", []).append((payload or {}).get("text"))

    def _publish(self, result: ActionResult, actor: Actor, now: datetime) -> None:
        if self.bus is not None:
            self.bus.publish(CaseChanged((result.case.id,), result.action.value, actor.username, now,
                                         {result.case.id: result.version}))


__all__ = ["REQUIRE_PHOTOS_ENV", "ActionResult", "CaseSettings", "Prepare", "ServiceCore", "Step", "db_refusals",
           "refusal_error"]
