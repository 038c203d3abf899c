"""A real store for desk tests: the tiny demo city with one demo login per role (built once per session)."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from app.domain.clock import FixedClock
from app.domain.definitions import Role

#: The demo's present (a Friday morning, inside working hours).
T0 = datetime(2026, 11, 20, 10, 30)
PASSWORD = "demo-pass-123"


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory):
    """Path of a tiny demo store with demo logins (hashes made with cheap argon2 parameters)."""
    from app.services.auth import configure_hasher
    from app.services.users import create_demo_logins
    from app.store.engine import open_store
    from data.democity.generate import generate

    configure_hasher(time_cost=1, memory_cost=8, parallelism=1)
    path = tmp_path_factory.mktemp("desk") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=1, scale="tiny")
    store = open_store(path)
    create_demo_logins(store, PASSWORD)
    store.dispose()  # closing the last connection folds the WAL into the file
    return path


@pytest.fixture
def desk_store(desk_template, tmp_path):
    """A private copy of the template store."""
    from app.services.auth import configure_hasher
    from app.store.engine import open_store

    configure_hasher(time_cost=1, memory_cost=8, parallelism=1)
    path = tmp_path / "desk.sqlite"
    shutil.copyfile(desk_template, path)
    store = open_store(path)
    yield store
    store.dispose()


@pytest.fixture
def desk(desk_store):
    """Core over the copy, with a fixed clock at the demo's present."""
    from app.core import build_core

    return build_core(desk_store, FixedClock(T0))


@pytest.fixture
def login_as(desk):
    """``login_as(Role.DISPATCHER)`` → the demo user's Actor (through the real login)."""
    from app.services.auth import login
    from app.services.users import demo_username

    def log_in(role: Role):
        return login(desk.store, demo_username(role), PASSWORD, clock=desk.clock)

    return log_in


@pytest.fixture
def queue(desk):
    """A QueueState loaded with the store's open cases at T0."""
    from app.services.calendar import load_calendar
    from app.views.queue_state import QueueState

    state = QueueState(load_calendar(desk.store))
    state.reset(desk.source.open_cases(), T0)
    return state


def street_point(desk, street_name: str = "胥江街道") -> tuple[float, float]:
    """A point inside a unit grid of ``street_name`` (the demo department's 属地)."""
    from sqlalchemy import text

    with desk.store.session() as s:
        row = s.execute(text(
            "SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)) FROM unit_grids g "
            "JOIN admin_areas c ON c.id = g.community_id JOIN admin_areas st ON st.id = c.parent_id "
            "WHERE st.name = :name ORDER BY g.code LIMIT 1"), {"name": street_name}).one()
    return float(row[0]), float(row[1])


def png_bytes(colour: str = "#c62828", size: int = 32) -> bytes:
    """A small real PNG (made with Qt, so it decodes everywhere)."""
    from qtpy.QtCore import QBuffer, QByteArray, QIODevice
    from qtpy.QtGui import QColor, QImage

    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)
