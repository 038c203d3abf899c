#!/usr/bin/python3
"""Read this machine's package-registry configuration for tools/test-debian.sh (stdlib only).

    host_config.py mirror                 the Debian archive URI apt uses here
    host_config.py sources SUITE          a deb822 sources file: this machine's Debian archive
                                          entries (release, -updates, -security, -backports)
                                          with the suite names moved to SUITE
    host_config.py pip-paths              local directories named by pip's configuration
                                          (find-links, file:// indexes), one a line

Nothing here names a host: everything is read from /etc/apt and pip's configuration files.
"""

from __future__ import annotations

import configparser
import glob
import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

POCKETS = ("", "-updates", "-security", "-backports")


def host_codename() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit("host_config: no VERSION_CODENAME in /etc/os-release")


def _entries() -> list[dict[str, list[str]]]:
    """Every enabled ``deb`` entry of /etc/apt/sources.list{,.d/*.list,.d/*.sources} as deb822 fields."""
    out: list[dict[str, list[str]]] = []
    one_line = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]
    for path in one_line:
        if not os.path.exists(path):
            continue
        for raw in Path(path).read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line.startswith("deb "):
                continue
            words = line.split()[1:]
            opts: list[str] = []
            if words and words[0].startswith("["):  # [signed-by=... arch=...]
                while words and not words[0].endswith("]"):
                    opts.append(words.pop(0))
                opts.append(words.pop(0))
            if len(words) < 2:
                continue
            entry = {"Types": ["deb"], "URIs": [words[0]], "Suites": [words[1]], "Components": words[2:]}
            for opt in " ".join(opts).strip("[]").split():
                key, _, value = opt.partition("=")
                if key == "signed-by":
                    entry["Signed-By"] = [value]
            out.append(entry)
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", Path(path).read_text()):
            fields: dict[str, list[str]] = {}
            key = None
            for raw in stanza.splitlines():
                if raw.startswith("#"):
                    continue
                if raw[:1].isspace() and key:
                    fields[key] += raw.split()
                    continue
                key, _, value = raw.partition(":")
                key = key.strip()
                fields[key] = value.split()
            if "deb" in fields.get("Types", []) and fields.get("Enabled", ["yes"])[0] != "no" and "URIs" in fields:
                out.append(fields)
    return out


def _debian_entries(codename: str) -> list[tuple[dict[str, list[str]], list[str]]]:
    """The entries that serve this release of Debian, with their pockets ("", "-security", ...)."""
    wanted = {codename + p: p for p in POCKETS}
    found = []
    for entry in _entries():
        pockets = [wanted[s] for s in entry.get("Suites", []) if s in wanted]
        if pockets and len(pockets) == len(entry["Suites"]):
            found.append((entry, pockets))
    return found


def mirror() -> str:
    for entry, pockets in _debian_entries(host_codename()):
        if "" in pockets:
            return entry["URIs"][0]
    raise SystemExit(f"host_config: no apt source serves {host_codename()} on this machine")


def sources(suite: str) -> str:
    stanzas = []
    for entry, pockets in _debian_entries(host_codename()):
        lines = ["Types: deb", "URIs: " + " ".join(entry["URIs"]),
                 "Suites: " + " ".join(suite + p for p in pockets),
                 "Components: " + " ".join(entry.get("Components") or ["main"])]
        lines.append("Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg")
        stanzas.append("\n".join(lines))
    if not stanzas:
        raise SystemExit(f"host_config: no apt source serves {host_codename()} on this machine")
    return "\n\n".join(stanzas) + "\n"


def pip_config_files() -> list[str]:
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    files = ["/etc/pip.conf", *(os.path.join(d, "pip", "pip.conf") for d in xdg),
             os.path.join(home, ".pip", "pip.conf"), os.path.join(home, ".config", "pip", "pip.conf")]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(os.environ["PIP_CONFIG_FILE"])
    return [f for f in files if os.path.isfile(f)]


def pip_paths() -> list[str]:
    """Local directories pip reads packages from: find-links and file:// indexes."""
    values: list[str] = []
    for path in pip_config_files():
        parser = configparser.RawConfigParser()
        parser.read(path)
        for section in parser.sections():
            for key in ("find-links", "index-url", "extra-index-url"):
                if parser.has_option(section, key):
                    values += parser.get(section, key).split()
    for key in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        values += os.environ.get(key, "").split()
    dirs: list[str] = []
    for value in values:
        if value.startswith("file:"):
            path = unquote(urlparse(value).path)
            if os.path.basename(path.rstrip("/")) == "simple":  # a PEP 503 tree links to ../../files
                path = os.path.dirname(path.rstrip("/"))
        elif value.startswith("/"):
            path = value
        else:
            continue
        if os.path.isdir(path) and path not in dirs:
            dirs.append(path.rstrip("/") or "/")
    return dirs


def main(argv: list[str]) -> None:
    if argv[:1] == ["mirror"]:
        print(mirror())
    elif argv[:1] == ["sources"] and len(argv) == 2:
        sys.stdout.write(sources(argv[1]))
    elif argv[:1] == ["pip-paths"]:
        print("\n".join(pip_paths()))
    elif argv[:1] == ["pip-files"]:
        print("\n".join(pip_config_files()))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
