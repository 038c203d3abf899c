"""An external anchor for the audit chain: dated seals of its head, and checking the store against them.

The hash chain (``app.domain.audit``) makes every link depend on the one before it, so an edit
shows as a broken link — unless whoever edits can also re-hash everything after it and move
``audit_head``. The schema's owner can (disable the triggers, rewrite, re-hash the tail), and the
chain check alone then reports an intact chain. A *seal* closes that gap: ``make_seal`` verifies
the chain and records its head (``chain_no`` and hash) with the database's identity and the time;
the seal file is kept away from the server (printed, mailed to the supervising authority, put in
the monthly bulletin). ``check_seals`` later verifies the chain again and looks up the link each
seal names: its hash must still be the sealed one, and because every link hashes its predecessor,
the whole history up to it is fixed.

A seal carries a SHA-256 digest over its own content: a damaged or hand-edited file is refused
(the digest is not a signature — the seal's authority is where its copies are kept).

Everything here only reads the store, in one read-only snapshot per call.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import Enum
from itertools import chain
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, func, select, text

from app.domain.audit import AuditProblem, verify_chain
from app.domain.clock import CST, Clock
from app.domain.messages import Lines, Msg
from app.store.commands import VerifyFeedback, _batches, _rows_hidden_by_department  # one verify loop
from app.store.engine import Store
from app.store.errors import StoreError
from app.store.models import AuditHead, Case, CaseEvent

SEAL_FORMAT = "gridhall-audit-seal"
#: Version of the seal file's layout; a reader refuses a newer one with an upgrade hint.
SEAL_FORMAT_VERSION = 1
#: Rows fetched at a time while verifying the chain (bounded memory).
BATCH = 5000
_HEX64 = re.compile(r"[0-9a-f]{64}")


class SealError(StoreError):
    """A seal cannot be made, read or written (one clear message)."""


def gridhall_version() -> str:
    """The installed GridHall's version (``0+unknown`` when run from a tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gridhall")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class DatabaseIdentity:
    """Which database a seal belongs to.

    ``url`` is the display address (never a password). On PostGIS ``name`` is the database's name
    and ``system_identifier`` the cluster's (``pg_control_system()``, changes when the data is
    restored into another cluster); on SpatiaLite ``name`` is the file's name and ``path`` its
    absolute path.
    """

    backend: str
    url: str
    name: str
    system_identifier: str | None = None
    path: str | None = None

    def same_as(self, other: DatabaseIdentity) -> bool:
        """Whether both name the same database (a copy or a restore elsewhere does not)."""
        if self.backend != other.backend:
            return False
        if self.backend == "spatialite":
            return self.path == other.path
        if self.system_identifier and other.system_identifier and self.system_identifier != other.system_identifier:
            return False
        return self.name == other.name


@dataclass(frozen=True)
class Seal:
    """A dated seal of the audit chain's head (see the module docstring); ``digest`` covers the rest."""

    database: DatabaseIdentity
    chain_no: int
    head_hash: str
    first_hash: str | None  # link 1's hash: what the history starts with (None for an empty chain)
    cases: int
    events: int
    sealed_at: datetime  # naive China Standard Time, like every time of the store
    gridhall_version: str
    schema_revision: str | None
    digest: str = field(default="")

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", _digest(self._content()))

    def _content(self) -> dict[str, Any]:
        return {
            "format": SEAL_FORMAT,
            "format_version": SEAL_FORMAT_VERSION,
            "sealed_at": self.sealed_at.replace(microsecond=0, tzinfo=CST).isoformat(),
            "database": asdict(self.database),
            "chain_no": self.chain_no,
            "head_hash": self.head_hash,
            "first_hash": self.first_hash,
            "cases": self.cases,
            "events": self.events,
            "gridhall_version": self.gridhall_version,
            "schema_revision": self.schema_revision,
        }

    def as_json(self) -> dict[str, Any]:
        """The seal file's content (format version :data:`SEAL_FORMAT_VERSION`)."""
        return {**self._content(), "digest": self.digest}

    def dumps(self) -> str:
        """The seal file's text: indented JSON, one trailing newline."""
        return json.dumps(self.as_json(), ensure_ascii=False, indent=2) + "\n"

    def file_name(self) -> str:
        """The default file name: ``gridhall-seal-<database>-<chain_no>-<date>.json``."""
        stem = self.database.name
        if self.database.backend == "spatialite":
            stem = Path(stem).stem
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "db"
        return f"gridhall-seal-{stem}-{self.chain_no}-{self.sealed_at:%Y-%m-%d}.json"

    def replaced(self, **changes: Any) -> Seal:
        """A copy with ``changes`` and a fresh digest (tests, tools)."""
        return replace(self, **changes, digest="")


