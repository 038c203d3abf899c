"""待回复: the replies owed to public and hotline reporters (两次回复, issue 16 item 5) on the desk.

The owed replies are derived from the case events (``app.services.replies.due_replies``): one for
each 立案/结案 of a public or hotline case not yet recorded as delivered. They are read in a worker
of the window's :class:`TaskRunner` when the dock is made and again when cases change (the queue's
events, throttled); 已回复 asks which case's reply reached the reporter, then records it through
``replies.mark_done`` (in a worker) and reads the list again. A double click or Enter on a row makes
its case current (the queue's row, or the case read in a worker when it is no longer in the queue).
The acceptor's and the shift leader's desks have it (``replies.DELIVERERS``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.definitions import Action, Light, Role
from app.i18n import Catalogue
from app.services.replies import CHANNELS, TEMPLATES, DueReply
from app.ui.plain import ElidedLabel, line, tooltip
from app.ui.style import LIGHT_COLOURS
from app.ui.tasks import TaskRunner
from app.ui.work.throttle import Throttle
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

log = logging.getLogger(__name__)

REPLIES_DOCK = "gridhall.desk.replies"
LOAD_KEY = "replies.load"
CASE_KEY = "replies.case"
DONE_KEY = "replies.done"
#: The roles that call the reporter back, so see the reporter's phone number in the list.
PHONE_ROLES = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER})
COLUMNS = ("案卷号", "回复", "渠道", "应回复时间", "上报人", "上报人电话", "回复内容")  # the long text last
AFTER = {"file": "立案回复", "close": "结案回复"}
REDRAW_EVERY_S = 60  # the overdue marks follow the clock at most this often
#: The dock lists the replies owed for the events of the last days (a year of history owes thousands:
#: reading them all takes seconds); ``gridhall exchange replies`` lists every one.
SHOWN_DAYS = 30

#: ``load()`` → the replies owed, oldest first; ``mark(event_id)`` → the delivery record's id;
#: ``fetch(case_id)`` → the case's summary (any state) or None.
Loader = Callable[[], "list[DueReply]"]
Marker = Callable[[int], object]
Fetcher = Callable[[int], Any]


def desk_replies(desk: Any, actor: Any) -> tuple[Loader, Marker]:
    """``load()`` and ``mark(event_id)`` over the desk's store, ``actor`` recording (called in a worker)."""
    from app.services import replies

    store, clock = desk.store, desk.clock

    def load() -> list[DueReply]:
        return replies.due_replies(store, since=clock.now() - timedelta(days=SHOWN_DAYS))

    return load, (lambda event_id: replies.mark_done(store, actor, event_id, clock.now()))


