"""The wall's watchdog: a small supervisor process restarting the wall when it dies, hangs or grows.

``gridhall wall --watchdog [--max-rss-mb 2000] [--hang-s 30] …`` runs this supervisor, which runs
``gridhall wall …`` (the same options) as its child with ``GRIDHALL_WALL_HEARTBEAT`` naming a file
the wall touches every second from its event loop. The child is restarted when

* it exits (any exit code; a clean exit too — a wall is not meant to end),
* its heartbeat is older than ``hang_s`` (the event loop is stuck): SIGTERM, then SIGKILL,
* its resident memory exceeds ``max_rss_mb``.

Restarts back off (1, 2, 4 … 60 s) while the child keeps dying within a minute of its start.
SIGTERM or SIGINT to the supervisor stops the child and ends the supervisor. No Qt here.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

HEARTBEAT_ENV = "GRIDHALL_WALL_HEARTBEAT"


def rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` in MB (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Watchdog:
    """Supervises ``command``; ``run()`` returns after ``max_restarts`` restarts (None: never) or a stop."""

    command: Sequence[str]
    max_rss_mb: float = 2000.0
    hang_s: float = 30.0
    poll_s: float = 0.5
    grace_s: float = 5.0  # SIGTERM → SIGKILL
    start_grace_s: float = 60.0  # a starting wall has this long before its first heartbeat counts
    max_restarts: int | None = None
    heartbeat: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / f"gridhall-wall-{os.getpid()}.beat")
    on_restart: Callable[[str], None] | None = None
    restarts: list[str] = field(default_factory=list)  # why each restart happened: exit, hang, memory
    _stopping: bool = False
    child: subprocess.Popen | None = None

    def stop(self, *_args: object) -> None:
        self._stopping = True

    def _start(self) -> subprocess.Popen:
        self.heartbeat.unlink(missing_ok=True)
        env = dict(os.environ, **{HEARTBEAT_ENV: str(self.heartbeat)})
        return subprocess.Popen(list(self.command), env=env)

    def _end(self, child: subprocess.Popen) -> None:
        if child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(self.grace_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def _why(self, child: subprocess.Popen, started: float) -> str | None:
        if child.poll() is not None:
            return "exit"
        now = time.time()
        try:
            beat = self.heartbeat.stat().st_mtime
        except FileNotFoundError:
            beat = None
        if beat is None:
            if now - started > max(self.start_grace_s, self.hang_s):
                return "hang"
        elif now - beat > self.hang_s:
            return "hang"
        rss = rss_mb(child.pid)
        if rss is not None and rss > self.max_rss_mb:
            return "memory"
        return None

    def run(self) -> int:
        backoff = 1.0
        while not self._stopping:
            started = time.time()
            self.child = child = self._start()
            why = None
            while not self._stopping:
                why = self._why(child, started)
                if why is not None:
                    break
                time.sleep(self.poll_s)
            self._end(child)
            if self._stopping or why is None:
                break
            log.warning("wall %s (pid %s, exit %s): restarting", why, child.pid, child.returncode)
            self.restarts.append(why)
            if self.on_restart is not None:
                self.on_restart(why)
            if self.max_restarts is not None and len(self.restarts) >= self.max_restarts:
                break
            if time.time() - started < 60:
                time.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
            else:
                backoff = 1.0
        self.heartbeat.unlink(missing_ok=True)
        return 0


def supervise(wall_args: Sequence[str], *, max_rss_mb: float, hang_s: float) -> int:
    """Run ``gridhall wall <wall_args>`` under a watchdog until SIGTERM/SIGINT."""
    dog = Watchdog([sys.executable, "-m", "app", "wall", *wall_args], max_rss_mb=max_rss_mb, hang_s=hang_s,
                   on_restart=lambda why: print(f"gridhall: wall restarted ({why})", file=sys.stderr))
    signal.signal(signal.SIGTERM, dog.stop)
    signal.signal(signal.SIGINT, dog.stop)
    return dog.run()


__all__ = ["HEARTBEAT_ENV", "Watchdog", "rss_mb", "supervise"]
