"""What every page of the administrator's workspace shares: a status line, calls in a worker, and the
change dialog (the dry run's diff shown, the reason asked, before anything is written).

Pages never read or write the store themselves: they call the services (app/services/…) in a worker
of the window's :class:`~app.ui.tasks.TaskRunner` and show the answer, or the service's message in
the user's language, on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from qtpy.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.i18n import Catalogue
from app.ui.plain import PlainLabel, line
from app.ui.tasks import TaskRunner

_ERROR_STYLE = "color: #b3261e;"
#: Longest reason accepted (the services refuse longer ones too).
MAX_REASON = 1000


class AdminPage(QWidget):
    """A page: ``status`` says what happened (errors in red); :meth:`call` runs a service in a worker."""

    def __init__(self, runner: TaskRunner, catalogue: Catalogue, name: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.runner, self.cat = runner, catalogue
        self.status = PlainLabel(objectName=f"{name}Status", max_chars=2000, max_lines=8)
        self.busy = False
        self.loaded = False  # read once when first shown
        self.dialog: QDialog | None = None  # the dialog open (tests drive it)
        self.keys: set[str] = {f"{name}.departments"}  # the runner keys used (cancelled at teardown)

    def tr(self, text: Any, **values: Any) -> str:
        return self.cat.tr(text, **values)

    def say(self, text: Any, *, error: bool = False) -> None:
        """Show ``text`` (a Msg or a source string, translated) in the status line."""
        self.status.setText(self.cat.text(text) if not isinstance(text, BaseException) else self.cat.error(text))
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setProperty("error", error)

    def call(self, key: str, fn: Callable[[], Any], done: Callable[[Any], None],
             failed: Callable[[BaseException], None] | None = None) -> None:
        """``fn()`` in a worker, then ``done(result)`` on the GUI thread; an error is shown in red
        (or handed to ``failed``)."""
        self.busy = True
        self._busy_changed()

        def ok(result: Any) -> None:
            self.busy = False
            self._busy_changed()
            done(result)

        def bad(exc: BaseException) -> None:
            self.busy = False
            self._busy_changed()
            if failed is not None:
                failed(exc)
            else:
                self.say(exc, error=True)

        self.keys.add(f"{self.objectName()}.{key}")
        self.runner.run_in_thread(fn, ok, bad, key=f"{self.objectName()}.{key}")

    def teardown(self) -> None:
        """Drop the answers still outstanding (the page is going away)."""
        for key in self.keys:
            self.runner.cancel(key)

    def _busy_changed(self) -> None:
        """Pages enable and disable their buttons here."""

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self.loaded:
            self.loaded = True
            self.reload()

    def reload(self) -> None:
        """Read the page's data again (in a worker)."""


def table(name: str, headers: Iterable[str]) -> QTableWidget:
    """A read-only table of whole rows."""
    headers = list(headers)
    widget = QTableWidget(0, len(headers), objectName=name)
    widget.setHorizontalHeaderLabels(headers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setAlternatingRowColors(True)
    widget.setWordWrap(False)
    widget.verticalHeader().hide()
    widget.horizontalHeader().setStretchLastSection(True)
    return widget


def fill(widget: QTableWidget, rows: Iterable[Iterable[Any]]) -> None:
    """Replace the table's rows (cells as plain text, one line each)."""
    rows = [list(r) for r in rows]
    widget.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            text = "" if value is None else str(value)
            item = QTableWidgetItem(line(text, 200))
            if len(text) > 40:
                item.setToolTip(line(text, 1500))
            widget.setItem(i, j, item)
    widget.resizeColumnsToContents()


class ChangeDialog(QDialog):
    """A change before it is made: what it changes (the dry run's diff, nothing written yet) and
    why (required: recorded in the configuration history). 应用 is enabled once a reason is given."""

    def __init__(self, title: str, lines: Iterable[str], catalogue: Catalogue, parent=None) -> None:
        super().__init__(parent)
        tr = catalogue.tr
        self.setObjectName("adminChangeDialog")
        self.setWindowTitle(title)
        self.diff = QPlainTextEdit(objectName="adminChangeDiff")
        self.diff.setReadOnly(True)
        self.diff.setPlainText("\n".join(lines))
        self.reason_edit = QLineEdit(objectName="adminChangeReason")
        self.reason_edit.setMaxLength(MAX_REASON)
        self.reason_edit.setPlaceholderText(tr("例如：依据国务院办公厅通知录入"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(tr("应用"))
        self.ok_button.setObjectName("adminChangeApply")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("将要做的修改（预览，尚未保存）：")))
        layout.addWidget(self.diff, 1)
        layout.addWidget(QLabel(tr("修改原因（必填，记入配置变更记录）：")))
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(self._enable)
        self._enable()
        self.resize(640, 420)

    def _enable(self) -> None:
        self.ok_button.setEnabled(bool(self.reason().strip()))

    def reason(self) -> str:
        return self.reason_edit.text().strip()


def ask_change(page: AdminPage, title: str, lines: Iterable[str], apply: Callable[[str], None]) -> ChangeDialog:
    """Open the change dialog over ``page`` (window-modal); ``apply(reason)`` when accepted."""
    dialog = ChangeDialog(title, lines, page.cat, page)
    page.dialog = dialog

    def accepted() -> None:
        page.dialog = None
        apply(dialog.reason())

    def rejected() -> None:
        page.dialog = None
        page.say("未修改（已取消）")

    dialog.accepted.connect(accepted)
    dialog.rejected.connect(rejected)
    dialog.open()
    return dialog


__all__ = ["AdminPage", "ChangeDialog", "ask_change", "fill", "table"]
