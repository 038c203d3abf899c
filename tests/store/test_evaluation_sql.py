"""The evaluation's counts aggregated in SQL (app.store.evaluation_sql) equal the Python walk's
(app.domain.indicators over app.store.evaluation.histories) on a generated history, on both stores:
every subject and level, every count, rate, average, score, grade, rank and flag list."""

from __future__ import annotations

from datetime import date

import pytest

from app.services.actors import Actor
from app.services.evaluation import EvaluationService, evaluation_record
from data.democity.generate import generate

TODAY = date(2026, 12, 15)
PERIODS = [(date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 10, 25), date(2026, 11, 10)),
           (date(2026, 11, 19), date(2026, 11, 19))]
SUBJECTS = [("region", "grid"), ("region", "community"), ("region", "street"), ("region", "district"),
            ("department", None), ("position", None), ("position", "supervisor")]


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def tiny(request, tmp_path_factory):
    """The tiny demo (seed 1: ~290 cases over three weeks, with returns, rulings, reworks, call-backs)."""
    if request.param == "spatialite":
        url = f"sqlite:///{tmp_path_factory.mktemp('evalsql') / 'tiny.sqlite'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        url = cluster.url(cluster.create_database())
    generate(url, seed=1, scale="tiny")
    from app.store.engine import open_store

    store = open_store(url)
    yield store
    store.dispose()


def _both(store, subject, level, start, end, actor=None):
    service = EvaluationService(store, today=lambda: TODAY)
    walked = service.evaluate(actor, subject, start, end, level=level)
    counted = service.evaluate(actor, subject, start, end, level=level, detail=False)
    return evaluation_record(walked, str), evaluation_record(counted, str)


@pytest.mark.parametrize(("subject", "level"), SUBJECTS)
def test_sql_counts_equal_the_walk(tiny, subject, level):
    for start, end in PERIODS:
        walked, counted = _both(tiny, subject, level, start, end)
        assert walked["results"], (subject, level, start)  # the history has something to count
        assert counted == walked, (subject, level, start, end)


def test_the_history_exercises_the_hard_parts(tiny):
    """The comparison means something: the period has returned, moved and reworked assignments,
    late and on-time stages, call-backs and every kind of flag the demo can produce."""
    walked, _ = _both(tiny, "department", None, *PERIODS[0])
    totals: dict[str, int] = {}
    for r in walked["results"]:
        for k, v in r["counts"].items():
            totals[k] = totals.get(k, 0) + v
    assert totals["returned"] > 0 and totals["reworks"] > 0 and totals["callbacks_reached"] > 0
    assert 0 < totals["handled_on_time"] < totals["handled"]
    flags = {k for r in walked["results"] for k in r["flags"]}
    assert {"moved", "reworked", "override"} <= flags


def test_department_scope_on_spatialite(tiny):
    """A department operator's evaluation reads its own cases only (SpatiaLite: the read scope)."""
    if tiny.engine.dialect.name != "sqlite":
        pytest.skip("PostGIS scopes by the login's row-level security")
    from sqlalchemy import select

    from app.domain.definitions import Role
    from app.store.models import Department, User

    with tiny.session() as s:
        user = s.execute(select(User.username, User.department_id).join(Department, Department.id == User.department_id)
                         .where(User.role == Role.DEPARTMENT.value).order_by(User.id).limit(1)).one()
    actor = Actor(user[0], user[0], Role.DEPARTMENT, department_id=user[1])
    walked, counted = _both(tiny, "department", None, *PERIODS[0], actor=actor)
    assert counted == walked and len(walked["results"]) <= 1
    walked, counted = _both(tiny, "region", "grid", *PERIODS[0], actor=actor)
    assert counted == walked
