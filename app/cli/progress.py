"""Run a job from the terminal: a progress bar on stderr (rich), Ctrl+C cancels and waits.

The job runs on a worker thread of a :class:`~app.jobs.JobRunner`; the main thread only
draws and waits, so Ctrl+C (KeyboardInterrupt, delivered to the main thread) never lands in
the middle of the work: it asks the job to cancel, and the work rolls back at its next check.
"""

from __future__ import annotations

import sys
from typing import TextIO

from app.jobs import Job, JobListener, JobRunner

#: Steps of the bar (a fraction 0..1 is shown in thousandths).
_STEPS = 1000


def run_with_progress(job: Job, *, runner: JobRunner | None = None, stream: TextIO | None = None,
                      cancelling: str = "正在取消，回滚已写入的内容…") -> Job:
    """Run ``job`` with a progress bar on ``stream`` (default stderr) until it finishes; returns it.

    Ctrl+C cancels the job and keeps waiting until the work has undone itself (a second
    Ctrl+C waits too: leaving half-way would leave the store half-written). ``runner`` is
    the caller's (tests listen on it); by default a private one is made and shut down.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    own = runner is None
    runner = runner or JobRunner(max_workers=1, name="cli-job")
    console = Console(file=stream or sys.stderr, highlight=False)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TimeElapsedColumn(), console=console, transient=False)
    task = bar.add_task(job.title, total=_STEPS)

    def on_progress(j: Job, fraction: float, message: str) -> None:
        if j is job:  # rich's Progress is thread-safe: the worker updates, its own thread redraws
            text = f"{job.title}：{message}" if message else job.title
            if job.cancel_requested:
                text = f"{job.title}：{cancelling}"
            bar.update(task, completed=round(fraction * _STEPS), description=text)

    unsubscribe = runner.subscribe(JobListener(progress=on_progress))
    try:
        with bar:
            runner.submit(job)
            while not job.finished:
                try:
                    job.wait()
                except KeyboardInterrupt:
                    job.cancel()
                    bar.update(task, description=f"{job.title}：{cancelling}")
    finally:
        unsubscribe()
        if own:
            runner.shutdown()
    return job


__all__ = ["run_with_progress"]
