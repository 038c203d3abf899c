"""Intake: validate a new report (category, level, source, description, location) before writing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.definitions import Kind, Level, Role, Source, _Labelled
from app.domain.messages import Msg, msg_of
from app.domain.taxonomy import Taxonomy, UnknownCategory, UnmappedLegacyCode
from app.services.attachments import PhotoInput
from app.services.errors import ValidationError
from app.services.location import LocationInput
from app.store.models import Case, Category

MAX_DESCRIPTION = 2000

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


def _enum(enum: type[_E], value: object, what: str) -> _E:
    if isinstance(value, enum):
        return value
    try:
        return enum.parse(str(value).strip())
    except ValueError:
        choices = [Msg("{value}（{label}）", value=m.value, label=m) for m in enum]
        raise ValidationError(what, Msg("{what}「{value}」无效：应为 {choices}", what=_WHAT[what], value=value,
                                        choices=choices)) from None


def parse_category(text: str, kind: Kind | str | None, taxonomy: Taxonomy) -> tuple[Kind, str, list[str]]:
    """(kind, 5-digit code, notes) from "CODE" or "KIND:CODE"; ValidationError naming the problem."""
    raw = (text or "").strip()
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
    return row


def check_description(text: str | None) -> str:
    """The trimmed description; ValidationError when empty or too long."""
    value = (text or "").strip()
    if not value:
        raise ValidationError("description", Msg("问题描述不能为空：请写明现场情况（什么问题、在哪里、影响多大）"))
    if len(value) > MAX_DESCRIPTION:
        raise ValidationError("description", Msg("问题描述太长（{count} 字）：最多 {max_description} 字",
                                                 count=len(value), max_description=MAX_DESCRIPTION))
    return value


def check_level(value: object) -> Level:
    """A Level from a member, value, name or label."""
    return _enum(Level, value, "level")


def check_source(value: object, role: Role) -> Source:
    """The report's channel; defaults by the reporting role."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_SOURCE.get(role, Source.HOTLINE)
    return _enum(Source, value, "source")


def clean(text: str | None) -> str | None:
    """Trimmed optional text (None when blank)."""
    return (text or "").strip() or None


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


__all__ = ["DEFAULT_SOURCE", "ReportDraft", "category_row", "clean", "check_description", "check_level",
           "check_source", "next_number", "parse_category"]
