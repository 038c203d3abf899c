"""Bulk loading into an empty store: plain tuples, one transaction, checked as it goes.

For generators that write hundreds of thousands of rows at once (``data/democity``: the city
demo writes ~250,000 components, ~1,000,000 cases and ~7,500,000 case events). Row-by-row
ORM inserts with every trigger firing took over half an hour; this path takes minutes and
ends with exactly the rows the row-by-row path wrote (same values, same geometry blobs, same
R*Trees).

Everything happens in ONE transaction (DDL is transactional on SQLite and PostgreSQL), so a
failure or a cancel leaves the store as it was: leaving the ``with`` block without
:meth:`BulkLoad.finish` rolls back. Batches go to a writer thread, so the database works
while the caller generates the next batch; with ``separate_process=True`` (the city) that
thread only forwards them to a child process that owns the connection and the transaction,
so the value conversion and the driver's work no longer compete for the caller's GIL.

SpatiaLite
  * a dedicated connection with ``foreign_keys=OFF``, a rollback journal
    (``journal_mode=DELETE`` instead of WAL, so the load is not written twice; an empty
    store's few existing pages are all it journals) and ``synchronous=OFF`` while loading;
    WAL and NORMAL are restored afterwards;
  * the per-row triggers of the big tables (SpatiaLite's geometry check, R*Tree upkeep and
    timestamps; migration 0002's chain check) are dropped for the load and recreated from
    their own stored SQL before the commit. Their work is done per batch instead, in the
    writer thread: the R*Tree is filled with ``RTreeAlign`` (what the dropped trigger calls,
    in the same rowid order: the same tree), the geometry constraint, the foreign keys and
    the chain are checked set-wise for the batch's rows, ``geometry_columns_time`` is stamped;
  * ``executemany`` of tuples; points go through ``MakePoint``, other geometries ``GeomFromText``.

PostGIS
  * ``COPY … FROM STDIN`` in text format; points as hex EWKB, other geometries as EWKT;
  * triggers are handled the way ``pg_restore --disable-triggers`` handles them: a superuser
    sets ``session_replication_role = replica`` for the transaction (no user trigger and no
    foreign-key trigger fires; the foreign keys are then checked per batch by anti-joins);
    an owner that is no superuser disables the big tables' user triggers (``ALTER TABLE …
    DISABLE TRIGGER USER``; foreign keys stay checked row by row) and enables them again
    before the commit. The big tables are analysed before the commit.

The checks stand in for the skipped triggers (migration 0002: chain_no, prev_hash and seq
on every insert; the deferred head and case checks at commit): per batch, chain_no is the
next link (ids and chain_no run gap-free from 1 in insertion order), prev_hash is the
previous link's hash, seq is its case's next event number (unique per case, and seq - 1 is
an earlier link of the same case); at the end audit_head names the last link and every
case's version and state match its last event. A failed check raises BulkLoadError and
nothing is committed. The rows carry their own hashes, as the owner's rows do through the
chain trigger (it does not recompute them for the owner); ``gridhall db verify-audit``
recomputes every one.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import queue
import sqlite3
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from operator import methodcaller
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Float, Integer, PoolProxiedConnection, Table
from sqlalchemy.exc import DBAPIError

from app.domain.audit import GENESIS_HASH
from app.domain.definitions import STORE_SRID
from app.store.engine import Store, _load_spatialite
from app.store.errors import StoreError
from app.store.models import Case, CaseEvent, Component
from app.store.search import fill_missing

if TYPE_CHECKING:  # imported by SQLAlchemy when PostgreSQL is used
    from psycopg2.extensions import cursor as PgCursor

log = logging.getLogger(__name__)

#: Tables whose triggers and secondary indexes are set aside during a load.
BIG_TABLES: tuple[Table, ...] = (Component.__table__, Case.__table__, CaseEvent.__table__)
#: Batches waiting for the writer thread (back-pressure on the generator).
QUEUE_DEPTH = 4
#: The interpreter's thread switch interval during a load (seconds).
SWITCH_INTERVAL = 0.0005
NOTIFY_CHANNEL = "gridhall_cases"  # app.store.notify.CHANNEL (migration 0003)

Row = Sequence[Any]


class BulkLoadError(StoreError):
    """The bulk load failed or its final check found a problem; nothing was committed."""


class BulkLoad:
    """One bulk load into ``store`` in one transaction; a context manager.

    ``with BulkLoad(store) as load:`` opens it; :meth:`insert` queues batches for a writer
    thread (so the database works while the caller generates the next batch), :meth:`finish`
    checks, puts the triggers back and commits. Leaving the block without :meth:`finish` (an
    exception, a cancel) rolls everything back.
    """

    def __init__(self, store: Store, big_tables: Sequence[Table] = BIG_TABLES, *, separate_process: bool = False):
        self.store = store
        self.backend = store.backend
        self.big = [t.name for t in big_tables]
        self._impl: _Backend
        if separate_process:
            # The database work (value conversion, COPY text, the driver's binding) in its own
            # process: the writer thread only forwards batches, so the generator keeps the GIL.
            self._impl = _Remote(store)
        else:
            self._impl = _Sqlite(store) if store.backend == "spatialite" else _Postgis(store)
        self._queue: queue.Queue = queue.Queue(QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._prepared = False
        self._done = False
        self._switch: float | None = None
        self.rows: dict[str, int] = {}
        #: Seconds: the writer's busy time (wall and CPU), the caller's wait for it, the finish.
        self.stats = {"writer_busy": 0.0, "writer_cpu": 0.0, "waited": 0.0, "finish": 0.0}

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> BulkLoad:
        self._impl.open()
        try:
            # The writer hands the GIL back for every row it steps and then waits for the
            # generating thread to let go of it: a shorter switch interval halves that wait.
            self._switch = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch, SWITCH_INTERVAL))
            self._thread = threading.Thread(target=self._work, name="gridhall-bulk-writer", daemon=True)
            self._thread.start()
        except BaseException:
            self._thread = None
            self.abort()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._done:
            return
        try:
            self.abort()
        except Exception:
            if exc is None:
                raise
            # The error that ended the load (a cancel, a failed check) is the one to report.
            log.warning("bulk load: the rollback after %s failed", type(exc).__name__, exc_info=True)

    def abort(self) -> None:
        """Drop the queued batches, stop the writer, roll back and restore the settings.

        Each step runs even if an earlier one raises; the first error is raised at the end.
        """
        self._done = True
        try:
            self._stop_writer(drop_queued=True)
        finally:
            try:
                self._impl.rollback()
            finally:
                self._restore_switch()

    def _restore_switch(self) -> None:
        if self._switch is not None:
            sys.setswitchinterval(self._switch)
            self._switch = None

    def _stop_writer(self, drop_queued: bool = False) -> None:
        if self._thread is not None:
            if drop_queued or self._error is not None:  # not to be written: drop what waits
                _drain(self._queue)
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _work(self) -> None:
        stats = self.stats
        while True:
            item = self._queue.get()
            t0, c0 = time.monotonic(), time.thread_time()
            try:
                if item is None:
                    return
                if self._error is None:
                    fn, args = item
                    fn(*args)
            except BaseException as exc:  # handed to the caller at its next call
                self._error = exc
            finally:
                stats["writer_busy"] += time.monotonic() - t0
                stats["writer_cpu"] += time.thread_time() - c0
                self._queue.task_done()

    def _raise_error(self) -> None:
        if self._error is not None:
            exc = self._error  # kept: later calls fail too
            if _is_db_error(exc):
                raise BulkLoadError(f"批量写入失败，已回滚，未写入任何数据：{_db_message(exc)}") from exc
            raise exc

    def flush(self) -> None:
        """Wait until every queued batch is written (raises what the writer hit)."""
        t0 = time.monotonic()
        self._queue.join()
        self.stats["waited"] += time.monotonic() - t0
        self._raise_error()

    # --- reads and small writes (after a flush, on the load's connection) ---------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of one SELECT inside the load's transaction (``?`` placeholders)."""
        self.flush()
        return self._impl.query(sql, params)

    def nonempty(self, tables: Iterable[Table]) -> dict[str, int]:
        """Tables (by name) that already hold rows, with their counts."""
        out = {}
        for t in tables:
            if self.query(f"SELECT 1 FROM {t.name} LIMIT 1"):
                out[t.name] = self.query(f"SELECT count(*) FROM {t.name}")[0][0]
        return out

    def select(self, table: Table, columns: Sequence[str]) -> list[tuple]:
        """All rows of ``columns`` of ``table``, by id."""
        return self.query(f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY id")

    def update(self, table: Table, set_columns: Sequence[str], key: str, rows: Sequence[Row]) -> None:
        """``UPDATE table SET set_columns… WHERE key = …`` for each (values…, key) row.

        The load's connection may not enforce foreign keys (SpatiaLite: ``foreign_keys=OFF``;
        PostgreSQL as superuser: replica role), so the updated columns' foreign keys are then
        checked set-wise over the whole table (meant for small tables, e.g. categories).
        """
        self.flush()
        sets = ", ".join(f"{c} = ?" for c in set_columns)
        self._impl.executemany(f"UPDATE {table.name} SET {sets} WHERE {key} = ?", rows)
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            col, ref = fk.parent.name, fk.column.table.name
            if col not in set_columns:
                continue
            bad = self._impl._one(f"SELECT count(*) FROM {table.name} x WHERE x.{col} IS NOT NULL AND NOT EXISTS "
                                  f"(SELECT 1 FROM {ref} r WHERE r.{fk.column.name} = x.{col})", ())
            if bad:
                raise BulkLoadError(f"批量写入的数据未通过数据库规则检查，已回滚："
                                    f"{table.name}.{col} 中有 {bad} 行指向 {ref} 中不存在的记录")

    def prepare(self) -> None:
        """Set the big tables' per-row triggers aside (undone by finish, or by the rollback)."""
        self.flush()
        self._impl.prepare(self.big)
        self._prepared = True

    # --- the load itself ----------------------------------------------------------------------
    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[Row], geometry: str | None = None) -> None:
        """Queue ``rows`` (tuples in ``columns`` order) for ``table``.

        ``geometry``: None (no geometry), ``"wkt"`` (the last value is WKT for column
        ``geom``) or ``"xy"`` (the last two values are the x and y of a point ``geom``).
        """
        self._raise_error()
        if not rows:
            return
        if geometry is not None and columns[-1] != "geom":
            raise ValueError("the geometry column comes last and is called geom")
        self.rows[table.name] = self.rows.get(table.name, 0) + len(rows)
        t0 = time.monotonic()
        self._queue.put((self._impl.insert, (table, tuple(columns), rows, geometry)))
        self.stats["waited"] += time.monotonic() - t0

    def finish(self, head: tuple[int, str], progress: Callable[[float, str], None] | None = None,
               check: Callable[[], None] | None = None) -> None:
        """Move audit_head to ``head``, check, put the triggers back and commit.

        ``check()`` is called last before the commit (a cancel point: what it raises rolls back).
        """
        report = progress or (lambda _f, _m: None)
        self.flush()
        self._stop_writer()
        started = time.monotonic()
        impl = self._impl
        impl.execute("UPDATE audit_head SET chain_no = ?, hash = ? WHERE id = 1", head)
        report(0.1, "核对审计链")
        problem = _final_problem(impl._one, head)
        if problem:
            raise BulkLoadError(f"批量写入的数据未通过数据库规则检查，已回滚：{problem}")
        if self._prepared:
            report(0.6, "恢复触发器")
            impl.restore(self.big)
        impl.fix_sequences(list(self.rows))
        report(0.9, "提交事务")
        if check is not None:
            check()
        impl.commit()
        self._done = True
        self._restore_switch()
        # The search index's triggers were set aside with the others: index the loaded cases
        # (idempotent: only cases without an index row; a failure here loses no case).
        report(0.95, "建立案卷检索索引")
        with self.store.engine.begin() as conn:
            indexed = fill_missing(conn)
        self.stats["finish"] = time.monotonic() - started
        log.info("bulk load: %d cases added to the search index", indexed)
        log.info("bulk load: %s", ", ".join(f"{k} {v:.1f} s" for k, v in self.stats.items()))
        report(1.0, "")


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
            q.task_done()
        except queue.Empty:
            return


