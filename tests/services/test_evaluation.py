"""Evaluation on both stores: real cases through the CaseService, read back from the case events only.

Three cases on T0's day: A closed by JD001 (every step on time); B handling at HW; C dispatched to HW,
returned (回退) and dispatched to JD001. Then the figures do not move when the time limits or a case
row are edited afterwards, and two runs give identical bytes.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from app.domain.indicators import FACT_KEYS
from app.services.errors import NotFound, ValidationError
from app.services.evaluation import EvaluationService, csv_bytes, evaluation_record, render
from app.store import evaluation as store_eval
from app.store.models import Case, CaseEvent, Category, TimeLimit
from services.loop_steps import closed, handling
from services.world import T0

DAY = T0.date()
TODAY = DAY + timedelta(days=30)


def _tr(msg) -> str:
    return str(msg)


def _svc(store) -> EvaluationService:
    return EvaluationService(store, today=lambda: TODAY)


@pytest.fixture
def three(svc, world, clock):
    a = world.actors
    made = {"A": closed(svc, world, clock, source="supervisor").case}
    clock.advance(timedelta(minutes=30))
    made["B"] = handling(svc, world, clock, department="HW").case
    clock.advance(timedelta(minutes=30))
    r = handling(svc, world, clock, department="HW")
    r = svc.request_return(a["dept_hw"], r.case.id, r.version, reason="不归环卫")
    r = svc.approve(a["dispatcher"], r.case.id, r.version)
    made["C"] = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001").case
    return made


def test_report_events_carry_the_case_facts(store, three):
    with store.session() as s:
        payloads = dict(s.execute(select(CaseEvent.case_id, CaseEvent.payload).where(CaseEvent.seq == 1)).all())
        rows = store_eval.case_row_facts(s, [c.id for c in three.values()])
        dispatches = s.scalars(select(CaseEvent.payload).where(CaseEvent.action == "dispatch")).all()
    for c in three.values():
        assert {k: payloads[c.id][k] for k in FACT_KEYS} == rows[c.id]
        assert payloads[c.id]["source"] == "supervisor" and payloads[c.id]["street"]
    assert dispatches and all(p["limit_minutes"] > 0 and p["basis"] and p["deadline"] for p in dispatches)


def test_departments(store, three):
    ev = _svc(store).evaluate(None, "department", DAY, DAY)
    by = {r.code: r for r in ev.results}
    jd, hw = by["JD001"], by["HW"]
    assert (jd.counts["assigned"], jd.counts["due"], jd.counts["handled"], jd.counts["handled_on_time"],
            jd.counts["closed"]) == (2, 2, 1, 1, 1)
    assert jd.rates["close_rate"].record() == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert (hw.counts["assigned"], hw.counts["returned"], hw.counts["due"], hw.counts["handled"]) == (2, 1, 1, 0)
    assert (hw.rates["return_share"].numerator, hw.rates["return_share"].denominator) == (1, 2)
    assert jd.flags == {"moved": [three["C"].number]} and hw.flags == {"moved": [three["C"].number]}
    assert all(r.insufficient and r.rank is None for r in ev.results)  # 2 cases each: too few to rank
    # a department operator evaluates its own department only
    own = _svc(store).evaluate(None, "department", DAY, DAY, department="HW")
    assert [r.code for r in own.results] == ["HW"]


def test_department_operator_reads_its_own_row(store, world, three):
    ev = _svc(store).evaluate(world.actors["dept_hw"], "department", DAY, DAY)
    assert [r.code for r in ev.results] == ["HW"]


def test_regions_and_positions(store, three):
    ev = _svc(store).evaluate(None, "region", DAY, DAY, level="street")
    (street,) = ev.results
    assert (street.counts["filed"], street.counts["closed"], street.counts["closed_on_time"]) == (3, 1, 1)
    assert street.rates["close_rate"].record()["value"] == pytest.approx(1 / 3, abs=1e-6)
    grids = _svc(store).evaluate(None, "region", DAY, DAY, level="grid")
    assert sum(r.counts["filed"] for r in grids.results) == 3
    pos = {(r.level, r.code): r for r in _svc(store).evaluate(None, "position", DAY, DAY).results}
    assert pos["supervisor", "supervisor"].counts["reports"] == 3
    assert pos["supervisor", "supervisor"].rates["valid_report_rate"].value == 1.0
    leader = pos["shift_leader", "leader_shift"]
    assert (leader.counts["filed"], leader.counts["filed_on_time"], leader.counts["closed"]) == (3, 3, 1)
    disp = pos["dispatcher", "dispatcher"]
    assert (disp.counts["dispatched"], disp.counts["redispatched"]) == (4, 1)
    only = _svc(store).evaluate(None, "position", DAY, DAY, level="dispatcher")
    assert {r.level for r in only.results} == {"dispatcher"}


def test_two_runs_are_identical_and_later_edits_do_not_change_a_past_period(store, three):
    runs = {}
    for subject in ("region", "department", "position"):
        first = _svc(store).evaluate(None, subject, DAY, DAY)
        assert render(first, "json", _tr) == render(_svc(store).evaluate(None, subject, DAY, DAY), "json", _tr)
        assert csv_bytes(first) == csv_bytes(_svc(store).evaluate(None, subject, DAY, DAY))
        runs[subject] = render(first, "json", _tr)
    # the rules change later: every time limit doubled, case A moved to another category and grid
    with store.session() as s, s.begin():
        s.execute(update(TimeLimit).values(minutes=TimeLimit.minutes * 2))
        mine = s.scalar(select(Case.category_id).where(Case.id == three["A"].id))
        other = s.scalars(select(Category.id).where(Category.kind == "event", Category.id != mine)
                          .order_by(Category.id).limit(1)).one()
        s.execute(update(Case).where(Case.id == three["A"].id).values(category_id=other, level="urgent"))
    for subject, before in runs.items():
        assert render(_svc(store).evaluate(None, subject, DAY, DAY), "json", _tr) == before, subject


def test_bad_input_and_an_empty_period(store, three):
    svc = _svc(store)
    with pytest.raises(ValidationError):
        svc.evaluate(None, "planets", DAY, DAY)
    with pytest.raises(ValidationError):
        svc.evaluate(None, "region", DAY, DAY, level="planet")
    with pytest.raises(ValidationError):
        svc.evaluate(None, "region", DAY, DAY - timedelta(days=1))
    with pytest.raises(ValidationError):
        svc.evaluate(None, "region", TODAY + timedelta(days=1), TODAY + timedelta(days=2))
    with pytest.raises(NotFound):
        svc.evaluate(None, "department", DAY, DAY, department="NOPE")
    empty = svc.evaluate(None, "department", date(2026, 1, 1), date(2026, 1, 31))
    record = evaluation_record(empty, _tr)
    assert empty.empty and record["results"] == [] and record["note"] and not record["partial"]
    assert svc.evaluate(None, "department", DAY, TODAY).partial


def test_the_headless_core_evaluates_with_its_clock(store, world, three, clock):
    from app.core.root import build_core

    core = build_core(store, clock)
    try:
        ev = core.evaluate(None, "department", DAY, DAY)
        assert ev.partial  # the core's clock is still on T0's day
        later = _svc(store).evaluate(None, "department", DAY, DAY)  # the same figures, the day over
        assert [r.record() for r in ev.results] == [r.record() for r in later.results] and not later.partial
        assert [r.code for r in core.evaluate(world.actors["dept_jd"], "department", DAY, DAY).results] == ["JD001"]
        with pytest.raises(ValidationError):
            core.evaluate(None, "department", DAY + timedelta(days=1), DAY + timedelta(days=1))  # the future
    finally:
        core.close()


def test_the_administrator_s_stored_weights_apply_and_are_named(store, world, three, clock):
    import tomllib

    from app.domain.indicators import DEFAULT_PATH
    from app.services.config import ConfigService

    shipped = _svc(store).evaluate(None, "department", DAY, DAY)
    value = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    value["version"] = "test-2"
    value["weights"]["department"] = {"close_rate": 100}  # only the closing rate counts
    clock.advance(timedelta(days=2))  # two days later the administrator changes the weights
    ConfigService(store, clock).set_setting(world.actors["admin"], "evaluation", value, reason="考核只看结案率")
    past = _svc(store).evaluate(None, "department", DAY, DAY)  # T0's day was evaluated with the old rules
    assert render(past, "json", _tr) == render(shipped, "json", _tr)
    stored = _svc(store).evaluate(None, "department", DAY, DAY + timedelta(days=2))
    assert (stored.rules_version, shipped.rules_version) == ("test-2", shipped.rules_version)
    assert stored.rules_sha256 != shipped.rules_sha256
    jd = next(r for r in stored.results if r.code == "JD001")
    assert jd.score == pytest.approx(50.0) and jd.weight_sum == 100  # 1 of 2 closed
    # the counts behind the rates are the same: only the weights moved
    assert [r.rates for r in stored.results] == [r.rates for r in shipped.results]
