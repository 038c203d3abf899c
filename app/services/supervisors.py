"""Supervisors' tasks (issue 11, item 4): positions, suggestions, the verify/check task lists.

* **Assignment**: a unit grid's supervisor is ``unit_grids.supervisor_id`` (the administrator's
  reference data; :meth:`SupervisorService.assign` changes it).
* **Position**: a supervisor's handheld reports where it is and whether the supervisor is on
  duty (:meth:`SupervisorService.report_position`; table ``supervisor_positions``, migration
  0014: on PostGIS a supervisor's login writes only its own row).
* **Suggestion** (:func:`suggest`): for a case, the grid's assigned supervisor first, then the
  on-duty supervisors nearest to the case, each with its distance and why. Inactive or locked
  accounts and users without the supervisor role are never suggested. An assigned supervisor
  who reported going off duty comes after the on-duty ones (still offered, said so).
* **Sending**: ``CaseService.send_verify/send_check`` name a supervisor in the event's payload
  (``{"supervisor": username}``): the one given, checked by :func:`check_supervisor`, else the
  first suggestion (:func:`prepare_send`); with no supervisor to suggest the task goes out
  unnamed, with a warning.
* **Task**: a case in 核实中 (verifying) or 核查中 (checking) whose latest 派发核实/派发核查 event
  names the supervisor. Derived from the events; the case's own timer (stage 核实/核查, limits
  per category in ``time_limits``) is the task's timer and light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.calendar import WorkCalendar
from app.domain.cases import CaseSummary
from app.domain.clock import Clock
from app.domain.deadlines import read_timer
from app.domain.definitions import STORE_SRID, Action, CaseState, Light, Role, Stage
from app.domain.messages import Lines, Msg, Seq
from app.services.actors import Actor
from app.services.core import Step, db_refusals
from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.store import queries
from app.store.models import Case, CaseEvent, SupervisorPosition, UnitGrid, User

#: The states of a supervisor's task and the event that sends it.
TASK_STATES: dict[CaseState, Action] = {CaseState.VERIFYING: Action.SEND_VERIFY,
                                        CaseState.CHECKING: Action.SEND_CHECK}
#: Who may list every supervisor's tasks (a supervisor lists only its own).
SEES_ALL = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER, Role.LEADER, Role.ANALYST, Role.ADMIN})
#: Plausible store coordinates (EPSG:4549, metres): a position outside is a handheld's error.
_X_RANGE, _Y_RANGE = (3.0e5, 7.0e5), (1.0e6, 6.0e6)


@dataclass(frozen=True)
class SupervisorSuggestion:
    """A supervisor to send a verify/check task to, its rank (1 = best) and why."""

    rank: int
    username: str
    display_name: str
    assigned: bool  # the case's grid is assigned to this supervisor
    on_duty: bool | None  # None: no position reported yet
    distance_m: float | None  # from the case's point to the last reported position
    reasons: tuple[Msg, ...] = ()


@dataclass(frozen=True)
class Position:
    """A supervisor's last reported position."""

    username: str
    on_duty: bool
    at: datetime
    x: float | None
    y: float | None


@dataclass(frozen=True)
class SupervisorTask:
    """A verify or check task: the case, whom it was sent to, when, and its timer now."""

    case: CaseSummary
    stage: Stage  # VERIFY or CHECK
    supervisor: str | None  # None: sent without a named supervisor
    sent_at: datetime
    sent_by: str
    light: Light
    remaining_minutes: float
    deadline: datetime | None
    overdue: bool
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# ---- reading users and positions ----------------------------------------------------------

