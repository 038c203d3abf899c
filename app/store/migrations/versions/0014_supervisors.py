"""Supervisors' tasks (issue 11, item 4): where supervisors are and whether they are on duty.

Which supervisor is assigned to which unit grid is ``unit_grids.supervisor_id`` (since 0001;
the demo city fills it): one supervisor per grid, a reference column that only the
administrator writes (0002/0010: reference data, column-wise UPDATE for the admin group only).
This revision adds

``supervisor_positions(username PK → users.username, on_duty, at, geom POINT 4549)``
  one row per supervisor: the last position its handheld reported, whether it is on duty
  and when (naive China Standard Time). ``app.services.supervisors.report_position`` writes it.

PostgreSQL
  everyone reads the table; only the supervisor group may INSERT or UPDATE, and row-level
  security lets a supervisor's login write only its own row (``username`` is the login's
  user) and not date it more than 5 minutes ahead of the database's clock. Nobody deletes.
SpatiaLite
  the table with its registered geometry column and spatial index (no logins: the service
  checks the role and the row).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.definitions import Role
from app.store.security import GROUP_ROLES, group_role

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SRID = 4549
TABLE = "supervisor_positions"
DB_NOW = "(now() AT TIME ZONE 'Asia/Shanghai')::timestamp(0)"
POLICIES = (f"{TABLE}_read", f"{TABLE}_insert", f"{TABLE}_update")


def _spatialite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("username", sa.String(64), sa.ForeignKey("users.username"), primary_key=True),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    bind = op.get_bind()
    if _spatialite():
        ok = bind.exec_driver_sql(f"SELECT AddGeometryColumn('{TABLE}', 'geom', {SRID}, 'POINT', 'XY')").scalar()
        ok = ok and bind.exec_driver_sql(f"SELECT CreateSpatialIndex('{TABLE}', 'geom')").scalar()
        if not ok:
            raise RuntimeError(f"SpatiaLite refused to add or index {TABLE}.geom")
        return
    op.execute(f"ALTER TABLE {TABLE} ADD COLUMN geom geometry(POINT, {SRID})")
    op.execute(f"CREATE INDEX idx_{TABLE}_geom ON {TABLE} USING gist (geom)")
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    supervisor = group_role(Role.SUPERVISOR)
    op.execute(f"GRANT SELECT ON {TABLE} TO {everyone}")
    op.execute(f"GRANT INSERT, UPDATE (on_duty, at, geom) ON {TABLE} TO {supervisor}")
    me = "(SELECT gridhall_username(session_user))"  # a subquery: evaluated once per query
    fresh = f"at <= {DB_NOW} + interval '5 minutes'"
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {TABLE}_read ON {TABLE} FOR SELECT TO {everyone} USING (true)")
    op.execute(f"CREATE POLICY {TABLE}_insert ON {TABLE} FOR INSERT TO {supervisor} "
               f"WITH CHECK (username = {me} AND {fresh})")
    op.execute(f"CREATE POLICY {TABLE}_update ON {TABLE} FOR UPDATE TO {supervisor} "
               f"USING (username = {me}) WITH CHECK (username = {me} AND {fresh})")


def downgrade() -> None:
    if _spatialite():
        bind = op.get_bind()
        bind.exec_driver_sql(f"SELECT DisableSpatialIndex('{TABLE}', 'geom')")
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS idx_{TABLE}_geom")
        bind.exec_driver_sql(f"SELECT DiscardGeometryColumn('{TABLE}', 'geom')")
        op.drop_table(TABLE)
        return
    for name in POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {name} ON {TABLE}")
    op.drop_table(TABLE)  # its grants, index and policies go with it
