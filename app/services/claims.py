"""Conflict control: advisory claims ("张三（派遣员）正在派遣此案卷") and conflict explanations.

A claim says who is filling a form for a case. It is advisory (saves are protected by the
case's ``version``), expires after ``ttl`` seconds and is renewed while the form stays open,
so a crashed workstation blocks nobody for long. Claims change through one atomic upsert:
two workstations claiming at once cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain.clock import Clock
from app.domain.definitions import Action, Role
from app.domain.messages import Lines, Msg, msg_of
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.store.engine import Store
from app.store.models import Case, CaseClaim, CaseEvent, User

DEFAULT_TTL_S = 120
#: Renew an open form's claim this often (well inside the TTL).
RENEW_EVERY_S = 40


def _label(enum: type[Enum], value: str | None, fallback: str | Msg = "") -> Any:
    """The enum member of a stored value (shown by its label), else the value or ``fallback``."""
    if value in enum._value2member_map_:
        return enum(value)
    return value or fallback


@dataclass(frozen=True)
class Claim:
    """Who holds a case, for what, until when."""

    case_id: int
    holder: str  # username
    display_name: str
    role: str  # Role value
    workstation: str | None
    action: str | None  # Action value of the form, None: editing in general
    claimed_at: datetime
    expires_at: datetime

    @property
    def text(self) -> Msg:
        """The banner message, e.g. 张三（派遣员）正在派遣此案卷 (``str()`` gives the Chinese text)."""
        doing = _label(Action, self.action, Msg("处理")) if self.action else Msg("处理")
        where = Msg("（工作站 {workstation}）", workstation=self.workstation) if self.workstation else ""
        return Msg("{name}（{role}）正在{doing}此案卷{where}", name=self.display_name, role=_label(Role, self.role),
                   doing=doing, where=where)


@dataclass(frozen=True)
class ClaimOutcome:
    """The result of ``claim``: granted to the caller, or held by ``claim.holder``."""

    granted: bool
    claim: Claim


class ClaimService:
    """Claim, renew, release and look up advisory claims on cases."""

    def __init__(self, store: Store, clock: Clock, *, ttl_s: int = DEFAULT_TTL_S) -> None:
        self.store = store
        self.clock = clock
        self.ttl_s = ttl_s

    def _now(self) -> datetime:
        return self.clock.now().replace(microsecond=0)

    def claim(self, actor: Actor, case_id: int, workstation: str | None = None, *, ttl: int | None = None,
              action: Action | str | None = None) -> ClaimOutcome:
        """Take (or renew) the claim on ``case_id``; another holder's live claim is left alone.

        Returns the claim in force afterwards; ``granted`` False means someone else holds it.
        """
        ttl = self.ttl_s if ttl is None else ttl
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 5 <= ttl <= 3600:
            raise ValidationError("ttl", Msg("占用时长应为 5–3600 秒的整数，而不是 {ttl!r}", ttl=ttl))
        try:
            act = None if action is None else Action.parse(str(action)).value
        except ValueError as exc:
            raise ValidationError("action", msg_of(exc)) from None
        now = self._now()
        values = {"case_id": case_id, "holder": actor.username, "role": actor.role.value,
                  "workstation": (workstation or "").strip()[:64] or None, "action": act,
                  "claimed_at": now, "expires_at": now + timedelta(seconds=ttl)}
        dialect = postgresql if self.store.backend == "postgis" else sqlite
        table = CaseClaim.__table__
        stmt = dialect.insert(table).values(**values)
        mine_or_stale = (table.c.holder == actor.username) | (table.c.expires_at <= now)
        # Renewing keeps the original claimed_at; a new claim or taking over a stale one starts anew.
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.case_id],
            set_={"holder": stmt.excluded.holder, "role": stmt.excluded.role,
                  "workstation": stmt.excluded.workstation, "action": stmt.excluded.action,
                  "expires_at": stmt.excluded.expires_at,
                  "claimed_at": _keep_if_mine(table, stmt, actor.username, now)},
            where=mine_or_stale)
        with self.store.session() as session, session.begin():
            if session.get(Case, case_id) is None:
                raise NotFound(Msg("案卷不存在（id {case_id}）", case_id=case_id))
            held = self._read(session, case_id)
            if held is None or held.holder == actor.username or held.expires_at <= now:
                try:  # another holder's live claim is left alone (PostGIS's row-level security
                    with session.begin_nested():  # refuses the upsert outright where the clocks differ)
                        session.execute(stmt)
                except DBAPIError as exc:
                    if getattr(exc.orig, "pgcode", None) != "42501":
                        raise
            claim = self._read(session, case_id)
        assert claim is not None
        return ClaimOutcome(claim.holder == actor.username, claim)

    def release(self, actor: Actor, case_id: int) -> bool:
        """End the caller's claim (form closed or saved); True when there was one.

        The claim is expired (``expires_at`` = ``claimed_at``), not deleted: on PostGIS no login
        holds DELETE on case_claims (DELETE would also let it lock the whole table).
        """
        with self.store.session() as session, session.begin():
            done = cast(CursorResult[Any], session.execute(  # DML: a CursorResult (typed Result)
                update(CaseClaim).where(CaseClaim.case_id == case_id, CaseClaim.holder == actor.username,
                                        CaseClaim.expires_at > CaseClaim.claimed_at)
                .values(expires_at=CaseClaim.claimed_at)
                .execution_options(synchronize_session=False))).rowcount
        return bool(done)

    def holder(self, case_id: int) -> Claim | None:
        """The live claim on ``case_id`` (None: nobody, or it expired)."""
        with self.store.session() as session:
            claim = self._read(session, case_id)
        return claim if claim is not None and claim.expires_at > self._now() else None

    def held_by_others(self, actor: Actor, case_id: int) -> Claim | None:
        """The live claim of someone other than ``actor`` (what the banner shows), or None."""
        claim = self.holder(case_id)
        return claim if claim is not None and claim.holder != actor.username else None

    @staticmethod
    def _read(session: Session, case_id: int) -> Claim | None:
        row = session.execute(select(CaseClaim, User.display_name)
                              .outerjoin(User, User.username == CaseClaim.holder)
                              .where(CaseClaim.case_id == case_id)).first()
        if row is None:
            return None
        c, name = row
        return Claim(c.case_id, c.holder, name or c.holder, c.role, c.workstation, c.action, c.claimed_at,
                     c.expires_at)


def _keep_if_mine(table: Table, stmt: postgresql.Insert | sqlite.Insert, username: str,
                  now: datetime) -> ColumnElement[Any]:
    from sqlalchemy import case

    # Only a live claim of the caller is renewed; a released or expired one starts anew.
    return case(((table.c.holder == username) & (table.c.expires_at > now), table.c.claimed_at),
                else_=stmt.excluded.claimed_at)


def explain_conflict(store: Store, case_id: int, since_version: int) -> Msg:
    """What happened to the case after ``since_version``: who did what when, one line per step."""
    with store.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            return Msg("案卷（id {case_id}）已不存在", case_id=case_id)
        rows = session.execute(
            select(CaseEvent.seq, CaseEvent.at, CaseEvent.actor, CaseEvent.role, CaseEvent.action,
                   CaseEvent.to_state, CaseEvent.reason, User.display_name)
            .outerjoin(User, User.username == CaseEvent.actor)
            .where(CaseEvent.case_id == case_id, CaseEvent.seq > since_version)
            .order_by(CaseEvent.seq)).all()
    if not rows:
        return Msg("案卷 {number} 自第 {since} 版以来没有变化（当前第 {version} 版）", number=case.number,
                   since=since_version, version=case.version)
    from app.domain.definitions import CaseState

    steps = []
    for r in rows:
        who = Role.SYSTEM if r.role == Role.SYSTEM.value else \
            Msg("{name}（{role}）", name=r.display_name or r.actor, role=_label(Role, r.role))
        steps.append(Msg("  第 {seq} 版 {at} {who}{action} → {state}{why}",
                         seq=r.seq, at=f"{r.at:%m-%d %H:%M}", who=who,
                         action=_label(Action, r.action), state=_label(CaseState, r.to_state),
                         why=f"：{r.reason}" if r.reason else ""))
    return Msg("案卷 {number} 在你看到的第 {since} 版之后有 {count} 项变更（当前第 {version} 版）：\n{steps}\n"
               "你填写的内容已保留；请核对以上变更后再保存", number=case.number, since=since_version,
               count=len(rows), version=case.version, steps=Lines(steps))


__all__ = ["DEFAULT_TTL_S", "RENEW_EVERY_S", "Claim", "ClaimOutcome", "ClaimService", "explain_conflict"]
