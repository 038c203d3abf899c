"""`gridhall db verify-audit` as a job: a progress bar on stderr; a cancel (Ctrl+C) stops it, exit 130.

Cancel goes through the job's Feedback from a runner listener, the same call the terminal's
Ctrl+C handler makes (``job.cancel()``); the real signal is not sent in tests.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from app.cli import EXIT_CANCELLED, EXIT_OK, _verify_audit, build_parser
from app.jobs import JobListener, JobRunner


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("verify") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=datetime(2026, 11, 20, 10, 30))
    return path


def run(db, *, cancel_at: float | None = None, fmt: str = "text") -> tuple[int, list[float]]:
    """``db verify-audit`` on a runner that records the fractions (and cancels at ``cancel_at``)."""
    runner, fractions = JobRunner(max_workers=1), []

    def progress(job, fraction, message):
        fractions.append(fraction)
        if cancel_at is not None and fraction >= cancel_at:
            job.cancel()

    runner.subscribe(JobListener(progress=progress))
    try:
        code = _verify_audit(build_parser().parse_args(["db", "verify-audit", "--db", str(db), "--format", fmt]),
                             runner=runner)
    finally:
        assert runner.shutdown(timeout=30)
    return code, fractions


def test_verify_audit_shows_the_bar_up_to_100_percent(tiny_city, capsys):
    code, fractions = run(tiny_city, fmt="json")
    captured = capsys.readouterr()
    assert code == EXIT_OK and json.loads(captured.out) == {"ok": True, "problem": None}
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert "校验审计链" in captured.err and "100%" in captured.err  # the bar on stderr, the JSON alone on stdout


def test_cancel_stops_with_one_line_and_exit_130(tiny_city, capsys):
    code, fractions = run(tiny_city, cancel_at=0.0)  # at the first batch verified
    captured = capsys.readouterr()
    assert code == EXIT_CANCELLED and captured.out == "" and len(fractions) == 1
    assert captured.err.strip().splitlines()[-1] == "gridhall: 已取消校验审计链；未得出结论，数据库未被改动"
    assert "Traceback" not in captured.err and "正在取消" in captured.err
