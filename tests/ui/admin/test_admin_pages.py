"""The administrator's workspace pages (issue 12) with qtbot on a real SpatiaLite store: each page reads
the store's data; a calendar year entered through the page lands in the store and in the configuration
history with its reason (after the dry run's diff); a year without a working day is refused in the
user's language with nothing written; a user added through the page can log in; bad input is named."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from qtpy.QtWidgets import QDialogButtonBox

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.services import calendar as calendar_service
from app.services import config_history
from app.services.actors import Actor
from app.services.auth import login
from app.store.models import Department
from app.ui.admin.calendar_page import ranges
from app.ui.admin.workspace import AdminWorkspace

ADMIN = Actor("admin", "管理员", "admin")
TODAY = date(2026, 12, 7)
PASSWORD = "Zhiban#2026"


@pytest.fixture
def backend() -> str:
    return "spatialite"


@pytest.fixture
def admin_store(store):
    with store.session() as s, s.begin():
        s.add_all([Department(code="SZJ", name="市政局", kind="bureau"),
                   Department(code="JD01", name="东城街道办事处", kind="street_office")])
    return store


def _departments(store):
    def read():
        with store.session() as s:
            return [(d.id, d.code, d.name) for d in s.query(Department).filter(Department.active.isnot(False))
                    .order_by(Department.code)]
    return read


@pytest.fixture
def workspace(qtbot, admin_store, runner, request):
    lang = getattr(request, "param", "zh_CN")
    ws = AdminWorkspace(admin_store, ADMIN, runner, Catalogue(lang), TODAY, _departments(admin_store))
    qtbot.addWidget(ws)
    ws.resize(1400, 800)
    ws.show()
    qtbot.waitExposed(ws)
    return ws


def _read(qtbot, page):
    answers = []
    page.reload(answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=10000)
    return answers[0]


def _dialog(qtbot, page):
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible(), timeout=10000)
    return page.dialog


def test_the_calendar_page_shows_the_stored_year(qtbot, workspace):
    page = workspace.show_page("calendar")
    assert page.year.value() == 2027  # December: next year is the one to enter
    view = _read(qtbot, page)
    assert view.year == 2027 and view.status == "estimated"
    assert page.days.rowCount() == len(view.holidays) + len(view.workdays) > 0
    assert "推算" in page.summary.text()
    assert page.holidays_edit.toPlainText().splitlines() == ranges(view.holidays)
    assert not page.official.isChecked()


def test_a_year_entered_through_the_page_is_stored_with_its_reason(qtbot, workspace, admin_store):
    page = workspace.show_page("calendar")
    _read(qtbot, page)
    page.holidays_edit.setPlainText("2027-01-01=元旦\n2027-02-05..2027-02-10=春节")
    page.workdays_edit.setPlainText("2027-02-14")
    page.official.setChecked(True)
    page.source.setText("国办发明电〔2026〕N号")
    page.save_button.click()
    dialog = _dialog(qtbot, page)
    diff = dialog.diff.toPlainText()
    assert "状态：推算 → 正式" in diff and "+ 调休上班日：2027-02-14" in diff
    assert not dialog.ok_button.isEnabled()  # no reason, no change
    assert calendar_service.show_year(admin_store, 2027).status == "estimated"  # the dry run wrote nothing
    dialog.reason_edit.setText("依据国务院办公厅通知录入")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: "已保存" in page.status.text(), timeout=10000)
    stored = calendar_service.show_year(admin_store, 2027)
    assert stored.status == "official" and stored.workdays == [date(2027, 2, 14)]
    assert stored.holidays[date(2027, 2, 5)] == "春节" and stored.source == "国办发明电〔2026〕N号"
    last = config_history.history(admin_store)[0]
    assert (last.entity, last.key, last.actor, last.reason) == ("calendar_year", "2027", "admin", "依据国务院办公厅通知录入")
    assert '"status":"estimated"' in last.before and '"status":"official"' in last.after
    # the history page lists it with who and why, and its differences
    history = workspace.show_page("history")
    qtbot.waitUntil(lambda: history.table.rowCount() > 0 and history.changes
                    and history.changes[0].seq == last.seq, timeout=10000)
    assert history.table.item(0, 5).text() == "依据国务院办公厅通知录入"
    assert history.table.item(0, 3).text() == "工作日历"
    assert "状态：推算 → 正式" in history.detail.toPlainText()


def test_estimating_is_refused_over_an_official_year(qtbot, workspace, admin_store):
    calendar_service.set_year(admin_store, ADMIN, 2027, official=True, reason="通知")
    page = workspace.show_page("calendar")
    _read(qtbot, page)
    page.estimate_button.click()
    qtbot.waitUntil(lambda: page.status.property("error") is True, timeout=10000)
    assert "已是正式安排" in page.status.full_text() and page.dialog is None


@pytest.mark.parametrize("workspace", ["zh_CN", "en"], indirect=True)
def test_a_year_without_a_working_day_is_refused_in_the_users_language(qtbot, workspace, admin_store):
    page = workspace.show_page("calendar")
    _read(qtbot, page)
    before = len(config_history.history(admin_store))
    page.holidays_edit.setPlainText("2027-01-01..2027-12-31=停工")
    page.workdays_edit.setPlainText("")
    page.save_button.click()
    qtbot.waitUntil(lambda: page.status.property("error") is True, timeout=10000)
    text = page.status.full_text()
    if page.cat.language == "zh_CN":
        assert "没有任何工作日" in text and "未做任何修改" in text
    else:
        assert "no working day" in text.lower(), text
    assert page.dialog is None
    assert len(config_history.history(admin_store)) == before
    # a bad date is named too
    page.holidays_edit.setPlainText("2027-02-30")
    page.save_button.click()
    qtbot.waitUntil(lambda: page.status.property("error") is True and "2027-02-30" in page.status.full_text(),
                    timeout=10000)


def test_the_users_page_lists_adds_a_user_who_can_log_in_and_disables_them(qtbot, workspace, admin_store):
    page = workspace.show_page("users")
    users = _read(qtbot, page)
    assert page.table.rowCount() == len(users)
    dialog = page.ask_add()
    f = dialog.fields
    qtbot.waitUntil(lambda: f["department"].count() == 3, timeout=10000)  # （无） + two departments
    f["username"].setText("Zhang.San")  # upper case is folded
    f["display"].setText("张三")
    f["role"].setCurrentIndex(f["role"].findData("department"))
    # a department operator without a department: refused, the dialog stays open
    f["password"].setText(PASSWORD)
    f["password2"].setText(PASSWORD + "x")
    dialog.ok_button.click()
    assert "不一致" in dialog.error.full_text()
    f["password2"].setText(PASSWORD)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "部门" in dialog.error.full_text(), timeout=10000)
    assert dialog.isVisible()
    f["department"].setCurrentIndex(f["department"].findData("JD01"))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    qtbot.waitUntil(lambda: page.selected() is not None and page.selected().username == "zhang.san", timeout=10000)
    assert page.selected().department_code == "JD01"
    actor = login(admin_store, "zhang.san", PASSWORD, clock=FixedClock(datetime(2026, 12, 7, 9)))
    assert actor.username == "zhang.san" and actor.role.value == "department"
    # the same name again is refused in the dialog
    again = page.ask_add()
    again.fields["username"].setText("zhang.san")
    again.fields["password"].setText(PASSWORD)
    again.fields["password2"].setText(PASSWORD)
    again.ok_button.click()
    qtbot.waitUntil(lambda: "已被使用" in again.error.full_text(), timeout=10000)
    again.reject()
    page.disable_button.click()  # retiring is on the record: the reason first
    change = _dialog(qtbot, page)
    assert not change.ok_button.isEnabled()
    change.reason_edit.setText("离职")
    change.ok_button.click()
    qtbot.waitUntil(lambda: page.selected() is not None and page.selected().status == "已停用", timeout=10000)
    assert page.table.item(page.table.currentRow(), 4).text() == "已停用"
    assert [h.reason for h in config_history.history(admin_store, entity="user")] == ["离职"]


def test_the_users_page_changes_a_role_and_department_on_the_record(qtbot, workspace, admin_store):
    from app.services.users import add_user, get_user

    add_user(admin_store, "li", "dispatcher", display_name="李四", password=PASSWORD)
    page = workspace.show_page("users")
    _read(qtbot, page)
    assert page.select("li")
    dialog = page.ask_change()
    f = dialog.fields
    qtbot.waitUntil(lambda: f["department"].count() == 3, timeout=10000)
    f["role"].setCurrentIndex(f["role"].findData("department"))
    f["department"].setCurrentIndex(f["department"].findData("SZJ"))
    dialog.ok_button.click()
    change = _dialog(qtbot, page)
    assert "李" not in change.diff.toPlainText() and "SZJ" in change.diff.toPlainText()
    change.reason_edit.setText("调入市政局")
    change.ok_button.click()
    qtbot.waitUntil(lambda: get_user(admin_store, "li").department_code == "SZJ", timeout=10000)
    assert get_user(admin_store, "li").role.value == "department"
    [h] = config_history.history(admin_store, entity="user")
    assert (h.key, h.reason, h.actor) == ("li", "调入市政局", "admin")


def test_the_calendar_table_columns_fill_its_width(qtbot, workspace):
    page = workspace.show_page("calendar")
    qtbot.waitUntil(lambda: page.view is not None and page.days.rowCount() > 0, timeout=10000)
    header = page.days.horizontalHeader()

    def widths() -> list[int]:
        return [header.sectionSize(i) for i in range(page.days.columnCount())]

    # no empty band at the right once the layout settled
    qtbot.waitUntil(lambda: sum(widths()) >= page.days.viewport().width() - 2, timeout=10000)
    assert all(w > 20 for w in widths())


@pytest.mark.parametrize("workspace", ["en"], indirect=True)
def test_the_workspace_speaks_english(qtbot, workspace):
    assert [workspace.tabs.tabText(i) for i in range(workspace.tabs.count())] == [
        "Working calendar", "Users", "Department", "Category", "Routing rules", "Time limits", "Evaluation and alerts",
        "Base data", "Configuration history"]
    page = workspace.show_page("users")
    _read(qtbot, page)
    assert page.add_button.text() == "Add user…"
    assert "account" in page.status.full_text()

    # a refusal of the configuration service, in English too
    limits = workspace.show_page("limits")
    qtbot.waitUntil(lambda: bool(limits.loaded and not limits.busy), timeout=10000)
    limits.new_button.click()
    limits.minutes.setValue(0)
    limits.save_button.click()
    qtbot.waitUntil(lambda: limits.status.property("error") is True, timeout=10000)
    text = limits.status.full_text()
    assert text and not any("\u4e00" <= ch <= "\u9fff" for ch in text), text
    assert limits.dialog is None
