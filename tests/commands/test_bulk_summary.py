"""The summary a bulk dialog shows before anything runs: cases per action and per department."""

from __future__ import annotations

from types import SimpleNamespace

from app.commands import builtin_commands
from app.commands.bulk import summarize
from app.domain.definitions import Action
from app.i18n import Catalogue


def _dispatch():
    return next(c for c in builtin_commands() if c.action is Action.DISPATCH)


def test_summary_counts_per_department_most_first_and_unknown_last():
    rows = [SimpleNamespace(id=i, dept=d) for i, d in enumerate(["环卫所", "排水公司", "环卫所", None, "城管中队"])]
    summary = summarize(_dispatch(), rows, lambda r: r.dept)
    assert summary.total == 5 and summary.action == "派遣"
    assert summary.departments == (("环卫所", 2), ("城管中队", 1), ("排水公司", 1), (None, 1))
    assert summary.lines() == ["派遣：5 件", "  环卫所：2 件", "  城管中队：1 件", "  排水公司：1 件", "  （部门待定）：1 件"]
    assert summary.lines(Catalogue("en"))[0] == "Dispatch: 5"


def test_an_empty_selection_summarises_to_nothing():
    summary = summarize(_dispatch(), [], lambda r: "x")
    assert summary.total == 0 and summary.departments == ()
