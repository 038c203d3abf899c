"""Basic-data maintenance (基础数据维护, issue 15 item 4): components and unit grids, by the administrator.

Every operation checks the actor (the administrator alone; on PostGIS the administrator's own
login also holds the only grants, migrations 0002/0010/0024), checks its input, changes the
feature and appends one row to the hash-chained history ``base_changes`` in ONE transaction:
a refused change writes nothing.

Components: edit attributes (``set_component``), move (``move_component``: the grid it lies in
follows), change status with the change date (``set_status``), add (``add_component``: the next
serial of district + category, never one used before) and retire (``retire_component``: status
移除, the row stays for the cases that name it).

Grids: split along a line (``split_grid``) and merge neighbours of one community (``merge_grids``).
The new grids take the community's next sequence numbers in reading order (north→south,
west→east; app.domain.base_history); the old grids are retired, never deleted, so cases keep the
grid they were reported in and no code is ever given twice. Components move to the new grid
they lie in, each with its own history row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shapely import wkt as shapely_wkt
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import split as shapely_split
from shapely.ops import unary_union

from app.domain.base_history import Action, Entity, changed_fields, next_grid_codes, reading_order
from app.domain.clock import Clock, SystemClock
from app.domain.codes import CodeError, ComponentId, GridCode
from app.domain.definitions import ComponentStatus, Role
from app.domain.messages import Msg, msg_of
from app.domain.text import TextRefused, clean_text, normalize_code
from app.services.actors import Actor
from app.services.errors import PermissionDenied, ServiceError, ValidationError
from app.store import base_maintenance as db

#: Smallest part a split may leave (m²): a sliver is a drawing slip, not a grid.
MIN_PART_M2 = 100.0
DATA_SOURCES = ("实测", "地形图", "基础地理数据", "其他")


class NotFound(ServiceError):
    """No component or grid with that code."""


@dataclass(frozen=True)
class Change:
    """What one operation did: the history rows' seqs and the codes it touched or made."""

    seqs: tuple[int, ...]
    codes: tuple[str, ...]
    message: Msg


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied(Msg("只有管理员可以维护基础数据（{user} 是{role}）", user=actor.username, role=actor.role))


def _text(field: str, value: object, label: Msg, limit: int | None = None) -> str | None:
    try:
        text = clean_text(field, value, label=label)
    except TextRefused as exc:
        raise ValidationError(field, msg_of(exc)) from None
    if text is not None and limit is not None and len(text) > limit:
        raise ValidationError(field, Msg("{label}最多 {limit} 个字符，实际 {n} 个", label=label, limit=limit, n=len(text)))
    return text


def _reason(reason: object) -> str:
    text = _text("reason", reason, Msg("理由"))
    if not text:
        raise ValidationError("reason", Msg("基础数据的每项变更都要写明理由"))
    return text


def _day(value: date | str | None, label: Msg) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError("date", Msg("{label} {value} 不是有效日期（应为 YYYY-MM-DD）", label=label,
                                          value=str(value)[:32])) from None


def _status(value: ComponentStatus | str) -> ComponentStatus:
    if isinstance(value, ComponentStatus):
        return value
    try:
        return ComponentStatus.parse(str(value).strip())
    except ValueError:
        raise ValidationError("status", Msg("部件状态 {value} 无效：应为 完好、破损、丢失、废弃 或 移除",
                                            value=str(value)[:32])) from None


def _xy(x: object, y: object) -> tuple[float, float]:
    try:
        fx, fy = float(x), float(y)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("location", Msg("坐标 {x}, {y} 不是数字", x=str(x)[:32], y=str(y)[:32])) from None
    if not (math.isfinite(fx) and math.isfinite(fy)):
        raise ValidationError("location", Msg("坐标 {x}, {y} 不是数字", x=str(x)[:32], y=str(y)[:32]))
    if abs(fx) > 1e8 or abs(fy) > 1e8:  # metres of EPSG:4549: anything this far is a typo, not a place
        raise ValidationError("location", Msg("坐标 {x}, {y} 超出 EPSG:4549 的范围（单位为米）", x=f"{fx:.6g}", y=f"{fy:.6g}"))
    return fx, fy


