"""Initial GridHall schema: every table of app/store/models.py as of revision 0001.

Geometry columns are added per backend so that QGIS finds them: SpatiaLite registers them
in its metadata (AddGeometryColumn + CreateSpatialIndex), PostGIS gets typed columns
with a GIST index. This file is frozen: later changes go into new revisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlite3
from typing import cast

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SRID = 4549
GENESIS_HASH = "0" * 64
GEOMETRY_TABLES = ("admin_areas", "roads", "unit_grids", "components", "cases")


def _spatialite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _prepare() -> None:
    if _spatialite():
        bind = op.get_bind()
        if bind.exec_driver_sql("SELECT CheckSpatialMetaData()").scalar_one() < 1:
            # Loads the EPSG table, which holds 4549. Inside the migration's transaction it
            # must not open its own (argument 1); outside one, 1 makes it fast.
            in_tx = cast(sqlite3.Connection, bind.connection.dbapi_connection).in_transaction
            ok = bind.exec_driver_sql(f"SELECT InitSpatialMetaData({0 if in_tx else 1})").scalar()
            if not ok:
                raise RuntimeError("SpatiaLite could not initialise its spatial metadata")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _add_geometry(table: str, kind: str) -> None:
    """Add the nullable 2D ``geom`` column of ``table`` with its spatial index."""
    bind = op.get_bind()
    if _spatialite():
        ok = bind.exec_driver_sql(
            f"SELECT AddGeometryColumn('{table}', 'geom', {SRID}, '{kind}', 'XY')").scalar()
        ok = ok and bind.exec_driver_sql(f"SELECT CreateSpatialIndex('{table}', 'geom')").scalar()
        if not ok:
            raise RuntimeError(f"SpatiaLite refused to add or index {table}.geom")
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN geom geometry({kind}, {SRID})")
        op.execute(f"CREATE INDEX idx_{table}_geom ON {table} USING gist (geom)")


# Raised on any UPDATE or DELETE of case_events: the history is append-only. Someone
# who drops the trigger can still tamper, which the hash chain then reveals.
_SQLITE_GUARDS = """
CREATE TRIGGER case_events_no_{op} BEFORE {OP} ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only: {OP} is not allowed'); END
"""
_PG_GUARD_FUNCTION = """
CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'case_events is append-only: % is not allowed', TG_OP; END $$
"""
_PG_GUARD = """
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only()
"""


def _guard_case_events() -> None:
    if _spatialite():
        for verb in ("update", "delete"):
            op.execute(_SQLITE_GUARDS.format(op=verb, OP=verb.upper()))
    else:
        op.execute(_PG_GUARD_FUNCTION)
        op.execute(_PG_GUARD)


def upgrade() -> None:
    _prepare()
    op.create_table("admin_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["admin_areas.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    _add_geometry("admin_areas", "MULTIPOLYGON")
    op.create_index("ix_admin_areas_level", "admin_areas", ["level"], unique=False)
    op.create_table("audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_no", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table("calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("workday", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table("roads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("width_m", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _add_geometry("roads", "LINESTRING")
    op.create_table("departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("admin_area_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["admin_area_id"], ["admin_areas.id"]),
        sa.ForeignKeyConstraint(["parent_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table("categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("major_code", sa.String(length=2), nullable=False),
        sa.Column("major_name", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("filing_standard", sa.Text(), nullable=True),
        sa.Column("default_department_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["default_department_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "code"),
    )
    op.create_table("users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_users_role", "users", ["role"], unique=False)
    op.create_table("routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("major_code", sa.String(length=2), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("admin_area_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["admin_area_id"], ["admin_areas.id"]),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table("time_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("category_id", "level", "stage"),
    )
    op.create_table("unit_grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["admin_areas.id"]),
        sa.ForeignKeyConstraint(["supervisor_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    _add_geometry("unit_grids", "POLYGON")
    op.create_index("ix_unit_grids_community_id", "unit_grids", ["community_id"], unique=False)
    op.create_table("components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=17), nullable=False),
        sa.Column("legacy_code", sa.String(length=16), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("authority_department_id", sa.Integer(), nullable=True),
        sa.Column("owner_department_id", sa.Integer(), nullable=True),
        sa.Column("maintainer_department_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("initial_date", sa.Date(), nullable=True),
        sa.Column("changed_date", sa.Date(), nullable=True),
        sa.Column("data_source", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["authority_department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"]),
        sa.ForeignKeyConstraint(["grid_id"], ["unit_grids.id"]),
        sa.ForeignKeyConstraint(["maintainer_department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["owner_department_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    _add_geometry("components", "POINT")
    op.create_index("ix_components_category_id", "components", ["category_id"], unique=False)
    op.create_index("ix_components_grid_id", "components", ["grid_id"], unique=False)
    op.create_index("ix_components_legacy_code", "components", ["legacy_code"], unique=False)
    op.create_table("cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("component_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reporter_name", sa.String(length=64), nullable=True),
        sa.Column("reporter_phone", sa.String(length=32), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("filed_at", sa.DateTime(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("fed_back_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("timer_basis", sa.String(length=16), nullable=True),
        sa.Column("limit_minutes", sa.Integer(), nullable=True),
        sa.Column("timer_started_at", sa.DateTime(), nullable=True),
        sa.Column("paused_since", sa.DateTime(), nullable=True),
        sa.Column("paused_minutes", sa.Integer(), nullable=False),
        sa.Column("extension_minutes", sa.Integer(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(), nullable=True),
        sa.Column("handle_deadline_at", sa.DateTime(), nullable=True),
        sa.Column("urge_count", sa.Integer(), nullable=False),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"]),
        sa.ForeignKeyConstraint(["component_id"], ["components.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["duplicate_of_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["grid_id"], ["unit_grids.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    _add_geometry("cases", "POINT")
    op.create_index("ix_cases_category_id", "cases", ["category_id"], unique=False)
    op.create_index("ix_cases_closed_at", "cases", ["closed_at"], unique=False)
    op.create_index("ix_cases_deadline_at", "cases", ["deadline_at"], unique=False)
    op.create_index("ix_cases_department_id", "cases", ["department_id"], unique=False)
    op.create_index("ix_cases_grid_id", "cases", ["grid_id"], unique=False)
    op.create_index("ix_cases_reported_at", "cases", ["reported_at"], unique=False)
    op.create_index("ix_cases_state", "cases", ["state"], unique=False)
    op.create_table("case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_no", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq"),
        sa.UniqueConstraint("chain_no"),
    )
    op.create_index("ix_case_events_at", "case_events", ["at"], unique=False)
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"], unique=False)
    op.create_table("attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["case_events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachments_case_id", "attachments", ["case_id"], unique=False)
    # ### end Alembic commands ###

    _guard_case_events()
    op.bulk_insert(
        sa.table("audit_head", sa.column("id", sa.Integer), sa.column("chain_no", sa.Integer),
                 sa.column("hash", sa.String)),
        [{"id": 1, "chain_no": 0, "hash": GENESIS_HASH}],
    )


def downgrade() -> None:
    raise NotImplementedError("GridHall does not downgrade below its initial schema")