def _digest(content: Mapping[str, Any]) -> str:
    canon = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canon.encode("utf-8")).hexdigest()


def seal_text(seal: Seal) -> Msg:
    """The seal as lines to print (the monthly bulletin, a cover letter): render with ``Catalogue.text``.

    Whoever holds the printout can compare a seal file against it (the digest) and type the
    head hash back in if the file is lost.
    """
    db = seal.database
    where = db.url if db.system_identifier is None else Msg(
        "{url}（集群标识 {system_identifier}）", url=db.url, system_identifier=db.system_identifier)
    return Msg("审计链封印\n{lines}", lines=Lines([
        Msg("封印时间：{sealed_at}", sealed_at=f"{seal.sealed_at:%Y-%m-%d %H:%M:%S}"),
        Msg("数据库：{where}", where=where),
        Msg("审计链：第 {chain_no} 环（{events} 条事件，{cases} 件案卷）",
            chain_no=seal.chain_no, events=seal.events, cases=seal.cases),
        Msg("链头哈希：{head_hash}", head_hash=seal.head_hash),
        Msg("首环哈希：{first_hash}", first_hash=seal.first_hash or "-"),
        Msg("封印摘要：{digest}", digest=seal.digest),
        Msg("GridHall {version}，表结构版本 {revision}", version=seal.gridhall_version,
            revision=seal.schema_revision or "-"),
    ]))


# --- reading and writing seal files ---------------------------------------------------------

def seal_from_json(data: object, name: str = "") -> Seal:
    """The seal in ``data`` (a parsed seal file); raises :class:`SealError` naming ``name``."""
    def bad(reason: Msg) -> SealError:
        return SealError(Msg("{name} 不是完好的 GridHall 审计链封印：{reason}", name=name, reason=reason))

    if not isinstance(data, dict) or data.get("format") != SEAL_FORMAT:
        raise bad(Msg("缺少封印格式标记 {format}", format=SEAL_FORMAT))
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(Msg("格式版本无效"))
    if version > SEAL_FORMAT_VERSION:
        raise SealError(Msg("封印 {name} 由更新版本的 GridHall 写成（格式 {version}，本程序只认到 {known}）；请升级 GridHall",
                            name=name, version=version, known=SEAL_FORMAT_VERSION))
    db = data.get("database")
    try:
        if not isinstance(db, dict):
            raise TypeError
        identity = DatabaseIdentity(backend=_str(db["backend"]), url=_str(db["url"]), name=_str(db["name"]),
                                    system_identifier=_opt_str(db.get("system_identifier")),
                                    path=_opt_str(db.get("path")))
        sealed_at = datetime.fromisoformat(_str(data["sealed_at"]))
        if sealed_at.tzinfo is not None:
            sealed_at = sealed_at.astimezone(CST)
        seal = Seal(database=identity, chain_no=_int(data["chain_no"]), head_hash=_hash(data["head_hash"]),
                    first_hash=None if data.get("first_hash") is None else _hash(data["first_hash"]),
                    cases=_int(data["cases"]), events=_int(data["events"]),
                    sealed_at=sealed_at.replace(tzinfo=None), gridhall_version=_str(data["gridhall_version"]),
                    schema_revision=_opt_str(data.get("schema_revision")), digest=_str(data["digest"]))
    except (KeyError, TypeError, ValueError):
        raise bad(Msg("内容不完整或字段无效")) from None
    if _digest(seal._content()) != seal.digest or set(data) != set(seal.as_json()):
        raise SealError(Msg("封印 {name} 已损坏或被改动：内容与其摘要不符，不能作为凭据", name=name))
    return seal


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _opt_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError
    return value


