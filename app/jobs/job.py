"""A job: a title, the work ``work(feedback) -> result`` and what became of it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from app.jobs.feedback import Cancelled, Feedback

Work = Callable[[Feedback], Any]

_ids = itertools.count(1)


class JobState(Enum):
    """Where a job is: ``pending`` → ``running`` → ``done`` | ``failed`` | ``cancelled``."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class Job:
    """One piece of long work. Thread-safe to read and cancel from anywhere.

    The work gets the job's :class:`Feedback`: it reports progress and calls ``check()`` at
    safe points. **Cancel must leave the store exactly as before** and that is the work's
    duty: it writes inside one transaction and lets :class:`Cancelled` (raised by ``check``)
    propagate out of it, so the transaction rolls back. Work that returns normally is
    ``done`` even if cancel was asked for too late to stop it (it committed); work that raises
    :class:`Cancelled` is ``cancelled``; any other exception makes it ``failed`` (``error``).
    """

    def __init__(self, title: str, work: Work, *, feedback: Feedback | None = None) -> None:
        self.id = next(_ids)
        self.title = title
        self.work = work
        self.feedback = feedback if feedback is not None else Feedback()
        self.state = JobState.PENDING
        self.result: Any = None
        self.error: BaseException | None = None
        self._finished = threading.Event()

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.title!r} {self.state.value}>"

    # -- anyone -----------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the work to stop (it rolls back); a job that has not started will not run."""
        self.feedback.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self.feedback.cancelled

    @property
    def fraction(self) -> float:
        return self.feedback.fraction

    @property
    def message(self) -> str:
        return self.feedback.message

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is finished (done, failed or cancelled); False on timeout."""
        return self._finished.wait(timeout)

    def outcome(self) -> Any:
        """The result of a done job; raises its error (failed) or :class:`Cancelled` (cancelled).

        Call after :meth:`wait`; a job that is not finished yet raises RuntimeError.
        """
        if not self.finished:
            raise RuntimeError(f"job {self.title!r} is still {self.state.value}")
        if self.state is JobState.CANCELLED:
            raise self.error if isinstance(self.error, Cancelled) else Cancelled()
        if self.state is JobState.FAILED:
            assert self.error is not None
            raise self.error
        return self.result

    # -- the runner -------------------------------------------------------------------------
    def run(self) -> None:
        """Run the work on the calling thread and record what became of it (the runner calls this)."""
        if self.feedback.cancelled:
            self._finish(JobState.CANCELLED, error=Cancelled())
            return
        self.state = JobState.RUNNING
        try:
            result = self.work(self.feedback)
        except Cancelled as exc:
            self._finish(JobState.CANCELLED, error=exc)
        except BaseException as exc:  # reported through the job, never lost in the worker thread
            self._finish(JobState.FAILED, error=exc)
        else:
            self._finish(JobState.DONE, result=result)

    def _finish(self, state: JobState, *, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.state = result, error, state

    def _mark_finished(self) -> None:
        self._finished.set()


__all__ = ["Job", "JobState", "Work"]
