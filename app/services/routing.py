"""Dispatch suggestions: which departments should handle a case, ranked, each with its reasons.

Reasons, strongest first: the named component's department the administrator's component rule
picks (``config_values`` ``component_routing``: maintainer by default, or owner / authority / none
per scope), the component's maintainer, owner and authority, then the routing rules that cover
the category and the case's place — an administrative area (community before street before
district), a grid set, a drawn polygon or the department's own jurisdiction (migration 0025) —
lower ``priority`` first, then the category's default department.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from app.domain.definitions import AreaLevel
from app.domain.messages import Msg
from app.store.config_areas import department_areas, routing_areas
from app.store.models import (
    AdminArea,
    Case,
    Category,
    Component,
    ConfigValue,
    Department,
    RoutingRule,
    UnitGrid,
)

# How strongly each kind of reason points at a department (higher ranks first).
_W_MAINTAINER, _W_OWNER, _W_AUTHORITY = 100, 90, 80
_W_RULE_CATEGORY, _W_RULE_MAJOR, _W_RULE_KIND = 70, 60, 40
_W_DEFAULT = 50
_W_DECIDES = 110
#: How much a rule's area adds by how specific it is.
_AREA_BONUS = {"polygon": 7, "grids": 6, "jurisdiction": 5}
_PARTY_LABEL = {"maintainer": "养护单位", "owner": "权属单位", "authority": "主管部门"}


@dataclass(frozen=True)
class DispatchSuggestion:
    """A department to dispatch to, why, and its rank (1 = best)."""

    department_id: int
    code: str
    name: str
    reasons: tuple[str, ...]
    rank: int
    score: int = 0


def _areas(session: Session, grid_id: int | None) -> dict[int, AdminArea]:
    """The grid's community and its ancestors (street, district), by id."""
    if grid_id is None:
        return {}
    area_id = session.scalar(select(UnitGrid.community_id).where(UnitGrid.id == grid_id))
    found: dict[int, AdminArea] = {}
    while area_id is not None and area_id not in found:
        area = session.get(AdminArea, area_id)
        if area is None:
            break
        found[area_id] = area
        area_id = area.parent_id
    return found


def _rule_filter(cat: Category) -> ColumnElement[bool]:
    """Active rules that cover ``cat``: by category, by its major, by its kind, or by anything
    (a retired rule, ``active`` false since migration 0018, covers nothing)."""
    return and_(RoutingRule.active.is_(True), or_(
        RoutingRule.category_id == cat.id,
        and_(RoutingRule.category_id.is_(None), RoutingRule.major_code == cat.major_code,
             or_(RoutingRule.kind.is_(None), RoutingRule.kind == cat.kind)),
        and_(RoutingRule.category_id.is_(None), RoutingRule.major_code.is_(None),
             or_(RoutingRule.kind.is_(None), RoutingRule.kind == cat.kind)),
    ))


def _rule_weight(rule: RoutingRule, cat: Category) -> tuple[int, Msg]:
    if rule.category_id == cat.id:
        return _W_RULE_CATEGORY, Msg("路由规则：类别「{name}」", name=cat.name)
    if rule.major_code:
        return _W_RULE_MAJOR, Msg("路由规则：大类「{name}」", name=cat.major_name)
    if rule.kind:
        return _W_RULE_KIND, Msg("路由规则：全部部件") if rule.kind == "component" else Msg("路由规则：全部事件")
    return _W_RULE_KIND - 10, Msg("路由规则：全部类别")


def suggest(session: Session, case: Case) -> list[DispatchSuggestion]:
    """Departments for ``case`` ranked by component responsibility, 属地 routing rules and defaults."""
    cat = session.get_one(Category, case.category_id)
    scores: dict[int, list[tuple[int, str]]] = {}

    def add(dept_id: int | None, weight: int, reason: str) -> None:
        if dept_id is not None:
            scores.setdefault(dept_id, []).append((weight, reason))

    if case.component_id is not None:
        comp = session.get(Component, case.component_id)
        if comp is not None:
            parties = {"maintainer": comp.maintainer_department_id, "owner": comp.owner_department_id,
                       "authority": comp.authority_department_id}
            by, scope = component_party(session, cat)
            if scope and by in parties and parties[by] is not None:
                add(parties[by], _W_DECIDES, Msg("部件派遣规则（{scope}）：由部件 {code} 的{party}处置", scope=scope,
                                                  code=comp.code, party=_PARTY_LABEL[by]))
            if by != "none":
                add(comp.maintainer_department_id, _W_MAINTAINER, Msg("部件 {code} 的养护单位", code=comp.code))
                add(comp.owner_department_id, _W_OWNER, Msg("部件 {code} 的权属单位", code=comp.code))
                add(comp.authority_department_id, _W_AUTHORITY, Msg("部件 {code} 的主管部门", code=comp.code))
    areas = _areas(session, case.grid_id)
    rules = session.scalars(select(RoutingRule).where(_rule_filter(cat))
                            .where(or_(RoutingRule.admin_area_id.is_(None),
                                       RoutingRule.admin_area_id.in_(list(areas) or [-1])))).all()
    shaped = _rule_areas(session, [r.id for r in rules if r.admin_area_id is None])
    place = _Place(session, case)
    for rule in rules:
        weight, text = _rule_weight(rule, cat)
        area = areas.get(rule.admin_area_id) if rule.admin_area_id else None
        if area is not None:
            level = AreaLevel(area.level) if area.level in AreaLevel._value2member_map_ else ""
            text = Msg("{rule}，{level}「{area}」属地管理", rule=text, level=level, area=area.name)
            weight += {"community": 6, "street": 4, "district": 2}.get(area.level, 0)
        elif rule.id in shaped:
            kind, label, codes, geom = shaped[rule.id]
            if not place.inside(kind, codes, geom, rule.department_id):
                continue
            where = {"grids": Msg("网格组「{label}」", label=label), "polygon": Msg("划定区域「{label}」", label=label),
                     "jurisdiction": Msg("部门辖区")}[kind]
            text = Msg("{rule}，{where}", rule=text, where=where)
            weight += _AREA_BONUS[kind]
        add(rule.department_id, weight - min(rule.priority or 100, 1000) // 100, text)
    add(cat.default_department_id, _W_DEFAULT, Msg("类别「{name}」的默认处置部门", name=cat.name))
    if not scores:
        return []
    depts = {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(list(scores))))}
    ranked = []
    for dept_id, reasons in scores.items():
        dept = depts.get(dept_id)
        if dept is None or not dept.active:
            continue
        reasons.sort(key=lambda r: -r[0])
        # the strongest reason decides; each further independent reason adds a little
        score = reasons[0][0] + 5 * (len(reasons) - 1)
        ranked.append((score, dept, tuple(dict.fromkeys(r[1] for r in reasons))))
    ranked.sort(key=lambda t: (-t[0], t[1].code))
    return [DispatchSuggestion(d.id, d.code, d.name, reasons, i + 1, score)
            for i, (score, d, reasons) in enumerate(ranked)]


