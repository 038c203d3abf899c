"""Base-data maintenance in the store: component and grid records, writes, and their history.

``base_changes`` (migration 0024) is the append-only, hash-chained history of every change an
administrator makes to components and unit grids (app.domain.base_history). Everything here runs
in the caller's session and transaction: a service changes a feature and appends its history
row in one commit, so a refused change leaves neither behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from app.domain.base_history import GENESIS_HASH, change_hash, record_json, verify_changes
from app.domain.definitions import STORE_SRID, Kind
from app.domain.messages import Msg
from app.store.models import AdminArea, BaseChange, Case, Category, Component, Department, UnitGrid

#: Component attributes an administrator edits (``set``), as in the record.
COMPONENT_FIELDS = ("name", "authority", "owner", "maintainer", "data_source", "note", "initial_date")
_DEPARTMENT_COLUMNS = {"authority": "authority_department_id", "owner": "owner_department_id",
                       "maintainer": "maintainer_department_id"}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# ------------------------------------------------------------------------------ history


def append_change(session: Session, *, entity: str, key: str, action: str, before: Mapping[str, Any] | None,
                  after: Mapping[str, Any] | None, actor: str, at: datetime, reason: str | None) -> int:
    """Append one change to the history (in the caller's transaction); returns its ``seq``.

    Two changes saved at the same moment compete for the same ``seq``: the later commit is
    refused by the primary key (and the chain trigger) and nothing of it is written.
    """
    last = session.execute(select(BaseChange.seq, BaseChange.hash).order_by(BaseChange.seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS_HASH)
    row = {"seq": seq, "entity": entity, "key": key, "action": action, "before": record_json(before),
           "after": record_json(after), "actor": actor, "at": at.replace(microsecond=0), "reason": reason}
    session.add(BaseChange(**row, prev_hash=prev, hash=change_hash(row, prev)))
    session.flush()
    return seq


def history(session: Session, entity: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
    """The base-data history (oldest first), optionally of one feature."""
    stmt = select(BaseChange).order_by(BaseChange.seq)
    if entity is not None:
        stmt = stmt.where(BaseChange.entity == entity)
    if key is not None:
        stmt = stmt.where(BaseChange.key == key)
    return [{c: getattr(r, c) for c in ("seq", "entity", "key", "action", "before", "after", "actor", "at",
                                         "reason", "prev_hash", "hash")} for r in session.scalars(stmt)]


def verify_base_history(session: Session) -> Msg | None:
    """The first broken link of the base-data history, or None."""
    return verify_changes(history(session))


# ------------------------------------------------------------------------------ components


def component_record(session: Session, code: str) -> dict[str, Any] | None:
    """The component as the history records it (codes, not ids), or None when there is none."""
    auth, own, keep = aliased(Department), aliased(Department), aliased(Department)
    row = session.execute(
        select(Component.id, Component.code, Component.legacy_code, Category.code, Component.name, UnitGrid.code,
               auth.code, own.code, keep.code, Component.status, Component.initial_date, Component.changed_date,
               Component.data_source, Component.note, func.ST_X(Component.geom), func.ST_Y(Component.geom))
        .join(Category, Category.id == Component.category_id)
        .outerjoin(UnitGrid, UnitGrid.id == Component.grid_id)
        .outerjoin(auth, auth.id == Component.authority_department_id)
        .outerjoin(own, own.id == Component.owner_department_id)
        .outerjoin(keep, keep.id == Component.maintainer_department_id)
        .where(Component.code == code)).first()
    if row is None:
        return None
    (cid, code_, legacy, category, name, grid, a, o, m, status, initial, changed, source, note, x, y) = row
    return {"id": cid, "code": code_, "legacy_code": legacy, "category": category, "name": name, "grid": grid,
            "authority": a, "owner": o, "maintainer": m, "status": status, "initial_date": _day(initial),
            "changed_date": _day(changed), "data_source": source, "note": note,
            "x": round(float(x), 3) if x is not None else None, "y": round(float(y), 3) if y is not None else None}


def history_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without the row id (what the history keeps)."""
    return {k: v for k, v in record.items() if k != "id"}


def department_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Department.id).where(Department.code == code))


