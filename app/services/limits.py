"""Time limits from the store: the ``time_limits`` table as a domain LimitTable.

Maintenance edits limits in the table without code; an empty table falls back to the shipped
CSV (data/taxonomy/time_limits.csv). Lookup order is the domain's: category → major → kind →
global → built-in defaults (app/domain/limits.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from app.domain.definitions import Basis, Kind, Level, Stage, _Labelled
from app.domain.limit_versions import LimitVersion, VersionedLimitTable
from app.domain.limits import LimitKey, LimitRule, LimitTable
from app.domain.messages import Msg
from app.services.errors import ValidationError
from app.store.engine import Store
from app.store.models import Category, TimeLimit

_FIELD = "time_limits"
_E = TypeVar("_E", bound=_Labelled)


def _enum(enum: type[_E], text: str | None, what: str, where: Msg) -> _E:
    try:
        return enum.parse(text or "")
    except ValueError as exc:
        raise ValidationError(_FIELD, Msg("{where}：{what} 无效（{exc}）；请在 time_limits 表中改正该行",
                                          where=where, what=what, exc=exc)) from None


def _row_rule(row: TimeLimit, category: Category | None) -> tuple[LimitKey, LimitRule]:
    where = Msg("time_limits 表第 {id} 行", id=row.id)
    kind = _enum(Kind, row.kind, "kind", where) if row.kind else None
    if row.category_id is not None and row.major_code is not None:
        raise ValidationError(_FIELD, Msg("{where}：category_id 与 major_code 只能填一个；请清空其中之一", where=where))
    code: str | None
    if category is not None:
        category_kind = Kind.parse(category.kind)
        if kind is not None and kind is not category_kind:
            raise ValidationError(_FIELD, Msg("{where}：kind 为 {kind}，但类别 {code} 属于 {category_kind}；"
                                              "请改正 kind 或 category_id", where=where, kind=kind.value, code=category.code, category_kind=category_kind.value))
        kind, code = category_kind, category.code
    elif row.category_id is not None:
        raise ValidationError(_FIELD, Msg("{where}：category_id {category_id} 不存在于 categories 表；请改正",
                                          where=where, category_id=row.category_id))
    else:
        code = (row.major_code or "").strip() or None
        if code is not None and (kind is None or len(code) != 2 or not code.isdigit()):
            raise ValidationError(_FIELD, Msg("{where}：major_code '{code}' 须为两位数字，且须同时填写 kind",
                                              where=where, code=code))
    level = _enum(Level, row.level, "level", where)
    stage = _enum(Stage, row.stage, "stage", where)
    basis = _enum(Basis, row.basis, "basis", where)
    if row.minutes is None or row.minutes <= 0:
        raise ValidationError(_FIELD, Msg("{where}：minutes {minutes} 须为正整数（{basis}分钟）",
                                          where=where, minutes=row.minutes, basis=basis))
    return LimitKey(kind, code, level, stage), LimitRule(int(row.minutes), basis, row.condition or None, where)


def load_limits(store: Store, now: datetime | None = None) -> LimitTable:
    """The time limits held in ``store`` (the shipped CSV when the table is empty), with every
    version's period of validity (migration 0018): ``limits_at(table, when)`` is the table in
    force at ``when``; looked up directly, the rules in force at ``now`` (None: the latest).

    ValidationError names the bad row (unknown enum, missing kind, duplicate scope...).
    """
    with store.session() as session:
        rows = session.execute(select(TimeLimit, Category).outerjoin(Category, TimeLimit.category_id == Category.id)
                               .order_by(TimeLimit.id)).all()
    if not rows:
        return LimitTable.load()
    versions: dict[LimitKey, list[tuple[LimitVersion, int]]] = {}
    for row, category in rows:
        key, rule = _row_rule(row, category)
        version = LimitVersion(key, rule, row.valid_from, row.valid_to)
        for other, _other_id in versions.get(key, []):
            if other.overlaps(version):
                raise ValidationError(_FIELD, Msg("time_limits 表第 {id} 行与{source}的适用范围相同（{value} {value2} {level} {stage}）；"
                                                  "请删除其中一行",
                                                  id=row.id, source=other.rule.source,
                                          value=key.kind.value if key.kind else Msg("任意"), value2=key.category_code or Msg("默认"),
                                          level=key.level.value, stage=key.stage.value))
        versions.setdefault(key, []).append((version, row.id))
    return VersionedLimitTable([v for vs in versions.values() for v, _ in vs], now)


__all__ = ["load_limits"]