def component_party(session: Session, cat: Category) -> tuple[str, str]:
    """(maintainer | owner | authority | none, the rule's scope) deciding a component case of ``cat``
    (scope "" when the administrator stored no component rule: the maintainer ranks first anyway)."""
    import json

    raw = session.scalar(select(ConfigValue.value).where(ConfigValue.name == "component_routing"))
    if not raw:
        return "maintainer", ""
    value = json.loads(raw)
    scopes = [f"category:{cat.kind}:{cat.code}", f"major:{cat.kind}:{cat.major_code}", f"major:*:{cat.major_code}",
              f"kind:{cat.kind}", "all"]
    rules = {r.get("scope"): r.get("by") for r in value.get("rules", []) if isinstance(r, dict)}
    for scope in scopes:
        if scope in rules:
            return str(rules[scope]), scope
    return str(value.get("default", "maintainer")), "default"


def _rule_areas(session: Session, ids: list[int]) -> dict[int, tuple[str, str, frozenset[str], object]]:
    """rule id → (kind, label, grid codes, shapely geometry or None) of the rules drawn or grouped."""
    if not ids:
        return {}
    from geoalchemy2.shape import to_shape

    out = {}
    for row in session.execute(select(routing_areas).where(routing_areas.c.rule_id.in_(ids))):
        codes = frozenset(c for c in (row.grid_codes or "").split(",") if c)
        out[row.rule_id] = (row.kind, row.label, codes, to_shape(row.geom) if row.geom is not None else None)
    return out


class _Place:
    """Where the case is: its grid's code and its point (shapely), read when first asked."""

    def __init__(self, session: Session, case: Case) -> None:
        self.session, self.case = session, case
        self._grid: str | None | bool = False
        self._point: object | None | bool = False

    @property
    def grid(self) -> str | None:
        if self._grid is False:
            self._grid = (self.session.scalar(select(UnitGrid.code).where(UnitGrid.id == self.case.grid_id))
                          if self.case.grid_id is not None else None)
        return self._grid  # type: ignore[return-value]

    @property
    def point(self) -> object | None:
        if self._point is False:
            geom = self.case.geom
            if geom is None:
                self._point = None
            elif hasattr(geom, "desc") and isinstance(getattr(geom, "desc", None), str) and geom.desc.upper().startswith(
                    ("POINT", "SRID")):
                from shapely import wkt

                self._point = wkt.loads(geom.desc.split(";")[-1])
            else:
                from geoalchemy2.shape import to_shape

                self._point = to_shape(geom)
        return self._point

    def inside(self, kind: str, codes: frozenset[str], geom: object | None, department_id: int) -> bool:
        if kind == "grids":
            return self.grid in codes
        point = self.point
        if point is None:
            return False
        if kind == "jurisdiction":
            from geoalchemy2.shape import to_shape

            drawn = self.session.scalar(select(department_areas.c.geom)
                                        .where(department_areas.c.department_id == department_id))
            geom = to_shape(drawn) if drawn is not None else None
        return geom is not None and bool(geom.covers(point))  # type: ignore[attr-defined]


def departments_handling(session: Session, category: Category) -> list[Department]:
    """Active departments that handle ``category`` anywhere (a routing rule or the default)."""
    ids = set(session.scalars(select(RoutingRule.department_id).where(_rule_filter(category))))
    if category.default_department_id is not None:
        ids.add(category.default_department_id)
    if not ids:
        return []
    return list(session.scalars(select(Department).where(Department.id.in_(ids), Department.active.is_(True))
                                .order_by(Department.code)))


def find_department(session: Session, ref: int | str) -> Department | None:
    """A department by code, exact name or id."""
    if isinstance(ref, int):
        return session.get(Department, ref)
    text = str(ref).strip()
    found = session.scalars(select(Department).where(or_(Department.code == text, Department.name == text))
                            .order_by(Department.id).limit(1)).first()
    if found is None and text.isdigit():
        found = session.get(Department, int(text))
    return found


__all__ = ["DispatchSuggestion", "component_party", "departments_handling", "find_department", "suggest"]
