"""The login dialog shown before the main window when the client runs with ``--login``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from app.domain.clock import Clock
from app.i18n import Catalogue
from app.services.actors import Actor
from app.ui.forms.common import Banner, Submitter
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.store.engine import Store


class LoginDialog(QDialog):
    """Username and password; ``login(username, password)`` runs in a worker and returns the Actor.

    A refused login (AuthError) shows its message and keeps the username; a locked account
    says so and whom to ask. After ``exec()`` returns Accepted, ``actor`` holds the result.
    """

    def __init__(self, login: Callable[[str, str], object], runner: TaskRunner,
                 catalogue: Catalogue | None = None, parent=None, username: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self.setWindowTitle(tr("登录 GridHall"))
        self._login = login
        self.actor = None
        title = QLabel(tr("GridHall 数字城管指挥大厅"), objectName="loginTitle")
        title.setStyleSheet("QLabel { font-size:14pt; font-weight:bold; color:#1f3a5f; }")
        self.banner = Banner(self, "loginBanner")
        self.username = QLineEdit(username, objectName="loginUsername")
        self.password = QLineEdit(objectName="loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(tr("用户名"), self.username)
        form.addRow(tr("密码"), self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(tr("登录"))
        self.ok_button.setObjectName("loginButton")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.submitter = Submitter(runner, [self.ok_button, self.username, self.password])
        self.username.textEdited.connect(self._name_changed)
        self.setMinimumWidth(380)
        (self.password if username else self.username).setFocus()

    def submit(self) -> None:
        """Check the fields, then try the login in a worker."""
        name, password = self.username.text().strip(), self.password.text()
        if not name or not password:
            self.banner.show_message(self.cat.tr("请输入用户名和密码"))
            (self.username if not name else self.password).setFocus()
            return
        self.banner.show_message(self.cat.tr("正在登录…"), "info")
        self.submitter.submit(lambda: self._login(name, password), self._done, self._failed)

    def _name_changed(self, _text: str) -> None:
        # a locked account blocks only that name: another user may still sign in here
        self.password.setEnabled(True)
        self.ok_button.setEnabled(True)

    def _done(self, actor) -> None:
        self.actor = actor
        self.banner.clear_message()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        reason = getattr(exc, "reason", "")
        text = self.cat.error(exc)
        if reason == "locked":
            self.password.setEnabled(False)
            self.ok_button.setEnabled(False)
        self.banner.show_message(text)
        self.password.clear()
        if self.password.isEnabled():
            self.password.setFocus()


def ask_login(store: Store | None, clock: Clock, *, catalogue=None, parent=None, username: str = "",
              attempt: Callable[[str, str], Actor] | None = None) -> Actor | None:
    """Show the login dialog (the login itself runs in a worker); the Actor, or None if cancelled.

    ``attempt(name, password)`` performs one login (default: argon2 ``auth.login`` on ``store``);
    the hall passes ``hall_login.LoginAttempts`` so PostGIS users connect as their own login.
    """
    from app.services.auth import login
    from app.ui.tasks import TaskRunner

    if attempt is None:
        def attempt(name: str, password: str) -> Actor:
            return login(store, name, password, clock=clock)

    runner = TaskRunner()
    dialog = LoginDialog(attempt, runner, catalogue, parent, username)
    accepted = dialog.exec() == dialog.DialogCode.Accepted
    runner.wait()
    return dialog.actor if accepted else None
