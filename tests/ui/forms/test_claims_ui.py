"""Conflict control in the GUI, two workstations on one real store: A's open dispatch form shows on
B's detail dock and B's form, closing releases the claim, and a conflict in B's form explains who
changed what, keeps B's input and retries after 刷新后重试."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from qtpy.QtCore import QSettings, Qt

from app.domain.clock import FixedClock
from app.domain.definitions import Action, CaseState, Role
from app.ui.forms.action_dialogs import ActionDialog
from app.ui.forms.dispatch_form import DispatchForm
from app.ui.tasks import TaskRunner
from ui.forms.world import PASSWORD, T0

pytestmark = pytest.mark.neutral


@pytest.fixture
def filed(queue):
    """The first 待派遣 case of the demo."""
    return next(r for r in sorted(queue.rows, key=lambda r: r.number) if r.state is CaseState.FILED)


@pytest.fixture
def desk_b(desk_store):
    """Workstation B: its own store connection and desk services on the same database file."""
    from app.core import build_core
    from app.store.engine import open_store

    store = open_store(desk_store.path)
    yield build_core(store, FixedClock(T0), workstation="席位 5")
    store.dispose()


@pytest.fixture
def dispatcher_b(desk_b):
    """A second dispatcher, 李四, logged in at workstation B."""
    from app.services.auth import login
    from app.services.users import add_user

    add_user(desk_b.store, "lisi", Role.DISPATCHER, display_name="李四", password=PASSWORD)
    return login(desk_b.store, "lisi", PASSWORD, clock=desk_b.clock)


@pytest.fixture
def runner_a(qtbot):
    """Workstation A's own worker pool."""
    task_runner = TaskRunner()
    yield task_runner
    assert task_runner.wait(), "A's background tasks still running at teardown"


@pytest.fixture
def window_b(qtbot, tmp_path, queue, runner, desk_b, dispatcher_b):
    """B's main window: the built-in queue and detail docks, then the desk as the client installs it."""
    from app.bootstrap import install_desk
    from app.i18n import Catalogue
    from app.ui.builtin import builtin_docks, register_builtin_docks
    from app.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(tmp_path / "b.ini"), QSettings.Format.IniFormat), capabilities=("cases",))
    qtbot.addWidget(window)
    register_builtin_docks(window.dock_registry, builtin_docks(queue, desk_b.source, runner, Catalogue()))
    teardown = install_desk(SimpleNamespace(window=window, state=queue, runner=runner), desk_b, dispatcher_b)
    window.show()
    yield window
    runner.wait()
    teardown()
    window.dock_registry.unregister_all()


def idle(qtbot, *runners):
    qtbot.waitUntil(lambda: not any(r.is_busy() for r in runners), timeout=15000)


def open_dispatch(qtbot, desk, actor, runner, case) -> DispatchForm:
    form = DispatchForm(desk, actor, runner, case.id, case.version)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitUntil(lambda: form.dispatch_button.isEnabled(), timeout=10000)
    idle(qtbot, runner)
    return form


def test_a_dispatching_shows_on_b_and_cancel_releases(qtbot, desk, login_as, runner_a, runner, queue, filed,
                                                      desk_b, dispatcher_b, window_b):
    from app.ui.builtin import DETAIL_DOCK

    dispatcher_a = login_as(Role.DISPATCHER)
    desk.workstation = "席位 3"
    detail = window_b.dock_registry.widget(DETAIL_DOCK)
    queue.select(filed.id)
    idle(qtbot, runner)
    assert detail.case_id == filed.id and not detail.claim_banner.isVisible()

    form_a = open_dispatch(qtbot, desk, dispatcher_a, runner_a, filed)
    held = desk_b.claims.holder(filed.id)
    assert held is not None and held.holder == dispatcher_a.username and held.action == Action.DISPATCH.value
    assert not form_a.claim_banner.isVisible()  # A holds it: nobody else to show

    # what LiveSync's on_claims delivers on B when A's claim is committed
    desk_b.claims_changed({filed.id})
    idle(qtbot, runner)
    text = f"演示{Role.DISPATCHER.label}（{Role.DISPATCHER.label}）正在派遣此案卷（工作站 席位 3）"
    assert detail.claim_banner.isVisible() and detail.claim_banner.text() == text

    # B opens the same case anyway: the form says who holds it but lets B work (claims are advisory)
    form_b = open_dispatch(qtbot, desk_b, dispatcher_b, runner, filed)
    assert form_b.claim_banner.isVisible() and form_b.claim_banner.text() == text
    assert form_b.dispatch_button.isEnabled()
    form_b.reject()
    idle(qtbot, runner)

    form_a.reject()  # A cancels
    idle(qtbot, runner_a)
    assert desk_b.claims.holder(filed.id) is None
    desk_b.claims_changed({filed.id})
    idle(qtbot, runner)
    assert not detail.claim_banner.isVisible()


