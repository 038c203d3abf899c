"""The work docks over a real store: my queue per role, approvals, timers, alerts, bulk actions, photos."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qtpy.QtCore import Qt

from app.domain.definitions import Action, CaseState, Light, Role
from app.domain.workflow import WORKFLOW
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from app.ui.work.alerts import AlertBanner, AlertCenter
from app.ui.work.approvals import ApprovalsDock
from app.ui.work.bulk import BulkDialog
from app.ui.work.case_media import CaseMediaDock
from app.ui.work.install import MEDIA_DOCK
from app.ui.work.my_queue import MyQueueDock, needed_actions
from app.ui.work.timers_dock import TimersDock
from app.views.alerts import AlertRules
from app.views.queue_state import QueueState
from ui.forms.world import T0, png_bytes, street_point

from .helpers import desk_window, wait_idle

pytestmark = pytest.mark.neutral


def test_my_queue_holds_exactly_the_cases_the_role_must_act_on(qtbot, login_as, queue):
    dispatcher = login_as(Role.DISPATCHER)
    dock = MyQueueDock(queue, dispatcher)
    qtbot.addWidget(dock)
    shown = set(dock.list.ids())
    expected = {r.id for r in queue.rows if set(WORKFLOW.actions(r.state, Role.DISPATCHER))
                - {Action.URGE, Action.REPLY, Action.REQUEST_VOID, Action.VOID, Action.LINK, Action.EDIT}}
    assert shown == expected and shown
    assert all(queue.summary(i).state in {CaseState.FILED, CaseState.RETURN_REQUESTED, CaseState.DEFERRED,
                                          CaseState.EXTENSION_REQUESTED, CaseState.DEFER_REQUESTED,
                                          CaseState.SHELVE_REQUESTED, CaseState.SHELVED, CaseState.FED_BACK,
                                          CaseState.CHECKING, CaseState.CHECKED, CaseState.DISPUTED} for i in shown)
    # most urgent first: an overdue case comes before any case with time left (running timers;
    # paused 缓办/挂账 cases come after every case that can be acted on)
    readings = [queue.reading(i) for i in dock.list.ids()]
    timed = [r.remaining_minutes for r in readings if r is not None and r.light is not Light.NONE and not r.paused]
    assert timed == sorted(timed)
    waiting = [queue.summary(i).state in (CaseState.DEFERRED, CaseState.SHELVED) or (r is not None and r.paused)
               for i, r in zip(dock.list.ids(), readings, strict=True)]
    assert waiting == sorted(waiting)
    dock.teardown()


def test_department_queue_is_limited_to_its_department(login_as, desk, queue):
    operator = login_as(Role.DEPARTMENT)
    code = desk.department_code(operator.department_id)
    for row in queue.rows:
        if needed_actions(row, Role.DEPARTMENT, code):
            assert row.department_code == code
    assert any(needed_actions(r, Role.DEPARTMENT, code) for r in queue.rows)


def test_approvals_dock_lists_requests_for_the_deciding_role(qtbot, login_as, queue):
    dispatcher = ApprovalsDock(queue, login_as(Role.DISPATCHER), lambda *_: None)
    leader = ApprovalsDock(queue, login_as(Role.SHIFT_LEADER), lambda *_: None)
    for dock in (dispatcher, leader):
        qtbot.addWidget(dock)
    states = {queue.summary(i).state for i in dispatcher.list.ids()}
    assert states == {CaseState.RETURN_REQUESTED, CaseState.EXTENSION_REQUESTED, CaseState.DEFER_REQUESTED,
                      CaseState.SHELVE_REQUESTED}
    assert {queue.summary(i).state for i in leader.list.ids()} == {CaseState.VOID_REQUESTED}
    asked = []
    dispatcher.perform = lambda action, case_id: asked.append((action, case_id))
    dispatcher.list.setCurrentItem(dispatcher.list.topLevelItem(0))
    qtbot.mouseClick(dispatcher.approve_button, Qt.MouseButton.LeftButton)
    assert asked == [(Action.APPROVE, dispatcher.list.ids()[0])]
    assert queue.selected_id == dispatcher.list.ids()[0]


def test_timers_dock_puts_overdue_first_per_stage_and_explains_on_hover(qtbot, queue):
    dock = TimersDock(queue)
    qtbot.addWidget(dock)
    groups = dock.groups()
    assert groups
    for ids in groups.values():
        readings = [queue.reading(i) for i in ids if not queue.reading(i).paused]
        assert [r.remaining_minutes for r in readings] == sorted(r.remaining_minutes for r in readings)
        overdue = [r.overdue for r in readings]
        assert overdue == sorted(overdue, reverse=True)  # every overdue case before any on time
    top = dock.tree.topLevelItem(0)
    child = top.child(0)
    assert child.toolTip(0) == ""  # not worked out at each reload: on hover
    dock.resize(700, 500)
    dock.show()
    qtbot.waitExposed(dock)
    rect = dock.tree.visualItemRect(child)
    from qtpy.QtCore import QEvent
    from qtpy.QtGui import QHelpEvent
    from qtpy.QtWidgets import QApplication

    viewport = dock.tree.viewport()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, rect.center(), viewport.mapToGlobal(rect.center())))
    assert child.toolTip(0) == queue.explain(child.data(0, Qt.ItemDataRole.UserRole))
    assert child.toolTip(3) == child.toolTip(0)
    assert "截止" in child.toolTip(0) or "暂停" in child.toolTip(0)
    assert top.toolTip(0) == ""  # a stage row has no timer to explain
    dock.reload()  # a reload makes the rows again: the next hover explains afresh
    assert dock.tree.topLevelItem(0).child(0).toolTip(0) == ""
    dock.teardown()


def test_alerts_new_case_and_lights_turning_yellow_and_red(qtbot, queue, desk, login_as):
    center = AlertCenter(queue)
    flashes, now = [], [0.0]
    banner = AlertBanner(center, queue, status=lambda text, ms: flashes.append(text), clock=lambda: now[0],
                         rules=AlertRules(sound=frozenset({"red", "new"})))
    qtbot.addWidget(banner)
    queue.tick(T0)  # baseline
    green = [r.id for r in queue.rows if queue.reading(r.id) and queue.reading(r.id).light is Light.GREEN
             and not queue.reading(r.id).paused]
    assert green
    later = T0 + timedelta(days=20)  # every running timer is overdue by then
    queue.tick(later)
    grouped = [a for a in center.alerts if a.kind == "red"]
    assert len(grouped) == 1 and "件案卷超时" in grouped[0].text  # one alert, not a storm
    single = QueueState(queue.calendar)  # one case turning red is named on its own
    single.reset([queue.summary(green[0])], T0)
    alone = AlertCenter(single)
    single.tick(T0)
    single.tick(later)
    assert [(a.kind, a.case_id) for a in alone.alerts] == [("red", green[0])]
    assert queue.summary(green[0]).number in alone.alerts[0].text
    alone.teardown()
    assert flashes and banner.headline.property("kind") in ("red", "yellow")
    assert banner.beeps == 0  # sound is off by default
    banner.sound_button.click()
    row = queue.rows[0]
    queue.upsert(row, Action.REPORT.value)
    assert center.alerts[0].kind == "new" and center.alerts[0].case_id == row.id
    assert banner.beeps == 0  # within the banner's interval: it waits for the next change
    now[0] += banner.rules.interval_s
    banner.poll()
    assert banner.beeps == 1 and banner.headline.property("kind") == "new"
    banner.teardown()
    center.teardown()


def test_bulk_close_reports_successes_and_failures(qtbot, desk, login_as, queue, runner):
    leader = login_as(Role.SHIFT_LEADER)
    checked = [r for r in queue.rows if r.state is CaseState.CHECKED]
    assert len(checked) >= 2
    stale = checked[0]
    desk.cases.urge(login_as(Role.LEADER), stale.id, stale.version)  # the queue's version is now stale
    dialog = BulkDialog(desk, leader, runner, queue, Action.CLOSE)
    qtbot.addWidget(dialog)
    assert dialog.checked_rows() == []  # nothing is ticked unless selected in the queue
    qtbot.mouseClick(dialog.select_all, Qt.MouseButton.LeftButton)
    assert len(dialog.checked_rows()) == len(checked)
    assert not dialog.submit()  # not confirmed yet: nothing runs
    dialog.evidence_ack.setChecked(True)  # the demo's cases lack photos; the shift leader overrides …
    dialog.widgets["note"].setText("演示数据无照片")  # … with a reason
    dialog.confirm.setChecked(True)
    assert dialog.submit()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20000)
    outcome = dialog.outcome
    assert [n for n, _m in outcome.failed] == [stale.number]
    assert len(outcome.done) == len(checked) - 1
    assert "成功" in dialog.banner.text() and "失败 1 件" in dialog.banner.text()
    assert stale.number in dialog.details.toPlainText()
    assert desk.cases.get(checked[1].id).state is CaseState.CLOSED
    assert desk.cases.get(stale.id).state is CaseState.CHECKED  # untouched: its own transaction failed


def test_bulk_dispatch_uses_each_cases_first_suggestion(qtbot, desk, login_as, queue, runner):
    filed = [r for r in queue.rows if r.state is CaseState.FILED][:3]
    queue.select(filed[0].id)
    dialog = BulkDialog(desk, login_as(Role.DISPATCHER), runner, queue, Action.DISPATCH,
                        preselected=[r.id for r in filed], departments=desk.departments())
    qtbot.addWidget(dialog)
    assert {r.id for r in dialog.checked_rows()} == {r.id for r in filed}
    dialog.confirm.setChecked(True)
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)  # a second click while running
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20000)
    runner.wait()
    assert dialog.submitter.requests == 1
    for row in filed:
        events = [e for e in desk.cases.events(row.id) if e.action == Action.DISPATCH.value]
        assert len(events) == 1
        assert events[0].department_name == desk.cases.dispatch_suggestions(row.id)[0].name


def test_photos_and_replies_of_the_selected_case(qtbot, tmp_path, desk, login_as, queue, runner):
    x, y = street_point(desk)
    from app.services.attachments import PhotoInput

    with desk_window(qtbot, tmp_path, queue, runner, desk, None) as (window, made):
        # the desk follows the bus: changes made after it is installed reach the queue
        result = desk.cases.report(login_as(Role.ACCEPTOR), ReportDraft(
            category="event:06001", description="带照片的上报", location=LocationInput(x=x, y=y), source="public",
            photos=(PhotoInput("a.png", png_bytes()), PhotoInput("b.png", png_bytes("#2e7d32")))))
        sent = desk.cases.send_verify(login_as(Role.ACCEPTOR), result.case.id, result.version)
        verified = desk.cases.verify(login_as(Role.SUPERVISOR), result.case.id, sent.version, result="属实")
        filed = desk.cases.file(login_as(Role.SHIFT_LEADER), result.case.id, verified.version)
        qtbot.waitUntil(lambda: queue.summary(result.case.id) is not None and
                        queue.summary(result.case.id).version == filed.version, timeout=10000)
        media: CaseMediaDock = made.widgets[MEDIA_DOCK]
        queue.select(result.case.id)
        wait_idle(qtbot, runner)
        assert media.strip.view.count() == 2
        assert not media.strip.view.item(0).icon().isNull()
        assert media.replies.count() == 1 and "已立案" in media.replies.item(0).text()
