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
    """Open cases at JD001 and at PS, an undispatched report by JD001 and one by an acceptor.

    The filed ones are a supervisor's reports (filed without a site verification first)."""
    a = world.actors
    made = {}
    r = svc.report(a["supervisor"], draft(description="人民路边有一堆暴露垃圾", photos=[photo()]))
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    made["jd"] = r.case.id
    r = svc.report(a["supervisor"], draft("component:01002", description="井盖松动", photos=[photo()],
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


# ---- the headless reads (CaseService, CLI) and the search ------------------------------------

@pytest.fixture
def department_store(store, world):
    """What a JD001 operator's programs read through: on SpatiaLite the one store (the services
    scope it), on PostGIS the operator's own login (row-level security decides)."""
    if store.backend == "spatialite":
        yield store
        return
    from store.hall import world_logins

    from app.store import security
    from app.store.engine import open_store
    from services.world import PASSWORD

    world_logins(store, world, PASSWORD)
    opened = open_store(store.url.set(username=security.login_name("dept_jd"), password=PASSWORD)
                        .render_as_string(hide_password=False))
    try:
        yield opened
    finally:
        opened.dispose()
        for who in world.actors:
            security.drop_login(store, who)


def test_case_service_reads_only_the_department_cases(store, svc, world, cases, clock, department_store):
    """CaseService.get / events / list_cases (the CLI's and the forms' reads): another department's
    case is "not found", with nothing of it in the answer, by id and by number."""
    from app.domain.definitions import CaseState
    from app.services.errors import NotFound

    jd = world.actors["dept_jd"]
    core = build_core(department_store, clock, actor=jd)
    mine = {cases["jd"], cases["jd_report"]}
    others = {cases["ps"], cases["other_report"]}
    for key in ("ps", "other_report"):
        number = svc.get(cases[key]).number  # the staff's unscoped service reads it
        for ref in (cases[key], number):
            with pytest.raises(NotFound) as refused:
                core.cases.get(ref)
            assert "井盖" not in str(refused.value) and "噪音" not in str(refused.value)
        if store.backend == "spatialite":
            with pytest.raises(NotFound):  # said so
                core.cases.events(cases[key])
            with pytest.raises(NotFound):  # an actor passed to the call scopes an unscoped service
                svc.get(cases[key], actor=jd)
        else:
            assert core.cases.events(cases[key]) == []  # PostGIS: the rows are not there for this login
    assert {c.id for c in core.cases.list_cases()} == mine
    assert {c.id for c in core.cases.list_cases(states=list(CaseState), limit=1000)} == mine
    for case_id in mine:
        assert core.cases.get(case_id).id == case_id
    assert [e.action for e in core.cases.events(cases["jd"])][:1] == ["report"]
    if store.backend == "spatialite":
        assert {c.id for c in svc.list_cases(actor=jd)} == mine
        assert not others & {c.id for c in svc.list_cases(states=list(CaseState), actor=jd)}
    # staff read everything, as before
    staff = build_core(store, clock, actor=world.actors["dispatcher"])
    assert {c.id for c in staff.cases.list_cases()} == mine | others
    assert staff.cases.get(cases["ps"]).id == cases["ps"]


def test_every_case_read_of_the_desk_is_scoped_on_spatialite(store, svc, world, cases, clock):
    """The reads behind the desk's forms and buttons (allowed actions and their blocks, dispatch
    suggestions, timer, deadline preview, filing and closing standards, closing evidence,
    attachments) answer "not found" for another department's case, as get() does."""
    from app.services.errors import NotFound

    if store.backend != "spatialite":
        pytest.skip("PostGIS: row-level security (tested with department logins in tests/store)")
    jd = world.actors["dept_jd"]
    core = build_core(store, clock, actor=jd)
    reads = {
        "allowed_actions": lambda c: core.cases.allowed_actions(jd, c),
        "action_blocks": lambda c: core.cases.action_blocks(jd, c),
        "dispatch_suggestions": core.cases.dispatch_suggestions,
        "timer": core.cases.timer,
        "preview_deadline": core.cases.preview_deadline,
        "filing_standard": core.cases.filing_standard,
        "closing_standard": core.cases.closing_standard,
        "closing_evidence": core.cases.closing_evidence,
        "attachments": core.cases.attachments,
    }
    for name, read in reads.items():
        for key in ("ps", "other_report"):
            with pytest.raises(NotFound, match="不存在"):
                read(cases[key])
                pytest.fail(f"{name} read {key}'s case")
        read(cases["jd"])  # its own department's case: answered
        read(cases["jd_report"])  # its own undispatched report: answered
    with pytest.raises(NotFound):  # an actor passed to an unscoped service decides for that call
        svc.allowed_actions(jd, cases["ps"])
    assert svc.allowed_actions(world.actors["dispatcher"], cases["ps"]) is not None  # staff: unchanged
    assert len(svc.attachments(cases["ps"])) == 1


def test_search_finds_the_department_own_undispatched_reports(store, world, cases, clock, department_store):
    """A department operator's search covers what it may read: its department's cases AND the
    reports it made itself that are not dispatched yet — never another department's."""
    jd = world.actors["dept_jd"]
    core = build_core(department_store, clock, actor=jd)
    found = {r.id for r in core.find_cases(jd, "").rows}
    assert found == {cases["jd"], cases["jd_report"]}
    assert {r.id for r in core.find_cases(jd, "路灯").rows} == {cases["jd_report"]}  # its own report's words
    assert {r.id for r in core.find_cases(jd, "井盖").rows} == set()  # PS's case: not found
    assert {r.id for r in core.find_cases(jd, "噪音").rows} == set()  # an acceptor's report: not found


def test_the_cli_answers_a_department_operator_within_its_scope(store, svc, world, cases, monkeypatch, capsys):
    """`gridhall case show/list/find --as dept_jd`: another department's case is not found and nothing
    of it is printed; on PostGIS the CLI connects as the operator's own login."""
    import json

    from sqlalchemy import update

    from app.cli import build_parser
    from app.cli.case import run_case
    from app.domain.clock import FixedClock
    from app.services import auth
    from app.store import security
    from app.store.models import User
    from services.world import PASSWORD

    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    try:
        if store.backend == "spatialite":
            with store.session() as s, s.begin():
                s.execute(update(User).values(password_hash=auth.hash_password(PASSWORD)))
            db = str(store.path)
        else:
            from store.hall import world_logins

            world_logins(store, world, PASSWORD)
            db = store.url.render_as_string(hide_password=False)
        monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)

        def run(*argv: str):
            code = run_case(build_parser().parse_args(["case", *argv, "--db", db, "--as", "dept_jd"]),
                            clock=FixedClock(clock_now))
            out = capsys.readouterr()
            return code, out.out, out.err

        clock_now = svc.clock.now()
        ps = svc.get(cases["ps"])
        code, out, err = run("show", ps.number)
        assert code == 1 and "不存在" in err and "井盖" not in out + err and "苏州排水" not in out + err
        code, out, err = run("show", svc.get(cases["jd"]).number)
        assert code == 0, err
        code, out, err = run("list", "--format", "json")
        assert code == 0, err
        assert {c["id"] for c in json.loads(out)["cases"]} == {cases["jd"], cases["jd_report"]}
        code, out, err = run("find", "--format", "json")
        assert code == 0, err
        assert ps.number not in out and svc.get(cases["jd_report"]).number in out
    finally:
        auth.configure_hasher()
        if store.backend != "spatialite":
            for who in world.actors:
                security.drop_login(store, who)
