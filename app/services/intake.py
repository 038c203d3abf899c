"""Intake: validate a new report (category, level, source, description, location) before writing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import text as policy
from app.domain.definitions import STORE_SRID, Kind, Level, Role, Source, _Labelled
from app.domain.messages import Msg, msg_of
from app.domain.taxonomy import Taxonomy, UnknownCategory, UnmappedLegacyCode
from app.services.attachments import PhotoInput
from app.services.errors import ValidationError
from app.services.location import LocationInput
from app.store.models import Case, Category

MAX_DESCRIPTION = policy.MAX_DESCRIPTION
#: Plane coordinates (metres, EPSG:4549) beyond this are nonsense, refused before any lookup.
MAX_COORDINATE = 1e8

#: The channel assumed when a report does not say, by the reporting role.
DEFAULT_SOURCE = {
    Role.SUPERVISOR: Source.SUPERVISOR, Role.DEPARTMENT: Source.DEPARTMENT, Role.LEADER: Source.LEADER,
    Role.ACCEPTOR: Source.HOTLINE,
}


@dataclass(frozen=True)
class ReportDraft:
    """Everything the intake form (or the CLI) collects for a new report."""

    category: str  # "CODE" or "KIND:CODE" (kind: component/event/部件/事件); 4-digit legacy codes need a kind
    description: str
    location: LocationInput
    kind: Kind | str | None = None
    level: Level | str = Level.GENERAL
    source: Source | str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    photos: tuple[PhotoInput, ...] = field(default=())


_WHAT = {"level": Msg("等级"), "source": Msg("来源"), "kind": Msg("类型")}


_E = TypeVar("_E", bound=_Labelled)


def clean_text(field: str, value: object) -> str | None:
    """``value`` cleaned by the input policy of ``field`` (app.domain.text); None when it shows nothing.

    The one call every entry point uses for user text (report fields, notes and reasons, names):
    normalised (NFC, or NFKC for codes and digits), control and bidi characters and oversized
    text refused with a ValidationError naming ``field``.
    """
    try:
        return policy.clean_text(field, value)
    except policy.TextRefused as exc:
        raise ValidationError(exc.field, msg_of(exc)) from None


def require_text(field: str, value: object, empty: Msg | None = None) -> str:
    """Like :func:`clean_text`, but empty text is refused (with ``empty``, or "<field>不能为空")."""
    try:
        return policy.require_text(field, value, empty)
    except policy.TextRefused as exc:
        raise ValidationError(exc.field, msg_of(exc)) from None


def _enum(enum: type[_E], value: object, what: str) -> _E:
    if isinstance(value, enum):
        return value
    value = clean_text(what, value if isinstance(value, str) else str(value)) or ""
    try:
        return enum.parse(value)
    except ValueError:
        choices = [Msg("{value}（{label}）", value=m.value, label=m) for m in enum]
        raise ValidationError(what, Msg("{what}「{value}」无效：应为 {choices}", what=_WHAT[what], value=value,
                                        choices=choices)) from None


def parse_category(text: str, kind: Kind | str | None, taxonomy: Taxonomy) -> tuple[Kind, str, list[str]]:
    """(kind, 5-digit code, notes) from "CODE" or "KIND:CODE"; ValidationError naming the problem."""
    raw = clean_text("category", text) or ""
    if not raw:
        raise ValidationError("category", Msg("缺少问题类别：请给出类别代码（如 event:06010）或按名称搜索选择"))
    if ":" in raw or "：" in raw:
        head, _, raw = raw.replace("：", ":").partition(":")
        kind = _enum(Kind, head, "kind")
    elif kind is not None:
        kind = _enum(Kind, kind, "kind")
    raw = raw.strip()
    notes: list[str] = []
    if kind is None:
        kinds = [k for k in Kind if taxonomy.find(k, raw) is not None]
        if len(kinds) > 1:
            names = [Msg("{code}（{kind}：{name}）",
                         code=f"{k.value}:{raw}", kind=k, name=taxonomy.get(k, raw).name)
                     for k in kinds]
            raise ValidationError("category", Msg("类别代码 {raw} 在部件和事件清单中都有：请写明类型，{names}",
                                                  raw=raw, names=names))
        if not kinds:
            hits = taxonomy.search(raw, limit=3)
            hint = Msg("。相近的有：{hits}",
                       hits=[f"{c.kind.value}:{c.code} {c.name}" for c in hits]) if hits else ""
            raise ValidationError("category", Msg("未知的类别代码「{raw}」：GB/T 47678.5-2026 清单中没有{hint}",
                                                  raw=raw, hint=hint))
        kind = kinds[0]
    if len(raw) == 4 and raw.isdigit():
        try:
            cat = taxonomy.from_legacy(kind, raw)
        except UnmappedLegacyCode as exc:
            raise ValidationError("category", msg_of(exc)) from None
        notes.append(Msg("旧版类别代码 {raw} 已转换为 {code} {name}", raw=raw, code=cat.code, name=cat.name))
        raw = cat.code
    try:
        taxonomy.get(kind, raw)
    except UnknownCategory as exc:
        raise ValidationError("category", msg_of(exc)) from None
    return kind, raw, notes


def category_row(session: Session, kind: Kind, code: str) -> Category:
    """The ``categories`` row of (kind, code); ValidationError when the store lacks it."""
    row = session.scalars(select(Category).where(Category.kind == kind.value, Category.code == code)).first()
    if row is None:
        raise ValidationError("category", Msg("数据库的 categories 表中没有{kind}类别 {code}："
                                              "请运行 gridhall db upgrade 补齐参考数据",
                                              kind=kind, code=code))
    if row.enabled is False:  # the administrator's choice (issue 12): the city does not use it
        raise ValidationError("category", Msg("类别「{name}」（{code}）本市未启用，不能上报新案卷：请改选其他类别"
                                              "（管理员可用 gridhall admin category set 启用）", name=row.name, code=code))
    return row


def check_description(text: str | None) -> str:
    """The cleaned description; ValidationError when empty (or invisible only), too long or hostile."""
    return require_text("description", text,
                        Msg("问题描述不能为空：请写明现场情况（什么问题、在哪里、影响多大）"))


def check_level(value: object) -> Level:
    """A Level from a member, value, name or label."""
    return _enum(Level, value, "level")


def check_source(value: object, role: Role) -> Source:
    """The report's channel; defaults by the reporting role."""
    if value is None or (isinstance(value, str) and clean_text("source", value) is None):
        return DEFAULT_SOURCE.get(role, Source.HOTLINE)
    return _enum(Source, value, "source")


