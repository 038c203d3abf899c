"""Put an empty target back the way it was when a demo is cancelled or fails.

``init_db`` commits the schema and the reference data before the demo's one-transaction
bulk load starts. On a target that was empty before (no SpatiaLite file, a zero-byte one, a
PostgreSQL database without GridHall tables, or no such database yet) :meth:`Pristine.restore`
undoes what the init made:

* SpatiaLite: a file that did not exist is removed; one that existed empty is truncated back
  to zero bytes; ``-wal``/``-shm``/``-journal`` side files that did not exist are removed;
* PostgreSQL: in one transaction, the tables (with their triggers, policies, sequences and
  alembic_version), views, functions and types the init created in the schema are dropped, the
  schema privileges it granted are revoked, and an extension it created (postgis) is dropped;
  a database it created is dropped. The GridHall group roles (migration 0002) are cluster-wide:
  one the init created is dropped only if no role is a member of it and nothing in any database
  of the cluster depends on it (PostgreSQL refuses otherwise), else it is left and logged.

The undo takes "new since the capture" as "made by the init": it assumes nobody else creates
objects in that schema while the demo runs (a demo is meant for an empty database of its own).
A target that already held GridHall tables is not touched (``capture`` returns None): the demo
refuses such a store before writing, and its bulk load rolls back on its own.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection

from app.store.engine import parse_url
from app.store.models import Base
from app.store.security import ACCOUNTS_ROLE, ACCOUNTS_SCHEMA, GROUP_ROLES, OWNER_ROLE, group_role

log = logging.getLogger(__name__)

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass
class _PgState:
    relations: set[str] = field(default_factory=set)
    functions: set[int] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    extensions: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    schema_acl: set[tuple[str, str]] = field(default_factory=set)
    schemas: set[str] = field(default_factory=set)


@dataclass
class Pristine:
    """An empty target as found before ``init_db`` (see the module docstring)."""

    path: Path | None = None
    file_existed: bool = False
    side_files: frozenset[str] = frozenset()
    url: URL | None = None
    database_existed: bool = True
    pg: _PgState | None = None

    @classmethod
    def capture(cls, url: str | os.PathLike) -> Pristine | None:
        """The target's state if it is empty (else None: nothing to undo)."""
        parsed, path = parse_url(url)
        if path is not None:
            if path.exists() and path.stat().st_size > 0:
                return None
            sides = frozenset(s for s in SIDE_FILES if Path(f"{path}{s}").exists())
            return cls(path=path, file_existed=path.exists(), side_files=sides)
        engine = create_engine(parsed)
        try:
            try:
                conn = engine.connect()
            except Exception as exc:  # no database yet: open_store(create=True) makes one
                if f'database "{parsed.database}" does not exist' in str(exc):
                    return cls(url=parsed, database_existed=False)
                return None  # init_db reports what is wrong with the target
            with conn:
                if _has_gridhall_tables(conn):
                    return None
                return cls(url=parsed, pg=_pg_state(conn))
        finally:
            engine.dispose()

    def restore(self) -> None:
        """Undo what ``init_db`` made on this empty target (raises what it could not undo)."""
        if self.path is not None:
            self._restore_sqlite(self.path)
        elif self.url is not None:
            if not self.database_existed:
                _drop_database(self.url)
            elif self.pg is not None:
                _restore_pg(self.url, self.pg)

    def _restore_sqlite(self, path: Path) -> None:
        for suffix in SIDE_FILES:
            if suffix not in self.side_files:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        if not self.file_existed:
            path.unlink(missing_ok=True)
        elif path.exists():
            os.truncate(path, 0)


def _has_gridhall_tables(conn: Connection) -> bool:
    names = sorted({*Base.metadata.tables, "alembic_version"})
    return bool(conn.execute(text(
        "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
        "AND relkind IN ('r', 'p') AND relname = ANY(:names)"), {"names": names}).scalar_one())


_NOT_EXTENSION = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{cat}'::regclass "
                  "AND d.objid = {alias}.oid AND d.deptype = 'e')")


