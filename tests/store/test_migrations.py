"""The Alembic migration builds the models' schema on both backends, visible to QGIS."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2.alembic_helpers import include_object
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text

from app.domain.audit import GENESIS_HASH
from app.store.commands import current_revision, init_db, upgrade_db
from app.store.engine import head_revision, open_store
from app.store.errors import SchemaOutdated, StoreError
from app.store.models import Base

GEOMETRY = {
    "admin_areas": "MULTIPOLYGON", "roads": "LINESTRING", "unit_grids": "POLYGON",
    "components": "POINT", "cases": "POINT", "supervisor_positions": "POINT",
    "road_segments": "LINESTRING", "house_numbers": "POINT", "landmarks": "POINT",  # 0021 gazetteer
    "department_areas": "MULTIPOLYGON", "routing_areas": "MULTIPOLYGON",  # 0025 jurisdictions, rule areas
}
# SpatiaLite's geometry_columns.geometry_type codes (XY).
SPATIALITE_TYPES = {1: "POINT", 2: "LINESTRING", 3: "POLYGON", 6: "MULTIPOLYGON"}
TAXONOMY_ROWS = 153 + 250


def _include(obj, name, type_, reflected, compare_to):
    if type_ == "table" and reflected and compare_to is None:
        return False  # spatial metadata tables and R*Tree indexes are not ours
    if type_ == "index" and name == "uq_time_limits_scope_coalesced":
        return False  # an expression index alembic cannot compare; test_time_limits checks it works
    if type_ == "index" and name == "ix_statutory_days_exceptions":
        return False  # migration 0005's partial index for the SQL timers (PostgreSQL only; test_sql_timers)
    return include_object(obj, name, type_, reflected, compare_to)


def _diff(store, metadata):
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _include, "compare_type": True})
        return compare_metadata(ctx, metadata)


def test_migrated_schema_matches_models(store):
    assert _diff(store, Base.metadata) == []


def test_schema_comparison_notices_a_difference(store):
    # The check above could pass vacuously; a model with one more column must differ.
    changed = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    Table("calendar_days", changed, Column("extra", Integer), extend_existing=True)
    diff = _diff(store, changed)
    assert [d[0] for d in diff] == ["add_column"]
    assert diff[0][3].name == "extra"


def test_every_table_is_created(store):
    names = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= names


def test_geometry_columns_are_registered(store):
    with store.engine.connect() as conn:
        if store.backend == "spatialite":
            rows = conn.execute(text(
                "SELECT f_table_name, f_geometry_column, geometry_type, coord_dimension, srid, "
                "spatial_index_enabled FROM geometry_columns")).all()
            found = {r[0]: (r[1], SPATIALITE_TYPES[r[2]], int(r[3]), r[4], r[5]) for r in rows}
            want = {t: ("geom", g, 2, 4549, 1) for t, g in GEOMETRY.items()}
            assert conn.execute(text("SELECT count(*) FROM spatial_ref_sys WHERE srid = 4549")).scalar() == 1
        else:
            rows = conn.execute(text(
                "SELECT f_table_name, f_geometry_column, type, coord_dimension, srid "
                "FROM geometry_columns WHERE f_table_schema = 'public'")).all()
            found = {r[0]: (r[1], r[2], r[3], r[4], 1) for r in rows}
            gist = conn.execute(text(
                "SELECT tablename FROM pg_indexes WHERE indexname = 'idx_' || tablename || '_geom' "
                "AND indexdef LIKE '%USING gist (geom)%'")).scalars().all()
            assert set(gist) == set(GEOMETRY)
            want = {t: ("geom", g, 2, 4549, 1) for t, g in GEOMETRY.items()}
    assert found == want


def test_spatial_index_is_usable(store):
    # SpatiaLite's R*Tree (or the GIST index) answers a bounding-box query after an insert.
    with store.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO roads (name, kind, width_m, geom) VALUES "
            "('中山路', 'main', 20, ST_GeomFromText('LINESTRING(500000 3500000, 500100 3500000)', 4549))"))
    with store.engine.connect() as conn:
        if store.backend == "spatialite":
            n = conn.execute(text(
                "SELECT count(*) FROM roads WHERE ROWID IN (SELECT ROWID FROM SpatialIndex "
                "WHERE f_table_name = 'roads' AND search_frame = BuildMbr(499990, 3499990, 500010, 3500010, 4549))"
            )).scalar()
        else:
            n = conn.execute(text(
                "SELECT count(*) FROM roads WHERE geom && ST_MakeEnvelope(499990, 3499990, 500010, 3500010, 4549)"
            )).scalar()
    assert n == 1


def test_migration_records_the_chain_genesis(store):
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT id, chain_no, hash FROM audit_head")).all() == [(1, 0, GENESIS_HASH)]


def test_init_is_idempotent(store_url):
    first = init_db(store_url)
    assert first.created
    first.dispose()
    second = init_db(store_url)
    try:
        assert not second.created
        assert current_revision(second) == head_revision()
        with second.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM categories")).scalar() == TAXONOMY_ROWS
            assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar() == 1
    finally:
        second.dispose()


def test_seed_adds_only_missing_categories(store):
    with store.engine.begin() as conn:
        # its time limits refer to it (0004): they go first
        conn.execute(text("DELETE FROM time_limits WHERE category_id IN "
                          "(SELECT id FROM categories WHERE kind = 'event' AND code = '06001')"))
        conn.execute(text("DELETE FROM categories WHERE kind = 'event' AND code = '06001'"))
    again = init_db(store.path or store.url.render_as_string(hide_password=False))
    try:
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM categories")).scalar() == TAXONOMY_ROWS
            name = conn.execute(text(
                "SELECT name FROM categories WHERE kind = 'event' AND code = '06001'")).scalar()
            assert name
    finally:
        again.dispose()


def test_upgrade_builds_an_empty_database(store_url):
    open_store(store_url, create=True).dispose()
    store = upgrade_db(store_url)
    try:
        assert store.created
        assert current_revision(store) == head_revision()
    finally:
        store.dispose()


@pytest.mark.postgis
def test_migration_installs_postgis_when_missing(pg_cluster):
    name = pg_cluster.create_database(postgis=False)
    try:
        store = init_db(pg_cluster.url(name))
        try:
            with store.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM geometry_columns")).scalar() == len(GEOMETRY)
        finally:
            store.dispose()
    finally:
        pg_cluster.drop_database(name)


def test_foreign_table_makes_init_fail_cleanly(store_url):
    plain = open_store(store_url, create=True)
    with plain.engine.begin() as conn:
        conn.execute(text("CREATE TABLE cases (legacy_id INTEGER)"))
    plain.dispose()
    with pytest.raises(StoreError) as err:
        init_db(store_url)
    assert "cases" in str(err.value) and "空数据库" in str(err.value)
    after = open_store(store_url, create=True)
    try:
        assert current_revision(after) is None
        tables = set(inspect(after.engine).get_table_names())
        assert "admin_areas" not in tables and "cases" in tables  # nothing half-built
    finally:
        after.dispose()


def _revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    from app.store.engine import MIGRATIONS_DIR

    return [s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()]


@pytest.mark.skipif(len(_revisions()) < 2, reason="only one schema revision exists: nothing to upgrade from")
def test_older_schema_is_refused_then_upgraded(store_url):
    from alembic import command

    from app.store.commands import alembic_config

    plain = open_store(store_url, create=True)
    with plain.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    plain.dispose()
    with pytest.raises(SchemaOutdated) as err:
        open_store(store_url)
    assert "0001" in str(err.value) and "gridhall db upgrade --db" in str(err.value)
    upgraded = upgrade_db(store_url)
    upgraded.dispose()
    again = open_store(store_url)
    try:
        assert current_revision(again) == head_revision()
    finally:
        again.dispose()
