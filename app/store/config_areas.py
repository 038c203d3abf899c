"""Tables of migration 0025: departments' jurisdictions and routing rules' areas (issue 12).

Defined on their own metadata (not app.store.models): the services that edit and read them
(app.services.config, app.services.routing) name them here. Foreign keys live in the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

from app.domain.definitions import STORE_SRID

metadata = sa.MetaData()

#: A department's jurisdiction (辖区): one multipolygon per department.
department_areas = sa.Table(
    "department_areas", metadata,
    sa.Column("department_id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(200)),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORE_SRID, spatial_index=False)),
)

#: A routing rule's area beyond an administrative area: ``grids`` (grid_codes, comma separated),
#: ``polygon`` (geom) or ``jurisdiction`` (the rule's department's own jurisdiction).
routing_areas = sa.Table(
    "routing_areas", metadata,
    sa.Column("rule_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("label", sa.String(32), nullable=False),
    sa.Column("grid_codes", sa.Text),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORE_SRID, spatial_index=False)),
)

AREA_KINDS = ("grids", "polygon", "jurisdiction")


def has_area_tables(conn: sa.Connection) -> bool:
    """Whether the store has migration 0025's tables."""
    return sa.inspect(conn).has_table("routing_areas")


__all__ = ["AREA_KINDS", "department_areas", "has_area_tables", "metadata", "routing_areas"]