def _hash(value: object) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ValueError
    return value


def read_seal(path: str | os.PathLike[str]) -> Seal:
    """The seal in the file at ``path``; raises :class:`SealError` (missing, unreadable, damaged)."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(1 << 20)  # a seal is well under 1 KiB: never read a huge file whole
    except FileNotFoundError:
        raise SealError(Msg("封印文件不存在：{name}", name=name)) from None
    except OSError as exc:
        raise SealError(Msg("无法读取封印文件 {name}：{error}", name=name, error=exc.strerror or exc)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SealError(Msg("{name} 不是完好的 GridHall 审计链封印：{reason}", name=name,
                            reason=Msg("不是 JSON 文件（可能已损坏）"))) from None
    return seal_from_json(data, name)


def write_seal(seal: Seal, out: str | os.PathLike[str] | None = None) -> Path:
    """Write ``seal`` to ``out`` (a file, or a directory for the default name; default: the current
    directory) and return the path. An existing file is never overwritten; a failed write leaves
    no file behind."""
    target = Path(out) if out is not None else Path.cwd()
    if out is None or target.is_dir():
        target = target / seal.file_name()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise SealError(Msg("{path} 已存在，封印不会覆盖已有文件；请用 --out 另选文件名", path=target)) from None
    except OSError as exc:
        raise SealError(Msg("无法写入封印文件 {path}：{error}", path=target, error=exc.strerror or exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(seal.dumps())
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException as exc:
        target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise SealError(Msg("无法写入封印文件 {path}：{error}", path=target, error=exc.strerror or exc)) from None
        raise
    return target


# --- the store side ---------------------------------------------------------------------------

_EVENT_COLUMNS = (
    CaseEvent.chain_no, CaseEvent.case_id, CaseEvent.seq, CaseEvent.action, CaseEvent.from_state,
    CaseEvent.to_state, CaseEvent.actor, CaseEvent.role, CaseEvent.department_id, CaseEvent.at,
    CaseEvent.reason, CaseEvent.payload, CaseEvent.prev_hash, CaseEvent.hash,
)


class _Snapshot:
    """One read-only, consistent view of the store (REPEATABLE READ on PostGIS, a read
    transaction with ``query_only`` on SpatiaLite), closed by ``close()``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._raw = store.engine.connect()
        conn = self._raw
        try:
            if store.backend == "postgis":
                conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                if _rows_hidden_by_department(conn):
                    raise StoreError(Msg("专业部门账户只能看到本部门的案卷事件，无法校验整条审计链；"
                                         "请用值班长、领导、分析员或管理员账户校验"))
            else:
                conn.exec_driver_sql("PRAGMA query_only = ON")
                conn.exec_driver_sql("BEGIN")
        except BaseException:
            self.close()
            raise
        self.conn: Connection = conn

    def close(self) -> None:
        try:
            self._raw.rollback()
            if self.store.backend == "spatialite":
                self._raw.exec_driver_sql("PRAGMA query_only = OFF")
                self._raw.rollback()
        finally:
            self._raw.close()

    def identity(self) -> DatabaseIdentity:
        if self.store.backend == "spatialite":
            path = str(self.store.path)
            return DatabaseIdentity("spatialite", self.store.display_url, Path(path).name, path=path)
        row = self.conn.execute(text(
            "SELECT pg_catalog.current_database(), CASE WHEN pg_catalog.has_function_privilege("
            "'pg_catalog.pg_control_system()', 'EXECUTE') THEN "
            "(SELECT system_identifier FROM pg_catalog.pg_control_system())::text END")).one()
        return DatabaseIdentity("postgis", self.store.display_url, row[0], system_identifier=row[1])

    def head(self) -> tuple[int, str] | None:
        row = self.conn.execute(select(AuditHead.chain_no, AuditHead.hash).where(AuditHead.id == 1)).first()
        return None if row is None else (row.chain_no, row.hash)

    def link_hashes(self, chain_nos: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(chain_nos))
        if not wanted:
            return {}
        rows = self.conn.execute(select(CaseEvent.chain_no, CaseEvent.hash).where(CaseEvent.chain_no.in_(wanted)))
        return {no: h for no, h in rows}

    def revision(self) -> str | None:
        return self.conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def count(self, model: type[Case] | type[CaseEvent]) -> int:
        return int(self.conn.execute(select(func.count()).select_from(model)).scalar() or 0)

    def verify(self, head: tuple[int, str] | None, feedback: VerifyFeedback | None,
               batch: int = BATCH) -> AuditProblem | None:
        """The whole chain checked as ``gridhall db verify-audit`` does (the same pure check)."""
        if head is None:
            return AuditProblem(None, None, "the audit_head row (id 1) is missing: the chain head was deleted")
        total = head[0]
        if feedback is not None:
            last = self.conn.execute(select(func.max(CaseEvent.chain_no))).scalar()
            total = max(head[0], last or 0)
            feedback.check()
        versions = {cid: v for cid, v in self.conn.execute(select(Case.id, Case.version))}
        result = self.conn.execution_options(yield_per=batch).execute(select(*_EVENT_COLUMNS).order_by(CaseEvent.chain_no))
        rows: Iterator[Any] = iter(result)
        if feedback is not None:
            rows = chain.from_iterable(_batches(rows, batch, total, feedback))
        problem = verify_chain(cast("Iterator[Mapping[str, Any]]", (row._mapping for row in rows)), head, versions)
        if feedback is not None:
            feedback.progress(1.0, f"{total}/{total}")
        return problem


