"""Figures of `make bench` as data: ``record(name, value, unit)`` → ``build/bench.json``.

The file maps each figure's stable name to its latest value::

    {"map.render_full_styled": {"value": 412.3, "unit": "ms"}, "queue.tick_10000": {...}, ...}

Names are ``group.figure`` in lower case (``[a-z0-9_]``, dot-separated), e.g.
``map.render_full_styled``, ``queue.tick_10000``, ``live.notify_roundtrip_median``,
``demo.city_s.spatialite``. Each ``record`` merges into the file at once (read, update, atomic
replace, under a lock), so groups run separately (``make bench ONLY=live``) or in parallel
processes never erase each other's figures, and a bench that dies half-way keeps what it
measured. ``GRIDHALL_BENCH_JSON`` names another file (the tests use it).

Units in use: ``ms``, ``s``, ``ratio``, ``count``, ``per_s`` (things per second), ``bool``
(1 or 0).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT / "build" / "bench.json"
ENV = "GRIDHALL_BENCH_JSON"
_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


def path() -> Path:
    """The figures file: ``$GRIDHALL_BENCH_JSON`` or ``build/bench.json`` in the work tree."""
    return Path(os.environ.get(ENV) or DEFAULT_PATH)


@contextmanager
def _locked(target: Path):
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load(target: Path | None = None) -> dict[str, dict[str, object]]:
    """The figures recorded so far ({} when there is no file yet)."""
    target = target or path()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise SystemExit(f"bench: {target} is not valid JSON ({exc}); remove it and run again") from None
    if not isinstance(data, dict):
        raise SystemExit(f"bench: {target} does not hold a JSON object; remove it and run again")
    return data


def record(name: str, value: float, unit: str) -> float:
    """Merge figure ``name`` = ``value`` ``unit`` into the figures file; returns ``value``."""
    if not _NAME.match(name):
        raise ValueError(f"figure name {name!r} must be dot-separated lower-case words, e.g. map.render_full_styled")
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"figure {name}: value must be a finite number, not {value!r}")
    if not unit or not isinstance(unit, str):
        raise ValueError(f"figure {name}: unit must be a non-empty string")
    target = path()
    with _locked(target):
        figures = load(target)
        figures[name] = {"value": round(value, 6) if isinstance(value, float) else value, "unit": unit}
        fd, tmp = tempfile.mkstemp(prefix=".bench-", suffix=".json", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(figures, out, ensure_ascii=False, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(tmp, target)
    return value


__all__ = ["DEFAULT_PATH", "ENV", "load", "path", "record"]
