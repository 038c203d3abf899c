"""The demo writes the payloads the live services write (issue 13): report events carry the case's
facts, every event that starts a limit its deadline, limit_minutes and basis, a dispatch its
department's code and name, an approved extension ``minutes`` (never ``extension_minutes``); the
demo's histories therefore evaluate without unknown deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from app.domain.indicators import FACT_KEYS, EvaluationRules, evaluate_departments
from app.store import evaluation as store_eval
from app.store.engine import open_store
from data.democity.generate import generate

LIVE_REPORT_KEYS = {"location", "grid", "x", "y", *FACT_KEYS}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('facts') / 'tiny.sqlite'}"
    generate(url, seed=5, scale="tiny")
    store = open_store(url)
    yield store
    store.dispose()


def _payloads(store, action: str):
    import json

    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT case_id, from_state, payload FROM case_events WHERE action = :a"),
                            {"a": action}).all()
    return [(c, f, json.loads(p) if isinstance(p, str) else (p or {})) for c, f, p in rows]


def test_report_events_carry_the_facts_of_their_case(demo):
    reports = _payloads(demo, "report")
    with demo.session() as s:
        rows = store_eval.case_row_facts(s, [c for c, _f, _p in reports])
    assert reports and len(rows) == len(reports)
    for case_id, _f, p in reports:
        assert set(p) >= LIVE_REPORT_KEYS, p
        assert {k: p[k] for k in FACT_KEYS} == rows[case_id]
        assert {"deadline", "limit_minutes", "basis"} <= set(p)  # the 受理 limit starts


def test_dispatches_and_approvals_as_the_services_write_them(demo):
    with demo.engine.connect() as conn:
        depts = {code for (code,) in conn.execute(text("SELECT code FROM departments"))}
    dispatches = _payloads(demo, "dispatch")
    assert dispatches
    for _c, _f, p in dispatches:
        assert set(p) == {"department", "department_name", "deadline", "limit_minutes", "basis"}, p
        assert p["department"] in depts
    approvals = _payloads(demo, "approve")
    assert approvals and all(p["request"] == f for _c, f, p in approvals)
    extensions = [p for _c, f, p in approvals if f == "extension_requested"]
    assert extensions and all("minutes" in p and "extension_minutes" not in p and "deadline" in p
                              for p in extensions)


def test_the_demo_evaluates_without_unknown_deadlines(demo):
    with demo.engine.connect() as conn:
        last = conn.execute(text("SELECT max(at) FROM case_events")).scalar_one()
    end = datetime.fromisoformat(str(last)) + timedelta(seconds=1)
    start = end - timedelta(days=60)
    with demo.session() as s:
        cases = store_eval.histories(s, start, end)
        names = store_eval.department_names(s)
    results = evaluate_departments(cases, start, end, EvaluationRules.load(), names=names)
    assert results and sum(r.counts["handled_on_time"] for r in results) > 0
    assert not any("no_deadline" in r.flags for r in results)
