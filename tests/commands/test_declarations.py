"""Who may take a command in which state, from its declarations (the workflow's, for workflow actions)."""

from __future__ import annotations

import pytest

from app.commands import Command, CommandRegistry, register_builtins
from app.domain.definitions import OPEN_STATES, Action, CaseState, Role
from app.domain.workflow import WORKFLOW


@pytest.fixture(scope="module")
def registry() -> CommandRegistry:
    r = CommandRegistry()
    register_builtins(r)
    return r


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_the_enabled_commands_are_exactly_the_workflows_actions(registry, role):
    for state in [None, *CaseState]:
        enabled = [c.action for c in registry.allowed(role, state)]
        assert enabled == [a for a in Action if a in WORKFLOW.actions(state, role)], (role, state)


def test_roles_and_states_come_from_the_workflow(registry):
    dispatch = registry.for_action(Action.DISPATCH)
    assert dispatch.allowed_states == {CaseState.FILED}
    assert dispatch.allowed_roles == {Role.DISPATCHER, Role.SYSTEM}
    assert dispatch.allows(Role.DISPATCHER, CaseState.FILED) and not dispatch.allows(Role.DISPATCHER, CaseState.HANDLING)
    assert not dispatch.allows(Role.DEPARTMENT, CaseState.FILED) and not dispatch.may(Role.DEPARTMENT)
    approve = registry.for_action(Action.APPROVE)
    assert approve.allows(Role.SHIFT_LEADER, CaseState.VOID_REQUESTED)  # 作废 is the shift leader's to approve
    assert not approve.allows(Role.SHIFT_LEADER, CaseState.EXTENSION_REQUESTED)  # 延期 is the dispatcher's
    assert approve.allows(Role.DISPATCHER, CaseState.EXTENSION_REQUESTED)
    assert registry.for_action(Action.URGE).allowed_states == OPEN_STATES
    assert registry.for_action(Action.REPORT).allows(Role.SUPERVISOR, None)
    for role in (Role.ANALYST, Role.ADMIN):  # they configure and evaluate; no case powers
        assert registry.for_role(role) == []


def test_a_non_workflow_command_uses_its_declared_roles_and_states():
    note = Command("test.case.note", "记录", lambda *a: None, roles=frozenset({Role.LEADER}),
                   states=frozenset({CaseState.HANDLING}))
    assert note.may(Role.LEADER) and not note.may(Role.DISPATCHER)
    assert note.allows(Role.LEADER, CaseState.HANDLING)
    assert not note.allows(Role.LEADER, CaseState.FILED)
    assert not note.allows(Role.LEADER, None)  # it acts on a case
    anywhere = Command("test.case.any", "记录", lambda *a: None, roles=frozenset({Role.LEADER}))
    assert all(anywhere.allows(Role.LEADER, s) for s in CaseState)
