"""A reader that goes away (`gridhall case … | head -1`) or a closed stdout (`>&-`) never ends in a
traceback: real subprocesses and real pipes, through `python -m app`, the `gridhall` script and
`python main.py`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from services.seed import seed_case
from services.world import PASSWORD, T0

from app.domain.definitions import CaseState

from .test_hostile_cli import REPORT, ROOT, desk  # noqa: F401  (the fixture: a store with the district and logins)

GRIDHALL = Path(sys.executable).with_name("gridhall")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRIDHALL_DB",)}
    env.update({"GRIDHALL_PASSWORD": PASSWORD, "GRIDHALL_LANG": "en", "QT_QPA_PLATFORM": "offscreen"})
    return env


def _entry(how: str) -> list[str]:
    if how == "module":
        return [sys.executable, "-m", "app"]
    if not GRIDHALL.exists():
        pytest.skip("the gridhall script is not installed in this environment")
    return [str(GRIDHALL)]


def read_one_line(argv: list[str]) -> tuple[int, bytes, str]:
    """Run ``argv``, read the first line of its stdout, close the pipe, then wait: (exit, line, stderr)."""
    p = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        first = p.stdout.readline()
        p.stdout.close()  # the reader goes away (`| head -1`)
        err = p.stderr.read().decode("utf-8", "replace")
        code = p.wait(timeout=180)
    finally:
        if p.poll() is None:
            p.kill()
    return code, first, err


def quiet(err: str) -> None:
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert err == "", err


def _number(db: str) -> str:
    """A new supervisor's report (filed without verification), through the CLI."""
    import json

    p = subprocess.run([sys.executable, "-m", "app", "case", "report", "--db", db, "--as", "supervisor", "--source",
                        "supervisor", *REPORT, "--format", "json"],
                       cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["case"]["number"]


@pytest.mark.parametrize("how", ["module", "script"])
def test_a_reader_leaving_after_the_first_line_ends_quietly(desk, how):  # noqa: F811
    db, _snapshot = desk
    number = _number(db)
    base = _entry(how)
    for verb in (["case", "show", number, "--as", "acceptor"], ["case", "list", "--as", "acceptor"],
                 ["case", "file", number, "--as", "leader_shift", "--note", "立案"]):
        code, first, err = read_one_line([*base, *verb, "--db", db])
        quiet(err)
        assert code in (0, 141) and first.strip(), (verb, code, first)


@pytest.mark.parametrize("backend", ["spatialite"])  # a thousand seeded cases: one backend is enough
def test_a_long_answer_cut_by_the_reader_exits_141_without_a_traceback(store, backend):
    from services.world import build_world

    from app.services import auth

    world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    for _ in range(2500):  # ~70 bytes a line: far more than a pipe (64 KiB) and the reader's buffer hold
        seed_case(store, world, CaseState.FILED, at=T0, department=None)
    db = str(store.path)
    for argv in ([sys.executable, "-m", "app", "case", "list", "--limit", "5000"],
                 [sys.executable, "-m", "app", "case", "list", "--limit", "5000", "--format", "json"]):
        code, first, err = read_one_line([*argv, "--db", db, "--as", "acceptor"])
        quiet(err)
        assert code == 141 and first.strip()
    # the same through a shell pipeline, as a user types it
    p = subprocess.run(["bash", "-c", f'"{sys.executable}" -m app case list --limit 5000 --db "$DB" --as acceptor '
                                      '| head -1; echo "status=${PIPESTATUS[0]}"'],
                       cwd=ROOT, env={**_env(), "DB": db}, capture_output=True, text=True, timeout=180)
    quiet(p.stderr)
    assert p.stdout.splitlines()[0].startswith("T") and p.stdout.splitlines()[-1] == "status=141"


def test_a_closed_stdout_is_no_traceback(desk):  # noqa: F811
    db, _snapshot = desk
    number = _number(db)
    for command, expected in ((f'case show "{number}" --as acceptor', 0), ("case list --as acceptor", 0),
                              ('case show "S20990101-9999" --as acceptor', 1)):
        p = subprocess.run(["bash", "-c", f'"{sys.executable}" -m app {command} --db "$DB" >&-'],
                           cwd=ROOT, env={**_env(), "DB": db}, capture_output=True, text=True, timeout=180)
        assert "Traceback" not in p.stderr and "AttributeError" not in p.stderr, p.stderr
        assert p.returncode == expected, (command, p.returncode, p.stderr)
        if expected == 1:  # a refusal still says why, on stderr
            assert p.stderr.startswith("gridhall: ") and p.stderr.count("\n") == 1, p.stderr


def test_main_py_ends_quietly_too():
    for argv in (["--help"], ["--bogus"]):
        code, first, err = read_one_line([sys.executable, "main.py", *argv])
        assert "Traceback" not in err and "BrokenPipe" not in err, err
        assert code in (0, 2, 141)
    p = subprocess.run(["bash", "-c", f'"{sys.executable}" main.py --help >&-; echo "status=$?"'],
                       cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr and p.stdout.strip() == "status=0", p.stderr
