"""统计分析 dock (issue 13, item 2): a period (day, week, month, quarter, custom), the seven charts of
:mod:`app.services.statistics` computed as a job (progress and cancel, never on the GUI thread), the
case numbers behind a clicked bar or point, shown on the map as the archive's hits, and the map's
grid colouring (case density or the period's region score).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from qtpy.QtCore import QDate, Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.messages import Msg
from app.domain.periods import PERIODS, period_range, shift
from app.i18n import Catalogue
from app.jobs import Feedback, Job, JobRunner, JobState
from app.services.statistics import CHARTS, Bar, Statistics
from app.ui.jobs import JobEvents
from app.ui.plain import ElidedLabel
from app.ui.stats.charts import ChartView, label_text
from app.ui.tasks import TaskRunner

STATS_DOCK = "gridhall.stats"
DRILL_KEY = "stats.drill"
POINTS_KEY = "stats.points"
OPEN_KEY = "stats.open"
PERIOD_LABELS = {"day": Msg("日"), "week": Msg("周"), "month": Msg("月"), "quarter": Msg("季度"),
                 "custom": Msg("自定义")}
MAP_MODES = (("none", Msg("地图不着色")), ("density", Msg("网格按案件密度着色")), ("score", Msg("网格按综合评分着色")))

#: ``compute(start, end, feedback)`` → Statistics (in the job's worker).
Compute = Callable[[date, date, Feedback], Statistics]
#: ``bulletin(month's first day, output path, feedback)`` → what was built (in the job's worker;
#: app.reports.build.build_bulletin: a cancel leaves no file behind).
BuildBulletin = Callable[[date, str, Feedback], Any]
#: ``ask_path(suggested file name, file-type filter)`` → the chosen path or None (a save dialog).
AskPath = Callable[[str, str], "str | None"]
EXPORT_KEY = "stats.export"


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class StatsDock(QWidget):
    def __init__(self, compute: Compute, today: date, catalogue: Catalogue | None = None, *,
                 jobs: JobRunner, job_events: JobEvents, runner: TaskRunner | None = None,
                 month_cases: Callable[[str, date, date], list[str]] | None = None,
                 points: Callable[[list[str]], list[tuple[str, float, float]]] | None = None,
                 on_hits: Callable[[list[tuple[float, float]]], None] | None = None,
                 shade: Callable[[dict[str, str], list[tuple[str, str]]], None] | None = None,
                 unshade: Callable[[], None] | None = None,
                 find: Callable[[str], Any] | None = None, state: Any = None,
                 bulletin: BuildBulletin | None = None, ask_path: AskPath | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statsDock")
        self.compute_fn, self.today, self.jobs, self.job_events, self.runner = compute, today, jobs, job_events, runner
        self.month_cases, self.points, self.on_hits, self.shade, self.unshade = month_cases, points, on_hits, shade, unshade
        self.find, self.state = find, state  # a double click makes a listed case current (QueueState.select_found)
        self.bulletin_fn, self.ask_path = bulletin, ask_path or self._ask_path
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr

        self.kind = QComboBox(objectName="statsPeriod")
        for k in PERIODS:
            self.kind.addItem(tr(PERIOD_LABELS[k]), k)
        self.kind.setCurrentIndex(PERIODS.index("month"))
        self.prev_button = QPushButton("◀", objectName="statsPrev")
        self.next_button = QPushButton("▶", objectName="statsNext")
        self.prev_button.setToolTip(tr("上一个时间段"))
        self.next_button.setToolTip(tr("下一个时间段"))
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(32)
        self.anchor = today.replace(day=1) - timedelta(days=1)  # last month: the one an analyst reviews
        start, end = period_range("month", self.anchor)
        self.start = QDateEdit(_qdate(start), objectName="statsFrom")
        self.end = QDateEdit(_qdate(end), objectName="statsTo")
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.compute_button = QPushButton(tr("统计"), objectName="statsCompute")
        self.cancel_button = QPushButton(tr("取消"), objectName="statsCancel")
        self.cancel_button.setToolTip(tr("取消正在进行的统计或月报（没有正在进行时不可用）"))
        self.progress = QProgressBar(objectName="statsProgress")
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.map_mode = QComboBox(objectName="statsMapMode")
        for key, label in MAP_MODES:
            self.map_mode.addItem(tr(label), key)
        self.map_mode.setCurrentIndex(1)  # density
        self.bulletin_button = QPushButton(tr("生成月报…"), objectName="statsBulletin")
        self.bulletin_button.setToolTip(tr("生成所选时间段所在月份的数字城管简报（PDF），可随时取消"))
        self.bulletin_button.setVisible(bulletin is not None)
        self.tables_button = QPushButton(tr("导出统计表…"), objectName="statsExportTables")
        self.tables_button.setToolTip(tr("把各图表的数字导出为 Excel（.xlsx）或 CSV"))
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("时间段")))
        bar.addWidget(self.kind)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.start)
        bar.addWidget(QLabel(tr("至")))
        bar.addWidget(self.end)
        bar.addWidget(self.next_button)
        bar.addWidget(self.compute_button)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addStretch(1)
        self.status = ElidedLabel(max_width=1400, objectName="statsStatus")
        # the status shares its row with the exports and the map mode: one row of everything made
        # the dock ~950 px wide at least, and an analyst's or administrator's window wider than 1920
        actions = QHBoxLayout()
        actions.addWidget(self.status, 1)
        actions.addWidget(self.tables_button)
        actions.addWidget(self.bulletin_button)
        actions.addWidget(self.map_mode)

        self.views: dict[str, ChartView] = {}
        grid_box = QWidget(objectName="statsCharts")
        grid = QGridLayout(grid_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for n, key in enumerate(CHARTS):
            view = ChartView(self.cat)
            view.setObjectName(f"statsChart_{key}")
            view.setMinimumSize(160, 120)
            view.picked.connect(self.pick)
            self.views[key] = view
            grid.addWidget(view, n // 4, n % 4)

        side = QWidget(objectName="statsCasesPanel")
        self.cases_title = QLabel(tr("单击图中的柱或点：列出背后的案卷"), objectName="statsCasesTitle")
        self.cases_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # no word wrap:
        # a wrapping label's height-for-width squeezed the grid's first row
        self.late_only = QCheckBox(tr("只看超时案卷"), objectName="statsLateOnly")
        self.late_only.setToolTip(tr("只列出所点图形中超时的案卷（所点图形有超时案卷时可用）"))
        self.late_only.setEnabled(False)
        self.table = QTableWidget(0, 2, objectName="statsCases")
        self.table.setHorizontalHeaderLabels([tr("序号"), tr("案卷号")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip(tr("双击一行：在案卷详情中查看该案卷"))
        self.map_button = QPushButton(tr("在地图上显示"), objectName="statsShowOnMap")
        self.map_button.setToolTip(tr("在地图上标出列出的案卷（先点图中的柱或扇形列出案卷）"))
        self.map_button.setEnabled(False)
        self.export_button = QPushButton(tr("导出案卷…"), objectName="statsExportCases")
        self.export_button.setToolTip(tr("把列出的案卷（恰好是所点图形背后的案卷）导出为 Excel（.xlsx）或 CSV"))
        self.export_button.setEnabled(False)
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.cases_title)
        column.addWidget(self.late_only)
        column.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.map_button, 1)
        buttons.addWidget(self.export_button)
        column.addLayout(buttons)
        grid.addWidget(side, 1, 3)  # the eighth cell: the cases behind the figure clicked
        for cell in (*self.views.values(), side):  # equal cells, whatever their contents ask for
            cell.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        for r in (0, 1):
            grid.setRowStretch(r, 1)
        for c in range(4):
            grid.setColumnStretch(c, 1)
        self.table.setMinimumHeight(40)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addLayout(actions)
        layout.addWidget(grid_box, 1)

        self.stats: Statistics | None = None
        self.job: Job | None = None
        self.last_job: Job | None = None
        self.bulletin_job: Job | None = None
        self.last_bulletin: Job | None = None
        self.bar: Bar | None = None
        self.cases: list[str] = []  # the numbers listed
        self._shown = False
        self._torn = False
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.compute_button.clicked.connect(lambda: self.run())
        self.cancel_button.clicked.connect(self.cancel)
        self.map_mode.currentIndexChanged.connect(lambda _i: self.apply_map())
        self.late_only.toggled.connect(lambda _on: self._list())
        self.map_button.clicked.connect(self.show_on_map)
        self.export_button.clicked.connect(lambda: self.export_cases())
        self.tables_button.clicked.connect(lambda: self.export_tables())
        self.bulletin_button.clicked.connect(lambda: self.build_bulletin())
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        job_events.progressed.connect(self._progressed)
        job_events.finished.connect(self._finished)
        self._kind_changed()
        self._buttons()

    # ---- period ---------------------------------------------------------------------------
    def period_kind(self) -> str:
        return str(self.kind.currentData())

    def set_period(self, kind: str, anchor: date | None = None) -> None:
        """Pick ``kind`` (day|week|month|quarter|custom) around ``anchor`` (default: the last one)."""
        if anchor is not None:
            self.anchor = anchor
        self.kind.setCurrentIndex(PERIODS.index(kind))
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = self.period_kind()
        custom = kind == "custom"
        for w in (self.start, self.end):
            w.setEnabled(custom)
        self.prev_button.setEnabled(not custom)
        self.next_button.setEnabled(not custom)
        if not custom:
            start, end = period_range(kind, self.anchor)
            self.start.setDate(_qdate(start))
            self.end.setDate(_qdate(end))

    def step(self, steps: int) -> None:
        """The previous (−1) or next (+1) period of the same kind."""
        kind = self.period_kind()
        if kind == "custom":
            return
        self.anchor = shift(kind, self.anchor, steps)
        self._kind_changed()

    def period(self) -> tuple[date, date]:
        return period_range(self.period_kind(), self.anchor,
                            (_pydate(self.start.date()), _pydate(self.end.date())))

    # ---- computing ------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self._shown and self.stats is None and self.job is None:
            from qtpy.QtCore import QTimer

            QTimer.singleShot(0, self._first_run)  # once the window has placed its docks

    def _first_run(self) -> None:
        """The first computation, once the dock is seen: Qt 5 also shows a dock that is a tab behind
        another, and seconds of statistics nobody looks at would hold the desk's interpreter."""
        from app.ui.sight import WhenSeen, out_of_sight

        if self._shown or self.stats is not None or self.job is not None or self._torn:
            return
        if out_of_sight(self):
            if getattr(self, "_when_seen", None) is None:
                self._when_seen = WhenSeen(self, self._first_run)
            self._when_seen.arm()
            return
        self._shown = True
        self.run()

    def run(self) -> Job | None:
        """Compute the charts of the period as a job (None while one is running)."""
        if self.job is not None or self._torn or getattr(self.jobs, "closed", False):
            return None  # the window is closing: nothing more starts
        start, end = self.period()
        compute, tr = self.compute_fn, self.cat.tr
        self.job = job = Job(tr("统计 {start} 至 {end}", start=start.isoformat(), end=end.isoformat()),
                             lambda feedback: compute(start, end, feedback))
        self.progress.setValue(0)
        self.status.setText(tr("正在统计 {start} 至 {end}…", start=start.isoformat(), end=end.isoformat()))
        self._buttons()
        self.jobs.submit(job)
        return job

    def cancel(self) -> None:
        for job in (self.job, self.bulletin_job):
            if job is not None:
                job.cancel()

    def _progressed(self, job: Job) -> None:
        if job is self.job or job is self.bulletin_job:
            self.progress.setValue(int(job.fraction * 100))
            if job.message:
                self.status.setText(job.message)

    def _finished(self, job: Job) -> None:
        if job is self.bulletin_job:
            self._bulletin_finished(job)
            return
        if job is not self.job:
            return
        self.job, self.last_job = None, job
        tr = self.cat.tr
        if job.state is JobState.DONE:
            self.show_stats(job.result)
        elif job.state is JobState.FAILED and job.error is not None:
            self.status.setText(tr("统计失败：{error}", error=self.cat.error(job.error)))
        else:
            self.status.setText(tr("已取消：{title}", title=job.title))
        self.progress.setValue(0)
        self._buttons()

    def _buttons(self) -> None:
        busy = self.job is not None or self.bulletin_job is not None
        self.compute_button.setEnabled(self.job is None)
        self.bulletin_button.setEnabled(self.bulletin_job is None)
        self.tables_button.setEnabled(self.stats is not None)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)

    # ---- bulletin and exports -------------------------------------------------------------
    def _ask_path(self, suggested: str, filters: str) -> str | None:
        from qtpy.QtWidgets import QFileDialog

        path, _chosen = QFileDialog.getSaveFileName(self, self.cat.tr("保存为"), suggested, filters)
        return path or None

    def bulletin_month(self) -> date:
        """The first day of the month the bulletin covers: the month of the period's start."""
        return self.period()[0].replace(day=1)

    def build_bulletin(self, path: str | None = None) -> Job | None:
        """Ask where to save, then build the month's bulletin as a job (progress, cancel; a
        cancelled or failed build leaves no file). None when nothing was started."""
        if self.bulletin_fn is None or self.bulletin_job is not None:
            return None
        tr, month = self.cat.tr, self.bulletin_month()
        if month > self.today:
            self.status.setText(tr("{month} 尚未开始：无法为未来的月份生成简报", month=f"{month:%Y-%m}"))
            return None
        if path is None:
            path = self.ask_path(tr("简报-{month}.pdf", month=f"{month:%Y-%m}"), tr("PDF 文件 (*.pdf)"))
            if not path:
                return None
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        build = self.bulletin_fn
        self.bulletin_job = job = Job(tr("生成 {month} 简报", month=f"{month:%Y-%m}"),
                                      lambda feedback: build(month, path, feedback))
        self.progress.setValue(0)
        self.status.setText(tr("正在生成 {month} 简报…", month=f"{month:%Y-%m}"))
        self._buttons()
        self.jobs.submit(job)
        return job

    def _bulletin_finished(self, job: Job) -> None:
        self.bulletin_job, self.last_bulletin = None, job
        tr = self.cat.tr
        if job.state is JobState.DONE:
            built = job.result
            self.status.setText(tr("简报已生成：{path}（{pages} 页）", path=str(getattr(built, "path", "")),
                                   pages=getattr(built, "pages", "?")))
        elif job.state is JobState.FAILED and job.error is not None:
            self.status.setText(tr("生成简报失败：{error}", error=self.cat.error(job.error)))
        else:
            self.status.setText(tr("已取消：{title}（没有留下文件）", title=job.title))
        self.progress.setValue(0)
        self._buttons()

    def _export(self, what: str, rows: list[list[Any]], headers: list[str], suggested: str,
                path: str | None) -> None:
        from app.services.bulletin import export_table

        tr = self.cat.tr
        if path is None:
            path = self.ask_path(suggested, tr("Excel 工作簿 (*.xlsx);;CSV 文件 (*.csv)"))
            if not path:
                return
        if not path.lower().endswith((".xlsx", ".csv")):
            path += ".xlsx"
        target = path

        def write() -> Any:
            return export_table(rows, target, headers=headers, title=what[:31])

        def done(written: Any) -> None:
            self.status.setText(tr("已导出 {n} 行到 {path}", n=len(rows), path=str(written)))

        def failed(exc: BaseException) -> None:
            self.status.setText(tr("导出失败：{error}", error=self.cat.error(exc)))

        if self.runner is None:
            try:
                done(write())
            except Exception as exc:  # noqa: BLE001 - shown to the user, as the worker would
                failed(exc)
            return
        self.runner.run_in_thread(write, done, failed, key=EXPORT_KEY)

    def export_cases(self, path: str | None = None) -> None:
        """Export exactly the listed cases (the figure clicked, late only if ticked) to .xlsx or CSV."""
        if not self.cases:
            return
        tr = self.cat.tr
        title = self.cases_title.text()
        rows: list[list[Any]] = [[n + 1, number, title] for n, number in enumerate(self.cases)]
        self._export(tr("案卷"), rows, [tr("序号"), tr("案卷号"), tr("图形")], tr("案卷清单.xlsx"), path)

    def export_tables(self, path: str | None = None) -> None:
        """Export every chart's figures (chart, series, item, value, cases) to .xlsx or CSV."""
        if self.stats is None:
            return
        from app.services.bulletin import statistics_table

        tr = self.cat.tr
        headers, rows = statistics_table(self.stats, self.cat.text, lambda label: label_text(self.cat, label))
        start, end = self.stats.start, self.stats.end
        self._export(tr("统计"), rows, headers, tr("统计表-{start}-{end}.xlsx", start=start.isoformat(),
                                                  end=end.isoformat()), path)

    def show_stats(self, stats: Statistics) -> None:
        self.stats = stats
        for key, view in self.views.items():
            view.show_chart(stats.charts[key])
        tr = self.cat.tr
        text = tr("{start} 至 {end}：上报 {reports} 件，结案 {closures} 件", start=stats.start.isoformat(),
                  end=stats.end.isoformat(), reports=stats.reports, closures=stats.closures)
        if stats.empty:
            text += tr("；该时间段没有案卷")
        elif stats.partial:
            text += tr("；时间段尚未结束，数字之后还会变化")
        self.status.setText(text)
        self.apply_map()

    # ---- drilling -------------------------------------------------------------------------
    def pick(self, chart: str, series: int, index: int) -> None:
        """List the cases behind bar ``index`` of ``series`` of ``chart``."""
        if self.stats is None:
            return
        c = self.stats.charts[chart]
        bar = c.series[series].bars[index]
        self.bar = bar
        head = f"{self.cat.text(c.title)} · {label_text(self.cat, bar.label)}"
        if len(c.series) > 1:
            head += f" · {self.cat.text(c.series[series].name)}"
        if bar.note is not None:
            head += f"（{self.cat.text(bar.note)}）"
        self.cases_title.setText(head)
        self.cases_title.setToolTip(head)
        self.late_only.blockSignals(True)
        self.late_only.setChecked(False)
        self.late_only.setEnabled(bool(bar.late))
        self.late_only.blockSignals(False)
        if bar.cases is None and bar.query is not None and self.month_cases is not None:
            action, first, last = bar.query
            fetch = self.month_cases
            self._fill([])
            if self.runner is not None:
                self.runner.run_in_thread(lambda: fetch(action, first, last), lambda numbers: self._drilled(bar, numbers),
                                          lambda exc: self.cases_title.setText(self.cat.error(exc)), key=DRILL_KEY)
            return
        self._list()

    def _drilled(self, bar: Bar, numbers: list[str]) -> None:
        if bar is self.bar:
            self._fill(numbers)

    def _list(self) -> None:
        bar = self.bar
        if bar is None or bar.cases is None:
            return
        self._fill(list(bar.late) if self.late_only.isChecked() else list(bar.cases))

    def _fill(self, numbers: list[str]) -> None:
        self.cases = numbers
        self.table.setRowCount(len(numbers))
        for r, number in enumerate(numbers):
            first = QTableWidgetItem(str(r + 1))
            first.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))
            self.table.setItem(r, 0, first)
            self.table.setItem(r, 1, QTableWidgetItem(number))
        self.table.resizeColumnToContents(0)
        self.map_button.setEnabled(bool(numbers) and self.points is not None and self.on_hits is not None)
        self.export_button.setEnabled(bool(numbers))
        self.map_button.setText(self.cat.tr("在地图上显示 {n} 件", n=len(numbers)) if numbers
                                else self.cat.tr("在地图上显示"))

    def show_on_map(self) -> None:
        """Mark the listed cases on the map (the archive's hits layer), read in a worker."""
        if not self.cases or self.points is None or self.on_hits is None:
            return
        numbers, points, on_hits = list(self.cases), self.points, self.on_hits

        def shown(rows: list[tuple[str, float, float]]) -> None:
            on_hits([(x, y) for _n, x, y in rows])
            self.status.setText(self.cat.tr("已在地图上标出 {n} 件", n=len(rows)))

        if self.runner is None:
            shown(points(numbers))
            return
        self.runner.run_in_thread(lambda: points(numbers), shown, lambda exc: self.status.setText(self.cat.error(exc)),
                                  key=POINTS_KEY)

    def open_row(self, row: int) -> None:
        """Make listed case ``row`` the current case (detail, map), read in a worker."""
        if not 0 <= row < len(self.cases) or self.find is None or self.state is None:
            return
        number, find, state = self.cases[row], self.find, self.state

        def found(summary: Any) -> None:
            if summary is not None:
                state.select_found(summary)

        if self.runner is None:
            found(find(number))
            return
        self.runner.run_in_thread(lambda: find(number), found, lambda exc: self.status.setText(self.cat.error(exc)),
                                  key=OPEN_KEY)

    # ---- map ------------------------------------------------------------------------------
    def grid_colours(self) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """The colours of the map mode chosen ({grid code: colour}, legend)."""
        mode, stats = self.map_mode.currentData(), self.stats
        if stats is None or mode == "none":
            return {}, []
        if mode == "density":
            return density(stats)
        colours = {g.code: g.colour for g in stats.grids.values() if g.colour}
        grades = sorted({(g.grade, g.colour) for g in stats.grids.values() if g.grade and g.colour})
        return colours, [(colour, grade) for grade, colour in grades]

    def apply_map(self) -> None:
        if self.shade is None or self.unshade is None:
            return
        colours, legend = self.grid_colours()
        if self.map_mode.currentData() == "none" or self.stats is None:
            self.unshade()
        else:
            self.shade(colours, legend)

    def teardown(self) -> None:
        self._torn = True  # a first run still queued (shown, or waiting to be seen) starts nothing
        self.cancel()
        for key in (DRILL_KEY, POINTS_KEY, OPEN_KEY, EXPORT_KEY):
            if self.runner is not None:
                self.runner.cancel(key)
        with contextlib.suppress(TypeError, RuntimeError):
            self.job_events.progressed.disconnect(self._progressed)
            self.job_events.finished.disconnect(self._finished)
        if self.unshade is not None:
            with contextlib.suppress(RuntimeError):
                self.unshade()


def density(stats: Statistics) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Grid colours by reports in the period: up to five equal classes, yellow to red (ColorBrewer YlOrRd)."""
    ramp = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
    counts = {g.code: g.reports for g in stats.grids.values() if g.reports}
    top = max(counts.values(), default=0)
    if not top:
        return {}, []
    size = max(1, -(-top // len(ramp)))
    colours = {code: ramp[min(len(ramp) - 1, (n - 1) // size)] for code, n in counts.items()}
    legend = [(ramp[i], f"{lo}" if lo == min(top, lo + size - 1) else f"{lo}–{min(top, lo + size - 1)}")
              for i, lo in enumerate(range(1, top + 1, size))]
    return colours, legend


__all__ = ["STATS_DOCK", "StatsDock", "density"]
