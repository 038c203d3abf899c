"""A SpatiaLite file looked at before anything may write to it, and its damage diagnosed.

Opening a store through SQLAlchemy runs the connection settings (``journal_mode=WAL`` among
them), which turn a zero-byte file into a 4 KB database and rewrite the header of any SQLite
file. So a command that does not create stores first looks at the file read-only here: an
empty file, a file that is not SQLite, an unreadable (damaged) one, one without the GridHall
schema or without the SpatiaLite metadata tables is refused before any connection writes.
"""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from app.domain.messages import Msg
from app.store.errors import SchemaMissing, StoreDamaged, StoreError, driver_detail

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: SpatiaLite's metadata tables: without them the geometry columns and the map do not work.
SPATIAL_METADATA = ("geometry_columns", "spatial_ref_sys")
#: How long the read-only look waits for a writer's lock (seconds).
PROBE_TIMEOUT_S = 15.0


@contextmanager
def read_only(path: Path, timeout: float = PROBE_TIMEOUT_S) -> Iterator[sqlite3.Connection]:
    """A plain read-only sqlite3 connection to ``path`` (no extension, no settings that write)."""
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=timeout)
    try:
        yield conn
    finally:
        conn.close()


def file_problem(path: Path) -> Msg | None:
    """Why ``path`` (an existing file) cannot be a SQLite database at all, or None."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block the read below, a device never end
            return Msg("{path} 不是普通文件（可能是设备、命名管道或套接字），不能作为数据库文件", path=path)
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        return Msg("无法读取 {path}：{strerror}", path=path, strerror=exc.strerror)
    if not header:
        return Msg("{path} 是空文件（0 字节），不是 GridHall 数据库；如要在这里新建数据库，请运行 gridhall db init --db {path}",
                   path=path)
    if header != SQLITE_HEADER:
        return Msg("{path} 不是可用的 SQLite 数据库（文件头不符）；请检查路径", path=path)
    return None


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def probe(path: Path, *, check_schema: bool) -> None:
    """Refuse, before any connection that could write, a file that is no usable GridHall store.

    Raises :class:`StoreError` (not SQLite, empty), :class:`StoreDamaged` (unreadable, SpatiaLite
    metadata missing) or, with ``check_schema``, :class:`SchemaMissing` (no GridHall schema).
    """
    problem = file_problem(path)
    if problem is not None:
        raise StoreError(problem)
    try:
        with read_only(path) as conn:
            names = table_names(conn)
    except sqlite3.DatabaseError as exc:
        detail = driver_detail(exc)
        if "locked" in detail or "busy" in detail:
            return  # a writer holds the file: the open proper waits for it and says so
        raise StoreDamaged(Msg("{path} 已损坏，无法读取（{detail}）；请运行 gridhall db check --db {path} 查看，并从备份恢复",
                               path=path, detail=detail)) from None
    if "alembic_version" not in names:
        if check_schema:
            raise SchemaMissing(Msg("数据库 {where} 还没有 GridHall 表结构。请运行 gridhall db init --db {where}"
                                    "（或 gridhall db upgrade --db {where}）", where=path))
        return
    missing = [t for t in SPATIAL_METADATA if t not in names]
    if missing:
        raise StoreDamaged(Msg("{path} 缺少 SpatiaLite 元数据表 {tables}：几何字段和地图无法使用。请运行 gridhall db check --db {path} "
                               "查看，并从备份恢复", path=path, tables=", ".join(missing)))


__all__ = ["PROBE_TIMEOUT_S", "SPATIAL_METADATA", "SQLITE_HEADER", "file_problem", "probe", "read_only",
           "table_names"]
