"""Where things are: the repository root, the default demo database, resources."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
DATA = ROOT / "data"
PLUGINS = ROOT / "plugins"

#: The embedded demo district `make run` opens (created on first start).
DEFAULT_DB = DATA / "demo" / "district.sqlite"


def default_db_url() -> str:
    """The database to open when none is named: $GRIDHALL_DB or the embedded demo district."""
    return os.environ.get("GRIDHALL_DB") or str(DEFAULT_DB)


def redact(url: str) -> str:
    """The URL with any password replaced by ***, safe to show and log."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"

#: Password of the demo city's one-user-per-role logins (demo_acceptor, demo_dispatcher, …).
DEMO_PASSWORD = "gridhall-demo"
