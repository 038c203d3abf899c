"""The administrator's configuration (应用维护, issue 12): departments, categories, routing rules,
time limits and whole settings (evaluation weights, alert rules) as audited, versioned data.

Every editor works the same way: it *plans* the change (the records before and after, checked
as a whole: one clear message and nothing written on any problem), and unless it is a dry run
applies it in one transaction, appending each changed record to the hash-chained configuration
history (``config_changes``, app.store.calendar_years.append_change: who, when, before, after,
why — a reason is required). Nothing is ever deleted: a department or a routing rule is retired
(``active`` false), a time limit is ended (``valid_to``) and replaced by a new version from the
change's effective time (``effective_at``, default now), so timers started earlier keep the rule
they started with (app.domain.limit_versions).

The whole configuration can be exported and imported as one TOML document
(:func:`export_config` / :meth:`ConfigService.import_config`, docs/config.md); importing what
was exported changes nothing.

Running workstations pick a saved change up by the configuration version (the history's last
``seq``): CaseService reloads its calendar and limits before its next operation
(``ServiceCore.refresh_config``), and the desk and the wall hear it within a second through the
configuration feed (app.store.config_feed: NOTIFY gridhall_config from a trigger of migration 0025
on PostGIS, polling on SpatiaLite; app.services.config_live reloads what depends on it).
Only administrators change anything; on PostGIS the administrator's own login writes, so the
database's grants refuse everyone else too (migrations 0010, 0016, 0018).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from app.domain.clock import Clock, SystemClock
from app.domain.definitions import Basis, DepartmentKind, Kind, Level, Role, Stage
from app.domain.messages import Msg, MsgError, Seq, msg_of
from app.domain.statutory import StatutoryYear
from app.domain.text import BIDI_CONTROLS, TextRefused, clean_text
from app.services.actors import Actor
from app.services.core import db_refusals
from app.services.errors import PermissionDenied, ValidationError
from app.store import calendar_years as years_store
from app.store import config_areas as areas_store
from app.store.engine import Store
from app.store.models import (
    AdminArea,
    Case,
    Category,
    ConfigValue,
    Department,
    RoutingRule,
    TimeLimit,
    UnitGrid,
)

DEPARTMENT, CATEGORY, ROUTE, LIMIT, VALUE = "department", "category", "route", "time_limit", "setting"
USER = "user"
ENTITY_LABELS = {DEPARTMENT: Msg("部门"), CATEGORY: Msg("类别"), ROUTE: Msg("派遣规则"), LIMIT: Msg("时限"),
                 VALUE: Msg("设置"), years_store.CALENDAR_ENTITY: Msg("工作日历"), USER: Msg("用户")}
#: Whole settings stored in ``config_values`` (overrides of resources/evaluation.toml, alerts.toml;
#: ``component_routing``: which of a named component's departments decides the route).
SETTINGS = ("evaluation", "alerts", "component_routing")
#: Who of a component's departments decides the route (``none``: the area rules do).
COMPONENT_PARTIES = ("maintainer", "owner", "authority", "none")
CLOSE_EVIDENCE = ("refuse", "override", "none")
#: The longest limit accepted (a year of natural minutes).
MAX_LIMIT_MINUTES = 366 * 1440
MAX_FILE_BYTES = 5_000_000
FORMAT_VERSION = 1
_OPEN_STATES_EXCLUDED = ("closed", "voided")

_D, _C, _R, _L, _A, _V = (Department.__table__, Category.__table__, RoutingRule.__table__, TimeLimit.__table__,
                          AdminArea.__table__, ConfigValue.__table__)
_DA, _RA, _G = areas_store.department_areas, areas_store.routing_areas, UnitGrid.__table__
#: Coordinates of stored areas are kept to the millimetre (the store's CRS is metric).
WKT_DECIMALS = 3
MAX_WKT_CHARS = 2_000_000


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ConfigChange:
    """One record's change: before/after None when created/not kept (nothing is deleted)."""

    entity: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def describe(self) -> Msg:
        """'+ 部门 JD001', '~ 时限 …：minutes 480 → 960' (fields that differ)."""
        label = ENTITY_LABELS.get(self.entity, self.entity)
        if self.before is None:
            return Msg("+ {entity} {key}", entity=label, key=self.key)
        after = self.after or {}
        diffs = [f"{k}: {_show(self.before.get(k))} → {_show(after.get(k))}"
                 for k in sorted(set(self.before) | set(after)) if self.before.get(k) != after.get(k)]
        return Msg("~ {entity} {key}：{diffs}", entity=label, key=self.key, diffs="；".join(diffs))


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value if len(value) <= 40 else value[:39] + "…"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)[:60]


@dataclass
class ConfigResult:
    """What an editor did (or, on a dry run, would do)."""

    changes: list[ConfigChange]
    applied: bool
    seqs: list[int] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)

    def lines(self) -> list[Msg]:
        return [c.describe() for c in self.changes]


# ----------------------------------------------------------------------------- helpers


def _require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied(Msg("只有管理员可以修改配置（当前角色：{role}）", role=actor.role))


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError("reason", Msg("请写明修改原因（--reason）：每项配置变更都记录原因"))
    if len(text) > 1000:
        raise ValidationError("reason", Msg("原因过长（{count:,} 个字符，最多 1000 个）", count=len(text)))
    try:  # a control or bidi character would enter the append-only history unseen
        clean_text("reason", text)
    except TextRefused as exc:
        raise ValidationError("reason", msg_of(exc)) from None
    return text


def _text(value: Any, what: str, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ValidationError(what, Msg("{what} 不能为空", what=what))
        return None
    text = str(value).strip()
    if not text:
        if required:
            raise ValidationError(what, Msg("{what} 不能为空", what=what))
        return None
    if len(text) > limit or any((ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) < 0xA0
                                or ord(ch) in BIDI_CONTROLS for ch in text):
        raise ValidationError(what, Msg("{what} 过长或含控制字符（最多 {limit} 个字符）", what=what, limit=limit))
    return text


def _enum_value(enum: Any, text: Any, what: str) -> str:
    try:
        return enum.parse(str(text or "")).value
    except ValueError:
        allowed = "、".join(m.value for m in enum)
        raise ValidationError(what, Msg("{what}「{value}」无效：应为 {allowed} 之一", what=what,
                                        value=str(text)[:40], allowed=allowed)) from None


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "是"):
        return True
    if text in ("0", "false", "no", "off", "否"):
        return False
    raise ValidationError(what, Msg("{what}「{value}」无效：应为 true 或 false", what=what, value=str(value)[:40]))


def _ts(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat(sep=" ") if value is not None else None


def parse_time(text: str | datetime | date | None, what: str = "effective_at") -> datetime | None:
    """``YYYY-MM-DD[ HH:MM[:SS]]`` (or a datetime/date) as a naive datetime; None stays None."""
    if text is None or isinstance(text, datetime):
        return text.replace(microsecond=0) if isinstance(text, datetime) else None
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day)
    try:
        return datetime.fromisoformat(str(text).strip().replace("T", " ")).replace(microsecond=0, tzinfo=None)
    except ValueError:
        raise ValidationError(what, Msg("{what}「{value}」不是时间：应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM", what=what,
                                        value=str(text)[:40])) from None


# ----------------------------------------------------------------------------- the current state


@dataclass
class _State:
    """The configuration as records, read in one connection."""

    departments: dict[str, dict[str, Any]]
    categories: dict[str, dict[str, Any]]
    routes: dict[str, dict[str, Any]]
    limits: dict[str, dict[str, Any]]  # the latest version of each scope (valid_to null)
    settings: dict[str, Any]
    dept_ids: dict[str, int]
    dept_codes: dict[int, str]
    area_ids: dict[str, int]
    area_codes: dict[int, str]
    category_ids: dict[str, int]  # 'kind:code' → id
    category_keys: dict[int, str]
    grid_codes: frozenset[str] = frozenset()
    retired_grids: frozenset[str] = frozenset()  # split or merged away (base maintenance, 0024)


def category_key(kind: str, code: str) -> str:
    return f"{kind}:{code}"


def route_scope(category: str | None, major: str | None, kind: str | None) -> str:
    if category:
        return f"category:{category}"
    if major:
        return f"major:{kind}:{major}" if kind else f"major:*:{major}"
    return f"kind:{kind}" if kind else "all"


def route_key(record: Mapping[str, Any]) -> str:
    return f"{record['scope']}@{record.get('area') or '*'}>{record['department']}"[:64]