@dataclass(frozen=True)
class _Person:
    """The columns of a users row that every login may read (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    locked: bool


_PERSON = (User.id, User.username, User.display_name, User.role, User.active, User.locked)


def _people(session: Session, *where: Any) -> list[_Person]:
    return [_Person(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]))
            for r in session.execute(select(*_PERSON).where(*where))]


def _usable(user: _Person | None) -> bool:
    return user is not None and user.role == Role.SUPERVISOR.value and user.active and not user.locked


def check_supervisor(session: Session, username: str) -> _Person:
    """The users row of ``username`` if it may take a task (exists, active, not locked, 监督员)."""
    name = (username or "").strip()
    found = _people(session, User.username == name) if name else []
    user = found[0] if found else None
    if user is None:
        raise ValidationError("supervisor", Msg("监督员 {name} 不存在：请核对用户名", name=name or "（空）"))
    if user.role != Role.SUPERVISOR.value:
        raise ValidationError("supervisor", Msg("{name} 的角色是「{role}」，不是监督员：核实/核查任务只能派给监督员",
                                                name=name, role=Role(user.role)))
    if not user.active:
        raise ValidationError("supervisor", Msg("监督员 {name} 的账户已停用，不能接收任务", name=name))
    if user.locked:
        raise ValidationError("supervisor", Msg("监督员 {name} 的账户已锁定（多次密码错误），不能接收任务；请先解锁",
                                                name=name))
    return user


def _positions(session: Session) -> dict[str, Position]:
    rows = session.execute(select(SupervisorPosition.username, SupervisorPosition.on_duty, SupervisorPosition.at,
                                  func.ST_X(SupervisorPosition.geom), func.ST_Y(SupervisorPosition.geom))).all()
    return {r[0]: Position(r[0], bool(r[1]), r[2], None if r[3] is None else float(r[3]),
                           None if r[4] is None else float(r[4])) for r in rows}


def _case_point(session: Session, case: Case) -> tuple[float, float] | None:
    x = func.coalesce(func.ST_X(Case.geom), func.ST_X(func.ST_Centroid(UnitGrid.geom)))
    y = func.coalesce(func.ST_Y(Case.geom), func.ST_Y(func.ST_Centroid(UnitGrid.geom)))
    row = session.execute(select(x, y).select_from(Case).outerjoin(UnitGrid, UnitGrid.id == Case.grid_id)
                          .where(Case.id == case.id)).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return float(row[0]), float(row[1])


def _distance(point: tuple[float, float] | None, pos: Position | None) -> float | None:
    if point is None or pos is None or pos.x is None or pos.y is None:
        return None
    return math.hypot(point[0] - pos.x, point[1] - pos.y)


def _assigned_supervisor(session: Session, grid_id: int | None, point: tuple[float, float] | None) -> int | None:
    """The supervisor of grid ``grid_id`` if it is in use, else of the grid in use at ``point``."""
    if grid_id is None:
        return None
    row = session.execute(select(UnitGrid.supervisor_id, UnitGrid.retired_on).where(UnitGrid.id == grid_id)).first()
    if row is None or row[1] is None:
        return row[0] if row is not None else None
    if point is None:
        return None
    at = func.ST_GeomFromText(f"POINT({float(point[0])!r} {float(point[1])!r})", STORE_SRID)
    return session.scalar(select(UnitGrid.supervisor_id)
                          .where(UnitGrid.retired_on.is_(None), func.ST_Intersects(UnitGrid.geom, at))
                          .order_by(UnitGrid.code).limit(1))


def suggest(session: Session, case: Case, *, limit: int = 5) -> list[SupervisorSuggestion]:
    """Supervisors for ``case``, best first: the grid's assigned one, then the nearest on duty. A case
    keeps the grid it was reported in; when that grid has since been retired (split or merged away),
    the assigned one is that of the grid in use where the case lies."""
    point = _case_point(session, case)
    assigned_id = _assigned_supervisor(session, case.grid_id, point)
    users = {u.username: u for u in _people(session, User.role == Role.SUPERVISOR.value) if _usable(u)}
    positions = _positions(session)
    assigned = next((u for u in users.values() if u.id == assigned_id), None)
    ranked: list[tuple[tuple[int, float, str], _Person, float | None]] = []
    for name, user in users.items():
        pos = positions.get(name)
        dist = _distance(point, pos)
        if user is assigned:
            group = 2 if pos is not None and not pos.on_duty else 0
        elif pos is not None and pos.on_duty and dist is not None:
            group = 1
        else:
            continue  # neither assigned nor known to be on duty nearby
        ranked.append(((group, dist if dist is not None else math.inf, name), user, dist))
    ranked.sort(key=lambda item: item[0])
    out = []
    for rank, (_key, user, dist) in enumerate(ranked[:limit], start=1):
        pos = positions.get(user.username)
        reasons: list[Msg] = []
        if user is assigned:
            reasons.append(Msg("本网格的责任监督员"))
        if pos is None:
            reasons.append(Msg("尚未上报位置"))
        elif pos.on_duty:
            reasons.append(Msg("在岗（{time} 上报）", time=pos.at.strftime("%m-%d %H:%M")))
        else:
            reasons.append(Msg("不在岗（{time} 上报）", time=pos.at.strftime("%m-%d %H:%M")))
        if dist is not None:
            reasons.append(Msg("距案卷 {distance} 米", distance=round(dist)))
        out.append(SupervisorSuggestion(rank, user.username, user.display_name, user is assigned,
                                        None if pos is None else pos.on_duty,
                                        None if dist is None else round(dist, 1), tuple(reasons)))
    return out


def suggestion_text(suggestions: list[SupervisorSuggestion]) -> Msg | str:
    """The suggestions as lines a form shows (the first is the default)."""
    if not suggestions:
        return Msg("没有可建议的监督员（本网格未指定责任监督员，也没有在岗监督员上报位置）")
    lines = [Msg("{rank}. {name}（{username}）：{reasons}", rank=s.rank, name=s.display_name, username=s.username,
                 reasons=Seq(s.reasons, "；", "; ")) for s in suggestions]
    return Msg("建议（不填则派给第 1 位）：\n{lines}", lines=Lines(lines))


def suggestions_for(store: Any, case_id: int) -> Msg | str:
    """The suggestions for case ``case_id`` as text (the send dialog's INFO field; a worker calls it)."""
    with store.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(Msg("案卷不存在（id {case_id}）", case_id=case_id))
        return suggestion_text(suggest(session, case))


def supervisor_choices(store: Any, case_id: int) -> list[tuple[str, Msg]]:
    """What a send form offers: "" (the first suggestion), the suggested supervisors in their order,
    then every other active, unlocked supervisor by name; labels carry name, username and why."""
    with store.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(Msg("案卷不存在（id {case_id}）", case_id=case_id))
        ranked = suggest(session, case)
        others = sorted((u for u in _people(session, User.role == Role.SUPERVISOR.value)
                         if _usable(u) and u.username not in {s.username for s in ranked}),
                        key=lambda u: u.username)
    first = Msg("首选建议：{name}（{username}）", name=ranked[0].display_name, username=ranked[0].username) \
        if ranked else Msg("不指定监督员（没有可建议的监督员）")
    out: list[tuple[str, Msg]] = [("", first)]
    out += [(s.username, Msg("{rank}. {name}（{username}）：{reasons}", rank=s.rank, name=s.display_name,
                             username=s.username, reasons=Seq(s.reasons, "；", "; "))) for s in ranked]
    out += [(u.username, Msg("{name}（{username}）", name=u.display_name, username=u.username)) for u in others]
    return out


def prepare_send(step: Step, supervisor: str | None) -> None:
    """派发核实/派发核查: name the supervisor in the event (given and checked, else the first suggestion)."""
    name = (supervisor or "").strip()
    if name:
        user = check_supervisor(step.session, name)
        step.payload["supervisor"] = user.username
        step.details["supervisor"] = {"username": user.username, "display_name": user.display_name,
                                      "suggested": False}
        return
    suggestions = suggest(step.session, step.case)
    if not suggestions:
        step.warnings.append(Msg("没有可建议的监督员：任务未指定监督员，任何监督员均可处理"))
        return
    first = suggestions[0]
    step.payload["supervisor"] = first.username
    step.details["supervisor"] = {"username": first.username, "display_name": first.display_name,
                                  "suggested": True, "reasons": list(first.reasons)}


# ---- tasks --------------------------------------------------------------------------------

def _latest_sends(session: Session, case_ids: list[int]) -> dict[int, CaseEvent]:
    """The latest 派发核实/派发核查 event of each case."""
    found: dict[int, CaseEvent] = {}
    if not case_ids:
        return found
    actions = [a.value for a in TASK_STATES.values()]
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start:start + 500]
        for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(chunk),
                                                             CaseEvent.action.in_(actions))
                                     .order_by(CaseEvent.case_id, CaseEvent.seq)):
            found[event.case_id] = event
    return found


