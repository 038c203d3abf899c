"""SQLAlchemy 2 + GeoAlchemy2 models: the store's schema, a public contract (docs/schema.md).

The same tables exist on SpatiaLite and PostGIS. Geometries are in CGCS2000 / 3-degree
Gauss-Kruger CM 120E (EPSG:4549). Timestamps are naive China Standard Time.
Enumerated columns hold the ``value`` strings of ``app.domain.definitions``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.domain.definitions import STORE_SRID


def _geom(kind: str) -> Geometry:
    return Geometry(geometry_type=kind, srid=STORE_SRID, spatial_index=True)


class Base(DeclarativeBase):
    """Declarative base of every GridHall table."""

    __table__: ClassVar[Table]  # each model maps one plain table (SQLAlchemy types it FromClause)


class AdminArea(Base):
    """District (6-digit code), street (9) or community (12) with its boundary."""

    __tablename__ = "admin_areas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16), index=True)  # AreaLevel
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id"))
    geom = mapped_column(_geom("MULTIPOLYGON"))


class Department(Base):
    """A responsible department: city bureau, street office, utility or contractor."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # DepartmentKind
    credit_code: Mapped[str | None] = mapped_column(String(18))  # unified social credit code
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    admin_area_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id"))  # jurisdiction
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    """A person who logs in, with exactly one role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), index=True)  # Role
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime | None] = mapped_column(DateTime)


class UnitGrid(Base):
    """万米单元网格: a ~10,000 m² polygon with a 15-digit code inside one community."""

    __tablename__ = "unit_grids"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("admin_areas.id"), index=True)
    area_m2: Mapped[float] = mapped_column(Float)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # assigned 监督员 (admin writes)
    geom = mapped_column(_geom("POLYGON"))
    retired_on: Mapped[date | None] = mapped_column(Date)  # split/merged away: kept, code never reused (0024)


class SupervisorPosition(Base):
    """Where a supervisor's handheld last was, and whether the supervisor is on duty (migration 0014).

    The grid a supervisor is assigned to is ``UnitGrid.supervisor_id`` (the administrator's).
    """

    __tablename__ = "supervisor_positions"
    username: Mapped[str] = mapped_column(String(64), ForeignKey("users.username"), primary_key=True)
    on_duty: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime)
    geom = mapped_column(_geom("POINT"))


class Category(Base):
    """A GB/T 47678.5-2026 category; (kind, code) is the key."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("kind", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # Kind
    code: Mapped[str] = mapped_column(String(5))
    major_code: Mapped[str] = mapped_column(String(2))
    major_name: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    filing_standard: Mapped[str | None] = mapped_column(Text)  # 立案标准
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: 结案证据 without before/after photos with their times: refuse | override (the shift leader's
    #: recorded override with a reason) | none (not checked). Migration 0013.
    close_evidence: Mapped[str] = mapped_column(String(16), default="override", server_default="override")
    #: The city uses the category (migration 0018); a disabled one is kept for its old cases.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    closing_standard: Mapped[str | None] = mapped_column(Text)  # 结案标准 (migration 0018)


class SourceRule(Base):
    """Whether reports from a source must be verified on site (核实) before filing (立案). Migration 0013."""

    __tablename__ = "source_rules"
    source: Mapped[str] = mapped_column(String(16), primary_key=True)  # Source
    verify_before_filing: Mapped[bool] = mapped_column(Boolean)


class TimeLimit(Base):
    """A time limit for one stage at one level, for a category, a major, a kind or everything.

    Scope, most specific first: ``category_id`` (one category), ``kind`` + ``major_code`` (a
    major), ``kind`` alone (the kind's default), nothing (global default); see docs/schema.md.
    """

    __tablename__ = "time_limits"
    __table_args__ = (
        UniqueConstraint("kind", "category_id", "major_code", "level", "stage", "valid_from",
                         name="uq_time_limits_scope_from"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(16))  # Kind; null: any kind
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))  # null: not one category
    major_code: Mapped[str | None] = mapped_column(String(2))  # a whole major of ``kind``
    level: Mapped[str] = mapped_column(String(16))  # Level
    stage: Mapped[str] = mapped_column(String(16))  # Stage
    minutes: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(16))  # Basis
    condition: Mapped[str | None] = mapped_column(Text)  # 立案条件/结案条件 text
    # In force from ``valid_from`` (null: since ever) until ``valid_to`` (null: still); migration 0018.
    valid_from: Mapped[datetime | None] = mapped_column(DateTime)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime)


