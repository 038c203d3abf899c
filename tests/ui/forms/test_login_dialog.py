"""The login dialog with the real login: wrong password, lock after five, success."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialog

from app.domain.definitions import Role
from app.services.auth import LOCK_AFTER, login
from app.ui.forms.login_dialog import LoginDialog
from ui.forms.world import PASSWORD

pytestmark = pytest.mark.neutral


@pytest.fixture
def dialog(qtbot, desk, runner):
    widget = LoginDialog(lambda name, pw: login(desk.store, name, pw, clock=desk.clock), runner)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def attempt(qtbot, dialog, name, password):
    dialog.username.setText(name)
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.submitter.busy, timeout=10000)


def test_wrong_password_says_so_and_keeps_the_username(qtbot, dialog):
    attempt(qtbot, dialog, "demo_dispatcher", "wrong-password")
    assert "用户名或密码错误" in dialog.banner.text() and "还可尝试" in dialog.banner.text()
    assert dialog.username.text() == "demo_dispatcher"
    assert dialog.password.text() == ""
    assert dialog.actor is None and dialog.isVisible()


def test_locked_account_is_explained(qtbot, dialog):
    for _ in range(LOCK_AFTER):
        attempt(qtbot, dialog, "demo_leader", "wrong-password")
    assert "锁定" in dialog.banner.text() and "管理员" in dialog.banner.text()
    assert not dialog.ok_button.isEnabled()
    dialog.username.setText("demo_acceptor")
    dialog.username.textEdited.emit("demo_acceptor")  # another person may still sign in
    assert dialog.ok_button.isEnabled()


def test_success_returns_the_actor(qtbot, dialog):
    attempt(qtbot, dialog, "demo_dispatcher", PASSWORD)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor.role is Role.DISPATCHER


def test_empty_fields_are_asked_for_without_a_request(dialog):
    dialog.submit()
    assert "用户名" in dialog.banner.text()
    assert dialog.submitter.requests == 0