class RepliesDock(QWidget):
    """The owed replies (number, which reply, channel, reporter, text, due time — overdue marked) and 已回复."""

    def __init__(self, state: QueueState, runner: TaskRunner, load: Loader, mark: Marker | None,
                 now: Callable[[], datetime], catalogue: Catalogue | None = None, *, fetch: Fetcher | None = None,
                 show_phone: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("repliesDock")
        self.state, self.runner, self.loader, self.marker, self.now, self.fetch = state, runner, load, mark, now, fetch
        self.show_phone = show_phone
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self.replies: list[DueReply] = []
        self.summary = ElidedLabel(max_width=900, objectName="repliesSummary")
        self.summary.setToolTip(tr("列出近 {days} 天立案、结案的公众和热线案卷尚未登记的回复；"
                                   "更早的请用 gridhall exchange replies 查看", days=SHOWN_DAYS))
        self.summary.setText(tr("正在读取待回复事项…"))
        self.table = QTableWidget(0, len(COLUMNS), objectName="repliesTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.setColumnHidden(COLUMNS.index("上报人电话"), not show_phone)
        self.table.setToolTip(tr("双击一行或按回车：在案卷详情中查看该案卷"))
        self.reload_button = QPushButton(tr("刷新"), objectName="repliesReload")
        self.done_button = QPushButton(tr("已回复…"), objectName="repliesDone")
        self.done_button.setToolTip(tr("登记所选回复已送达上报人（回电或短信之后）"))
        self.done_button.setVisible(mark is not None)
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.reload_button)
        bar.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

        self.busy = False
        self.confirm_box: QMessageBox | None = None
        self.last_done: tuple[str, object] | None = None  # (number, record id) of the last reply recorded
        self.note = ""  # what the last 已回复 did, shown after the counts
        self._drawn: datetime | None = None
        self.reload_button.clicked.connect(lambda: self.load())
        self.done_button.clicked.connect(lambda: self.ask_done())
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        self.table.activated.connect(lambda index: self.open_row(index.row()))  # Enter on a row
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._subs = Subscriptions()
        self._closed = False  # torn down: a throttled read or a late answer finds no widgets to fill
        self._load_soon = Throttle(self.load, interval_ms=1000, parent=self)  # a burst of changes: one read
        ev = state.events
        self._subs.connect(ev.rows_reset, self._load_soon)
        self._subs.connect(ev.rows_changed, lambda _ids: self._load_soon())
        self._subs.connect(ev.tick, self._tick)
        self._update_buttons()
        self.load()

    def teardown(self) -> None:
        self._closed = True
        self._subs.close()
        for key in (LOAD_KEY, CASE_KEY, DONE_KEY):
            self.runner.cancel(key)

    # ---- reading -----------------------------------------------------------------------
    def load(self) -> None:
        """Read the owed replies again in a worker (the latest request wins)."""
        if self._closed:
            return
        self.runner.run_in_thread(self.loader, self._loaded, self._failed, key=LOAD_KEY)

    def _loaded(self, replies: list[DueReply]) -> None:
        if self._closed:
            return
        self.replies = list(replies)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        log.error("reading the owed replies failed: %s", exc)
        self.summary.setText(self.cat.tr("无法读取待回复事项：{error}", error=self.cat.error(exc)))

    def _tick(self, now: datetime) -> None:
        if self._drawn is None or (now - self._drawn).total_seconds() >= REDRAW_EVERY_S:
            self.refresh()

    def text_of(self, reply: DueReply) -> str:
        """The reply as written (Chinese), or its template in the catalogue's language."""
        template = TEMPLATES.get(Action(reply.after))
        if template is None or self.cat.tr(template) == template:
            return reply.text
        values = reply.template_values()
        if reply.reported_at is not None:
            values["when"] = f" on {reply.reported_at:%Y-%m-%d}"
        return self.cat.tr(template, **values)

    def event_ids(self) -> list[int]:
        """The event ids of the rows shown, in order."""
        return [r.event_id for r in self.replies]

    def refresh(self) -> None:
        """Show the owed replies (oldest first), the overdue ones in red."""
        tr = self.cat.tr
        now = self._drawn = self.now()
        selected = self.selected()
        self.table.setRowCount(len(self.replies))
        late = 0
        red = QBrush(QColor(LIGHT_COLOURS[Light.RED]))
        for r, reply in enumerate(self.replies):
            overdue = reply.overdue(now)
            late += overdue
            due = reply.due_at.strftime("%m-%d %H:%M")
            text = self.text_of(reply)
            cells = [reply.number, tr(AFTER.get(reply.after, reply.after)),
                     self.cat.text(CHANNELS[reply.channel]) if reply.channel in CHANNELS else reply.channel,
                     tr("{due}（已超时）", due=due) if overdue else due,
                     line(reply.reporter_name or "—", 40), line(reply.reporter_phone or "—", 32), line(text, 80)]
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, reply.event_id)
                if overdue and c in (0, 3):
                    item.setForeground(red)
                if c == len(cells) - 1:
                    item.setToolTip(tooltip(text))
                self.table.setItem(r, c, item)
            if selected is not None and reply.event_id == selected.event_id:
                self.table.selectRow(r)
        self.table.resizeColumnsToContents()
        text_col = COLUMNS.index("回复内容")
        self.table.setColumnWidth(text_col, min(max(self.table.columnWidth(text_col), 160), 420))
        counts = (tr("近 {days} 天待回复 {n} 件，超时 {late} 件", days=SHOWN_DAYS, n=len(self.replies), late=late)
                  if self.replies else tr("没有待回复的事项"))
        self.summary.setText(f"{counts}    {self.note}" if self.note else counts)
        self._update_buttons()

    def selected(self) -> DueReply | None:
        rows = {i.row() for i in self.table.selectedItems()}
        row = next(iter(rows)) if len(rows) == 1 else self.table.currentRow() if rows else -1
        return self.replies[row] if 0 <= row < len(self.replies) else None

    def _update_buttons(self) -> None:
        self.done_button.setEnabled(self.marker is not None and not self.busy and self.selected() is not None)

    # ---- opening a case ---------------------------------------------------------------
    def open_row(self, row: int) -> None:
        """Make row ``row``'s case the current case (detail, map)."""
        if not 0 <= row < len(self.replies):
            return
        case_id = self.replies[row].case_id
        if self.state.summary(case_id) is not None:
            self.state.select(case_id)
            return
        if self.fetch is None:
            return
        fetch, state = self.fetch, self.state
        self.runner.run_in_thread(lambda: fetch(case_id),
                                  lambda summary: state.select_found(summary) if summary is not None else None,
                                  lambda exc: self.summary.setText(self.cat.error(exc)), key=CASE_KEY)

    # ---- recording a reply ------------------------------------------------------------
    def ask_done(self) -> QMessageBox | None:
        """Ask whether the selected row's reply reached its reporter (naming the case); 是 records it."""
        reply = self.selected()
        if reply is None or self.marker is None or self.busy:
            return None
        tr = self.cat.tr
        who = " ".join(x for x in (reply.reporter_name, reply.reporter_phone if self.show_phone else None) if x)
        question = tr("确认案卷 {number} 的{after}已告知上报人{who}？", number=reply.number,
                      after=tr(AFTER.get(reply.after, reply.after)), who=tr("（{who}）", who=who) if who else "")
        box = QMessageBox(QMessageBox.Icon.Question, tr("登记已回复"), question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("repliesConfirm")
        box.setInformativeText(line(self.text_of(reply), 300))
        # a reporter's name (typed by the public over Open311) and a reply are shown as written, never as markup
        box.setTextFormat(Qt.TextFormat.PlainText)
        for label in box.findChildren(QLabel, "qt_msgbox_informativelabel"):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setOpenExternalLinks(False)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText(tr("已回复"))
        box.button(QMessageBox.StandardButton.No).setText(tr("取消"))

        def answered(_result: int) -> None:
            self.confirm_box = None
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self.mark_done(reply)
            box.deleteLater()

        box.finished.connect(answered)
        self.confirm_box = box
        box.open()
        return box

    def mark_done(self, reply: DueReply) -> None:
        """Record ``reply`` as delivered (in a worker), then read the list again."""
        if self.marker is None:
            return
        marker = self.marker
        self.busy = True
        self._update_buttons()
        self.summary.setText(self.cat.tr("正在登记回复…"))
        self.runner.run_in_thread(lambda: marker(reply.event_id), lambda record: self._done(reply, record),
                                  self._refused, key=DONE_KEY)

    def _done(self, reply: DueReply, record: object) -> None:
        self.busy = False
        self.last_done = (reply.number, record)
        self.replies = [r for r in self.replies if r.event_id != reply.event_id]
        self.note = self.cat.tr("已登记：案卷 {number} 的{after}已回复", number=reply.number,
                                after=self.cat.tr(AFTER.get(reply.after, reply.after)))
        self.refresh()
        self.load()

    def _refused(self, exc: BaseException) -> None:
        self.busy = False
        self.note = self.cat.tr("未能登记回复：{error}", error=self.cat.error(exc))
        self.refresh()
        self.load()


__all__ = ["PHONE_ROLES", "REPLIES_DOCK", "RepliesDock", "desk_replies"]
