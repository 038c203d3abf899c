"""Stop and start a test cluster's server in place (the data directory stays): a server restart."""

from __future__ import annotations

from pg import PG_BINDIR, PgCluster


def stop_server(cluster: PgCluster, mode: str = "fast") -> None:
    """``pg_ctl stop -m fast``: disconnect every client, roll back their transactions, shut down."""
    cluster._run("pg_ctl", "-D", str(cluster.data), "-m", mode, "-w", "stop")
    cluster.running = False


def start_server(cluster: PgCluster) -> None:
    """Start the stopped server again on the same port with the options of ``PgCluster.start``."""
    opts = (f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {cluster.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
    cluster._run("pg_ctl", "-D", str(cluster.data), "-l", str(cluster.log), "-o", opts, "-w", "-t", "60", "start")
    cluster.running = True


__all__ = ["PG_BINDIR", "start_server", "stop_server"]
