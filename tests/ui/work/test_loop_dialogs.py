"""督办 with a level and deadline, 协调裁定 and 回访 through the desk's action dialogs, over a real tiny demo store."""

from __future__ import annotations

from datetime import datetime

import pytest
from qtpy.QtCore import Qt
from sqlalchemy import text

from app.domain.definitions import Action, CaseState, Role
from app.ui.forms.action_dialogs import ActionDialog

from .helpers import wait_idle

pytestmark = pytest.mark.neutral


def _open(qtbot, desk, actor, runner, action, row):
    dialog = ActionDialog(desk, actor, runner, action, row)
    qtbot.addWidget(dialog)
    wait_idle(qtbot, runner)
    return dialog


def _ok(qtbot, dialog):
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=20000)


def _choose(combo, value) -> None:
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)


def test_a_leader_urges_with_a_level_and_an_earlier_deadline(qtbot, desk, login_as, queue, runner):
    leader = login_as(Role.LEADER)
    row = next(r for r in sorted(queue.rows, key=lambda r: r.number)
               if r.state is CaseState.HANDLING and r.deadline_at and r.deadline_at > datetime(2026, 11, 20, 16))
    dialog = _open(qtbot, desk, leader, runner, Action.URGE, row)
    _choose(dialog.widgets["level"], "3")
    dialog.widgets["deadline"].setText("明天")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    runner.wait()
    qtbot.waitUntil(lambda: "督办时限" in dialog.banner.text(), timeout=20000)
    assert desk.cases.get(row.id).version == row.version  # nothing was written
    dialog.widgets["deadline"].setText("2026-11-20 16:00")
    _ok(qtbot, dialog)
    case = desk.cases.get(row.id)
    assert (case.urge_level, case.urge_deadline_at, case.deadline_at) == \
        (3, datetime(2026, 11, 20, 16), datetime(2026, 11, 20, 16))


def test_a_dispatcher_rules_a_dispute_to_another_department(qtbot, desk, login_as, queue, runner):
    dispatcher = login_as(Role.DISPATCHER)
    row = next(r for r in sorted(queue.rows, key=lambda r: r.number) if r.state is CaseState.DISPUTED)
    before = desk.cases.get(row.id)
    dialog = _open(qtbot, desk, dispatcher, runner, Action.RULE, row)
    combo = dialog.widgets["department"]
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=20000)
    other = next(i for i in range(combo.count()) if f"（{before.department_code}）" not in combo.itemText(i))
    combo.setCurrentIndex(other)
    _choose(dialog.widgets["ruling"], "reassigned")
    dialog.widgets["reason"].setText("协调会议确认属于其他部门职责")
    _ok(qtbot, dialog)
    case = desk.cases.get(row.id)
    assert case.state is CaseState.DISPATCHED and case.department_code != before.department_code
    rule = desk.cases.events(row.id)[-1]
    assert (rule.action, rule.payload["ruling"], rule.payload["department"]) == \
        ("rule", "reassigned", case.department_code)


def test_an_acceptor_calls_a_public_reporter_back(qtbot, desk, login_as, runner):
    acceptor = login_as(Role.ACCEPTOR)
    with desk.store.session() as s:
        case_id = s.execute(text("SELECT id FROM cases WHERE state = 'closed' AND source IN ('public', 'hotline') "
                                 "ORDER BY id LIMIT 1")).scalar_one()
    row = desk.cases.get(case_id)
    dialog = _open(qtbot, desk, acceptor, runner, Action.CALLBACK, row)
    _choose(dialog.widgets["result"], "unsatisfied")
    dialog.widgets["note"].setText("异味仍在")
    _ok(qtbot, dialog)
    callback = desk.cases.events(case_id)[-1]
    assert (callback.action, callback.payload["result"], callback.payload["note"]) == \
        ("callback", "unsatisfied", "异味仍在")
    assert desk.cases.get(case_id).state is CaseState.CLOSED
