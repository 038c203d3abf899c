"""QGIS work inside a job: a ``QgsFeedback`` tied to the job's :class:`~app.jobs.Feedback`.

QGIS algorithms, renderers and feature requests take a ``QgsFeedback``: they report progress
(0..100) on it and stop when it is cancelled. :func:`qgs_feedback` makes one whose progress
feeds the job's bar and whose cancel follows the job's, both ways::

    def work(feedback):
        with qgs_feedback(feedback, 0.2, 0.9) as qf:
            QgsVectorFileWriter.writeAsVectorFormatV3(layer, path, context, options)  # options.feedback = qf
        ...

On leaving the block normally, a cancelled job raises :class:`~app.jobs.Cancelled` (QGIS code
often just returns early with partial output when cancelled; the job must not go on as if done,
and removing that partial output is the work's duty); otherwise the bar moves on to ``end``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from qgis.core import QgsFeedback

from app.jobs import Feedback


@contextmanager
def qgs_feedback(feedback: Feedback, start: float = 0.0, end: float = 1.0) -> Iterator[QgsFeedback]:
    """A ``QgsFeedback`` for the block: its 0..100 % maps onto ``start..end`` of ``feedback``.

    Cancelling the job cancels the QgsFeedback, and cancelling the QgsFeedback (QGIS's own
    cancel buttons) cancels the job. Create and use it on the worker thread running the job.
    """
    qf = QgsFeedback()

    def on_progress(percent: float) -> None:
        feedback.progress(start + (end - start) * max(0.0, min(100.0, percent)) / 100.0)

    qf.progressChanged.connect(on_progress)
    qf.canceled.connect(feedback.cancel)
    stop_following = feedback.on_cancel(qf.cancel)  # at once if the job was already cancelled
    try:
        yield qf
    finally:
        stop_following()
        qf.progressChanged.disconnect(on_progress)
        qf.canceled.disconnect(feedback.cancel)
    feedback.check()
    feedback.progress(end)  # the step is over (QGIS writers tend to stop reporting at 99 %)


__all__ = ["qgs_feedback"]
