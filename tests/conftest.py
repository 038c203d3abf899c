"""Shared fixtures: a throwaway PostGIS cluster and store URLs on both backends (no Qt here)."""

from __future__ import annotations

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


@pytest.fixture(params=[
    "spatialite",
    pytest.param("postgis", marks=pytest.mark.postgis),
])
def store_url(request, tmp_path) -> str:
    """A URL of a not yet initialised store, once per backend."""
    if request.param == "spatialite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url):
    """An initialised store (schema at head, reference data seeded) on each backend."""
    from app.store.commands import init_db

    opened = init_db(store_url)
    yield opened
    opened.dispose()
