"""我的任务: a supervisor's verify and check tasks (issue 11, item 4) with light and time left.

A task is a case in 核实中/核查中 whose latest 派发核实/派发核查 names the supervisor; which
cases those are is read in a worker (``fetch()``, e.g. ``SupervisorService.tasks``) when the
queue changes; the countdowns tick from the queue's own timers (the case's stage timer is the
task's). Overdue first, then least time left; a click makes the case current.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.domain.definitions import Light
from app.i18n import Catalogue
from app.ui import plain
from app.ui.queue_model import countdown_text
from app.ui.style import LIGHT_COLOURS
from app.ui.tasks import TaskRunner
from app.ui.work.throttle import Throttle
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

log = logging.getLogger(__name__)

TASKS_DOCK = "gridhall.desk.tasks"
REFRESH_EVERY_S = 5  # the countdowns are re-read at most this often
COLUMNS = ("案卷号", "任务", "剩余", "截止", "类别", "网格")


def supervisor_tasks(desk: Any, actor: Any) -> Callable[[], list]:
    """``fetch()`` for ``actor``'s tasks over the desk's store (called in a worker)."""
    from app.services.supervisors import SupervisorService

    if getattr(desk, "store", None) is None:  # a desk without a store (a test's stand-in): no tasks
        return list
    service = SupervisorService(desk.store, desk.clock, desk.calendar)
    return lambda: service.tasks(actor)


class TasksDock(QWidget):
    """A list of the supervisor's tasks: number, 核实/核查, time left (coloured by light), deadline."""

    def __init__(self, state: QueueState, runner: TaskRunner, fetch: Callable[[], list],
                 catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("tasksDock")
        self.state, self.runner, self.fetch = state, runner, fetch
        self.cat = catalogue or Catalogue()
        self.tasks: list = []  # SupervisorTask, as last fetched
        self.summary = QLabel(self.cat.tr("正在读取任务…"), objectName="tasksSummary")
        self.tree = QTreeWidget(objectName="tasksTree")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels([self.cat.tr(c) for c in COLUMNS])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setColumnWidth(0, 170)
        self.tree.itemClicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        self._last: datetime | None = None
        self._subs = Subscriptions()
        self._load_soon = Throttle(self.load, parent=self)  # a burst of changes: one read per 250 ms
        ev = state.events
        self._subs.connect(ev.rows_reset, self._load_soon)
        self._subs.connect(ev.rows_changed, lambda _ids: self._load_soon())
        self._subs.connect(ev.tick, self._tick)
        self.load()

    def teardown(self) -> None:
        self._subs.close()

    # ---- reading -----------------------------------------------------------------------
    def load(self) -> None:
        """Read the tasks again in a worker (the latest request wins)."""
        self.runner.run_in_thread(self.fetch, self._loaded, self._failed, key="tasksDock")

    def _loaded(self, tasks: list) -> None:
        self.tasks = list(tasks)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        log.error("reading the supervisor's tasks failed: %s", exc)
        from app.ui.forms.common import error_text

        self.summary.setText(self.cat.tr("无法读取任务：{error}", error=error_text(exc, self.cat)))

    def _tick(self, now: datetime) -> None:
        if self._last is None or (now - self._last).total_seconds() >= REFRESH_EVERY_S:
            self.refresh()

    def _reading(self, task: Any) -> Any:
        return self.state.reading(task.case.id) if self.state.summary(task.case.id) is not None else None

    def ids(self) -> list[int]:
        """The case ids shown, in order."""
        return [self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) for i in range(self.tree.topLevelItemCount())]

    def refresh(self) -> None:
        """Show the tasks with their lights and countdowns now (overdue first, then least time left)."""
        self._last = self.state.now
        selected = self.state.selected_id
        rows = []
        for task in self.tasks:
            reading = self._reading(task)
            light = reading.light if reading is not None else task.light
            remaining = reading.remaining_minutes if reading is not None else task.remaining_minutes
            rows.append((light is not Light.RED, remaining, task.case.number, task, reading, light))
        rows.sort(key=lambda r: r[:3])
        self.tree.clear()
        late = 0
        for _red, _left, _number, task, reading, light in rows:
            late += light is Light.RED
            left = countdown_text(reading, self.cat) if reading is not None else \
                self.cat.tr("{minutes} 分钟", minutes=round(task.remaining_minutes))
            due = task.deadline.strftime("%m-%d %H:%M") if task.deadline is not None else "—"
            item = QTreeWidgetItem([task.case.number, self.cat.label(task.stage), left, due,
                                    plain.line(task.case.category_name, 200), task.case.grid_code or "—"])
            item.setData(0, Qt.ItemDataRole.UserRole, task.case.id)
            colour = QBrush(QColor(LIGHT_COLOURS[light]))
            for col in (0, 2):
                item.setForeground(col, colour)
            tip = self.cat.text(self.state.explain(task.case.id)) if reading is not None else ""
            note = self.cat.tr("派发人：{who}，{at}", who=task.sent_by, at=task.sent_at.strftime("%m-%d %H:%M"))
            for col in range(len(COLUMNS)):
                item.setToolTip(col, plain.tooltip(f"{note}\n{tip}".strip()))
            self.tree.addTopLevelItem(item)
            if task.case.id == selected:
                self.tree.setCurrentItem(item)
        self.summary.setText(self.cat.tr("我的任务 {n} 件，超时 {late} 件", n=len(rows), late=late)
                             if rows else self.cat.tr("没有待办的核实/核查任务"))

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        case_id = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(case_id, int) and self.state.summary(case_id) is not None:
            self.state.select(case_id)


__all__ = ["TASKS_DOCK", "TasksDock", "supervisor_tasks"]
