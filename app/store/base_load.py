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
from typing import Any

from sqlalchemy import LargeBinary, Table, bindparam, func, insert

from app.domain.definitions import STORE_SRID
from app.domain.messages import Msg
from app.store.engine import Store
from app.store.errors import StoreError

#: rows per executemany (and per progress call).
BATCH = 20_000


def append_rows(store: Store, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                geometry: bool = True, progress: Callable[[int, int], None] | None = None,
                batch: int = BATCH) -> int:
    """Insert ``rows`` (tuples of ``columns`` values, then the geometry as WKB in the store's SRID when
    ``geometry``) into ``table`` in one transaction; the number inserted. ``progress(done, total)`` may
    raise to cancel: nothing is then written."""
    if store.backend == "spatialite":
        return _append_spatialite(store, table, list(columns), rows, geometry, progress, batch)
    return _append_postgis(store, table, list(columns), rows, geometry, progress, batch)


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
            for start in range(0, total, batch):
                chunk = rows[start:start + batch]
                conn.exec_driver_sql(sql, list(chunk))
                if progress is not None:
                    progress(start + len(chunk), total)
            if geometry and triggers:
                bad = conn.exec_driver_sql(
                    f"""SELECT count(*) FROM "{name}" t, geometry_columns g
                         WHERE t.ROWID > ? AND lower(g.f_table_name) = lower(?) AND g.f_geometry_column = 'geom'
                           AND GeometryConstraints(t.geom, g.geometry_type, g.srid) IS NOT 1""",
                    (first, name)).scalar()
                if bad:
                    raise StoreError(Msg("{table} 中有 {n} 个几何类型或坐标系不符", table=name, n=bad))
                if spatial:
                    conn.exec_driver_sql(
                        f'INSERT INTO "idx_{name}_geom" (pkid, xmin, xmax, ymin, ymax) '
                        f'SELECT ROWID, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM "{name}" '
                        "WHERE ROWID > ? AND geom IS NOT NULL ORDER BY ROWID", (first,))
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
