"""Shared fixtures: a throwaway PostGIS cluster and stores on both backends (no Qt here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pg import PgCluster, PgUnavailable, start_cluster


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL + PostGIS cluster for the whole session, removed at the end."""
    try:
        cluster = start_cluster()
    except PgUnavailable as exc:
        pytest.fail(f"cannot start the test PostgreSQL cluster: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_database(pg_cluster: PgCluster):
    """Name of a fresh, empty database (PostGIS extension installed), dropped afterwards."""
    name = pg_cluster.create_database()
    yield name
    pg_cluster.drop_database(name)


@pytest.fixture
def pg_url(pg_cluster: PgCluster, pg_database: str) -> str:
    """``postgresql://gridhall:…@127.0.0.1:PORT/<fresh db>``."""
    return pg_cluster.url(pg_database)


@pytest.fixture(params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def backend(request) -> str:
    """'spatialite' or 'postgis': a test using it (or the fixtures below) runs on both."""
    return request.param


@pytest.fixture
def store_url(backend, request, tmp_path) -> str:
    """A URL of a not yet initialised store, once per backend."""
    if backend == "spatialite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_url")


class _Templates:
    """Stores initialised once per session and copied for each test (init takes ~0.5 s)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sqlite: Path | None = None
        self.pg_name: str | None = None

    def spatialite(self) -> Path:
        if self.sqlite is None:
            from app.store.commands import init_db

            path = self.root / "template.sqlite"
            init_db(path).dispose()  # closing the last connection folds the WAL into the file
            self.sqlite = path
        return self.sqlite

    def postgis(self, cluster: PgCluster) -> str:
        if self.pg_name is None:
            from app.store.commands import init_db

            name = cluster.create_database()
            init_db(cluster.url(name)).dispose()
            self.pg_name = name
        return self.pg_name


@pytest.fixture(scope="session")
def _store_templates(tmp_path_factory) -> _Templates:
    return _Templates(tmp_path_factory.mktemp("store-templates"))


@pytest.fixture
def store(backend, request, tmp_path, _store_templates):
    """An initialised, empty store (schema at head, categories seeded) on each backend."""
    from app.store.engine import open_store

    if backend == "spatialite":
        path = tmp_path / "store.sqlite"
        shutil.copyfile(_store_templates.spatialite(), path)
        opened = open_store(path)
        yield opened
        opened.dispose()
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database(template=_store_templates.postgis(cluster))
    opened = open_store(cluster.url(name))
    yield opened
    opened.dispose()
    cluster.drop_database(name)


@pytest.fixture(scope="session")
def qapp():
    """The one application of the session: QGIS's own on PyQt5, a plain one under PySide6.

    Whatever test directory runs first, every later Qt test (the map's included) gets the
    same QgsApplication, so QGIS widgets never meet a plain QApplication.
    """
    import os

    if os.environ.get("QT_API", "pyqt5").lower() == "pyqt5":
        from app.gis.qgis_app import start_qgis

        return start_qgis()
    from qtpy.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["gridhall-tests"])


@pytest.fixture(autouse=True)
def cheap_hashing():
    """Fast argon2 parameters for every test; production defaults restored afterwards."""
    from app.services.auth import configure_hasher

    configure_hasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    configure_hasher()


@pytest.fixture(autouse=True)
def no_logins_left(request):
    """On PostGIS accounts are cluster-wide logins: drop those a test made (names are reused)."""
    if "store" not in request.fixturenames or request.getfixturevalue("backend") != "postgis":
        yield
        return
    cluster = request.getfixturevalue("pg_cluster")

    def logins() -> set[str]:
        with cluster.admin() as conn, conn.cursor() as cur:
            cur.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'gh\\_%'")
            return {r[0] for r in cur.fetchall()}

    before = logins()
    yield
    with cluster.admin() as conn, conn.cursor() as cur:
        for login in logins() - before:
            cur.execute(f'DROP ROLE IF EXISTS "{login}"')
