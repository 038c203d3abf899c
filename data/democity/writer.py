"""Bulk writes of the demo into an open store: Core executemany, geometries from WKT."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, text
from sqlalchemy.engine import Connection

from app.domain.definitions import STORE_SRID
from app.store.models import (
    AdminArea,
    Case,
    CaseEvent,
    Component,
    Department,
    Road,
    RoutingRule,
    UnitGrid,
    User,
)

#: Tables a demo fills; any row in one of them means the database is not empty.
FILLED = (AdminArea, Department, User, UnitGrid, Road, RoutingRule, Component, Case, CaseEvent)
BATCH = 5000


def existing_rows(conn: Connection) -> dict[str, int]:
    """Tables (by name) that already hold rows, with their row counts."""
    out = {}
    for model in FILLED:
        table = model.__table__
        if conn.execute(select(table.c.id).limit(1)).first() is not None:
            out[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return out


def insert_rows(conn: Connection, model, rows: Iterable[Mapping[str, Any]], batch: int = BATCH) -> int:
    """executemany ``rows`` into ``model``'s table; a row's ``wkt`` key becomes its geometry."""
    table: Table = model.__table__
    stmt_plain = insert(table)
    stmt_geom = insert(table).values(geom=func.ST_GeomFromText(bindparam("wkt"), STORE_SRID))
    buf: list[Mapping[str, Any]] = []
    n = 0
    for row in rows:
        buf.append(row)
        if len(buf) >= batch:
            conn.execute(stmt_geom if "wkt" in buf[0] else stmt_plain, buf)
            n += len(buf)
            buf = []
    if buf:
        conn.execute(stmt_geom if "wkt" in buf[0] else stmt_plain, buf)
        n += len(buf)
    return n


def fix_sequences(conn: Connection) -> None:
    """After explicit ids on PostgreSQL, move each serial sequence past the largest id."""
    if conn.dialect.name != "postgresql":
        return
    for model in FILLED:
        name = model.__table__.name
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {name}), 0) + 1, false) "
            f"WHERE pg_get_serial_sequence('{name}', 'id') IS NOT NULL"))
