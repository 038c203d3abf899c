"""Stop and start a test cluster's server in place (the data directory stays): a server restart."""

from __future__ import annotations

from pg import PG_BINDIR, PgCluster


def stop_server(cluster: PgCluster, mode: str = "fast") -> None:
    """``pg_ctl stop -m fast``: disconnect every client, roll back their transactions, shut down."""
    cluster.stop_server(mode)


def start_server(cluster: PgCluster) -> None:
    """Start the stopped server again on the same port with the options of ``PgCluster.start``."""
    cluster.start_server()


__all__ = ["PG_BINDIR", "start_server", "stop_server"]
