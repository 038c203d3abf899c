"""The statistics dock's fixtures: the tiny district in a real SpatiaLite store, a fixed clock, the service."""

from __future__ import annotations

import pytest
from services.world import T0, build_world, service

from app.domain.clock import FixedClock
from app.services.bus import CaseBus


@pytest.fixture
def backend() -> str:
    return "spatialite"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def world(store):
    return build_world(store)


@pytest.fixture
def svc(store, world, clock):
    return service(store, clock, bus=CaseBus())
