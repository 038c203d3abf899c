"""立案 is not offered on a report that must be verified first, and its tooltip says why and what
to do (issue 11, item 1: the services' ``action_blocks``); a supervisor's report can be filed."""

from __future__ import annotations

import pytest

from app.commands import command_id
from app.domain.definitions import Action, Role
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from ui.forms.world import street_point

from .helpers import desk_window, wait_idle

pytestmark = pytest.mark.neutral


def test_file_is_disabled_with_the_reason_until_the_report_is_verified(qtbot, tmp_path, desk, login_as, queue,
                                                                       runner):
    x, y = street_point(desk)
    leader = login_as(Role.SHIFT_LEADER)
    with desk_window(qtbot, tmp_path, queue, runner, desk, leader) as (window, made):
        report = desk.cases.report(login_as(Role.ACCEPTOR), ReportDraft(
            category="event:06001", description="市民来电：路边垃圾", location=LocationInput(x=x, y=y),
            source="public"))
        qtbot.waitUntil(lambda: queue.summary(report.case.id) is not None, timeout=10000)
        file_action = window.action_registry.action(command_id(Action.FILE))
        queue.select(report.case.id)
        wait_idle(qtbot, runner)
        qtbot.waitUntil(lambda: not file_action.isEnabled(), timeout=10000)
        assert "现场核实" in file_action.toolTip() and "派发核实" in file_action.toolTip()
        own = desk.cases.report(login_as(Role.SUPERVISOR), ReportDraft(
            category="event:06001", description="巡查发现路边垃圾", location=LocationInput(x=x, y=y)))
        qtbot.waitUntil(lambda: queue.summary(own.case.id) is not None, timeout=10000)
        queue.select(own.case.id)
        wait_idle(qtbot, runner)
        qtbot.waitUntil(file_action.isEnabled, timeout=10000)