def _is_db_error(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError | sqlite3.Error) or type(exc).__module__.startswith("psycopg2")


def _db_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


# --- value conversion --------------------------------------------------------------------------

_json_cache: dict[tuple, str] = {}


def _json_text(v: Any) -> str:
    # SQLAlchemy's JSON type: json.dumps, and None as JSON null (none_as_null=False). The
    # generators repeat a few small payloads millions of times: their text is kept.
    if v is None:
        return "null"
    try:
        key = tuple(v.items())
        text = _json_cache.get(key)
    except (AttributeError, TypeError):  # not a dict of hashable values
        return json.dumps(v)
    if text is None:
        text = json.dumps(v)
        if len(_json_cache) < 10000:
            _json_cache[key] = text
    return text


def _sqlite_converter(col: Column[Any]) -> Callable[[Any], Any] | None:
    # What SQLAlchemy's SQLite types store, so a bulk-loaded row equals an ORM-written one.
    t = col.type
    if isinstance(t, DateTime):
        return lambda v: None if v is None else v.isoformat(" ", "microseconds")
    if isinstance(t, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(t, Boolean):
        return lambda v: None if v is None else int(v)
    if isinstance(t, JSON):
        return _json_text
    return None


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_converter(col: Column[Any]) -> Callable[[Any], str]:
    """The COPY text of one column's values (``\\N`` for NULL)."""
    t = col.type
    fmt: Callable[[Any], str]
    if isinstance(t, JSON):
        return lambda v: _json_text(v).translate(_COPY_ESCAPES)
    if isinstance(t, DateTime):
        fmt = methodcaller("isoformat", " ")
    elif isinstance(t, Date):
        fmt = methodcaller("isoformat")
    elif isinstance(t, Boolean):
        def fmt(v: Any) -> str:
            return "t" if v else "f"
    elif isinstance(t, Float):
        def fmt(v: Any) -> str:
            return repr(float(v))
    elif isinstance(t, Integer):
        fmt = str
    else:
        def fmt(v: Any) -> str:
            return str(v).translate(_COPY_ESCAPES)
    if not col.nullable:
        return fmt
    return lambda v: "\\N" if v is None else fmt(v)


def point_ewkb_hex(x: float, y: float, srid: int = STORE_SRID) -> str:
    """Hex EWKB of a 2D point with an SRID (what PostGIS prints for a point geometry)."""
    return struct.pack("<BIIdd", 1, 0x20000001, srid, x, y).hex()


# --- backends ------------------------------------------------------------------------------------

class _Backend:
    replica = False  # PostgreSQL: foreign-key triggers are off too

    def open(self) -> None: ...
    def query(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any]) -> Any: ...
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Row]) -> None: ...
    def _write(self, table: Table, columns: tuple[str, ...], rows: Sequence[Row], geometry: str | None) -> None: ...
    def prepare(self, big: list[str]) -> None: ...
    def restore(self, big: list[str]) -> None: ...
    def fix_sequences(self, tables: list[str]) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...

    _last_id: dict[str, int]
    _checked: bool = False

    def insert(self, table: Table, columns: tuple[str, ...], rows: Sequence[Row], geometry: str | None) -> None:
        """Write one batch; for a table whose triggers are set aside, do their work for it."""
        self._write(table, columns, rows, geometry)
        if self._checked:
            if columns[0] != "id":
                raise BulkLoadError(f"批量写入 {table.name} 需要给出 id 列")
            first, last = rows[0][0], rows[-1][0]
            expected = self._last_id.get(table.name, 0) + 1
            if first != expected or last - first + 1 != len(rows):
                raise BulkLoadError(f"{table.name} 的 id 应从 {expected} 起连续递增")
            self._last_id[table.name] = last
            problem = self.batch_problem(table, first, last)
            if problem:
                raise BulkLoadError(f"批量写入的数据未通过数据库规则检查，已回滚：{problem}")

    def batch_problem(self, table: Table, first: int, last: int) -> str | None:
        """What the skipped triggers would have refused among rows ``first..last`` of ``table``."""
        name = table.name
        if name == "case_events":
            bad = self._one("""
                SELECT count(*) FROM case_events e
                  LEFT JOIN case_events p ON p.chain_no = e.chain_no - 1
                 WHERE e.id BETWEEN ? AND ?
                   AND (e.chain_no <> e.id OR e.prev_hash <> coalesce(p.hash, ?))""", (first, last, GENESIS_HASH))
            if bad:
                return f"{bad} 条案卷事件的 chain_no 或 prev_hash 接不上前一环"
            bad = self._one("""
                SELECT count(*) FROM case_events e
                 WHERE e.id BETWEEN ? AND ?
                   AND NOT (e.seq = 1 OR (e.seq > 1 AND EXISTS (
                        SELECT 1 FROM case_events q
                         WHERE q.case_id = e.case_id AND q.seq = e.seq - 1 AND q.chain_no < e.chain_no)))""",
                            (first, last))
            if bad:
                return f"{bad} 条案卷事件的 seq 不是其案卷的下一个序号"
        if self.replica:
            for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
                col, ref = fk.parent.name, fk.column.table.name
                bad = self._one(f"SELECT count(*) FROM {name} x WHERE x.id BETWEEN ? AND ? AND x.{col} IS NOT NULL "
                                f"AND NOT EXISTS (SELECT 1 FROM {ref} r WHERE r.{fk.column.name} = x.{col})",
                                (first, last))
                if bad:
                    return f"{name}.{col} 中有 {bad} 行指向 {ref} 中不存在的记录"
        return None


