"""Jobs in the window: their events on the GUI thread, and a status-bar strip to watch and cancel them.

A :class:`~app.jobs.JobRunner` calls its listeners on the worker thread. :class:`JobEvents`
hands those calls to the GUI thread as Qt signals (coalescing bursts of progress, so work that
reports thousands of times a second costs the event loop one update per repaint at most).
:class:`JobStatusWidget` shows each running job with a progress bar, its message and a cancel
button. :func:`job_command` turns a piece of work into a window command (one run at a time).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from qtpy.QtCore import QObject, Qt, Signal, Slot
from qtpy.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QMessageBox, QProgressBar, QToolButton, QWidget

from app.i18n import Catalogue
from app.jobs import Job, JobListener, JobRunner, JobState, Work
from app.ui.plain import looks_rich, plain_text_label, tooltip

log = logging.getLogger(__name__)

#: Steps of a progress bar (fractions are shown in thousandths).
STEPS = 1000
#: Widest a job's ``title：message`` gets in the status bar (px); longer ones are elided, whole in the tooltip.
LABEL_WIDTH = 360


class JobEvents(QObject):
    """A runner's job events re-emitted on the thread this object lives in (create it on the GUI's).

    ``started(job)``, ``progressed(job)`` (read ``job.fraction`` / ``job.message``: the latest,
    bursts are coalesced) and ``finished(job)``. :meth:`close` stops the delivery (teardown).
    """

    started = Signal(object)
    progressed = Signal(object)
    finished = Signal(object)
    _queued = Signal(str, object)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._progress_pending: set[int] = set()
        self._closed = False
        self._queued.connect(self._deliver)  # a slot of this object: queued across threads
        self._unsubscribe = runner.subscribe(JobListener(
            started=lambda job: self._post("started", job),
            progress=self._on_progress,
            finished=lambda job: self._post("finished", job)))

    def close(self) -> None:
        """Stop listening; whatever is still queued is dropped."""
        self._closed = True
        self._unsubscribe()

    # worker thread
    def _post(self, kind: str, job: Job) -> None:
        if not self._closed:
            self._queued.emit(kind, job)

    def _on_progress(self, job: Job, _fraction: float, _message: str) -> None:
        with self._lock:
            if job.id in self._progress_pending:
                return  # the update already on its way will read the newest figures
            self._progress_pending.add(job.id)
        self._post("progress", job)

    # GUI thread
    @Slot(str, object)
    def _deliver(self, kind: str, job: Job) -> None:
        if self._closed:
            return
        if kind == "progress":
            with self._lock:
                self._progress_pending.discard(job.id)
        signal = {"started": self.started, "progress": self.progressed, "finished": self.finished}[kind]
        try:
            signal.emit(job)
        except Exception:  # one failing view must not stop the next events
            log.exception("delivering job event %s of %r failed", kind, job)


class JobRow(QWidget):
    """One running job: ``title：message``, a progress bar and a cancel button."""

    def __init__(self, job: Job, catalogue: Catalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self._tr = catalogue.tr
        self.setObjectName(f"job{job.id}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.label = plain_text_label(QLabel(objectName="jobLabel"))  # a job may name a file: never HTML
        self.bar = QProgressBar(objectName="jobProgress")
        self.bar.setFixedWidth(140)
        self.bar.setMaximumHeight(16)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton(objectName="jobCancel")
        self.cancel_button.setText(self._tr("取消"))
        self.cancel_button.setToolTip(self._tr("取消这项后台任务；已写入的内容会回滚"))
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.refresh()

    def cancel(self) -> None:
        """Ask the job to stop; the row stays until the work has undone itself."""
        self.job.cancel()
        self.refresh()

    def refresh(self) -> None:
        """Show the job's newest fraction and message (busy bar until the first fraction)."""
        job = self.job
        if job.cancel_requested:
            text = self._tr("{title}：正在取消…", title=job.title)
            self.cancel_button.setEnabled(False)
        else:
            text = f"{job.title}：{job.message}" if job.message else job.title
        self.label.setToolTip(tooltip(text) if looks_rich(text) else text)  # a job may name a file
        self.label.setText(self.label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, LABEL_WIDTH))
        if job.fraction <= 0.0:
            self.bar.setRange(0, 0)  # indeterminate until the work says how far it is
        else:
            self.bar.setRange(0, STEPS)
            self.bar.setValue(round(job.fraction * STEPS))


class JobStatusWidget(QWidget):
    """The status bar's strip of running jobs; hidden while there are none."""

    def __init__(self, events: JobEvents, catalogue: Catalogue | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobStatus")
        self._cat = catalogue or Catalogue()
        self._rows: dict[int, JobRow] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(12)
        events.started.connect(self._started)
        events.progressed.connect(self._progressed)
        events.finished.connect(self._finished)
        self.setVisible(False)

    def rows(self) -> dict[int, JobRow]:
        """The rows shown, by job id."""
        return dict(self._rows)

    def row(self, job: Job) -> JobRow | None:
        return self._rows.get(job.id)

    def _started(self, job: Job) -> None:
        if job.id in self._rows or job.finished:
            return
        row = JobRow(job, self._cat, self)
        self._rows[job.id] = row
        self._layout.addWidget(row)
        self.setVisible(True)

    def _progressed(self, job: Job) -> None:
        row = self._rows.get(job.id)
        if row is not None:
            row.refresh()

    def _finished(self, job: Job) -> None:
        row = self._rows.pop(job.id, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.setVisible(bool(self._rows))


def job_command(runner: JobRunner, events: JobEvents, title: str, work: Work,
                on_finished: Callable[[Job], None]) -> Callable[[], Job | None]:
    """A window command running ``work`` as a job titled ``title``; ``on_finished(job)`` on the GUI
    thread when it is done, failed or cancelled. While one run is going, triggering it again does
    nothing (returns None); otherwise returns the new job."""
    running: dict[str, Job] = {}

    def finished(job: Job) -> None:
        if running.get("job") is job:
            del running["job"]
            on_finished(job)

    events.finished.connect(finished)

    def command() -> Job | None:
        if "job" in running:
            return None
        running["job"] = job = Job(title, work)
        runner.submit(job)
        return job

    command.disconnect = lambda: events.finished.disconnect(finished)  # type: ignore[attr-defined]
    return command


def report_outcome(window: QMainWindow, catalogue: Catalogue, job: Job,
                   describe: Callable[[object], tuple[str, bool]]) -> QMessageBox | None:
    """Tell the user how ``job`` ended: a status-bar message, or a (non-modal) warning box for a
    failure or for a result that ``describe(result)`` → ``(text, is_problem)`` calls a problem.
    Returns the box shown, if any."""
    tr = catalogue.tr
    if job.state is JobState.CANCELLED:
        window.statusBar().showMessage(tr("已取消：{title}", title=job.title), 10_000)
        return None
    if job.state is JobState.FAILED:
        text, problem = tr("{title}失败：{error}", title=job.title, error=job.error), True
    else:
        text, problem = describe(job.result)
    window.statusBar().showMessage(text, 10_000)
    if not problem:
        return None
    box = QMessageBox(QMessageBox.Icon.Warning, job.title, text, QMessageBox.StandardButton.Ok, window)
    box.setObjectName("jobOutcome")
    box.setTextFormat(Qt.TextFormat.PlainText)  # an error may quote input: shown, never rendered
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()  # not exec(): the window goes on ticking
    return box


__all__ = ["STEPS", "JobEvents", "JobRow", "JobStatusWidget", "job_command", "report_outcome"]
