"""The case queue dock: stats header, filter bar and the ticking table."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer
from qtpy.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.definitions import OPEN_STATES, CaseState, Level, Light, Source
from app.i18n import Catalogue
from app.ui.plain import ElidedLabel, line
from app.ui.queue_model import COLUMNS, URGED_COLUMN, CaseQueueModel, QueueDelegate
from app.views.events import Subscriptions
from app.views.queue_state import QueueCounters, QueueFilter, QueueState

_LIGHT_BUTTONS = ((Light.RED, "红 {n}"), (Light.YELLOW, "黄 {n}"), (Light.GREEN, "绿 {n}"))
# Widths in characters of the base font ("0" advance): dense but without eliding case numbers.
_WIDTHS = (5, 13, 19, 9, 0, 5, 15, 16, 13, 10, 11, 5)
_STRETCH_COLUMN = 4  # 类别 takes the spare width


class CaseQueueDock(QWidget):
    """A view of one :class:`QueueState`; user input goes to the state, never kept here."""

    def column_widths(self) -> list[int]:
        """Each column's width in pixels: its share of characters, but never less than its header
        (plus the sort arrow) nor, for the state, level and source columns, than their longest
        label in the interface language — "Awaiting acceptance" and "Engineering" are not cut."""
        char = self.table.fontMetrics().horizontalAdvance("0")
        header = self.table.horizontalHeader().fontMetrics()
        cells = self.table.fontMetrics()
        labelled = {3: CaseState, 5: Level, 9: Source}
        widths = []
        for col, share in enumerate(_WIDTHS[: len(COLUMNS)]):
            title = str(self.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "")
            width = max(share * char + 12, header.horizontalAdvance(title) + 2 * char + 16)
            if col in labelled:
                longest = max(cells.horizontalAdvance(self.cat.label(m)) for m in labelled[col])
                width = max(width, min(longest, 24 * char) + 14)
            if col == URGED_COLUMN:  # "3 级 · 12 次", in bold as an urged case shows it
                from qtpy.QtGui import QFont, QFontMetrics

                bold = QFont(self.table.font())
                bold.setBold(True)
                width = max(width, QFontMetrics(bold).horizontalAdvance(self.cat.tr("{level} 级 · {n} 次", level=3, n=12)) + 16)
            widths.append(width)
        return widths

    def __init__(self, state: QueueState, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("caseQueue")
        self.state = state
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr

        self.stats = QLabel(objectName="queueStats")
        self.clock_label = QLabel(objectName="queueClock")
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.message = ElidedLabel(max_width=600, objectName="queueMessage")  # a load error may quote data
        header = QHBoxLayout()
        header.addWidget(self.stats, 1)
        header.addWidget(self.message)
        header.addWidget(self.clock_label)

        self.state_combo = QComboBox(objectName="stateFilter")
        self.state_combo.addItem(tr("全部状态"), None)
        for s in CaseState:
            if s in OPEN_STATES:
                self.state_combo.addItem(self.cat.label(s), s.value)
        self.light_buttons: dict[Light, QPushButton] = {}
        for light, _text in _LIGHT_BUTTONS:
            button = QPushButton(objectName=f"light_{light.value}")
            button.setCheckable(True)
            button.setProperty("light", light.value)
            button.toggled.connect(self._lights_changed)
            self.light_buttons[light] = button
        self.search = QLineEdit(objectName="searchFilter")
        self.search.setPlaceholderText(tr("类别/案卷号/地址"))
        self.search.setClearButtonEnabled(True)
        self.department_combo = QComboBox(objectName="departmentFilter")
        self.department_combo.addItem(tr("全部部门"), None)
        self.department_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.department_combo.setMaximumWidth(360)  # a department's name is data: it cannot widen the dock
        self.grid_edit = QLineEdit(objectName="gridFilter")
        self.grid_edit.setPlaceholderText(tr("网格编码"))
        self.grid_edit.setMaximumWidth(170)
        self.clear_button = QPushButton(tr("清除"), objectName="clearFilter")
        self.search_all_button = QPushButton(tr("搜索全部案卷"), objectName="searchAllCases")
        self.search_all_button.setToolTip(tr("在全部案卷（含已结案、已作废、不予立案）中查找搜索框里的内容（回车）"))
        self.search_all_button.hide()  # shown once the window wires search_all
        # the search box keeps a usable width: never under SEARCH_MIN_CHARS characters; where the
        # dock is too narrow for one row of filters (the acceptor's queue at 1080p) the department,
        # grid and 清除 filters move to a second row (see _arrange_filters)
        self.search.setMinimumWidth(self.search_min_width())
        bar = QHBoxLayout()
        bar.addWidget(self.state_combo)
        for button in self.light_buttons.values():
            bar.addWidget(button)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.search_all_button)
        self._filter_row = bar
        self._second_row = QHBoxLayout()
        self._second_row.addStretch(1)
        self._wrapped: bool | None = None
        self._arrange_filters(wrap=True)  # the narrow form until shown: it never widens the dock

        self.model = CaseQueueModel(state, self.cat, self)
        self.table = QTableView(objectName="queueTable")
        self.table.setModel(self.model)
        self.table.setItemDelegate(QueueDelegate(self.model, self.table))  # one call per painted cell
        self.model.track_view(self.table)  # ticks repaint only the visible countdown cells
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # several rows may be picked (Shift/Ctrl+click, Shift+arrows) for the bulk actions; the
        # current row among them is the current case, the only one a single-case action takes
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)
        for col, width in enumerate(self.column_widths()):
            if col == _STRETCH_COLUMN:
                hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
            else:
                self.table.setColumnWidth(col, width)
        self.clock_label.setMinimumWidth(self.clock_label.fontMetrics().horizontalAdvance("0000-00-00 00:00:00") + 24)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addLayout(bar)
        layout.addLayout(self._second_row)
        layout.addWidget(self.table, 1)

        self.state_combo.currentIndexChanged.connect(self._state_changed)
        self.search.textChanged.connect(self._search_changed)
        self.search.returnPressed.connect(lambda: self.search_everywhere(explicit=True))
        self.search_all_button.clicked.connect(lambda: self.search_everywhere(explicit=True))
        # what the loaded queue does not hold is looked for in every case, once typing pauses
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.setInterval(400)
        self._fallback.timeout.connect(lambda: self.search_everywhere(explicit=False))
        self.department_combo.currentIndexChanged.connect(self._department_changed)
        self.grid_edit.textChanged.connect(lambda text: state.update_filter(grid_code=text.strip()))
        self.clear_button.clicked.connect(self.clear_filters)
        # the selection (highlighted row), not the bare current index, names the case: Qt moves the
        # current index without selecting (e.g. to row 0 when the table gets the focus back after a
        # dialog), and the detail and map must never follow a row that is not highlighted
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self._picked_before_reset: list[int] = []  # the picked rows survive a reload or re-sort
        self.model.modelAboutToBeReset.connect(self._remember_picked)
        self.model.modelReset.connect(self._restore_selection)
        # right click: the row under the cursor becomes the current case, then its menu
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu_requested)
        #: ``row_actions(case_id)`` → the QActions (None: a separator) above 复制案卷号 in a row's
        #: menu: the window's case commands, 定位, 查看办理过程 (set by the window's wiring).
        self.row_actions: Callable[[int], list] | None = None
        #: ``search_all(text, explicit, report)`` searches every case (the archive, in a worker) and
        #: calls ``report(total, error)`` on the GUI thread (total None: refused, ``error`` says why).
        self.search_all: Callable[[str, bool, Callable[[int | None, str], None]], None] | None = None

        self._hidden_note = False  # the header says the current case is filtered out
        ev = state.events
        self._subs = Subscriptions()
        self._subs.connect(ev.counters_changed, self._show_counters)
        self._subs.connect(ev.tick, self._show_time)
        self._subs.connect(ev.rows_reset, self._refresh_departments)
        self._subs.connect(ev.selection_changed, self._select_row)
        self._subs.connect(ev.loading, self._show_loading)
        self._subs.connect(ev.load_failed, lambda msg: self.message.setText(tr("加载失败：{error}", error=msg)))
        self._show_counters(state.counters)
        self._refresh_departments()

    def teardown(self) -> None:
        """Disconnect from the state before the dock is destroyed."""
        self._subs.close()
        self.model.teardown()

    # ---- the filter bar ------------------------------------------------------------
    SEARCH_MIN_CHARS = 20  # "类别/案卷号/地址" and a case number, in the interface font

    def search_min_width(self) -> int:
        """The search box's smallest width: SEARCH_MIN_CHARS characters (≥ 240 px at scale 1)."""
        return max(240, self.search.fontMetrics().horizontalAdvance("0") * self.SEARCH_MIN_CHARS + 24)

    def _one_row_width(self) -> int:
        """The width every filter needs in one row, the search box at its smallest."""
        widgets = [self.state_combo, *self.light_buttons.values(), self.department_combo, self.grid_edit,
                   self.clear_button, self.search_all_button]
        shown = [w for w in widgets if not w.isHidden()]
        spacing = max(self._filter_row.spacing(), 4)
        margins = self.layout().contentsMargins() if self.layout() is not None else None
        edge = margins.left() + margins.right() if margins is not None else 8
        return sum(w.sizeHint().width() for w in shown) + self.search_min_width() + spacing * len(shown) + edge

    def _arrange_filters(self, wrap: bool | None = None) -> None:
        """One row of filters when the dock is wide enough, else department/grid/清除 on a second row."""
        if wrap is None:
            # a margin above the one-row minimum, so a dock shown in one row can still be narrowed
            wrap = self.width() < self._one_row_width() + 24
        if wrap == self._wrapped:
            return
        self._wrapped = wrap
        movable = (self.department_combo, self.grid_edit, self.clear_button)
        for widget in movable:
            self._filter_row.removeWidget(widget)
            self._second_row.removeWidget(widget)
        if wrap:
            for i, widget in enumerate(movable):
                self._second_row.insertWidget(i, widget)
        else:
            at = self._filter_row.indexOf(self.search) + 1
            for i, widget in enumerate(movable):
                self._filter_row.insertWidget(at + i, widget)

    @property
    def filters_wrapped(self) -> bool:
        """Whether the filters take two rows (a narrow dock)."""
        return bool(self._wrapped)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self._arrange_filters()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().showEvent(event)
        self._arrange_filters()

    # ---- commands ------------------------------------------------------------------
    def focus_filter(self) -> None:
        """Put the cursor in the search box (Ctrl+F)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def clear_filters(self) -> None:
        """Show every row again."""
        for widget in (self.state_combo, self.department_combo, self.search, self.grid_edit,
                       *self.light_buttons.values()):
            widget.blockSignals(True)
        self.state_combo.setCurrentIndex(0)
        self.department_combo.setCurrentIndex(0)
        self.search.clear()
        self.grid_edit.clear()
        for button in self.light_buttons.values():
            button.setChecked(False)
        for widget in (self.state_combo, self.department_combo, self.search, self.grid_edit,
                       *self.light_buttons.values()):
            widget.blockSignals(False)
        self.state.set_filter(QueueFilter())

    def context_menu(self, pos: QPoint) -> QMenu | None:
        """The menu for the row at viewport ``pos``: selects that row first (the actions act on
        the selected case), then its actions; None off the rows."""
        index = self.table.indexAt(pos)
        case_id = self.model.case_id_at(index.row()) if index.isValid() else None
        if case_id is None:
            return None
        self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.setObjectName("queueRowMenu")
        menu.setToolTipsVisible(True)  # a disabled case action says why
        for action in (self.row_actions(case_id) if self.row_actions is not None else []):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        if menu.actions() and not menu.actions()[-1].isSeparator():
            menu.addSeparator()
        summary = self.state.summary(case_id)
        number = summary.number if summary is not None else ""
        copy = menu.addAction(self.cat.tr("复制案卷号"))
        copy.setObjectName("copyCaseNumber")
        copy.triggered.connect(lambda _checked=False, n=number: QApplication.clipboard().setText(n))
        return menu

    def _context_menu_requested(self, pos: QPoint) -> None:
        menu = self.context_menu(pos)
        if menu is not None:
            menu.exec(self.table.viewport().mapToGlobal(pos))
            menu.deleteLater()

    # ---- user input → state --------------------------------------------------------
    def _state_changed(self, _index: int) -> None:
        value = self.state_combo.currentData()
        self.state.update_filter(states=frozenset({CaseState(value)}) if value else frozenset())

    def _lights_changed(self, _checked: bool) -> None:
        chosen = frozenset(light for light, b in self.light_buttons.items() if b.isChecked())
        self.state.update_filter(lights=chosen)

    def _search_changed(self, text: str) -> None:
        text = text.strip()
        # digits are a category code (major "06" or full "06001"); anything else is free text
        if text.isdigit() and len(text) <= 5:
            self.state.update_filter(category=text, text="")
        else:
            self.state.update_filter(category="", text=text)
        self._fallback.stop()
        if self.search_all is not None:
            self.search_all_button.setVisible(True)
            if text and not self.state.visible_ids:
                self._fallback.start()
            elif not self._hidden_note:
                self.message.setText("")

    def search_everywhere(self, explicit: bool = True) -> None:
        """Look for the search box's text in every case (Enter, 搜索全部案卷, or nothing matched here)."""
        self._fallback.stop()
        text = self.search.text().strip()
        if self.search_all is None or not text:
            return
        here = len(self.state.visible_ids)

        def report(total: int | None, error: str = "") -> None:
            if self.search.text().strip() != text:
                return  # the box changed meanwhile
            tr = self.cat.tr
            if total is None:
                self.message.setText(error)
            elif total == 0:
                self.message.setText(tr("全部案卷中也没有找到「{query}」", query=line(text, 40)))
            elif here == 0:
                self.message.setText(tr("本页无匹配，已在全部案卷中找到 {n} 件（见「案卷库」）", n=total))
            else:
                self.message.setText(tr("全部案卷中找到 {n} 件（见「案卷库」）", n=total))

        self.message.setText(self.cat.tr("正在全部案卷中查找…"))
        self.search_all(text, explicit, report)

    def _department_changed(self, _index: int) -> None:
        self.state.update_filter(department_code=self.department_combo.currentData() or "")

    def _selection_changed(self, *_args) -> None:
        selection = self.table.selectionModel()
        current = self.table.currentIndex()
        if current.isValid() and selection.isRowSelected(current.row(), QModelIndex()):
            row = current.row()  # the row clicked or moved to last (Shift/Ctrl+click, Shift+arrow)
        else:
            rows = selection.selectedRows()
            if not rows:
                return
            row = rows[-1].row()  # the current row was unpicked (Ctrl+click): the last picked one
        case_id = self.model.case_id_at(row)
        if case_id is not None:
            self.state.select(case_id)

    def picked_ids(self) -> list[int]:
        """The case ids of the picked (highlighted) rows, in table order: what a bulk action starts
        with. One row unless the user extended the selection (Shift/Ctrl+click, Shift+arrows)."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [i for i in (self.model.case_id_at(r) for r in rows) if i is not None]

    def _remember_picked(self) -> None:
        self._picked_before_reset = self.picked_ids()

    def shows(self, case_id: int) -> bool:
        """Whether ``case_id``'s row is selected and on screen (the window shown, the dock not hidden
        behind another tab, the row inside the scrolled viewport). Before the window is shown only
        the filter counts."""
        row = self.model.row_of(case_id)
        if row is None:
            return False
        if not self.window().isVisible():
            return True
        if not self.isVisible() or not self.table.selectionModel().isRowSelected(row, QModelIndex()):
            return False
        rect = self.table.visualRect(self.model.index(row, 0))
        return rect.isValid() and self.table.viewport().rect().intersects(rect)

    # ---- state → view --------------------------------------------------------------
    def _show_counters(self, c: QueueCounters) -> None:
        self.stats.setText(self.cat.tr(
            "在办 {open} · 超时 {red} · 预警 {yellow} · 正常 {green} · 暂停 {paused} · 督办 {urged}",
            open=c.open, red=c.red, yellow=c.yellow, green=c.green, paused=c.paused, urged=c.urged,
        ))
        counts = {Light.RED: c.red, Light.YELLOW: c.yellow, Light.GREEN: c.green}
        for light, text in _LIGHT_BUTTONS:
            self.light_buttons[light].setText(self.cat.tr(text, n=counts[light]))

    def _show_time(self, now) -> None:
        self.clock_label.setText(now.strftime("%Y-%m-%d %H:%M:%S"))

    def _show_loading(self, loading: bool) -> None:
        self.message.setText(self.cat.tr("正在加载案卷…") if loading else "")

    def _refresh_departments(self) -> None:
        wanted = [(code, line(name, 40)) for code, name in self.state.departments()]
        present = [(self.department_combo.itemData(i), self.department_combo.itemText(i))
                   for i in range(1, self.department_combo.count())]
        if present == wanted:
            return
        current = self.department_combo.currentData()
        self.department_combo.blockSignals(True)
        while self.department_combo.count() > 1:
            self.department_combo.removeItem(1)
        for code, name in wanted:
            self.department_combo.addItem(name, code)
        index = self.department_combo.findData(current) if current else 0
        self.department_combo.setCurrentIndex(max(index, 0))
        self.department_combo.blockSignals(False)

    def _select_row(self, case_id: int | None) -> None:
        """The current case changed (any reason): highlight its row and scroll it into view; a case
        the filter hides is said so in the header instead of leaving another row highlighted."""
        row = self.model.row_of(case_id) if case_id is not None else None
        summary = self.state.summary(case_id) if case_id is not None else None
        hidden = row is None and summary is not None
        if hidden and case_id == self.state.archived_id:
            self.message.setText(self.cat.tr("当前案卷 {number} 来自案卷库，不在队列中", number=summary.number))
        elif hidden:
            self.message.setText(self.cat.tr("当前案卷 {number} 被筛选隐藏", number=summary.number))
        elif self._hidden_note:
            self.message.setText("")
        self._hidden_note = hidden
        if row is None:
            self.table.clearSelection()
            return
        selection = self.table.selectionModel()
        index = self.model.index(row, 0)
        rows = QItemSelectionModel.SelectionFlag.Rows
        if not selection.isRowSelected(row, QModelIndex()):
            # another case became current (a map click, an alert, after an action): it alone is picked
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect | rows)
        elif self.table.currentIndex().row() != row:
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)  # keep the picks
        self.table.scrollTo(index)

    def _restore_selection(self) -> None:
        picked, self._picked_before_reset = self._picked_before_reset, []
        self._select_row(self.state.selected_id)
        current = self.model.row_of(self.state.selected_id) if self.state.selected_id is not None else None
        if current is None or self.state.selected_id not in picked:
            return  # the current case left the list, or was not among the picks: they are dropped
        rows = sorted(r for r in (self.model.row_of(i) for i in picked) if r is not None and r != current)
        chosen = QItemSelection()
        for row in rows:  # one selection change for all of them (a thousand picks, one signal)
            chosen.select(self.model.index(row, 0), self.model.index(row, 0))
        self.table.selectionModel().select(chosen, QItemSelectionModel.SelectionFlag.Select
                                           | QItemSelectionModel.SelectionFlag.Rows)
