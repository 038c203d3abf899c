"""Appending many base-data rows (grids, components, roads, departments) in ONE transaction.

For an import into a store that already holds data (unlike ``app.store.bulk``, which loads an empty one).

SpatiaLite
  The per-row work of SpatiaLite's own insert triggers on the table's geometry column — the geometry
  constraint (``ggi_…``, a look-up in ``geometry_columns`` per row), the R*Tree entry (``gii_…``) and the
  insert time stamp (``tmi_…``) — is most of an insert's cost. Those three triggers are dropped inside
  the transaction, the rows go in with ``executemany``, then the same work is done once for all the new
  rows (the constraint checked set-wise, the R*Tree entries inserted in rowid order with the bounds the
  R*Tree module rounds outwards as ``RTreeAlign`` does, the time stamp set) and the triggers are created
  again from their own stored SQL before the commit. DDL is transactional in SQLite: a crash, a kill or a
  cancel anywhere before the commit leaves the file exactly as it was, triggers included. Every other
  trigger on the table (history, foreign keys) fires as usual.

PostGIS
  Core ``INSERT … VALUES`` batches (SQLAlchemy's insertmanyvalues), every trigger firing; one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import LargeBinary, Table, bindparam, func, insert

from app.domain.definitions import STORE_SRID
from app.domain.messages import Msg
from app.store.engine import Store
from app.store.errors import StoreError

#: rows per executemany (and per progress call).
BATCH = 20_000
#: an import of at least this many rows, and at least a quarter of what the R*Tree holds, rebuilds the
#: tree packed (Sort-Tile-Recursive) instead of inserting entry by entry.
PACK_MIN_ROWS = 10_000
_RND_TOWARDS, _RND_AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0  # SQLite's rtree.c


def append_rows(store: Store, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                geometry: bool = True, progress: Callable[[int, int], None] | None = None,
                batch: int = BATCH) -> int:
    """Insert ``rows`` (tuples of ``columns`` values, then the geometry as WKB in the store's SRID when
    ``geometry``) into ``table`` in one transaction; the number inserted. ``progress(done, total)`` may
    raise to cancel: nothing is then written."""
    if store.backend == "spatialite":
        return _append_spatialite(store, table, list(columns), rows, geometry, progress, batch)
    return _append_postgis(store, table, list(columns), rows, geometry, progress, batch)


def _sqlite_dates(chunk: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The rows with their dates and times as the text sqlite3's default adapters wrote
    (``isoformat()``, ``isoformat(" ")``): those adapters are deprecated since Python 3.12."""
    rows = list(chunk)
    if not rows:
        return rows
    columns = {i for row in rows[:64] for i, value in enumerate(row) if isinstance(value, (date, datetime))}
    if not columns:
        return rows

    def text(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat(" ")
        return value.isoformat() if isinstance(value, date) else value

    return [tuple(text(v) if i in columns else v for i, v in enumerate(row)) for row in rows]


def _append_spatialite(store: Store, table: Table, columns: list[str], rows: Sequence[Sequence[Any]],
                       geometry: bool, progress: Callable[[int, int], None] | None, batch: int) -> int:
    name = table.name
    marks = ["?"] * len(columns)
    names = list(columns)
    if geometry:
        names.append("geom")
        marks.append(f"GeomFromWKB(?, {STORE_SRID})")
    sql = f'INSERT INTO {name} ({", ".join(names)}) VALUES ({", ".join(marks)})'
    with store.engine.connect() as conn:
        # pysqlite opens a transaction only before DML: BEGIN first, so the DDL below is inside it.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            triggers: list[tuple[str, str]] = []
            spatial = False
            first = conn.exec_driver_sql(f"SELECT coalesce(max(ROWID), 0) FROM {name}").scalar() or 0
            if geometry:
                spatial = bool(conn.exec_driver_sql(
                    "SELECT spatial_index_enabled FROM geometry_columns WHERE lower(f_table_name) = lower(?) "
                    "AND f_geometry_column = 'geom'", (name,)).scalar())
                triggers = [(n, s) for n, s in conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name IN "
                    "(?, ?, ?)", (name, f"ggi_{name}_geom", f"gii_{name}_geom", f"tmi_{name}_geom"))]
                for trigger, _sql in triggers:
                    conn.exec_driver_sql(f'DROP TRIGGER "{trigger}"')
            total = len(rows)
            # A large import: the table's plain (non-unique) indexes are built once afterwards, sorted,
            # instead of growing entry by entry (their own SQL; inside the same transaction).
            indexes = [(n, q) for n, q in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
                "AND sql NOT LIKE 'CREATE UNIQUE%'", (name,))] if total >= PACK_MIN_ROWS else []
            for index, _sql in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{index}"')
            for start in range(0, total, batch):
                chunk = _sqlite_dates(rows[start:start + batch])
                conn.exec_driver_sql(sql, chunk)
                if progress is not None:
                    progress(start + len(chunk), total)
            for _index, create in indexes:
                conn.exec_driver_sql(create)
            if geometry and triggers:
                bad = conn.exec_driver_sql(
                    f"""SELECT count(*) FROM "{name}" t, geometry_columns g
                         WHERE t.ROWID > ? AND lower(g.f_table_name) = lower(?) AND g.f_geometry_column = 'geom'
                           AND GeometryConstraints(t.geom, g.geometry_type, g.srid) IS NOT 1""",
                    (first, name)).scalar()
                if bad:
                    raise StoreError(Msg("{table} 中有 {n} 个几何类型或坐标系不符", table=name, n=bad))
                if spatial:
                    _fill_rtree(conn, name, first, len(rows))
                conn.exec_driver_sql(
                    "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                    "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = 'geom'", (name,))
                for _trigger, create in triggers:
                    conn.exec_driver_sql(create)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return len(rows)


def _fill_rtree(conn: Any, name: str, first: int, added: int) -> None:
    """The R*Tree entries of the rows after ROWID ``first``: inserted one by one (few rows), or the whole
    tree rebuilt packed (many): the same entries, the bounds rounded outwards to 32-bit floats exactly as
    SQLite's R*Tree module rounds them."""
    idx = f"idx_{name}_geom"
    held = conn.exec_driver_sql(f'SELECT count(*) FROM "{idx}_rowid"').scalar() or 0
    if added < PACK_MIN_ROWS or added * 4 < held:
        conn.exec_driver_sql(
            f'INSERT INTO "{idx}" (pkid, xmin, xmax, ymin, ymax) SELECT ROWID, MbrMinX(geom), MbrMaxX(geom), '
            f'MbrMinY(geom), MbrMaxY(geom) FROM "{name}" WHERE ROWID > ? AND geom IS NOT NULL ORDER BY ROWID',
            (first,))
        return
    import numpy as np

    node_size = conn.exec_driver_sql(f'SELECT length(data) FROM "{idx}_node" WHERE nodeno = 1').scalar()
    old = conn.exec_driver_sql(f'SELECT pkid, xmin, xmax, ymin, ymax FROM "{idx}"').fetchall()
    new = conn.exec_driver_sql(
        f'SELECT ROWID, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM "{name}" '
        "WHERE ROWID > ? AND geom IS NOT NULL", (first,)).fetchall()
    ids = np.array([r[0] for r in old] + [r[0] for r in new], dtype=np.int64)
    boxes = np.empty((len(ids), 4), dtype=np.float32)
    if old:
        boxes[:len(old)] = np.array([r[1:] for r in old], dtype=np.float64)  # stored floats: exact
    if new:
        d = np.array([r[1:] for r in new], dtype=np.float64)
        boxes[len(old):, 0::2] = _round(d[:, 0::2], down=True)  # xmin, ymin
        boxes[len(old):, 1::2] = _round(d[:, 1::2], down=False)  # xmax, ymax
    nodes = _pack(ids, boxes, (node_size - 4) // 24)
    for table in ("node", "rowid", "parent"):
        conn.exec_driver_sql(f'DELETE FROM "{idx}_{table}"')
    conn.exec_driver_sql(f'INSERT INTO "{idx}_node" (nodeno, data) VALUES (?, ?)',
                         [(no, blob.ljust(node_size, b"\0")) for no, blob, _leaf, _children in nodes])
    conn.exec_driver_sql(f'INSERT INTO "{idx}_rowid" (rowid, nodeno) VALUES (?, ?)',
                         [(int(i), no) for no, _blob, leaf, children in nodes if leaf for i in children])
    conn.exec_driver_sql(f'INSERT INTO "{idx}_parent" (nodeno, parentnode) VALUES (?, ?)',
                         [(int(c), no) for no, _blob, leaf, children in nodes if not leaf for c in children])


def _round(d: Any, *, down: bool) -> Any:
    """float64 -> float32 as SQLite's rtreeValueDown / rtreeValueUp (never inside the true bound)."""
    import numpy as np

    f = d.astype(np.float32)
    if down:
        bad = f.astype(np.float64) > d
        f[bad] = (d[bad] * np.where(d[bad] < 0, _RND_AWAY, _RND_TOWARDS)).astype(np.float32)
    else:
        bad = f.astype(np.float64) < d
        f[bad] = (d[bad] * np.where(d[bad] < 0, _RND_TOWARDS, _RND_AWAY)).astype(np.float32)
    return f


def _pack(ids: Any, boxes: Any, capacity: int) -> list[tuple[int, bytes, bool, Any]]:
    """A Sort-Tile-Recursive R-tree of ``ids`` with ``boxes`` (xmin, xmax, ymin, ymax as float32):
    [(node number, node blob without padding, is a leaf, the rowids or child node numbers)], node 1 the
    root (its first two bytes: the tree's depth)."""
    import math

    import numpy as np

    cell = np.dtype([("id", ">i8"), ("x0", ">f4"), ("x1", ">f4"), ("y0", ">f4"), ("y1", ">f4")])
    levels: list[list[Any]] = []  # per level from the leaves up: [(keys, boxes)] per node
    keys, items = ids, boxes
    while True:
        n = len(keys)
        groups: list[Any]
        if n <= capacity:
            groups = [np.arange(n)]
        else:
            pages = math.ceil(n / capacity)
            per_slice = math.ceil(math.sqrt(pages)) * capacity
            order = np.argsort((items[:, 0] + items[:, 1]) / 2, kind="stable")
            groups = []
            for s in range(0, n, per_slice):
                part = order[s:s + per_slice]
                part = part[np.argsort((items[part, 2] + items[part, 3]) / 2, kind="stable")]
                groups += [part[i:i + capacity] for i in range(0, len(part), capacity)]
        level = [(keys[g], items[g]) for g in groups]
        levels.append(level)
        if len(level) == 1:
            break
        keys = np.arange(len(level))  # the next level's children: indices into this level
        items = np.array([[b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max()] for _k, b in level],
                         dtype=np.float32)
    depth = len(levels) - 1
    numbers: list[Any] = [None] * len(levels)
    numbers[depth] = np.array([1])
    next_no = 2
    for lv in range(depth - 1, -1, -1):  # top-down numbering: the root is node 1
        numbers[lv] = np.arange(next_no, next_no + len(levels[lv]))
        next_no += len(levels[lv])
    out: list[tuple[int, bytes, bool, Any]] = []
    for lv, level in enumerate(levels):
        for j, (k, b) in enumerate(level):
            children = k if lv == 0 else numbers[lv - 1][k]
            cells = np.empty(len(k), dtype=cell)
            cells["id"] = children
            cells["x0"], cells["x1"], cells["y0"], cells["y1"] = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
            head = (depth if lv == depth else 0).to_bytes(2, "big") + len(k).to_bytes(2, "big")
            out.append((int(numbers[lv][j]), head + cells.tobytes(), lv == 0, children))
    return out


def _append_postgis(store: Store, table: Table, columns: list[str], rows: Sequence[Sequence[Any]],
                    geometry: bool, progress: Callable[[int, int], None] | None, batch: int) -> int:
    stmt = insert(table)
    if geometry:
        stmt = stmt.values(geom=func.ST_GeomFromWKB(bindparam("wkb", type_=LargeBinary), STORE_SRID))
    keys = [*columns, "wkb"] if geometry else columns
    total = len(rows)
    with store.engine.connect() as conn:
        try:
            for start in range(0, total, batch):
                chunk = rows[start:start + batch]
                conn.execute(stmt, [dict(zip(keys, r, strict=True)) for r in chunk])
                if progress is not None:
                    progress(start + len(chunk), total)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return total


__all__ = ["BATCH", "append_rows"]
