"""Run jobs on worker threads; anyone may cancel; listeners hear started, progress and finished."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.jobs.job import Job, Work
from app.jobs.listeners import Listeners

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobListener:
    """Callbacks about every job of a runner, each optional; all run **on the worker thread**.

    A GUI hands them to its own thread (``app.ui.jobs.JobEvents``); a terminal bar may draw
    directly. ``finished`` runs before :meth:`Job.wait` returns, so it must not wait for the job.
    """

    started: Callable[[Job], None] | None = None
    progress: Callable[[Job, float, str], None] | None = None
    finished: Callable[[Job], None] | None = None


class JobRunner:
    """Runs :class:`Job`\\ s on its own worker threads, never on the caller's (the GUI's) thread.

    ``max_workers`` jobs run at once; more wait their turn (``pending``). :meth:`shutdown`
    cancels what is left and waits a bounded time (the composition root calls it at teardown).
    The worker threads are daemons: unlike a ThreadPoolExecutor's, which the interpreter joins
    at exit, a job that ignores cancel past that wait does not keep the process alive.
    """

    def __init__(self, max_workers: int = 2, name: str = "job") -> None:
        self._max_workers = max(1, max_workers)
        self._name = name
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # workers waiting for a job
        self._lock = threading.Lock()
        self._listeners: Listeners[JobListener] = Listeners()
        self._jobs: list[Job] = []
        self._closed = False

    # -- listeners ----------------------------------------------------------------------------
    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        """Hear about every job from now on; returns the unsubscribe function."""
        return self._listeners.add(listener)

    def _notify(self, event: str, job: Job, *args: object) -> None:
        listeners = self._listeners.snapshot()
        for listener in listeners:
            callback = getattr(listener, event)
            if callback is None:
                continue
            try:
                callback(job, *args)
            except Exception:  # a broken watcher must not break the job or the other watchers
                log.exception("job listener %s(%r) failed", event, job)

    @property
    def closed(self) -> bool:
        """True once :meth:`shutdown` began: :meth:`submit` refuses new jobs."""
        with self._lock:
            return self._closed

    # -- jobs ---------------------------------------------------------------------------------
    def submit(self, job: Job) -> Job:
        """Start ``job`` on a worker thread (or queue it behind the running ones); returns it."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner is shut down")
            self._jobs.append(job)
            if self._idle == 0 and len(self._threads) < self._max_workers:
                thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}",
                                          daemon=True)
                self._threads.append(thread)
                self._idle += 1  # counted as idle until it takes the job below
                thread.start()
            self._idle -= 1  # a waiting worker will take this job
        self._queue.put(job)
        return job

    def run(self, title: str, work: Work) -> Job:
        """Submit ``Job(title, work)``; returns the job (wait on it, or listen)."""
        return self.submit(Job(title, work))

    @property
    def jobs(self) -> list[Job]:
        """The jobs submitted and not finished yet (pending or running), oldest first."""
        with self._lock:
            return list(self._jobs)

    def cancel_all(self) -> None:
        """Cancel every job that is not finished."""
        for job in self.jobs:
            job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has finished; False on timeout."""
        return all(job.wait(timeout) for job in self.jobs)

    def shutdown(self, *, cancel: bool = True, timeout: float | None = 30.0) -> bool:
        """Refuse new jobs, cancel the running ones (unless ``cancel`` is False) and wait for them.

        Returns False if some job did not finish within ``timeout``: its (daemon) thread is left
        to end on its own and does not hold up the interpreter's exit.
        """
        with self._lock:
            already, self._closed = self._closed, True
            threads = list(self._threads)
        if not already:
            for _ in threads:
                self._queue.put(None)  # after the queued jobs: they still run, see they are cancelled, finish
        if cancel:
            self.cancel_all()
        finished = self.wait(timeout)
        if finished:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
        return finished

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._idle += 1

    def _run(self, job: Job) -> None:
        unsubscribe = None
        try:
            if not job.cancel_requested:
                self._notify("started", job)
                unsubscribe = job.feedback.subscribe(lambda f, m: self._notify("progress", job, f, m))
            job.run()
        finally:
            if unsubscribe is not None:
                unsubscribe()
            with self._lock:
                if job in self._jobs:
                    self._jobs.remove(job)
            self._notify("finished", job)
            job._mark_finished()


__all__ = ["JobListener", "JobRunner"]
