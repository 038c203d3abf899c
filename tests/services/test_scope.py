"""Scope on both stores (issue 10, item 5): a department operator reads only its department's
cases and its own undispatched reports — the queue, one case, its timeline, its photos, search
and the map's case layer — on SpatiaLite by the services' filter, on PostGIS by row-level security."""

from __future__ import annotations

import pytest

from app.core import build_core
from app.services.case_source import StoreCaseSource, read_scope
from app.services.location import LocationInput
from services.world import MANHOLE, draft, photo


@pytest.fixture
def cases(svc, world):
    """Open cases at JD001 and at PS, an undispatched report by JD001 and one by an acceptor."""
    a = world.actors
    made = {}
    r = svc.report(a["acceptor"], draft(description="人民路边有一堆暴露垃圾", photos=[photo()]))
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    made["jd"] = r.case.id
    r = svc.report(a["acceptor"], draft("component:01002", description="井盖松动", photos=[photo()],
                                        location=LocationInput(component_code=MANHOLE)))
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="PS")
    made["ps"] = r.case.id
    made["jd_report"] = svc.report(a["dept_jd"], draft(description="巡查发现路灯不亮")).case.id
    made["other_report"] = svc.report(a["acceptor"], draft(description="市民来电反映噪音")).case.id
    return made


def test_a_department_source_reads_only_its_cases(store, world, cases, clock):
    core = build_core(store, clock, actor=world.actors["dept_jd"])
    source = core.source
    assert source is not None
    mine = {cases["jd"], cases["jd_report"]}
    if store.backend == "spatialite":
        assert source.scope == world.dept["JD001"]
        assert {s.id for s in source.open_cases()} == mine
        for key in ("ps", "other_report"):
            assert source.case(cases[key]) is None
            assert source.events(cases[key]) == []
            assert core.photos(cases[key]) == []
        found = {r.id for r in core.find_cases(world.actors["dept_jd"], "").rows}
        assert cases["jd"] in found and not found & {cases["ps"], cases["other_report"]}
    else:  # PostGIS: unchanged, the login's row-level security decides (this store's login is staff)
        assert source.scope is None
        assert {s.id for s in source.open_cases()} == set(cases.values())
    for case_id in mine:
        assert source.case(case_id) is not None
    assert [e.action for e in source.events(cases["jd"])][:1] == ["report"]
    assert len(core.photos(cases["jd"])) == 1


def test_staff_and_unscoped_sources_read_every_case(store, world, cases, clock):
    for role in ("dispatcher", "acceptor", "leader_shift"):
        assert read_scope(store, world.actors[role]) is None
        source = StoreCaseSource.for_actor(store, world.actors[role])
        assert {s.id for s in source.open_cases()} == set(cases.values())
    assert read_scope(store, None) is None
    core = build_core(store, clock)  # no actor (the CLI, demo): no scope
    assert {s.id for s in core.source.open_cases()} == set(cases.values())


def test_a_department_operator_without_a_department_sees_nothing_on_spatialite(store, world, cases):
    from dataclasses import replace

    orphan = replace(world.actors["dept_jd"], department_id=None)
    source = StoreCaseSource.for_actor(store, orphan)
    if store.backend == "spatialite":
        assert source.open_cases() == [] and source.case(cases["jd"]) is None
    else:
        assert source.scope is None


def test_a_dispatch_elsewhere_leaves_the_department_queue(store, svc, world, cases):
    """Its own report, once dispatched to another department (HW), is no longer its case."""
    source = StoreCaseSource.for_actor(store, world.actors["dept_jd"])
    if store.backend != "spatialite":
        pytest.skip("PostGIS: row-level security (tested with department logins in tests/store)")
    a = world.actors
    case = source.case(cases["jd_report"])
    assert case is not None
    r = svc.file(a["leader_shift"], case.id, case.version)
    svc.dispatch(a["dispatcher"], r.case.id, r.version, department="HW")
    assert source.case(cases["jd_report"]) is None
    assert cases["jd_report"] not in {s.id for s in source.open_cases()}


@pytest.mark.qgis
def test_the_map_case_layer_shows_only_the_department_cases(qapp, store, world, cases, clock):
    """The map mirrors the queue (app/gis/case_sync.py), which loads from the scoped source."""
    from app.gis.case_sync import CaseLayerSync
    from app.gis.cases_layer import CaseLayerFeeder, new_case_layer
    from app.views.queue_state import QueueState

    core = build_core(store, clock, actor=world.actors["dept_jd"])
    state = QueueState(core.calendar)
    state.reset(core.source.open_cases(), clock.now())
    layer = new_case_layer()
    sync = CaseLayerSync(state, CaseLayerFeeder(layer))
    shown = {f["case_id"] for f in layer.getFeatures()}
    if store.backend == "spatialite":
        assert shown == {cases["jd"], cases["jd_report"]}
    else:
        assert shown == set(cases.values())
    sync.close()