def test_claims_of_other_cases_do_not_reload_the_banner(qtbot, desk, login_as, runner_a, runner, queue, filed,
                                                        desk_b, window_b):
    from app.ui.builtin import DETAIL_DOCK

    other = next(r for r in queue.rows if r.id != filed.id)
    queue.select(filed.id)
    idle(qtbot, runner)
    desk.claim(login_as(Role.DISPATCHER), filed.id, Action.DISPATCH)
    desk_b.claims_changed({other.id})  # not the selected case: no reload, the banner stays as it was
    idle(qtbot, runner)
    assert not window_b.dock_registry.widget(DETAIL_DOCK).claim_banner.isVisible()


def test_a_conflict_explains_who_changed_what_and_keeps_the_input(qtbot, desk, login_as, runner, filed, desk_b,
                                                                  dispatcher_b):
    leader = login_as(Role.LEADER)
    form = open_dispatch(qtbot, desk_b, dispatcher_b, runner, filed)
    suggestions = desk_b.cases.dispatch_suggestions(filed.id)
    form.choose(suggestions[-1].department_id)  # not the default first one: the choice must survive
    chosen = form.chosen_department()
    assert chosen == suggestions[-1].department_id
    form.reason.setText("现场位于两街道交界，按实际管养单位派遣")
    # meanwhile, at A, a leader urges the case (a new version)
    urged = desk.cases.urge(leader, filed.id, filed.version, note="尽快派遣")

    qtbot.mouseClick(form.dispatch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "督办" in form.conflict.details.text(), timeout=10000)
    assert form.result_value is None and form.isVisible()
    assert "刷新" in form.banner.text()
    who = f"演示{Role.LEADER.label}（{Role.LEADER.label}）{Action.URGE.label}"
    assert who in form.conflict.details.text() and "尽快派遣" in form.conflict.details.text()
    assert form.conflict.refresh_button.isVisible()
    assert form.reason.text() == "现场位于两街道交界，按实际管养单位派遣"
    assert form.chosen_department() == chosen

    qtbot.mouseClick(form.conflict.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.version == urged.version, timeout=10000)
    assert form.banner.kind == "info" and not form.conflict.refresh_button.isVisible()
    assert form.reason.text() == "现场位于两街道交界，按实际管养单位派遣"
    assert form.chosen_department() == chosen

    qtbot.mouseClick(form.dispatch_button, Qt.MouseButton.LeftButton)  # retry after the refresh
    idle(qtbot, runner)
    assert form.result_value is not None, form.banner.text()
    idle(qtbot, runner)
    case = desk.cases.get(filed.id)
    assert case.state is CaseState.DISPATCHED and case.department_code == suggestions[-1].code
    assert desk_b.claims.holder(filed.id) is None  # saved: the claim is released


def test_an_action_dialog_claims_for_its_action_and_releases_on_close(qtbot, desk, login_as, runner, filed):
    leader = login_as(Role.LEADER)
    dialog = ActionDialog(desk, leader, runner, Action.URGE, filed)
    qtbot.addWidget(dialog)
    dialog.show()
    idle(qtbot, runner)
    held = desk.claims.holder(filed.id)
    assert held is not None and held.holder == leader.username and held.action == Action.URGE.value
    dialog.close()
    idle(qtbot, runner)
    assert desk.claims.holder(filed.id) is None


def test_a_claim_dropped_at_once_never_outlives_its_release(qtbot, desk, login_as, runner, filed):
    from app.ui.claim_banner import ClaimKeeper

    actor = login_as(Role.DISPATCHER)
    for _ in range(20):  # the claim and the release race on two pool threads
        keeper = ClaimKeeper(lambda cid: desk.claim(actor, cid), lambda cid: desk.release(actor, cid), runner,
                             lambda _text: None)
        keeper.hold(filed.id)
        keeper.drop()
        idle(qtbot, runner)
        assert desk.claims.holder(filed.id) is None
