"""A throwaway PostgreSQL + PostGIS cluster: for the tests and the live benchmark, not the client.

It runs the server binaries of the distribution's PostgreSQL (see :func:`find_bindir`) as an
unprivileged user on 127.0.0.1 and a free port, in a temporary directory deleted on ``stop``.
``GRIDHALL_PG_BINDIR`` names the binaries' directory explicitly.
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import psycopg2

SUPERUSER = "gridhall"
TEMPLATE = "gridhall_template"
SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
DEBIAN_LAYOUT = Path("/usr/lib/postgresql")


def _major(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.name)) or (0,)


def find_bindir(env: Mapping[str, str] | None = None) -> Path:
    """The directory of the server binaries (initdb, pg_ctl, postgres).

    ``GRIDHALL_PG_BINDIR`` when set; else, in Debian's layout (/usr/lib/postgresql/N/bin), the
    highest major that has the server binaries and PostGIS, then the highest with the binaries;
    else ``pg_config --bindir``. A directory without the binaries comes back as it is: starting
    a cluster then says what is missing.
    """
    env = os.environ if env is None else env
    if env.get("GRIDHALL_PG_BINDIR"):
        return Path(env["GRIDHALL_PG_BINDIR"])
    majors = sorted((d for d in DEBIAN_LAYOUT.glob("*") if (d / "bin" / "initdb").exists()), key=_major, reverse=True)
    with_postgis = [d for d in majors if Path("/usr/share/postgresql", d.name, "extension", "postgis.control").exists()]
    if with_postgis or majors:
        return (with_postgis or majors)[0] / "bin"
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = ""
    return Path(out) if out else DEBIAN_LAYOUT / "bin"


PG_BINDIR = find_bindir()


class PgUnavailable(RuntimeError):
    """The PostgreSQL binaries are missing or the cluster did not start."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """One temporary cluster on 127.0.0.1:<port>, superuser ``gridhall`` with a password."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = Path(bindir or PG_BINDIR)
        for tool in SERVER_TOOLS:
            if not (self.bindir / tool).exists():
                raise PgUnavailable(f"PostgreSQL binary {self.bindir / tool} is missing: run `make setup` "
                                    "(installs the distribution's PostgreSQL with PostGIS)")
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="gridhall-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.password = secrets.token_urlsafe(12)
        self._names = itertools.count(1)
        self.running = False

    # -- process control ---------------------------------------------------------------
    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PgUnavailable(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}\n{log}")

    def _server_options(self) -> str:
        return (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60")

    def start(self) -> PgCluster:
        """initdb, start the server and prepare a PostGIS template database."""
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.as_root:
            pg = pwd.getpwnam("postgres")
            os.chown(self.root, pg.pw_uid, pg.pw_gid)
            os.chown(pwfile, pg.pw_uid, pg.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
                  "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256")
        pwfile.unlink()
        self.start_server()
        with self.admin() as conn:
            conn.cursor().execute(f"CREATE DATABASE {TEMPLATE}")
        with self.admin(TEMPLATE) as conn:
            conn.cursor().execute("CREATE EXTENSION postgis")
        return self

    def start_server(self) -> None:
        """Start the (initialised, stopped) server on this cluster's port."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._server_options(),
                  "-w", "-t", "60", "start")
        self.running = True

    def stop_server(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m MODE``; the data directory stays (``start_server`` starts it again)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def stop(self) -> None:
        """Stop the server (immediately) and delete its directory."""
        try:
            if self.running:
                self.stop_server("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- databases ---------------------------------------------------------------------
    def admin(self, dbname: str = "postgres") -> _Closing:
        """An autocommit superuser connection over the unix socket."""
        conn = psycopg2.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname=dbname)
        conn.autocommit = True
        return _Closing(conn)

    def url(self, dbname: str, *, password: str | None = None) -> str:
        """The TCP URL of ``dbname`` with the superuser's (or the given) password."""
        pw = self.password if password is None else password
        return f"postgresql://{SUPERUSER}:{pw}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, *, postgis: bool = True, template: str | None = None) -> str:
        """A fresh database: a copy of ``template``, else empty with PostGIS unless told otherwise."""
        name = f"t{os.getpid()}_{next(self._names)}"
        template = template or (TEMPLATE if postgis else "template0")
        with self.admin() as conn:
            # FILE_COPY beats the default WAL_LOG for small databases when fsync is off.
            conn.cursor().execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return name

    def database_size(self, name: str) -> int:
        """The size of database ``name`` on disk, in bytes (``pg_database_size``)."""
        with self.admin(name) as conn:
            cur = conn.cursor()
            cur.execute("SELECT pg_database_size(current_database())")
            row = cur.fetchone()
            return int(row[0]) if row else 0

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whoever still uses it."""
        with self.admin() as conn:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class _Closing:
    def __init__(self, conn: psycopg2.extensions.connection) -> None:
        self.conn = conn

    def __enter__(self) -> psycopg2.extensions.connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def start_cluster(retries: int = 3) -> PgCluster:
    """Start a cluster, retrying on a port taken between choosing and binding it."""
    last: Exception | None = None
    for _ in range(retries):
        cluster = PgCluster()
        try:
            return cluster.start()
        except PgUnavailable as exc:
            last = exc
            cluster.stop()
            if "could not bind" not in str(exc) and "Address already in use" not in str(exc):
                break
            time.sleep(0.2)
    raise last  # type: ignore[misc]
