"""run_bulk against a real store: each case its own transaction, one failure never stops the others."""

from __future__ import annotations

from services.world import draft

from app.commands import CommandInputError, run_bulk
from app.domain.definitions import CaseState


def _filed(core, world, n: int):
    a = world.actors
    rows = []
    for i in range(n):
        r = core.cases.report(a["supervisor"], draft(description=f"第 {i} 处暴露垃圾"))
        r = core.cases.file(a["leader_shift"], r.case.id, r.version)
        rows.append(r.case)
    return rows


def test_bulk_dispatch_goes_on_after_a_failure(core, world):
    rows = _filed(core, world, 3)
    stale = rows[1]
    core.cases.urge(world.actors["boss"], stale.id, stale.version)  # the row's version is now stale
    outcome = run_bulk(core.commands.get("gridhall.case.dispatch"), core, world.actors["dispatcher"], rows, {})
    assert [n for n, _exc in outcome.failed] == [stale.number]
    assert "请刷新后重试" in str(outcome.failed[0][1])
    assert [n for n, _r in outcome.done] == [rows[0].number, rows[2].number]
    for row in (rows[0], rows[2]):  # each went to its own first suggestion
        case = core.cases.get(row.id)
        assert case.state is CaseState.DISPATCHED and case.department_code == "HW"
    assert core.cases.get(stale.id).state is CaseState.FILED  # its transaction wrote nothing
    text = outcome.text()
    assert text.startswith("成功 2 件，失败 1 件") and f"✗ {stale.number}" in text and "派遣完成" in text


def test_bulk_values_are_checked_for_every_case_and_nothing_is_written(core, world):
    rows = _filed(core, world, 2)
    outcome = run_bulk("gridhall.case.void", core, world.actors["leader_shift"], rows, {"reason": ""})
    assert outcome.done == [] and len(outcome.failed) == 2
    assert all(isinstance(exc, CommandInputError) and exc.field == "reason" for _n, exc in outcome.failed)
    assert [core.cases.get(r.id).version for r in rows] == [r.version for r in rows]


def test_bulk_dispatch_to_a_named_department(core, world):
    rows = _filed(core, world, 1)
    outcome = run_bulk("gridhall.case.dispatch", core, world.actors["dispatcher"], rows, {"department": "JD001"})
    assert outcome.failed == [] and core.cases.get(rows[0].id).department_code == "JD001"


def test_between_runs_before_every_case_but_the_first(core, world):
    """A GUI passes ``between`` (its event loop's gate): called between two cases, after the first
    case committed and before the next one starts."""
    rows = _filed(core, world, 3)
    seen: list[list[CaseState]] = []

    def between():
        seen.append([core.cases.get(r.id).state for r in rows])

    outcome = run_bulk("gridhall.case.dispatch", core, world.actors["dispatcher"], rows, {}, between=between)
    assert len(outcome.done) == 3
    d, f = CaseState.DISPATCHED, CaseState.FILED
    assert seen == [[d, f, f], [d, d, f]]
