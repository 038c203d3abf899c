"""JobRunner: progress, cancel, failure, result; the work never runs on the caller's thread."""

from __future__ import annotations

import threading

import pytest

from app.jobs import Cancelled, Feedback, Job, JobListener, JobRunner, JobState


@pytest.fixture
def runner():
    r = JobRunner(max_workers=2)
    yield r
    assert r.shutdown(timeout=10)


class Recorder:
    """Every event a runner reports, with the thread it arrived on."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.lock = threading.Lock()

    def listener(self) -> JobListener:
        def add(*event):
            with self.lock:
                self.events.append((*event, threading.get_ident()))
        return JobListener(started=lambda job: add("started", job.title),
                           progress=lambda job, f, m: add("progress", job.title, f, m),
                           finished=lambda job: add("finished", job.title, job.state))

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]


def test_result_progress_and_events_in_order_off_the_caller_thread(runner):
    rec = Recorder()
    runner.subscribe(rec.listener())
    seen = {}

    def work(fb: Feedback) -> int:
        seen["thread"] = threading.get_ident()
        for i in range(1, 5):
            fb.progress(i / 4, f"第 {i} 步")
        return 42

    job = runner.run("数四步", work)
    assert job.wait(10)
    assert (job.state, job.result, job.error, job.outcome()) == (JobState.DONE, 42, None, 42)
    assert seen["thread"] != threading.get_ident()
    assert rec.kinds() == ["started", "progress", "progress", "progress", "progress", "finished"]
    assert [e[2] for e in rec.events if e[0] == "progress"] == [0.25, 0.5, 0.75, 1.0]
    assert rec.events[-2][3] == "第 4 步" and rec.events[-1][2] is JobState.DONE
    assert {e[-1] for e in rec.events} == {seen["thread"]}  # listeners are called on the worker
    assert (job.fraction, job.message) == (1.0, "第 4 步")
    assert runner.jobs == []


def test_failure_is_recorded_and_raised_by_outcome(runner):
    rec = Recorder()
    runner.subscribe(rec.listener())

    def work(fb):
        fb.progress(0.3, "读取")
        raise ValueError("坏数据")

    job = runner.run("失败的工作", work)
    assert job.wait(10)
    assert job.state is JobState.FAILED and isinstance(job.error, ValueError)
    with pytest.raises(ValueError, match="坏数据"):
        job.outcome()
    assert rec.kinds() == ["started", "progress", "finished"]
    assert rec.events[-1][2] is JobState.FAILED


def test_cancel_from_another_thread_stops_at_the_next_check(runner):
    halfway, go_on = threading.Event(), threading.Event()
    steps = []

    def work(fb):
        for i in range(10):
            if i == 5:
                halfway.set()
                go_on.wait(10)
            fb.check()
            steps.append(i)
            fb.progress((i + 1) / 10)
        return "all"

    job = runner.run("可取消", work)
    assert halfway.wait(10)
    assert job.state is JobState.RUNNING and runner.jobs == [job]
    job.cancel()  # from this (the "GUI") thread
    go_on.set()
    assert job.wait(10)
    assert job.state is JobState.CANCELLED and steps == [0, 1, 2, 3, 4]
    assert job.result is None and isinstance(job.error, Cancelled)
    with pytest.raises(Cancelled):
        job.outcome()


def test_a_job_cancelled_before_it_starts_never_runs(runner):
    gate = threading.Event()
    ran = []
    busy = [runner.run(f"占用 {i}", lambda fb: gate.wait(10)) for i in range(2)]  # both workers
    rec = Recorder()
    runner.subscribe(rec.listener())
    queued = runner.run("排队", lambda fb: ran.append(1))
    assert queued.state is JobState.PENDING
    queued.cancel()
    gate.set()
    assert queued.wait(10) and all(job.wait(10) for job in busy)
    assert queued.state is JobState.CANCELLED and ran == []
    assert [e[:2] for e in rec.events if e[1] == "排队"] == [("finished", "排队")]  # never "started"


def test_work_that_finishes_despite_a_late_cancel_is_done(runner):
    """Cancel arriving after the work's last check: it committed, so the job is done, not cancelled."""
    def work(fb):
        fb.cancel()  # e.g. the user clicked just as the commit happened
        return "committed"

    job = runner.run("迟到的取消", work)
    assert job.wait(10)
    assert (job.state, job.result, job.cancel_requested) == (JobState.DONE, "committed", True)


