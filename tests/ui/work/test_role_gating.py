"""Each role sees only its actions; they are enabled by the selected case's state (and department)."""

from __future__ import annotations

import logging

import pytest

from app.commands import command_id
from app.domain.definitions import Action, CaseState, Role
from app.ui.case_actions import SHORTCUTS, can_act, role_actions
from app.ui.work.install import APPROVALS_DOCK, INTAKE_DOCK, WORKBENCH_DOCK

from .helpers import desk_window, wait_idle

pytestmark = pytest.mark.neutral


def first(state, wanted: CaseState, department: str | None = None, other_than: str | None = None):
    return next(r for r in sorted(state.rows, key=lambda r: r.number) if r.state is wanted
                and (department is None or r.department_code == department)
                and (other_than is None or r.department_code != other_than))


def test_department_operator_does_not_see_dispatch(qtbot, tmp_path, desk, login_as, queue, runner):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DEPARTMENT)) as (window, made):
        ids = window.action_registry.ids()
        assert command_id(Action.DISPATCH) not in ids
        assert command_id(Action.CLOSE) not in ids
        assert "gridhall.desk.bulk_dispatch" not in ids
        assert command_id(Action.ACCEPT) in ids and command_id(Action.FEEDBACK) in ids
        assert WORKBENCH_DOCK in window.dock_registry.ids()
        assert APPROVALS_DOCK not in window.dock_registry.ids()


def test_dispatcher_sees_dispatch_enabled_only_on_cases_awaiting_dispatch(qtbot, tmp_path, desk, login_as,
                                                                          queue, runner):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made):
        dispatch = window.action_registry.action(command_id(Action.DISPATCH))
        assert dispatch.shortcut().toString() == SHORTCUTS[Action.DISPATCH]
        assert not dispatch.isEnabled()  # nothing selected
        queue.select(first(queue, CaseState.FILED).id)
        wait_idle(qtbot, runner)
        assert dispatch.isEnabled()
        queue.select(first(queue, CaseState.HANDLING).id)
        wait_idle(qtbot, runner)
        assert not dispatch.isEnabled()
        assert APPROVALS_DOCK in window.dock_registry.ids()
        assert INTAKE_DOCK not in window.dock_registry.ids()  # dispatchers do not take reports


def test_department_actions_only_on_their_own_departments_cases(qtbot, tmp_path, desk, login_as, queue, runner):
    operator = login_as(Role.DEPARTMENT)
    mine = desk.department_code(operator.department_id)
    with desk_window(qtbot, tmp_path, queue, runner, desk, operator) as (window, made):
        accept = window.action_registry.action(command_id(Action.ACCEPT))
        queue.select(first(queue, CaseState.DISPATCHED, other_than=mine).id)
        wait_idle(qtbot, runner)
        assert not accept.isEnabled()  # the services' allowed_actions drop other departments' cases


def test_every_frequent_action_has_a_unique_shortcut():
    assert len(set(SHORTCUTS.values())) == len(SHORTCUTS)
    for role in Role:
        assert all(a in SHORTCUTS for a in role_actions(role))


def test_a_failed_allowed_actions_query_is_logged(qtbot, tmp_path, desk, login_as, queue, runner, monkeypatch,
                                                  caplog):
    def broken(actor, case_id):
        raise RuntimeError("权限查询失败")

    monkeypatch.setattr(desk.cases, "allowed_actions", broken)
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made):
        with caplog.at_level(logging.WARNING, logger="app.ui.case_actions"):
            queue.select(first(queue, CaseState.FILED).id)
            wait_idle(qtbot, runner)
        assert window.action_registry.action(command_id(Action.DISPATCH)).isEnabled()  # the workflow's answer
    assert "权限查询失败" in caplog.text


def test_can_act_covers_reporting_and_the_case_actions():
    assert can_act(Role.SUPERVISOR, Action.REPORT) and not can_act(Role.DISPATCHER, Action.REPORT)
    for role in Role:
        assert [a for a in Action if a is not Action.REPORT and can_act(role, a)] == role_actions(role)
