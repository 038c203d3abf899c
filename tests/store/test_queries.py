"""Read queries: case summaries with places, departments and timers; timelines; extent."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta

from geoalchemy2 import WKTElement
from sqlalchemy import event, insert, select

from app.domain.cases import CaseSummary, TimerSpec
from app.domain.definitions import Action, Basis, CaseState, Kind, Level, Role, Source, Stage
from app.store.audit import append_event, import_path
from app.store.models import AdminArea, Case, Category, Component, Department, UnitGrid
from app.store.queries import case_events, case_summary, layer_extent, open_case_summaries

T0 = datetime(2026, 5, 11, 9, 0)
X0, Y0 = 500000.0, 3500000.0


def _square(x: float, y: float, size: float) -> str:
    return f"{x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}"


def _comparable(s: CaseSummary) -> CaseSummary:
    """``s`` with a NaN coordinate (the case has no place) as None, so that equal summaries compare equal.

    NaN never equals itself. Up to Python 3.12 a dataclass compared the tuples of its fields, which
    matched the very same NaN object by identity; since 3.13 it compares field by field with ==.
    """
    return dataclasses.replace(s, x=None if math.isnan(s.x) else s.x, y=None if math.isnan(s.y) else s.y)


def _world(session) -> dict:
    """A district with one street, one community, two grids, a department and a component."""
    district = AdminArea(code="320582", name="张家港市", level="district",
                         geom=WKTElement(f"MULTIPOLYGON((({_square(X0, Y0, 1000)})))", srid=4549))
    session.add(district)
    session.flush()
    street = AdminArea(code="320582001", name="杨舍镇", level="street", parent_id=district.id,
                       geom=WKTElement(f"MULTIPOLYGON((({_square(X0, Y0, 500)})))", srid=4549))
    session.add(street)
    session.flush()
    community = AdminArea(code="320582001001", name="东城社区", level="community", parent_id=street.id,
                          geom=WKTElement(f"MULTIPOLYGON((({_square(X0, Y0, 200)})))", srid=4549))
    session.add(community)
    session.flush()
    grids = [UnitGrid(code=f"320582001001{i:03d}", community_id=community.id, area_m2=10000.0,
                      geom=WKTElement(f"POLYGON(({_square(X0 + 100 * (i - 1), Y0, 100)}))", srid=4549))
             for i in (1, 2)]
    dept = Department(code="SZ-HW", name="市环卫处", kind="bureau")
    session.add_all([*grids, dept])
    session.flush()
    lamp_cat = session.scalars(select(Category).where(Category.kind == "component",
                                                      Category.code == "01001")).one()
    comp = Component(code="32058201001000001", category_id=lamp_cat.id, name="供水井盖", grid_id=grids[0].id,
                     geom=WKTElement(f"POINT({X0 + 10} {Y0 + 10})", srid=4549))
    session.add(comp)
    session.flush()
    return {"grids": grids, "dept": dept, "comp": comp, "lamp_cat": lamp_cat,
            "event_cat": session.scalars(select(Category).where(Category.kind == "event",
                                                                Category.code == "06001")).one()}


def _case(w, number: str, **kw) -> Case:
    base = dict(number=number, kind="event", category_id=w["event_cat"].id, level="general",
                state="filed", source="supervisor", description="暴露垃圾", reported_at=T0,
                updated_at=T0)
    base.update(kw)
    return Case(**base)


def _populate(store) -> dict:
    with store.session() as s, s.begin():
        w = _world(s)
        handling = _case(
            w, "B0100120260511001", kind="component", category_id=w["lamp_cat"].id, level="urgent",
            state="handling", grid_id=w["grids"][0].id, department_id=w["dept"].id,
            component_id=w["comp"].id, address="人民路 18 号", reported_at=T0 - timedelta(hours=2),
            geom=WKTElement(f"POINT({X0 + 12.5} {Y0 + 40.25})", srid=4549),
            stage="handle", timer_basis="natural", limit_minutes=120, timer_started_at=T0,
            paused_minutes=15, paused_since=T0 + timedelta(minutes=50), extension_minutes=30,
            deadline_at=T0 + timedelta(minutes=165), urge_count=2, rework_count=1, version=5)
        no_point = _case(w, "E0600120260511002", grid_id=w["grids"][1].id, updated_at=T0 + timedelta(hours=1))
        nowhere = _case(w, "E0600120260511003", source="hotline", reported_at=T0 + timedelta(minutes=5))
        closed = _case(w, "E0600120260511004", state="closed", grid_id=w["grids"][0].id,
                       closed_at=T0, geom=WKTElement(f"POINT({X0} {Y0})", srid=4549))
        s.add_all([handling, no_point, nowhere, closed])
        s.flush()
        return {"world": w, "handling": handling.id, "no_point": no_point.id, "nowhere": nowhere.id,
                "closed": closed.id}


def test_open_summaries_carry_place_department_and_timer(store):
    ids = _populate(store)
    with store.session() as s:
        rows = open_case_summaries(s)
    assert [r.id for r in rows] == [ids["handling"], ids["no_point"], ids["nowhere"]]
    h = rows[0]
    assert (h.number, h.kind, h.level, h.state, h.source) == (
        "B0100120260511001", Kind.COMPONENT, Level.URGENT, CaseState.HANDLING, Source.SUPERVISOR)
    assert (h.category_code, h.category_name) == ("01001", "供水井盖")
    assert (h.x, h.y) == (X0 + 12.5, Y0 + 40.25)
    assert (h.grid_code, h.community_name, h.street_name) == ("320582001001001", "东城社区", "杨舍镇")
    assert (h.department_code, h.department_name) == ("SZ-HW", "市环卫处")
    assert (h.component_code, h.address) == ("32058201001000001", "人民路 18 号")
    assert (h.urge_count, h.rework_count, h.version) == (2, 1, 5)
    assert h.deadline_at == T0 + timedelta(minutes=165)
    assert h.timer == TimerSpec(stage=Stage.HANDLE, basis=Basis.NATURAL, limit_minutes=120, started_at=T0,
                                paused_minutes=15, paused_since=T0 + timedelta(minutes=50),
                                extension_minutes=30)


def test_case_without_point_sits_at_its_grid_centre(store):
    ids = _populate(store)
    with store.session() as s:
        by_id = {r.id: r for r in open_case_summaries(s)}
    assert (by_id[ids["no_point"]].x, by_id[ids["no_point"]].y) == (X0 + 150, Y0 + 50)
    lost = by_id[ids["nowhere"]]
    assert math.isnan(lost.x) and math.isnan(lost.y)
    assert lost.timer is None and lost.grid_code is None and lost.street_name is None


def test_since_keeps_recently_updated_cases(store):
    ids = _populate(store)
    with store.session() as s:
        rows = open_case_summaries(s, since=T0 + timedelta(minutes=30))
    assert [r.id for r in rows] == [ids["no_point"]]


def test_single_case_summary_in_any_state(store):
    ids = _populate(store)
    with store.session() as s:
        closed = case_summary(s, ids["closed"])
        missing = case_summary(s, 999999)
    assert closed is not None and closed.state is CaseState.CLOSED and (closed.x, closed.y) == (X0, Y0)
    assert missing is None


def test_open_summaries_take_one_query(store):
    ids = _populate(store)
    w = ids["world"]
    with store.session() as s, s.begin():
        s.execute(insert(Case), [
            dict(number=f"E06001202605{i:05d}", kind="event", category_id=w["event_cat"].id, level="general",
                 state="dispatched", source="public", description="x", reported_at=T0,
                 grid_id=w["grids"][i % 2].id, department_id=w["dept"].id, paused_minutes=0,
                 extension_minutes=0, urge_count=0, rework_count=0, version=0)
            for i in range(500)])
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        with store.session() as s:
            rows = open_case_summaries(s)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert len(rows) == 503
    assert len([st for st in statements if st.lstrip().upper().startswith("SELECT")]) == 1


def test_case_timeline(store):
    ids = _populate(store)
    dept_id = ids["world"]["dept"].id
    with store.session() as s, s.begin():
        import_path(s)  # a written history: the payloads stay as given (PostGIS derives nothing)
        case = s.get(Case, ids["nowhere"])
        case.state, case.version = "reported", 0
        append_event(s, case, action=Action.REPORT, to_state=CaseState.REPORTED, actor="wang",
                     role=Role.ACCEPTOR, at=T0)
        append_event(s, case, action=Action.DISPATCH, to_state=CaseState.DISPATCHED, actor="zhao",
                     role=Role.DISPATCHER, at=T0 + timedelta(minutes=9), department_id=dept_id,
                     reason="属地派遣", payload={"limit_minutes": 240})
    with store.session() as s:
        timeline = case_events(s, ids["nowhere"])
    assert [(e.seq, e.action, e.from_state, e.to_state) for e in timeline] == [
        (1, "report", None, "reported"), (2, "dispatch", "reported", "dispatched")]
    assert timeline[0].payload == {} and timeline[0].department_name is None
    assert (timeline[1].department_name, timeline[1].reason, timeline[1].payload) == (
        "市环卫处", "属地派遣", {"limit_minutes": 240})
    assert timeline[1].at == T0 + timedelta(minutes=9) and timeline[1].actor == "zhao"


def test_layer_extent(store):
    with store.session() as s:
        assert layer_extent(s) is None
    _populate(store)
    with store.session() as s:
        assert layer_extent(s) == (X0, Y0, X0 + 200, Y0 + 100)


def test_case_summaries_in_one_query_in_the_order_asked(store):
    from app.store.queries import case_summaries

    ids = _populate(store)
    order = [ids["closed"], ids["nowhere"], ids["handling"], ids["no_point"]]
    with store.session() as s:
        got = case_summaries(s, [*order, 999999, ids["closed"]])
        assert [c.id for c in got] == order  # unknown ids left out, a repeated one listed once
        assert [_comparable(c) for c in got] == [_comparable(case_summary(s, i)) for i in order]
        assert got[0].state is CaseState.CLOSED and math.isnan(got[1].x)
        assert case_summaries(s, []) == []
