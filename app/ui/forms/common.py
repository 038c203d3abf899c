"""Pieces every form shares: the message banner, field error labels and the one-request submitter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from qtpy.QtWidgets import QLabel, QWidget

from app.services.errors import ConflictError, ServiceError, ValidationError
from app.ui.tasks import TaskRunner

_BANNER_STYLES = {
    "error": "background:#fde7e9; color:#8e1b1b; border:1px solid #e0a3a8;",
    "warn": "background:#fff6d6; color:#6b4e00; border:1px solid #e8cf7a;",
    "info": "background:#e3f1e5; color:#1b5e20; border:1px solid #9fcca5;",
}


def error_text(exc: BaseException) -> str:
    """The operator's message for a failed request: what went wrong and what to do."""
    if isinstance(exc, ConflictError):
        return f"{exc}。你填写的内容已保留，刷新案卷后可再次提交。"
    if isinstance(exc, ServiceError):
        return str(exc)
    name = type(exc).__name__
    if name in {"OperationalError", "InterfaceError", "DisconnectionError", "StoreError", "TimeoutError"}:
        return (f"数据库连接出错（{exc.__class__.__name__}）：请求没有完成，你填写的内容已保留；"
                "请检查网络或数据库后再提交。")
    return f"提交失败：{exc}。你填写的内容已保留，可修改后再试。"


def error_field(exc: BaseException) -> str | None:
    """The field a ValidationError names (None for other errors)."""
    return exc.field if isinstance(exc, ValidationError) else None


class Banner(QLabel):
    """A coloured message line at the top of a form (hidden when empty)."""

    def __init__(self, parent: QWidget | None = None, object_name: str = "formBanner") -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text`` as an error, warn or info message."""
        self.kind = kind
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ {_BANNER_STYLES[kind]} padding:5px 8px; border-radius:3px; }}")
        self.show()

    def clear_message(self) -> None:
        self.kind = ""
        self.clear()
        self.hide()


class FieldError(QLabel):
    """A small red message under one field."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"error_{name}")
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { color:#b71c1c; font-size:10pt; }")
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(text)
        self.show()

    def clear_error(self) -> None:
        self.clear()
        self.hide()


class Submitter:
    """Sends one request at a time: the buttons stay disabled until the answer arrives.

    A second click while a request runs is ignored here (and the services refuse a stale
    version anyway), so a double-click on 派遣 dispatches once.
    """

    def __init__(self, runner: TaskRunner, buttons: Iterable[QWidget] = ()) -> None:
        self.runner = runner
        self.buttons = list(buttons)
        self.busy = False
        self.requests = 0

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None]) -> bool:
        """Run ``fn`` in a worker unless one is running; False when ignored."""
        if self.busy:
            return False
        self.busy = True
        self.requests += 1
        self._enable(False)

        def done(result: Any) -> None:
            self._finish()
            on_done(result)

        def failed(exc: BaseException) -> None:
            self._finish()
            on_error(exc)

        self.runner.run_in_thread(fn, done, failed)
        return True

    def _finish(self) -> None:
        self.busy = False
        self._enable(True)

    def _enable(self, on: bool) -> None:
        for button in self.buttons:
            button.setEnabled(on)
