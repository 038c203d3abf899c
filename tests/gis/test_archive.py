"""Search over every case in the window (issue 10, item 2): the case archive dock and the queue's
search box falling back to it, over a generated demo store with closed and voided cases — on
SpatiaLite and on PostGIS (the window over a PostgreSQL store; a department operator through its
own login, where row-level security decides what it finds)."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from qgis.PyQt.QtCore import QSettings, Qt

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 11, 20, 10, 30)


class TinyCity:
    """The generated tiny demo on one backend; :meth:`url` makes a fresh copy for one test."""

    def __init__(self, backend: str, source, cluster=None) -> None:
        self.backend, self.source, self.cluster = backend, source, cluster
        self._made: list[str] = []

    def url(self, tmp_path) -> str:
        if self.backend == "spatialite":
            path = tmp_path / "hall.sqlite"
            shutil.copyfile(self.source, path)
            return f"sqlite:///{path}"
        name = self.cluster.create_database(template=self.source)
        self._made.append(name)
        return self.cluster.url(name)

    def drop_copies(self) -> None:
        while self._made:
            self.cluster.drop_database(self._made.pop())


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def tiny_city(request, tmp_path_factory):
    from data.democity.generate import generate

    if request.param == "spatialite":
        path = tmp_path_factory.mktemp("archive") / "tiny.sqlite"
        generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
        yield TinyCity("spatialite", path)
        return
    cluster = request.getfixturevalue("pg_cluster")
    template = cluster.create_database()
    try:
        generate(cluster.url(template), seed=3, scale="tiny", now=T0)
        yield TinyCity("postgis", template, cluster)
    finally:
        cluster.drop_database(template)


@pytest.fixture(autouse=True)
def _drop_copies(tiny_city):
    yield
    if tiny_city.backend == "postgis":
        tiny_city.drop_copies()  # after the test's hall (and its connections) are gone


def _hall(qtbot, tiny_city, tmp_path, actor, lang="zh_CN", url=None):
    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.store.engine import open_store

    store = open_store(url or tiny_city.url(tmp_path))
    hall = build_hall(store, clock=FixedClock(T0), plugins=False, live=False, lang=lang, actor=actor,
                      settings=QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat))
    hall.window.resize(1600, 1000)
    hall.window.show()
    qtbot.waitExposed(hall.window)
    hall.controller.start()
    qtbot.waitUntil(lambda: len(hall.state.rows) > 0, timeout=20000)
    return hall


@pytest.fixture
def hall(qtbot, qgis_app, tiny_city, tmp_path):
    from app.domain.definitions import Role
    from app.services.actors import Actor

    built = _hall(qtbot, tiny_city, tmp_path, Actor("u1", "用户甲", Role.DISPATCHER))
    yield built
    built.runner.wait()
    built.teardown()


def _archive(hall):
    from app.ui.archive_dock import ARCHIVE_DOCK

    return hall.window.dock_registry.widget(ARCHIVE_DOCK)


def _queue(hall):
    from app.ui.builtin import QUEUE_DOCK

    return hall.window.dock_registry.widget(QUEUE_DOCK)


def _search(qtbot, archive, query):
    archive.search(query)
    assert archive.busy  # the answer comes from a worker, after this call returned
    qtbot.waitUntil(lambda: not archive.busy, timeout=20000)


def _closed_and_voided(hall):
    """A closed and a voided case straight from the core (none is in the queue)."""
    closed = hall.core.find_cases(None, "已结案", limit=5).rows
    voided = hall.core.find_cases(None, "已作废", limit=5).rows
    assert closed and voided, "the demo store should hold closed and voided cases"
    return closed[0], voided[0]


def test_closed_and_voided_cases_are_found_and_open_in_the_detail_dock(qtbot, hall):
    from app.domain.definitions import CaseState
    from app.ui.builtin import DETAIL_DOCK

    archive = _archive(hall)
    closed, voided = _closed_and_voided(hall)
    assert hall.state.summary(closed.id) is None and hall.state.summary(voided.id) is None
    _search(qtbot, archive, closed.number)
    assert [r.id for r in archive.rows()][:1] == [closed.id]
    assert archive.table.item(0, 0).text() == closed.number
    assert archive.table.item(0, 1).text() == "已结案"
    assert hall.search_hits.count == len(archive.rows())  # the page is marked on the map
    assert len(hall.search_hits.band.asGeometry().asMultiPoint()) == len(archive.rows())

    _search(qtbot, archive, "状态:已作废")
    assert voided.id in {r.id for r in archive.rows()}
    assert {r.state for r in archive.rows()} == {CaseState.VOIDED}
    assert "共" in archive.status.text()

    row = next(i for i, r in enumerate(archive.rows()) if r.id == voided.id)
    archive.table.selectRow(row)
    qtbot.keyClick(archive.table, Qt.Key_Return)  # Enter on a result opens it
    assert hall.state.selected_id == voided.id
    detail = hall.window.dock_registry.widget(DETAIL_DOCK)
    assert detail.case_id == voided.id
    assert voided.number in detail.title.text()
    assert detail.fields["状态"].text() == "已作废"
    centre = hall.map_view.canvas.center()
    assert (centre.x(), centre.y()) == pytest.approx((voided.x, voided.y), abs=1.0)  # located
    assert "来自案卷库" in _queue(hall).message.text()

    archive.query.clear()  # clearing the query clears the list and the map's marks
    assert archive.rows() == [] and hall.search_hits.count == 0

    # another case becomes current: the archived one leaves the state
    hall.state.select(hall.state.visible_ids[0])
    assert hall.state.archived_id is None and hall.state.summary(voided.id) is None


def test_a_serial_not_in_the_queue_is_found_from_the_queue_search_box(qtbot, hall):
    queue, archive = _queue(hall), _archive(hall)
    closed, _voided = _closed_and_voided(hall)
    serial = closed.number.rsplit("-", 1)[1]
    assert hall.state.summary(closed.id) is None  # not in the loaded queue
    queue.search.setText(closed.number)  # typed: nothing here matches → every case, in a worker
    assert hall.state.visible_ids == ()
    qtbot.waitUntil(lambda: "已在全部案卷中找到" in queue.message.text(), timeout=20000)
    assert closed.id in {r.id for r in archive.rows()}
    assert "本页无匹配，已在全部案卷中找到 1 件" in queue.message.text()

    queue.search.setText(serial)  # 1–5 digits: a category prefix in the queue, a serial in the archive
    qtbot.keyClick(queue.search, Qt.Key_Return)
    qtbot.waitUntil(lambda: not archive.busy and archive.rows() and "找到" in queue.message.text(),
                    timeout=20000)
    assert archive.rows()[0].number.endswith("-" + serial)  # the exact serial first


def test_the_archive_is_a_tab_beside_the_queue_not_over_it(hall):
    from app.ui.archive_dock import ARCHIVE_DOCK
    from app.ui.builtin import QUEUE_DOCK

    registry = hall.window.dock_registry
    queue, archive = registry.dock(QUEUE_DOCK), registry.dock(ARCHIVE_DOCK)
    assert archive in hall.window.tabifiedDockWidgets(queue)
    assert not queue.visibleRegion().isEmpty()  # the queue stays in front
    assert archive.visibleRegion().isEmpty()


def test_a_bad_query_says_why_and_nothing_found_says_so(qtbot, hall):
    queue, archive = _queue(hall), _archive(hall)
    _search(qtbot, archive, "状态:不存在的状态")
    assert archive.rows() == [] and archive.status.text()  # the SearchError's message
    assert "Traceback" not in archive.status.text()
    queue.search.setText("这段文字不会出现在任何案卷里")
    qtbot.keyClick(queue.search, Qt.Key_Return)
    qtbot.waitUntil(lambda: "没有找到" in queue.message.text(), timeout=20000)


def test_paging_walks_the_results(qtbot, hall):
    from app.ui.archive_dock import PAGE

    archive = _archive(hall)
    _search(qtbot, archive, "")
    first = [r.id for r in archive.rows()]
    if not archive.next_button.isEnabled():
        pytest.skip("fewer cases than one page")
    assert len(first) == PAGE and not archive.prev_button.isEnabled()
    assert archive.prev_button.toolTip() == "已是第一页"  # a disabled button says why
    assert archive.next_button.toolTip() == ""
    archive.next_button.click()
    qtbot.waitUntil(lambda: not archive.busy, timeout=20000)
    assert archive.prev_button.isEnabled() and archive.prev_button.toolTip() == ""
    assert not set(first) & {r.id for r in archive.rows()}
    while archive.next_button.isEnabled():
        archive.next_button.click()
        qtbot.waitUntil(lambda: not archive.busy, timeout=20000)
    assert archive.next_button.toolTip() == "已是最后一页"


def test_a_department_operator_finds_only_its_departments_cases(qtbot, qgis_app, tiny_city, tmp_path):
    """SpatiaLite: the services scope the search; PostGIS: the operator's own login, row-level security."""
    import secrets

    from sqlalchemy import text

    from app.core import build_core
    from app.domain.clock import FixedClock
    from app.domain.definitions import Role
    from app.services.actors import Actor
    from app.store import security
    from app.store.engine import open_store

    url = tiny_city.url(tmp_path)
    probe = open_store(url)
    login = None
    try:
        everything = build_core(probe, FixedClock(T0)).find_cases(None, "", limit=500).rows
        departments = {r.department_code for r in everything if r.department_code}
        assert len(departments) > 1
        dept_code = sorted(departments)[0]
        with probe.engine.connect() as conn:
            dept_id = conn.execute(text("SELECT id FROM departments WHERE code = :c"), {"c": dept_code}).scalar_one()
        name = "d1"
        if tiny_city.backend == "postgis":  # a user and its own login, as docs/deploy.md adds them
            from app.services.users import add_user

            name, password = f"d1{secrets.token_hex(3)}", secrets.token_urlsafe(12)
            add_user(probe, name, Role.DEPARTMENT, display_name="部门甲", password=password,
                     department_code=dept_code)
            login = name
            url = probe.url.set(username=security.login_name(name), password=password).render_as_string(
                hide_password=False)
        built = _hall(qtbot, tiny_city, tmp_path, Actor(name, "部门甲", Role.DEPARTMENT, department_id=dept_id),
                      url=url)
        try:
            archive = _archive(built)
            _search(qtbot, archive, "")
            found = archive.rows()
            assert found and {r.department_code for r in found} == {dept_code}
            other = next(r for r in everything if r.department_code and r.department_code != dept_code)
            _search(qtbot, archive, other.number)  # another department's case by its number: not there
            assert other.id not in {r.id for r in archive.rows()}
        finally:
            built.runner.wait()
            built.teardown()
    finally:
        if login is not None:
            security.drop_login(probe, login)
        probe.dispose()
