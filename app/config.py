"""Where things are: the repository root, the default demo database, resources."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
DATA = ROOT / "data"
PLUGINS = ROOT / "plugins"

#: The embedded demo district `make run` opens (created on first start).
DEFAULT_DB = DATA / "demo" / "district.sqlite"


def default_db_url() -> str:
    """The database to open when none is named: $GRIDHALL_DB or the embedded demo district.

    A GRIDHALL_DB that is set but blank is returned as it is (and refused where it is opened):
    an empty address is an error, never a silent fallback to the demo store.
    """
    named = os.environ.get("GRIDHALL_DB")
    return str(DEFAULT_DB) if named is None else named


def redact(url: str) -> str:
    """The URL with any password replaced by ***, safe to show and log.

    The URL is taken apart (scheme, user, password, host), never searched for the password's
    characters: a one-letter password must not garble the rest of the text.
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    creds, host = authority.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}{slash}{tail}"


# scheme://user:password@host (the password ends at the last @ of the authority part)
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):(?P<password>[^\s/]*)@")
# password=… of a libpq DSN (quoted with '' and backslash escapes, or up to the next space)
_DSN_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<password>'(?:\\.|[^'\\])*'|[^\s']\S*)",
                           re.IGNORECASE)


def redact_text(text: str) -> str:
    """``text`` (an error or log message) with the passwords of every URL and DSN in it hidden.

    Only the password *positions* are rewritten (``scheme://user:***@host``, ``password=***``);
    the rest of the text is left exactly as it was.
    """
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['head']}:***@", text)
    return _DSN_PASSWORD.sub(lambda m: f"{m['head']}***", text)


#: Password of the demo city's one-user-per-role logins (demo_acceptor, demo_dispatcher, …).
DEMO_PASSWORD = "gridhall-demo"