def limit_key(record: Mapping[str, Any]) -> str:
    return f"{record.get('kind') or '*'}:{record.get('code') or '*'}:{record['level']}:{record['stage']}"


def _read_state(conn: Connection, now: datetime) -> _State:
    areas = {r.id: r.code for r in conn.execute(sa.select(_A.c.id, _A.c.code))}
    depts = list(conn.execute(sa.select(_D).order_by(_D.c.code)).mappings())
    dept_codes = {d["id"]: d["code"] for d in depts}
    drawn = {r.department_id: norm_wkt_of(r.geom) for r in conn.execute(sa.select(_DA.c.department_id, _DA.c.geom))}
    departments = {d["code"]: {"code": d["code"], "name": d["name"], "kind": d["kind"], "credit_code": d["credit_code"],
                               "parent": dept_codes.get(d["parent_id"]), "area": areas.get(d["admin_area_id"]),
                               "phone": d["phone"], "active": bool(d["active"]), "jurisdiction": drawn.get(d["id"])}
                   for d in depts}
    cats = list(conn.execute(sa.select(_C).order_by(_C.c.kind, _C.c.code)).mappings())
    category_keys = {c["id"]: category_key(c["kind"], c["code"]) for c in cats}
    categories = {category_key(c["kind"], c["code"]): {
        "kind": c["kind"], "code": c["code"], "name": c["name"], "enabled": bool(c["enabled"]),
        "filing_standard": c["filing_standard"], "closing_standard": c["closing_standard"],
        "close_evidence": c["close_evidence"], "default_department": dept_codes.get(c["default_department_id"])}
        for c in cats}
    routes: dict[str, dict[str, Any]] = {}
    rule_areas = {r.rule_id: r for r in conn.execute(sa.select(_RA))}
    for r in conn.execute(sa.select(_R).order_by(_R.c.id)).mappings():
        record = {"scope": route_scope(category_keys.get(r["category_id"]), r["major_code"], r["kind"]),
                  "area": areas.get(r["admin_area_id"]), "department": dept_codes.get(r["department_id"], "?"),
                  "priority": int(r["priority"] if r["priority"] is not None else 100), "active": bool(r["active"])}
        record.update(_area_record(rule_areas.get(r["id"])))
        routes[route_key(record)] = record
    limits: dict[str, dict[str, Any]] = {}
    for r in conn.execute(sa.select(_L).where(_L.c.valid_to.is_(None)).order_by(_L.c.id)).mappings():
        ck = category_keys.get(r["category_id"]) if r["category_id"] is not None else None
        kind, code = (ck.split(":") if ck else (r["kind"], r["major_code"]))
        record = {"kind": kind or None, "code": code or None, "level": r["level"], "stage": r["stage"],
                  "minutes": int(r["minutes"]), "basis": r["basis"], "condition": r["condition"]}
        limits[limit_key(record)] = record
    settings = {name: json.loads(value) for name, value in conn.execute(sa.select(_V.c.name, _V.c.value))}
    grids = {code: retired is not None for code, retired in conn.execute(sa.select(_G.c.code, _G.c.retired_on))}
    return _State(departments, categories, routes, limits, settings, {v: k for k, v in dept_codes.items()},
                  dept_codes, {v: k for k, v in areas.items()}, areas,
                  {v: k for k, v in category_keys.items()}, category_keys, frozenset(grids),
                  frozenset(code for code, retired in grids.items() if retired))


def _area_record(row: Any) -> dict[str, Any]:
    """A rule's area fields from its routing_areas row (none: an administrative area or everywhere)."""
    if row is None:
        return {}
    if row.kind == "jurisdiction":
        return {"area": "jurisdiction"}
    if row.kind == "grids":
        return {"area": f"grids:{row.label}", "grids": sorted(c for c in (row.grid_codes or "").split(",") if c)}
    return {"area": f"polygon:{row.label}", "polygon": norm_wkt_of(row.geom)}


# ----------------------------------------------------------------------------- areas as text


def norm_wkt_of(geom: Any) -> str | None:
    """A stored geometry (WKB element) as the canonical WKT the records carry."""
    if geom is None:
        return None
    from geoalchemy2.shape import to_shape

    return norm_wkt(to_shape(geom).wkt)


def norm_wkt(text: Any, what: str = "polygon") -> str:
    """``text`` (WKT of a polygon or multipolygon) as a valid MULTIPOLYGON to the millimetre; else
    ValidationError naming what is wrong."""
    import shapely
    from shapely import wkt as shapely_wkt
    from shapely.geometry import MultiPolygon, Polygon

    raw = str(text or "").strip()
    if not raw:
        raise ValidationError(what, Msg("{what} 不能为空", what=what))
    if len(raw) > MAX_WKT_CHARS:
        raise ValidationError(what, Msg("{what} 过大（{count:,} 个字符，最多 {limit:,}）", what=what, count=len(raw),
                                        limit=MAX_WKT_CHARS))
    try:
        geom = shapely_wkt.loads(raw)
    except Exception:  # noqa: BLE001 - shapely's parser raises several kinds
        raise ValidationError(what, Msg("{what} 不是有效的 WKT 多边形", what=what)) from None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]
    parts += [p for g in getattr(geom, "geoms", []) if isinstance(g, MultiPolygon) for p in g.geoms]
    if isinstance(geom, MultiPolygon):
        parts = list(geom.geoms)
    parts = [p for p in parts if p.area > 0]
    if not parts:
        raise ValidationError(what, Msg("{what} 不是面积大于零的多边形", what=what))
    multi = shapely.set_precision(MultiPolygon(parts), 10 ** -WKT_DECIMALS)
    if multi.is_empty:
        raise ValidationError(what, Msg("{what} 不是面积大于零的多边形", what=what))
    if not isinstance(multi, MultiPolygon):
        multi = MultiPolygon([multi]) if isinstance(multi, Polygon) else MultiPolygon(
            [g for g in getattr(multi, "geoms", []) if isinstance(g, Polygon)])
    return shapely_wkt.dumps(shapely.normalize(multi), rounding_precision=WKT_DECIMALS, trim=True)


def _geom_value(text: str | None) -> Any:
    from geoalchemy2.elements import WKTElement

    from app.domain.definitions import STORE_SRID

    return WKTElement(text, srid=STORE_SRID) if text else None


# ----------------------------------------------------------------------------- checks


