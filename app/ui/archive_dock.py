"""The case archive (案卷库): search every case — open, closed, voided, not filed — page by page.

The search itself is the core's (``Core.find_cases``: the query language of app/services/search.py,
the department scope); it always runs in a worker of the window's :class:`TaskRunner`, never on
the GUI thread. Opening a result makes it the current case (``QueueState.select_found``: the
detail dock shows it even when it is closed; the map locates it). ``on_hits`` receives the page's
rows so the map can mark them (a Qt-free callback: this module knows no map).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.cases import CaseSummary
from app.i18n import Catalogue
from app.ui.plain import ElidedLabel, line, tooltip
from app.ui.tasks import TaskRunner
from app.views.queue_state import QueueState

ARCHIVE_DOCK = "gridhall.archive"
SEARCH_KEY = "archive.search"
PAGE = 50
HEADERS = ("案卷号", "状态", "类别", "地址", "责任部门", "上报时间")

#: ``find(query, limit, offset)`` → a SearchResult (rows, total, offset, capped, more).
Finder = Callable[[str, int, int], Any]


class ArchiveDock(QWidget):
    """Query field, result table, paging and a one-line status; results open as the current case."""

    def __init__(self, state: QueueState, find: Finder, runner: TaskRunner, catalogue: Catalogue | None = None,
                 on_hits: Callable[[list[CaseSummary]], None] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("caseArchive")
        self.state = state
        self.finder = find
        self.runner = runner
        self.cat = catalogue or Catalogue()
        self.on_hits = on_hits
        tr = self.cat.tr

        self.query = QLineEdit(objectName="archiveQuery")
        self.query.setPlaceholderText(tr("案卷号/流水号/电话/地址/描述，或 状态:已结案 部门: 网格: 2026-12-01..2026-12-07"))
        self.query.setClearButtonEnabled(True)
        self.search_button = QPushButton(tr("查询"), objectName="archiveSearch")
        self.prev_button = QPushButton(tr("上一页"), objectName="archivePrev")
        self.next_button = QPushButton(tr("下一页"), objectName="archiveNext")
        self.status = ElidedLabel(max_width=900, objectName="archiveStatus")  # may quote the query
        bar = QHBoxLayout()
        bar.addWidget(self.query, 1)
        bar.addWidget(self.search_button)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)

        self.table = QTableWidget(0, len(HEADERS), objectName="archiveTable")
        self.table.setHorizontalHeaderLabels([tr(h) for h in HEADERS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        hh = self.table.horizontalHeader()
        hh.setStretchLastSection(False)
        char = self.table.fontMetrics().horizontalAdvance("0")
        for col, width in enumerate((19, 9, 16, 0, 14, 16)):
            if width:
                self.table.setColumnWidth(col, width * char + 12)
            else:
                hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

        self._rows: list[CaseSummary] = []
        self._query = ""
        self._offset = 0
        self._result: Any = None
        self.busy = False
        self.query.returnPressed.connect(self.search)
        self.query.textChanged.connect(lambda text: None if text.strip() else self.clear())
        self.search_button.clicked.connect(self.search)
        self.prev_button.clicked.connect(lambda: self._page(-1))
        self.next_button.clicked.connect(lambda: self._page(1))
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        self.table.activated.connect(lambda index: self.open_row(index.row()))  # Enter on a row
        self._update_paging()

    def teardown(self) -> None:
        self.runner.cancel(SEARCH_KEY)

    # ---- commands ------------------------------------------------------------------
    def search(self, query: str | None = None, offset: int = 0,
               done: Callable[[Any], None] | None = None) -> None:
        """Search for ``query`` (default: the field's text) from ``offset`` in a worker; ``done(answer)``
        also runs after the table shows it — a SearchResult, or the exception (its message shown)."""
        if query is not None and query != self.query.text():
            self.query.setText(query)
        text = self.query.text().strip()
        self._query, self._offset = text, offset
        self.busy = True
        self.status.setText(self.cat.tr("正在全部案卷中查找…"))
        self._update_paging()
        find = self.finder
        self.runner.run_in_thread(lambda: find(text, PAGE, offset),
                                  lambda result: self._show(result, done),
                                  lambda exc: self._failed(exc, done), key=SEARCH_KEY)

    def clear(self) -> None:
        """Empty the query's answer: no rows, no hits on the map, no pending search."""
        self.runner.cancel(SEARCH_KEY)
        self.busy = False
        self._result, self._rows = None, []
        self.table.setRowCount(0)
        self.status.setText("")
        self._update_paging()
        if self.on_hits is not None:
            self.on_hits([])

    def open_row(self, row: int) -> None:
        """Make result ``row`` the current case (detail, map)."""
        if 0 <= row < len(self._rows):
            self.state.select_found(self._rows[row])

    def rows(self) -> list[CaseSummary]:
        return list(self._rows)

    # ---- answers -------------------------------------------------------------------
    def _page(self, step: int) -> None:
        if self._result is None:
            return
        self.search(self._query, max(0, self._offset + step * PAGE))

    def _show(self, result: Any, done: Callable[[Any], None] | None) -> None:
        self.busy = False
        self._result = result
        self._rows = list(result.rows)
        cat = self.cat
        self.table.setRowCount(len(self._rows))
        for r, row in enumerate(self._rows):
            values = (row.number, cat.label(row.state), f"{row.category_code} {row.category_name}",
                      row.address or "", row.department_name or "—", f"{row.reported_at:%Y-%m-%d %H:%M}")
            for c, value in enumerate(values):
                item = QTableWidgetItem(line(value, 120))
                if c in (2, 3):
                    item.setToolTip(tooltip(value))
                item.setData(Qt.ItemDataRole.UserRole, row.id)
                self.table.setItem(r, c, item)
        if not self._rows:
            self.status.setText(cat.tr("全部案卷中没有找到「{query}」", query=line(self._query, 60)))
        else:
            total = cat.tr("超过 {n}", n=result.total) if result.capped else str(result.total)
            self.status.setText(cat.tr("共 {total} 件 · 第 {first}–{last} 件", total=total,
                                       first=result.offset + 1, last=result.offset + len(self._rows)))
        self._update_paging()
        if self.on_hits is not None:
            self.on_hits(list(self._rows))
        if done is not None:
            done(result)

    def _failed(self, exc: BaseException, done: Callable[[Any], None] | None = None) -> None:
        self.busy = False
        self._result = None
        self._rows = []
        self.table.setRowCount(0)
        self.status.setText(self.cat.error(exc))
        self._update_paging()
        if self.on_hits is not None:
            self.on_hits([])
        if done is not None:
            done(exc)

    def _update_paging(self) -> None:
        result = self._result
        self.prev_button.setEnabled(not self.busy and result is not None and self._offset > 0)
        self.next_button.setEnabled(not self.busy and result is not None and bool(result.more))
        tr = self.cat.tr  # a disabled button says why
        for button, why in ((self.prev_button, tr("已是第一页")), (self.next_button, tr("已是最后一页"))):
            if button.isEnabled():
                button.setToolTip("")
            elif self.busy:
                button.setToolTip(tr("正在查找…"))
            elif result is None:
                button.setToolTip(tr("先输入条件并查找"))
            else:
                button.setToolTip(why)