def make_seal(store: Store, clock: Clock, feedback: VerifyFeedback | None = None) -> Seal:
    """Verify the chain and seal its head, all in one read-only snapshot; raises :class:`SealError`
    when the chain is broken (a broken chain is never sealed). ``feedback`` as for verify_audit."""
    snap = _Snapshot(store)
    try:
        head = snap.head()
        problem = snap.verify(head, feedback)
        if problem is not None or head is None:
            raise SealError(Msg("审计链已被破坏，不能封印（先查明原因）：{problem}", problem=str(problem)))
        first = snap.link_hashes([1]).get(1)
        return Seal(database=snap.identity(), chain_no=head[0], head_hash=head[1], first_hash=first,
                    cases=snap.count(Case), events=snap.count(CaseEvent),
                    sealed_at=clock.now().replace(microsecond=0, tzinfo=None),
                    gridhall_version=gridhall_version(), schema_revision=snap.revision())
    finally:
        snap.close()


class SealStatus(Enum):
    """What checking the store against one seal found."""

    INTACT = "intact"        # the sealed link is there with the sealed hash: the history up to it stands
    REWRITTEN = "rewritten"  # the sealed link's hash changed: the history up to it was rewritten
    AHEAD = "ahead"          # the chain is shorter than the seal: truncated, or an older backup
    FOREIGN = "foreign"      # another database with another history: the seal proves nothing here


@dataclass(frozen=True)
class SealCheck:
    """One seal's outcome: ``copy`` when the seal was made on another database whose history
    starts the same (a restored backup, a copied file)."""

    name: str
    seal: Seal
    status: SealStatus
    message: Msg
    copy: bool = False

    @property
    def ok(self) -> bool:
        return self.status is SealStatus.INTACT


