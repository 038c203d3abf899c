"""Qt table model over :class:`QueueState`; on each tick only the visible timer cells repaint."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

from qtpy.QtCore import QAbstractTableModel, QModelIndex, QRectF, QSize, Qt
from qtpy.QtGui import QBrush, QColor, QFont, QFontMetrics, QIcon, QPalette, QPen
from qtpy.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.domain.cases import CaseSummary
from app.domain.deadlines import TimerReading, format_countdown_seconds
from app.domain.definitions import Light
from app.domain.timeline import urge_text
from app.i18n import Catalogue
from app.ui import plain
from app.ui.style import OVERDUE_TEXT, light_colour, light_tint
from app.views.queue_state import QueueState, SortKey

#: Role carrying the case id of a row.
CASE_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1


@dataclass(frozen=True)
class Column:
    """One table column: header text (catalogue key), sort key and cell text."""

    title: str
    key: SortKey
    text: Callable[[CaseSummary, Catalogue], str]


def _place(r: CaseSummary, _: Catalogue) -> str:
    return "/".join(p for p in (r.street_name, r.community_name) if p)


def _urged(r: CaseSummary, c: Catalogue) -> str:
    """The 督办 cell: the level and the count of an urged case (``3 级 · 2 次``), else the count."""
    if r.urge_level:
        return c.tr("{level} 级 · {n} 次", level=r.urge_level, n=r.urge_count)
    return str(r.urge_count) if r.urge_count else ""


COLUMNS: tuple[Column, ...] = (
    Column("灯", SortKey.LIGHT, lambda r, c: ""),  # filled from the reading
    Column("剩余", SortKey.REMAINING, lambda r, c: ""),  # filled from the reading
    Column("案卷号", SortKey.NUMBER, lambda r, c: r.number),
    Column("状态", SortKey.STATE, lambda r, c: c.label(r.state)),
    Column("类别", SortKey.CATEGORY, lambda r, c: f"{r.category_code} {r.category_name}"),
    Column("等级", SortKey.LEVEL, lambda r, c: c.label(r.level)),
    Column("网格", SortKey.GRID, lambda r, c: r.grid_code or ""),
    Column("街道/社区", SortKey.PLACE, _place),
    Column("责任部门", SortKey.DEPARTMENT, lambda r, c: r.department_name or ""),
    Column("来源", SortKey.SOURCE, lambda r, c: c.label(r.source)),
    Column("上报时间", SortKey.REPORTED, lambda r, c: r.reported_at.strftime("%m-%d %H:%M")),
    Column("督办", SortKey.URGED, _urged),
)
NUMBER_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.key is SortKey.NUMBER)
URGED_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.key is SortKey.URGED)
#: The colour of the 督办 mark: the queue's number icon and 督办 cell, the detail, the map's ring.
URGE_COLOUR = "#7b1fa2"
LIGHT_COLUMN = 0
#: A cell shows at most this many characters (the view elides to the column anyway).
CELL_CHARS = 200
REMAINING_COLUMN = 1
#: The roles any cell answers; a delegate asks each painted cell for about seven roles, and a
#: 4K queue paints some 500 cells: the others are refused before any work.
_ANSWERED_ROLES = frozenset(int(r) for r in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.TextAlignmentRole, CASE_ID_ROLE))
#: Columns whose cells carry more than text: the light and countdown, the number and 督办 of an urged case.
_MARKED_COLUMNS = frozenset({LIGHT_COLUMN, REMAINING_COLUMN, NUMBER_COLUMN, URGED_COLUMN})
#: What a plain text cell answers (not the timer columns, not the number and 督办 of an urged case).
_PLAIN_TEXT_ROLES = frozenset(int(r) for r in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, CASE_ID_ROLE))
_SHORT_LIGHT = {Light.RED: "红", Light.YELLOW: "黄", Light.GREEN: "绿", Light.NONE: ""}


_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True, slots=True)
class CellStyle:
    """A cell as painted: its text and, where it has them, colours, font, icon and alignment."""

    text: str
    foreground: QBrush | None
    background: QBrush | None
    font: QFont | None
    icon: QIcon | None
    alignment: int | None


def countdown_text(reading: TimerReading | None, catalogue: Catalogue | None = None) -> str:
    """``01:59:30`` remaining, ``-00:12:03`` overdue, ``—`` without a timer, ``暂停`` while paused
    (缓办/挂账: a frozen countdown, negative or not, would read as work waiting)."""
    if reading is None:
        return "—"
    if reading.paused:
        return (catalogue or Catalogue()).tr("暂停")
    return format_countdown_seconds(round(reading.remaining_minutes * 60))


class CaseQueueModel(QAbstractTableModel):
    """Rows are ``state.visible_ids``; filtering and sorting live in the state."""

    def __init__(self, state: QueueState, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self._state = state
        self._cat = catalogue or Catalogue()
        self._ids: tuple[int, ...] = state.visible_ids
        self._row_of: dict[int, int] = {}
        self._reindex()
        self._icons: dict[object, QIcon] = {}  # by light, and ("urge", level)
        # the cell texts of each row, made once per version of the row (a repaint asks again)
        self._texts: dict[int, tuple[CaseSummary, list[str | None]]] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._brushes: dict[str, QBrush] = {}
        ev = state.events
        self._disconnect = [
            ev.rows_reset.connect(self._on_reset),
            ev.rows_changed.connect(self._on_rows_changed),
            ev.lights_changed.connect(self._on_lights_changed),
            ev.tick.connect(self._on_tick),
        ]
        self._view: weakref.ref | None = None
        self._lights_changed: set[int] = set()

    def teardown(self) -> None:
        """Stop listening to the state (the dock is going away)."""
        for disconnect in self._disconnect:
            disconnect()
        self._disconnect = []

    # ---- Qt model API --------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._cat.tr(COLUMNS[section].title)
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role not in _ANSWERED_ROLES or not index.isValid() or index.row() >= len(self._ids):
            return None
        if role not in _PLAIN_TEXT_ROLES and index.column() not in _MARKED_COLUMNS:
            return None  # a plain text cell has no colour, font, icon or alignment of its own
        case_id = self._ids[index.row()]
        row = self._state.summary(case_id)
        if row is None:
            return None
        col = index.column()
        if role == CASE_ID_ROLE:
            return case_id
        if col in (LIGHT_COLUMN, REMAINING_COLUMN):
            return self._timer_data(case_id, col, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == Qt.ItemDataRole.ToolTipRole and col == 4 and row.description:
            return plain.tooltip(row.description)  # a tooltip would render HTML-looking text
        if row.urge_level and col in (NUMBER_COLUMN, URGED_COLUMN):
            return self._urge_data(row, col, role)
        return None

    def _text(self, row: CaseSummary, col: int) -> str:
        """The text of a cell; made once per version of the row (the row object is replaced on a change)."""
        cached = self._texts.get(row.id)
        if cached is None or cached[0] is not row:
            cached = self._texts[row.id] = (row, [None] * len(COLUMNS))
        text = cached[1][col]
        if text is None:
            # case text is data: one line, controls made visible (cells are never rich text)
            text = cached[1][col] = plain.line(COLUMNS[col].text(row, self._cat), CELL_CHARS)
        return text

    def _urge_data(self, row: CaseSummary, col: int, role: int):
        """An urged case's mark: a ring before its number, its 督办 cell bold in the mark's colour."""
        if role == Qt.ItemDataRole.DecorationRole and col == NUMBER_COLUMN:
            return self._urge_icon(row.urge_level)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._cat.text(urge_text(row.urge_level, row.urge_deadline_at))
        if col == URGED_COLUMN and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(URGE_COLOUR))
        if col == URGED_COLUMN and role == Qt.ItemDataRole.FontRole:
            return self._bold
        return None

    def _urge_icon(self, level: int) -> QIcon:
        """A ring in the mark's colour, thicker with the level (as the map draws it)."""
        key = ("urge", level)
        if key not in self._icons:
            from app.ui.drawn_icon import drawn_icon

            width = 1 + min(int(level), 3)  # pixels of the 14-pixel design, scaled with the icon

            def draw(painter, rect: QRectF) -> None:  # at the UI scale: crisp at 4K
                unit = min(rect.width(), rect.height()) / 14
                pen, side = width * unit, (13 - width) * unit
                left, top = rect.center().x() - 7 * unit, rect.center().y() - 7 * unit
                painter.setPen(QPen(QColor(URGE_COLOUR), pen))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(QRectF(left + pen / 2 + 0.5 * unit, top + pen / 2 + 0.5 * unit, side, side))

            self._icons[key] = drawn_icon(draw)
        return self._icons[key]

    def _timer_data(self, case_id: int, col: int, role: int):
        reading = self._state.reading(case_id)
        light = reading.light if reading is not None else Light.NONE
        if col == LIGHT_COLUMN:
            if role == Qt.ItemDataRole.DisplayRole:
                return self._cat.tr(_SHORT_LIGHT[light]) if _SHORT_LIGHT[light] else ""
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(light_tint(light))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(light_colour(light))
            if role == Qt.ItemDataRole.DecorationRole:
                return self._icon(light)
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._cat.label(light)
            if role == Qt.ItemDataRole.FontRole:
                return self._bold
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return countdown_text(reading, self._cat)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._cat.text(self._state.explain(case_id)) or None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if reading is not None and reading.paused:
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("#6b7280"))  # grey: nothing runs
            return None
        if reading is not None and reading.overdue:
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(OVERDUE_TEXT))
            if role == Qt.ItemDataRole.FontRole:
                return self._bold
        return None

    # ---- painting: one call per cell --------------------------------------------------
    def cell_style(self, row_index: int, col: int) -> CellStyle | None:
        """What a cell shows, as :meth:`data` answers the painting roles (Display, Foreground,
        Background, Font, Decoration, TextAlignment), in one call; None outside the rows.
        :class:`QueueDelegate` paints from it: a 4K queue paints some 500 cells, and Qt's item
        delegate asks ``data`` seven times per cell, each a call from C++ into Python."""
        if not 0 <= row_index < len(self._ids):
            return None
        case_id = self._ids[row_index]
        row = self._state.summary(case_id)
        if row is None:
            return None
        if col in (LIGHT_COLUMN, REMAINING_COLUMN):
            reading = self._state.reading(case_id)
            light = reading.light if reading is not None else Light.NONE
            if col == LIGHT_COLUMN:
                short = _SHORT_LIGHT[light]
                return CellStyle(self._cat.tr(short) if short else "", self._brush(light_colour(light)),
                                 self._brush(light_tint(light)), self._bold, self._icon(light), None)
            text = countdown_text(reading, self._cat)
            if reading is not None and reading.paused:
                return CellStyle(text, self._brush("#6b7280"), None, None, None, _RIGHT)
            if reading is not None and reading.overdue:
                return CellStyle(text, self._brush(OVERDUE_TEXT), None, self._bold, None, _RIGHT)
            return CellStyle(text, None, None, None, None, _RIGHT)
        text = self._text(row, col)
        if row.urge_level and col == NUMBER_COLUMN:
            return CellStyle(text, None, None, None, self._urge_icon(row.urge_level), None)
        if row.urge_level and col == URGED_COLUMN:
            return CellStyle(text, self._brush(URGE_COLOUR), None, self._bold, None, None)
        return CellStyle(text, None, None, None, None, None)

    def _brush(self, colour) -> QBrush:
        """One brush per colour (``QColor`` or a name), made once."""
        key = colour.name() if isinstance(colour, QColor) else str(colour)
        brush = self._brushes.get(key)
        if brush is None:
            brush = self._brushes[key] = QBrush(QColor(colour))
        return brush

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self._state.set_sort(COLUMNS[column].key, order == Qt.SortOrder.DescendingOrder)

    # ---- helpers -------------------------------------------------------------------
    def case_id_at(self, row: int) -> int | None:
        """The case id shown in ``row``."""
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, case_id: int) -> int | None:
        """The row showing ``case_id``, or None when it is filtered out."""
        return self._row_of.get(case_id)

    def _icon(self, light: Light) -> QIcon:
        if light not in self._icons:
            from app.ui.drawn_icon import dot_icon

            self._icons[light] = dot_icon(light_colour(light))  # drawn at the UI scale: crisp at 4K
        return self._icons[light]

    def _reindex(self) -> None:
        self._row_of = {cid: i for i, cid in enumerate(self._ids)}

    def _on_reset(self) -> None:
        self.beginResetModel()
        self._ids = self._state.visible_ids
        self._reindex()
        if len(self._texts) > 2 * len(self._ids) + 64:  # rows that left: their texts go
            self._texts = {i: t for i, t in self._texts.items() if i in self._row_of}
        self.endResetModel()

    def _on_rows_changed(self, ids: list[int]) -> None:
        for case_id in ids:
            row = self._row_of.get(case_id)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def track_view(self, view) -> None:
        """Let ticks repaint only what ``view`` (a QAbstractItemView on this model) shows.

        Without a tracked view a tick announces both timer columns for every row (correct for
        any view, but Qt5 then repaints the whole viewport). With one, it announces the
        countdown cell of each visible row and the light cell of visible rows whose light
        changed, one cell each: Qt repaints just those cells.
        """
        self._view = weakref.ref(view) if view is not None else None

    def _visible_rows(self) -> range | None:
        """Rows the tracked view shows now; None without a (live, shown) tracked view."""
        view = self._view() if self._view is not None else None
        if view is None or view.model() is not self:
            return None
        try:
            if not view.isVisible():
                return range(0)
            viewport = view.viewport()
            top = view.rowAt(0)
            if top < 0:
                return range(0)
            bottom = view.rowAt(viewport.height() - 1)
        except RuntimeError:  # the C++ view is gone
            self._view = None
            return None
        return range(top, (bottom if bottom >= 0 else len(self._ids) - 1) + 1)

    def _on_lights_changed(self, ids: list[int]) -> None:
        self._lights_changed.update(ids)

    def _on_tick(self, _now) -> None:
        changed, self._lights_changed = self._lights_changed, set()
        if not self._ids:
            return
        rows = self._visible_rows()
        if rows is None:
            # Only the timer columns change; the view repaints just the visible cells.
            self.dataChanged.emit(
                self.index(0, LIGHT_COLUMN), self.index(len(self._ids) - 1, REMAINING_COLUMN)
            )
            return
        ids = self._ids
        for row in rows:
            cell = self.index(row, REMAINING_COLUMN)
            self.dataChanged.emit(cell, cell)
            if ids[row] in changed:
                cell = self.index(row, LIGHT_COLUMN)
                self.dataChanged.emit(cell, cell)


