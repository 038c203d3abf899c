"""Long work as jobs: progress, cancel and a result, headless or in the GUI (never on its thread).

:class:`Feedback` is what the work itself sees: it reports ``progress(fraction, message)`` and
calls ``check()`` at safe points, which raises :class:`Cancelled` once cancel was asked for.
A :class:`Job` is a title and ``work(feedback) -> result``; a :class:`JobRunner` runs jobs on
its worker threads and tells :class:`JobListener`\\ s (on the worker thread) when a job starts,
progresses and finishes. The GUI hands those calls to its own thread (``app.ui.jobs``), the
terminal draws a bar (``app.cli.progress``), QGIS work bridges to a ``QgsFeedback``
(``app.gis.jobs``).

Cancel must leave the store exactly as it was before the job started. The runner cannot undo
anything: that is the work's duty. Work that writes does it in one transaction and lets
:class:`Cancelled` propagate out of it (``with store.engine.begin(): … feedback.check() …``),
so the transaction rolls back; it reports ``progress`` as it goes (never raises) and checks
only where stopping is safe.
"""

from app.jobs.feedback import Cancelled, Feedback
from app.jobs.job import Job, JobState, Work
from app.jobs.runner import JobListener, JobRunner

__all__ = ["Cancelled", "Feedback", "Job", "JobListener", "JobRunner", "JobState", "Work"]
