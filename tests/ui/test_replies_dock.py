"""待回复 (issue 16, item 5) on the tiny demo store: the acceptor's and the shift leader's desks list the
replies owed to public and hotline reporters (read in a worker), 已回复 asks which case and records who
replied, a double click makes the case current, new filings appear live; a department has no such dock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qtpy.QtWidgets import QMessageBox

from app.domain.definitions import Action, Role
from app.i18n import Catalogue
from app.services import replies
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from app.ui.replies_dock import REPLIES_DOCK, RepliesDock, desk_replies
from ui.forms.world import T0, desk, desk_store, desk_template, login_as, queue, street_point  # noqa: F401
from ui.work.helpers import desk_window, wait_idle

pytestmark = pytest.mark.neutral

PHONE = "13912345678"


def _filed(desk, login_as, source="public"):  # noqa: F811
    """A public (or hotline) report with a reporter, verified and filed: it owes its filing reply."""
    acceptor, supervisor, leader = login_as(Role.ACCEPTOR), login_as(Role.SUPERVISOR), login_as(Role.SHIFT_LEADER)
    x, y = street_point(desk)
    r = desk.cases.report(acceptor, ReportDraft(
        category="event:06001", description="路边垃圾堆积", location=LocationInput(x=x, y=y), source=source,
        reporter_name="市民乙", reporter_phone=PHONE))
    r = desk.cases.send_verify(acceptor, r.case.id, r.version, supervisor=supervisor.username)
    r = desk.cases.verify(supervisor, r.case.id, r.version, result="现场属实")
    return desk.cases.file(leader, r.case.id, r.version)


def _dock(qtbot, desk, actor, queue, runner, lang="zh_CN"):  # noqa: F811
    load, mark = desk_replies(desk, actor)
    dock = RepliesDock(queue, runner, load, mark, desk.clock.now, Catalogue(lang), fetch=desk.source.case)
    qtbot.addWidget(dock)
    dock.resize(1400, 400)
    wait_idle(qtbot, runner)
    return dock


def _row(dock, case_id):
    return next(r for r, x in enumerate(dock.replies) if x.case_id == case_id)


def _cells(dock, row):
    return [dock.table.item(row, c).text() for c in range(dock.table.columnCount())]


def test_the_owed_reply_is_listed_and_recorded_as_done_by_who_replied(qtbot, desk, login_as, queue,  # noqa: F811
                                                                       runner, tmp_path):
    filed = _filed(desk, login_as)
    queue.reset(desk.source.open_cases(), T0)
    acceptor = login_as(Role.ACCEPTOR)
    dock = _dock(qtbot, desk, acceptor, queue, runner)
    owed = [r for r in replies.due_replies(desk.store, since=T0 - timedelta(days=30))]
    assert dock.event_ids() == [r.event_id for r in owed]  # what the service owes, in its order
    row = _row(dock, filed.case.id)
    cells = _cells(dock, row)
    assert cells[0] == filed.case.number and cells[1] == "立案回复" and cells[2] == "公众渠道（回电/短信）"
    assert cells[4] == "市民乙" and cells[5] == PHONE and not dock.table.isColumnHidden(5)
    assert "已立案" in cells[6] and filed.case.number in cells[6]
    due = dock.replies[row].due_at
    assert cells[3] == due.strftime("%m-%d %H:%M")  # due in 24 h: not overdue
    assert dock.summary.text().startswith(f"近 30 天待回复 {len(owed)} 件")
    assert not dock.done_button.isEnabled()  # nothing selected yet
    dock.grab().save(str(tmp_path / "replies_dock.png"))

    # double click: the case becomes current
    dock.table.cellDoubleClicked.emit(row, 0)
    assert queue.selected_id == filed.case.id

    # 已回复 names the case and records who replied
    dock.table.selectRow(row)
    assert dock.done_button.isEnabled()
    dock.done_button.click()
    box = dock.confirm_box
    assert box is not None and filed.case.number in box.text() and PHONE in box.text() and "立案回复" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    wait_idle(qtbot, runner)
    assert filed.case.id not in [r.case_id for r in dock.replies]
    assert dock.table.rowCount() == len(owed) - 1
    assert f"已登记：案卷 {filed.case.number} 的立案回复已回复" in dock.summary.text()
    done = replies.delivered(desk.store, case_id=filed.case.id)
    assert [(d["done_by"], d["channel"], d["after"]) for d in done] == [(acceptor.username, "public", "file")]
    dock.teardown()


def test_cancel_records_nothing_and_overdue_is_marked(qtbot, desk, login_as, queue, runner):  # noqa: F811
    filed = _filed(desk, login_as, source="hotline")
    queue.reset(desk.source.open_cases(), T0)
    dock = _dock(qtbot, desk, login_as(Role.SHIFT_LEADER), queue, runner)
    row = _row(dock, filed.case.id)
    dock.table.selectRow(row)
    box = dock.ask_done()
    box.button(QMessageBox.StandardButton.No).click()
    wait_idle(qtbot, runner)
    assert filed.case.id in [r.case_id for r in dock.replies]
    assert replies.delivered(desk.store, case_id=filed.case.id) == []
    assert _cells(dock, row)[2] == "热线回电/短信"
    desk.clock.advance(timedelta(hours=25))  # past the 24 hours
    dock.refresh()
    row = _row(dock, filed.case.id)
    assert _cells(dock, row)[3].endswith("（已超时）")
    assert dock.table.item(row, 3).foreground().color().name() != dock.table.item(row, 2).foreground().color().name()
    dock.teardown()


def test_a_reply_recorded_elsewhere_meanwhile_is_refused_in_the_users_language(qtbot, desk, login_as, queue,  # noqa: F811
                                                                                 runner):
    filed = _filed(desk, login_as)
    queue.reset(desk.source.open_cases(), T0)
    dock = _dock(qtbot, desk, login_as(Role.ACCEPTOR), queue, runner, lang="en")
    reply = dock.replies[_row(dock, filed.case.id)]
    replies.mark_done(desk.store, login_as(Role.SHIFT_LEADER), reply.event_id, desk.clock.now())  # the other desk
    dock.mark_done(reply)
    wait_idle(qtbot, runner)
    assert "The reply was not recorded" in dock.summary.text() and "already" in dock.summary.text()
    assert filed.case.id not in [r.case_id for r in dock.replies]  # read again: gone
    assert [d["done_by"] for d in replies.delivered(desk.store, case_id=filed.case.id)] == ["demo_shift_leader"]
    dock.teardown()


def test_a_new_filing_appears_live_and_english_is_complete(qtbot, desk, login_as, queue, runner):  # noqa: F811
    queue.reset(desk.source.open_cases(), T0)
    dock = _dock(qtbot, desk, login_as(Role.ACCEPTOR), queue, runner, lang="en")
    assert [dock.table.horizontalHeaderItem(c).text() for c in range(dock.table.columnCount())] == [
        "Case no.", "Reply", "Channel", "Reply due", "Reporter", "Reporter's phone", "Reply text"]
    before = set(dock.event_ids())
    filed = _filed(desk, login_as)
    queue.upsert(filed.case, Action.FILE.value)  # as the bus bridge does after the filing
    qtbot.waitUntil(lambda: filed.case.id in [r.case_id for r in dock.replies], timeout=10_000)
    assert before < set(dock.event_ids())
    cells = _cells(dock, _row(dock, filed.case.id))
    assert cells[1] == "filing reply" and cells[2] == "public channel (call-back / text)"
    assert cells[6].startswith("Hello!") and filed.case.number in cells[6]
    assert "replies owed for the last 30 days" in dock.summary.text()
    dock.teardown()


@pytest.mark.parametrize("role", [Role.ACCEPTOR, Role.SHIFT_LEADER])
def test_the_acceptor_and_the_shift_leader_have_the_dock(qtbot, tmp_path, desk, login_as, queue, runner,  # noqa: F811
                                                         role):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(role)) as (window, made):
        assert isinstance(made.widgets.get(REPLIES_DOCK), RepliesDock)
        assert window.dock_registry.dock(REPLIES_DOCK).windowTitle() == "待回复"
        wait_idle(qtbot, runner)


@pytest.mark.parametrize("role", [Role.DEPARTMENT, Role.DISPATCHER, Role.SUPERVISOR])
def test_a_department_operator_and_other_roles_have_no_such_dock(qtbot, tmp_path, desk, login_as, queue,  # noqa: F811
                                                                 runner, role):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(role)) as (window, made):
        assert REPLIES_DOCK not in made.widgets and REPLIES_DOCK not in window.dock_registry.ids()
        wait_idle(qtbot, runner)


def test_enter_on_a_case_no_longer_in_the_queue_shows_it_from_the_store(qtbot, desk, login_as, queue,  # noqa: F811
                                                                        runner):
    from qtpy.QtCore import Qt

    filed = _filed(desk, login_as)
    queue.reset([], T0)  # not in the queue (another desk's, or closed meanwhile)
    dock = _dock(qtbot, desk, login_as(Role.ACCEPTOR), queue, runner)
    row = _row(dock, filed.case.id)
    dock.show()
    dock.table.setFocus()
    dock.table.setCurrentCell(row, 0)
    qtbot.keyClick(dock.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: queue.selected_id == filed.case.id, timeout=10_000)
    assert queue.archived_id == filed.case.id
    dock.teardown()


def test_the_confirmation_shows_a_reporters_markup_as_written(qtbot, desk, login_as, queue, runner):  # noqa: F811
    """A reporter's name comes from the public (Open311's first_name): markup in it is text, not a link."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QLabel

    acceptor, supervisor, leader = login_as(Role.ACCEPTOR), login_as(Role.SUPERVISOR), login_as(Role.SHIFT_LEADER)
    x, y = street_point(desk)
    name = "<a href='http://example.invalid/'>点此</a>"
    r = desk.cases.report(acceptor, ReportDraft(category="event:06001", description="路边垃圾堆积",
                                                location=LocationInput(x=x, y=y), source="public", reporter_name=name))
    r = desk.cases.send_verify(acceptor, r.case.id, r.version, supervisor=supervisor.username)
    r = desk.cases.verify(supervisor, r.case.id, r.version, result="现场属实")
    filed = desk.cases.file(leader, r.case.id, r.version)
    queue.reset(desk.source.open_cases(), T0)
    dock = _dock(qtbot, desk, acceptor, queue, runner)
    dock.table.selectRow(_row(dock, filed.case.id))
    box = dock.ask_done()
    assert name in box.text() and box.textFormat() == Qt.TextFormat.PlainText
    labels = box.findChildren(QLabel, "qt_msgbox_informativelabel")
    assert labels and all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    box.button(QMessageBox.StandardButton.No).click()
    dock.teardown()


def test_a_torn_down_dock_reads_nothing_more(qtbot, desk, login_as, queue, runner):  # noqa: F811
    """After teardown a throttled read finds nothing to fill: no new read, a late answer is dropped
    (a deleted table answered 'already deleted' inside another test on PySide6)."""
    acceptor = login_as(Role.ACCEPTOR)
    dock = _dock(qtbot, desk, acceptor, queue, runner)
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=10_000)
    before = list(dock.replies)
    dock.teardown()
    dock.load()  # what the throttle's timer does after a burst of changes
    assert not runner.is_busy()
    dock._loaded([object()])  # an answer that was already on its way
    assert dock.replies == before
