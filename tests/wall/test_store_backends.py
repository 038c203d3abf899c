"""The wall's store on both backends: every figure's SQL runs, and the wall's connections refuse writes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from app.store.wall import open_wall_store
from app.views.wall.model import read_snapshot

NOW = datetime(2026, 11, 20, 10, 30)


def _url(store) -> str:
    return str(store.path) if store.backend == "spatialite" else store.url.render_as_string(hide_password=False)


def test_the_wall_reads_every_figure_and_writes_nothing(store):
    wall_store = open_wall_store(_url(store))
    try:
        snapshot = read_snapshot(wall_store, NOW)
        assert [t.value for t in snapshot.tiles] == [0, 0, 0, 0, None, 0, 0]
        assert snapshot.departments == () and snapshot.hotspots == () and snapshot.urged == ()
        with pytest.raises(Exception) as refused, wall_store.session() as s, s.begin():
            s.execute(text("UPDATE departments SET name = name"))
        said = str(refused.value).lower()
        assert "readonly" in said or "read-only" in said or "read only" in said
    finally:
        wall_store.dispose()
    with store.session() as s:  # the store itself was not touched
        assert s.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