def clean(text: str | None) -> str | None:
    """Trimmed optional text (None when blank); user text goes through :func:`clean_text` first."""
    return (text or "").strip() or None


def _coordinate(name: str, value: float | None, limit: float | None) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValidationError("location", Msg("坐标 {name} 应为数字，实际为 {type}", name=name,
                                              type=type(value).__name__))
    if limit is not None and math.isfinite(value) and abs(value) > limit:
        raise ValidationError("location", Msg("坐标 {name}={value:.6g} 超出范围：应为 EPSG:{store_srid} 平面坐标（米）",
                                              name=name, value=value, store_srid=STORE_SRID))


def check_draft(draft: ReportDraft) -> ReportDraft:
    """The draft with every text field cleaned by the input policy (app.domain.text).

    Category, kind, level, source, address, component code, description, reporter name and
    phone are normalised (NFKC for codes and digits, NFC for prose, invisible-only text is
    empty); control and bidi characters, oversized text and absurd coordinates are refused
    with a ValidationError naming the field. Call it first in every report path, before any
    other check (``CaseService.report``); photos are checked by ``check_photos``.
    """
    category = clean_text("category", draft.category) or ""
    kind = clean_text("kind", draft.kind) if isinstance(draft.kind, str) else draft.kind
    level = clean_text("level", draft.level) or "" if isinstance(draft.level, str) else draft.level
    source = clean_text("source", draft.source) if isinstance(draft.source, str) else draft.source
    loc = draft.location
    for name in ("x", "y", "lon", "lat"):  # lon/lat ranges: app.services.location.lonlat_to_store
        _coordinate(name, getattr(loc, name), MAX_COORDINATE if name in ("x", "y") else None)
    location = replace(loc, address=clean_text("address", loc.address),
                       component_code=clean_text("component", loc.component_code))
    description = check_description(draft.description)
    return replace(draft, category=category, kind=kind, level=level, source=source, location=location,
                   description=description, reporter_name=clean_text("reporter_name", draft.reporter_name),
                   reporter_phone=clean_text("reporter_phone", draft.reporter_phone))


def next_number(session: Session, kind: Kind, now: datetime) -> str:
    """The next case number of the day, as the demo city numbers them: S/B + yyyymmdd + -NNNN.

    S is an event (事件), B a component (部件) case. Call it under the chain's write lock.
    """
    prefix = f"{'B' if kind is Kind.COMPONENT else 'S'}{now:%Y%m%d}-"
    last = session.scalar(select(Case.number).where(Case.number.like(prefix + "%"))
                          .order_by(func.length(Case.number).desc(), Case.number.desc()).limit(1))
    tail = last[len(prefix):] if last else ""
    serial = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{serial:04d}"


__all__ = ["DEFAULT_SOURCE", "MAX_COORDINATE", "MAX_DESCRIPTION", "ReportDraft", "category_row", "check_description",
           "check_draft", "check_level", "check_source", "clean", "clean_text", "next_number", "parse_category",
           "require_text"]
