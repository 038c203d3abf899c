"""Time limits from the store: the ``time_limits`` table as a domain LimitTable.

Maintenance edits limits in the table without code; an empty table falls back to the shipped
CSV (data/taxonomy/time_limits.csv). Lookup order is the domain's: category → major → kind →
global → built-in defaults (app/domain/limits.py).
"""

from __future__ import annotations

from sqlalchemy import select

from app.domain.definitions import Basis, Kind, Level, Stage
from app.domain.limits import LimitKey, LimitRule, LimitTable
from app.services.errors import ValidationError
from app.store.engine import Store
from app.store.models import Category, TimeLimit

_FIELD = "time_limits"


def _enum(enum, text: str | None, what: str, where: str):
    try:
        return enum.parse(text or "")
    except ValueError as exc:
        raise ValidationError(_FIELD, f"{where}：{what} 无效（{exc}）；请在 time_limits 表中改正该行") from None


def _row_rule(row: TimeLimit, category: Category | None) -> tuple[LimitKey, LimitRule]:
    where = f"time_limits 表第 {row.id} 行"
    kind = _enum(Kind, row.kind, "kind", where) if row.kind else None
    if row.category_id is not None and row.major_code is not None:
        raise ValidationError(_FIELD, f"{where}：category_id 与 major_code 只能填一个；请清空其中之一")
    if category is not None:
        category_kind = Kind.parse(category.kind)
        if kind is not None and kind is not category_kind:
            raise ValidationError(_FIELD, f"{where}：kind 为 {kind.value}，但类别 {category.code} 属于 "
                                  f"{category_kind.value}；请改正 kind 或 category_id")
        kind, code = category_kind, category.code
    elif row.category_id is not None:
        raise ValidationError(_FIELD, f"{where}：category_id {row.category_id} 不存在于 categories 表；请改正")
    else:
        code = (row.major_code or "").strip() or None
        if code is not None and (kind is None or len(code) != 2 or not code.isdigit()):
            raise ValidationError(_FIELD, f"{where}：major_code '{code}' 须为两位数字，且须同时填写 kind")
    level = _enum(Level, row.level, "level", where)
    stage = _enum(Stage, row.stage, "stage", where)
    basis = _enum(Basis, row.basis, "basis", where)
    if row.minutes is None or row.minutes <= 0:
        raise ValidationError(_FIELD, f"{where}：minutes {row.minutes} 须为正整数（{basis.label}分钟）")
    return LimitKey(kind, code, level, stage), LimitRule(int(row.minutes), basis, row.condition or None, where)


def load_limits(store: Store) -> LimitTable:
    """The time limits held in ``store`` (the shipped CSV when the table is empty).

    ValidationError names the bad row (unknown enum, missing kind, duplicate scope...).
    """
    with store.session() as session:
        rows = session.execute(select(TimeLimit, Category).outerjoin(Category, TimeLimit.category_id == Category.id)
                               .order_by(TimeLimit.id)).all()
    if not rows:
        return LimitTable.load()
    rules: dict[LimitKey, LimitRule] = {}
    for row, category in rows:
        key, rule = _row_rule(row, category)
        if key in rules:
            raise ValidationError(_FIELD, f"time_limits 表第 {row.id} 行与{rules[key].source}的适用范围相同"
                                  f"（{key.kind.value if key.kind else '任意'} {key.category_code or '默认'} "
                                  f"{key.level.value} {key.stage.value}）；请删除其中一行")
        rules[key] = rule
    return LimitTable(rules)


__all__ = ["load_limits"]
