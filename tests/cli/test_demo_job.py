"""`gridhall demo` as a job: a progress bar on stderr; cancel (what Ctrl+C does) rolls back.

Cancel goes through the job's Feedback from a runner listener, the same call the terminal's
Ctrl+C handler makes (``job.cancel()``); the real signal is not sent in tests.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.cli import EXIT_CANCELLED, _demo, build_parser, main
from app.jobs import JobListener, JobRunner


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def cancelling_runner(at: float) -> JobRunner:
    """A runner whose listener cancels the job once its progress reaches ``at``."""
    runner = JobRunner(max_workers=1)

    def progress(job, fraction, message):
        if fraction >= at:
            job.cancel()

    runner.subscribe(JobListener(progress=progress))
    return runner


def table_counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_cancel_mid_way_into_a_new_file_leaves_no_file(tmp_path, capsys):
    db = tmp_path / "demo.sqlite"
    runner = cancelling_runner(0.15)
    try:
        assert _demo(parse("demo", "--db", str(db)), runner=runner) == EXIT_CANCELLED
    finally:
        runner.shutdown()
    captured = capsys.readouterr()
    assert captured.out == ""
    last = captured.err.strip().splitlines()[-1]
    assert last == "gridhall: 已取消生成演示数据；数据库保持原样，未写入任何数据"
    assert "Traceback" not in captured.err and "正在取消" in captured.err  # the bar said so
    assert not any(tmp_path.iterdir())  # the file the demo created is gone again


def test_cancel_mid_way_into_an_existing_store_leaves_it_as_before(tmp_path, capsys):
    from app.store.commands import init_db

    db = tmp_path / "empty.sqlite"
    init_db(db).dispose()
    before = table_counts(db)
    assert before["categories"] > 0 and before["cases"] == 0
    runner = cancelling_runner(0.3)  # well into the case history
    try:
        assert _demo(parse("demo", "--db", str(db)), runner=runner) == EXIT_CANCELLED
    finally:
        runner.shutdown()
    assert table_counts(db) == before
    assert "已取消生成演示数据" in capsys.readouterr().err


def test_a_store_that_has_data_is_one_clear_line(tmp_path, capsys):
    from app.store.commands import init_db
    from app.store.models import Department

    db = tmp_path / "full.sqlite"
    store = init_db(db)
    with store.session() as s, s.begin():
        s.add(Department(code="JD01", name="东城街道办事处", kind="street_office"))
    store.dispose()
    assert main(["demo", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("gridhall: 数据库已有数据") and "Traceback" not in err
    assert table_counts(db)["departments"] == 1


@pytest.mark.slow
def test_demo_json_summary_then_verify_audit_json(tmp_path, capsys):
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db), "--seed", "3", "--format", "json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert set(summary) == {"scale", "seed", "now", "streets", "communities", "grids", "roads", "components",
                            "departments", "users", "cases", "events", "open_cases", "open_by_state",
                            "open_by_light", "audit_hash", "seconds", "demo_password", "demo_accounts"}
    assert (summary["scale"], summary["seed"]) == ("district", 3)
    assert summary["cases"] > 1000 and summary["open_cases"] == sum(summary["open_by_state"].values())
    assert "demo_dispatcher" in summary["demo_accounts"] and len(summary["audit_hash"]) == 64
    assert "100%" in captured.err  # the bar went to stderr, the JSON alone to stdout
    assert main(["db", "verify-audit", "--db", str(db), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "problem": None}


@pytest.mark.slow
def test_ctrl_c_in_a_real_terminal_session_cancels_and_removes_the_new_file(tmp_path):
    """The real signal once: SIGINT to `python -m app demo` while the job runs."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    db = tmp_path / "demo.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "app", "demo", "--db", str(db)], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    deadline = time.monotonic() + 180  # generous: a loaded machine, not a figure
    while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the file the job creates, not timing anything
    if not db.exists():
        proc.kill()
        pytest.fail(f"the demo job did not start (exit {proc.poll()}): {proc.communicate()[1][-2000:]}")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_CANCELLED, err
    assert out == "" and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "gridhall: 已取消生成演示数据；数据库保持原样，未写入任何数据"
    assert not any(tmp_path.iterdir())
