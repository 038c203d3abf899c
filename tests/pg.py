"""The tests' throwaway PostgreSQL + PostGIS cluster: app.store.cluster (shared with bench/live.py)."""

from app.store.cluster import (
    PG_BINDIR,
    SUPERUSER,
    TEMPLATE,
    PgCluster,
    PgUnavailable,
    find_bindir,
    start_cluster,
)

__all__ = ["PG_BINDIR", "SUPERUSER", "TEMPLATE", "PgCluster", "PgUnavailable", "find_bindir", "start_cluster"]
