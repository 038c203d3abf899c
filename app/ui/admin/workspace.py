"""The administrator's workspace: one dock (系统管理) whose tabs are the pages over the configuration
services — 工作日历, 用户, 部门, 类别, 路由规则, 时限, 考核与提醒 and 配置变更记录.

Registered by the GUI root for the administrator only (app/bootstrap.py); the administrator's desk
layout (resources/layouts/desk_admin.toml) gives it most of the window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from qtpy.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.domain.clock import Clock, SystemClock
from app.i18n import Catalogue
from app.services.actors import Actor
from app.services.config import ConfigService
from app.store.engine import Store
from app.ui.admin.calendar_page import CalendarPage
from app.ui.admin.common import AdminPage
from app.ui.admin.config_pages import CategoriesPage, DepartmentsPage, DrawFns, LimitsPage, PickFn, RoutesPage
from app.ui.admin.history_page import HistoryPage
from app.ui.admin.settings_page import SettingsPage
from app.ui.admin.users_page import Departments, UsersPage
from app.ui.base_maint import BASE_PAGE_TITLE, make_base_page
from app.ui.tasks import TaskRunner

ADMIN_DOCK = "gridhall.admin"
ADMIN_TITLE = "系统管理"


class AdminWorkspace(QWidget):
    """The pages as tabs; a saved change refreshes the history page."""

    def __init__(self, store: Store, actor: Actor, runner: TaskRunner, catalogue: Catalogue, today: date,
                 departments: Departments, *, clock: Clock | None = None, pick: PickFn | None = None,
                 draw: DrawFns | None = None, watch=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("adminWorkspace")
        tr = catalogue.tr
        self.tabs = QTabWidget(objectName="adminTabs")
        self.history = HistoryPage(store, runner, catalogue)
        self.calendar = CalendarPage(store, actor, runner, catalogue, today, on_saved=self._changed)
        self.users = UsersPage(store, actor, runner, catalogue, departments)
        self.config = config = ConfigService(store, clock or SystemClock())
        changed = self._changed
        self.departments = DepartmentsPage(config, actor, runner, catalogue, changed)
        self.categories = CategoriesPage(config, actor, runner, catalogue, changed)
        self.routes = RoutesPage(config, actor, runner, catalogue, changed, pick=pick)
        self.limits = LimitsPage(config, actor, runner, catalogue, changed)
        self.settings = SettingsPage(config, actor, runner, catalogue, changed)
        self.pages: dict[str, AdminPage] = {}
        for key, title, page in (("calendar", "工作日历", self.calendar), ("users", "用户", self.users),
                                 ("departments", "部门", self.departments), ("categories", "类别", self.categories),
                                 ("routes", "路由规则", self.routes), ("limits", "时限", self.limits),
                                 ("settings", "考核与提醒", self.settings)):
            self.add_page(key, tr(title), page)
        self.add_page("history", tr("配置变更记录"), self.history)
        self.add_page("base", tr(BASE_PAGE_TITLE), make_base_page(store, actor, runner, catalogue, clock, pick=pick),
                      before="history")  # 基础数据维护 (issue 15, app/ui/base_maint)
        self.departments.set_draw(draw)
        self.routes.set_draw(draw)
        # another workstation saved a change (app.services.config_live): the pages read again
        self._unsubscribe = watch.subscribe(lambda update: None if update.first else self.refresh_all()) \
            if watch is not None else None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def add_page(self, key: str, title: str, page: AdminPage, *, before: str | None = None) -> None:
        """Add a page as a tab (before the page ``before`` when given)."""
        self.pages[key] = page
        if before is not None and before in self.pages:
            self.tabs.insertTab(self.tabs.indexOf(self.pages[before]), page, title)
        else:
            self.tabs.addTab(page, title)

    def _changed(self) -> None:
        """A saved change: the pages already read show it at their next look (the history now)."""
        for page in self.pages.values():
            if page is not self.tabs.currentWidget() and page.loaded:
                page.loaded = False  # read again when shown
        if self.history.loaded or self.tabs.currentWidget() is self.history:
            self.history.reload()

    def refresh_all(self) -> None:
        """A change saved elsewhere: the page shown reads again at once, the others when shown."""
        current = self.tabs.currentWidget()
        for page in self.pages.values():
            if page.loaded and page is not current:
                page.loaded = False
        if isinstance(current, AdminPage) and current.loaded and not current.busy:
            current.reload()

    def teardown(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for page in self.pages.values():
            page.teardown()

    def show_page(self, key: str) -> AdminPage:
        page = self.pages[key]
        self.tabs.setCurrentWidget(page)
        return page


def make_workspace(store: Store, actor: Actor, runner: TaskRunner, catalogue: Catalogue, clock: Clock,
                   departments: Departments, pick: PickFn | None = None, *, watch=None,
                   draw: DrawFns | None = None) -> Callable[[], AdminWorkspace]:
    """The dock's factory (the registry makes the widget when the dock is registered)."""
    return lambda: AdminWorkspace(store, actor, runner, catalogue, clock.now().date(), departments, clock=clock,
                                  pick=pick, draw=draw, watch=watch)


__all__ = ["ADMIN_DOCK", "ADMIN_TITLE", "AdminWorkspace", "make_workspace"]
