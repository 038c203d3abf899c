"""Database commands: initialise, upgrade, read the revision, seed reference data, verify the chain."""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from importlib.resources import files
from itertools import chain, islice
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Result, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain.audit import AuditProblem, verify_chain
from app.domain.definitions import Kind
from app.domain.messages import Msg
from app.store.engine import (
    MIGRATIONS_DIR,
    Store,
    check_revision,
    current_revision_of,
    head_revision,
    open_store,
    parse_url,
)
from app.store.errors import StoreError
from app.store.models import AuditHead, Case, CaseEvent, Category, TimeLimit
from app.store.sql_timers import sync_statutory_days
from app.store.wall_role import sync_wall_role

log = logging.getLogger(__name__)

TAXONOMY_FILES = ("components.csv", "events.csv")
TAXONOMY_COLUMNS = ["kind", "major_code", "major_name", "code", "name"]
#: How long a migration waits for a table lock on PostgreSQL before it gives up (nothing changed).
MIGRATION_LOCK_TIMEOUT = "15s"
#: Rows fetched at a time while verifying the chain (bounded memory for millions of events).
VERIFY_BATCH = 5000


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for our migrations, optionally bound to ``connection``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _as_schema_owner(conn: Connection) -> None:
    """On PostgreSQL, run the migration as the owner of the schema's objects (``SET LOCAL ROLE``):
    what it creates then belongs to the NOLOGIN owner (migration 0007), not to the DBA's login or
    a superuser. A database not yet built, or one whose owner the session cannot become, is
    migrated as the session's own role."""
    owner = conn.exec_driver_sql(
        "SELECT r.rolname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid = c.relowner "
        "WHERE c.oid = to_regclass('alembic_version') AND r.rolname <> current_user "
        "AND NOT r.rolsuper AND pg_has_role(session_user, r.oid, 'MEMBER')").scalar()
    if owner is not None:
        from psycopg2 import sql

        raw: Any = conn.connection.dbapi_connection  # psycopg2's connection
        with raw.cursor() as cur:
            cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))


def _migrate(store: Store, target: str = "head") -> None:
    try:
        with store.engine.begin() as conn:
            if store.backend == "spatialite":
                # pysqlite runs DDL outside transactions; an explicit one makes a failed
                # migration leave nothing behind (SQLite's DDL is transactional).
                conn.exec_driver_sql("BEGIN")
            else:
                # A migration's ALTER waits for every open reader of the table, and every
                # workstation then queues behind it: give up after a while instead (the message
                # says so), so one idle session cannot turn an upgrade into a frozen hall.
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'")
                _as_schema_owner(conn)
            command.upgrade(alembic_config(conn), target)
    except DBAPIError as exc:
        raise StoreError(Msg("建立或升级表结构失败（数据库 {display_url}）：{error}。GridHall 需要一个空数据库或由它建立的数据库；"
                             "在 PostgreSQL 上还需要安装 postgis 扩展的权限（可请管理员执行 CREATE EXTENSION postgis）",
                             display_url=store.display_url, error=str(exc.orig).strip())) from None


def init_db(url: str | os.PathLike) -> Store:
    """Create the database (file or schema), migrate it to head and seed reference data.

    Idempotent: on a database already at head only missing reference rows are added.
    ``store.created`` tells whether the schema was built now.
    """
    _parsed, path = parse_url(url)
    fresh_file = path is not None and not path.exists()
    store = open_store(url, create=True)
    try:
        rev = current_revision_of(store)
        if rev is not None and rev != head_revision():
            check_revision(store)  # raises SchemaOutdated with the upgrade hint
        if rev is None:
            _migrate(store)
            store.created = True
            log.info("已在 %s 建立 GridHall 表结构（版本 %s）", store.display_url, head_revision())
        else:
            log.info("数据库 %s 已经初始化（版本 %s），未改动表结构", store.display_url, rev)
        with store.session() as session, session.begin():
            seed_reference(session)
    except BaseException:
        store.dispose()
        if fresh_file and path is not None:
            _remove_sqlite_files(path)
        raise
    return store


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def upgrade_db(url: str | os.PathLike) -> Store:
    """Migrate an existing database (file or PostgreSQL database) to the newest revision.

    An empty database gets the whole schema, like ``init_db``; returns the open store.
    """
    store = open_store(url, check_schema=False)
    try:
        rev = current_revision_of(store)
        try:
            _migrate(store)
        except Exception as exc:  # an unknown (newer) revision makes Alembic fail
            if "Can't locate revision" in str(exc):
                check_revision(store)
            raise
        check_revision(store)
        store.created = rev is None
        with store.session() as session, session.begin():
            seed_reference(session)
    except BaseException:
        store.dispose()
        raise
    return store


