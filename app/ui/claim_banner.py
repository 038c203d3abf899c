"""Shows who else is working on the case (张三（派遣员）正在派遣此案卷) and keeps our own claim alive."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from qtpy.QtCore import QObject, Qt, QTimer
from qtpy.QtWidgets import QLabel, QWidget

from app.domain.messages import Msg
from app.i18n import Catalogue
from app.ui import plain
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class ClaimBanner(QLabel):
    """A yellow line above a form or the detail view; hidden when nobody else holds the case."""

    def __init__(self, parent: QWidget | None = None, catalogue: Catalogue | None = None) -> None:
        super().__init__(parent)
        self.cat = catalogue or Catalogue()
        self.setObjectName("claimBanner")
        plain.plain_text_label(self)  # names a user (their display name is data)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setStyleSheet("#claimBanner { background: #fff3cd; color: #7a5b00; padding: 4px 8px;"
                           " border: 1px solid #e0c060; border-radius: 3px; }")
        self.setVisible(False)

    def show_claim(self, text: str | Msg | None) -> None:
        """Show ``text`` (a claim's ``.text``, translated), or hide the banner for None/empty."""
        self.setText(plain.display(self.cat.text(text), 300, 3) if text else "")
        self.setVisible(bool(text))


class ClaimKeeper(QObject):
    """Holds a claim while a form is open: claims on ``hold``, renews on a timer, releases on ``drop``.

    ``claim(case_id)`` and ``release(case_id)`` run in the runner's workers (they hit the
    store); ``on_other(text | None)`` gets the text of someone else's claim (for the banner).
    A claim still running when the form closes never lands after its release: both run under
    one lock and a claim whose hold was dropped meanwhile is skipped.
    """

    KEY = "claims.keep"

    def __init__(self, claim: Callable[[int], object], release: Callable[[int], object], runner: TaskRunner,
                 on_other: Callable[[str | None], None], *, renew_ms: int = 40_000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._claim, self._release, self._runner, self._on_other = claim, release, runner, on_other
        self.case_id: int | None = None
        self._key = f"{self.KEY}.{id(self)}"  # one key per keeper: two open forms must not cancel each other
        self._lock = threading.Lock()
        self._generation = 0  # bumped on every drop; a claim of an older generation is skipped
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
        self._generation += 1
        if self.case_id is not None:
            case_id, self.case_id = self.case_id, None
            self._runner.cancel(self._key)

            def release():
                with self._lock:
                    return self._release(case_id)

            self._runner.run_in_thread(release, lambda _r: None,
                                       lambda exc: log.warning("releasing claim on %s failed: %s", case_id, exc))
        self._on_other(None)

    def _renew(self) -> None:
        case_id, generation = self.case_id, self._generation
        if case_id is None:
            return

        def claim():
            with self._lock:
                if generation != self._generation:
                    return None  # dropped before this ran: claiming now would outlive the release
                return self._claim(case_id)

        self._runner.run_in_thread(claim, lambda outcome: self._claimed(case_id, outcome),
                                   lambda exc: log.warning("claiming %s failed: %s", case_id, exc), key=self._key)

    def _claimed(self, case_id: int, outcome) -> None:
        if case_id != self.case_id or outcome is None:
            return
        granted = getattr(outcome, "granted", True)
        claim = getattr(outcome, "claim", None)
        self._on_other(None if granted or claim is None else claim.text)


class ClaimWatcher(QObject):
    """Finds out who else holds the selected case (in a worker) and hands the text to ``show``.

    Reloads on selection, on ``claims_changed(ids)`` naming the selected case (live sync) and
    every ``recheck_ms`` (a crashed workstation's claim expires without any notification).
    ``load(case_id)`` returns the banner text or None; ``show(case_id, text)`` runs on the GUI thread.
    """

    def __init__(self, state, load: Callable[[int], str | None], runner: TaskRunner,
                 show: Callable[[int, str | None], None], *, recheck_ms: int = 60_000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self._load, self._runner, self._show = state, load, runner, show
        self._key = f"claims.watch.{id(self)}"
        self._disconnect = state.events.selection_changed.connect(lambda _id: self.refresh())
        self._timer = QTimer(self)
        self._timer.setInterval(recheck_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def claims_changed(self, case_ids) -> None:
        """Claims on ``case_ids`` changed: reload the banner if the selected case is among them."""
        if self.state.selected_id in set(case_ids):
            self.refresh()

    def refresh(self) -> None:
        """Reload the holder of the selected case in a worker."""
        case_id = self.state.selected_id
        if case_id is None:
            self._runner.cancel(self._key)
            return
        self._runner.run_in_thread(lambda: self._load(case_id), lambda text: self._loaded(case_id, text),
                                   lambda exc: log.warning("loading the claim on %s failed: %s", case_id, exc),
                                   key=self._key)

    def _loaded(self, case_id: int, text: str | None) -> None:
        if case_id == self.state.selected_id:
            self._show(case_id, text)

    def teardown(self) -> None:
        """Stop following the selection and the timer."""
        self._timer.stop()
        self._disconnect()
        self._runner.cancel(self._key)