def _final_problem(one: Callable[[str, Sequence[Any]], Any], head: tuple[int, str]) -> str | None:
    """The deferred checks at commit: audit_head names the last link, cases match their last event."""
    last = one("SELECT max(chain_no) FROM case_events", ()) or 0
    count = one("SELECT count(*) FROM case_events", ())
    if last != head[0] or count != last:
        return f"audit_head 记录第 {head[0]} 环，但链止于第 {last} 环（共 {count} 环）"
    if last and one("SELECT hash FROM case_events WHERE chain_no = ?", (last,)) != head[1]:
        return "audit_head 的哈希不是最后一环的哈希"
    bad = one("""
        SELECT count(*) FROM cases c
         WHERE NOT EXISTS (SELECT 1 FROM case_events l
                            WHERE l.case_id = c.id AND l.seq = c.version AND l.to_state = c.state)
            OR EXISTS (SELECT 1 FROM case_events n WHERE n.case_id = c.id AND n.seq = c.version + 1)""", ())
    if bad:
        return f"{bad} 件案卷的版本或状态与其最后一条事件不符"
    return None


class _Sqlite(_Backend):
    def __init__(self, store: Store):
        self.store = store
        self.conn: sqlite3.Connection | None = None
        self._triggers: list[tuple[str, str]] = []  # (name, sql) dropped by prepare
        self._spatial: dict[str, bool] = {}  # big table -> has an R*Tree
        self._big: set[str] = set()
        self._last_id = {}

    @property
    def db(self) -> sqlite3.Connection:
        """The load's connection (from :meth:`open` to the commit or rollback)."""
        assert self.conn is not None, "the bulk load is not open"
        return self.conn

    def open(self) -> None:
        # Other pooled connections would keep the WAL (and its lock) open: close them first.
        self.store.dispose()
        conn = sqlite3.connect(str(self.store.path), isolation_level=None, check_same_thread=False)
        try:
            _load_spatialite(conn)
            for pragma in ("foreign_keys=OFF", "synchronous=OFF", "cache_size=-524288", "temp_store=MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
            # Another connection with the file open keeps it in WAL: slower, just as safe.
            with contextlib.suppress(sqlite3.OperationalError):
                conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Row]) -> None:
        self.db.executemany(sql, rows)

    def _write(self, table: Table, columns: tuple[str, ...], rows: Sequence[Row], geometry: str | None) -> None:
        cols = [table.c[c] for c in columns]
        convert = [(i, f) for i, c in enumerate(cols) if (f := _sqlite_converter(c)) is not None]
        marks = ["?"] * len(columns)
        if geometry == "xy":
            marks[-1] = f"MakePoint(?, ?, {STORE_SRID})"
        elif geometry == "wkt":
            marks[-1] = f"GeomFromText(?, {STORE_SRID})"
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
        if convert:
            out = []
            for row in rows:
                row = list(row)
                for i, f in convert:
                    row[i] = f(row[i])
                out.append(row)
            rows = out
        self.db.executemany(sql, rows)

    def prepare(self, big: list[str]) -> None:
        marks = ", ".join("?" * len(big))
        self._triggers = self.query(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks}) "
            "AND sql IS NOT NULL ORDER BY name", big)
        for name, _sql in self._triggers:
            self.db.execute(f'DROP TRIGGER "{name}"')
        geo = dict(self.query(f"SELECT lower(f_table_name), spatial_index_enabled FROM geometry_columns "
                              f"WHERE lower(f_table_name) IN ({marks}) AND f_geometry_column = 'geom'",
                              [b.lower() for b in big]))
        self._spatial = {b: bool(geo[b.lower()]) for b in big if b.lower() in geo}
        self._big = set(big)
        self.replica = True  # foreign_keys=OFF: checked per batch
        self._checked = True

    def batch_problem(self, table: Table, first: int, last: int) -> str | None:
        name = table.name
        if name in self._spatial:
            # The dropped BEFORE INSERT trigger's geometry constraint, then the AFTER INSERT
            # trigger's R*Tree entry, row by row in rowid order (the same tree as before).
            bad = self._one(f"""SELECT count(*) FROM "{name}" t, geometry_columns g
                                 WHERE t.ROWID BETWEEN ? AND ? AND lower(g.f_table_name) = lower(?)
                                   AND g.f_geometry_column = 'geom'
                                   AND GeometryConstraints(t.geom, g.geometry_type, g.srid) IS NOT 1""",
                            (first, last, name))
            if bad:
                return f"{name} 中有 {bad} 个几何类型或坐标系不符"
            if self._spatial[name]:
                self.db.execute(f"SELECT count(RTreeAlign('idx_{name}_geom', ROWID, geom)) FROM \"{name}\" "
                                "WHERE ROWID BETWEEN ? AND ? AND geom IS NOT NULL", (first, last))
        return super().batch_problem(table, first, last)

    def restore(self, big: list[str]) -> None:
        for name in self._spatial:
            self.db.execute("UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                            "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = 'geom'", (name,))
        for _name, sql in self._triggers:
            self.db.execute(sql)

    def fix_sequences(self, tables: list[str]) -> None:
        pass  # INTEGER PRIMARY KEY: the next rowid follows the largest one

    def commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        finally:
            self._close()

    def rollback(self) -> None:
        if self.conn is None:
            return
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self._close()

    def _close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # what every store connection uses
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error:
            pass  # a file about to be removed (a failed demo) may not allow it; nothing to keep
        finally:
            conn.close()


class _Postgis(_Backend):
    def __init__(self, store: Store):
        self.store = store
        self.raw: PoolProxiedConnection | None = None
        self.cur: PgCursor | None = None
        self._disabled: list[str] = []
        self._big: set[str] = set()
        self._last_id = {}

    @property
    def c(self) -> PgCursor:
        """The load's cursor (from :meth:`open` to the commit or rollback)."""
        assert self.cur is not None, "the bulk load is not open"
        return self.cur

    def open(self) -> None:
        self.raw = self.store.engine.raw_connection()
        self.cur = cast("PgCursor", self.raw.cursor())  # psycopg2's, under the pool's proxy
        self.cur.execute("SET LOCAL synchronous_commit = off")
        # The owner's import path (migration 0006): case columns and event times are taken as given.
        self.cur.execute("SET LOCAL gridhall.import = 'on'")

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        self.c.execute(self._sql(sql), tuple(params))
        return self.c.fetchall()

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        self.c.execute(self._sql(sql), tuple(params))
        row = self.c.fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.c.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Row]) -> None:
        self.c.executemany(self._sql(sql), rows)

    def _write(self, table: Table, columns: tuple[str, ...], rows: Sequence[Row], geometry: str | None) -> None:
        conv = [_copy_converter(table.c[c]) for c in columns]
        buf = io.StringIO()
        write = buf.write
        if geometry is None:
            for row in rows:
                write("\t".join([f(v) for f, v in zip(conv, row, strict=True)]))
                write("\n")
        else:
            conv = conv[:-1]
            n = len(conv)
            prefix = f"\tSRID={STORE_SRID};"
            for row in rows:
                write("\t".join([f(v) for f, v in zip(conv, row[:n], strict=True)]))
                if geometry == "xy":
                    write("\t" + point_ewkb_hex(row[n], row[n + 1]) + "\n")
                else:
                    write(prefix + row[n] + "\n")
        buf.seek(0)
        self.c.copy_expert(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN", buf, size=1 << 20)

    def prepare(self, big: list[str]) -> None:
        self.replica = bool(self._one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", ()))
        if self.replica:
            # pg_restore's way for a superuser: no user trigger and no foreign-key trigger fires.
            self.c.execute("SET LOCAL session_replication_role = replica")
        else:
            for table in big:
                try:
                    self.c.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                except Exception as exc:
                    if not _is_db_error(exc):
                        raise
                    raise BulkLoadError(f"批量写入需要表 {table} 的所有者权限：{_db_message(exc)}") from None
                self._disabled.append(table)
        self._big = set(big)
        self._checked = True

    def restore(self, big: list[str]) -> None:
        for table in self._disabled:
            self.c.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        if self.replica:
            self.c.execute("SET LOCAL session_replication_role = origin")
        for table in big:
            self.c.execute(f"ANALYZE {table}")

    def fix_sequences(self, tables: list[str]) -> None:
        # Explicit ids were loaded: move each serial sequence past the largest one.
        for table in tables:
            self.c.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false) "
                f"WHERE pg_get_serial_sequence('{table}', 'id') IS NOT NULL")
        # The skipped statement triggers of migration 0003 would have asked clients to reload.
        self.c.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps({"resync": True})))

    def commit(self) -> None:
        assert self.raw is not None, "the bulk load is not open"
        try:
            self.raw.commit()
        finally:
            self._close()

    def rollback(self) -> None:
        if self.raw is None:
            return
        try:
            self.raw.rollback()
        finally:
            self._close()

    def _close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            try:
                self.c.close()
            finally:
                raw.close()


