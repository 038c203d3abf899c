"""The hostile-input corpus through the command line: `python -m app …` as a user runs it, both backends.

Two tables. ``CLI`` holds command-line inputs across verbs and arguments (the store address,
user and case names, numbers, coordinates, files, the client's options) with what must come of
each: the exit code, words of the one English line on stderr. ``REPORTS`` files the report-field
entries of tests/input/corpus.py (those an argument can carry) through ``gridhall case report``.

Every run must end with exactly one ``gridhall…`` line on stderr when it fails (no traceback, no
SQL), a short line (oversized input named by its size), and the store unchanged; an accepted
report adds exactly one case.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from services.seed import seed_case
from services.world import PASSWORD, T0, build_world
from sqlalchemy import func, select

from app.domain.definitions import CaseState
from app.services import auth
from app.services.cases import CaseService
from app.store.models import Attachment, Case, CaseEvent
from input.corpus import CLI_OPTIONS, CORPUS, make_file

ROOT = Path(__file__).resolve().parents[2]
#: Whether CaseService.report runs the whole draft through the input policy (as tests/input/test_services.py).
WIRED = "check_draft" in CaseService.report.__code__.co_names
AT = ("--at", "557150,3464450")
REPORT = (*AT, "--category", "06010", "--description", "路边暴露垃圾")
GBK = "井盖丢失".encode("gbk").decode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Cli:
    """One command line; ``{db}``, ``{case}``, ``{tmp}`` are filled in; ``code`` None: 1 or 2."""

    id: str
    argv: tuple[str, ...]
    code: int | None = None
    words: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # make_file kinds the argv names as {file0}, {file1}, …


def _case(id: str, verb: str, *argv: str, code: int | None = None, words: tuple[str, ...] = (),  # noqa: A002
          files: tuple[str, ...] = ()) -> Cli:
    return Cli(id, ("case", verb, "--db", "{db}", *argv), code, words, files)


def _db(id: str, value: str, *words: str) -> list[Cli]:  # noqa: A002
    return [Cli(f"db-{id}-case-list", ("case", "list", "--db", value, "--as", "acceptor"), 1, words),
            Cli(f"db-{id}-verify", ("db", "verify-audit", "--db", value), 1, words)]


CLI: list[Cli] = [
    # the store address
    *_db("empty", "", "address is empty"),
    *_db("blank", " \t ", "address is empty"),
    *_db("port-letters", "postgresql://u:secret@127.0.0.1:abc/db", "port must be a number"),
    *_db("ipv6-open", "postgresql://u@[::1:5432/db", "IPv6"),
    *_db("port-range", "postgresql://u@127.0.0.1:70000/db", "port must be a number"),
    *_db("scheme", "mysql://u@h/db"),
    *_db("no-database", "postgresql://u@127.0.0.1:5432"),
    *_db("sqlite-memory", "sqlite://"),
    *_db("missing", "{tmp}/none/none.sqlite", "does not exist"),
    *_db("directory", "{tmp}", "directory"),
    *_db("dev-null", "/dev/null", "not a regular file"),
    Cli("db-gbk-case-list", ("case", "list", "--db", f"{{tmp}}/{GBK}.sqlite", "--as", "acceptor"), 2, ("UTF-8",)),
    Cli("db-init-gbk", ("db", "init", "--db", f"{{tmp}}/{GBK}.sqlite"), 2, ("UTF-8",)),
    Cli("db-check-long", ("db", "check", "--db", "x" * 5000 + "://h/db"), 1),
    # user names
    _case("as-10000", "list", "--as", "u" * 10_000, code=2, words=("10,000 characters",)),
    _case("as-empty", "list", "--as", "", code=1),
    _case("as-escape", "list", "--as", "acc\x1b[2Jeptor", code=1),
    _case("as-rlo", "list", "--as", "acceptor\u202e", code=1),
    _case("as-unknown", "list", "--as", "nobody", code=1),
    _case("as-gbk", "list", "--as", GBK, code=2, words=("--as", "UTF-8")),
    _case("as-sql", "list", "--as", "' OR '1'='1", code=1),
    # case references
    _case("case-5000", "show", "S" * 5000, "--as", "acceptor", code=2, words=("5,000 characters",)),
    _case("case-empty", "show", "", "--as", "acceptor", code=1),
    _case("case-sql", "show", "1' OR '1'='1", "--as", "acceptor", code=1),
    _case("case-negative", "show", "-1", "--as", "acceptor"),
    _case("case-huge-id", "show", "9" * 30, "--as", "acceptor", code=1),
    _case("case-escape", "show", "S2026\x1b[2J", "--as", "acceptor", code=1),
    _case("case-gbk", "show", GBK, "--as", "acceptor", code=2, words=("UTF-8",)),
    # numbers
    _case("expect-huge", "file", "{case}", "--as", "shift_leader", "--expect-version", "9" * 23, code=2,
          words=("--expect-version",)),
    _case("expect-negative", "file", "{case}", "--as", "shift_leader", "--expect-version", "-1", code=2),
    _case("expect-float", "file", "{case}", "--as", "shift_leader", "--expect-version", "1e3", code=2),
    _case("expect-5000-digits", "file", "{case}", "--as", "shift_leader", "--expect-version", "9" * 5000,
          code=2),
    _case("limit-zero", "list", "--as", "acceptor", "--limit", "0", code=2, words=("--limit",)),
    _case("limit-huge", "list", "--as", "acceptor", "--limit", "9" * 40, code=2, words=("--limit",)),
    _case("limit-text", "list", "--as", "acceptor", "--limit", "many", code=2, words=("--limit",)),
    _case("state-unknown", "list", "--as", "acceptor", "--state", "exploded", code=1),
    # coordinates
    _case("at-1e308", "report", "--as", "acceptor", "--at", "1e308,1e308", "--category", "06010",
          "--description", "垃圾", code=2, words=("--at", "out of range")),
    _case("at-nan", "report", "--as", "acceptor", "--at", "nan,nan", "--category", "06010", "--description",
          "垃圾", code=2, words=("--at",)),
    _case("at-inf", "report", "--as", "acceptor", "--at", "inf,-inf", "--category", "06010", "--description",
          "垃圾", code=2, words=("--at",)),
    _case("at-three", "report", "--as", "acceptor", "--at", "1,2,3", "--category", "06010", "--description",
          "垃圾", code=2, words=("--at",)),
    _case("at-words", "report", "--as", "acceptor", "--at", "here", "--category", "06010", "--description",
          "垃圾", code=2, words=("--at",)),
    _case("at-outside", "report", "--as", "acceptor", "--at", "0,0", "--category", "06010", "--description",
          "垃圾", code=1),
    _case("lonlat-huge", "report", "--as", "acceptor", "--lonlat", "1e300,1e300", "--category", "06010",
          "--description", "垃圾", code=2, words=("--lonlat",)),
    # files
    *(_case(f"photo-{kind}", "report", "--as", "acceptor", *REPORT, "--photo", "{file0}", code=1, files=(kind,))
      for kind in ("dev-zero", "fifo", "directory", "missing", "empty", "text-jpg", "symlink-zero", "socket",
                   "symlink-loop")),
    Cli("seal-missing", ("db", "verify-audit", "--db", "{db}", "--seal", "{tmp}/no-seal.json"), 1),
    Cli("seal-garbage", ("db", "verify-audit", "--db", "{db}", "--seal", "{file0}"), 1, files=("text-jpg",)),
    # the client's and the demo's options (refused before a window or a store is touched)
    Cli("run-size-tiny", ("run", "--db", "{db}", "--size", "1x1"), 2, ("--size",)),
    Cli("run-size-huge", ("run", "--db", "{db}", "--size", "9" * 30 + "x1080"), 2, ("--size",)),
    Cli("run-layout-missing", ("run", "--db", "{db}", "--layout", "{tmp}/none.toml"), 2, ("--layout",)),
    Cli("run-screenshot-nodir", ("run", "--db", "{db}", "--screenshot", "{tmp}/no/dir/x.png"), 2,
        ("does not exist",)),
    Cli("run-screenshot-dir", ("run", "--db", "{db}", "--screenshot", "{tmp}"), 2, ("directory",)),
    Cli("demo-seed-negative", ("demo", "--db", "{tmp}/demo.sqlite", "--seed", "-5"), 2, ("seed",)),
    Cli("demo-seed-huge", ("demo", "--db", "{tmp}/demo.sqlite", "--seed", "9" * 5000), 2),
    Cli("unknown-verb", ("case", "explode", "--db", "{db}"), 2),
]

def _argument(value: object) -> bool:
    """Whether ``value`` can be a command-line argument at all (no NUL, bytes the kernel passes on)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        return len(os.fsencode(value)) < 100_000  # one argument may not exceed 128 KiB
    except UnicodeEncodeError:  # a lone surrogate has no bytes
        return False


