"""Open a GridHall store on SpatiaLite (a file) or PostGIS (a server), checked up front."""

from __future__ import annotations

import datetime
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.domain.definitions import STORE_SRID
from app.domain.messages import Msg
from app.store.errors import (
    SchemaMissing,
    SchemaOutdated,
    SpatialiteUnavailable,
    StoreError,
    StoreNotFound,
    StoreNotWritable,
    StoreUnreachable,
)

# sqlite3's default date and datetime adapters are deprecated since Python 3.12 (Debian 13): the
# same conversions, registered explicitly (the recipe of the sqlite3 documentation), so parameters
# bound outside SQLAlchemy's own types (text() queries, bulk loads) are stored exactly as before.
sqlite3.register_adapter(datetime.date, datetime.date.isoformat)
sqlite3.register_adapter(datetime.datetime, lambda value: value.isoformat(" "))

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SPATIALITE_PACKAGE = "libsqlite3-mod-spatialite"
#: How long a writer waits for another writer's lock on SQLite (milliseconds).
BUSY_TIMEOUT_MS = 15000
PG_CONNECT_TIMEOUT_S = 5

# QgsDataSourceUri geometry type names for the OGC names used in the models.
_QGIS_TYPES = {
    "POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint", "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon", "GEOMETRY": "Geometry",
}


@dataclass
class Store:
    """An open database: its engine, backend and a session factory."""

    engine: Engine
    url: URL
    backend: str  # 'spatialite' | 'postgis'
    path: Path | None = None
    created: bool = False  # set by init_db when it built the schema just now
    _sessions: sessionmaker = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def display_url(self) -> str:
        """The address to show users and logs (never the password)."""
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True)

    def session(self) -> Session:
        """A new ORM session (objects stay usable after commit)."""
        return self._sessions()

    def qgis_uri(self, table: str, geom_column: str | None = "geom", sql: str = "") -> tuple[str, str]:
        """(provider key, QgsDataSourceUri string) for loading ``table`` as a QGIS layer."""
        geom = f" ({geom_column})" if geom_column else ""
        where = f" sql={sql}" if sql else ""
        if self.backend == "spatialite":
            return "spatialite", f"dbname={_quote(str(self.path))} table=\"{table}\"{geom}{where}"
        u = self.url
        parts = [f"dbname={_quote(u.database or '')}", f"host={u.host or 'localhost'}",
                 f"port={u.port or 5432}"]
        if u.username:
            parts.append(f"user={_quote(u.username)}")
        if u.password:
            parts.append(f"password={_quote(str(u.password))}")
        # The connection's own TLS settings (sslmode, sslrootcert, …) apply to the map too;
        # libpq's default (prefer) when the URL names none.
        for name in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
            value = u.query.get(name)
            if value:
                parts.append(f"{name}={_quote(str(value))}")
        parts.append("key='id'")
        gtype = _geometry_type(table, geom_column) if geom_column else None
        if gtype:
            parts += [f"srid={STORE_SRID}", f"type={gtype}"]
        parts.append(f"table=\"public\".\"{table}\"{geom}{where}")
        return "postgres", " ".join(parts)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _quote(value: str) -> str:
    # QgsDataSourceUri quotes values in single quotes and escapes \ and ' with a backslash.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _geometry_type(table: str, column: str) -> str | None:
    from app.store.models import Base

    t = Base.metadata.tables.get(table)
    if t is None or column not in t.c:
        return None
    gtype = getattr(t.c[column].type, "geometry_type", None)
    return _QGIS_TYPES.get(str(gtype).upper()) if gtype else None


