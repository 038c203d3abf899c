"""The generated demo on both backends: codes, geometry, a legal and intact audit chain, open cases."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from shapely import wkt as shapely_wkt
from sqlalchemy import func, insert, select, text

from app.domain.calendar import WorkCalendar
from app.domain.cases import TimerSpec
from app.domain.clock import FixedClock
from app.domain.deadlines import read_timer
from app.domain.definitions import OPEN_STATES, Basis, Light, Stage
from app.domain.workflow import WORKFLOW
from app.store.commands import init_db, verify_audit
from app.store.engine import open_store
from app.store.models import Department
from data.democity.generate import DemoCancelled, DemoError, generate


def _pg_url(request) -> str:
    cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database()
    request.addfinalizer(lambda: cluster.drop_database(name))
    return cluster.url(name)


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def demo(request, tmp_path_factory):
    """A tiny demo generated once per backend: (summary, open store)."""
    if request.param == "spatialite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'tiny.sqlite'}"
    else:
        url = _pg_url(request)
    summary = generate(url, seed=3, scale="tiny")
    store = open_store(url)
    yield summary, store
    store.dispose()


def _rows(store, sql: str):
    with store.engine.connect() as conn:
        return conn.execute(text(sql)).all()


def test_counts_match_the_summary(demo):
    summary, store = demo
    counts = {t: _rows(store, f"SELECT count(*) FROM {t}")[0][0]
              for t in ("admin_areas", "unit_grids", "components", "departments", "users", "cases", "case_events")}
    assert counts["admin_areas"] == 1 + summary.streets + summary.communities == 4
    assert counts["unit_grids"] == summary.grids >= 100
    assert counts["components"] == summary.components >= 1000
    assert counts["departments"] == summary.departments
    assert counts["users"] == summary.users
    assert counts["cases"] == summary.cases >= 250
    assert counts["case_events"] == summary.events >= 6 * summary.cases
    assert "案卷" in str(summary) and "在办" in str(summary)


def test_grid_codes_and_geometry_nest_in_their_community(demo):
    _summary, store = demo
    coms = {cid: (code, shapely_wkt.loads(g)) for cid, code, g in _rows(
        store, "SELECT id, code, ST_AsText(geom) FROM admin_areas WHERE level = 'community'")}
    grids = _rows(store, "SELECT code, community_id, ST_AsText(geom), area_m2, supervisor_id FROM unit_grids")
    for code, community_id, geom, area, supervisor in grids:
        com_code, com_geom = coms[community_id]
        assert re.fullmatch(r"\d{15}", code) and code.startswith(com_code)
        poly = shapely_wkt.loads(geom)
        assert poly.is_valid and com_geom.buffer(0.01).contains(poly)
        assert abs(poly.area - area) < 1.0
        assert supervisor is not None
    total = sum(shapely_wkt.loads(g).area for _c, _i, g, _a, _s in grids)
    assert abs(total - sum(g.area for _c, g in coms.values())) < 1.0  # seamless: no gaps, no overlaps


def test_components_have_valid_codes_and_lie_in_their_grid(demo):
    _summary, store = demo
    grids = {gid: shapely_wkt.loads(g) for gid, g in _rows(store, "SELECT id, ST_AsText(geom) FROM unit_grids")}
    rows = _rows(store, """SELECT c.code, k.code, c.grid_id, ST_AsText(c.geom), c.status,
                                  c.authority_department_id, c.initial_date
                           FROM components c JOIN categories k ON k.id = c.category_id""")
    majors = set()
    for code, cat, grid_id, geom, status, authority, initial in rows:
        assert re.fullmatch(rf"320508{cat}\d{{6}}", code)
        assert grids[grid_id].contains(shapely_wkt.loads(geom))
        assert status in ("intact", "damaged", "lost", "abandoned", "removed") and authority and initial
        majors.add(cat[:2])
    assert majors == {"01", "02", "03", "04", "05"}


def test_cases_lie_in_their_grid_and_component_cases_at_their_component(demo):
    _summary, store = demo
    grids = {gid: shapely_wkt.loads(g) for gid, g in _rows(store, "SELECT id, ST_AsText(geom) FROM unit_grids")}
    comps = {cid: (gid, g, cat) for cid, gid, g, cat in _rows(
        store, "SELECT c.id, c.grid_id, ST_AsText(c.geom), k.code FROM components c "
               "JOIN categories k ON k.id = c.category_id")}
    kinds = set()
    for kind, grid_id, geom, component_id, cat_kind, cat_code, address in _rows(
            store, "SELECT c.kind, c.grid_id, ST_AsText(c.geom), c.component_id, k.kind, k.code, c.address "
                   "FROM cases c JOIN categories k ON k.id = c.category_id"):
        kinds.add(kind)
        assert grids[grid_id].contains(shapely_wkt.loads(geom))
        assert cat_kind == "event" and address
        if kind == "component":
            comp_grid, comp_geom, comp_cat = comps[component_id]
            assert (comp_grid, comp_geom, comp_cat) == (grid_id, geom, cat_code)
        else:
            assert component_id is None and cat_code[:2] in ("06", "07", "08", "09", "10")
    assert kinds == {"event", "component"}


def test_audit_chain_verifies(demo):
    summary, store = demo
    assert verify_audit(store) is None
    assert _rows(store, "SELECT chain_no, hash FROM audit_head WHERE id = 1")[0] == (summary.events, summary.audit_hash)


def test_every_history_replays_legally_in_time_order(demo):
    _summary, store = demo
    events = defaultdict(list)
    for case_id, action, role, from_state, to_state, at, payload, reason in _rows(
            store, "SELECT case_id, action, role, from_state, to_state, at, payload, reason "
                   "FROM case_events ORDER BY chain_no"):
        events[case_id].append((action, role, from_state, to_state, at, payload, reason))
    cases = _rows(store, "SELECT id, state, version, number, kind, reported_at, rework_count FROM cases")
    assert len(events) == len(cases)
    for case_id, state, version, number, kind, reported_at, reworks in cases:
        evs = events[case_id]
        assert len(evs) == version
        steps = [(a, r, _payload(p).get("outcome")) for a, r, _f, _t, _at, p, _r in evs]
        assert WORKFLOW.replay(steps).value == state, number
        assert [e[2] for e in evs] == [None] + [e[3] for e in evs[:-1]]  # from_state follows to_state
        times = [_dt(e[4]) for e in evs]
        assert times == sorted(times) and times[0] == _dt(reported_at)
        assert reworks == sum(1 for a, *_rest in steps if a == "check" and _rest[-1] == "failed")
        assert re.fullmatch(rf"{'B' if kind == 'component' else 'S'}{_dt(reported_at):%Y%m%d}-\d{{4}}", number)


def test_open_cases_cover_every_open_state_and_light(demo):
    summary, store = demo
    cal = WorkCalendar()
    lights, states = set(), set()
    for row in _rows(store, "SELECT state, stage, timer_basis, limit_minutes, timer_started_at, paused_since, "
                            "paused_minutes, extension_minutes, deadline_at FROM cases "
                            "WHERE state NOT IN ('closed', 'voided', 'not_filed')"):
        state, stage, basis, limit, started, paused_since, paused, ext, deadline_at = row
        states.add(state)
        spec = TimerSpec(Stage(stage), Basis(basis), limit, _dt(started), paused, _dt(paused_since), ext)
        reading = read_timer(spec, cal, summary.now)
        lights.add("paused" if reading.paused else reading.light.value)
        assert (deadline_at is None) == reading.paused
    assert states == {s.value for s in OPEN_STATES}
    assert lights == {Light.GREEN.value, Light.YELLOW.value, Light.RED.value, "paused"}
    assert sum(summary.open_by_state.values()) == len(_rows(
        store, "SELECT id FROM cases WHERE state NOT IN ('closed', 'voided', 'not_filed')"))


def test_new_rows_get_fresh_ids_after_the_demo(demo):
    _summary, store = demo
    with store.engine.connect() as conn:  # PostgreSQL sequences were moved past the explicit ids
        new_id = conn.execute(insert(Department).values(code="NEW", name="新部门", kind="bureau")
                              .returning(Department.id)).scalar_one()
        assert new_id > conn.execute(select(func.max(Department.id)).where(Department.code != "NEW")).scalar()
        conn.rollback()


def test_a_second_demo_into_the_same_database_is_refused_and_writes_nothing(demo):
    summary, store = demo
    with pytest.raises(DemoError, match="数据库已有数据"):
        generate(store.url.render_as_string(hide_password=False), seed=4, scale="tiny")
    assert _rows(store, "SELECT count(*) FROM cases")[0][0] == summary.cases


def test_same_seed_same_database_other_seed_other_history(tmp_path):
    a = generate(tmp_path / "a.sqlite", seed=11, scale="tiny")
    b = generate(tmp_path / "b.sqlite", seed=11, scale="tiny")
    c = generate(tmp_path / "c.sqlite", seed=12, scale="tiny")
    assert a.audit_hash == b.audit_hash != c.audit_hash
    numbers = []
    for name in ("a", "b"):
        store = open_store(tmp_path / f"{name}.sqlite")
        numbers.append(_rows(store, "SELECT number, state, ST_AsText(geom) FROM cases ORDER BY id"))
        store.dispose()
    assert numbers[0] == numbers[1]


def test_bad_input_is_refused_before_anything_is_created(tmp_path):
    path = tmp_path / "x.sqlite"
    with pytest.raises(DemoError, match="未知的演示规模"):
        generate(path, scale="town")
    with pytest.raises(DemoError, match="非负整数"):
        generate(path, seed=-1, scale="tiny")
    assert not path.exists()


def test_cancel_leaves_no_partial_demo(tmp_path):
    fresh = tmp_path / "fresh.sqlite"
    calls = iter(range(100))
    with pytest.raises(DemoCancelled):
        generate(fresh, scale="tiny", cancel=lambda: next(calls) >= 2)
    assert not Path(fresh).exists()  # the file made for the demo is gone again
    existing = tmp_path / "empty.sqlite"
    init_db(existing).dispose()
    with pytest.raises(DemoCancelled):
        generate(existing, scale="tiny", cancel=lambda: True)
    store = open_store(existing)
    assert _rows(store, "SELECT count(*) FROM admin_areas")[0][0] == 0
    store.dispose()


def test_now_none_takes_the_injected_clock(tmp_path):
    at = datetime(2026, 6, 3, 15, 5)
    summary = generate(tmp_path / "clock.sqlite", scale="tiny", now=None, clock=FixedClock(at))
    assert summary.now == at
    store = open_store(tmp_path / "clock.sqlite")
    with store.engine.connect() as conn:
        latest = conn.execute(text("SELECT max(at) FROM case_events")).scalar()
    store.dispose()
    assert _dt(latest) <= at


@pytest.mark.slow
def test_district_matches_the_published_shares(tmp_path):
    summary = generate(tmp_path / "district.sqlite", scale="district")
    assert summary.streets == 3 and summary.communities == 24
    assert summary.grids >= 2500 and summary.components >= 25000
    assert 15_000 <= summary.cases <= 20_000 and 300 <= summary.open_cases <= 600
    store = open_store(tmp_path / "district.sqlite")
    with store.engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM cases GROUP BY kind")).all())
        majors = dict(conn.execute(text(
            "SELECT k.major_code, count(*) FROM cases c JOIN categories k ON k.id = c.category_id "
            "WHERE c.kind = 'event' GROUP BY k.major_code")).all())
        sources = dict(conn.execute(text("SELECT source, count(*) FROM cases GROUP BY source")).all())
        supervisors = conn.execute(select(func.count(text("DISTINCT supervisor_id"))).select_from(
            text("unit_grids"))).scalar()
    assert verify_audit(store) is None
    store.dispose()
    assert 0.80 <= kinds["event"] / summary.cases <= 0.90
    assert 0.75 <= (majors["06"] + majors["07"] + majors["09"]) / kinds["event"] <= 0.86
    assert max(sources, key=sources.get) == "supervisor"
    assert supervisors == 45


def _payload(value):
    if value is None:
        return {}
    if isinstance(value, str):
        import json

        return json.loads(value) or {}
    return value


def _dt(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def test_supervisors_patrol_their_grids(demo):
    """Every supervisor with grids stands in one of them (issue 11: suggestions need positions); most on duty."""
    _summary, store = demo
    rows = _rows(store, """
        SELECT p.username, p.on_duty, EXISTS (SELECT 1 FROM unit_grids g JOIN users u ON u.id = g.supervisor_id
                                               WHERE u.username = p.username AND ST_Contains(g.geom, p.geom))
          FROM supervisor_positions p""")
    supervisors = _rows(store, "SELECT count(DISTINCT supervisor_id) FROM unit_grids")[0][0]
    assert len(rows) == supervisors > 0
    assert all(inside for _u, _d, inside in rows)
    on_duty = sum(1 for _u, duty, _i in rows if duty)
    assert 0 < on_duty < len(rows) or len(rows) < 5


def test_urges_disputes_and_call_backs_carry_what_the_services_write(demo):
    """督办 levels, 争议/裁定 and 回访 in the demo: the payloads CaseService writes, the case columns they set."""
    _summary, store = demo
    depts = {i: (code, name) for i, code, name in _rows(store, "SELECT id, code, name FROM departments")}
    cases = {i: (source, level, dept) for i, source, level, dept in _rows(
        store, "SELECT id, source, urge_level, department_id FROM cases")}
    seen = defaultdict(int)
    levels: dict[int, int] = defaultdict(int)
    for case_id, action, dept_id, payload in _rows(
            store, "SELECT case_id, action, department_id, payload FROM case_events "
                   "WHERE action IN ('urge', 'dispute', 'rule', 'callback') ORDER BY chain_no"):
        p = _payload(payload)
        seen[action] += 1
        if action == "urge":
            assert set(p) == {"urge_count", "urge_level"} and p["urge_level"] in (1, 2, 3)
            levels[case_id] = max(levels[case_id], p["urge_level"])
        elif action == "dispute":
            assert p == {}
        elif action == "rule":
            code, name = depts[dept_id]
            assert {k: p[k] for k in ("department", "department_name")} == {"department": code, "department_name": name}
            assert set(p) == ({"ruling", "department", "department_name"} if p["ruling"] == "upheld"
                              else {"ruling", "department", "department_name", "deadline", "limit_minutes", "basis"})
        else:
            source, _level, case_dept = cases[case_id]
            assert source in ("public", "hotline")
            assert p["result"] in ("satisfied", "basically_satisfied", "unsatisfied", "unreachable")
            assert p == {"result": p["result"], "department": depts[case_dept][0],
                         "department_name": depts[case_dept][1]}
    assert seen["urge"] and seen["dispute"] and seen["callback"], dict(seen)
    assert {i: level for i, (_s, level, _d) in cases.items() if level} == dict(levels)
