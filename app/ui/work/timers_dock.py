"""Timers dock (时限监控): per stage, the cases nearest their deadline, overdue first; hover explains.

The explanation (limit, extensions, pauses, deadline) is worked out when a row is hovered, not
for every row at each reload: a reload follows every change of the queue (a bulk action, a burst
of live changes) and the eager explanations were most of its cost."""

from __future__ import annotations

from datetime import datetime

from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.domain.definitions import Light, Stage
from app.i18n import Catalogue
from app.ui import plain
from app.ui.queue_model import countdown_text
from app.ui.style import LIGHT_COLOURS
from app.ui.work.throttle import Throttle
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

PER_STAGE = 8
REFRESH_EVERY_S = 5  # the countdowns are re-read at most this often (the queue table ticks every second)


class TimersDock(QWidget):
    """A tree: stage → its most urgent cases (remaining time, light); tooltips carry the explanation."""

    def __init__(self, state: QueueState, catalogue: Catalogue | None = None, per_stage: int = PER_STAGE,
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("timersDock")
        self.state = state
        self.cat = catalogue or Catalogue()
        self.per_stage = per_stage
        self.summary = QLabel(objectName="timersSummary")
        self.tree = QTreeWidget(objectName="timersTree")
        self.tree.setHeaderLabels([self.cat.tr("案卷号"), self.cat.tr("剩余"), self.cat.tr("类别"),
                                   self.cat.tr("责任部门")])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setColumnWidth(0, 170)
        self.tree.setColumnWidth(1, 90)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.viewport().installEventFilter(self)  # tooltips made on hover (eventFilter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        self._last: datetime | None = None
        ev = state.events
        self._subs = Subscriptions()
        self._reload_soon = Throttle(self.reload, parent=self)  # a burst of changes: one reload per 250 ms
        self._subs.connect(ev.rows_reset, self._reload_soon)
        self._subs.connect(ev.rows_changed, lambda _ids: self._reload_soon())
        self._subs.connect(ev.tick, self._tick)
        self.reload()

    def teardown(self) -> None:
        self._subs.close()

    def _tick(self, now: datetime) -> None:
        if self._last is None or (now - self._last).total_seconds() >= REFRESH_EVERY_S:
            self._reload_soon()  # waits while the list is out of sight

    def groups(self) -> dict[Stage, list[int]]:
        """Case ids per stage, overdue first then least time left (paused timers last)."""
        out: dict[Stage, list[tuple]] = {}
        for row in self.state.rows:
            if row.timer is None or self.state.light(row.id) is Light.NONE:
                continue  # the light is cheap; a full reading only for the timed rows
            reading = self.state.reading(row.id)
            if reading is None:
                continue
            out.setdefault(row.timer.stage, []).append((reading.paused, reading.remaining_minutes, row.number, row.id))
        return {stage: [t[-1] for t in sorted(items)] for stage, items in
                sorted(out.items(), key=lambda kv: list(Stage).index(kv[0]))}

    def reload(self) -> None:
        self._last = self.state.now
        expanded = {self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                    for i in range(self.tree.topLevelItemCount()) if self.tree.topLevelItem(i).isExpanded()}
        first = self.tree.topLevelItemCount() == 0
        self.tree.clear()
        overdue = 0
        groups = self.groups()
        for stage, ids in groups.items():
            late = sum(1 for i in ids if self.state.light(i) is Light.RED)  # red exactly when overdue
            overdue += late
            top = QTreeWidgetItem([self.cat.tr("{stage}  {n} 件", stage=self.cat.label(stage), n=len(ids)), self.cat.tr("超时 {n}", n=late)])
            top.setData(0, Qt.ItemDataRole.UserRole, stage.value)
            if late:
                top.setForeground(1, QBrush(QColor(LIGHT_COLOURS[Light.RED])))
            self.tree.addTopLevelItem(top)
            for case_id in ids[: self.per_stage]:
                top.addChild(self._child(case_id))
            top.setExpanded(first or stage.value in expanded)
        self.summary.setText(self.cat.tr("计时中 {n} 件，超时 {late} 件（悬停查看时限说明）",
                                         n=sum(len(v) for v in groups.values()), late=overdue))

    def _child(self, case_id: int) -> QTreeWidgetItem:
        row = self.state.summary(case_id)
        reading = self.state.reading(case_id)
        remaining = countdown_text(reading, self.cat)
        item = QTreeWidgetItem([row.number, remaining, plain.line(row.category_name, 200),
                                plain.line(row.department_name, 200) or "—"])
        item.setData(0, Qt.ItemDataRole.UserRole, case_id)
        colour = QColor(LIGHT_COLOURS[reading.light])
        item.setForeground(0, QBrush(colour))
        item.setForeground(1, QBrush(colour))
        return item

    def explain_item(self, item: QTreeWidgetItem) -> str:
        """Give a case row its tooltip (the timer's explanation) if it has none yet; returns it.
        Called when the row is hovered; the row is made again at the next reload, so the
        explanation is never older than the countdown beside it."""
        case_id = item.data(0, Qt.ItemDataRole.UserRole)
        if not isinstance(case_id, int):
            return item.toolTip(0)
        if not item.toolTip(0):
            tip = self.cat.text(self.state.explain(case_id)) if self.state.summary(case_id) is not None else ""
            for col in range(self.tree.columnCount()):
                item.setToolTip(col, tip)
        return item.toolTip(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.ToolTip and watched is self.tree.viewport():
            item = self.tree.itemAt(event.pos())
            if item is not None:
                self.explain_item(item)  # then the view shows it as usual
        return super().eventFilter(watched, event)

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        case_id = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(case_id, int) and self.state.summary(case_id) is not None:
            self.state.select(case_id)
