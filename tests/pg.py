"""A throwaway PostgreSQL + PostGIS cluster for tests (Debian's postgresql-15 binaries)."""

from __future__ import annotations

import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

PG_BINDIR = Path(os.environ.get("GRIDHALL_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "gridhall"
TEMPLATE = "gridhall_template"


class PgUnavailable(RuntimeError):
    """The PostgreSQL binaries are missing or the cluster did not start."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """One temporary cluster on 127.0.0.1:<port>, superuser ``gridhall`` with a password."""

    def __init__(self) -> None:
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (PG_BINDIR / tool).exists():
                raise PgUnavailable(f"PostgreSQL binary {PG_BINDIR / tool} is missing: run `make setup` "
                                    "(installs postgresql-15-postgis-3)")
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
        cmd = [str(PG_BINDIR / args[0]), *args[1:]]
        if self.as_root:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PgUnavailable(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}\n{log}")

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
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")
        self.running = True
        with self.admin() as conn:
            conn.cursor().execute(f"CREATE DATABASE {TEMPLATE}")
        with self.admin(TEMPLATE) as conn:
            conn.cursor().execute("CREATE EXTENSION postgis")
        return self

    def stop(self) -> None:
        """Stop the server (fast) and delete its directory."""
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self.running = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- databases ---------------------------------------------------------------------
    def admin(self, dbname: str = "postgres"):
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

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whoever still uses it."""
        with self.admin() as conn:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class _Closing:
    def __init__(self, conn) -> None:
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc) -> None:
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
