"""The base-data import and export dialogs (issue 15, item 3): binding-neutral qtpy, no QGIS.

:class:`ImportDialog`: pick the kind and a file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, CSV, xlsx),
see its first rows and the field mapping (each field's column can be changed), run the validation as a
job (progress, cancel) and read its report, then write as another job (progress, cancel: the write is one
transaction, so a cancel leaves the store as it was). Nothing is written before the report was shown.

:class:`ExportDialog`: pick the kind, the format and the file; cases can be narrowed to the rows the
queue shows or the archive's current query. The export runs as a job.

Both talk to the services through :class:`BaseDataPort` (``app.services.base_import``): tests and the GUI
root pass the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.i18n import Catalogue
from app.jobs import Job, JobRunner, JobState

#: kind -> Chinese title.
KINDS = {"grids": "单元网格", "components": "部件", "departments": "部门", "roads": "道路", "cases": "历史案卷"}
EXPORT_KINDS = {"grids": "单元网格", "components": "部件", "departments": "部门", "roads": "道路", "cases": "案卷"}
FORMATS = {"gpkg": "GeoPackage (.gpkg)", "shp": "Shapefile (.shp)", "geojson": "GeoJSON (.geojson)",
           "csv": "CSV (.csv)", "xlsx": "Excel (.xlsx)"}
FILE_FILTER = "GIS 文件 (*.gpkg *.shp *.geojson *.json *.fgb *.csv *.xlsx)"
CASE_SCOPES = {"all": "全部案卷", "queue": "队列当前显示的案卷", "archive": "案卷库当前查询的案卷"}
PREVIEW_ROWS = 20


class BaseDataPort:
    """The services the dialogs call (``app.services.base_import``), over one store and actor."""

    def __init__(self, store: Any, actor: Any) -> None:
        self.store, self.actor = store, actor

    def preview(self, path: str, kind: str, layer: str | None, encoding: str | None) -> Any:
        from app.services import base_import as bi

        return bi.preview(path, kind, layer=layer, encoding=encoding, limit=PREVIEW_ROWS)

    def validate(self, path: str, kind: str, options: dict[str, Any], check: Callable[[], None]) -> Any:
        from app.services import base_cases
        from app.services import base_import as bi

        source = bi.read_source(path, kind, check=check, **options)
        check()
        return (base_cases.validate if kind == "cases" else bi.validate)(self.store, source)

    def write(self, report: Any, on_error: str, progress: Callable[[int, int], None]) -> Any:
        from app.services import base_cases
        from app.services import base_import as bi

        if on_error == "skip":
            bi.write_rejects(report)
        with bi.discard_rejects_on_failure(report):  # a failed or cancelled write leaves no reject file
            if report.source.kind == "cases":
                return base_cases.write(self.store, report, self.actor, progress=progress)
            return bi.write(self.store, report, actor=self.actor, progress=progress)

    def export(self, kind: str, path: str, fmt: str, filters: dict[str, Any], check: Callable[[], None]) -> int:
        from app.services import base_import as bi

        check()
        return bi.export(self.store, kind, path, fmt, filters=filters)


class _JobPanel(QWidget):
    """A progress bar with a message and a cancel button for the dialog's one running job."""

    def __init__(self, catalogue: Catalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cat = catalogue
        self.bar = QProgressBar(objectName="baseDataProgress")
        self.bar.setRange(0, 1000)
        self.message = QLabel(objectName="baseDataJobMessage")
        self.cancel_button = QPushButton(catalogue.tr("取消"), objectName="baseDataCancel")
        self.cancel_button.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.message, 2)
        row.addWidget(self.cancel_button)
        self.job: Job | None = None
        self.cancel_button.clicked.connect(self.cancel)

    def start(self, job: Job) -> None:
        self.job = job
        self.bar.setValue(0)
        self.message.setText(job.title)
        self.cancel_button.setEnabled(True)

    def progressed(self, job: Job) -> None:
        if job is self.job:
            self.bar.setValue(int(job.fraction * 1000))
            if job.message:
                self.message.setText(job.message)

    def done(self) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.message.setText(self.cat.tr("正在取消…"))


