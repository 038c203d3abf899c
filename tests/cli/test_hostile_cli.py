"""Hostile input through `python -m app …`, run as a user runs it (a subprocess), on both backends.

Each test asserts the exit code, ONE clear line on stderr in the user's language (English here,
Chinese where said), no traceback, and that the store is unchanged (the SpatiaLite file's bytes,
or the counts of cases, events and attachments on PostGIS).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from services.seed import seed_case
from services.world import PASSWORD, T0, build_world
from sqlalchemy import func, select, text

from app.config import redact, redact_text
from app.domain.definitions import CaseState
from app.services import auth
from app.store.models import Attachment, Case, CaseEvent

ROOT = Path(__file__).resolve().parents[2]
REPORT = ("--at", "557150,3464450", "--category", "06010", "--description", "路边暴露垃圾")


def gridhall(*argv: str, lang: str = "en", env: dict | None = None, stdin=subprocess.DEVNULL, stdout=None,
             timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m app <argv>`` as a user runs it; returns the finished process (text output)."""
    full = {k: v for k, v in os.environ.items() if k not in ("GRIDHALL_DB", "GRIDHALL_PASSWORD")}
    full.update({"GRIDHALL_LANG": lang, "QT_QPA_PLATFORM": "offscreen", "GRIDHALL_PASSWORD": PASSWORD})
    for k, v in (env or {}).items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    return subprocess.run([sys.executable, "-m", "app", *argv], cwd=ROOT, env=full, stdin=stdin,
                          stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True, errors="replace")


def one_line(p: subprocess.CompletedProcess, code: int, *words: str) -> str:
    """The one ``gridhall…`` line of stderr, after checking the exit code and that no traceback came."""
    err = p.stderr
    assert "Traceback" not in err and "[SQL" not in err and "INSERT" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("gridhall")]
    assert len(lines) == 1, err
    assert p.returncode == code, (p.returncode, err)
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert len(lines[0]) < 400, lines[0]  # oversized input is named by its size, never echoed
    return lines[0]


@pytest.fixture
def desk(store, backend):
    """The store with the tiny district and a login per user: (db argument, snapshot function)."""
    if backend == "spatialite":
        world = build_world(store, password_hash=auth.hash_password(PASSWORD))
        db = str(store.path)
    else:
        from store.hall import world_logins

        world = build_world(store)
        world_logins(store, world, PASSWORD)
        db = store.url.render_as_string(hide_password=False)
    seed_case(store, world, CaseState.FILED, at=T0, department=None)

    def snapshot():
        with store.engine.connect() as conn:
            counts = tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                           for t in (Case, CaseEvent, Attachment))
            versions = conn.execute(select(func.coalesce(func.sum(Case.version), 0))).scalar()
        return (*counts, versions)

    return db, snapshot


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- --db: empty, blank, malformed: an error, never a fallback ---------------------------------

BAD_DB = {
    "empty": ("", "address is empty"),
    "blank": ("   ", "address is empty"),
    "port-letters": ("postgresql://u:p@127.0.0.1:abc/db", "port must be a number"),
    "ipv6-unclosed": ("postgresql://u@[::1:5432/db", "IPv6 address goes in brackets"),
    "port-range": ("postgresql://u@127.0.0.1:99999/db", "port must be a number"),
    "scheme": ("mysql://u@h/db", "postgresql://"),
}


@pytest.mark.parametrize("bad", list(BAD_DB))
def test_a_bad_db_argument_is_an_error_never_a_fallback(desk, bad, tmp_path):
    db, snapshot = desk
    value, words = BAD_DB[bad]
    before = snapshot()
    env = {"GRIDHALL_DB": db}  # a store that a fallback would write to
    p = gridhall("case", "report", "--db", value, "--as", "acceptor", *REPORT, env=env)
    line = one_line(p, 1, words)
    assert ":p@" not in line  # the URL's password is not shown
    for argv in (("case", "list", "--db", value, "--as", "acceptor"), ("db", "verify-audit", "--db", value),
                 ("db", "check", "--db", value), ("db", "upgrade", "--db", value)):
        p = gridhall(*argv, env=env)
        assert p.returncode in (1, 2) and "Traceback" not in p.stderr, p.stderr
        assert len([x for x in p.stderr.splitlines() if x.startswith("gridhall")]) == 1, p.stderr
    assert snapshot() == before


