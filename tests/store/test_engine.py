"""open_store: URL forms, up-front checks and the errors a user sees."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from app.store.commands import init_db
from app.store.engine import open_store
from app.store.errors import (
    SchemaMissing,
    SchemaOutdated,
    SpatialiteUnavailable,
    StoreError,
    StoreNotFound,
    StoreNotWritable,
    StoreUnreachable,
)

NOBODY = 65534


@contextlib.contextmanager
def _unprivileged():
    """Drop root's right to write anywhere (effective ids only) for the duration."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def shared_dir():
    """A fresh directory that an unprivileged user can reach (tmp_path is root-only)."""
    top = Path(tempfile.mkdtemp(prefix="gridhall-test-"))
    top.chmod(0o755)
    yield top
    for p in top.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(top)


@pytest.fixture
def readonly_dir(shared_dir):
    """A directory nobody may write into."""
    ro = shared_dir / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return ro


@pytest.mark.parametrize("form", ["plain", "url"])
def test_missing_spatialite_file_is_not_created(tmp_path, form):
    path = tmp_path / "nope" / "city.sqlite"
    url = str(path) if form == "plain" else f"sqlite:///{path}"
    with pytest.raises(StoreNotFound) as err:
        open_store(url)
    assert str(path) in str(err.value)
    assert "gridhall db init --db" in str(err.value)
    assert not path.parent.exists()


def test_missing_file_in_existing_dir_leaves_nothing(tmp_path):
    with pytest.raises(StoreNotFound):
        open_store(tmp_path / "city.sqlite")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_directory_creates_nothing(readonly_dir):
    path = readonly_dir / "city.sqlite"
    with _unprivileged(), pytest.raises(StoreNotWritable) as err:
        init_db(path)
    assert str(readonly_dir) in str(err.value)
    assert list(readonly_dir.iterdir()) == []


def test_read_only_database_file_is_refused(shared_dir):
    path = shared_dir / "city.sqlite"
    init_db(path).dispose()
    shared_dir.chmod(0o777)  # only the file is read-only
    path.chmod(0o444)
    with _unprivileged(), pytest.raises(StoreNotWritable) as err:
        open_store(path)
    assert "chmod" in str(err.value)


def test_unreachable_directory(shared_dir):
    locked = shared_dir / "locked"
    locked.mkdir()
    init_db(locked / "city.sqlite").dispose()
    locked.chmod(0o700)
    with _unprivileged(), pytest.raises(StoreNotWritable) as err:
        open_store(locked / "city.sqlite")
    assert "无权访问" in str(err.value)


def test_missing_spatialite_module_names_the_package(tmp_path, monkeypatch):
    path = tmp_path / "city.sqlite"
    init_db(path).dispose()
    before = path.read_bytes()
    monkeypatch.setenv("SPATIALITE_LIBRARY_PATH", str(tmp_path / "no_such_mod_spatialite"))
    with pytest.raises(SpatialiteUnavailable) as err:
        open_store(path)
    assert "libsqlite3-mod-spatialite" in str(err.value)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("hello, not sqlite\n" * 100)
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert "不是可用的 SQLite 数据库" in str(err.value)


def test_unsupported_url_scheme():
    with pytest.raises(StoreError) as err:
        open_store("mysql://u:secret@host/db")
    assert "不支持" in str(err.value) and "secret" not in str(err.value)


def test_empty_spatialite_file_lacks_schema(tmp_path):
    path = tmp_path / "empty.sqlite"
    open_store(path, create=True).dispose()
    with pytest.raises(SchemaMissing) as err:
        open_store(path)
    assert "gridhall db init --db" in str(err.value)


def test_unknown_revision_is_reported(store):
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(SchemaOutdated) as err:
        open_store(store.url.render_as_string(hide_password=False) if store.path is None else store.path)
    assert "ffff" in str(err.value)


def test_opened_store_reports_backend(store):
    again = open_store(store.path or store.url.render_as_string(hide_password=False))
    try:
        assert again.backend == store.backend
        with again.session() as s:
            assert s.execute(text("SELECT count(*) FROM categories")).scalar() > 0
    finally:
        again.dispose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.postgis
def test_unreachable_server():
    port = _closed_port()
    with pytest.raises(StoreUnreachable) as err:
        open_store(f"postgresql://gridhall:hunter2secret@127.0.0.1:{port}/city")
    msg = str(err.value)
    assert f"127.0.0.1:{port}" in msg and "refused" in msg
    assert "hunter2secret" not in msg


@pytest.mark.postgis
def test_wrong_password_creates_nothing(pg_cluster):
    name = "never_created"
    with pytest.raises(StoreUnreachable) as err:
        open_store(pg_cluster.url(name, password="wrong-pass-42"), create=True)
    msg = str(err.value)
    assert f"127.0.0.1:{pg_cluster.port}" in msg and "password authentication failed" in msg
    assert "wrong-pass-42" not in msg
    with pg_cluster.admin() as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert cur.fetchone()[0] == 0


@pytest.mark.postgis
def test_missing_pg_database_is_not_created(pg_cluster):
    name = "no_such_city"
    with pytest.raises(StoreNotFound) as err:
        open_store(pg_cluster.url(name))
    assert name in str(err.value) and "gridhall db init" in str(err.value)
    assert pg_cluster.password not in str(err.value)
    with pg_cluster.admin() as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert cur.fetchone()[0] == 0


@pytest.mark.postgis
def test_init_creates_a_missing_pg_database(pg_cluster):
    store = init_db(pg_cluster.url("made_by_init"))
    try:
        assert store.created
    finally:
        store.dispose()
        pg_cluster.drop_database("made_by_init")


def test_qgis_uri_spatialite(tmp_path):
    path = tmp_path / "it's.sqlite"
    store = init_db(path)
    try:
        provider, uri = store.qgis_uri("unit_grids")
    finally:
        store.dispose()
    assert provider == "spatialite"
    assert uri == f"dbname='{str(path)[:-len(path.name)]}it\\'s.sqlite' table=\"unit_grids\" (geom)"


@pytest.mark.postgis
def test_qgis_uri_postgis(pg_cluster, pg_url, pg_database):
    store = init_db(pg_url)
    try:
        provider, uri = store.qgis_uri("cases", sql="state <> 'closed'")
        _, plain = store.qgis_uri("categories", geom_column=None)
    finally:
        store.dispose()
    assert provider == "postgres"
    assert uri == (f"dbname='{pg_database}' host=127.0.0.1 port={pg_cluster.port} user='gridhall' "
                   f"password='{pg_cluster.password}' key='id' srid=4549 type=Point "
                   "table=\"public\".\"cases\" (geom) sql=state <> 'closed'")
    assert plain.endswith("key='id' table=\"public\".\"categories\"")


@pytest.mark.postgis
def test_qgis_uri_passes_the_urls_tls_settings_on(pg_cluster, pg_url):
    store = init_db(pg_url)
    store.dispose()
    tls = open_store(pg_url + "?sslmode=disable")  # the test cluster has no TLS
    try:
        _, uri = tls.qgis_uri("cases")
    finally:
        tls.dispose()
    assert "sslmode='disable'" in uri


def test_store_file_mode_is_private_enough(tmp_path):
    store = init_db(tmp_path / "city.sqlite")
    store.dispose()
    mode = stat.S_IMODE((tmp_path / "city.sqlite").stat().st_mode)
    assert mode & 0o600 == 0o600
