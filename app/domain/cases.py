"""Plain value objects describing cases as the views see them (no ORM, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.definitions import Basis, CaseState, Kind, Level, Source, Stage


@dataclass(frozen=True)
class TimerSpec:
    """The running timer of a case's current stage, as stored on the case row.

    ``limit_minutes`` is the base limit in ``basis`` minutes; ``extension_minutes`` the
    approved 延期; ``paused_minutes`` the finished 缓办/挂账 pauses (basis minutes);
    ``paused_since`` is set while a pause is running. ``cap`` is an instant the timer must not
    run past (a leader's 督办 deadline while the case is handled): the effective deadline is the
    earlier of the computed one and the cap (:mod:`app.domain.deadlines`).
    """

    stage: Stage
    basis: Basis
    limit_minutes: int
    started_at: datetime
    paused_minutes: int = 0
    paused_since: datetime | None = None
    extension_minutes: int = 0
    cap: datetime | None = None


@dataclass(frozen=True)
class CaseSummary:
    """One row of the case queue: what a dispatcher scans, plus the timer to tick."""

    id: int
    number: str
    kind: Kind
    category_code: str
    category_name: str
    level: Level
    state: CaseState
    source: Source
    reported_at: datetime
    x: float
    y: float
    grid_code: str | None = None
    street_name: str | None = None
    community_name: str | None = None
    department_code: str | None = None
    department_name: str | None = None
    address: str | None = None
    description: str = ""
    component_code: str | None = None
    urge_count: int = 0
    rework_count: int = 0
    version: int = 0
    timer: TimerSpec | None = None
    deadline_at: datetime | None = None
    urge_level: int = 0  # 督办 level (0 none, 1–3): the highest of the case's urges
    urge_deadline_at: datetime | None = None  # the earliest deadline an urge set


@dataclass(frozen=True)
class CaseEventRecord:
    """One entry of a case's timeline."""

    seq: int
    at: datetime
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    department_name: str | None = None
    reason: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    photos: int = 0  # how many attachments were stored with this event


@dataclass(frozen=True)
class PhotoRecord:
    """One stored photo of a case, for thumbnails."""

    id: int
    kind: str
    filename: str
    mime: str
    data: bytes
    event_id: int | None = None
    taken_at: datetime | None = None  # the shooting time (EXIF or stated), None when unknown
