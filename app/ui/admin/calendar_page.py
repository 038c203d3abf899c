"""工作日历 (working calendar) page: one year's status (official / estimated), its statutory days off and
调休 workdays; entering a year from the State Council's notice, or storing the libraries' estimate.

Reads and writes go through app/services/calendar.py in a worker. A save first runs the service's dry
run (``plan_year`` / ``plan_estimate``): a year it would refuse (no working day, a date outside the
year, a day both off and worked, a weekday as 调休) is reported in the user's language and nothing is
asked; otherwise the change dialog shows the difference and asks why, and only then is the year stored
(recorded in the configuration history with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.messages import Msg
from app.domain.statutory import OFFICIAL, StatutoryYear
from app.i18n import Catalogue
from app.services import calendar as service
from app.services.actors import Actor
from app.store.engine import Store
from app.ui.admin.common import AdminPage, ask_change, fill, table
from app.ui.tasks import TaskRunner
from app.views.config_diff import diff_lines

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def ranges(days: dict[date, str]) -> list[str]:
    """Days off as the service reads them: consecutive days of one name as ``A..B=NAME``."""
    out: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        start = end = ordered[i]
        name = days[start]
        while i + 1 < len(ordered) and ordered[i + 1] == end + timedelta(days=1) and days[ordered[i + 1]] == name:
            i += 1
            end = ordered[i]
        span = start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"
        out.append(f"{span}={name}" if name else span)
        i += 1
    return out


def _entries(text: str) -> list[str]:
    """The lines (or comma/space separated items) of an edit box."""
    return [part for raw in text.replace("，", ",").replace(",", "\n").splitlines()
            for part in [raw.strip()] if part]


class CalendarPage(AdminPage):
    """Year, status and days; 预览并保存… (dry run, diff, reason) and 按日历库推算…."""

    def __init__(self, store: Store, actor: Actor, runner: TaskRunner, catalogue: Catalogue, today: date,
                 on_saved: Callable[[], None] | None = None, parent=None) -> None:
        super().__init__(runner, catalogue, "adminCalendar", parent)
        tr = self.tr
        self.store, self.actor, self.on_saved = store, actor, on_saved
        self.view: service.YearView | None = None
        self.year = QSpinBox(objectName="calendarYear")
        self.year.setRange(1900, 2200)
        self.year.setValue(today.year + 1 if today.month >= 10 else today.year)
        self.read_button = QPushButton(tr("读取"), objectName="calendarRead")
        self.summary = QLabel(objectName="calendarSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("年份")))
        bar.addWidget(self.year)
        bar.addWidget(self.read_button)
        bar.addWidget(self.summary, 1)

        self.days = table("calendarDays", [tr("日期"), tr("星期"), tr("安排"), tr("名称")])
        # the columns share the table's width (date, weekday and arrangement fit, the name takes the rest)
        self._stretch_days()

        self.holidays_edit = QPlainTextEdit(objectName="calendarHolidays")
        self.holidays_edit.setPlaceholderText(tr("每行一项：日期或日期..日期，可加 =名称，例如 2027-02-05..2027-02-11=春节"))
        self.workdays_edit = QPlainTextEdit(objectName="calendarWorkdays")
        self.workdays_edit.setPlaceholderText(tr("每行一个调休上班的周六或周日，例如 2027-02-20"))
        self.official = QCheckBox(tr("正式安排（依据国务院办公厅通知）"), objectName="calendarOfficial")
        self.source = QLineEdit(objectName="calendarSource")
        self.source.setMaxLength(1000)
        self.source.setPlaceholderText(tr("通知的标题和文号"))
        self.save_button = QPushButton(tr("预览并保存…"), objectName="calendarSave")
        self.estimate_button = QPushButton(tr("按日历库推算…"), objectName="calendarEstimate")
        form = QFormLayout()
        form.addRow(tr("节假日"), self.holidays_edit)
        form.addRow(tr("调休上班日"), self.workdays_edit)
        form.addRow("", self.official)
        form.addRow(tr("来源"), self.source)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.estimate_button)
        buttons.addWidget(self.save_button)
        editor = QWidget()
        column = QVBoxLayout(editor)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form, 1)
        column.addLayout(buttons)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.days)
        split.addWidget(editor)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([1000, 1000])  # half each: the days listed, the form
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        self.read_button.clicked.connect(lambda: self.reload())
        self.year.editingFinished.connect(self._year_changed)
        self.save_button.clicked.connect(lambda: self.save())
        self.estimate_button.clicked.connect(lambda: self.estimate())

    def _busy_changed(self) -> None:
        for button in (self.read_button, self.save_button, self.estimate_button):
            button.setEnabled(not self.busy)

    def _year_changed(self) -> None:
        if self.view is None or self.view.year != self.year.value():
            self.reload()

    # ---- reading ------------------------------------------------------------------
    def _stretch_days(self) -> None:
        header = self.days.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

    def reload(self, done: Callable[[Any], None] | None = None) -> None:
        """Read the year shown (in a worker)."""
        year, store = self.year.value(), self.store
        self.say(Msg("正在读取 {year} 年的工作日历…", year=year))
        self.call("read", lambda: service.show_year(store, year), lambda view: self._show(view, done))

    def _show(self, view: service.YearView, done: Callable[[Any], None] | None) -> None:
        self.view = view
        tr = self.tr
        status = {OFFICIAL: Msg("正式"), None: Msg("未录入（按库推算显示）")}.get(view.status, Msg("推算"))
        parts = [Msg("{year} 年：{status}", year=view.year, status=status),
                 Msg("工作日 {count} 天", count=view.workday_count)]
        if view.source:
            parts.append(Msg("来源：{source}", source=view.source))
        if view.updated_at is not None:
            parts.append(Msg("{at} 由 {who} 修改", at=view.updated_at.strftime("%Y-%m-%d %H:%M"),
                             who=view.updated_by or ""))
        self.summary.setText(" · ".join(self.cat.text(p) for p in parts))
        rows = [(d.isoformat(), tr(WEEKDAYS[d.weekday()]), tr("放假"), name) for d, name in view.holidays.items()]
        rows += [(d.isoformat(), tr(WEEKDAYS[d.weekday()]), tr("调休上班"), "") for d in view.workdays]
        fill(self.days, sorted(rows))
        self._stretch_days()  # (fill sized the columns to their contents; the modes apply again)
        self.holidays_edit.setPlainText("\n".join(ranges(view.holidays)))
        self.workdays_edit.setPlainText("\n".join(d.isoformat() for d in view.workdays))
        self.official.setChecked(view.status == OFFICIAL)
        self.source.setText(view.source)
        self.source.setCursorPosition(0)  # the notice's title from its start
        self.say(Msg("{year} 年：节假日 {holidays} 天，调休工作日 {workdays} 天", year=view.year,
                     holidays=len(view.holidays), workdays=len(view.workdays)))
        if done is not None:
            done(view)

    # ---- changing -----------------------------------------------------------------
    def entered(self) -> dict[str, Any]:
        """What the form says: the arguments of ``set_year`` (without the reason)."""
        return {"holidays": _entries(self.holidays_edit.toPlainText()),
                "workdays": _entries(self.workdays_edit.toPlainText()),
                "official": self.official.isChecked(), "source": self.source.text().strip()}

    def save(self) -> None:
        """Dry run of the entered year; problems shown, else the diff and the reason asked, then stored."""
        year, store, values = self.year.value(), self.store, self.entered()

        def plan() -> tuple[StatutoryYear | None, StatutoryYear]:
            before, after = service.plan_year(store, year, **values)
            after.check()  # a year the service would refuse: its message, nothing asked
            return before, after

        self.say(Msg("正在检查…"))
        self.call("plan", plan, lambda planned: self._confirm(
            Msg("保存 {year} 年工作日历", year=year), planned,
            lambda reason: service.set_year(store, self.actor, year, reason=reason, **values)))

    def estimate(self) -> None:
        """The libraries' arrangement of the year (refused over an official year): diff, reason, stored."""
        year, store = self.year.value(), self.store
        self.say(Msg("正在检查…"))
        self.call("plan", lambda: service.plan_estimate(store, year), lambda planned: self._confirm(
            Msg("按日历库推算 {year} 年", year=year), planned,
            lambda reason: service.estimate_year(store, self.actor, year, reason=reason)[1]))

    def _confirm(self, title: Msg, planned: tuple[StatutoryYear | None, StatutoryYear],
                 write: Callable[[str], int | None]) -> None:
        before, after = planned
        lines = diff_lines(before.as_record() if before is not None else None, after.as_record())
        if before is not None and not lines:
            self.say(Msg("没有变化，未保存"))
            return
        ask_change(self, self.cat.text(title), [self.cat.text(x) for x in lines],
                   lambda reason: self._write(write, reason))

    def _write(self, write: Callable[[str], int | None], reason: str) -> None:
        year = self.year.value()
        self.say(Msg("正在保存…"))

        def saved(seq: int | None) -> None:
            said = (Msg("已保存 {year} 年工作日历（配置变更第 {seq} 条）", year=year, seq=seq) if seq
                    else Msg("没有变化，未保存"))
            self.say(said)
            self.reload(lambda _view: self.say(said))  # the year as stored, the outcome kept in view
            if self.on_saved is not None:
                self.on_saved()

        self.call("write", lambda: write(reason), saved)


__all__ = ["CalendarPage", "ranges"]
