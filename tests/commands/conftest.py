"""Fixtures of the command tests: the tiny district on each backend, a fixed clock, a Core over it."""

from __future__ import annotations

import pytest
from services.world import T0, build_world

from app.domain.clock import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def world(store):
    return build_world(store)


@pytest.fixture
def core(store, world, clock):
    """The headless Core over the tiny district (its ``commands`` is the process's registry)."""
    from app.core import build_core

    return build_core(store, clock)