#: The report-field entries of the shared corpus that a command-line argument can carry.
REPORTS = [e for e in CORPUS if e.field in CLI_OPTIONS and e.field not in ("at", "lonlat", "photo_file")
           and _argument(e.value)]

assert len({c.id for c in CLI}) == len(CLI), "ids must be unique"


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def hall(request, tmp_path_factory):
    """(db argument, snapshot(), a case number) of a store with the tiny district, per backend."""
    from app.store import security
    from app.store.commands import init_db

    auth.configure_hasher(time_cost=1, memory_cost=8, parallelism=1)
    if request.param == "spatialite":
        url = str(tmp_path_factory.mktemp("cli-corpus") / "store.sqlite")
        cluster = name = None
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.create_database()
        url = cluster.url(name)
    store = init_db(url)
    if cluster is None:
        world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:
        from store.hall import world_logins

        world = build_world(store)
        world_logins(store, world, PASSWORD)
    case_id, _ = seed_case(store, world, CaseState.FILED, at=T0, department=None)
    with store.session() as s:
        number = s.get(Case, case_id).number

    def snapshot():
        with store.engine.connect() as conn:
            counts = tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                           for t in (Case, CaseEvent, Attachment))
            return (*counts, conn.execute(select(func.coalesce(func.sum(Case.version), 0))).scalar())

    yield url, snapshot, number
    if cluster is not None:
        for who in world.actors:
            security.drop_login(store, who)
    store.dispose()
    auth.configure_hasher()
    if cluster is not None:
        cluster.drop_database(name)