def _code(value: object, field: str, label: Msg) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, Msg("{label}不能为空", label=label))
    return normalize_code(value)


class BaseMaintenance:
    """The administrator's changes to components and unit grids, each with its history row."""

    def __init__(self, store: Any, clock: Clock | None = None):
        self.store = store
        self.clock = clock or SystemClock()

    # ------------------------------------------------------------------ reads

    def component(self, code: str) -> dict[str, Any]:
        with self.store.session() as s:
            rec = db.component_record(s, _code(code, "component", Msg("部件标识码")))
        if rec is None:
            raise NotFound(Msg("部件 {code} 不存在", code=code))
        return db.history_record(rec)

    def grid(self, code: str) -> dict[str, Any]:
        with self.store.session() as s:
            rec = db.grid_record(s, _code(code, "grid", Msg("网格编码")))
        if rec is None:
            raise NotFound(Msg("单元网格 {code} 不存在", code=code))
        return db.history_record(rec)

    def history(self, entity: Entity | str | None = None, code: str | None = None) -> list[dict[str, Any]]:
        """The history (oldest first) of one feature or of everything; before/after decoded."""
        with self.store.session() as s:
            rows = db.history(s, Entity(entity).value if entity else None, code)
        for r in rows:
            r["before"] = json.loads(r["before"]) if r["before"] else None
            r["after"] = json.loads(r["after"]) if r["after"] else None
            r["fields"] = changed_fields(r["before"], r["after"])
        return rows

    def verify(self) -> Msg | None:
        with self.store.session() as s:
            return db.verify_base_history(s)

    def components(self, text: str = "", limit: int = 200) -> list[dict[str, Any]]:
        with self.store.session() as s:
            return db.list_components(s, text=text.strip(), limit=limit)

    def grids(self, text: str = "", *, retired: bool = False, limit: int = 500) -> list[dict[str, Any]]:
        with self.store.session() as s:
            return db.list_grids(s, text=text.strip(), retired=retired, limit=limit)

    # ------------------------------------------------------------------ components

    def _load_component(self, s: Any, code: str) -> dict[str, Any]:
        rec = db.component_record(s, _code(code, "component", Msg("部件标识码")))
        if rec is None:
            raise NotFound(Msg("部件 {code} 不存在", code=code))
        return rec

    def _changed(self, s: Any, actor: Actor, rec: Mapping[str, Any], action: Action, values: Mapping[str, Any],
                 reason: str) -> int:
        after = {**db.history_record(rec), **values}
        db.update_component(s, int(rec["id"]), values)
        return db.append_change(s, entity=Entity.COMPONENT.value, key=str(rec["code"]), action=action.value,
                                before=db.history_record(rec), after=after, actor=actor.username,
                                at=self.clock.now(), reason=reason)

    def _not_removed(self, rec: Mapping[str, Any]) -> None:
        if rec["status"] == ComponentStatus.REMOVED.value:
            raise ValidationError("component", Msg("部件 {code} 已注销（移除），不能再修改", code=rec["code"]))

    def _attributes(self, s: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in fields.items():
            if key not in db.COMPONENT_FIELDS:
                raise ValidationError(key, Msg("部件没有可修改的属性 {field}", field=key))
            if key == "name":
                name = _text("display_name", value, Msg("部件名称"), 64)
                if not name:
                    raise ValidationError("name", Msg("部件名称不能为空"))
                values[key] = name
            elif key in ("authority", "owner", "maintainer"):
                dept = _text("department", value, Msg("部门代码")) if value else None
                if dept and db.department_id(s, dept) is None:
                    raise ValidationError(key, Msg("部门 {code} 不存在", code=dept))
                values[key] = dept
            elif key == "data_source":
                values[key] = _text("display_name", value, Msg("数据来源"), 16)
            elif key == "note":
                values[key] = _text("note", value, Msg("备注"))
            elif key == "initial_date":
                day = _day(value, Msg("初始日期"))
                values[key] = day.isoformat() if day else None
        return values

    def set_component(self, actor: Actor, code: str, *, reason: str, **fields: Any) -> Change:
        """Edit attributes (name, authority/owner/maintainer department codes, data_source, note, initial_date)."""
        _require_admin(actor)
        why = _reason(reason)
        with self.store.session() as s, s.begin():
            rec = self._load_component(s, code)
            self._not_removed(rec)
            values = {k: v for k, v in self._attributes(s, fields).items() if rec.get(k) != v}
            if not values:
                raise ValidationError("component", Msg("部件 {code} 的属性没有变化", code=rec["code"]))
            seq = self._changed(s, actor, rec, Action.SET, values, why)
        return Change((seq,), (str(rec["code"]),), Msg("已修改部件 {code}：{fields}", code=rec["code"],
                                                          fields=", ".join(sorted(values))))

    def move_component(self, actor: Actor, code: str, x: float, y: float, *, reason: str) -> Change:
        """Move to (x, y) in the store's CRS; the component's grid becomes the grid in use there."""
        _require_admin(actor)
        why = _reason(reason)
        fx, fy = _xy(x, y)
        with self.store.session() as s, s.begin():
            rec = self._load_component(s, code)
            self._not_removed(rec)
            grid = db.active_grid_at(s, fx, fy)
            if grid is None:
                raise ValidationError("location", Msg("位置 ({x:.1f}, {y:.1f}) 不在任何在用的单元网格内", x=fx, y=fy))
            values = {"x": round(fx, 3), "y": round(fy, 3), "grid": grid[1]}
            db.set_component_grid(s, int(rec["id"]), grid[0])
            seq = self._changed(s, actor, rec, Action.MOVE, values, why)
        return Change((seq,), (str(rec["code"]),), Msg("已移动部件 {code}（所在网格 {grid}）", code=rec["code"], grid=grid[1]))

    def set_status(self, actor: Actor, code: str, status: ComponentStatus | str, *, on: date | str | None = None,
                   reason: str) -> Change:
        """Change the status (完好/破损/丢失/废弃/移除) with its change date (default: today)."""
        _require_admin(actor)
        why = _reason(reason)
        new = _status(status)
        day = _day(on, Msg("变更日期")) or self.clock.now().date()
        with self.store.session() as s, s.begin():
            rec = self._load_component(s, code)
            self._not_removed(rec)
            if rec["status"] == new.value:
                raise ValidationError("status", Msg("部件 {code} 已是{status}", code=rec["code"], status=new))
            self._check_change_date(rec, day)
            action = Action.RETIRE if new is ComponentStatus.REMOVED else Action.STATUS
            seq = self._changed(s, actor, rec, action, {"status": new.value, "changed_date": day.isoformat()}, why)
        return Change((seq,), (str(rec["code"]),), Msg("部件 {code} 的状态已改为{status}（{day}）", code=rec["code"],
                                                          status=new, day=day.isoformat()))

    def _check_change_date(self, rec: Mapping[str, Any], day: date) -> None:
        if day > self.clock.now().date():
            raise ValidationError("date", Msg("变更日期 {day} 在今天之后", day=day.isoformat()))
        for key in ("initial_date", "changed_date"):
            if rec.get(key) and day < date.fromisoformat(str(rec[key])):
                raise ValidationError("date", Msg("变更日期 {day} 早于该部件已有的日期 {before}", day=day.isoformat(),
                                                  before=rec[key]))

    def retire_component(self, actor: Actor, code: str, *, on: date | str | None = None, reason: str) -> Change:
        """Retire (status 移除 with its date); the row and its code stay for the cases that name it."""
        return self.set_status(actor, code, ComponentStatus.REMOVED, on=on, reason=reason)

    def add_component(self, actor: Actor, *, category: str, name: str, x: float, y: float, reason: str,
                      status: ComponentStatus | str = ComponentStatus.INTACT, initial_date: date | str | None = None,
                      authority: str | None = None, owner: str | None = None, maintainer: str | None = None,
                      data_source: str | None = None, note: str | None = None) -> Change:
        """A new component at (x, y): its code is district + category + the next serial never used."""
        _require_admin(actor)
        why = _reason(reason)
        cat = _code(category, "category", Msg("部件类别"))
        fx, fy = _xy(x, y)
        st = _status(status)
        day = _day(initial_date, Msg("初始日期")) or self.clock.now().date()
        with self.store.session() as s, s.begin():
            category_id = db.component_category_id(s, cat)
            if category_id is None:
                raise ValidationError("category", Msg("部件类别 {code} 不在分类表中", code=cat))
            grid = db.active_grid_at(s, fx, fy)
            if grid is None:
                raise ValidationError("location", Msg("位置 ({x:.1f}, {y:.1f}) 不在任何在用的单元网格内", x=fx, y=fy))
            values = self._attributes(s, {"name": name, "authority": authority, "owner": owner,
                                          "maintainer": maintainer, "data_source": data_source, "note": note})
            admin = GridCode.parse(grid[1]).admin
            prefix = admin + cat
            serial = db.highest_component_serial(s, prefix, db.component_keys(s)) + 1
            try:
                code = str(ComponentId.make(admin, cat, serial))
            except CodeError as exc:
                raise ValidationError("category", msg_of(exc)) from None
            db.insert_component(s, {**values, "code": code, "category_id": category_id, "status": st.value,
                                    "grid_id": grid[0], "initial_date": day.isoformat(), "x": fx, "y": fy})
            rec = db.component_record(s, code)
            assert rec is not None
            seq = db.append_change(s, entity=Entity.COMPONENT.value, key=code, action=Action.ADD.value, before=None,
                                   after=db.history_record(rec), actor=actor.username, at=self.clock.now(), reason=why)
        return Change((seq,), (code,), Msg("已新增部件 {code}（所在网格 {grid}）", code=code, grid=grid[1]))

    # ------------------------------------------------------------------ grids

    def _load_grid(self, s: Any, code: str) -> dict[str, Any]:
        rec = db.grid_record(s, _code(code, "grid", Msg("网格编码")))
        if rec is None:
            raise NotFound(Msg("单元网格 {code} 不存在", code=code))
        if rec["retired_on"]:
            raise ValidationError("grid", Msg("单元网格 {code} 已于 {day} 注销", code=rec["code"], day=rec["retired_on"]))
        return rec

    def _replace(self, s: Any, actor: Actor, old: Sequence[Mapping[str, Any]], parts: Sequence[Polygon],
                 action: Action, day: date, why: str) -> tuple[list[int], list[str]]:
        """Retire ``old``, add ``parts`` with new codes, move their components; the history rows."""
        community_id, community_code = db.community_of(s, int(old[0]["id"]))
        order = reading_order([(p.centroid.x, p.centroid.y) for p in parts])
        try:
            codes = next_grid_codes(community_code, db.used_grid_codes(s, community_code), len(parts))
        except CodeError as exc:
            raise ValidationError("grid", msg_of(exc)) from None
        supervisor = old[0]["supervisor_id"]
        at, seqs = self.clock.now(), []
        new_ids: list[tuple[int, str, Polygon]] = []
        for code, index in zip(codes, order, strict=True):
            part = parts[index]
            gid = db.insert_grid(s, code=code, community_id=community_id, wkt=part.wkt, area_m2=round(part.area, 1),
                                 supervisor_id=supervisor)
            new_ids.append((gid, code, part))
        sources = [str(o["code"]) for o in old]
        for o in old:
            db.retire_grid(s, int(o["id"]), day)
            rec = db.grid_record(s, str(o["code"]))
            assert rec is not None
            after = {**db.history_record(rec), "successors": codes}
            seqs.append(db.append_change(s, entity=Entity.GRID.value, key=str(o["code"]), action=action.value,
                                         before=db.history_record(o), after=after, actor=actor.username, at=at,
                                         reason=why))
        for _gid, code, _part in new_ids:
            rec = db.grid_record(s, code)
            assert rec is not None
            seqs.append(db.append_change(s, entity=Entity.GRID.value, key=code, action=Action.ADD.value, before=None,
                                         after={**db.history_record(rec), "predecessors": sources},
                                         actor=actor.username, at=at, reason=why))
        for o in old:
            for cid, ccode, x, y in db.components_in_grid(s, int(o["id"])):
                target = next((g for g in new_ids if g[2].covers(Point(x, y))), None)
                if target is None:  # on the outline's far side of a rounding: the nearest new grid
                    target = min(new_ids, key=lambda g: g[2].distance(Point(x, y)))
                db.set_component_grid(s, cid, target[0])
                seqs.append(db.append_change(s, entity=Entity.COMPONENT.value, key=ccode, action=Action.REGRID.value,
                                             before={"grid": o["code"]}, after={"grid": target[1]},
                                             actor=actor.username, at=at, reason=why))
        return seqs, codes

    def split_grid(self, actor: Actor, code: str, line: Sequence[tuple[float, float]] | str, *,
                   on: date | str | None = None, reason: str) -> Change:
        """Split a grid along a line (points in the store's CRS, or WKT) into two or more new grids."""
        _require_admin(actor)
        why = _reason(reason)
        day = _day(on, Msg("变更日期")) or self.clock.now().date()
        cut = self._line(line)
        with self.store.session() as s, s.begin():
            rec = self._load_grid(s, code)
            shape = shapely_wkt.loads(str(rec["wkt"]))
            pieces = [g for g in shapely_split(shape, cut).geoms if isinstance(g, Polygon)]
            if len(pieces) < 2:
                raise ValidationError("line", Msg("分割线没有把单元网格 {code} 分成两部分：线应从网格边界的一侧画到另一侧",
                                                  code=rec["code"]))
            small = min(p.area for p in pieces)
            if small < MIN_PART_M2:
                raise ValidationError("line", Msg("分割后有一部分只有 {area:.0f} 平方米（至少 {min:.0f}）", area=small,
                                                  min=MIN_PART_M2))
            seqs, codes = self._replace(s, actor, [rec], pieces, Action.SPLIT, day, why)
        return Change(tuple(seqs), tuple(codes), Msg("单元网格 {code} 已拆分为 {codes}", code=rec["code"], codes=codes))

    def merge_grids(self, actor: Actor, codes: Sequence[str], *, on: date | str | None = None, reason: str) -> Change:
        """Merge two or more neighbouring grids of one community into one new grid."""
        _require_admin(actor)
        why = _reason(reason)
        day = _day(on, Msg("变更日期")) or self.clock.now().date()
        wanted = list(dict.fromkeys(normalize_code(c) for c in codes if c and c.strip()))
        if len(wanted) < 2:
            raise ValidationError("grid", Msg("合并至少需要两个不同的单元网格"))
        with self.store.session() as s, s.begin():
            recs = [self._load_grid(s, c) for c in wanted]
            communities = {str(r["community"]) for r in recs}
            if len(communities) > 1:
                raise ValidationError("grid", Msg("单元网格 {codes} 不在同一个社区，不能合并（网格不跨社区）",
                                                  codes=[r["code"] for r in recs]))
            merged = unary_union([shapely_wkt.loads(str(r["wkt"])) for r in recs]).buffer(0)
            if not isinstance(merged, Polygon):
                raise ValidationError("grid", Msg("单元网格 {codes} 不相邻，合并后不是一个整体", codes=[r["code"] for r in recs]))
            merged = Polygon(merged.exterior.coords, [i.coords for i in merged.interiors])
            seqs, new = self._replace(s, actor, recs, [merged], Action.MERGE, day, why)
        return Change(tuple(seqs), tuple(new), Msg("单元网格 {codes} 已合并为 {code}", codes=wanted, code=new[0]))

    @staticmethod
    def _line(line: Sequence[tuple[float, float]] | str) -> LineString:
        try:
            geom = shapely_wkt.loads(line) if isinstance(line, str) else LineString([(float(x), float(y)) for x, y in line])
        except Exception:  # noqa: BLE001 - any unreadable line is one message
            raise ValidationError("line", Msg("分割线无法识别：应为至少两个点的折线")) from None
        if not isinstance(geom, LineString) or len(geom.coords) < 2 or geom.length == 0:
            raise ValidationError("line", Msg("分割线无法识别：应为至少两个点的折线"))
        return geom


__all__ = ["DATA_SOURCES", "MIN_PART_M2", "BaseMaintenance", "Change", "NotFound"]