def test_a_failing_listener_does_not_break_the_job_or_other_listeners(runner):
    rec = Recorder()
    runner.subscribe(JobListener(started=lambda job: 1 / 0, progress=lambda job, f, m: 1 / 0))
    runner.subscribe(rec.listener())
    job = runner.run("照常", lambda fb: fb.progress(1.0, "好") or "ok")
    assert job.wait(10) and job.outcome() == "ok"
    assert rec.kinds() == ["started", "progress", "finished"]


def test_unsubscribe_and_shutdown_cancels_running_jobs():
    runner = JobRunner()
    rec = Recorder()
    unsubscribe = runner.subscribe(rec.listener())
    unsubscribe()
    started = threading.Event()

    def forever(fb):
        started.set()
        while True:
            fb.check()
            threading.Event().wait(0.01)

    job = runner.run("不停", forever)
    assert started.wait(10)
    assert runner.shutdown(timeout=10)
    assert job.state is JobState.CANCELLED and rec.events == []
    with pytest.raises(RuntimeError, match="shut down"):
        runner.run("太晚", lambda fb: None)


def test_outcome_of_an_unfinished_job_refuses():
    job = Job("未运行", lambda fb: 1)
    assert job.state is JobState.PENDING and not job.finished
    with pytest.raises(RuntimeError, match="still pending"):
        job.outcome()


def test_feedback_on_cancel_runs_once_and_children_share_cancel():
    fb = Feedback()
    calls = []
    fb.on_cancel(lambda: calls.append("a"))
    child = fb.child(0.5, 1.0)
    child.on_cancel(lambda: calls.append("b"))
    seen = []
    fb.subscribe(lambda f, m: seen.append((f, m)))
    child.progress(0.5, "一半")
    assert seen == [(0.75, "一半")]
    child.cancel()
    fb.cancel()
    assert calls == ["a", "b"] and fb.cancelled and child.cancelled
    with pytest.raises(Cancelled):
        child.check()
    late = []
    fb.on_cancel(lambda: late.append(1))  # already cancelled: called at once
    assert late == [1]
    fb.progress(1.0, "完成")  # reporting never raises, even after a cancel


def test_even_system_exit_in_the_work_is_a_failure_not_a_lost_thread(runner):
    def work(fb):
        raise SystemExit(3)

    job = runner.run("退出", work)
    assert job.wait(10)
    assert job.state is JobState.FAILED and isinstance(job.error, SystemExit)
    assert runner.jobs == []


def test_a_job_that_ignores_cancel_does_not_keep_the_process_alive(tmp_path):
    """After cancel and the bounded wait of shutdown, the interpreter exits (daemon workers)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = (
        "import threading\n"
        "from app.jobs import JobRunner\n"
        "runner = JobRunner(name='stuck')\n"
        "started = threading.Event()\n"
        "job = runner.run('不理取消', lambda fb: (started.set(), threading.Event().wait())[1])\n"
        "assert started.wait(30)\n"
        "assert not runner.shutdown(timeout=0.1) and job.cancel_requested and not job.finished\n"
        "assert all(t.daemon for t in threading.enumerate() if t.name.startswith('stuck'))\n"
        "print('left')\n")
    # The bound is a hang guard only (before the fix this never exited), not a figure.
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "left"), done.stderr


def test_queued_jobs_run_in_turn_on_at_most_max_workers_threads():
    runner = JobRunner(max_workers=2, name="turns")
    gate = threading.Event()
    threads: set[int] = set()
    lock = threading.Lock()

    def work(fb):
        with lock:
            threads.add(threading.get_ident())
        gate.wait(10)

    jobs = [runner.run(f"第 {i} 个", work) for i in range(5)]
    gate.set()
    assert all(job.wait(10) for job in jobs) and all(job.state is JobState.DONE for job in jobs)
    assert 1 <= len(threads) <= 2
    assert runner.shutdown(timeout=10)
    assert not [t for t in threading.enumerate() if t.name.startswith("turns")]
