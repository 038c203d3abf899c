"""Map fixtures: one offscreen QgsApplication per session and a small known district.

The district lies at X0, Y0 (EPSG:4549) and measures 800 m × 600 m: two streets split at
x = 400, four communities split at y = 300, 48 unit grids of 100 m. Features sit at known
offsets (see ``CASES``, ``COMPONENTS``) so tests can sample pixels and click at them.
"""

from __future__ import annotations

import os
from datetime import datetime
from types import SimpleNamespace

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QGIS_NO_OVERRIDE_IMPORT", "1")
# QGIS widgets are PyQt5 widgets: qtbot must drive PyQt5 (the Makefile sets these as well).
os.environ.setdefault("PYTEST_QT_API", "pyqt5")
os.environ.setdefault("QT_API", "pyqt5")

X0, Y0 = 512000.0, 3466000.0
WIDTH, HEIGHT = 800.0, 600.0
DISTRICT = "320508"

#: case number → (relative x, y, state, light the test feeds)
CASES = {
    "E0601202611210001": (125, 425, "handling", "red"),
    "E0601202611210002": (325, 525, "dispatched", "yellow"),
    "E0601202611210003": (525, 75, "filed", "green"),
    "E0601202611210004": (725, 425, "closed", "none"),
}
#: major code → (relative x, y) of one component of that major
COMPONENTS = {"01": (75, 125), "02": (175, 225), "03": (575, 475), "04": (675, 175), "05": (775, 575)}
#: (name, kind, relative coordinates)
ROADS = [
    ("人民路", "trunk", [(400, -40), (400, 640)]),
    ("干将路", "main", [(-40, 300), (840, 300)]),
    ("十梓街", "secondary", [(-40, 100), (840, 100)]),
    ("凤凰街", "branch", [(200, 0), (200, 600)]),
    ("锦帆路", "lane", [(0, 450), (400, 450)]),
]


def rel(x: float, y: float) -> tuple[float, float]:
    """Store coordinates of a point given relative to the district's south-west corner."""
    return X0 + x, Y0 + y


def _box(x1, y1, x2, y2) -> str:
    (a, b), (c, d) = rel(x1, y1), rel(x2, y2)
    return f"({a} {b}, {c} {b}, {c} {d}, {a} {d}, {a} {b})"


def _ewkt(wkt: str) -> str:
    return f"SRID=4549;{wkt}"


def fill_district(store) -> None:
    """Insert the known district into an initialised store (idempotent per store)."""
    from sqlalchemy import select

    from app.store.models import AdminArea, Case, Category, Component, Road, UnitGrid

    with store.session() as s, s.begin():
        if s.scalar(select(AdminArea.id).limit(1)) is not None:
            return
        district = AdminArea(code=DISTRICT, name="姑苏示范区", level="district",
                             geom=_ewkt(f"MULTIPOLYGON(({_box(0, 0, WIDTH, HEIGHT)}))"))
        s.add(district)
        s.flush()
        for si, (sx, sname) in enumerate([(0, "平江街道"), (400, "沧浪街道")], start=1):
            street = AdminArea(code=f"{DISTRICT}{si:03d}", name=sname, level="street", parent_id=district.id,
                               geom=_ewkt(f"MULTIPOLYGON(({_box(sx, 0, sx + 400, HEIGHT)}))"))
            s.add(street)
            s.flush()
            for ci, (cy, cname) in enumerate([(300, "北社区"), (0, "南社区")], start=1):
                comm = AdminArea(code=f"{street.code}{ci:03d}", name=f"{sname[:2]}{cname}", level="community",
                                 parent_id=street.id,
                                 geom=_ewkt(f"MULTIPOLYGON(({_box(sx, cy, sx + 400, cy + 300)}))"))
                s.add(comm)
                s.flush()
                seq = 0
                for gy in range(cy + 200, cy - 1, -100):  # numbered west→east, north→south
                    for gx in range(sx, sx + 400, 100):
                        seq += 1
                        s.add(UnitGrid(code=f"{comm.code}{seq:03d}", community_id=comm.id, area_m2=10000.0,
                                       geom=_ewkt(f"POLYGON({_box(gx, gy, gx + 100, gy + 100)})")))
        for name, kind, pts in ROADS:
            line = ", ".join(f"{a} {b}" for a, b in (rel(*p) for p in pts))
            s.add(Road(name=name, kind=kind, width_m=20.0, geom=_ewkt(f"LINESTRING({line})")))
        first = {}
        for c in s.scalars(select(Category).where(Category.kind == "component").order_by(Category.code)):
            first.setdefault(c.major_code, c)
        for n, (major, (x, y)) in enumerate(sorted(COMPONENTS.items()), start=1):
            cat = first[major]
            s.add(Component(code=f"{DISTRICT}{cat.code}{n:06d}", category_id=cat.id, name=cat.name,
                            status="intact", geom=_ewkt("POINT({} {})".format(*rel(x, y)))))
        event = s.scalars(select(Category).where(Category.kind == "event").order_by(Category.code)).first()
        for number, (x, y, state, _light) in CASES.items():
            s.add(Case(number=number, kind="event", category_id=event.id, level="general", state=state,
                       source="supervisor", description="测试案卷", reported_at=datetime(2026, 11, 21, 9, 0),
                       geom=_ewkt("POINT({} {})".format(*rel(x, y)))))


@pytest.fixture(scope="session")
def district():
    """The known district's constants and helpers (tests do not import conftest)."""
    return SimpleNamespace(cases=CASES, components=COMPONENTS, roads=ROADS, rel=rel, fill=fill_district,
                           width=WIDTH, height=HEIGHT)


@pytest.fixture(scope="session")
def qgis_app():
    """The process's QgsApplication (offscreen, private temporary profile).

    Not stopped at the end: layers kept alive by pytest's bookkeeping would be deleted
    after exitQgis and crash the process; the temporary profile is removed at exit.
    """
    from app.gis.qgis_app import start_qgis

    return start_qgis(gui=True)


@pytest.fixture(scope="session")
def qapp(qgis_app):
    """pytest-qt's application: the QgsApplication, so ``qtbot`` works with QGIS widgets."""
    return qgis_app


@pytest.fixture(scope="session")
def district_store(tmp_path_factory):
    """A SpatiaLite store holding the known district (built once per session)."""
    from app.store.commands import init_db

    store = init_db(tmp_path_factory.mktemp("gis") / "district.sqlite")
    fill_district(store)
    yield store
    store.dispose()


@pytest.fixture
def map_layers(qgis_app, district_store):
    """The five map layers over the district, cases fed with the lights in ``CASES``."""
    from app.gis.cases_layer import read_open_cases
    from app.gis.layers import build_layers

    layers = build_layers(district_store)
    lights = {number: light for number, (_x, _y, _s, light) in CASES.items()}
    layers.feeder.set_cases(r._replace(light=lights[r.number]) for r in read_open_cases(district_store))
    return layers


@pytest.fixture
def view(qtbot, map_layers):
    """A shown MapView over the known district, zoomed to it and rendered once."""
    from app.gis.canvas import MapView

    v = MapView(map_layers)
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    qtbot.waitExposed(v)
    v.zoom_full()
    assert v.wait_rendered(15000)
    yield v
    v.teardown()
