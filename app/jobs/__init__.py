"""Long work as jobs: progress, cancel and a result, headless or in the GUI (never on its thread).

:class:`Feedback` is what the work itself sees: it reports ``progress(fraction, message)`` and
calls ``check()`` at safe points, which raises :class:`Cancelled` once cancel was asked for.
Work that is cancelled must leave the store exactly as it was before it started.
"""

from app.jobs.feedback import Cancelled, Feedback

__all__ = ["Cancelled", "Feedback"]
