"""The wall's watchdog with real child processes: restarted on exit, on a stuck event loop, on memory."""

from __future__ import annotations

import sys
import threading

from app.wall.watchdog import Watchdog

BEAT = "import os, pathlib, time\nbeat = pathlib.Path(os.environ['GRIDHALL_WALL_HEARTBEAT'])\n"


def _dog(tmp_path, code: str, **kw) -> Watchdog:
    options = dict(hang_s=1.0, poll_s=0.05, grace_s=2.0, start_grace_s=1.0, max_restarts=1,
                   heartbeat=tmp_path / "wall.beat")
    options.update(kw)
    return Watchdog([sys.executable, "-c", code], **options)


def test_a_wall_that_exits_is_restarted(tmp_path):
    dog = _dog(tmp_path, "import sys; sys.exit(3)")
    dog.run()
    assert dog.restarts == ["exit"] and dog.child.returncode == 3


def test_a_wall_whose_event_loop_is_stuck_is_killed_and_restarted(tmp_path):
    dog = _dog(tmp_path, BEAT + "beat.touch()\ntime.sleep(120)\n")
    dog.run()
    assert dog.restarts == ["hang"]
    assert dog.child.returncode is not None  # it was ended, not left behind


def test_a_wall_that_never_beats_counts_as_hung_after_its_start(tmp_path):
    dog = _dog(tmp_path, "import time; time.sleep(120)")
    dog.run()
    assert dog.restarts == ["hang"]


def test_a_wall_past_its_memory_limit_is_restarted(tmp_path):
    dog = _dog(tmp_path, BEAT + "ballast = bytearray(300 * 1024 * 1024)\n"
                                "for _ in range(600):\n    beat.touch()\n    time.sleep(0.05)\n", max_rss_mb=150)
    dog.run()
    assert dog.restarts == ["memory"]


def test_a_healthy_wall_runs_until_the_watchdog_stops(tmp_path):
    dog = _dog(tmp_path, BEAT + "while True:\n    beat.touch()\n    time.sleep(0.05)\n")
    seen = threading.Event()
    stopper = threading.Thread(target=lambda: (seen.wait(), dog.stop()))
    stopper.start()
    probe = threading.Thread(target=lambda: (__import__("time").sleep(2.5), seen.set()))
    probe.start()
    dog.run()
    stopper.join()
    assert dog.restarts == [] and dog.child.returncode is not None
    assert not (tmp_path / "wall.beat").exists()
