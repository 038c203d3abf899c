"""A demo-sized chain on each backend, and the owner's rewrites a seal must catch (tests of seals)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select, text, update

from app.domain.audit import GENESIS_HASH, event_hash
from app.store.engine import Store, open_store
from app.store.models import AuditHead, Case, CaseEvent

NOW = datetime(2026, 11, 20, 10, 30)


class TinyCities:
    """The tiny demo city (288 cases, ~2000 events) generated once per backend and seed, copied per test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sqlite: dict[int, Path] = {}
        self.pg: dict[int, str] = {}

    def url(self, backend: str, tmp_path: Path, cluster=None, seed: int = 3) -> str:
        """A fresh copy's URL (SpatiaLite file under ``tmp_path``, or a new PostGIS database)."""
        from data.democity.generate import generate

        if backend == "spatialite":
            if seed not in self.sqlite:
                path = self.root / f"tiny-{seed}.sqlite"
                generate(path, seed=seed, scale="tiny", now=NOW)
                self.sqlite[seed] = path
            copy = tmp_path / f"city-{seed}.sqlite"
            shutil.copyfile(self.sqlite[seed], copy)
            return str(copy)
        assert cluster is not None
        if seed not in self.pg:
            name = cluster.create_database()
            generate(cluster.url(name), seed=seed, scale="tiny", now=NOW)
            self.pg[seed] = name
        return cluster.url(cluster.create_database(template=self.pg[seed]))


def open_city(url: str) -> Store:
    return open_store(url)


def drop_database(store: Store, cluster) -> None:
    """Remove the test's copy (PostGIS; a SpatiaLite copy goes with tmp_path)."""
    store.dispose()
    if store.backend == "postgis" and cluster is not None:
        cluster.drop_database(store.url.database)


def _as_owner(conn: Connection, store: Store) -> None:
    """Switch off every trigger guarding the history, as the owner can: a superuser session with
    ``session_replication_role = replica`` on PostGIS, dropping the triggers on SpatiaLite."""
    if store.backend == "postgis":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return
    names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                              "AND tbl_name IN ('case_events', 'audit_head', 'cases')")).scalars().all()
    for name in names:
        conn.execute(text(f'DROP TRIGGER "{name}"'))


def link_hash(store: Store, chain_no: int) -> str:
    with store.engine.connect() as conn:
        return conn.execute(select(CaseEvent.hash).where(CaseEvent.chain_no == chain_no)).scalar_one()


_HASHED = (CaseEvent.chain_no, CaseEvent.case_id, CaseEvent.seq, CaseEvent.action, CaseEvent.from_state,
           CaseEvent.to_state, CaseEvent.actor, CaseEvent.role, CaseEvent.department_id, CaseEvent.at,
           CaseEvent.reason, CaseEvent.payload)


def rewrite_history(store: Store, chain_no: int, reason: str = "经核实属误报，无需处置") -> None:
    """The owner edits link ``chain_no``'s reason and re-hashes the whole tail consistently, moving
    ``audit_head``: the chain check alone finds nothing."""
    with store.engine.begin() as conn:
        _as_owner(conn, store)
        conn.execute(update(CaseEvent).where(CaseEvent.chain_no == chain_no).values(reason=reason))
        prev = conn.execute(select(CaseEvent.hash).where(CaseEvent.chain_no == chain_no - 1)).scalar() or GENESIS_HASH
        rows = conn.execute(select(*_HASHED).where(CaseEvent.chain_no >= chain_no).order_by(CaseEvent.chain_no)).all()
        for row in rows:
            digest = event_hash(row._mapping, prev)
            conn.execute(update(CaseEvent).where(CaseEvent.chain_no == row.chain_no)
                         .values(prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))


def truncate_history(store: Store, keep: int) -> None:
    """The owner deletes every link after ``keep`` and makes the rest consistent (head, case versions)."""
    with store.engine.begin() as conn:
        _as_owner(conn, store)
        gone = conn.execute(select(CaseEvent.case_id, CaseEvent.seq).where(CaseEvent.chain_no > keep)).all()
        conn.execute(CaseEvent.__table__.delete().where(CaseEvent.chain_no > keep))
        for case_id in {c for c, _s in gone}:
            first_gone = min(s for c, s in gone if c == case_id)
            conn.execute(update(Case).where(Case.id == case_id).values(version=first_gone - 1))
        head = conn.execute(select(CaseEvent.hash).where(CaseEvent.chain_no == keep)).scalar_one()
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(chain_no=keep, hash=head))


def break_link(store: Store, chain_no: int) -> None:
    """An edit without re-hashing: the chain check finds it."""
    with store.engine.begin() as conn:
        _as_owner(conn, store)
        conn.execute(update(CaseEvent).where(CaseEvent.chain_no == chain_no).values(reason="改过"))