def component_category_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Category.id).where(Category.kind == Kind.COMPONENT.value, Category.code == code))


def update_component(session: Session, component_id: int, values: Mapping[str, Any]) -> None:
    """Write plain columns, department codes (``authority`` …, already checked) and ``x``/``y``."""
    columns: dict[str, Any] = {}
    for key, value in values.items():
        if key in _DEPARTMENT_COLUMNS:
            columns[_DEPARTMENT_COLUMNS[key]] = department_id(session, value) if value else None
        elif key in ("initial_date", "changed_date"):
            columns[key] = date.fromisoformat(value) if isinstance(value, str) else value
        elif key not in ("x", "y", "grid"):
            columns[key] = value
    if "x" in values and "y" in values:
        columns["geom"] = func.ST_GeomFromText(f"POINT({float(values['x'])!r} {float(values['y'])!r})", STORE_SRID)
    if columns:
        session.execute(update(Component).where(Component.id == component_id).values(**columns))


def insert_component(session: Session, values: Mapping[str, Any]) -> int:
    """A new component row; ``values`` as ``update_component`` takes them plus code and category id."""
    comp = Component(code=values["code"], category_id=values["category_id"], name=values["name"],
                     status=values["status"], grid_id=values.get("grid_id"),
                     initial_date=date.fromisoformat(values["initial_date"]) if values.get("initial_date") else None,
                     data_source=values.get("data_source"), note=values.get("note"),
                     geom=func.ST_GeomFromText(f"POINT({float(values['x'])!r} {float(values['y'])!r})", STORE_SRID))
    for key, column in _DEPARTMENT_COLUMNS.items():
        if values.get(key):
            setattr(comp, column, department_id(session, values[key]))
    session.add(comp)
    session.flush()
    return int(comp.id)


def highest_component_serial(session: Session, prefix: str, history_keys: Iterable[str] = ()) -> int:
    """The highest serial ever used by 17-digit codes starting with ``prefix`` (admin + category)."""
    top = session.scalar(select(func.max(Component.code)).where(Component.code.like(prefix + "%"),
                                                                 func.length(Component.code) == 17))
    codes = [top] if top else []
    codes += [k for k in history_keys if k.startswith(prefix) and len(k) == 17]
    return max((int(c[11:]) for c in codes if c[11:].isdigit()), default=0)


def component_keys(session: Session) -> list[str]:
    """Every component code the history names (added ones that may since have gone)."""
    return list(session.scalars(select(BaseChange.key).where(BaseChange.entity == "component").distinct()))


# ------------------------------------------------------------------------------ grids


def grid_record(session: Session, code: str) -> dict[str, Any] | None:
    """The grid as the history records it (with its outline as WKT), or None."""
    community = aliased(AdminArea)
    row = session.execute(
        select(UnitGrid.id, UnitGrid.code, community.code, UnitGrid.area_m2, UnitGrid.supervisor_id,
               UnitGrid.retired_on, func.ST_AsText(UnitGrid.geom))
        .join(community, community.id == UnitGrid.community_id).where(UnitGrid.code == code)).first()
    if row is None:
        return None
    gid, code_, community_code, area, supervisor, retired, wkt = row
    return {"id": gid, "code": code_, "community": community_code, "area_m2": round(float(area or 0), 1),
            "supervisor_id": supervisor, "retired_on": _day(retired), "wkt": wkt}


def community_of(session: Session, grid_id: int) -> tuple[int, str]:
    row = session.execute(select(AdminArea.id, AdminArea.code).join(UnitGrid, UnitGrid.community_id == AdminArea.id)
                          .where(UnitGrid.id == grid_id)).one()
    return int(row[0]), str(row[1])


def community_outline(session: Session, community_id: int) -> str | None:
    return session.scalar(select(func.ST_AsText(AdminArea.geom)).where(AdminArea.id == community_id))


