"""`gridhall db check`: what is wrong with a store, each finding with advice; never a crash.

A damaged file (``database disk image is malformed``), dropped SpatiaLite metadata, a missing
table or an old schema revision is a *finding*: what is wrong and what to do. The SpatiaLite
file is read through a plain read-only connection (no extension, no settings that write), so
checking never changes it; a PostGIS store is checked through an ordinary connection.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from app.domain.messages import Msg
from app.store.errors import StoreError, driver_detail

#: Integrity problems listed at most (the first lines of SQLite's integrity_check).
MAX_LISTED = 5
_RESTORE = Msg("请从最近的备份恢复数据库（恢复后用 gridhall db verify-audit --seal … 核对审计链）")


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the store and what to do about it."""

    problem: Msg
    advice: Msg


def expected_tables() -> set[str]:
    """The tables every GridHall store has (the models' and the migrations' bookkeeping)."""
    from app.store.models import Base

    return {*Base.metadata.tables, "alembic_version"}


def check_store(url: str | os.PathLike) -> list[Finding]:
    """Every finding about the store at ``url`` (empty: the store is sound). Raises only for a
    malformed address (StoreError), which names no store to check."""
    from app.store.engine import parse_url

    _parsed, path = parse_url(url)
    if path is not None:
        return _check_sqlite(path)
    return _check_postgis(url)


def _revision(found: str | None, where: str) -> list[Finding]:
    from alembic.script import ScriptDirectory

    from app.store.engine import MIGRATIONS_DIR, head_revision

    head = head_revision()
    if found == head:
        return []
    if found is None:
        return [Finding(Msg("数据库 {where} 没有记录表结构版本（alembic_version 为空）", where=where),
                        Msg("如果这是新数据库，请运行 gridhall db init --db {where}；否则请从备份恢复", where=where))]
    known = {s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    if found not in known:
        return [Finding(Msg("表结构版本 {rev} 不是本程序所知的版本（最新 {head}）", rev=found, head=head),
                        Msg("可能由更新的 GridHall 创建；请升级 GridHall"))]
    return [Finding(Msg("表结构版本 {rev} 较旧（最新 {head}）", rev=found, head=head),
                    Msg("请运行 gridhall db upgrade --db {where}", where=where))]


def _tables(names: set[str], where: str) -> list[Finding]:
    missing = sorted(expected_tables() - names)
    if not missing:
        return []
    return [Finding(Msg("缺少数据表：{tables}", tables=", ".join(missing)), _RESTORE)]


def _check_sqlite(path: Path) -> list[Finding]:
    from app.store.sqlite_file import SPATIAL_METADATA, file_problem, read_only, table_names

    where = str(path)
    if not path.exists():
        return [Finding(Msg("数据库文件不存在：{path}", path=path),
                        Msg("请检查路径；如要新建，请运行 gridhall db init --db {path}", path=path))]
    problem = file_problem(path)
    if problem is not None:
        return [Finding(problem, Msg("请检查路径，或从备份恢复数据库文件"))]
    findings: list[Finding] = []
    try:
        with read_only(path) as conn:
            lines = [row[0] for row in conn.execute(f"PRAGMA integrity_check({MAX_LISTED})")]
            if lines != ["ok"]:
                findings.append(Finding(Msg("数据库文件已损坏（完整性检查：{lines}）", lines="；".join(lines)), _RESTORE))
            names = table_names(conn)
            revision = None
            if "alembic_version" in names:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        return [*findings, Finding(Msg("数据库文件已损坏，无法读取（{detail}）", detail=driver_detail(exc)), _RESTORE)]
    missing = [t for t in SPATIAL_METADATA if t not in names]
    if missing:
        findings.append(Finding(Msg("缺少 SpatiaLite 元数据表 {tables}：几何字段和地图无法使用", tables=", ".join(missing)),
                                _RESTORE))
    if "alembic_version" not in names and not names & expected_tables():
        return [*findings, Finding(Msg("{where} 里没有 GridHall 表结构", where=where),
                                   Msg("如要在这里新建数据库，请运行 gridhall db init --db {where}", where=where))]
    findings += _tables(names, where)
    return findings + _revision(revision, where)


def _check_postgis(url: str | os.PathLike) -> list[Finding]:
    from sqlalchemy import inspect, text

    from app.store.engine import open_store

    try:
        store = open_store(url, check_schema=False)
    except StoreError as exc:
        return [Finding(exc.msg if isinstance(exc.msg, Msg) else Msg(str(exc)),
                        Msg("请检查地址、服务器和登录后重试"))]
    where = store.display_url
    findings: list[Finding] = []
    try:
        with store.engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first() is None:
                findings.append(Finding(Msg("数据库 {where} 没有安装 PostGIS 扩展", where=where),
                                        Msg("请让管理员运行 CREATE EXTENSION postgis，或从备份恢复")))
            for name in ("geometry_columns", "spatial_ref_sys"):
                if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None:
                    findings.append(Finding(Msg("缺少 PostGIS 元数据 {tables}", tables=name), _RESTORE))
            names = set(inspect(conn).get_table_names())
            revision = None
            if "alembic_version" in names:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # noqa: BLE001 - a driver's refusal is a finding too
        from app.store.errors import database_error

        refused = database_error(exc)
        if refused is None:
            raise
        return [*findings, Finding(refused.msg, Msg("请检查数据库后重试"))]
    finally:
        store.dispose()
    findings += _tables(names, where)
    return findings + _revision(revision, where)


__all__ = ["Finding", "check_store", "expected_tables"]