# --- the writer in its own process -----------------------------------------------------------------

class _Remote(_Backend):
    """The backend in a child process; every call is one round trip over a pair of pipes.

    Rows cross pickled; the child does the conversion and the driver's work while the
    generator makes the next batch. The child is a fresh interpreter (``python -c``, not
    multiprocessing: nothing of the caller's main module or threads is re-run or copied). Its
    connection holds the one transaction: a commit or rollback ends the child, and a parent
    that dies takes the transaction with it (the pipe closes, the child rolls back).
    """

    def __init__(self, store: Store):
        self.store = store
        self.send_end: Any = None
        self.recv_end: Any = None
        self.child: Any = None

    def open(self) -> None:
        import subprocess
        from multiprocessing.connection import Connection

        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        root = str(Path(__file__).resolve().parents[2])  # the directory that holds the app package
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        code = "import sys; from app.store.bulk import _child_main; _child_main(int(sys.argv[1]), int(sys.argv[2]))"
        try:
            self.child = subprocess.Popen([sys.executable, "-c", code, str(to_child_r), str(from_child_w)],
                                          pass_fds=(to_child_r, from_child_w), env=env, stdin=subprocess.DEVNULL)
        except BaseException:
            os.close(to_child_w)
            os.close(from_child_r)
            raise
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.send_end = Connection(to_child_w, readable=False)
        self.recv_end = Connection(from_child_r, writable=False)
        try:
            target = str(self.store.path) if self.store.backend == "spatialite" else \
                self.store.url.render_as_string(hide_password=False)
            self.store.dispose()  # the child's connection must be the only one (SQLite's journal mode)
            self._call("open", target)
        except BaseException:
            self._end()  # closes the pipes: a child still waiting reads EOF and exits
            raise

    def _call(self, name: str, *args: Any) -> Any:
        if self.send_end is None:
            raise BulkLoadError("批量写入已结束")
        try:
            self.send_end.send((name, args))
            ok, value = self.recv_end.recv()
        except (EOFError, OSError):
            self._end()
            raise BulkLoadError("批量写入进程意外退出，已回滚，未写入任何数据") from None
        if not ok:
            raise value
        return value

    def _end(self) -> None:
        for end in (self.send_end, self.recv_end):
            if end is not None:
                end.close()
        self.send_end = self.recv_end = None
        if self.child is not None:
            try:
                self.child.wait(60)
            except Exception:
                self.child.kill()
                self.child.wait()
            self.child = None

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        return cast(list, self._call("query", sql, tuple(params)))

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        return self._call("_one", sql, tuple(params))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._call("execute", sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Row]) -> None:
        self._call("executemany", sql, list(rows))

    def insert(self, table: Table, columns: tuple[str, ...], rows: Sequence[Row], geometry: str | None) -> None:
        self._call("insert", table.name, columns, rows, geometry)

    def prepare(self, big: list[str]) -> None:
        self._call("prepare", big)

    def restore(self, big: list[str]) -> None:
        self._call("restore", big)

    def fix_sequences(self, tables: list[str]) -> None:
        self._call("fix_sequences", tables)

    def commit(self) -> None:
        try:
            self._call("commit")
        finally:
            self._end()

    def rollback(self) -> None:
        if self.send_end is None:
            return
        try:
            self._call("rollback")
        except BulkLoadError:
            pass  # the child is gone: its transaction went with it
        finally:
            self._end()