class CalendarDay(Base):
    """A local override of the working calendar (a day off or an extra working day)."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(64))


class CalendarYear(Base):
    """A year of the statutory calendar: official (the State Council's notice) or estimated (migration 0016)."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))  # 'official' | 'estimated'
    source: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class StatutoryDay(Base):
    """Every day of each year in ``calendar_years``: workday flag and holiday name (migrations 0005, 0016)."""

    __tablename__ = "statutory_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(64))


class ConfigChange(Base):
    """One change of the hall's configuration: append-only, hash-chained like case_events (migration 0016).

    ``seq`` is gap-free from 1; ``hash`` is SHA-256 over ``prev_hash`` and the canonical change
    (app.domain.config_audit).
    """

    __tablename__ = "config_changes"
    __table_args__ = (Index("ix_config_changes_entity_key", "entity", "key"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(32))  # e.g. 'calendar_year'
    key: Mapped[str] = mapped_column(String(64))  # e.g. '2027'
    before: Mapped[str | None] = mapped_column(Text)  # canonical JSON, null when created
    after: Mapped[str | None] = mapped_column(Text)  # canonical JSON, null when removed
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class BaseChange(Base):
    """One change of the base data (a component or unit grid): append-only, hash-chained (migration 0024).

    ``seq`` is gap-free from 1; ``hash`` is SHA-256 over ``prev_hash`` and the canonical change
    (app.domain.base_history).
    """

    __tablename__ = "base_changes"
    __table_args__ = (Index("ix_base_changes_entity_key", "entity", "key"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(16))  # 'component' | 'grid'
    key: Mapped[str] = mapped_column(String(32))  # the feature's code
    action: Mapped[str] = mapped_column(String(16))  # set | move | status | add | retire | split | merge
    before: Mapped[str | None] = mapped_column(Text)  # canonical JSON, null when created
    after: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RoutingRule(Base):
    """Route a category (or a whole major, or anything) in an area to a department."""

    __tablename__ = "routing_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    major_code: Mapped[str | None] = mapped_column(String(2))
    kind: Mapped[str | None] = mapped_column(String(16))
    admin_area_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower wins
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")  # retired, never deleted (0018)


class ConfigValue(Base):
    """A whole setting stored as canonical JSON: the evaluation weights' and alert rules' overrides (0018)."""

    __tablename__ = "config_values"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # 'evaluation' | 'alerts'
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class Road(Base):
    """A named road centre line of the basemap."""

    __tablename__ = "roads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # trunk | main | secondary | branch | lane
    width_m: Mapped[float] = mapped_column(Float, default=10.0)
    geom = mapped_column(_geom("LINESTRING"))


class Component(Base):
    """管理部件: one asset (manhole cover, lamp, bin...) with its 17-digit identifier."""

    __tablename__ = "components"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(17), unique=True)
    legacy_code: Mapped[str | None] = mapped_column(String(16), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("unit_grids.id"), index=True)
    authority_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # 主管
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # 权属
    maintainer_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # 养护
    status: Mapped[str] = mapped_column(String(16), default="intact")  # ComponentStatus
    initial_date: Mapped[date | None] = mapped_column(Date)
    changed_date: Mapped[date | None] = mapped_column(Date)
    data_source: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_geom("POINT"))


class Case(Base):
    """案卷: one reported problem and its current state and running timer."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # Kind
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    level: Mapped[str] = mapped_column(String(16), default="general")  # Level
    state: Mapped[str] = mapped_column(String(24), index=True)  # CaseState
    source: Mapped[str] = mapped_column(String(16))  # Source
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("unit_grids.id"), index=True)
    component_id: Mapped[int | None] = mapped_column(ForeignKey("components.id"))
    address: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    reported_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    filed_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    fed_back_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # The running timer of the current stage (null stage: no timer runs).
    stage: Mapped[str | None] = mapped_column(String(16))  # Stage
    timer_basis: Mapped[str | None] = mapped_column(String(16))  # Basis
    limit_minutes: Mapped[int | None] = mapped_column(Integer)
    timer_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    paused_since: Mapped[datetime | None] = mapped_column(DateTime)  # 缓办/挂账 running now
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)  # finished pauses, in basis minutes
    extension_minutes: Mapped[int] = mapped_column(Integer, default=0)  # approved 延期
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # The handling (处置) deadline kept after the stage moves on, for evaluation.
    handle_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    urge_count: Mapped[int] = mapped_column(Integer, default=0)
    # 督办 (migration 0015): the highest level of the case's urges (0: never urged) and the
    # earliest deadline an urge set (it replaces a later handling deadline).
    urge_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    urge_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)  # = number of case_events
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    geom = mapped_column(_geom("POINT"))


class CaseEvent(Base):
    """One recorded step of a case: append-only and hash-chained (app.domain.audit)."""

    __tablename__ = "case_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        Index("ix_case_events_at", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_no: Mapped[int] = mapped_column(Integer, unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(24))  # Action
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))  # username
    role: Mapped[str] = mapped_column(String(16))  # Role
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """Single row: the last link of the case_events chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    chain_no: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class Attachment(Base):
    """A photo or document attached to a case, stored in the database."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    kind: Mapped[str] = mapped_column(String(16))  # report | before | after | other
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CaseClaim(Base):
    """An advisory hold on a case while someone fills a form (expires unless renewed)."""

    __tablename__ = "case_claims"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))  # username
    role: Mapped[str] = mapped_column(String(16))  # Role
    workstation: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(24))  # Action the form is for (null: editing)
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