def _check_department(state: _State, record: dict[str, Any], planned: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    code = _text(record.get("code"), "code", 32, required=True)
    assert code is not None
    out: dict[str, Any] = {"code": code, "name": _text(record.get("name"), "name", 64, required=True),
           "kind": _enum_value(DepartmentKind, record.get("kind"), "kind"),
           "credit_code": _text(record.get("credit_code"), "credit_code", 18),
           "parent": _text(record.get("parent"), "parent", 32), "area": _text(record.get("area"), "area", 12),
           "phone": _text(record.get("phone"), "phone", 32), "active": _bool(record.get("active", True), "active"),
           "jurisdiction": norm_wkt(record["jurisdiction"], "jurisdiction") if record.get("jurisdiction") else None}
    credit = out["credit_code"]
    if credit is not None and (len(credit) != 18 or not credit.isalnum()):
        raise ValidationError("credit_code", Msg("统一社会信用代码「{code}」应为 18 位字母或数字", code=credit))
    parent = out["parent"]
    if parent is not None:
        if parent == code:
            raise ValidationError("parent", Msg("部门 {code} 不能是自己的上级部门", code=code))
        if parent not in state.departments and parent not in planned:
            raise ValidationError("parent", Msg("上级部门 {code} 不存在", code=parent))
        seen, up = {code}, parent
        while up is not None:
            if up in seen:
                raise ValidationError("parent", Msg("部门 {code} 以 {parent} 为上级将使上级关系成环", code=code,
                                                    parent=parent))
            seen.add(up)
            up = (planned.get(up) or state.departments.get(up) or {}).get("parent")
    if out["area"] is not None and out["area"] not in state.area_ids:
        raise ValidationError("area", Msg("辖区 {code} 不是已有的行政区划代码", code=out["area"]))
    return out


def _check_category(state: _State, record: dict[str, Any], departments: Mapping[str, Any]) -> dict[str, Any]:
    kind = _enum_value(Kind, record.get("kind"), "kind")
    code = _text(record.get("code"), "code", 5, required=True)
    key = category_key(kind, str(code))
    current = state.categories.get(key)
    if current is None:
        raise ValidationError("category", Msg("类别 {key} 不在 GB/T 47678.5 类别表中（categories）；只能启用或修改已有类别",
                                              key=key))
    evidence = str(record.get("close_evidence") or current["close_evidence"])
    if evidence not in CLOSE_EVIDENCE:
        raise ValidationError("close_evidence", Msg("结案证据要求「{value}」无效：应为 refuse、override 或 none",
                                                    value=evidence[:20]))
    default = _text(record.get("default_department"), "default_department", 32)
    if default is not None and default not in departments:
        raise ValidationError("default_department", Msg("默认处置部门 {code} 不存在", code=default))
    return {"kind": kind, "code": code, "name": _text(record.get("name"), "name", 64, required=True),
            "enabled": _bool(record.get("enabled", True), "enabled"),
            "filing_standard": _text(record.get("filing_standard"), "filing_standard", 4000),
            "closing_standard": _text(record.get("closing_standard"), "closing_standard", 4000),
            "close_evidence": evidence, "default_department": default}


def _check_route(state: _State, record: dict[str, Any], departments: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    scope = str(record.get("scope") or "").strip()
    parts = scope.split(":")
    ok = (scope == "all" or (parts[0] == "kind" and len(parts) == 2 and parts[1] in {k.value for k in Kind})
          or (parts[0] == "major" and len(parts) == 3 and (parts[1] == "*" or parts[1] in {k.value for k in Kind})
              and len(parts[2]) == 2 and parts[2].isdigit())
          or (parts[0] == "category" and len(parts) == 3 and category_key(parts[1], parts[2]) in state.categories))
    if not ok:
        raise ValidationError("scope", Msg("派遣规则的范围「{scope}」无效：应为 all、kind:KIND、major:KIND:NN 或 "
                                           "category:KIND:CODE（已有类别）", scope=scope[:60]))
    area = _text(record.get("area"), "area", 40)
    dept = _text(record.get("department"), "department", 32, required=True)
    if dept not in departments:
        raise ValidationError("department", Msg("部门 {code} 不存在", code=dept))
    extra: dict[str, Any] = {}
    kind, _, label = (area or "").partition(":")
    if area is None:
        pass
    elif area == "jurisdiction":
        if not departments[str(dept)].get("jurisdiction"):
            raise ValidationError("area", Msg("部门 {code} 还没有辖区：请先在地图上绘制或导入它的辖区", code=dept))
    elif kind in ("grids", "polygon"):
        if not label or len(label) > 32 or not all(ch.isalnum() or ch in "-_." for ch in label):
            raise ValidationError("area", Msg("区域名称「{label}」无效：{kind}: 后写 1–32 个字母、数字或 - _ .",
                                              label=label[:40], kind=kind))
        if kind == "grids":
            grids = record.get("grids")
            if isinstance(grids, str):
                grids = [g for g in grids.replace("，", ",").replace(" ", ",").split(",") if g]
            if not isinstance(grids, list | tuple) or not grids:
                raise ValidationError("grids", Msg("网格组 {label} 须列出至少一个网格代码", label=label))
            unknown = sorted({str(g) for g in grids} - state.grid_codes)
            if unknown:
                raise ValidationError("grids", Msg("网格 {codes} 不存在", codes="、".join(unknown[:10])))
            # a retired grid (split or merged away) gets no new routing; one the rule already had may stay
            had = set((state.routes.get(route_key({**record, "scope": scope, "area": area, "department": dept}))
                       or {}).get("grids") or ())
            retired = sorted(({str(g) for g in grids} & state.retired_grids) - had)
            if retired:
                raise ValidationError("grids", Msg("网格 {codes} 已停用（已拆分或合并）：请改用现行网格",
                                                   codes="、".join(retired[:10])))
            extra["grids"] = sorted({str(g) for g in grids})
        else:
            extra["polygon"] = norm_wkt(record.get("polygon"), "polygon")
    elif area not in state.area_ids:
        raise ValidationError("area", Msg("区域 {code} 不是已有的行政区划代码，也不是 grids:名称、polygon:名称 或 jurisdiction",
                                          code=area))
    active = _bool(record.get("active", True), "active")
    if active and not departments[str(dept)].get("active", True):
        raise ValidationError("department", Msg("部门 {code} 已停用，不能接收新的派遣规则", code=dept))
    priority = record.get("priority", 100)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1000:
        raise ValidationError("priority", Msg("优先级应为 0–1000 的整数（越小越优先），不能是 {value}",
                                              value=str(priority)[:20]))
    return {"scope": scope, "area": area, "department": dept, "priority": priority, "active": active, **extra}


def _check_limit(state: _State, record: dict[str, Any]) -> dict[str, Any]:
    kind = _enum_value(Kind, record["kind"], "kind") if record.get("kind") else None
    code = _text(record.get("code"), "code", 5)
    if code is not None:
        if kind is None:
            raise ValidationError("code", Msg("时限的类别或大类代码 {code} 须同时给出 kind（component 或 event）", code=code))
        if len(code) == 2:
            if not code.isdigit():
                raise ValidationError("code", Msg("大类代码「{code}」应为两位数字", code=code))
        elif category_key(kind, code) not in state.categories:
            raise ValidationError("code", Msg("类别 {key} 不存在", key=category_key(kind, code)))
    minutes = record.get("minutes")
    basis = _enum_value(Basis, record.get("basis"), "basis")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise ValidationError("minutes", Msg("时限须为正整数分钟，不能是 {value}：时限为零的环节会立即超时",
                                             value=str(minutes)[:20]))
    if minutes > MAX_LIMIT_MINUTES:
        raise ValidationError("minutes", Msg("时限 {value} 分钟过长（最多 {limit} 分钟）", value=minutes,
                                             limit=MAX_LIMIT_MINUTES))
    return {"kind": kind, "code": code, "level": _enum_value(Level, record.get("level"), "level"),
            "stage": _enum_value(Stage, record.get("stage"), "stage"), "minutes": minutes, "basis": basis,
            "condition": _text(record.get("condition"), "condition", 1000)}


def _check_setting(name: str, value: Any) -> Any:
    if name not in SETTINGS:
        raise ValidationError("setting", Msg("未知的设置 {name}：可用 {names}", name=name[:32], names="、".join(SETTINGS)))
    if not isinstance(value, dict):
        raise ValidationError("setting", Msg("设置 {name} 应是一张表（TOML 表）", name=name))
    if name == "evaluation":
        from app.domain.indicators import EvaluationRules

        try:
            EvaluationRules.parse(dumps_toml(value).encode("utf-8"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError("setting", Msg("考核权重设置无效：{error}", error=str(exc)[:200])) from None
    elif name == "component_routing":
        _check_component_routing(value)
    else:
        for layer, table in value.items():
            if layer not in ("default", "roles") or not isinstance(table, dict):
                raise ValidationError("setting", Msg("提醒规则设置只有 [default] 和 [roles.<角色>] 两种表"))
            for where, rules in ([("default", table)] if layer == "default" else
                                 [(f"roles.{r}", t) for r, t in table.items()]):
                if not isinstance(rules, dict):
                    raise ValidationError("setting", Msg("提醒规则 {where} 应是一张表", where=where))
                if layer == "roles" and where[6:] not in {r.value for r in Role}:
                    raise ValidationError("setting", Msg("提醒规则 {where}：没有这个角色", where=where))
                _check_alert_layer(where, rules)
    return value


#: The alert kinds and keys of a rules table (as app.views.alerts.AlertRules reads them).
ALERT_KINDS = ("red", "task", "yellow", "new")
ALERT_KEYS = ("kinds", "categories", "levels", "sound", "interval_s")


def _check_alert_layer(where: str, rules: Mapping[str, Any]) -> None:
    for key, value in rules.items():
        if key not in ALERT_KEYS:
            raise ValidationError("setting", Msg("提醒规则 {where} 有未知的设置 {key}", where=where, key=str(key)[:32]))
        if key == "interval_s":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 600:
                raise ValidationError("setting", Msg("提醒规则 {where} 的 interval_s 应是 1–600 秒", where=where))
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError("setting", Msg("提醒规则 {where} 的 {key} 应是文字列表", where=where, key=key))
        allowed = {"kinds": ALERT_KINDS, "sound": ALERT_KINDS, "levels": tuple(m.value for m in Level)}.get(key)
        wrong = [v for v in value if allowed is not None and v not in allowed]
        if wrong:
            raise ValidationError("setting", Msg("提醒规则 {where} 的 {key} 不认识：{values}", where=where, key=key,
                                                 values="、".join(wrong)[:80]))


def _check_component_routing(value: Mapping[str, Any]) -> None:
    """``{default = "maintainer", rules = [{scope = "major:component:01", by = "owner"}]}``."""
    for key in value:
        if key not in ("default", "rules"):
            raise ValidationError("setting", Msg("部件派遣规则只有 default 和 rules 两项，没有 {key}", key=str(key)[:32]))
    if value.get("default", "maintainer") not in COMPONENT_PARTIES:
        raise ValidationError("setting", Msg("部件派遣规则的 default 应为 {parties} 之一", parties="、".join(COMPONENT_PARTIES)))
    rules = value.get("rules", [])
    if not isinstance(rules, list):
        raise ValidationError("setting", Msg("部件派遣规则的 rules 应是表数组"))
    seen = set()
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) != {"scope", "by"} or rule["by"] not in COMPONENT_PARTIES:
            raise ValidationError("setting", Msg("部件派遣规则的每一条应为 {{scope = …, by = {parties}}}",
                                                 parties="|".join(COMPONENT_PARTIES)))
        scope = str(rule["scope"])
        parts = scope.split(":")
        if not (scope == "all" or (parts[0] == "kind" and len(parts) == 2) or (parts[0] in ("major", "category")
                                                                             and len(parts) == 3)):
            raise ValidationError("setting", Msg("部件派遣规则的范围「{scope}」无效", scope=scope[:60]))
        if scope in seen:
            raise ValidationError("setting", Msg("部件派遣规则的范围 {scope} 出现了两次", scope=scope[:60]))
        seen.add(scope)


def overlapping_routes(routes: Mapping[str, Mapping[str, Any]],
                       departments: Mapping[str, Mapping[str, Any]] | None = None) -> list[Msg]:
    """Active rules of the same scope and priority whose areas overlap and that name different
    departments: the same area, grid sets sharing a grid, or drawn polygons (and jurisdictions)
    sharing ground."""
    groups: dict[tuple[str, str | None, int], list[str]] = {}
    for record in routes.values():
        if record["active"]:
            groups.setdefault((record["scope"], record["area"], record["priority"]), []).append(record["department"])
    found = [Msg("派遣规则重叠：{scope}（区域 {area}，优先级 {priority}）同时派往 {departments}；请调整优先级或停用其中之一",
                 scope=scope, area=area or Msg("全部"), priority=priority, departments="、".join(sorted(depts)))
             for (scope, area, priority), depts in sorted(groups.items(), key=lambda kv: str(kv[0]))
             if len(set(depts)) > 1]
    shaped = [r for r in routes.values() if r["active"] and (r.get("grids") or r.get("polygon")
                                                            or r.get("area") == "jurisdiction")]
    for i, a in enumerate(shaped):
        for b in shaped[i + 1:]:
            if (a["scope"], a["priority"]) != (b["scope"], b["priority"]) or a["department"] == b["department"] \
                    or a["area"] == b["area"]:
                continue
            if _areas_overlap(a, b, departments or {}):
                found.append(Msg("派遣规则重叠：{scope}（优先级 {priority}）的区域 {a} 与 {b} 有重叠，分别派往 {da}、{db}；"
                                 "请调整优先级或区域", scope=a["scope"], priority=a["priority"], a=a["area"],
                                 b=b["area"], da=a["department"], db=b["department"]))
    return found


def _footprint(rule: Mapping[str, Any], departments: Mapping[str, Mapping[str, Any]]) -> Any:
    from shapely import wkt as shapely_wkt

    if rule.get("grids"):
        return set(rule["grids"])
    text = rule.get("polygon") or (departments.get(rule["department"], {}).get("jurisdiction")
                                   if rule.get("area") == "jurisdiction" else None)
    return shapely_wkt.loads(text) if text else None


def _areas_overlap(a: Mapping[str, Any], b: Mapping[str, Any], departments: Mapping[str, Mapping[str, Any]]) -> bool:
    fa, fb = _footprint(a, departments), _footprint(b, departments)
    if fa is None or fb is None:
        return False
    if isinstance(fa, set) or isinstance(fb, set):
        return isinstance(fa, set) and isinstance(fb, set) and bool(fa & fb)
    return bool(fa.intersection(fb).area > 1.0)  # more than a square metre of shared ground


def unrouted_categories(categories: Mapping[str, Mapping[str, Any]],
                        routes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Enabled categories that no active rule covers and that have no default department."""
    scopes = {r["scope"] for r in routes.values() if r["active"]}
    if "all" in scopes:
        return []
    missing = []
    for key, c in sorted(categories.items()):
        kind, code = c["kind"], c["code"]
        if not c["enabled"] or c.get("default_department"):
            continue
        if ({f"category:{key}", f"major:{kind}:{code[:2]}", f"major:*:{code[:2]}", f"kind:{kind}"} & scopes):
            continue
        missing.append(key)
    return missing


def _unrouted_msg(keys: list[str]) -> Msg:
    shown = "、".join(keys[:10]) + ("…" if len(keys) > 10 else "")
    return Msg("{count} 个启用的类别没有任何派遣规则或默认处置部门：{keys}", count=len(keys), keys=shown)


# ----------------------------------------------------------------------------- the service


class ConfigService:
    """The administrator's editors over ``store`` (see the module's docstring)."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    def _now(self) -> datetime:
        return self.clock.now().replace(microsecond=0)

    def state(self) -> _State:
        with self.store.engine.connect() as conn:
            return _read_state(conn, self._now())

    # -- reading ---------------------------------------------------------------------------
    def departments(self) -> list[dict[str, Any]]:
        return list(self.state().departments.values())

    def categories(self, *, enabled_only: bool = False) -> list[dict[str, Any]]:
        return [c for c in self.state().categories.values() if c["enabled"] or not enabled_only]

    def routes(self) -> list[dict[str, Any]]:
        return list(self.state().routes.values())

    def limits(self, at: datetime | None = None) -> list[dict[str, Any]]:
        """The limit rows in force at ``at`` (default now), each with its period."""
        when = at or self._now()
        state = self.state()
        rows = []
        with self.store.engine.connect() as conn:
            for r in conn.execute(sa.select(_L).order_by(_L.c.id)).mappings():
                if (r["valid_from"] is None or r["valid_from"] <= when) and (r["valid_to"] is None or when < r["valid_to"]):
                    ck = state.category_keys.get(r["category_id"]) if r["category_id"] is not None else None
                    kind, code = (ck.split(":") if ck else (r["kind"], r["major_code"]))
                    rows.append({"kind": kind, "code": code, "level": r["level"], "stage": r["stage"],
                                 "minutes": r["minutes"], "basis": r["basis"], "condition": r["condition"],
                                 "valid_from": r["valid_from"], "valid_to": r["valid_to"]})
        return rows

    def history(self, entity: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            return years_store.changes(conn, entity, key)

    def problems(self) -> list[Msg]:
        """What validation finds in the stored configuration (overlaps, unrouted categories)."""
        state = self.state()
        found = overlapping_routes(state.routes, state.departments)
        missing = unrouted_categories(state.categories, state.routes)
        if missing:
            found.append(_unrouted_msg(missing))
        return found

    # -- editors ---------------------------------------------------------------------------
    def set_department(self, actor: Actor, code: str, *, reason: str | None, dry_run: bool = False,
                       **fields: Any) -> ConfigResult:
        """Add a department or change the fields given (name, kind, credit_code, parent, area, phone, active)."""
        def plan(state: _State) -> list[ConfigChange]:
            before = state.departments.get(code)
            base = dict(before) if before else {"code": code, "kind": DepartmentKind.BUREAU.value, "active": True}
            base.update({k: v for k, v in fields.items() if v is not None})
            after = _check_department(state, base, {})
            return [ConfigChange(DEPARTMENT, code, before, after)] if after != before else []
        return self._run(actor, plan, reason, dry_run)

    def check_departments(self, records: Mapping[str, Mapping[str, Any]],
                          state: _State | None = None) -> dict[str, dict[str, Any] | ValidationError]:
        """Each record (by code) checked as the editors check a department, the others given as planned
        parents: the normalised record, or the ValidationError saying why not. Nothing is written."""
        state = state if state is not None else self.state()
        planned = {code: dict(r) for code, r in records.items()}
        out: dict[str, dict[str, Any] | ValidationError] = {}
        for code, record in planned.items():
            try:
                out[code] = _check_department(state, record, planned)
            except ValidationError as exc:
                out[code] = exc
        return out

    def merge_departments(self, actor: Actor, records: Mapping[str, Mapping[str, Any]], *, reason: str | None,
                          dry_run: bool = False) -> ConfigResult:
        """Add or change the departments given (by code) as ONE audited change set, parents first; the
        departments the records leave out stay as they are (nothing is retired). A record equal to the
        stored one changes nothing; the first invalid record refuses the whole set."""
        def plan(state: _State) -> list[ConfigChange]:
            after_of: dict[str, dict[str, Any]] = {}
            for code, result in self.check_departments(records, state).items():
                if isinstance(result, ValidationError):
                    raise result
                after_of[code] = result
            merged = {**state.departments, **after_of}

            def depth(start: str) -> int:
                seen: set[str] = set()
                code: str | None = start
                while code is not None and code in merged and code not in seen:
                    seen.add(code)
                    code = merged[code].get("parent")
                return len(seen)
            changes = [ConfigChange(DEPARTMENT, code, state.departments.get(code), after)
                       for code, after in after_of.items() if after != state.departments.get(code)]
            changes.sort(key=lambda c: depth(c.key))
            return changes
        return self._run(actor, plan, reason, dry_run)

    def retire_department(self, actor: Actor, code: str, *, reason: str | None, dry_run: bool = False) -> ConfigResult:
        """Retire a department (never deleted): no new dispatches or routes; its cases stay."""
        def plan(state: _State) -> list[ConfigChange]:
            before = state.departments.get(code)
            if before is None:
                raise ValidationError("department", Msg("部门 {code} 不存在", code=code))
            return [] if not before["active"] else [ConfigChange(DEPARTMENT, code, before, {**before, "active": False})]
        result = self._run(actor, plan, reason, dry_run)
        open_cases = self._open_cases(code)
        if open_cases:
            result.warnings.append(Msg("部门 {code} 仍有 {count} 件未办结的案卷：部门只能停用，不能删除；这些案卷仍由它办理或改派",
                                       code=code, count=open_cases))
        return result

    def delete_department(self, actor: Actor, code: str) -> None:
        """Always refused: departments are retired, never deleted (their cases name them)."""
        _require_admin(actor)
        count = self._open_cases(code)
        if count:
            raise ValidationError("department", Msg("部门 {code} 仍有 {count} 件未办结的案卷，不能删除，只能停用（retire）",
                                                    code=code, count=count))
        raise ValidationError("department", Msg("部门不能删除（历史案卷引用它），只能停用（retire）"))

    def _open_cases(self, code: str) -> int:
        with self.store.engine.connect() as conn:
            dept_id = conn.execute(sa.select(_D.c.id).where(_D.c.code == code)).scalar()
            if dept_id is None:
                return 0
            cases = Case.__table__
            return int(conn.execute(sa.select(sa.func.count()).select_from(cases).where(
                cases.c.department_id == dept_id, cases.c.state.not_in(_OPEN_STATES_EXCLUDED))).scalar_one())

    def set_category(self, actor: Actor, kind: str, code: str, *, reason: str | None, dry_run: bool = False,
                     **fields: Any) -> ConfigResult:
        """Change a category the city uses: enabled, name, filing/closing standards, closing evidence,
        default department (``default_department=""`` clears it)."""
        def plan(state: _State) -> list[ConfigChange]:
            key = category_key(_enum_value(Kind, kind, "kind"), code)
            before = state.categories.get(key)
            if before is None:
                raise ValidationError("category", Msg("类别 {key} 不存在", key=key))
            base = dict(before)
            base.update({k: v for k, v in fields.items() if v is not None})
            after = _check_category(state, base, state.departments)
            return [ConfigChange(CATEGORY, key, before, after)] if after != before else []
        return self._run(actor, plan, reason, dry_run, warn=True)

    def set_route(self, actor: Actor, *, scope: str, department: str, area: str | None = None, priority: int = 100,
                  active: bool = True, grids: list[str] | str | None = None, polygon: str | None = None,
                  reason: str | None, dry_run: bool = False) -> ConfigResult:
        """Add (or change the priority / area / re-activate) the rule ``scope`` in ``area`` → ``department``.

        ``area``: an administrative area's code (street, community, district), ``grids:NAME`` with
        ``grids`` (grid codes), ``polygon:NAME`` with ``polygon`` (WKT in the store's CRS) or
        ``jurisdiction`` (the department's own jurisdiction); none: everywhere."""
        def plan(state: _State) -> list[ConfigChange]:
            record: dict[str, Any] = {"scope": scope, "area": area, "department": department, "priority": priority,
                                      "active": active}
            if grids is not None:
                record["grids"] = grids
            if polygon is not None:
                record["polygon"] = polygon
            after = _check_route(state, record, state.departments)
            key = route_key(after)
            before = state.routes.get(key)
            routes = {**state.routes, key: after}
            overlaps = overlapping_routes(routes, state.departments)
            if overlaps and after["active"]:
                raise ValidationError("route", overlaps[0])
            return [ConfigChange(ROUTE, key, before, after)] if after != before else []
        return self._run(actor, plan, reason, dry_run, warn=True)

    def set_jurisdiction(self, actor: Actor, code: str, polygon: str | None, *, reason: str | None,
                         dry_run: bool = False) -> ConfigResult:
        """Set (WKT in the store's CRS) or clear (None/"") a department's jurisdiction; refused while an
        active rule routes by it when clearing."""
        def plan(state: _State) -> list[ConfigChange]:
            before = state.departments.get(code)
            if before is None:
                raise ValidationError("department", Msg("部门 {code} 不存在", code=code))
            after = _check_department(state, {**before, "jurisdiction": polygon or None}, {})
            if after["jurisdiction"] is None and any(r["active"] and r["area"] == "jurisdiction"
                                                     and r["department"] == code for r in state.routes.values()):
                raise ValidationError("jurisdiction", Msg("部门 {code} 的辖区仍被派遣规则使用：请先停用按辖区派往它的规则",
                                                          code=code))
            return [ConfigChange(DEPARTMENT, code, before, after)] if after != before else []
        return self._run(actor, plan, reason, dry_run, warn=True)

    def import_jurisdiction(self, actor: Actor, code: str, path: str | Path, *, layer: str | None = None,
                            where: str | None = None, reason: str | None, dry_run: bool = False) -> ConfigResult:
        """A department's jurisdiction from any OGR file (its polygons, optionally ``where`` filtered,
        merged and transformed to the store's CRS)."""
        from app.services.config_areas import read_polygons

        return self.set_jurisdiction(actor, code, read_polygons(path, layer=layer, where=where), reason=reason,
                                     dry_run=dry_run)

    def set_component_rule(self, actor: Actor, *, scope: str | None = None, by: str, reason: str | None,
                           dry_run: bool = False) -> ConfigResult:
        """Which of a named component's departments decides the route: for ``scope`` (as routing rules
        name it; none: the default for every component) ``by`` maintainer | owner | authority | none."""
        state = self.state()
        current = dict(state.settings.get("component_routing") or {"default": "maintainer", "rules": []})
        rules = [dict(r) for r in current.get("rules", []) if r.get("scope") != scope]
        if scope is None:
            current["default"] = by
        else:
            rules.append({"scope": scope, "by": by})
        current["rules"] = sorted(rules, key=lambda r: r["scope"])
        return self.set_setting(actor, "component_routing", current, reason=reason, dry_run=dry_run)

    def retire_route(self, actor: Actor, key: str, *, reason: str | None, dry_run: bool = False) -> ConfigResult:
        """Retire a routing rule (``key`` as listed: SCOPE@AREA>DEPARTMENT); refused when it would leave an
        enabled category without any route."""
        def plan(state: _State) -> list[ConfigChange]:
            before = state.routes.get(key)
            if before is None:
                raise ValidationError("route", Msg("没有派遣规则 {key}（gridhall admin route list 列出全部）", key=key))
            if not before["active"]:
                return []
            after = {**before, "active": False}
            lost = set(unrouted_categories(state.categories, {**state.routes, key: after})) - set(
                unrouted_categories(state.categories, state.routes))
            if lost:
                raise ValidationError("route", Msg("停用该规则后，启用的类别 {keys} 将没有任何派遣规则；请先为它们添加规则或默认处置部门",
                                                   keys="、".join(sorted(lost)[:10])))
            return [ConfigChange(ROUTE, key, before, after)]
        return self._run(actor, plan, reason, dry_run)

    def set_limit(self, actor: Actor, *, kind: str | None, code: str | None, level: str, stage: str, minutes: int,
                  basis: str, condition: str | None = None, effective_at: datetime | str | None = None,
                  reason: str | None, dry_run: bool = False) -> ConfigResult:
        """Set the limit of a scope from ``effective_at`` (default now); timers started before keep theirs."""
        def plan(state: _State) -> list[ConfigChange]:
            after = _check_limit(state, {"kind": kind, "code": code, "level": level, "stage": stage,
                                         "minutes": minutes, "basis": basis, "condition": condition})
            key = limit_key(after)
            before = state.limits.get(key)
            return [ConfigChange(LIMIT, key, before, after)] if after != before else []
        return self._run(actor, plan, reason, dry_run, effective_at=effective_at)

    def end_limit(self, actor: Actor, *, kind: str | None, code: str | None, level: str, stage: str,
                  effective_at: datetime | str | None = None, reason: str | None,
                  dry_run: bool = False) -> ConfigResult:
        """End a scope's limit from ``effective_at``: the broader rule (major, kind, global) applies after."""
        def plan(state: _State) -> list[ConfigChange]:
            probe = {"kind": _enum_value(Kind, kind, "kind") if kind else None, "code": code or None,
                     "level": _enum_value(Level, level, "level"), "stage": _enum_value(Stage, stage, "stage")}
            key = limit_key(probe)
            before = state.limits.get(key)
            if before is None:
                raise ValidationError("limit", Msg("没有时限 {key}", key=key))
            return [ConfigChange(LIMIT, key, before, None)]
        return self._run(actor, plan, reason, dry_run, effective_at=effective_at)

    def set_setting(self, actor: Actor, name: str, value: Mapping[str, Any], *, reason: str | None,
                    dry_run: bool = False) -> ConfigResult:
        """Store a whole setting (``evaluation`` weights/bands/grades, ``alerts`` rules) as an override."""
        def plan(state: _State) -> list[ConfigChange]:
            after = _check_setting(name, json.loads(json.dumps(dict(value), default=str)))
            before = state.settings.get(name)
            return [ConfigChange(VALUE, name, before, after)] if after != before else []
        return self._run(actor, plan, reason, dry_run)

    # -- explain ---------------------------------------------------------------------------
    def explain_route(self, category: str, *, x: float | None = None, y: float | None = None,
                      lon: float | None = None, lat: float | None = None, component: str | None = None) -> Msg:
        """'这一类别在这一点派往 …，因为 …' (the routing the dispatch suggestions use)."""
        from app.domain.taxonomy import Taxonomy
        from app.services.location import LocationInput, resolve
        from app.services.routing import suggest

        kind_text, _, code = category.partition(":")
        if not code:
            raise ValidationError("category", Msg("类别应写成 KIND:CODE，例如 event:01001"))
        kind = _enum_value(Kind, kind_text, "kind")
        with self.store.session() as session:
            cat = session.scalars(sa.select(Category).where(Category.kind == kind, Category.code == code)).first()
            if cat is None:
                raise ValidationError("category", Msg("类别 {key} 不存在", key=category_key(kind, code)))
            where = resolve(session, LocationInput(x=x, y=y, lon=lon, lat=lat, component_code=component), Taxonomy.load())
            probe = Case(category_id=cat.id, grid_id=where.grid_id, component_id=where.component_id,
                         geom=_geom_value(f"POINT({where.x} {where.y})"))
            ranked = suggest(session, probe)
        place = Msg("网格 {grid}（{community}，{street}）", grid=where.grid_code, community=where.community_name or "—",
                    street=where.street_name or "—")
        if not ranked:
            return Msg("「{name}」（{key}）在{place}没有任何派遣规则或默认处置部门：派遣员只能手工选择部门",
                       name=cat.name, key=category_key(kind, code), place=place)
        best = ranked[0]
        text = Msg("「{name}」（{key}）在{place}派往 {dept}（{code}），因为：{reasons}", name=cat.name,
                   key=category_key(kind, code), place=place, dept=best.name, code=best.code,
                   reasons=Seq(list(best.reasons), "；", "; "))
        if len(ranked) > 1:
            others = Seq([Msg("{name}（{code}）", name=s.name, code=s.code) for s in ranked[1:4]], "、", ", ")
            text = Msg("{text}；其次：{others}", text=text, others=others)
        return text

    # -- import / export -------------------------------------------------------------------
    def export_document(self) -> dict[str, Any]:
        """The whole configuration as TOML-able data (docs/config.md)."""
        with self.store.engine.connect() as conn:
            state = _read_state(conn, self._now())
            years = years_store.read_years(conn) if years_store.has_calendar_years(conn) else {}
            version = years_store.config_version(conn) if years else 0
        doc: dict[str, Any] = {"format": FORMAT_VERSION, "config_version": version,
                               "exported_at": _ts(self._now())}
        doc["departments"] = [_strip(d) for d in state.departments.values()]
        doc["categories"] = [_strip(c) for c in state.categories.values()]
        doc["routes"] = [_strip(r) for r in state.routes.values()]
        doc["limits"] = [_strip(v) for v in state.limits.values()]
        doc["calendar"] = [_strip(y.as_record()) for _, y in sorted(years.items())]
        doc["settings"] = state.settings
        return doc

    def import_config(self, actor: Actor, path: str | Path, *, reason: str | None = None, dry_run: bool = False,
                      effective_at: datetime | str | None = None) -> ConfigResult:
        """Make the stored configuration what the file says, in one transaction (a dry run: the diff only).

        Records the file leaves out are kept (a department, category or calendar year is never
        removed); routes and limits the file leaves out are retired / ended, since the file lists
        all of them.
        """
        doc = read_document(path)
        reason = reason or Msg("导入配置文件 {name}", name=Path(path).name[-80:]).text()

        def plan(state: _State) -> list[ConfigChange]:
            return _plan_document(state, doc)
        return self._run(actor, plan, reason, dry_run, effective_at=effective_at, warn=True,
                         years=_years_of(doc))

    # -- the one way to write --------------------------------------------------------------
    def _run(self, actor: Actor, plan: Callable[[_State], list[ConfigChange]], reason: str | None, dry_run: bool, *,
             effective_at: datetime | str | None = None, warn: bool = False,
             years: list[StatutoryYear] | None = None) -> ConfigResult:
        _require_admin(actor)
        why = _reason(reason)
        now = self._now()
        eff = parse_time(effective_at) or now
        if eff < now:
            raise ValidationError("effective_at", Msg("生效时间 {at} 早于现在：配置变更只能从现在或将来生效（已发生的计时不变）",
                                                      at=_ts(eff)))
        # a refusal by the database (PostGIS: privileges, a concurrent save taking the same history
        # link) becomes one clear message; nothing is written
        with db_refusals(), self.store.engine.begin() as conn:
            state = _read_state(conn, now)
            changes = plan(state)
            year_changes = []
            for year in years or []:
                try:
                    year.check()
                except MsgError as exc:
                    raise ValidationError("calendar", exc.msg) from None
                stored = years_store.read_years(conn, only=year.year).get(year.year)
                before = stored.as_record() if stored is not None else None
                if before != year.as_record():
                    year_changes.append(ConfigChange(years_store.CALENDAR_ENTITY, str(year.year), before,
                                                     year.as_record()))
            result = ConfigResult(changes + year_changes, applied=not dry_run)
            if warn:
                planned = _apply_to_state(state, changes)
                result.warnings.extend(overlapping_routes(planned.routes, planned.departments))
                missing = unrouted_categories(planned.categories, planned.routes)
                if missing:
                    result.warnings.append(_unrouted_msg(missing))
            if any(c.entity == ROUTE for c in changes):
                planned_state = _apply_to_state(state, changes)
                overlaps = overlapping_routes(planned_state.routes, planned_state.departments)
                if overlaps:
                    raise ValidationError("route", overlaps[0])
            if dry_run or not result.changes:
                conn.rollback()
                result.applied = False
                return result
            for change in changes:
                _write(conn, state, change, eff, now)
                at = now
                after = change.after
                if change.entity == LIMIT:  # the history says from when the new rule is in force
                    after = {**(change.after or {}), "valid_from": _ts(eff)} if change.after is not None else None
                    before = {**(change.before or {})} if change.before is not None else None
                    if before is not None:
                        before["valid_to"] = _ts(eff)
                    result.seqs.append(years_store.append_change(conn, entity=change.entity, key=change.key,
                                                                 before=before, after=after, actor=actor.username,
                                                                 at=at, reason=why))
                    continue
                result.seqs.append(years_store.append_change(conn, entity=change.entity, key=change.key,
                                                             before=change.before, after=after,
                                                             actor=actor.username, at=at, reason=why))
            for year in years or []:
                seq = years_store.write_year(conn, year, actor=actor.username, at=now, reason=why)
                if seq is not None:
                    result.seqs.append(seq)
        result.applied = True
        return result


def _strip(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without its null fields (TOML has no null)."""
    return {k: v for k, v in record.items() if v is not None}


def _apply_to_state(state: _State, changes: Iterable[ConfigChange]) -> _State:
    routes, categories, departments = dict(state.routes), dict(state.categories), dict(state.departments)
    for c in changes:
        if c.entity == ROUTE and c.after is not None:
            routes[c.key] = c.after
        elif c.entity == CATEGORY and c.after is not None:
            categories[c.key] = c.after
        elif c.entity == DEPARTMENT and c.after is not None:
            departments[c.key] = c.after
    return _State(departments, categories, routes, state.limits, state.settings, state.dept_ids,
                  state.dept_codes, state.area_ids, state.area_codes, state.category_ids, state.category_keys,
                  state.grid_codes, state.retired_grids)


# ----------------------------------------------------------------------------- writing rows


def _write(conn: Connection, state: _State, change: ConfigChange, eff: datetime, now: datetime) -> None:
    after = change.after
    if change.entity == DEPARTMENT:
        assert after is not None
        values = {"name": after["name"], "kind": after["kind"], "credit_code": after["credit_code"],
                  "parent_id": _dept_id(conn, after["parent"]), "admin_area_id": state.area_ids.get(after["area"] or ""),
                  "phone": after["phone"], "active": after["active"]}
        if change.before is None:
            conn.execute(_D.insert().values(code=after["code"], **values))
        else:
            changed = {k: v for k, v in values.items() if _dept_old(state, change.before, k) != v}
            if changed:
                conn.execute(_D.update().where(_D.c.code == after["code"]).values(**changed))
        if after.get("jurisdiction") != (change.before or {}).get("jurisdiction"):
            dept_id = _dept_id(conn, after["code"])
            geom = _geom_value(after.get("jurisdiction"))
            if conn.execute(sa.select(_DA.c.department_id).where(_DA.c.department_id == dept_id)).first():
                conn.execute(_DA.update().where(_DA.c.department_id == dept_id).values(geom=geom))
            else:
                conn.execute(_DA.insert().values(department_id=dept_id, geom=geom))
    elif change.entity == CATEGORY:
        assert after is not None and change.before is not None
        values = {"name": after["name"], "enabled": after["enabled"], "filing_standard": after["filing_standard"],
                  "closing_standard": after["closing_standard"], "close_evidence": after["close_evidence"],
                  "default_department_id": _dept_id(conn, after["default_department"])}
        old = {**change.before, "default_department_id": _dept_id(conn, change.before["default_department"])}
        changed = {k: v for k, v in values.items() if old.get(k) != v}
        conn.execute(_C.update().where(_C.c.kind == after["kind"], _C.c.code == after["code"]).values(**changed))
    elif change.entity == ROUTE:
        assert after is not None
        if change.before is None:
            scope = after["scope"].split(":")
            category_id = state.category_ids.get(f"{scope[1]}:{scope[2]}") if scope[0] == "category" else None
            major = scope[2] if scope[0] == "major" else None
            kind = (scope[1] if scope[0] in ("kind", "major") and scope[1] != "*" else None)
            inserted = conn.execute(_R.insert().values(category_id=category_id, major_code=major, kind=kind,
                                                       admin_area_id=state.area_ids.get(after["area"] or ""),
                                                       department_id=_dept_id(conn, after["department"]),
                                                       priority=after["priority"], active=after["active"]))
            row_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            if _area_kind(after):
                conn.execute(_RA.insert().values(rule_id=row_id, **_area_values(after)))
        else:
            row_id = _route_id(conn, state, change.before)
            conn.execute(_R.update().where(_R.c.id == row_id).values(priority=after["priority"],
                                                                      active=after["active"]))
            if _area_kind(after) and (after.get("grids"), after.get("polygon")) != (
                    change.before.get("grids"), change.before.get("polygon")):
                conn.execute(_RA.update().where(_RA.c.rule_id == row_id).values(**_area_values(after)))
    elif change.entity == LIMIT:
        _write_limit(conn, state, change, eff)
    elif change.entity == VALUE:
        value = json.dumps(after, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        if change.before is None:
            conn.execute(_V.insert().values(name=change.key, value=value, updated_at=now, updated_by="-"))
        else:
            conn.execute(_V.update().where(_V.c.name == change.key).values(value=value, updated_at=now))


def _area_kind(record: Mapping[str, Any]) -> str | None:
    area = record.get("area") or ""
    return area if area == "jurisdiction" else (area.split(":")[0] if area.split(":")[0] in ("grids", "polygon")
                                                  else None)


def _area_values(record: Mapping[str, Any]) -> dict[str, Any]:
    kind = _area_kind(record)
    label = "jurisdiction" if kind == "jurisdiction" else str(record["area"]).partition(":")[2]
    return {"kind": kind, "label": label, "grid_codes": ",".join(record["grids"]) if record.get("grids") else None,
            "geom": _geom_value(record.get("polygon"))}


def _dept_old(state: _State, before: Mapping[str, Any], column: str) -> Any:
    mapping = {"parent_id": lambda: state.dept_ids.get(before.get("parent") or ""),
               "admin_area_id": lambda: state.area_ids.get(before.get("area") or "")}
    return mapping[column]() if column in mapping else before.get(column)


def _dept_id(conn: Connection, code: str | None) -> int | None:
    if not code:
        return None
    return conn.execute(sa.select(_D.c.id).where(_D.c.code == code)).scalar()


def _route_id(conn: Connection, state: _State, record: Mapping[str, Any]) -> int:
    rule_areas = {r.rule_id: r for r in conn.execute(sa.select(_RA.c.rule_id, _RA.c.kind, _RA.c.label))}
    for r in conn.execute(sa.select(_R).order_by(_R.c.id)).mappings():
        rec = {"scope": route_scope(state.category_keys.get(r["category_id"]), r["major_code"], r["kind"]),
               "area": state.area_codes.get(r["admin_area_id"]), "department": state.dept_codes.get(r["department_id"], "?")}
        area = rule_areas.get(r["id"])
        if area is not None:
            rec["area"] = "jurisdiction" if area.kind == "jurisdiction" else f"{area.kind}:{area.label}"
        if route_key({**rec}) == route_key(record):
            return int(r["id"])
    raise AssertionError(record)


def _limit_scope(state: _State, record: Mapping[str, Any]) -> list[Any]:
    kind, code = record.get("kind"), record.get("code")
    if code and len(code) == 5:
        return [_L.c.category_id == state.category_ids[category_key(str(kind), code)]]
    clauses = [_L.c.category_id.is_(None),
               _L.c.kind == kind if kind else sa.or_(_L.c.kind.is_(None), _L.c.kind == ""),
               _L.c.major_code == code if code else sa.or_(_L.c.major_code.is_(None), _L.c.major_code == "")]
    return clauses


def _write_limit(conn: Connection, state: _State, change: ConfigChange, eff: datetime) -> None:
    record = change.after or change.before
    assert record is not None
    scope = [*_limit_scope(state, record), _L.c.level == record["level"], _L.c.stage == record["stage"]]
    rows = list(conn.execute(sa.select(_L.c.id, _L.c.valid_from, _L.c.valid_to).where(*scope)).mappings())
    later = [r for r in rows if r["valid_from"] is not None and r["valid_from"] > eff]
    if later:
        raise ValidationError("effective_at", Msg("时限 {key} 已安排自 {at} 起的新规定；生效时间不能早于它（{eff}）",
                                                  key=change.key, at=_ts(later[0]["valid_from"]), eff=_ts(eff)))
    current = [r for r in rows if (r["valid_from"] is None or r["valid_from"] <= eff)
               and (r["valid_to"] is None or eff < r["valid_to"])]
    after = change.after
    for r in current:
        if r["valid_from"] == eff:  # started at this very instant: replaced in place
            if after is None:
                conn.execute(_L.update().where(_L.c.id == r["id"]).values(valid_to=eff))
            else:
                conn.execute(_L.update().where(_L.c.id == r["id"]).values(
                    minutes=after["minutes"], basis=after["basis"], condition=after["condition"], valid_to=None))
            return
        conn.execute(_L.update().where(_L.c.id == r["id"]).values(valid_to=eff))
    if after is None:
        return
    kind, code = after.get("kind"), after.get("code")
    category_id = state.category_ids[category_key(str(kind), code)] if code and len(code) == 5 else None
    conn.execute(_L.insert().values(kind=kind, category_id=category_id,
                                    major_code=code if code and len(code) == 2 else None, level=after["level"],
                                    stage=after["stage"], minutes=after["minutes"], basis=after["basis"],
                                    condition=after["condition"], valid_from=eff, valid_to=None))


# ----------------------------------------------------------------------------- the TOML document


#: The top-level keys of a configuration file (what export_document writes).
_DOCUMENT_KEYS = frozenset({"format", "config_version", "exported_at", "departments", "categories", "routes", "limits",
                            "calendar", "settings"})


def read_document(path: str | Path) -> dict[str, Any]:
    """The configuration file's data; ValidationError naming what is wrong."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationError("file", Msg("配置文件过大（{size:,} 字节，最多 {limit:,}）", size=path.stat().st_size,
                                              limit=MAX_FILE_BYTES))
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValidationError("file", Msg("配置文件 {name} 不是 UTF-8 文本；请以 UTF-8 编码保存后重试",
                                          name=path.name[-80:])) from None
    except OSError as exc:
        detail = exc.strerror or type(exc).__name__
        raise ValidationError("file", Msg("无法读取配置文件 {name}：{detail}", name=path.name[-80:], detail=detail)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("file", Msg("配置文件 {name} 不是有效的 TOML：{error}", name=path.name[-80:],
                                          error=str(exc)[:200])) from None
    except RecursionError:  # tomllib recurses per nesting level: a file of 100,000 '[' exhausts the stack
        raise ValidationError("file", Msg("配置文件 {name} 嵌套过深，不是 gridhall admin export 写出的配置",
                                          name=path.name[-80:])) from None
    if doc.get("format") != FORMAT_VERSION:
        raise ValidationError("file", Msg("配置文件 {name} 的 format 应为 {version}（gridhall admin export 写出的文件）",
                                          name=path.name[-80:], version=FORMAT_VERSION))
    unknown = sorted(str(k) for k in doc if k not in _DOCUMENT_KEYS)
    if unknown:
        raise ValidationError("file", Msg("配置文件 {name} 有不认识的项 {keys}（拼写错误？）", name=path.name[-80:],
                                          keys="、".join(k[:40] for k in unknown[:5])))
    for section in ("departments", "categories", "routes", "limits", "calendar"):
        value = doc.get(section, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValidationError("file", Msg("配置文件的 {section} 应是表数组（[[{section}]]）", section=section))
    if not isinstance(doc.get("settings", {}), dict):
        raise ValidationError("file", Msg("配置文件的 settings 应是一张表"))
    return doc


def _years_of(doc: Mapping[str, Any]) -> list[StatutoryYear]:
    years = []
    for i, record in enumerate(doc.get("calendar", []), 1):
        try:
            years.append(StatutoryYear.from_record(record))
        except (KeyError, ValueError, TypeError, AssertionError) as exc:
            raise ValidationError("calendar", Msg("配置文件第 {n} 个 [[calendar]] 无效：{error}", n=i,
                                                  error=str(exc)[:120])) from None
    return years


def _where(section: str, i: int, exc: ValidationError) -> ValidationError:
    return ValidationError(exc.field, Msg("配置文件第 {n} 个 [[{section}]]：{error}", n=i, section=section, error=exc.msg))


def _known_keys(section: str, record: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """Refuse a record naming a key its section does not have: a mistyped key (``phnoe``) would
    otherwise be ignored and clear the field it meant to set."""
    unknown = sorted(str(k) for k in record if k not in after)
    if unknown:
        raise ValidationError(section, Msg("不认识的字段 {keys}（拼写错误？可用的字段见 gridhall admin export 写出的文件）",
                                           keys="、".join(k[:40] for k in unknown[:5])))


def _plan_document(state: _State, doc: Mapping[str, Any]) -> list[ConfigChange]:
    changes: list[ConfigChange] = []
    planned: dict[str, dict[str, Any]] = {}
    for i, record in enumerate(doc.get("departments", []), 1):
        try:
            after = _check_department(state, dict(record), {r.get("code"): r for r in doc.get("departments", [])})
            _known_keys("departments", record, after)
        except ValidationError as exc:
            raise _where("departments", i, exc) from None
        if after["code"] in planned:
            raise ValidationError("departments", Msg("配置文件中部门 {code} 出现了两次", code=after["code"]))
        planned[after["code"]] = after
        before = state.departments.get(after["code"])
        if after != before:
            changes.append(ConfigChange(DEPARTMENT, after["code"], before, after))
    departments = {**state.departments, **planned}
    # parents before children, so a parent's id exists when a child names it; no cycles
    def depth(start: str) -> int:
        seen: list[str] = []
        code: str | None = start
        while code is not None and code in departments:
            if code in seen:
                raise ValidationError("departments", Msg("配置文件中部门的上级关系成环：{codes}", codes="→".join(seen + [code])))
            seen.append(code)
            code = departments[code].get("parent")
        return len(seen)
    changes.sort(key=lambda c: depth(c.key))
    seen: set[str] = set()
    for i, record in enumerate(doc.get("categories", []), 1):
        try:
            after = _check_category(state, dict(record), departments)
            _known_keys("categories", record, after)
        except ValidationError as exc:
            raise _where("categories", i, exc) from None
        key = category_key(after["kind"], after["code"])
        if key in seen:
            raise ValidationError("categories", Msg("配置文件中类别 {key} 出现了两次", key=key))
        seen.add(key)
        if after != state.categories[key]:
            changes.append(ConfigChange(CATEGORY, key, state.categories[key], after))
    wanted: dict[str, dict[str, Any]] = {}
    for i, record in enumerate(doc.get("routes", []), 1):
        try:
            after = _check_route(state, dict(record), departments)
            _known_keys("routes", record, after)
        except ValidationError as exc:
            raise _where("routes", i, exc) from None
        wanted[route_key(after)] = after
    for key, after in wanted.items():
        if after != state.routes.get(key):
            changes.append(ConfigChange(ROUTE, key, state.routes.get(key), after))
    for key, before in state.routes.items():
        if key not in wanted and before["active"]:
            changes.append(ConfigChange(ROUTE, key, before, {**before, "active": False}))
    limits: dict[str, dict[str, Any]] = {}
    for i, record in enumerate(doc.get("limits", []), 1):
        try:
            after = _check_limit(state, dict(record))
            _known_keys("limits", record, after)
        except ValidationError as exc:
            raise _where("limits", i, exc) from None
        key = limit_key(after)
        if key in limits:
            raise ValidationError("limits", Msg("配置文件中时限 {key} 出现了两次", key=key))
        limits[key] = after
        if after != state.limits.get(key):
            changes.append(ConfigChange(LIMIT, key, state.limits.get(key), after))
    for key, before in state.limits.items():
        if key not in limits:
            changes.append(ConfigChange(LIMIT, key, before, None))
    for name, value in (doc.get("settings") or {}).items():
        after = _check_setting(name, value)
        if after != state.settings.get(name):
            changes.append(ConfigChange(VALUE, name, state.settings.get(name), after))
    return changes


def stored_setting(store: Store, name: str) -> dict[str, Any] | None:
    """The stored override of a whole setting (``evaluation``, ``alerts``), or None (the hook the
    evaluation and alert rules read; the shipped resources/*.toml apply without one)."""
    with store.engine.connect() as conn:
        value = conn.execute(sa.select(_V.c.value).where(_V.c.name == name)).scalar()
    return json.loads(value) if value is not None else None


# ----------------------------------------------------------------------------- a TOML writer


def _toml_key(key: str) -> str:
    return key if key and all(ch.isalnum() or ch in "-_" for ch in key) and key.isascii() else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dumps_toml(doc: Mapping[str, Any], _prefix: str = "") -> str:
    """``doc`` as TOML (strings, numbers, booleans, dates, lists, tables, arrays of tables; None left out)."""
    lines: list[str] = []
    tail: list[str] = []
    for key, value in doc.items():
        if value is None:
            continue
        name = f"{_prefix}{_toml_key(key)}"
        if isinstance(value, dict):
            body = dumps_toml(value, name + ".")
            tail.append(f"\n[{name}]\n{body}" if body.strip() else f"\n[{name}]\n")
        elif _is_table_array(value):
            for item in value:
                tail.append(f"\n[[{name}]]\n" + dumps_toml(item, name + "."))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}\n")
    return "".join(lines) + "".join(tail)


__all__ = ["CATEGORY", "DEPARTMENT", "LIMIT", "ROUTE", "SETTINGS", "VALUE", "ConfigChange", "ConfigResult",
           "ConfigService", "category_key", "dumps_toml", "limit_key", "overlapping_routes", "parse_time",
           "read_document", "route_key", "stored_setting", "unrouted_categories"]
