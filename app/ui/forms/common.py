"""Pieces every form shares: the message banner, field error labels, the one-request submitter,
the claim held while a form is open and the conflict panel (who changed the case, 刷新后重试)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.i18n import Catalogue
from app.services.claims import RENEW_EVERY_S
from app.services.errors import ConflictError, ServiceError, ValidationError
from app.ui import plain
from app.ui.claim_banner import ClaimBanner, ClaimKeeper
from app.ui.tasks import TaskRunner

#: A banner or field error shows at most this many characters (a message may quote long input).
MESSAGE_CHARS = 600
_BANNER_STYLES = {
    "error": "background:#fde7e9; color:#8e1b1b; border:1px solid #e0a3a8;",
    "warn": "background:#fff6d6; color:#6b4e00; border:1px solid #e8cf7a;",
    "info": "background:#e3f1e5; color:#1b5e20; border:1px solid #9fcca5;",
}


def error_text(exc: BaseException, catalogue: Catalogue | None = None) -> str:
    """The operator's message for a failed request, in the catalogue's language: what went wrong
    and what to do (errors carrying a message, ``exc.msg``, are translated; others are quoted)."""
    cat = catalogue or Catalogue()
    if isinstance(exc, ConflictError):
        return cat.tr("{error}。你填写的内容已保留，刷新案卷后可再次提交。", error=cat.error(exc))
    if isinstance(exc, ServiceError):
        return cat.error(exc)
    name = type(exc).__name__
    if name in {"OperationalError", "InterfaceError", "DisconnectionError", "StoreError", "TimeoutError"}:
        return cat.tr("数据库连接出错（{name}）：请求没有完成，你填写的内容已保留；请检查网络或数据库后再提交。",
                      name=exc.__class__.__name__)
    return cat.tr("提交失败：{error}。你填写的内容已保留，可修改后再试。", error=cat.error(exc))


def error_field(exc: BaseException) -> str | None:
    """The field a ValidationError names (None for other errors)."""
    return exc.field if isinstance(exc, ValidationError) else None


class Banner(QLabel):
    """A coloured message line at the top of a form (hidden when empty)."""

    def __init__(self, parent: QWidget | None = None, object_name: str = "formBanner") -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        plain.plain_text_label(self)  # a message may quote what was typed: never HTML
        self.setWordWrap(True)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text`` as an error, warn or info message."""
        self.kind = kind
        self.setText(plain.display(text, MESSAGE_CHARS, 12))
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
        plain.plain_text_label(self)
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { color:#b71c1c; font-size:10pt; }")
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(plain.display(text, MESSAGE_CHARS, 6))
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


def hold_claim(dialog: QDialog, desk, actor, runner: TaskRunner, case_id: int,
               action) -> tuple[ClaimBanner, ClaimKeeper | None]:
    """Claim ``case_id`` for ``action`` while ``dialog`` is open (renewed in workers, released when it
    finishes); the returned banner shows who else holds it. Claims are advisory: nothing is blocked."""
    banner = ClaimBanner(dialog, getattr(dialog, "cat", None))
    if actor is None or not hasattr(desk, "claim"):
        return banner, None  # a desk without claims (read-only, or a stand-in): nothing to hold
    keeper = ClaimKeeper(lambda cid: desk.claim(actor, cid, action), lambda cid: desk.release(actor, cid), runner,
                         banner.show_claim, renew_ms=RENEW_EVERY_S * 1000, parent=dialog)
    dialog.finished.connect(lambda _code: keeper.drop())
    keeper.hold(case_id)
    return banner, keeper


class ConflictPanel(QWidget):
    """Shown under a conflict error: who did what to the case since the form read it (loaded in a
    worker) and 刷新后重试, which takes the case's current version without touching the inputs.

    ``version()`` is the version the form saves against; ``on_reloaded(case)`` takes the fresh
    CaseSummary (the form stores its version and updates its title).
    """

    KEY = "forms.conflict"

    def __init__(self, runner: TaskRunner, desk, case_id: int, version: Callable[[], int | None],
                 on_reloaded: Callable[[Any], None], banner: Banner, catalogue: Catalogue | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictPanel")
        self.runner, self.desk, self.case_id = runner, desk, case_id
        self._version, self._on_reloaded, self._banner = version, on_reloaded, banner
        self.cat = catalogue or Catalogue()
        self._key = f"{self.KEY}.{id(self)}"
        self.details = QLabel(objectName="conflictDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet("QLabel { background:#fbfbfb; color:#333; border:1px solid #ddd;"
                                   " padding:4px 8px; }")
        # every line matters (who did what): the form's stretching list gives way, not this
        self.details.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.refresh_button = QPushButton(self.cat.tr("刷新后重试"), objectName="conflictRefresh")
        self.refresh_button.setToolTip(self.cat.tr("载入案卷的最新版本；已填写的内容不变，核对后再提交"))
        self.refresh_button.clicked.connect(self.refresh)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.details)
        layout.addLayout(row)
        self.hide()

    def explain(self, exc: BaseException) -> bool:
        """For a ConflictError: show the panel and load what changed; False for other errors."""
        if not isinstance(exc, ConflictError):
            return False
        since = self._version()
        self.details.setText(self.cat.tr("正在查询其他工作站的变更…"))
        self.refresh_button.show()
        self.refresh_button.setEnabled(True)
        self.show()
        if since is None:
            return True
        self.runner.run_in_thread(lambda: self.desk.explain_conflict(self.case_id, since),
                                  lambda text: self.details.setText(plain.display(self.cat.text(text), 3000, 40)),
                                  lambda e: self.details.setText(plain.display(error_text(e, self.cat), MESSAGE_CHARS)),
                                  key=self._key)
        return True

    def refresh(self) -> None:
        """Load the case's current version into the form (the typed values stay as they are)."""
        self.refresh_button.setEnabled(False)
        self.runner.run_in_thread(lambda: self.desk.cases.get(self.case_id), self._reloaded, self._reload_failed,
                                  key=f"{self._key}.reload")

    def _reloaded(self, case) -> None:
        self._on_reloaded(case)
        self.refresh_button.hide()  # the details stay readable while the operator checks the input
        self._banner.show_message(self.cat.tr(
            "已载入最新版本（第 {version} 版，{state}）；你填写的内容未改动，核对后可再次提交",
            version=case.version, state=self.cat.label(case.state)), "info")

    def _reload_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self._banner.show_message(error_text(exc, self.cat))

    def clear(self) -> None:
        """Hide the panel (a new submit starts)."""
        self.runner.cancel(self._key)
        self.details.clear()
        self.hide()
