"""The request ledger dock (台账): a period, a kind filter, the entries and the monthly shares per department.

The ledger is the core's (``Core.ledger``: app/services/ledger.py, derived from the case events, scoped
to a department operator's own cases); it is read in a worker of the window's :class:`TaskRunner`,
never on the GUI thread. Exports (xlsx, csv) run as jobs on the window's :class:`JobRunner`, shown in
the status bar's job strip with progress and cancel, written through a temporary file. A double click
on an entry makes its case the current case (the queue's row, or — closed, voided, another desk's —
the case read in a worker, as the archive does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from qtpy.QtCore import QDate, Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.cases import CaseSummary
from app.domain.ledger import LedgerKind
from app.i18n import Catalogue
from app.jobs import Feedback, Job, JobRunner, JobState
from app.services.ledger import ENTRY_COLUMNS, SHARE_COLUMNS, LedgerReport, entry_cells, export, share_cells
from app.ui.jobs import JobEvents
from app.ui.plain import ElidedLabel, line, tooltip
from app.ui.tasks import TaskRunner
from app.views.queue_state import QueueState

LEDGER_DOCK = "gridhall.ledger"
LOAD_KEY = "ledger.load"
CASE_KEY = "ledger.case"

#: ``load(start, end, kind)`` → a LedgerReport (kind: a LedgerKind value or None for every kind).
Loader = Callable[[date, date, "str | None"], LedgerReport]
#: ``fetch(case_id)`` → the case's summary (any state) or None.
Fetcher = Callable[[int], "CaseSummary | None"]

#: Columns of the entries table shown wide (reason, note); the others fit their text.
_WIDE = {"reason", "decision_note"}


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class LedgerDock(QWidget):
    """Period and kind, 查询, 导出 Excel… / 导出 CSV…, the entries and the monthly shares as tabs."""

    def __init__(self, load: Loader, runner: TaskRunner, today: date, catalogue: Catalogue | None = None, *,
                 jobs: JobRunner | None = None, job_events: JobEvents | None = None,
                 state: QueueState | None = None, fetch: Fetcher | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("ledgerDock")
        self.loader, self.runner, self.jobs, self.job_events = load, runner, jobs, job_events
        self.state, self.fetch = state, fetch
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr

        self.start = QDateEdit(_qdate(today.replace(day=1)), objectName="ledgerFrom")
        self.end = QDateEdit(_qdate(today), objectName="ledgerTo")
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.kind = QComboBox(objectName="ledgerKind")
        self.kind.addItem(tr("全部类型"), None)
        for kind in LedgerKind:
            self.kind.addItem(tr(kind.label), kind.value)
        self.search_button = QPushButton(tr("查询"), objectName="ledgerSearch")
        self.xlsx_button = QPushButton(tr("导出 Excel…"), objectName="ledgerExportXlsx")
        self.csv_button = QPushButton(tr("导出 CSV…"), objectName="ledgerExportCsv")
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("时间段")))
        bar.addWidget(self.start)
        bar.addWidget(QLabel(tr("至")))
        bar.addWidget(self.end)
        bar.addWidget(self.kind)
        bar.addWidget(self.search_button)
        bar.addStretch(1)
        bar.addWidget(self.xlsx_button)
        bar.addWidget(self.csv_button)
        self.status = ElidedLabel(max_width=900, objectName="ledgerStatus")

        self.table = self._table("ledgerTable", [tr(h) for _k, h in ENTRY_COLUMNS])
        self.table.setToolTip(tr("双击一行：在案卷详情中查看该案卷"))
        self.shares = self._table("ledgerShares", [tr(h) for _k, h in SHARE_COLUMNS])
        self.tabs = QTabWidget(objectName="ledgerTabs")
        self.tabs.addTab(self.table, tr("台账"))
        self.tabs.addTab(self.shares, tr("月度占比"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

        self.report: LedgerReport | None = None
        self.busy = False
        self._shown = False  # read once when first shown
        self.export_job: Job | None = None  # the export running
        self.last_export: Job | None = None
        self.search_button.clicked.connect(lambda: self.search())
        self.xlsx_button.clicked.connect(lambda: self._ask_export("xlsx"))
        self.csv_button.clicked.connect(lambda: self._ask_export("csv"))
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        self.table.activated.connect(lambda index: self.open_row(index.row()))  # Enter on a row
        if job_events is not None:
            job_events.finished.connect(self._job_finished)
        self._update_buttons()

    def _table(self, name: str, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers), objectName=name)
        table.setHorizontalHeaderLabels(headers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        return table

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """The first time the tab is opened, read this month's ledger (in a worker)."""
        super().showEvent(event)
        if self.report is None and not self.busy and not self._shown:
            self._shown = True
            self.search()

    def teardown(self) -> None:
        self.runner.cancel(LOAD_KEY)
        self.runner.cancel(CASE_KEY)
        if self.job_events is not None:
            with contextlib.suppress(TypeError, RuntimeError):  # (already gone)
                self.job_events.finished.disconnect(self._job_finished)

    # ---- reading ------------------------------------------------------------------
    def period(self) -> tuple[date, date]:
        return _pydate(self.start.date()), _pydate(self.end.date())

    def search(self, done: Callable[[Any], None] | None = None) -> None:
        """Read the ledger of the period in a worker; ``done(answer)`` after the tables show it (a
        LedgerReport, or the exception whose message the status line shows)."""
        start, end = self.period()
        kind = self.kind.currentData()
        self.busy = True
        self.status.setText(self.cat.tr("正在查询台账…"))
        self._update_buttons()
        load = self.loader
        self.runner.run_in_thread(lambda: load(start, end, kind), lambda report: self._show(report, done),
                                  lambda exc: self._failed(exc, done), key=LOAD_KEY)

    def _show(self, report: LedgerReport, done: Callable[[Any], None] | None) -> None:
        self.busy, self.report = False, report
        tr = self.cat.tr
        self._fill(self.table, [entry_cells(x, tr) for x in report.entries], [k for k, _h in ENTRY_COLUMNS])
        rows = [share_cells(r) for r in report.shares]
        keys = [k for k, _h in SHARE_COLUMNS]
        for row in rows:
            for i, key in enumerate(keys):
                if key.endswith("_share"):
                    row[i] = "—" if row[i] is None else f"{row[i]:.1%}"
        self._fill(self.shares, rows, keys)
        self.status.setText(tr("共 {n} 条", n=len(report.entries)))
        self._update_buttons()
        if done is not None:
            done(report)

    def _fill(self, table: QTableWidget, rows: list[list[Any]], keys: list[str]) -> None:
        table.setRowCount(len(rows))
        entries = self.report.entries if self.report is not None and table is self.table else []
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                text = "" if value is None else str(value)
                item = QTableWidgetItem(line(text, 120))
                if keys[c] in _WIDE and text:
                    item.setToolTip(tooltip(text))
                if keys[c].endswith(("_share", "_count", "_minutes")) or keys[c] == "dispatched":
                    item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))
                if entries:
                    item.setData(Qt.ItemDataRole.UserRole, entries[r].case_id)
                table.setItem(r, c, item)
        table.resizeColumnsToContents()
        for c, key in enumerate(keys):
            if key in _WIDE:
                table.setColumnWidth(c, min(max(table.columnWidth(c), 120), 320))

    def _failed(self, exc: BaseException, done: Callable[[Any], None] | None = None) -> None:
        self.busy, self.report = False, None
        self.table.setRowCount(0)
        self.shares.setRowCount(0)
        self.status.setText(self.cat.tr("台账查询失败：{error}", error=self.cat.error(exc)))
        self._update_buttons()
        if done is not None:
            done(exc)

    # ---- opening a case -----------------------------------------------------------
    def open_row(self, row: int) -> None:
        """Make entry ``row``'s case the current case (detail, map)."""
        if self.report is None or not 0 <= row < len(self.report.entries) or self.state is None:
            return
        case_id = self.report.entries[row].case_id
        if self.state.summary(case_id) is not None:
            self.state.select(case_id)
            return
        if self.fetch is None:
            return
        fetch, state = self.fetch, self.state
        self.runner.run_in_thread(lambda: fetch(case_id),
                                  lambda summary: state.select_found(summary) if summary is not None else None,
                                  lambda exc: self.status.setText(self.cat.error(exc)), key=CASE_KEY)

    # ---- exporting ----------------------------------------------------------------
    def _ask_export(self, fmt: str) -> None:
        if self.report is None:
            return
        tr = self.cat.tr
        start, end = self.report.start, self.report.end
        suggested = str(Path.home() / f"ledger-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}")
        pattern = tr("Excel 工作簿 (*.xlsx)") if fmt == "xlsx" else tr("CSV 文件 (*.csv)")
        path, _filter = QFileDialog.getSaveFileName(self, tr("导出台账"), suggested, pattern)
        if path:
            self.export_to(path, fmt)

    def export_to(self, path: str, fmt: str) -> Job | None:
        """Write the report shown to ``path`` (xlsx or csv) as a job; None when nothing is shown or
        an export is already running."""
        if self.report is None or self.jobs is None or self.export_job is not None:
            return None
        report, tr = self.report, self.cat.tr

        def work(feedback: Feedback) -> Path:
            feedback.progress(0.1, tr("正在导出…"))
            feedback.check()
            written = export(report, path, fmt, tr)
            feedback.progress(1.0, "")
            return written

        self.export_job = job = Job(tr("导出台账（{fmt}）", fmt=fmt), work)
        self._update_buttons()
        self.jobs.submit(job)
        return job

    def _job_finished(self, job: Job) -> None:
        if job is not self.export_job:
            return
        self.export_job, self.last_export = None, job  # (delivered before the job marks itself finished)
        tr = self.cat.tr
        if job.state is JobState.DONE:
            self.status.setText(tr("台账已导出到 {path}（{count} 条）", path=str(job.result),
                                   count=len(self.report.entries) if self.report else 0))
        elif job.state is JobState.FAILED and job.error is not None:
            self.status.setText(self.cat.error(job.error))
        else:
            self.status.setText(tr("已取消：{title}", title=job.title))
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = not self.busy and self.report is not None and self.jobs is not None and self.export_job is None
        self.search_button.setEnabled(not self.busy)
        self.xlsx_button.setEnabled(ready)
        self.csv_button.setEnabled(ready)


__all__ = ["LEDGER_DOCK", "LedgerDock"]