class _JobDialog(QDialog):
    """What both dialogs share: one job at a time, delivered on the GUI thread through ``events``."""

    def __init__(self, runner: JobRunner, events: Any, catalogue: Catalogue, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.runner, self.events, self.cat = runner, events, catalogue
        self.panel = _JobPanel(catalogue)
        self._after: Callable[[Job], None] | None = None
        events.progressed.connect(self.panel.progressed)
        events.finished.connect(self._finished)

    def run(self, title: str, work: Callable[[Any], Any], after: Callable[[Job], None]) -> Job:
        job = Job(title, work)
        self._after = after
        self.panel.start(job)
        self._busy(True)
        self.runner.submit(job)
        return job

    def _finished(self, job: Job) -> None:
        if job is not self.panel.job:
            return
        self.panel.done()
        self._busy(False)
        after, self._after = self._after, None
        if job.state is JobState.CANCELLED:
            self.panel.message.setText(self.cat.tr("已取消：未写入任何数据"))
            return
        if job.state is JobState.FAILED:
            self.panel.message.setText(self.cat.error(job.error))
            self.failed(job)
            return
        self.panel.bar.setValue(1000)
        if after is not None:
            after(job)

    def failed(self, job: Job) -> None:
        """A failed job (the message is shown already)."""

    def _busy(self, busy: bool) -> None:
        """Enable or disable the dialog's own buttons while a job runs."""

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        if self.panel.job is not None:
            self.panel.cancel()
        self.events.progressed.disconnect(self.panel.progressed)
        self.events.finished.disconnect(self._finished)
        super().closeEvent(event)


class ImportDialog(_JobDialog):
    """Import with preview, field mapping, the validation report, then the write (see the module)."""

    def __init__(self, port: BaseDataPort, runner: JobRunner, events: Any, catalogue: Catalogue | None = None,
                 parent: QWidget | None = None) -> None:
        cat = catalogue or Catalogue()
        super().__init__(runner, events, cat, parent)
        tr = cat.tr
        self.port = port
        self.setObjectName("baseDataImport")
        self.setWindowTitle(tr("导入基础数据"))
        self.kind = QComboBox(objectName="importKind")
        for key, title in KINDS.items():
            self.kind.addItem(tr(title), key)
        self.path = QLineEdit(objectName="importPath")
        browse = QPushButton(tr("浏览…"), objectName="importBrowse")
        browse.clicked.connect(self.browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.layer = QLineEdit(objectName="importLayer")
        self.layer.setPlaceholderText(tr("第一个图层"))
        self.crs = QLineEdit(objectName="importCrs")
        self.crs.setPlaceholderText(tr("文件自带（没有时必填，如 4549 或 4490）"))
        self.encoding = QComboBox(objectName="importEncoding")
        self.encoding.setEditable(True)
        for enc in ("", "UTF-8", "GBK", "GB18030"):
            self.encoding.addItem(enc)
        self.on_error = QComboBox(objectName="importOnError")
        self.on_error.addItem(tr("有问题时不写入任何数据"), "abort")
        self.on_error.addItem(tr("只写入合格的行，问题行写入拒收文件"), "skip")
        form = QFormLayout()
        form.addRow(tr("数据类型"), self.kind)
        form.addRow(tr("文件"), file_row)
        form.addRow(tr("图层"), self.layer)
        form.addRow(tr("源坐标系 EPSG"), self.crs)
        form.addRow(tr("Shapefile 编码"), self.encoding)
        form.addRow(tr("有问题时"), self.on_error)
        self.preview_button = QPushButton(tr("预览"), objectName="importPreview")
        self.validate_button = QPushButton(tr("校验"), objectName="importValidate")
        self.write_button = QPushButton(tr("写入"), objectName="importWrite")
        self.write_button.setEnabled(False)
        self.validate_button.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (self.preview_button, self.validate_button, self.write_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.rows = QTableWidget(objectName="importRows")
        self.rows.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.mapping = QTableWidget(0, 2, objectName="importMapping")
        self.mapping.setHorizontalHeaderLabels([tr("字段"), tr("读自列")])
        self.report = QPlainTextEdit(objectName="importReport")
        self.report.setReadOnly(True)
        self.tabs = QTabWidget(objectName="importTabs")
        self.tabs.addTab(self.rows, tr("前 {n} 行", n=PREVIEW_ROWS))
        self.tabs.addTab(self.mapping, tr("字段对应"))
        self.tabs.addTab(self.report, tr("校验报告"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.panel)
        self.resize(900, 600)
        self.last_report: Any = None
        self.written: int | None = None
        self.preview_button.clicked.connect(self.preview)
        self.validate_button.clicked.connect(self.validate)
        self.write_button.clicked.connect(self.write)
        for w in (self.path, self.layer, self.crs):
            w.textChanged.connect(self._stale)
        self.kind.currentIndexChanged.connect(self._stale)
        self.encoding.currentTextChanged.connect(self._stale)

    # -- steps ------------------------------------------------------------------------------------
    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.cat.tr("选择要导入的文件"), "", self.cat.tr(FILE_FILTER))
        if path:
            self.path.setText(path)
            self.preview()

    def preview(self) -> bool:
        """The file's first rows and the proposed mapping (quick: only the first rows are read)."""
        self._stale()
        try:
            columns, rows, mapping = self.port.preview(self.path.text().strip(), self.kind.currentData(),
                                                       self._layer(), self._encoding())
        except Exception as exc:  # noqa: BLE001 (one message, never a traceback)
            self.panel.message.setText(self.cat.error(exc))
            return False
        self.rows.setColumnCount(len(columns))
        self.rows.setRowCount(len(rows))
        self.rows.setHorizontalHeaderLabels(columns)
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                self.rows.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
        self.mapping.setRowCount(len(mapping))
        for r, (key, column) in enumerate(mapping.items()):
            item = QTableWidgetItem(key)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.mapping.setItem(r, 0, item)
            combo = QComboBox()
            combo.setObjectName(f"map_{key}")
            combo.addItem("", None)
            for col in columns:
                combo.addItem(col, col)
            combo.setCurrentIndex(combo.findData(column) if column else 0)
            combo.currentIndexChanged.connect(self._report_stale)
            self.mapping.setCellWidget(r, 1, combo)
        self.validate_button.setEnabled(True)
        self.panel.message.setText(self.cat.tr("已读取前 {n} 行；请核对字段对应后校验", n=len(rows)))
        return True

    def overrides(self) -> dict[str, str]:
        """The mapping as the user left it: {field: column}."""
        out = {}
        for r in range(self.mapping.rowCount()):
            combo = self.mapping.cellWidget(r, 1)
            if combo is not None and combo.currentData():
                out[self.mapping.item(r, 0).text()] = combo.currentData()
        return out

    def set_column(self, key: str, column: str | None) -> None:
        """Read ``key`` from ``column`` (None: from no column)."""
        combo = self.findChild(QComboBox, f"map_{key}")
        combo.setCurrentIndex(combo.findData(column) if column else 0)

    def validate(self) -> Job | None:
        """Read every row and check it (a job); the report is shown, nothing is written."""
        try:
            options = {"layer": self._layer(), "encoding": self._encoding(), "overrides": self.overrides(),
                       "source_crs": self._crs()}
        except ValueError:
            self.panel.message.setText(self.cat.tr("源坐标系应为 EPSG 代码（数字），例如 4549"))
            return None
        path, kind, port = self.path.text().strip(), self.kind.currentData(), self.port

        def work(feedback: Any) -> Any:
            feedback.progress(0.0, self.cat.tr("正在读取和校验…"))
            return port.validate(path, kind, options, feedback.check)

        self.last_report = None
        self.write_button.setEnabled(False)
        return self.run(self.cat.tr("校验 {file}", file=Path(path).name), work, self._validated)

    def _validated(self, job: Job) -> None:
        report = self.last_report = job.result
        self.report.setPlainText(report.text(self.cat.tr))
        self.tabs.setCurrentWidget(self.report)
        can_write = bool(report.good) and (report.ok or self.on_error.currentData() == "skip")
        self.write_button.setEnabled(can_write)
        self.panel.message.setText(
            self.cat.tr("校验完成：合格 {good} 条，有问题 {bad} 条", good=len(report.good), bad=len(report.bad)))

    def write(self) -> Job | None:
        """Write the checked rows (a job, one transaction; a cancel writes nothing)."""
        report, port, on_error = self.last_report, self.port, self.on_error.currentData()
        if report is None:
            return None

        def work(feedback: Any) -> Any:
            def progress(done: int, total: int) -> None:
                feedback.progress(done / max(total, 1), self.cat.tr("已写入 {done}/{total} 条", done=done, total=total))
                feedback.check()

            feedback.progress(0.0, self.cat.tr("正在写入…"))
            return port.write(report, on_error, progress)

        self.write_button.setEnabled(False)
        return self.run(self.cat.tr("写入 {file}", file=report.source.path.name), work, self._written)

    def _written(self, job: Job) -> None:
        self.written = int(job.result)
        report = self.last_report
        text = self.cat.tr("已写入 {n} 条", n=self.written)
        if report is not None and report.rejects_path is not None:
            text += "；" + self.cat.tr("未写入的 {n} 条及原因见 {path}", n=len(report.bad), path=str(report.rejects_path))
        self.panel.message.setText(text)
        self.report.appendPlainText("\n" + text)
        self.last_report = None

    # -- helpers ----------------------------------------------------------------------------------
    def _layer(self) -> str | None:
        return self.layer.text().strip() or None

    def _encoding(self) -> str | None:
        return self.encoding.currentText().strip() or None

    def _crs(self) -> int | None:
        text = self.crs.text().strip().upper().removeprefix("EPSG:")
        return int(text) if text else None

    def _stale(self, *_: Any) -> None:
        self.validate_button.setEnabled(False)
        self._report_stale()

    def _report_stale(self, *_: Any) -> None:
        self.last_report = None
        self.write_button.setEnabled(False)

    def _busy(self, busy: bool) -> None:
        for b in (self.preview_button, self.validate_button):
            b.setEnabled(not busy)
        if busy:
            self.write_button.setEnabled(False)


class ExportDialog(_JobDialog):
    """Export a kind to a file (see the module); cases by the queue's rows or the archive's query."""

    def __init__(self, port: BaseDataPort, runner: JobRunner, events: Any, catalogue: Catalogue | None = None,
                 parent: QWidget | None = None, *, queue_ids: Callable[[], Sequence[int]] | None = None,
                 archive_query: Callable[[], str] | None = None) -> None:
        cat = catalogue or Catalogue()
        super().__init__(runner, events, cat, parent)
        tr = cat.tr
        self.port, self.queue_ids, self.archive_query = port, queue_ids, archive_query
        self.setObjectName("baseDataExport")
        self.setWindowTitle(tr("导出基础数据"))
        self.kind = QComboBox(objectName="exportKind")
        for key, title in EXPORT_KINDS.items():
            self.kind.addItem(tr(title), key)
        self.format = QComboBox(objectName="exportFormat")
        for key, title in FORMATS.items():
            self.format.addItem(title, key)
        self.scope = QComboBox(objectName="exportScope")
        for key, title in CASE_SCOPES.items():
            if (key == "queue" and queue_ids is None) or (key == "archive" and archive_query is None):
                continue
            self.scope.addItem(tr(title), key)
        self.path = QLineEdit(objectName="exportPath")
        browse = QPushButton(tr("浏览…"), objectName="exportBrowse")
        browse.clicked.connect(self.browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(tr("数据类型"), self.kind)
        form.addRow(tr("格式"), self.format)
        form.addRow(tr("案卷范围"), self.scope)
        form.addRow(tr("文件"), file_row)
        self.export_button = QPushButton(tr("导出"), objectName="exportRun")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.export_button)
        layout.addWidget(self.panel)
        self.exported: int | None = None
        self.export_button.clicked.connect(self.export)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.format.currentIndexChanged.connect(self._suffix)
        self._kind_changed()

    def browse(self) -> None:
        fmt = self.format.currentData()
        path, _ = QFileDialog.getSaveFileName(self, self.cat.tr("导出到"), f"{self.kind.currentData()}.{fmt}",
                                              FORMATS[fmt])
        if path:
            self.path.setText(path)

    def filters(self) -> dict[str, Any]:
        """The cases' filters of the chosen scope (the queue's shown rows or the archive's query)."""
        scope = self.scope.currentData()
        if self.kind.currentData() != "cases" or scope == "all":
            return {}
        if scope == "queue" and self.queue_ids is not None:
            return {"ids": list(self.queue_ids())}
        if scope == "archive" and self.archive_query is not None:
            return {"query": self.archive_query() or None}
        return {}

    def export(self) -> Job | None:
        path = self.path.text().strip()
        if not path:
            self.panel.message.setText(self.cat.tr("请选择要导出到的文件"))
            return None
        kind, fmt, filters, port = self.kind.currentData(), self.format.currentData(), self.filters(), self.port

        def work(feedback: Any) -> int:
            feedback.progress(0.0, self.cat.tr("正在导出…"))
            return port.export(kind, path, fmt, filters, feedback.check)

        return self.run(self.cat.tr("导出 {file}", file=Path(path).name), work, self._exported)

    def _exported(self, job: Job) -> None:
        self.exported = int(job.result)
        self.panel.message.setText(self.cat.tr("已导出 {n} 条到 {path}", n=self.exported, path=self.path.text()))

    def _kind_changed(self, *_: Any) -> None:
        self.scope.setEnabled(self.kind.currentData() == "cases")
        self._suffix()

    def _suffix(self, *_: Any) -> None:
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix("." + self.format.currentData())))

    def _busy(self, busy: bool) -> None:
        self.export_button.setEnabled(not busy)


__all__ = ["BaseDataPort", "CASE_SCOPES", "EXPORT_KINDS", "ExportDialog", "FORMATS", "ImportDialog", "KINDS"]