def head_revision() -> str:
    """The newest schema revision this program knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "the program ships its migrations"
    return head


def open_store(url: str | os.PathLike, *, create: bool = False, check_schema: bool | None = None) -> Store:
    """Open ``url`` (a file path, ``sqlite:///…`` or ``postgresql://…``) and check it.

    With ``create`` a missing SpatiaLite file (or PostgreSQL database) is created and the
    schema is not checked (the caller migrates next). Raises a ``StoreError`` subclass.
    """
    if check_schema is None:
        check_schema = not create
    parsed, path = parse_url(url)
    if path is not None:
        store = _open_spatialite(parsed, path, create, check_schema=check_schema)
    else:
        store = _open_postgis(parsed, create)
    if check_schema:
        try:
            check_revision(store)
        except BaseException:
            store.dispose()
            raise
    return store


def parse_url(url: str | os.PathLike) -> tuple[URL, Path | None]:
    """The SQLAlchemy URL of ``url`` and, for SpatiaLite, the absolute file path."""
    text_url = os.fspath(url)
    if not text_url.strip():  # never a fallback to $GRIDHALL_DB or the demo district
        raise StoreError(Msg("数据库地址为空：请给出 SpatiaLite 文件路径或 postgresql://用户@主机:端口/库名"))
    if "\x00" in text_url:
        raise StoreError(Msg("数据库地址含有空字符 U+0000，不是有效的文件路径或地址"))
    if "://" not in text_url:
        path = Path(text_url).expanduser().resolve()
        return URL.create("sqlite", database=str(path)), path
    from app.config import redact
    from app.domain.text import excerpt

    shown = excerpt(redact(text_url), 120)
    try:
        parsed = make_url(text_url)
        port = parsed.port  # make_url converts the port with int(): ':abc' or '[::1:5432' raise ValueError
    except ArgumentError as exc:
        raise StoreError(Msg("无法识别的数据库地址：{text_url}（{exc}）", text_url=shown, exc=exc)) from None
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise StoreError(Msg("无法识别数据库地址 {url} 中的主机和端口：端口应为 1–65535 的数字，"
                             "IPv6 地址写在方括号里（如 [::1]:5432）", url=shown))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreError(Msg("SQLite 数据库地址必须给出文件路径：{text_url}", text_url=text_url))
        path = Path(parsed.database).expanduser().resolve()
        return URL.create("sqlite", database=str(path)), path
    if backend in ("postgresql", "postgres"):
        if not parsed.database:
            raise StoreError(Msg("PostgreSQL 地址缺少数据库名：{url}",
                                 url=parsed.render_as_string(hide_password=True)))
        return parsed.set(drivername="postgresql+psycopg2"), None
    raise StoreError(Msg("不支持的数据库地址：{url}；请使用 SpatiaLite 文件路径（sqlite:///…）或 postgresql://用户:密码@主机:端口/库名",
                         url=shown))


# --- SpatiaLite ---------------------------------------------------------------------------

def _load_spatialite(dbapi_conn: sqlite3.Connection, _record: object = None) -> None:
    module = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
    try:
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension(module)
        dbapi_conn.enable_load_extension(False)
    except (AttributeError, sqlite3.OperationalError) as exc:
        raise SpatialiteUnavailable(
            Msg("无法加载 SpatiaLite 扩展（{module}）：{exc}。请安装 Debian 软件包 {spatialite_package}（apt-get install {spatialite_package}，"
                "或运行 make setup）",
                module=module, exc=exc, spatialite_package=SPATIALITE_PACKAGE)) from None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    cur.close()


def _open_spatialite(url: URL, path: Path, create: bool, *, check_schema: bool = False) -> Store:
    try:
        exists = path.exists()
    except PermissionError:
        raise StoreNotWritable(Msg("无权访问 {path}：上级目录不允许进入。请修改目录权限或换一个位置", path=path)) from None
    if not exists:
        if not create:
            raise StoreNotFound(Msg("数据库文件不存在：{path}。先运行 gridhall db init --db {path}", path=path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreNotWritable(Msg("无法创建数据库目录 {parent}：{strerror}。请换一个可写的位置或修改目录权限",
                                       parent=path.parent, strerror=exc.strerror)) from None
    elif path.is_dir():
        raise StoreError(Msg("{path} 是一个目录，不是数据库文件；请给出 .sqlite 文件的路径", path=path))
    if exists and not os.access(path, os.R_OK | os.W_OK, effective_ids=True):
        raise StoreNotWritable(Msg("数据库文件不可读写：{path}。请修改文件权限（chmod u+rw）", path=path))
    if not os.access(path.parent, os.W_OK | os.X_OK, effective_ids=True):
        raise StoreNotWritable(Msg("目录不可写：{parent}（SQLite 需要在数据库旁写日志文件）。请修改目录权限或把数据库放到可写的位置",
                                   parent=path.parent))
    if exists and not create:
        # read-only look first: the connection settings below would write (WAL) to whatever file this is
        from app.store.sqlite_file import probe

        probe(path, check_schema=check_schema)
    engine = create_engine(url)
    event.listen(engine, "connect", _load_spatialite)
    store = Store(engine=engine, url=url, backend="spatialite", path=path)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master"))
    except DBAPIError as exc:
        store.dispose()
        raise StoreError(Msg("{path} 不是可用的 SQLite 数据库：{orig}", path=path, orig=exc.orig)) from None
    except BaseException:
        store.dispose()
        raise
    return store


# --- PostGIS ------------------------------------------------------------------------------

def _pg_message(exc: DBAPIError, url: URL) -> str:
    # libpq's message; any URL or DSN in it has its password hidden by position (never by
    # searching the text for the password: a one-letter password would garble the message)
    from app.config import redact_text

    return redact_text(str(exc.orig).strip())


def _open_postgis(url: URL, create: bool) -> Store:
    engine = create_engine(
        url, pool_pre_ping=True,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S, "application_name": "gridhall"})
    from app.store.locks import install_session_limits

    install_session_limits(engine)  # lock, statement and idle limits of an application login
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        engine.dispose()
        msg = _pg_message(exc, url)
        if f'database "{url.database}" does not exist' in msg:
            if not create:
                raise StoreNotFound(Msg("PostgreSQL 服务器 {where} 上没有数据库 {database}。"
                                        "先运行 gridhall db init --db {url}", where=where, database=url.database, url=url.render_as_string(hide_password=True))) from None
            _create_pg_database(url, where)
            return _open_postgis(url, create=False)
        raise StoreUnreachable(Msg("无法连接 PostgreSQL 服务器 {where}（用户 {username}）：{msg}。请检查主机、端口、用户名和密码，"
                                   "以及服务器是否在运行",
                                   where=where, username=url.username, msg=msg)) from None
    return Store(engine=engine, url=url, backend="postgis")


def _create_pg_database(url: URL, where: str) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S})
    try:
        with admin.connect() as conn:
            assert url.database, "parse_url refuses a PostgreSQL address without a database name"
            quoted = conn.dialect.identifier_preparer.quote(url.database)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    except DBAPIError as exc:
        raise StoreUnreachable(Msg("无法在 PostgreSQL 服务器 {where} 上创建数据库 {database}：{pg_message}。"
                                   "请让管理员建库或授予 CREATEDB 权限",
                                   where=where, database=url.database, pg_message=_pg_message(exc, url))) from None
    finally:
        admin.dispose()


# --- schema revision ----------------------------------------------------------------------

def current_revision_of(store: Store) -> str | None:
    """The schema revision recorded in the database (None: not initialised)."""
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_revision(store: Store) -> None:
    """Raise SchemaMissing/SchemaOutdated unless the database is at the head revision."""
    rev = current_revision_of(store)
    head = head_revision()
    where = store.display_url
    if rev is None:
        raise SchemaMissing(Msg("数据库 {where} 还没有 GridHall 表结构。请运行 gridhall db init --db {where}（或 gridhall db upgrade --db {where}）",
                                where=where))
    if rev != head:
        from alembic.script import ScriptDirectory

        known = {s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
        if rev not in known:
            raise SchemaOutdated(Msg("数据库 {where} 的表结构版本 {rev} 不是本程序所知的版本（最新 {head}），可能由更新的 GridHall 创建；"
                                     "请升级 GridHall",
                                     where=where, rev=rev, head=head))
        raise SchemaOutdated(Msg("数据库 {where} 的表结构版本 {rev} 较旧（最新 {head}）。"
                                 "请运行 gridhall db upgrade --db {where}",
                                 where=where, rev=rev, head=head))