class SupervisorService:
    """Positions, suggestions, assignments and task lists over one store (independent of CaseService)."""

    def __init__(self, store: Any, clock: Clock, calendar: WorkCalendar) -> None:
        self.store, self.clock, self.calendar = store, clock, calendar

    def _now(self) -> datetime:
        return self.clock.now().replace(microsecond=0)

    # ---- positions ----------------------------------------------------------------------
    def report_position(self, actor: Actor, x: float | None, y: float | None, on_duty: bool) -> Position:
        """A supervisor's handheld reports where it is and whether the supervisor is on duty.

        Only a supervisor reports, and only its own position; ``x``/``y`` in the store's CRS
        (EPSG:4549). Without a point (going off duty, say) the last point is kept.
        """
        if actor.role is not Role.SUPERVISOR:
            raise PermissionDenied(Msg("只有监督员可以上报位置和在岗状态（当前角色：{role}）", role=actor.role))
        if (x is None) != (y is None):
            raise ValidationError("at", Msg("位置需要 X 和 Y 两个坐标"))
        if x is not None and y is not None and not (
                math.isfinite(x) and math.isfinite(y) and _X_RANGE[0] <= x <= _X_RANGE[1]
                and _Y_RANGE[0] <= y <= _Y_RANGE[1]):
            raise ValidationError("at", Msg("位置 {x},{y} 不是本系统坐标系（EPSG:4549，米）中的有效坐标", x=x, y=y))
        now = self._now()
        with db_refusals(), self.store.session() as session, session.begin():
            check_supervisor(session, actor.username)
            row = session.get(SupervisorPosition, actor.username)
            if row is None:
                if x is None:
                    raise ValidationError("at", Msg("第一次上报需要位置（X,Y）"))
                row = SupervisorPosition(username=actor.username, on_duty=bool(on_duty), at=now)
                session.add(row)
            row.on_duty, row.at = bool(on_duty), now
            if x is not None:
                row.geom = WKTElement(f"POINT({float(x)!r} {float(y)!r})", srid=STORE_SRID)  # type: ignore[arg-type]
            session.flush()
        with self.store.session() as session:
            return _positions(session)[actor.username]

    def positions(self) -> list[Position]:
        """Every supervisor's last reported position, by username."""
        with self.store.session() as session:
            return sorted(_positions(session).values(), key=lambda p: p.username)

    # ---- assignment ---------------------------------------------------------------------
    def assign(self, actor: Actor, grid_code: str, username: str | None) -> str | None:
        """Assign a unit grid to a supervisor (None: nobody); the administrator's."""
        if actor.role is not Role.ADMIN:
            raise PermissionDenied(Msg("只有管理员可以指定网格的责任监督员（当前角色：{role}）", role=actor.role))
        with db_refusals(), self.store.session() as session, session.begin():
            grid = session.scalars(select(UnitGrid).where(UnitGrid.code == (grid_code or "").strip())).first()
            if grid is None:
                raise NotFound(Msg("网格 {code} 不存在：请核对 15 位网格编码", code=grid_code))
            if grid.retired_on is not None:  # split or merged away (0024): its successors are assigned
                raise ValidationError("grid", Msg("网格 {code} 已于 {day} 注销：请指定在用的网格", code=grid.code,
                                                  day=grid.retired_on))
            user = check_supervisor(session, username) if username else None
            grid.supervisor_id = user.id if user is not None else None
        return user.username if user is not None else None

    def assignments(self) -> dict[str, str | None]:
        """Grid code → the assigned supervisor's username (None: nobody), for the grids in use."""
        with self.store.session() as session:
            rows = session.execute(select(UnitGrid.code, User.username).outerjoin(User, User.id == UnitGrid.supervisor_id)
                                   .where(UnitGrid.retired_on.is_(None)).order_by(UnitGrid.code)).all()
        return {code: name for code, name in rows}

    # ---- suggestions --------------------------------------------------------------------
    def suggest_supervisors(self, case_id: int) -> list[SupervisorSuggestion]:
        """Supervisors for the case's verify/check task, ranked, with distances and reasons."""
        with self.store.session() as session:
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(Msg("案卷不存在（id {case_id}）", case_id=case_id))
            return suggest(session, case)

    # ---- tasks --------------------------------------------------------------------------
    def tasks(self, actor: Actor, *, supervisor: str | None = None, overdue: bool = False) -> list[SupervisorTask]:
        """Verify/check tasks: a supervisor sees only its own; the desk roles see all (or one's).

        ``overdue``: only tasks whose timer is red. Ordered by the least time left first.
        """
        if actor.role is Role.SUPERVISOR:
            if supervisor and supervisor.strip() != actor.username:
                raise PermissionDenied(Msg("监督员只能查看自己的任务"))
            supervisor = actor.username
        elif actor.role not in SEES_ALL:
            raise PermissionDenied(Msg("「{role}」没有核实/核查任务可查看", role=actor.role))
        who = (supervisor or "").strip() or None
        now = self.clock.now()
        with self.store.session() as session:
            ids = list(session.scalars(select(Case.id).where(Case.state.in_([s.value for s in TASK_STATES]))
                                       .order_by(Case.id)))
            sends = _latest_sends(session, ids)
            chosen = [i for i in ids if i in sends
                      and (who is None or (sends[i].payload or {}).get("supervisor") == who)]
            summaries = queries.case_summaries(session, chosen)
        out = []
        for summary in summaries:
            event = sends[summary.id]
            reading = read_timer(summary.timer, self.calendar, now)
            if overdue and not reading.overdue:
                continue
            stage = Stage.VERIFY if summary.state is CaseState.VERIFYING else Stage.CHECK
            out.append(SupervisorTask(summary, stage, (event.payload or {}).get("supervisor"), event.at, event.actor,
                                      reading.light, reading.remaining_minutes, reading.deadline, reading.overdue,
                                      event.reason))
        out.sort(key=lambda t: (t.remaining_minutes if t.light is not Light.NONE else math.inf, t.case.id))
        return out


__all__ = ["SEES_ALL", "TASK_STATES", "Position", "SupervisorService", "SupervisorSuggestion", "SupervisorTask",
           "check_supervisor", "prepare_send", "suggest", "suggestion_text", "suggestions_for", "supervisor_choices"]