@dataclass(frozen=True)
class SealReport:
    """The chain check (``problem`` None when intact) and each seal's outcome, in the order given."""

    problem: AuditProblem | None
    checks: list[SealCheck]

    @property
    def ok(self) -> bool:
        return self.problem is None and all(c.ok for c in self.checks)


def check_seals(store: Store, seals: Sequence[tuple[str, Seal]],
                feedback: VerifyFeedback | None = None) -> SealReport:
    """Verify the chain and check it against each ``(name, seal)``, in one read-only snapshot.

    A seal holds when the link it names exists with the sealed hash: every link hashes its
    predecessor, so the history before it is fixed too — a rewrite with a consistently re-hashed
    tail (which the chain check alone cannot see) changes that hash.
    """
    snap = _Snapshot(store)
    try:
        here = snap.identity()
        head = snap.head()
        links = snap.link_hashes([1, *(s.chain_no for _n, s in seals)])
        problem = snap.verify(head, feedback)
        length = head[0] if head is not None else 0
        checks = [_check_one(name, seal, here, length, links) for name, seal in seals]
        return SealReport(problem, checks)
    finally:
        snap.close()


def _check_one(name: str, seal: Seal, here: DatabaseIdentity, length: int, links: Mapping[int, str]) -> SealCheck:
    sealed_at = f"{seal.sealed_at:%Y-%m-%d %H:%M}"
    same = seal.database.same_as(here)
    copy = not same and seal.first_hash is not None and links.get(1) == seal.first_hash
    if not same and not copy:
        return SealCheck(name, seal, SealStatus.FOREIGN, Msg(
            "封印 {name} 属于另一个数据库（{url}），其第 1 环与本库不同：它证明不了本库的任何历史；"
            "若本库是那个数据库的副本，则其历史从头被改写", name=name, url=seal.database.url))
    if seal.chain_no > length:
        return SealCheck(name, seal, SealStatus.AHEAD, Msg(
            "封印 {name}（{sealed_at}）记到第 {chain_no} 环，但本库的审计链只到第 {length} 环："
            "链尾被删除（截断），或本库恢复自封印之前的备份",
            name=name, sealed_at=sealed_at, chain_no=seal.chain_no, length=length), copy)
    now = links.get(seal.chain_no) if seal.chain_no else seal.head_hash
    if now is None:
        return SealCheck(name, seal, SealStatus.REWRITTEN, Msg(
            "封印 {name}（{sealed_at}）之前的历史被改写：封印所记的第 {chain_no} 环已不存在",
            name=name, sealed_at=sealed_at, chain_no=seal.chain_no), copy)
    if now != seal.head_hash:
        return SealCheck(name, seal, SealStatus.REWRITTEN, Msg(
            "封印 {name}（{sealed_at}）之前的历史被改写：第 {chain_no} 环的哈希现为 {now}，封印记为 {sealed}",
            name=name, sealed_at=sealed_at, chain_no=seal.chain_no, now=now[:16] + "…",
            sealed=seal.head_hash[:16] + "…"), copy)
    if copy:
        return SealCheck(name, seal, SealStatus.INTACT, Msg(
            "封印 {name}（{sealed_at}，第 {chain_no} 环）相符：之前的历史未被改写"
            "（封印做于 {url}，历史相同：本库是其副本或恢复的备份）",
            name=name, sealed_at=sealed_at, chain_no=seal.chain_no, url=seal.database.url), True)
    return SealCheck(name, seal, SealStatus.INTACT, Msg(
        "封印 {name}（{sealed_at}，第 {chain_no} 环）相符：之前的历史未被改写",
        name=name, sealed_at=sealed_at, chain_no=seal.chain_no))


__all__ = [
    "BATCH", "DatabaseIdentity", "SEAL_FORMAT", "SEAL_FORMAT_VERSION", "Seal", "SealCheck", "SealError",
    "SealReport", "SealStatus", "check_seals", "gridhall_version", "make_seal", "read_seal", "seal_from_json",
    "seal_text", "write_seal",
]