def _child_main(read_fd: int, write_fd: int) -> None:
    """The child's loop: run each call on a local backend and answer (ok, value)."""
    from multiprocessing.connection import Connection

    from app.store.engine import open_store
    from app.store.models import Base

    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    store: Store | None = None
    impl: _Backend | None = None
    try:
        while True:
            try:
                name, args = inbox.recv()
            except (EOFError, OSError):
                return  # the parent is gone: the finally below rolls back
            try:
                if name == "open":
                    store = open_store(args[0], check_schema=False)
                    impl = _Sqlite(store) if store.backend == "spatialite" else _Postgis(store)
                    value = impl.open()
                else:
                    assert impl is not None, "open first"
                    if name == "insert":
                        args = (Base.metadata.tables[args[0]], *args[1:])
                    value = getattr(impl, name)(*args)
                reply: tuple[bool, Any] = (True, value)
            except BaseException as exc:
                if _is_db_error(exc):
                    exc = BulkLoadError(f"批量写入失败，已回滚，未写入任何数据：{_db_message(exc)}")
                elif not isinstance(exc, StoreError):
                    exc = BulkLoadError(f"批量写入失败，已回滚：{type(exc).__name__}: {exc}")
                reply = (False, exc)
            outbox.send(reply)
            if name in ("commit", "rollback") or (name == "open" and not reply[0]):
                return
    finally:
        if impl is not None:
            with contextlib.suppress(Exception):
                impl.rollback()
        if store is not None:
            store.dispose()
