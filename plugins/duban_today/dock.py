"""The 今日督办 list widget."""

from __future__ import annotations

from datetime import date

from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor, QFont
from qtpy.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.domain.definitions import Action
from app.ui import plain
from app.ui.sight import WhenSeen, out_of_sight

CASE_ID_ROLE = int(Qt.ItemDataRole.UserRole)


class DubanTodayWidget(QWidget):
    """Urged cases (urge_count > 0), those urged today first; a click selects the case."""

    def __init__(self, api, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dubanToday")
        self.api = api
        self._urged_today: dict[int, date] = {}
        self._sight = WhenSeen(self, self.refresh)  # changed while out of sight: rebuilt when seen
        self.summary = QLabel(objectName="dubanSummary")
        self.list = QListWidget(objectName="dubanList")
        self.list.setAlternatingRowColors(True)
        self.list.itemClicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        # The subscriptions belong to the API and are undone when the plugin is disabled.
        api.subscribe_case_events(self._case_event)
        api.subscribe_queue_reset(self._refresh_when_seen)

    def case_ids(self) -> list[int]:
        """Ids in display order."""
        ids = (self.list.item(i).data(CASE_ID_ROLE) for i in range(self.list.count()))
        return [i for i in ids if i is not None]

    def refresh(self) -> None:
        """Rebuild the list from the API's current queue rows."""
        today = self.api.clock.now().date()
        urged = [c for c in self.api.cases() if c.urge_count > 0 or self._urged_today.get(c.id) == today]
        urged.sort(key=lambda c: (self._urged_today.get(c.id) != today, -c.urge_count, c.number))
        self.list.clear()
        bold = QFont()
        bold.setBold(True)
        for case in urged:
            is_today = self._urged_today.get(case.id) == today
            mark = f"【{self.api.tr('今日')}】" if is_today else ""
            text = (f"{mark}{case.number}  {plain.line(case.category_name)}\n"
                    f"{plain.line(case.department_name or '—')} · {self.api.tr('督办 {n} 次', n=case.urge_count)}")
            item = QListWidgetItem(text)
            item.setData(CASE_ID_ROLE, case.id)
            item.setToolTip(plain.tooltip(case.address or case.description))  # case text is data, never markup
            if is_today:
                item.setFont(bold)
                item.setForeground(QBrush(QColor("#c62828")))
            self.list.addItem(item)
        self.summary.setText(self.api.tr("今日督办: {today} · 督办: {total}",
                                         today=sum(1 for c in urged if self._urged_today.get(c.id) == today),
                                         total=len(urged)))
        if not urged:
            self.list.addItem(QListWidgetItem(self.api.tr("暂无督办案卷")))
            self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)

    def _refresh_when_seen(self) -> None:
        """Rebuild now, or once seen if the list is out of sight in a shown window (a tab behind
        another, a closed dock): a burst of changes costs a list nobody sees nothing."""
        if out_of_sight(self):
            self._sight.arm()
            return
        self._sight.disarm()
        self.refresh()

    def _case_event(self, case_id: int, action: str) -> None:
        if action == Action.URGE.value:
            self._urged_today[case_id] = self.api.clock.now().date()
        self._refresh_when_seen()

    def _clicked(self, item: QListWidgetItem) -> None:
        case_id = item.data(CASE_ID_ROLE)
        if case_id is not None:
            self.api.select_case(case_id)