def current_revision(store: Store) -> str | None:
    """The schema revision recorded in ``store`` (None when not initialised)."""
    return current_revision_of(store)


def _taxonomy_rows() -> Iterator[dict[str, str]]:
    base = files("data") / "taxonomy"
    for name in TAXONOMY_FILES:
        resource = base / name
        # binary + wrapper: a Traversable's text open() takes no newline argument (csv needs "")
        with io.TextIOWrapper(resource.open("rb"), encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames != TAXONOMY_COLUMNS:
                raise StoreError(Msg("分类文件 {name} 的表头应为 {expected}，实际为 {actual}",
                                     name=name, expected=','.join(TAXONOMY_COLUMNS),
                                     actual=','.join(reader.fieldnames or [])))
            for lineno, row in enumerate(reader, start=2):
                try:
                    Kind(row["kind"])
                except ValueError:
                    raise StoreError(Msg("分类文件 {name} 第 {lineno} 行的 kind 无效：{kind!r}（应为 component 或 event）",
                                         name=name, lineno=lineno, kind=row['kind'])) from None
                yield row


def seed_reference(session: Session) -> int:
    """Insert the GB/T 47678.5 categories that are missing; returns how many were added."""
    have = {(kind, code) for kind, code in session.execute(select(Category.kind, Category.code))}
    new = [Category(kind=r["kind"], code=r["code"], major_code=r["major_code"],
                    major_name=r["major_name"], name=r["name"])
           for r in _taxonomy_rows() if (r["kind"], r["code"]) not in have]
    session.add_all(new)
    session.flush()
    seed_time_limits(session)
    sync_statutory_days(session.connection())  # PostGIS: chinesecalendar's days for the SQL timers (0005)
    sync_wall_role(session.connection())  # PostGIS: the wall's read-only role (0020; also stores that passed 0020 empty)
    return len(new)


def seed_time_limits(session: Session) -> int:
    """Fill an empty time_limits table from data/taxonomy/time_limits.csv; returns the rows added.

    A table that holds any row is left alone: limits edited by maintenance are never overwritten.
    """
    from app.domain.limits import LimitTable

    if session.scalar(select(func.count()).select_from(TimeLimit)):
        return 0
    try:
        table = LimitTable.load()
    except ValueError as exc:
        raise StoreError(Msg("时限表 time_limits.csv 有误，无法写入数据库：{exc}", exc=exc)) from None
    ids: dict[tuple[str | None, str], int] = {
        (kind, code): id_ for id_, kind, code in session.execute(select(Category.id, Category.kind, Category.code))}
    rows = []
    for key, rule in table.rules():
        kind = key.kind.value if key.kind else None
        code = key.category_code
        category_id = ids.get((kind, code)) if code and len(code) == 5 else None
        if code and len(code) == 5 and category_id is None:
            raise StoreError(Msg("时限表中的类别 {kind} {code} 不在 categories 表中；请先导入分类", kind=kind, code=code))
        rows.append(TimeLimit(kind=kind, category_id=category_id,
                              major_code=code if code and len(code) == 2 else None,
                              level=key.level.value, stage=key.stage.value, minutes=rule.minutes,
                              basis=rule.basis.value, condition=rule.condition))
    session.add_all(rows)
    session.flush()
    return len(rows)


_EVENT_COLUMNS = (
    CaseEvent.chain_no, CaseEvent.case_id, CaseEvent.seq, CaseEvent.action, CaseEvent.from_state,
    CaseEvent.to_state, CaseEvent.actor, CaseEvent.role, CaseEvent.department_id, CaseEvent.at,
    CaseEvent.reason, CaseEvent.payload, CaseEvent.prev_hash, CaseEvent.hash,
)


class VerifyFeedback(Protocol):
    """What :func:`verify_audit` reports to (structurally an ``app.jobs.Feedback``)."""

    def progress(self, fraction: float, message: str = "") -> None: ...

    def check(self) -> None: ...


def _rows_hidden_by_department(conn: Connection) -> bool:
    """Whether the connection's login reads case events through the department policy (RLS)."""
    return bool(conn.execute(text(
        "SELECT gridhall_has_role('department') AND NOT EXISTS "
        "(SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls))")).scalar())


def verify_audit(store: Store, feedback: VerifyFeedback | None = None, *,
                 batch: int = VERIFY_BATCH) -> AuditProblem | None:
    """Check the whole case_events chain against audit_head and each case's version.

    The events are read ``batch`` at a time (bounded memory). With ``feedback``, each batch
    verified reports ``progress(links verified / chain length, "verified/length")`` and ``check()`` runs
    before each batch is fetched: a cancel raises (``app.jobs.Cancelled``) within one batch and
    nothing is reported as broken. Read-only, so stopping leaves nothing to undo.
    """
    with store.engine.connect() as conn:
        # One consistent snapshot while a writer may be appending.
        if store.backend == "postgis":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            if _rows_hidden_by_department(conn):
                # row-level security shows this login its department's events only: the gaps
                # would read as a broken chain, a false alarm of tampering
                raise StoreError(Msg("专业部门账户只能看到本部门的案卷事件，无法校验整条审计链；"
                                     "请用值班长、领导、分析员或管理员账户校验"))
        else:
            conn.exec_driver_sql("BEGIN")
        try:
            head = conn.execute(select(AuditHead.chain_no, AuditHead.hash).where(AuditHead.id == 1)).first()
            if head is None:
                return AuditProblem(None, None, "the audit_head row (id 1) is missing: "
                                                "the chain head was deleted")
            total = 0
            if feedback is not None:
                # The chain's length, known up front (chain_no is unique, so indexed: one lookup).
                last = conn.execute(select(func.max(CaseEvent.chain_no))).scalar()
                total = max(head.chain_no, last or 0)
                feedback.check()
            versions = {cid: v for cid, v in conn.execute(select(Case.id, Case.version))}
            result = conn.execution_options(yield_per=batch).execute(
                select(*_EVENT_COLUMNS).order_by(CaseEvent.chain_no))
            if feedback is None:
                # a RowMapping is keyed by name (or column): the Mapping[str, Any] that verify_chain reads
                events = cast("Iterator[Mapping[str, Any]]", (row._mapping for row in result))
            else:
                events = _reported(result, batch, total, feedback)
            problem = verify_chain(events, (head.chain_no, head.hash), versions)
            if problem is None:  # the configuration history's chain too (migration 0016)
                from app.store.calendar_years import has_calendar_years, verify_config_history

                broken = verify_config_history(conn) if has_calendar_years(conn) else None
                if broken is not None:
                    problem = AuditProblem(None, None, str(broken))
            if feedback is not None:
                feedback.progress(1.0, f"{total}/{total}")
            return problem
        finally:
            conn.rollback()


def _reported(result: Result[Any], batch: int, total: int,
              feedback: VerifyFeedback) -> Iterator[Mapping[str, Any]]:
    """The rows of ``result`` as mappings, ``batch`` at a time: ``check()`` before each batch,
    ``progress`` once it was verified. Rows stay lazy (made one at a time, as when iterating the
    result) and the batches are flattened in C: no per-row overhead."""
    rows = chain.from_iterable(_batches(iter(result), batch, total, feedback))
    return cast("Iterator[Mapping[str, Any]]", map(attrgetter("_mapping"), rows))


def _batches(rows: Iterator[Any], batch: int, total: int, feedback: VerifyFeedback) -> Iterator[Iterable[Any]]:
    done = 0
    while True:
        feedback.check()
        first = next(rows, None)
        if first is None:
            return
        yield chain((first,), islice(rows, batch - 1))
        # resumed once the consumer has verified the whole batch (the last one may be short)
        done = min(done + batch, total)
        feedback.progress(done / total if total else 1.0, f"{done}/{total}")


def schema_guard_exists(store: Store) -> bool:
    """Whether the append-only triggers on case_events are in place."""
    if store.backend == "spatialite":
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'case_events'"
    else:
        sql = "SELECT count(*) FROM pg_trigger WHERE tgname = 'case_events_append_only'"
    with store.engine.connect() as conn:
        return bool(conn.execute(text(sql)).scalar())


__all__ = [
    "alembic_config", "current_revision", "init_db", "schema_guard_exists",
    "seed_reference", "seed_time_limits", "upgrade_db", "verify_audit", "VerifyFeedback",
]
