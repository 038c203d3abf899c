"""The bench's district: 16 grids, 2 roads, 6 departments and a user per role of the loop.

The one definition of the small district the service tests also use (``tests/services/world.py``
imports it; the benchmarks never import the tests): grids are 100 m squares covering x 557000–557400, y 3464300–3464700 (EPSG:4549); the
west half is 东园社区, the east half 北园社区, both in 平江街道. ``build_world`` fills an
initialised store; ``service`` and ``draft`` make a CaseService and a valid report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geoalchemy2 import WKTElement
from sqlalchemy import select

from app.domain.calendar import WorkCalendar
from app.domain.clock import Clock
from app.domain.definitions import Role
from app.services.actors import Actor
from app.services.bus import CaseBus
from app.services.cases import CaseService
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from app.store.models import (
    AdminArea,
    Category,
    Component,
    Department,
    Road,
    RoutingRule,
    UnitGrid,
    User,
)

X0, Y0, CELL = 557000.0, 3464300.0, 100.0
INSIDE = (557150.0, 3464450.0)  # inside grid 320599001001006 (东园社区)
MANHOLE = "32059901002000001"  # 污水井盖 at (557150, 3464450)
MANHOLE_LEGACY = "3205990102000001"

USERS = {
    "acceptor": (Role.ACCEPTOR, "王芳", None),
    "leader_shift": (Role.SHIFT_LEADER, "李强", None),
    "dispatcher": (Role.DISPATCHER, "张三", None),
    "dispatcher2": (Role.DISPATCHER, "赵六", None),
    "supervisor": (Role.SUPERVISOR, "陈刚", None),
    "dept_jd": (Role.DEPARTMENT, "周敏", "JD001"),
    "dept_hw": (Role.DEPARTMENT, "吴军", "HW"),
    "boss": (Role.LEADER, "刘局", None),
    "analyst": (Role.ANALYST, "孙丽", None),
    "admin": (Role.ADMIN, "管理员", None),
}


@dataclass
class World:
    """Ids of what the builder created, and an actor per username."""

    dept: dict[str, int] = field(default_factory=dict)
    grids: dict[str, int] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    component_id: int | None = None

    def by_role(self, role: Role) -> Actor:
        """The first actor with ``role`` (the JD001 operator for 专业部门)."""
        if role is Role.SYSTEM:
            return Actor.system()
        return next(a for a in self.actors.values() if a.role is role)


def _square(x: float, y: float, size: float) -> str:
    return f"POLYGON(({x} {y},{x + size} {y},{x + size} {y + size},{x} {y + size},{x} {y}))"


def _wkt(text: str) -> WKTElement:
    return WKTElement(text, srid=4549)


def build_world(store, *, password_hash: str | None = None) -> World:
    """Fill an initialised store with the tiny district; returns the ids and actors."""
    w = World()
    with store.session() as s, s.begin():
        district = AdminArea(code="320599", name="演示区", level="district",
                             geom=_wkt(f"MULTIPOLYGON((({X0} {Y0},{X0 + 400} {Y0},{X0 + 400} {Y0 + 400},"
                                       f"{X0} {Y0 + 400},{X0} {Y0})))"))
        s.add(district)
        s.flush()
        street = AdminArea(code="320599001", name="平江街道", level="street", parent_id=district.id)
        s.add(street)
        s.flush()
        communities = [AdminArea(code=f"320599001{i:03d}", name=name, level="community", parent_id=street.id)
                       for i, name in ((1, "东园社区"), (2, "北园社区"))]
        s.add_all(communities)
        s.flush()
        seq = {0: 0, 1: 0}
        for col in range(4):
            for row in range(4):
                half = 0 if col < 2 else 1
                seq[half] += 1
                code = f"{communities[half].code}{seq[half]:03d}"
                grid = UnitGrid(code=code, community_id=communities[half].id, area_m2=CELL * CELL,
                                geom=_wkt(_square(X0 + col * CELL, Y0 + row * CELL, CELL)))
                s.add(grid)
                s.flush()
                w.grids[code] = grid.id
        for code, name, kind, area in (("HW", "区环境卫生管理所", "bureau", None),
                                       ("SZ", "区市政工程管理处", "bureau", None),
                                       ("PS", "苏州排水有限公司", "utility", None),
                                       ("JD001", "平江街道办事处", "street_office", street.id),
                                       ("YL", "区园林绿化管理所", "bureau", None),
                                       ("OLD", "已撤销的管理站", "bureau", None)):
            d = Department(code=code, name=name, kind=kind, admin_area_id=area, active=code != "OLD")
            s.add(d)
            s.flush()
            w.dept[code] = d.id
        s.add_all([
            Road(name="人民路", kind="main", width_m=24,
                 geom=_wkt(f"LINESTRING({X0} {Y0 + 200},{X0 + 400} {Y0 + 200})")),
            Road(name="凤凰街", kind="secondary", width_m=12,
                 geom=_wkt(f"LINESTRING({X0 + 350} {Y0},{X0 + 350} {Y0 + 400})")),
        ])

        def cat(kind: str, code: str) -> Category:
            return s.scalars(select(Category).where(Category.kind == kind, Category.code == code)).one()

        cat("event", "06010").default_department_id = w.dept["HW"]
        cat("event", "06010").filing_standard = "垃圾暴露面积 ≥ 0.5 平方米或堆放超过 2 小时"
        cat("event", "06012").default_department_id = w.dept["HW"]
        manhole_cat = cat("component", "01002")
        manhole_cat.default_department_id = w.dept["SZ"]
        s.add_all([
            RoutingRule(major_code="06", kind="event", admin_area_id=street.id, department_id=w.dept["JD001"],
                        priority=100),
            RoutingRule(category_id=cat("event", "06010").id, admin_area_id=district.id,
                        department_id=w.dept["HW"], priority=100),
            RoutingRule(major_code="09", kind="event", admin_area_id=street.id, department_id=w.dept["JD001"]),
        ])
        comp = Component(code=MANHOLE, legacy_code=MANHOLE_LEGACY, category_id=manhole_cat.id, name="污水井盖",
                         grid_id=w.grids["320599001001006"], authority_department_id=w.dept["SZ"],
                         owner_department_id=w.dept["PS"], maintainer_department_id=w.dept["PS"],
                         status="intact", geom=_wkt(f"POINT({INSIDE[0]} {INSIDE[1]})"))
        s.add(comp)
        s.flush()
        w.component_id = comp.id
        for username, (role, display, dept) in USERS.items():
            user = User(username=username, display_name=display, role=role.value,
                        department_id=w.dept[dept] if dept else None, password_hash=password_hash,
                        active=True, failed_attempts=0, locked=False)
            s.add(user)
            s.flush()
            w.actors[username] = Actor(username, display, role, user.department_id, user.id)
    return w




def service(store, clock: Clock, *, bus: CaseBus | None = None,
            calendar: WorkCalendar | None = None) -> CaseService:
    """The case service of the headless core over ``store`` (the store's calendar and time limits)."""
    from app.core import build_core

    return build_core(store, clock, bus, calendar=calendar).cases


def draft(category: str = "event:06010", *, at=INSIDE, description: str = "人民路边有一堆暴露垃圾", **kw) -> ReportDraft:
    """A valid report draft (override any field)."""
    location = kw.pop("location", None) or LocationInput(x=at[0], y=at[1])
    return ReportDraft(category=category, description=description, location=location, **kw)


__all__ = ["INSIDE", "MANHOLE", "USERS", "World", "build_world", "draft", "service"]