def test_a_db_argument_in_chinese_by_default(desk):
    db, snapshot = desk
    p = gridhall("case", "list", "--db", "", "--as", "acceptor", lang="zh_CN", env={"GRIDHALL_DB": db})
    one_line(p, 1, "数据库地址为空")


# --- files: nothing created or changed unless the command creates stores ----------------------

NON_CREATING = [
    ("db", "verify-audit"), ("db", "upgrade"), ("db", "check"), ("db", "seal"),
    ("case", "list", "--as", "acceptor"), ("case", "report", "--as", "acceptor", *REPORT),
    ("user", "list"),
]


@pytest.mark.parametrize("argv", NON_CREATING, ids=lambda a: "-".join(a[:2]))
def test_a_zero_byte_file_stays_zero_bytes_and_a_missing_one_missing(argv, tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    p = gridhall(*argv, "--db", str(empty))
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert "empty file (0 bytes)" in p.stderr
    assert empty.stat().st_size == 0 and sorted(tmp_path.iterdir()) == [empty]
    missing = tmp_path / "sub" / "none.sqlite"
    p = gridhall(*argv, "--db", str(missing))
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert "does not exist" in p.stderr
    assert not missing.exists() and not missing.parent.exists()


def test_not_a_database_and_a_fifo_are_refused_unchanged(tmp_path):
    notes = tmp_path / "notes.sqlite"
    notes.write_text("这不是数据库\n")
    before = _sha(notes)
    one_line(gridhall("db", "verify-audit", "--db", str(notes)), 1, "not a SQLite database file")
    assert _sha(notes) == before
    fifo = tmp_path / "pipe.sqlite"
    os.mkfifo(fifo)
    one_line(gridhall("case", "list", "--as", "acceptor", "--db", str(fifo), timeout=60), 1, "not a regular file")


def test_db_init_still_creates_on_a_zero_byte_file(tmp_path):
    empty = tmp_path / "new.sqlite"
    empty.write_bytes(b"")
    p = gridhall("db", "init", "--db", str(empty))
    assert p.returncode == 0, p.stderr
    assert gridhall("db", "check", "--db", str(empty)).returncode == 0


# --- arguments: non-UTF-8, huge numbers, oversized values, no password -----------------------

def test_a_gbk_argument_is_named_not_a_unicode_error(desk):
    db, snapshot = desk
    before = snapshot()
    gbk = "井盖丢失".encode("gbk").decode("utf-8", "surrogateescape")
    p = gridhall("case", "report", "--db", db, "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                 "--description", gbk)
    one_line(p, 2, "--description", "UTF-8")
    p = gridhall("case", "report", "--db", db, "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                 "--description", gbk, lang="zh_CN")
    one_line(p, 2, "--description", "不是有效的 UTF-8 文本")
    assert snapshot() == before


def test_no_password_and_no_terminal_is_one_line(desk):
    db, snapshot = desk
    before = snapshot()
    for stdin in (subprocess.DEVNULL, None):
        p = gridhall("case", "list", "--db", db, "--as", "acceptor", env={"GRIDHALL_PASSWORD": None},
                     stdin=stdin if stdin is not None else subprocess.DEVNULL)
        one_line(p, 1, "GRIDHALL_PASSWORD")
    # stdin closed altogether (`<&-`)
    p = subprocess.run(["bash", "-c", f'exec {sys.executable} -m app case list --db "$DB" --as acceptor <&-'],
                       cwd=ROOT, env={**{k: v for k, v in os.environ.items() if k != "GRIDHALL_PASSWORD"},
                                      "DB": db, "GRIDHALL_LANG": "en"},
                       capture_output=True, text=True, timeout=120)
    one_line(p, 1, "GRIDHALL_PASSWORD")
    assert snapshot() == before


def test_huge_numbers_and_oversized_values_are_named_by_size(desk):
    db, snapshot = desk
    before = snapshot()
    number = _a_case_number(db)
    one_line(gridhall("case", "file", number, "--db", db, "--as", "shift_leader", "--expect-version",
                      "99999999999999999999999"), 2, "--expect-version")
    one_line(gridhall("case", "list", "--db", db, "--as", "acceptor", "--limit", "9" * 5000), 2, "--limit")
    line = one_line(gridhall("case", "report", "--db", db, "--as", "acceptor", "--at", "1e308,1e308",
                             "--category", "06010", "--description", "垃圾"), 2, "--at", "out of range")
    assert "0000000000" not in line
    line = one_line(gridhall("case", "list", "--db", db, "--as", "u" * 10_000), 2, "--as", "10,000 characters")
    assert "uuuuuuuuuu" not in line
    one_line(gridhall("case", "show", "S" * 5000, "--db", db, "--as", "acceptor"), 2, "5,000 characters")
    assert snapshot() == before


def _a_case_number(db: str) -> str:
    p = gridhall("case", "list", "--db", db, "--as", "acceptor", "--format", "json")
    assert p.returncode == 0, p.stderr
    import json

    return json.loads(p.stdout)["cases"][0]["number"]


def test_overlong_fields_are_one_line_without_sql_on_both_backends(desk):
    db, snapshot = desk
    before = snapshot()
    for option, value in (("--description", "井" * 30_000), ("--address", "人民路" * 2000),
                          ("--reporter", "张" * 500), ("--phone", "1" * 300)):
        p = gridhall("case", "report", "--db", db, "--as", "acceptor", *REPORT[:4], "--description", "垃圾",
                     option, value) if option != "--description" else \
            gridhall("case", "report", "--db", db, "--as", "acceptor", *REPORT[:4], option, value)
        line = one_line(p, 1)
        assert value[:200] not in line and "StringDataRightTruncation" not in p.stderr
    assert snapshot() == before


def test_a_broken_pipe_ends_quietly(desk):
    db, _ = desk
    number = _a_case_number(db)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte (`| true`)
    try:
        p = gridhall("case", "show", number, "--db", db, "--as", "acceptor", stdout=write)
    finally:
        os.close(write)
    assert p.returncode == 141 and p.stderr == "", p.stderr
    p = subprocess.run(["bash", "-c", f'{sys.executable} -m app case show "$N" --db "$DB" --as acceptor | true; '
                                      'echo "status=${PIPESTATUS[0]}"'],
                       cwd=ROOT, env={**os.environ, "N": number, "DB": db, "GRIDHALL_PASSWORD": PASSWORD},
                       capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr, p.stderr
    assert p.stdout.strip() in ("status=0", "status=141")


# --- messages that leak or mislead ------------------------------------------------------------

def test_passwords_are_hidden_by_position_never_by_characters():
    message = 'connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed'
    assert redact_text(message) == message  # a one-letter password "e" must not garble it
    assert redact("postgresql://gh_x:e@127.0.0.1:5432/db") == "postgresql://gh_x:***@127.0.0.1:5432/db"
    assert redact("postgresql://u:p@ss@host/db") == "postgresql://u:***@host/db"
    assert redact_text("dsn host=h password='a b\\'c' user=u, url postgresql://u:s3@h/db") == \
        "dsn host=h password=*** user=u, url postgresql://u:***@h/db"


@pytest.mark.postgis
def test_a_one_letter_password_does_not_garble_the_connection_error(pg_cluster, pg_database):
    url = pg_cluster.url(pg_database)
    from sqlalchemy.engine import make_url

    wrong = make_url(url).set(password="e").render_as_string(hide_password=False)
    line = one_line(gridhall("db", "verify-audit", "--db", wrong), 1, "connection to server", "server")
    assert "***" not in line.replace(":***@", "")


def test_ctrl_c_says_truthfully_whether_the_step_was_committed(desk):
    db, snapshot = desk
    window = ROOT / "tests" / "cli" / "interrupt_at.py"
    before = snapshot()
    for where, committed in (("before_commit", False), ("after_commit", True)):
        p = subprocess.run([sys.executable, str(window), where, "case", "report", "--db", db, "--as", "acceptor",
                            *REPORT], cwd=ROOT, env={**os.environ, "GRIDHALL_PASSWORD": PASSWORD,
                                                     "GRIDHALL_LANG": "en"},
                           capture_output=True, text=True, timeout=180)
        if committed:
            line = one_line(p, 130, "had been committed", "do not submit it again")
            assert snapshot()[0] == before[0] + 1
            number = line.split("case ")[1].split(";")[0]
            assert number.startswith("S") and gridhall("case", "show", number, "--db", db,
                                                       "--as", "acceptor").returncode == 0
        else:
            one_line(p, 130, "was not committed")
            assert snapshot() == before


def test_a_screenshot_to_a_bad_path_says_why(tmp_path):
    p = gridhall("run", "--lang", "en", "--db", str(tmp_path / "none.sqlite"), "--screenshot",
                 str(tmp_path / "no" / "such" / "dir" / "shot.png"))
    one_line(p, 2, "cannot be saved", "does not exist")
    assert p.stdout == ""


# --- damaged stores: a finding with advice, never a crash ---------------------------------------

@pytest.fixture
def sound(store, backend, tmp_path):
    """A SpatiaLite store with cases and events, closed (its WAL folded in): its path."""
    world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    for state in (CaseState.FILED, CaseState.HANDLING, CaseState.CHECKED):
        seed_case(store, world, state, at=T0)
    store.dispose()
    return store.path


def _copy(path: Path, name: str) -> Path:
    target = path.with_name(name)
    shutil.copyfile(path, target)
    return target


def _damage_page(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    conn.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page)
        f.write(b"\xde\xad" * (page // 2))


def _drop(path: Path, *tables: str) -> None:
    conn = sqlite3.connect(path)
    conn.enable_load_extension(True)
    conn.load_extension(os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite"))
    for t in tables:
        conn.execute(f"DROP TABLE {t}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("backend", ["spatialite"])  # file damage is SpatiaLite's
def test_damaged_stores_are_diagnosed(sound):
    assert gridhall("db", "check", "--db", str(sound)).returncode == 0
    damaged = _copy(sound, "damaged.sqlite")
    _damage_page(damaged, "case_events")
    nometa = _copy(sound, "nometa.sqlite")
    _drop(nometa, "geometry_columns", "spatial_ref_sys")
    notable = _copy(sound, "notable.sqlite")
    _drop(notable, "audit_head")
    for path, words in ((damaged, "damaged"), (nometa, "SpatiaLite metadata"), (notable, "audit_head")):
        before = _sha(path)
        p = gridhall("db", "check", "--db", str(path))
        assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
        assert words in p.stderr and ("backup" in p.stderr), p.stderr
        p = gridhall("db", "verify-audit", "--db", str(path))
        one_line(p, 1, "db check")
        assert _sha(path) == before, path
    line = one_line(gridhall("case", "list", "--db", str(nometa), "--as", "acceptor"), 1)
    assert "SpatiaLite metadata tables geometry_columns, spatial_ref_sys" in line and "db check" in line
    p = gridhall("db", "check", "--db", str(damaged), "--format", "json")
    assert p.returncode == 1 and '"ok": false' in p.stdout


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"])
def test_db_check_on_postgis(store, backend):
    db = store.url.render_as_string(hide_password=False)
    assert gridhall("db", "check", "--db", db).returncode == 0
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_head CASCADE"))
    p = gridhall("db", "check", "--db", db)
    assert p.returncode == 1 and "audit_head" in p.stderr and "backup" in p.stderr, p.stderr
    one_line(gridhall("db", "verify-audit", "--db", db), 1, "db check")


def test_a_read_only_command_works_while_another_program_holds_the_write_lock(desk, backend):
    """Logging in only reads when there is no failed-attempts counter to reset (SQLite's write lock
    held by another program made ``case list`` wait out the busy timeout and fail)."""
    if backend != "spatialite":
        pytest.skip("SQLite's file lock")
    db, _snapshot = desk
    holder = sqlite3.connect(db, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held like another program's open write
        p = gridhall("case", "list", "--db", db, "--as", "acceptor", "--format", "json", timeout=60)
        assert p.returncode == 0, p.stderr
        assert "locked" not in p.stderr
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_gridhall_db_is_an_error_not_the_demo_store(value, tmp_path):
    demo = ROOT / "data" / "demo" / "district.sqlite"
    before = _sha(demo) if demo.exists() else None
    p = gridhall("case", "list", "--as", "acceptor", env={"GRIDHALL_DB": value})
    one_line(p, 1, "address is empty")
    assert (_sha(demo) if demo.exists() else None) == before