def _pg_state(conn: Connection) -> _PgState:
    def rows(sql: str) -> list:
        return list(conn.execute(text(sql)).all())

    schema = "current_schema()::regnamespace"
    return _PgState(
        relations={r[0] for r in rows(
            f"SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = {schema} "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")},
        functions={r[0] for r in rows(f"SELECT p.oid::int FROM pg_proc p WHERE p.pronamespace = {schema}")},
        types={r[0] for r in rows(f"SELECT t.oid::regtype::text FROM pg_type t WHERE t.typnamespace = {schema}")},
        extensions={r[0] for r in rows("SELECT extname FROM pg_extension")},
        roles={r[0] for r in rows("SELECT rolname FROM pg_roles")},
        schema_acl={(r[0], r[1]) for r in rows(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END, "
            "a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a "
            "WHERE n.oid = current_schema()::regnamespace")},
        schemas={r[0] for r in rows("SELECT nspname FROM pg_namespace")},
    )


def _restore_pg(url: URL, before: _PgState) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            now = _pg_state(conn)
            schema = "current_schema()::regnamespace"
            # What an extension made goes with the extension (dropped last).
            new_relations = [r[0] for r in conn.execute(text(
                f"SELECT c.oid::regclass::text, c.relkind FROM pg_class c WHERE c.relnamespace = {schema} "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND "
                + _NOT_EXTENSION.format(cat="pg_class", alias="c")
                + " ORDER BY c.relkind DESC")).all() if r[0] not in before.relations]
            for name in new_relations:
                kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:n)"),
                                    {"n": name}).scalar()
                if kind is None:
                    continue  # went with a table dropped before it
                word = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE",
                        "f": "FOREIGN TABLE"}.get(kind, "TABLE")
                conn.exec_driver_sql(f"DROP {word} IF EXISTS {name} CASCADE")
            for oid in sorted(now.functions - before.functions):
                sig = conn.execute(text(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.oid = :o AND "
                    + _NOT_EXTENSION.format(cat="pg_proc", alias="p")), {"o": oid}).scalar()
                if sig is not None:
                    conn.exec_driver_sql(f"DROP ROUTINE IF EXISTS {sig} CASCADE")
            for name in sorted(now.types - before.types):
                kind = conn.execute(text(
                    "SELECT t.typtype FROM pg_type t WHERE t.oid = to_regtype(:n) AND t.typrelid = 0 "
                    "AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid) AND "
                    + _NOT_EXTENSION.format(cat="pg_type", alias="t")), {"n": name}).scalar()
                if kind is not None:
                    word = "DOMAIN" if kind == "d" else "TYPE"
                    conn.exec_driver_sql(f"DROP {word} IF EXISTS {name} CASCADE")
            schema_name = conn.execute(text("SELECT quote_ident(current_schema())")).scalar_one()
            for grantee, privilege in sorted(now.schema_acl - before.schema_acl):
                conn.exec_driver_sql(f"REVOKE {privilege} ON SCHEMA {schema_name} FROM {grantee}")
            for ext in sorted(now.extensions - before.extensions):
                conn.exec_driver_sql(f'DROP EXTENSION IF EXISTS "{ext}"')
            if ACCOUNTS_SCHEMA in now.schemas - before.schemas:  # the account functions (migration 0007)
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {ACCOUNTS_SCHEMA} CASCADE")
        # Roles are cluster-wide: each in its own transaction, and only if nothing needs it. The
        # account manager first (on PostgreSQL 16+ it holds the groups WITH ADMIN OPTION).
        ours = [ACCOUNTS_ROLE, *sorted(group_role(r) for r in GROUP_ROLES), OWNER_ROLE]
        for name in [r for r in ours if r in now.roles - before.roles]:
            try:
                with engine.begin() as conn:
                    members = conn.execute(text(
                        "SELECT count(*) FROM pg_auth_members WHERE roleid = to_regrole(:n)"), {"n": name}).scalar()
                    if members:
                        log.warning("demo undo: group role %s has members now; left in place", name)
                        continue
                    conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')
            except Exception as exc:  # another database of the cluster uses it meanwhile
                log.warning("demo undo: group role %s left in place: %s", name, str(exc).splitlines()[0])
    finally:
        engine.dispose()


def _drop_database(url: URL) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = conn.execute(text("SELECT quote_ident(:n)"), {"n": url.database}).scalar_one()
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    finally:
        admin.dispose()


__all__ = ["Pristine"]