def used_grid_codes(session: Session, community_code: str) -> list[str]:
    """Every grid code of the community ever used: in the table (retired ones too) and in the history."""
    like = community_code + "%"
    codes = set(session.scalars(select(UnitGrid.code).where(UnitGrid.code.like(like))))
    codes |= set(session.scalars(select(BaseChange.key).where(BaseChange.entity == "grid", BaseChange.key.like(like))))
    return sorted(codes)


def active_grid_at(session: Session, x: float, y: float) -> tuple[int, str] | None:
    """(id, code) of the grid in use containing (x, y), or None."""
    point = func.ST_GeomFromText(f"POINT({float(x)!r} {float(y)!r})", STORE_SRID)
    row = session.execute(select(UnitGrid.id, UnitGrid.code)
                          .where(UnitGrid.retired_on.is_(None), func.ST_Intersects(UnitGrid.geom, point))
                          .order_by(UnitGrid.code).limit(1)).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def insert_grid(session: Session, *, code: str, community_id: int, wkt: str, area_m2: float,
                supervisor_id: int | None) -> int:
    grid = UnitGrid(code=code, community_id=community_id, area_m2=area_m2, supervisor_id=supervisor_id,
                    geom=func.ST_GeomFromText(wkt, STORE_SRID))
    session.add(grid)
    session.flush()
    return int(grid.id)


def retire_grid(session: Session, grid_id: int, on: date) -> None:
    session.execute(update(UnitGrid).where(UnitGrid.id == grid_id).values(retired_on=on))


def components_in_grid(session: Session, grid_id: int) -> list[tuple[int, str, float, float]]:
    """(id, code, x, y) of the components assigned to a grid."""
    rows = session.execute(select(Component.id, Component.code, func.ST_X(Component.geom), func.ST_Y(Component.geom))
                           .where(Component.grid_id == grid_id).order_by(Component.code))
    return [(int(i), str(c), float(x), float(y)) for i, c, x, y in rows]


def set_component_grid(session: Session, component_id: int, grid_id: int | None) -> None:
    session.execute(update(Component).where(Component.id == component_id).values(grid_id=grid_id))


def cases_in_grid(session: Session, grid_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Case).where(Case.grid_id == grid_id)) or 0)


def list_components(session: Session, *, text: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Components whose code or name contains ``text`` (code order), for the maintenance page."""
    stmt = (select(Component.code, Component.name, Category.code, Component.status, UnitGrid.code)
            .join(Category, Category.id == Component.category_id)
            .outerjoin(UnitGrid, UnitGrid.id == Component.grid_id).order_by(Component.code).limit(limit))
    if text:
        stmt = stmt.where(Component.code.contains(text, autoescape=True) | Component.name.contains(text, autoescape=True))
    return [{"code": c, "name": n, "category": k, "status": s, "grid": g} for c, n, k, s, g in session.execute(stmt)]


def list_grids(session: Session, *, text: str = "", retired: bool = False, limit: int = 500) -> list[dict[str, Any]]:
    """Grids whose code contains ``text`` (code order); retired ones only when asked."""
    stmt = select(UnitGrid.code, UnitGrid.area_m2, UnitGrid.retired_on).order_by(UnitGrid.code).limit(limit)
    if text:
        stmt = stmt.where(UnitGrid.code.contains(text, autoescape=True))
    if not retired:
        stmt = stmt.where(UnitGrid.retired_on.is_(None))
    return [{"code": c, "area_m2": round(float(a or 0), 1), "retired_on": _day(r)} for c, a, r in session.execute(stmt)]


__all__ = ["COMPONENT_FIELDS", "active_grid_at", "append_change", "cases_in_grid", "community_of",
           "community_outline", "component_category_id", "component_keys", "component_record", "components_in_grid",
           "department_id", "grid_record", "highest_component_serial", "history", "history_record", "insert_component",
           "insert_grid", "list_components", "list_grids", "retire_grid", "set_component_grid", "update_component",
           "used_grid_codes", "verify_base_history"]
