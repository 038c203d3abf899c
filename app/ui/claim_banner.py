"""Shows who else is working on the case (张三（派遣员）正在派遣此案卷) and keeps our own claim alive."""

from __future__ import annotations

import logging
from collections.abc import Callable

from qtpy.QtCore import QObject, Qt, QTimer
from qtpy.QtWidgets import QLabel, QWidget

from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class ClaimBanner(QLabel):
    """A yellow line above a form or the detail view; hidden when nobody else holds the case."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("claimBanner")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setStyleSheet("#claimBanner { background: #fff3cd; color: #7a5b00; padding: 4px 8px;"
                           " border: 1px solid #e0c060; border-radius: 3px; }")
        self.setVisible(False)

    def show_claim(self, text: str | None) -> None:
        """Show ``text`` (a claim's ``.text``), or hide the banner for None/empty."""
        self.setText(text or "")
        self.setVisible(bool(text))


class ClaimKeeper(QObject):
    """Holds a claim while a form is open: claims on ``hold``, renews on a timer, releases on ``drop``.

    ``claim(case_id)`` and ``release(case_id)`` run in the runner's workers (they hit the
    store); ``on_other(text | None)`` gets the text of someone else's claim (for the banner).
    """

    KEY = "claims.keep"

    def __init__(self, claim: Callable[[int], object], release: Callable[[int], object], runner: TaskRunner,
                 on_other: Callable[[str | None], None], *, renew_ms: int = 40_000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._claim, self._release, self._runner, self._on_other = claim, release, runner, on_other
        self.case_id: int | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(renew_ms)
        self._timer.timeout.connect(self._renew)

    def hold(self, case_id: int) -> None:
        """Start holding ``case_id`` (dropping any previous case)."""
        if self.case_id == case_id:
            return
        self.drop()
        self.case_id = case_id
        self._renew()
        self._timer.start()

    def drop(self) -> None:
        """Release the held case (form closed or saved)."""
        self._timer.stop()
        if self.case_id is not None:
            case_id, self.case_id = self.case_id, None
            self._runner.run_in_thread(lambda: self._release(case_id), lambda _r: None,
                                       lambda exc: log.warning("releasing claim on %s failed: %s", case_id, exc))
        self._on_other(None)

    def _renew(self) -> None:
        case_id = self.case_id
        if case_id is None:
            return
        self._runner.run_in_thread(lambda: self._claim(case_id), lambda outcome: self._claimed(case_id, outcome),
                                   lambda exc: log.warning("claiming %s failed: %s", case_id, exc), key=self.KEY)

    def _claimed(self, case_id: int, outcome) -> None:
        if case_id != self.case_id:
            return
        granted = getattr(outcome, "granted", True)
        claim = getattr(outcome, "claim", None)
        self._on_other(None if granted or claim is None else claim.text)
