"""Fixtures of the service tests: the tiny district on each backend, a fixed clock, the service."""

from __future__ import annotations

import pytest

from app.domain.clock import FixedClock
from app.services.bus import CaseBus
from services.world import T0, build_world, service


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def world(store):
    """The tiny district in a fresh store (both backends, via the shared ``store`` fixture)."""
    return build_world(store)


@pytest.fixture
def bus() -> CaseBus:
    return CaseBus()


@pytest.fixture
def svc(store, world, clock, bus):
    return service(store, clock, bus=bus)


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def shared_store(request, tmp_path_factory):
    """One initialised store with the tiny district per module and backend (for large matrices)."""
    from app.store.commands import init_db

    if request.param == "spatialite":
        url = f"sqlite:///{tmp_path_factory.mktemp('services') / 'store.sqlite'}"
        cluster = name = None
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.create_database()
        url = cluster.url(name)
    opened = init_db(url)
    w = build_world(opened)
    yield opened, w
    opened.dispose()
    if cluster is not None:
        cluster.drop_database(name)