class QueueDelegate(QStyledItemDelegate):
    """Paints the queue's cells from :meth:`CaseQueueModel.cell_style`: one call into Python per
    cell instead of Qt's seven ``data`` calls (a 4K repaint of the queue took about 30 ms of the
    GUI thread, two thirds of it in those calls). What is painted is what ``data`` answers;
    tooltips and the case id still come from ``data``."""

    def __init__(self, model: CaseQueueModel, parent=None) -> None:
        super().__init__(parent)
        self._model = model
        self._metrics: dict[str, QFontMetrics] = {}

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex) -> None:  # noqa: N802 (Qt)
        style = self._model.cell_style(index.row(), index.column()) if index.model() is self._model else None
        if style is None:
            super().initStyleOption(option, index)
            return
        option.index = index
        if style.font is not None:
            font = QFont(style.font.resolve(option.font))
            option.font = font
            key = font.key()
            metrics = self._metrics.get(key)
            if metrics is None:
                metrics = self._metrics[key] = QFontMetrics(font)
            option.fontMetrics = metrics
        if style.alignment is not None:
            option.displayAlignment = Qt.AlignmentFlag(style.alignment)
        if style.foreground is not None:
            palette = QPalette(option.palette)
            palette.setBrush(QPalette.ColorRole.Text, style.foreground)
            option.palette = palette
        if style.icon is not None:
            option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
            option.icon = style.icon
            selected = bool(option.state & QStyle.StateFlag.State_Selected)
            actual = style.icon.actualSize(option.decorationSize, QIcon.Mode.Selected if selected else QIcon.Mode.Normal)
            option.decorationSize = QSize(min(option.decorationSize.width(), actual.width()),
                                          min(option.decorationSize.height(), actual.height()))
        if style.text:
            option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
            option.text = style.text
        if style.background is not None:
            option.backgroundBrush = style.background
        option.styleObject = None
