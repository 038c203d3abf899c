"""A real store job cancelled mid-way leaves the store exactly as before (both backends).

The runner cannot undo writes: the work writes in one transaction and lets Cancelled (from
``feedback.check()``) propagate out of it, so the transaction rolls back.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, insert, inspect, select

from app.jobs import Feedback, JobRunner, JobState
from app.store.models import Department

N = 40


def snapshot(store) -> dict[str, object]:
    """Row counts of every table and the departments themselves."""
    with store.engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if not t.startswith(("spatial", "sql", "geometry"))]
        counts = {t: conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar() for t in tables}
        rows = conn.execute(select(Department.code, Department.name).order_by(Department.code)).all()
    return {"counts": counts, "departments": [tuple(r) for r in rows]}


def add_departments(store, gate: threading.Event | None = None, halfway: threading.Event | None = None):
    """The work: N departments in one transaction, a cancel point after each."""
    def work(fb: Feedback) -> int:
        with store.engine.begin() as conn:
            for i in range(N):
                if i == N // 2 and halfway is not None:
                    halfway.set()
                    gate.wait(10)
                fb.check()
                conn.execute(insert(Department).values(code=f"T{i:03d}", name=f"测试部门 {i}",
                                                       kind="street_office"))
                fb.progress((i + 1) / N, f"部门 {i + 1}/{N}")
        return N
    return work


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown(timeout=10)


@pytest.fixture
def seeded(store):
    with store.session() as s, s.begin():
        s.add(Department(code="JD01", name="东城街道办事处", kind="street_office"))
    return store


def test_cancelled_mid_way_leaves_the_store_as_before(seeded, runner):
    before = snapshot(seeded)
    halfway, gate = threading.Event(), threading.Event()
    job = runner.run("添加部门", add_departments(seeded, gate, halfway))
    assert halfway.wait(10)
    with seeded.engine.connect() as conn:  # half is written, inside the job's open transaction
        assert conn.execute(select(func.count()).select_from(Department)).scalar() == 1
    job.cancel()
    gate.set()
    assert job.wait(30)
    assert job.state is JobState.CANCELLED and job.fraction == pytest.approx(0.5)
    assert snapshot(seeded) == before


def test_the_same_work_not_cancelled_commits(seeded, runner):
    job = runner.run("添加部门", add_departments(seeded))
    assert job.wait(30) and job.outcome() == N
    assert len(snapshot(seeded)["departments"]) == N + 1
