"""Write the demo's base data: areas, departments, users, grids, roads, routing, components."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from app.store.bulk import BulkLoad
from app.store.models import AdminArea, Category, Component, Department, Road, RoutingRule, UnitGrid, User
from data.democity import components as comps
from data.democity import org
from data.democity.cases import CompRef
from data.democity.errors import CANCELLED, DemoCancelled
from data.democity.geography import City, line_wkt, multi_wkt, ring_wkt

COMPONENT_BATCH = 10000
COMPONENT_COLUMNS = (
    "id", "code", "legacy_code", "category_id", "name", "grid_id", "authority_department_id",
    "owner_department_id", "maintainer_department_id", "status", "initial_date", "changed_date",
    "data_source", "note", "geom",
)


def insert_dicts(load: BulkLoad, model, rows: list[dict]) -> None:
    """Queue dict rows (same keys each; a ``wkt`` key becomes the geometry) for ``model``'s table."""
    if not rows:
        return
    keys = [k for k in rows[0] if k != "wkt"]
    geometry = "wkt" if "wkt" in rows[0] else None
    columns = keys + ["geom"] if geometry else keys
    load.insert(model.__table__, columns, [tuple(r[k] for k in keys) + ((r["wkt"],) if geometry else ())
                                           for r in rows], geometry=geometry)


class StaticWriter:
    """Builds and inserts everything but the cases; keeps the ids the cases refer to."""

    def __init__(self, load: BulkLoad, city: City, spec, cats: dict, rng: random.Random, now: datetime):
        self.load, self.city, self.spec, self.cats, self.rng, self.now = load, city, spec, cats, rng, now
        self.area_id: dict[str, int] = {}
        self.dept_id: dict[str, int] = {}
        self.depts: list[org.Dept] = []
        self.people: list[org.Person] = []
        self.by_role: dict[str, list[str]] = defaultdict(list)
        self.operators: dict[str, list[str]] = defaultdict(list)
        self.grid_supervisor: list[str] = []
        self.component_code: dict[int, str] = {}  # component id → code (the report event names it)

    def write_areas_and_org(self) -> None:
        city, load = self.city, self.load
        rows = []
        for area in [city.district, *city.streets, *city.communities]:
            self.area_id[area.code] = len(rows) + 1
            rows.append({"id": len(rows) + 1, "code": area.code, "name": area.name, "level": area.level,
                         "parent_id": self.area_id.get(area.parent_code) if area.parent_code else None,
                         "wkt": multi_wkt(area.ring)})
        insert_dicts(load, AdminArea, rows)
        self.depts = org.build_departments(city, self.rng)
        for n, d in enumerate(self.depts, start=1):
            self.dept_id[d.key] = n
        insert_dicts(load, Department, [
            {"id": self.dept_id[d.key], "code": d.code, "name": d.name, "kind": d.kind, "credit_code": d.credit,
             "parent_id": self.dept_id.get(d.parent) if d.parent else None,
             "admin_area_id": self.area_id[city.streets[d.street].code] if d.street is not None else self.area_id[city.district.code],
             "phone": d.phone, "active": True} for d in self.depts])
        self.people = org.build_users(self.spec, self.depts, self.rng)
        user_rows = []
        for n, p in enumerate(self.people, start=1):
            self.by_role[p.role].append(p.username)
            if p.role == "department":
                self.operators[p.dept_key].append(p.username)
            user_rows.append({"id": n, "username": p.username, "display_name": p.display, "role": p.role,
                              "department_id": self.dept_id.get(p.dept_key), "password_hash": None,
                              "active": True, "failed_attempts": 0, "locked": False, "phone": p.phone,
                              "created_at": datetime(self.now.year - 1, 1, 1, 9)})
        insert_dicts(load, User, user_rows)
        user_id = {p.username: n for n, p in enumerate(self.people, start=1)}
        sups = self.by_role["supervisor"]
        # Contiguous chunks of grids (in code order) per supervisor: each patrols a compact beat.
        per = len(city.grids) / len(sups)
        self.grid_supervisor = [sups[min(len(sups) - 1, int(n / per))] for n in range(len(city.grids))]
        insert_dicts(load, UnitGrid, [
            {"id": n + 1, "code": g.code, "community_id": self.area_id[g.community_code], "area_m2": round(g.area, 1),
             "supervisor_id": user_id[self.grid_supervisor[n]], "wkt": ring_wkt(g.ring)}
            for n, g in enumerate(city.grids)])
        insert_dicts(load, Road, [
            {"id": n + 1, "name": r.name, "kind": r.kind, "width_m": r.width, "wkt": line_wkt(r.points)}
            for n, r in enumerate(city.roads)])
        self._categories_and_routing()

    def _categories_and_routing(self) -> None:
        rows = [(self.dept_id[org.default_department(kind, code)], cid)
                for (kind, code), (cid, _n, _m) in sorted(self.cats.items(), key=lambda kv: kv[1][0])]
        self.load.update(Category.__table__, ["default_department_id"], "id", rows)
        event_codes = sorted(c for k, c in self.cats if k == "event")
        comp_codes = sorted(c for k, c in self.cats if k == "component")
        out = []
        for cat, major, kind, street, key, priority in org.routing_plan(len(self.city.streets), event_codes, comp_codes):
            if cat is not None and cat not in self.cats:
                continue
            out.append({"id": len(out) + 1, "category_id": self.cats[cat][0] if cat else None,
                        "major_code": major, "kind": kind,
                        "admin_area_id": self.area_id[self.city.streets[street].code] if street is not None else None,
                        "department_id": self.dept_id[key], "priority": priority})
        insert_dicts(self.load, RoutingRule, out)

    def write_components(self, stop, report) -> list[CompRef]:
        """Place and insert every component; returns what component cases need."""
        city, rng, cats, dept_id = self.city, self.rng, self.cats, self.dept_id
        district = city.district.code
        codes = sorted(c for k, c in cats if k == "component")
        serial: dict[str, int] = defaultdict(int)
        refs: list[CompRef] = []
        total = max(1, int(self.spec.components_per_grid * len(city.grids)))
        today = self.now.date()
        batch: list[tuple] = []
        for p in comps.place(city, codes, rng):
            serial[p.code] += 1
            cid = len(refs) + 1
            grid = city.grid_at[(p.i, p.j)]
            street = city.grids[grid].street_index
            auth, owner, maint = org.component_departments(p.code, street, rng)
            status, initial, source = comps.attributes(rng, today)
            refs.append(CompRef(cid, p.code, p.i, p.j, p.u, p.v, p.x, p.y, maint))
            cat_id, cat_name, _major = cats[("component", p.code)]
            changed = None if status == "intact" else min(initial + timedelta(days=rng.randint(90, 1500)), today)
            self.component_code[cid] = f"{district}{p.code}{serial[p.code]:06d}"
            batch.append((cid, self.component_code[cid], None, cat_id, cat_name, grid + 1,
                          dept_id[auth], dept_id[owner], dept_id[maint], status, initial, changed, source, None,
                          float(f"{p.x:.2f}"), float(f"{p.y:.2f}")))
            if len(batch) >= COMPONENT_BATCH:
                self.load.insert(Component.__table__, COMPONENT_COLUMNS, batch, geometry="xy")
                batch = []
                if stop():
                    raise DemoCancelled(CANCELLED)
                report(0.06 + 0.06 * min(1.0, cid / total), f"布设部件 {cid}")
        self.load.insert(Component.__table__, COMPONENT_COLUMNS, batch, geometry="xy")
        return refs
