"""The 基础数据 page with qtbot over the real maintenance service on SpatiaLite: a component's attributes,
status and position changed through the page land in the store with their history row shown under
it; a change without a reason is refused and writes nothing; a grid split along a typed line and the
parts merged again; the map seams (pick, line tools) are called as the GUI root provides them."""

from __future__ import annotations

import pytest
from services.world import MANHOLE, T0, build_world

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.services.base_maintenance import BaseMaintenance
from app.ui.base_maint import BaseMaintPage


@pytest.fixture
def backend() -> str:
    return "spatialite"


class Tools:
    """The map seams as app.gis.base_edit_tools gives them, recording what the page asked."""

    def __init__(self, line):
        self.line, self.shown, self.changes = line, [], 0

    def draw_line(self, callback):
        callback(self.line)

    def show(self, wkt):
        self.shown.append(wkt)

    def changed(self):
        self.changes += 1


@pytest.fixture
def setup(qtbot, store, runner):
    world = build_world(store)
    service = BaseMaintenance(store, FixedClock(T0))
    picks = []
    tools = Tools([(557140.0, 3464380.0), (557140.0, 3464520.0)])

    def pick(callback):
        picks.append(callback)
        callback(557050.0, 3464450.0, None)

    page = BaseMaintPage(service, world.actors["admin"], runner, Catalogue("zh_CN"), pick=pick, tools=tools,
                         today=T0.date())
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: page.loaded and not page.busy and len(page.rows) == 1, timeout=15000)
    return page, service, tools, picks


def _idle(qtbot, page):
    qtbot.waitUntil(lambda: not page.busy, timeout=15000)


def test_component_edit_status_and_move_through_the_page(qtbot, setup):
    page, service, tools, picks = setup
    assert page.select(MANHOLE)
    qtbot.waitUntil(lambda: page.current is not None and page.current["code"] == MANHOLE and not page.busy,
                    timeout=15000)
    assert page.fields["name"].text() == "污水井盖" and page.history.rowCount() == 0
    assert tools.shown[-1] == "POINT(557150.0 3464450.0)"
    page.fields["name"].setText("雨水井盖")
    page.save_button.click()
    assert page.status.property("error") is True and "修改原因" in page.status.full_text()
    assert service.history() == []
    page.reason.setText("普查更正")
    page.save_button.click()
    qtbot.waitUntil(lambda: "已修改部件" in page.status.full_text(), timeout=15000)
    assert service.component(MANHOLE)["name"] == "雨水井盖"
    qtbot.waitUntil(lambda: page.history.rowCount() == 1, timeout=15000)
    assert page.history.item(0, 3).text() == "修改属性" and "雨水井盖" in page.history.item(0, 4).text()
    assert tools.changes == 1
    # status with its change date
    page.status_box.setCurrentIndex(page.status_box.findData("damaged"))
    page.reason.setText("巡查发现")
    page.status_button.click()
    qtbot.waitUntil(lambda: "状态已改为" in page.status.full_text(), timeout=15000)
    assert service.component(MANHOLE)["status"] == "damaged"
    assert service.component(MANHOLE)["changed_date"] == T0.date().isoformat()
    # move: the map's point picker answers with the new position
    _idle(qtbot, page)
    page.reason.setText("实测位置")
    page.move_button.click()
    qtbot.waitUntil(lambda: "已移动部件" in page.status.full_text(), timeout=15000)
    assert len(picks) == 1 and service.component(MANHOLE)["grid"] == "320599001001002"
    qtbot.waitUntil(lambda: page.history.rowCount() == 3, timeout=15000)


def test_a_refused_change_is_reported_and_nothing_written(qtbot, setup):
    page, service, *_ = setup
    page.select(MANHOLE)
    qtbot.waitUntil(lambda: page.current is not None and not page.busy, timeout=15000)
    page.fields["owner"].setText("NOPE")
    page.reason.setText("试")
    page.save_button.click()
    qtbot.waitUntil(lambda: page.status.property("error") is True, timeout=15000)
    assert "NOPE" in page.status.full_text() and service.history() == []


def test_add_component_then_split_and_merge_grids(qtbot, setup):
    page, service, tools, _ = setup
    page.category.setText("01002")
    page.fields["name"].setText("污水井盖")
    page.reason.setText("新建")
    page.add_button.click()
    qtbot.waitUntil(lambda: "已新增部件" in page.status.full_text(), timeout=15000)
    assert service.component("32059901002000002")["grid"] == "320599001001002"
    _idle(qtbot, page)
    page.mode.setCurrentIndex(1)
    qtbot.waitUntil(lambda: not page.busy and len(page.rows) == 16, timeout=15000)
    assert page.split_button.isVisible() and not page.save_button.isVisible()
    page.select("320599001001006")
    _idle(qtbot, page)
    page.reason.setText("道路拓宽")
    page.line_edit.setText("557140 3464380; 557140 3464520")
    page.split_button.click()
    qtbot.waitUntil(lambda: "已拆分为" in page.status.full_text(), timeout=15000)
    qtbot.waitUntil(lambda: not page.busy and len(page.rows) == 17, timeout=15000)
    assert "320599001001006" not in [r["code"] for r in page.rows]
    # the drawn line (map seam) splits the next one
    page.select("320599001001002")
    _idle(qtbot, page)
    page.reason.setText("画线拆分")
    page.split_button.click()
    qtbot.waitUntil(lambda: page.status.property("error") is True or "已拆分为" in page.status.full_text()
                    and "320599001001002" in page.status.full_text(), timeout=15000)
    assert page.status.property("error") is True  # x=557140 misses grid 002 (557000–557100): one message
    assert "分成两部分" in page.status.full_text()
    _idle(qtbot, page)
    page.list.clearSelection()
    for code in ("320599001001009", "320599001001010"):
        for i, r in enumerate(page.rows):
            if r["code"] == code:
                page.list.selectionModel().select(page.list.model().index(i, 0),
                                                  page.list.selectionModel().SelectionFlag.Select
                                                  | page.list.selectionModel().SelectionFlag.Rows)
    assert page.selected_codes() == ["320599001001009", "320599001001010"]
    _idle(qtbot, page)
    page.reason.setText("合并")
    page.merge_button.click()
    qtbot.waitUntil(lambda: "已合并为" in page.status.full_text(), timeout=15000)
    assert service.grid("320599001001011")["retired_on"] is None
    assert [r["action"] for r in service.history("grid", "320599001001009")] == ["add", "merge"]
