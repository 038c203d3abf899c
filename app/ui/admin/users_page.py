"""用户 (users) page: every account with its role, department and status; add an account, disable or
enable it, lift a lock, reset its password — all through app/services/users.py, in a worker.

The dialogs stay open on a refused input (a taken or invalid username, a weak password, a department
operator without a department) and say why in the user's language; nothing is half-written (the
service checks everything before its one transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from app.domain.definitions import Role
from app.domain.messages import Msg
from app.i18n import Catalogue
from app.services import users as service
from app.services.actors import Actor
from app.store.engine import Store
from app.ui.admin.common import AdminPage, ask_change, fill, table
from app.ui.plain import PlainLabel
from app.ui.tasks import TaskRunner

#: ``departments()`` → (id, code, name) of the active departments.
Departments = Callable[[], "list[tuple[int, str, str]]"]
STATUS_LABELS = ("正常", "已锁定", "已停用", "未设密码")


class _Dialog(QDialog):
    """A form whose OK does not close it: the page submits, and closes it only when the service agrees."""

    def __init__(self, title: str, catalogue: Catalogue, name: str, parent=None) -> None:
        super().__init__(parent)
        self.cat = catalogue
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = PlainLabel(objectName=f"{name}Error", max_chars=1000)
        self.error.setStyleSheet("color: #b3261e;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(catalogue.tr("确定"))
        self.ok_button.setObjectName(f"{name}Ok")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(catalogue.tr("取消"))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def password_row(self) -> tuple[QLineEdit, QLineEdit]:
        tr = self.cat.tr
        first, second = QLineEdit(objectName="userPassword"), QLineEdit(objectName="userPassword2")
        for edit in (first, second):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow(tr("密码"), first)
        self.form.addRow(tr("再次输入密码"), second)
        return first, second

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.ok_button.setEnabled(True)


class UsersPage(AdminPage):
    """The accounts table and 添加用户… / 停用 / 启用 / 解锁 / 重置密码… / 刷新."""

    def __init__(self, store: Store, actor: Actor, runner: TaskRunner, catalogue: Catalogue,
                 departments: Departments, parent=None) -> None:
        super().__init__(runner, catalogue, "adminUsers", parent)
        tr = self.tr
        self.store, self.actor, self.departments = store, actor, departments
        self.users: list[service.UserInfo] = []
        self.table = table("usersTable", [tr("用户名"), tr("姓名"), tr("角色"), tr("部门"), tr("状态"), tr("电话")])
        self.add_button = QPushButton(tr("添加用户…"), objectName="userAdd")
        self.disable_button = QPushButton(tr("停用"), objectName="userDisable")
        self.enable_button = QPushButton(tr("启用"), objectName="userEnable")
        self.unlock_button = QPushButton(tr("解锁"), objectName="userUnlock")
        self.password_button = QPushButton(tr("重置密码…"), objectName="userPassword")
        self.change_button = QPushButton(tr("修改角色/部门…"), objectName="userChange")
        self.refresh_button = QPushButton(tr("刷新"), objectName="userRefresh")
        bar = QHBoxLayout()
        for button in (self.add_button, self.change_button, self.disable_button, self.enable_button,
                       self.unlock_button, self.password_button):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.add_button.clicked.connect(lambda: self.ask_add())
        # retire / reactivate are on the record: the reason is asked first (the change dialog)
        self.disable_button.clicked.connect(lambda: self.ask_retire(True))
        self.enable_button.clicked.connect(lambda: self.ask_retire(False))
        self.change_button.clicked.connect(lambda: self.ask_change())
        self.unlock_button.clicked.connect(lambda: self._act(service.unlock_user, Msg("已解锁 {name}")))
        self.password_button.clicked.connect(lambda: self.ask_password())
        self.refresh_button.clicked.connect(lambda: self.reload())
        self.table.itemSelectionChanged.connect(self._busy_changed)
        self._busy_changed()

    def _busy_changed(self) -> None:
        chosen = self.selected() is not None
        self.add_button.setEnabled(not self.busy)
        self.refresh_button.setEnabled(not self.busy)
        for button in (self.disable_button, self.enable_button, self.unlock_button, self.password_button,
                       self.change_button):
            button.setEnabled(chosen and not self.busy)

    # ---- reading ------------------------------------------------------------------
    def reload(self, done: Callable[[Any], None] | None = None) -> None:
        store = self.store
        self.say(Msg("正在读取用户…"))
        self.call("read", lambda: service.list_users(store), lambda users: self._show(users, done))

    def _show(self, users: list[service.UserInfo], done: Callable[[Any], None] | None) -> None:
        tr = self.tr
        chosen = self.selected()
        self.users = users
        fill(self.table, [(u.username, u.display_name, tr(u.role.label),
                           f"{u.department_code} {u.department_name}" if u.department_code else "",
                           tr(u.status), u.phone or "") for u in users])
        if chosen is not None:
            self.select(chosen.username)
        self.say(Msg("共 {count} 个账户", count=len(users)))
        self._busy_changed()
        if done is not None:
            done(users)

    def selected(self) -> service.UserInfo | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.users[rows[0].row()] if rows and rows[0].row() < len(self.users) else None

    def select(self, username: str) -> bool:
        for i, user in enumerate(self.users):
            if user.username == username:
                self.table.selectRow(i)
                return True
        return False

    # ---- changing -----------------------------------------------------------------
    def _act(self, fn: Callable[..., None], said: Msg) -> None:
        user = self.selected()
        if user is None:
            return
        store, actor, name = self.store, self.actor, user.username

        def done(_none: None) -> None:
            self.say(Msg(said.id, name=name))
            self.reload(lambda _users: self.say(Msg(said.id, name=name)))

        self.call("act", lambda: fn(store, name, actor=actor), done)

    def ask_add(self) -> _Dialog:
        """The 添加用户 dialog (window-modal); the account is created when the service agrees."""
        tr = self.tr
        dialog = _Dialog(tr("添加用户"), self.cat, "userAddDialog", self)
        username, display = QLineEdit(objectName="userName"), QLineEdit(objectName="userDisplay")
        username.setPlaceholderText(tr("例如 zhangsan"))
        role = QComboBox(objectName="userRole")
        for r in service.LOGIN_ROLES:
            role.addItem(tr(r.label), r.value)
        department = QComboBox(objectName="userDepartment")
        department.addItem(tr("（无）"), None)
        phone = QLineEdit(objectName="userPhone")
        dialog.form.addRow(tr("用户名"), username)
        dialog.form.addRow(tr("姓名"), display)
        dialog.form.addRow(tr("角色"), role)
        dialog.form.addRow(tr("部门"), department)
        dialog.form.addRow(tr("电话"), phone)
        first, second = dialog.password_row()
        dialog.fields = {"username": username, "display": display, "role": role, "department": department,  # type: ignore[attr-defined]
                         "phone": phone, "password": first, "password2": second}

        def departments_read(rows: list[tuple[int, str, str]]) -> None:
            for _id, code, name in rows:
                department.addItem(f"{code} {name}", code)

        loader = self.departments
        self.runner.run_in_thread(loader, departments_read, lambda exc: dialog.show_error(self.cat.error(exc)),
                                  key="adminUsers.departments")

        def submit() -> None:
            if first.text() != second.text():
                dialog.show_error(tr("两次输入的密码不一致"))
                return
            dialog.ok_button.setEnabled(False)
            dialog.error.setText("")
            store, actor = self.store, self.actor
            values = {"username": username.text(), "role": Role(role.currentData()),
                      "display_name": display.text(), "password": first.text(),
                      "department_code": department.currentData(), "phone": phone.text() or None}

            def added(info: service.UserInfo) -> None:
                dialog.accept()
                self.dialog = None
                self.say(Msg("已添加用户 {name}（{role}）", name=info.username, role=info.role))
                self.reload(lambda _users: self.select(info.username))

            self.call("add", lambda: service.add_user(store, actor=actor, **values), added,
                      lambda exc: dialog.show_error(self.cat.error(exc)))

        dialog.buttons.accepted.connect(submit)
        dialog.rejected.connect(lambda: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def ask_retire(self, retire: bool) -> None:
        """停用 / 启用 the selected account: the reason first (recorded), then the service."""
        user = self.selected()
        if user is None:
            return
        store, actor, name = self.store, self.actor, user.username
        fn = service.retire_user if retire else service.reactivate_user
        said = Msg("已停用 {name}", name=name) if retire else Msg("已启用 {name}", name=name)
        title = self.cat.text(Msg("停用用户 {name}", name=name) if retire else Msg("启用用户 {name}", name=name))
        lines = [self.cat.text(Msg("{name}：{before} → {after}", name=name, before=Msg("启用") if retire else Msg("停用"),
                                   after=Msg("停用") if retire else Msg("启用")))]

        def apply(reason: str) -> None:
            self.call("retire", lambda: fn(store, name, reason=reason, actor=actor),
                      lambda _info: self.reload(lambda _users: self.say(said)))

        ask_change(self, title, lines, apply)

    def ask_change(self) -> _Dialog | None:
        """The 修改角色/部门 dialog for the selected account; then the reason (recorded) and the service."""
        user = self.selected()
        if user is None:
            return None
        tr = self.tr
        dialog = _Dialog(self.cat.text(Msg("修改 {name} 的角色和部门", name=user.username)), self.cat,
                         "userChangeDialog", self)
        role = QComboBox(objectName="userChangeRole")
        for r in service.LOGIN_ROLES:
            role.addItem(tr(r.label), r.value)
        role.setCurrentIndex(max(0, role.findData(user.role.value)))
        department = QComboBox(objectName="userChangeDepartment")
        department.addItem(tr("（无）"), "")
        dialog.form.addRow(tr("角色"), role)
        dialog.form.addRow(tr("部门"), department)
        dialog.fields = {"role": role, "department": department}  # type: ignore[attr-defined]

        def departments_read(rows: list[tuple[int, str, str]]) -> None:
            for _id, code, name in rows:
                department.addItem(f"{code} {name}", code)
            department.setCurrentIndex(max(0, department.findData(user.department_code or "")))

        self.runner.run_in_thread(self.departments, departments_read,
                                  lambda exc: dialog.show_error(self.cat.error(exc)), key="adminUsers.departments")
        name = user.username

        def submit() -> None:
            new_role, new_dept = Role(role.currentData()), department.currentData() or ""
            before = f"{tr(user.role.label)} {user.department_code or ''}".strip()
            after = f"{tr(new_role.label)} {new_dept}".strip()
            if before == after:
                dialog.show_error(tr("没有变化，未保存"))
                return
            dialog.accept()
            self.dialog = None
            store, actor = self.store, self.actor

            def apply(reason: str) -> None:
                self.call("change", lambda: service.change_user(store, name, role=new_role, department_code=new_dept,
                                                                 reason=reason, actor=actor),
                          lambda info: self.reload(lambda _users: self.say(
                              Msg("已修改 {name}：{role}", name=info.username, role=info.role))))

            ask_change(self, self.cat.text(Msg("修改 {name} 的角色和部门", name=name)), [f"{name}：{before} → {after}"],
                       apply)

        dialog.buttons.accepted.connect(submit)
        dialog.rejected.connect(lambda: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def ask_password(self) -> _Dialog | None:
        """The 重置密码 dialog for the selected account (also clears its lock)."""
        user = self.selected()
        if user is None:
            return None
        tr = self.tr
        dialog = _Dialog(self.cat.text(Msg("重置 {name} 的密码", name=user.username)), self.cat,
                         "userPasswordDialog", self)
        first, second = dialog.password_row()
        name = user.username

        def submit() -> None:
            if first.text() != second.text():
                dialog.show_error(tr("两次输入的密码不一致"))
                return
            dialog.ok_button.setEnabled(False)
            store, actor, password = self.store, self.actor, first.text()

            def done(_none: None) -> None:
                dialog.accept()
                self.dialog = None
                self.say(Msg("已重置 {name} 的密码", name=name))
                self.reload()

            self.call("password", lambda: service.set_password(store, name, password, actor=actor), done,
                      lambda exc: dialog.show_error(self.cat.error(exc)))

        dialog.buttons.accepted.connect(submit)
        dialog.rejected.connect(lambda: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog


__all__ = ["STATUS_LABELS", "UsersPage"]
