"""The gazetteer (地名地址库, issue 16, item 1): road segments, house numbers, landmarks, aliases.

- ``road_segments(id, road, label, from_name, to_name, geom LINESTRING)``: a road between two
  crossings, e.g. 人民路(友谊桥至和平桥);
- ``house_numbers(id, road, number, geom POINT)``: 门牌 (odd on the left of the road's direction);
- ``landmarks(id, name, kind, geom POINT)`` and ``landmark_aliases(id, landmark_id, alias)``.

Roads themselves are 0001's ``roads``. Empty tables mean "derive from the roads" (the geocoder
then numbers the roads itself); ``gridhall gazetteer generate`` fills them for the demo and
``gridhall gazetteer import FILE --kind …`` from any file OGR reads.
PostgreSQL: everyone reads; only the administrator group writes.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.definitions import Role
from app.store.security import GROUP_ROLES, group_role

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SRID = 4549
GEOMETRY = {"road_segments": "LINESTRING", "house_numbers": "POINT", "landmarks": "POINT"}
TABLES = ("road_segments", "house_numbers", "landmarks", "landmark_aliases")


def _spatialite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_geometry(table: str, kind: str) -> None:
    bind = op.get_bind()
    if _spatialite():
        ok = bind.exec_driver_sql(f"SELECT AddGeometryColumn('{table}', 'geom', {SRID}, '{kind}', 'XY')").scalar()
        ok = ok and bind.exec_driver_sql(f"SELECT CreateSpatialIndex('{table}', 'geom')").scalar()
        if not ok:
            raise RuntimeError(f"SpatiaLite refused to add or index {table}.geom")
        return
    op.execute(f"ALTER TABLE {table} ADD COLUMN geom geometry({kind}, {SRID})")
    op.execute(f"CREATE INDEX idx_{table}_geom ON {table} USING gist (geom)")


def upgrade() -> None:
    op.create_table(
        "road_segments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("road", sa.String(64), nullable=False, index=True),
        sa.Column("label", sa.String(160), nullable=False),
        sa.Column("from_name", sa.String(64), nullable=True),
        sa.Column("to_name", sa.String(64), nullable=True),
    )
    op.create_table(
        "house_numbers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("road", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.UniqueConstraint("road", "number", name="uq_house_numbers_road_number"),
    )
    op.create_table(
        "landmarks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False, server_default=""),
    )
    op.create_table(
        "landmark_aliases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("landmark_id", sa.Integer(), sa.ForeignKey("landmarks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.UniqueConstraint("landmark_id", "alias", name="uq_landmark_aliases"),
    )
    for table, kind in GEOMETRY.items():
        _add_geometry(table, kind)
    if _spatialite():
        return
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    admin = group_role(Role.ADMIN)
    for table in TABLES:
        op.execute(f"GRANT SELECT ON {table} TO {everyone}")
        op.execute(f"GRANT INSERT, UPDATE, DELETE ON {table} TO {admin}")
        op.execute(f"GRANT USAGE ON SEQUENCE {table}_id_seq TO {admin}")


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        if _spatialite() and table in GEOMETRY:
            bind.exec_driver_sql(f"SELECT DisableSpatialIndex('{table}', 'geom')")
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS idx_{table}_geom")
            bind.exec_driver_sql(f"SELECT DiscardGeometryColumn('{table}', 'geom')")
        op.drop_table(table)
