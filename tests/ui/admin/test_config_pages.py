"""The configuration pages of the administrator's workspace (部门, 类别, 路由规则, 时限) with qtbot over the real
ConfigService on SpatiaLite: each page lists the store's records; a change made through a page is shown
as a dry-run diff, asks the reason, then lands in the store and the configuration history with it;
a refused input is reported and nothing is asked or written; the routing test box says where a
category at a point goes and why."""

from __future__ import annotations

import pytest
from services.world import T0, build_world

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.services import config_history
from app.services.config import ConfigService
from app.ui.admin.workspace import AdminWorkspace

INSIDE_XY = (557150.0, 3464450.0)


@pytest.fixture
def backend() -> str:
    return "spatialite"


@pytest.fixture
def world(store):
    return build_world(store)


@pytest.fixture
def workspace(qtbot, store, world, runner):
    core_departments = ConfigService(store, FixedClock(T0)).departments
    ws = AdminWorkspace(store, world.actors["admin"], runner, Catalogue("zh_CN"), T0.date(),
                        lambda: [(0, d["code"], d["name"]) for d in core_departments()], clock=FixedClock(T0))
    qtbot.addWidget(ws)
    ws.resize(1500, 850)
    ws.show()
    qtbot.waitExposed(ws)
    return ws


def _open(qtbot, workspace, key):
    page = workspace.show_page(key)
    qtbot.waitUntil(lambda: bool(page.loaded and not page.busy and page.records), timeout=15000)
    return page


def _apply(qtbot, page, reason):
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible(), timeout=15000)
    dialog = page.dialog
    diff = dialog.diff.toPlainText()
    assert not dialog.ok_button.isEnabled()
    dialog.reason_edit.setText(reason)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "已保存" in page.status.full_text(), timeout=15000)
    return diff


def _refused(qtbot, page, text):
    qtbot.waitUntil(lambda: page.status.property("error") is True, timeout=15000)
    assert text in page.status.full_text(), page.status.full_text()
    assert page.dialog is None


def test_a_department_added_through_the_page_is_recorded_with_its_reason(qtbot, workspace, store):
    page = _open(qtbot, workspace, "departments")
    config = ConfigService(store, FixedClock(T0))
    assert page.table.rowCount() == len(config.departments())
    page.new_button.click()
    page.code.setText("CG")
    page.name.setText("区城管执法局")
    page.credit.setText("123")  # not 18 characters
    page.save_button.click()
    _refused(qtbot, page, "统一社会信用代码")
    before = len(config_history.history(store))
    page.credit.setText("11320500MB1234567X")
    page.save_button.click()
    diff = _apply(qtbot, page, "新设执法局")
    assert "部门 CG（新建）" in diff and "名称：区城管执法局" in diff
    assert any(d["code"] == "CG" and d["name"] == "区城管执法局" for d in config.departments())
    history = config_history.history(store)
    assert len(history) == before + 1
    assert (history[0].entity, history[0].key, history[0].reason) == ("department", "CG", "新设执法局")
    qtbot.waitUntil(lambda: page.select("CG|区城管执法局"), timeout=15000)


def test_a_categorys_closing_standard_is_changed_through_the_page(qtbot, workspace, store):
    page = _open(qtbot, workspace, "categories")
    page.filter.setText("06010")
    assert page.table.rowCount() >= 1
    page.table.selectRow(0)
    assert page.which.text() == "event:06010"
    page.closing.setPlainText("清理干净，无残留，拍照留证")
    page.save_button.click()
    diff = _apply(qtbot, page, "统一结案标准")
    assert "+ 结案标准：清理干净，无残留，拍照留证" in diff or "结案标准：" in diff
    config = ConfigService(store, FixedClock(T0))
    stored = next(c for c in config.categories() if c["code"] == "06010" and c["kind"] == "event")
    assert stored["closing_standard"] == "清理干净，无残留，拍照留证"
    assert config_history.history(store)[0].reason == "统一结案标准"


def test_the_routing_test_box_and_an_overlapping_rule(qtbot, workspace, store):
    page = _open(qtbot, workspace, "routes")
    page.test_category.setText("event:06010")
    page.set_point(*INSIDE_XY)
    qtbot.waitUntil(lambda: "派往" in page.answer.full_text(), timeout=15000)
    assert "区环境卫生管理所（HW）" in page.answer.full_text() and "因为" in page.answer.full_text()
    page.new_button.click()
    page.scope.setText("category:event:06012")
    page.area.setText("320599001")
    page.department.setText("YL")
    page.priority.setValue(10)
    page.save_button.click()
    diff = _apply(qtbot, page, "园林所试点")
    assert "YL" in diff
    page.test_category.setText("event:06012")
    answers = []
    page.test(answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=15000)
    assert "区园林绿化管理所（YL）" in page.answer.full_text()
    # the same scope and area to another department at the same priority overlaps: refused
    page.new_button.click()
    page.scope.setText("category:event:06012")
    page.area.setText("320599001")
    page.department.setText("SZ")
    page.priority.setValue(10)
    page.save_button.click()
    _refused(qtbot, page, "派遣规则重叠")


def test_a_limit_of_zero_is_refused_and_a_new_limit_recorded(qtbot, workspace, store):
    page = _open(qtbot, workspace, "limits")
    page.new_button.click()
    page.kind.setCurrentIndex(page.kind.findData("event"))
    page.code.setText("06010")
    page.minutes.setValue(0)
    page.save_button.click()
    _refused(qtbot, page, "时限为零")
    page.minutes.setValue(960)
    page.save_button.click()
    diff = _apply(qtbot, page, "延长垃圾清运时限")
    assert "960" in diff
    last = config_history.history(store)[0]
    assert (last.entity, last.reason) == ("time_limit", "延长垃圾清运时限") and '"minutes":960' in last.after


def test_the_evaluation_weights_are_changed_as_toml_with_a_reason(qtbot, workspace, store):
    from app.services.config import stored_setting

    page = workspace.show_page("settings")
    qtbot.waitUntil(lambda: bool(page.loaded and not page.busy and page.edit.toPlainText()), timeout=15000)
    text = page.edit.toPlainText()
    assert "valid_report_rate = 40" in text and page.stored is None
    page.edit.setPlainText(text.replace("[general]", "[general"))  # broken TOML: named, nothing asked
    page.save_button.click()
    _refused(qtbot, page, "TOML")
    page.edit.setPlainText(text.replace("valid_report_rate = 40", "valid_report_rate = 50")
                           .replace("missed_rate = 20              # 漏报率", "missed_rate = 10              # 漏报率"))
    page.save_button.click()
    diff = _apply(qtbot, page, "加重有效上报")
    assert "valid_report_rate：40 → 50" in diff and "missed_rate：20 → 10" in diff
    stored = stored_setting(store, "evaluation")
    assert stored["weights"]["supervisor"]["valid_report_rate"] == 50
    last = config_history.history(store)[0]
    assert (last.entity, last.key, last.reason) == ("setting", "evaluation", "加重有效上报")
    qtbot.waitUntil(lambda: page.stored is not None, timeout=15000)
