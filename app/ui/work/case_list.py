"""A compact list of queue rows (light, remaining, number, state, category, place) used by the work docks."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from app.domain.cases import CaseSummary
from app.domain.definitions import Light
from app.i18n import Catalogue
from app.ui import plain
from app.ui.queue_model import countdown_text
from app.ui.style import LIGHT_COLOURS, LIGHT_TINTS
from app.views.queue_state import QueueState

COLUMNS = ("灯", "剩余", "案卷号", "状态", "类别", "责任部门")
#: A cell shows at most this many characters of case text (the view elides to the column anyway).
CELL_CHARS = 200
#: A letter beside the dot, so the light does not rely on colour alone.
LIGHT_TEXT = {Light.RED: "红", Light.YELLOW: "黄", Light.GREEN: "绿", Light.NONE: ""}
ID_ROLE = Qt.ItemDataRole.UserRole
#: At most this many rows are listed (the most urgent first): a dock is a to-do list, not the queue.
ROW_CAP = 300


def urgency_key(state: QueueState) -> Callable[[CaseSummary], tuple]:
    """Sort key: overdue first, then least time left; untimed rows next, oldest first; paused timers
    (缓办/挂账, nothing to do until restored) last."""
    def key(row: CaseSummary) -> tuple:
        if state.light(row.id) is Light.NONE:  # cheap: untimed rows need no reading
            return (1, 0.0, row.reported_at)
        reading = state.reading(row.id)
        if reading is None:
            return (1, 0.0, row.reported_at)
        if reading.paused:
            return (2, reading.remaining_minutes, row.reported_at)
        return (0, reading.remaining_minutes, row.reported_at)
    return key


class CaseList(QTreeWidget):
    """Rows of a QueueState; clicking one selects it in the state (map and details follow)."""

    def __init__(self, state: QueueState, catalogue: Catalogue | None = None, parent=None, name: str = "caseList",
                 place: str = "department"):
        super().__init__(parent)
        self.place = place  # "department" or "location": what the last column shows
        self.setObjectName(name)
        self.state = state
        self.cat = catalogue or Catalogue()
        titles = list(COLUMNS[:-1]) + (["责任部门"] if place == "department" else ["位置"])
        self.setHeaderLabels([self.cat.tr(c) for c in titles])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)

    def show_rows(self, rows: Iterable[CaseSummary], tooltip: Callable[[CaseSummary], str] | None = None) -> None:
        """Replace the items with ``rows`` (keeps the checked/selected ids)."""
        selected = set(self.selected_ids())
        self.clear()
        shown = list(rows)[:ROW_CAP]
        items = [self._item(row, tooltip) for row in shown]
        self.addTopLevelItems(items)  # one insertion: the header sizes its columns once, not per row
        for row, item in zip(shown, items, strict=True):
            if row.id in selected:
                item.setSelected(True)

    def _item(self, row: CaseSummary, tooltip) -> QTreeWidgetItem:
        reading = self.state.reading(row.id)
        light = reading.light if reading is not None else Light.NONE
        where = " ".join(p for p in (row.street_name, row.community_name) if p)
        place = (row.department_name or where) if self.place == "department" else (row.address or where)
        item = QTreeWidgetItem([f"● {self.cat.tr(LIGHT_TEXT[light])}".strip(), countdown_text(reading, self.cat), row.number, self.cat.label(row.state),
                                plain.line(row.category_name, CELL_CHARS), plain.line(place, CELL_CHARS) or "—"])
        item.setData(0, ID_ROLE, row.id)
        item.setForeground(0, QBrush(QColor(LIGHT_COLOURS[light])))
        item.setBackground(0, QBrush(QColor(LIGHT_TINTS[light])))
        if reading is not None and reading.overdue and not reading.paused:
            item.setForeground(1, QBrush(QColor(LIGHT_COLOURS[Light.RED])))
        if tooltip is not None:
            text = plain.tooltip(tooltip(row))  # may quote case text: shown literally
            for col in range(len(COLUMNS)):
                item.setToolTip(col, text)
        return item

    def ids(self) -> list[int]:
        """Case ids in display order."""
        return [self.topLevelItem(i).data(0, ID_ROLE) for i in range(self.topLevelItemCount())]

    def selected_ids(self) -> list[int]:
        return [item.data(0, ID_ROLE) for item in self.selectedItems()]

    def follow(self, case_id: int | None) -> None:
        """The current case changed: highlight its row here (scrolled into view), or none."""
        ids = self.ids()
        if case_id in ids:
            item = self.topLevelItem(ids.index(case_id))
            if self.currentItem() is not item or not item.isSelected():
                self.setCurrentItem(item)
            self.scrollToItem(item)
        else:
            self.clearSelection()

    def shows(self, case_id: int) -> bool:
        """Whether ``case_id``'s row is highlighted and on screen here (window and list shown)."""
        ids = self.ids()
        if case_id not in ids:
            return False
        item = self.topLevelItem(ids.index(case_id))
        if not self.window().isVisible():
            return True  # not on screen yet: being listed counts
        if not self.isVisible() or not item.isSelected():
            return False
        return self.viewport().rect().intersects(self.visualItemRect(item))

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        case_id = item.data(0, ID_ROLE)
        if self.state.summary(case_id) is not None:
            self.state.select(case_id)