def gridhall(argv, *, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRIDHALL_DB",)}
    env.update({"GRIDHALL_LANG": "en", "GRIDHALL_PASSWORD": PASSWORD, "QT_QPA_PLATFORM": "offscreen"})
    return subprocess.run([sys.executable, "-m", "app", *argv], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace", timeout=timeout)


def _fill(argv, **values) -> list[str]:
    out = []
    for a in argv:
        for k, v in values.items():
            a = a.replace("{" + k + "}", v)
        out.append(a)
    return out


def _one_failure_line(p: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in p.stderr and "[SQL" not in p.stderr, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.startswith("gridhall")]
    assert len(lines) == 1, p.stderr
    assert len(lines[0]) < 600 and "\x1b" not in lines[0], lines[0]  # (argparse lists a verb's choices)
    return lines[0]


@pytest.mark.parametrize("entry", CLI, ids=lambda e: e.id)
def test_cli_input(hall, entry: Cli, tmp_path):
    db, snapshot, number = hall
    files = {f"file{i}": make_file(kind, tmp_path) for i, kind in enumerate(entry.files)}
    argv = _fill(entry.argv, db=db, case=number, tmp=str(tmp_path), **files)
    before = snapshot()
    p = gridhall(argv)
    line = _one_failure_line(p)
    if entry.code is None:
        assert p.returncode in (1, 2), (p.returncode, line)
    else:
        assert p.returncode == entry.code, (p.returncode, line)
    for word in entry.words:
        assert word in line, (word, line)
    assert "secret" not in line
    assert snapshot() == before
    assert not (tmp_path / "demo.sqlite").exists() and not (tmp_path / "none").exists()


@pytest.mark.parametrize("entry", REPORTS, ids=lambda e: e.id)
def test_report_field_through_the_cli(hall, entry):
    db, snapshot, number = hall
    option = CLI_OPTIONS[entry.field]
    if entry.field == "note":  # a 督办 note on a case, by the leader
        argv = ["case", "duban-note", number, "--db", db, "--as", "boss", "--text", entry.value]
    else:
        # a component, or an address meant to be located, is the report's location instead of --at
        locate = () if entry.field == "component" or "无法定位地址" in entry.words else AT
        argv = ["case", "report", "--db", db, "--as", "acceptor", *locate]
        if entry.field != "category":
            argv += ["--category", "06010"]
        if entry.field != "description":
            argv += ["--description", "路边暴露垃圾"]
        argv += [option, entry.value]
    before = snapshot()
    p = gridhall(argv)
    if p.returncode == 0:  # accepted: exactly one case (a note: one event) more
        assert "Traceback" not in p.stderr, p.stderr
        assert not (WIRED and entry.refused and not entry.needs), (entry.id, p.stdout[:200])
        after = snapshot()
        assert (after[1] == before[1] + 1) if entry.field == "note" else (after[0] == before[0] + 1)
    else:  # refused: one line, nothing written
        _one_failure_line(p)
        assert not (WIRED and not entry.refused), (entry.id, p.stderr)
        assert snapshot() == before
