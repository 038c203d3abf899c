"""`make bench` figures as data: build/bench.json merges what every group records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import figures

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def out(tmp_path, monkeypatch):
    target = tmp_path / "build" / "bench.json"
    monkeypatch.setenv(figures.ENV, str(target))
    return target


def test_record_writes_and_merges(out):
    assert figures.record("queue.tick_10000", 0.0438, "ms") == 0.0438
    figures.record("map.render_full_styled", 380.5, "ms")
    figures.record("queue.tick_10000", 0.05, "ms")  # a later run replaces the figure
    figures.record("live.busy_day_audit_ok", True, "bool")
    assert json.loads(out.read_text()) == {
        "live.busy_day_audit_ok": {"value": 1, "unit": "bool"},
        "map.render_full_styled": {"value": 380.5, "unit": "ms"},
        "queue.tick_10000": {"value": 0.05, "unit": "ms"},
    }


def test_groups_run_in_separate_processes_keep_each_others_figures(out):
    code = ("import sys; from bench.figures import record\n"
            "for i in range(20): record(f'{sys.argv[1]}.figure_{i}', i, 'ms')\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, group], cwd=ROOT) for group in ("map", "live", "demo")]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    data = json.loads(out.read_text())
    assert len(data) == 60 and data["live.figure_19"] == {"value": 19, "unit": "ms"}


@pytest.mark.parametrize("name, value, unit, message", [
    ("Map.Render", 1.0, "ms", "dot-separated lower-case"),
    ("render", 1.0, "ms", "dot-separated lower-case"),
    ("map.render", float("nan"), "ms", "finite number"),
    ("map.render", "12", "ms", "finite number"),
    ("map.render", 1.0, "", "unit"),
])
def test_bad_figures_are_refused_and_nothing_is_written(out, name, value, unit, message):
    with pytest.raises(ValueError, match=message):
        figures.record(name, value, unit)
    assert not out.exists()


def test_a_damaged_file_is_one_clear_message(out):
    out.parent.mkdir(parents=True)
    out.write_text("{not json")
    with pytest.raises(SystemExit, match="not valid JSON"):
        figures.record("map.render", 1.0, "ms")


def test_the_bench_imports_nothing_from_the_tests():
    code = ("import sys; sys.path = [p for p in sys.path if not p.rstrip('/').endswith('tests')]\n"
            "import bench.__main__, bench.live, bench.world\n"
            "bad = [m for m in sys.modules if m in ('pg', 'samples') or m.startswith(('services.', 'tests'))]\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_only_takes_known_groups():
    from bench.__main__ import _groups

    assert _groups(None) == ["map", "queue", "demo", "live", "desk", "search", "wall", "bulletin", "import", "geocode",
                              "open311", "eval"]
    assert _groups("live,map") == ["map", "live"]
    with pytest.raises(SystemExit, match="unknown group walls"):
        _groups("map,walls")
