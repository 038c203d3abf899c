#!/usr/bin/python3
"""Write pip constraints that keep the venv on the Python packages Debian's QGIS was built with.

    /usr/bin/python3 tools/gen-constraints.py build/constraints.txt

The venv sees Debian's site packages (--system-site-packages), and pip must never install another
numpy, PyQt5 or PyQt5-sip over them: QGIS's bindings are compiled against these. The same holds for
every architecture-dependent python3-* package that python3-qgis depends on, directly or through
other python3-* packages (lxml, psycopg2, pyproj, GDAL, Pillow, ...): each of their distributions
is pinned at the version Debian has, read from dpkg and the distributions' own metadata (numpy,
PyQt5 and PyQt5-sip also from the interpreter). Pure-Python packages (Architecture: all) are left
to pip's resolver. The file is rewritten only when its contents change, so an unchanged system
does not make the venv reinstall.
"""

from __future__ import annotations

import email.parser
import os
import re
import subprocess
import sys
from pathlib import Path

ROOTS = ("python3-qgis", "python3-pyqt5", "python3-pyqt5.sip", "python3-numpy")
SITE = "/usr/lib/python3/dist-packages/"
DPKG_STATUS = "/var/lib/dpkg/status"
# PEP 440 public versions (with local labels), else the pin uses arbitrary equality (===).
PEP440 = re.compile(r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
                    r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?(\+[a-z0-9]+(\.[a-z0-9]+)*)?$", re.I)


def dpkg(*args: str) -> str:
    return subprocess.run(["dpkg-query", *args], capture_output=True, text=True).stdout


def installed_python_packages() -> dict[str, str]:
    """Installed python3-* packages -> (architecture, Depends and Pre-Depends fields)."""
    out = dpkg("-W", "-f=${Package}\t${db:Status-Status}\t${Architecture}\t${Depends}, ${Pre-Depends}\n",
               "python3-*")
    found = {}
    for line in out.splitlines():
        name, status, arch, depends = (line.split("\t") + ["", "", ""])[:4]
        if status == "installed":
            found[name] = (arch, depends)
    return found


def closure(packages: dict[str, tuple[str, str]]) -> list[str]:
    """The roots and the python3-* packages they depend on, recursively (installed ones only)."""
    seen: list[str] = []
    todo = [r for r in ROOTS if r in packages]
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.append(pkg)
        for alternatives in packages[pkg][1].split(","):
            for alt in alternatives.split("|"):
                name = alt.strip().split(" ")[0].split(":")[0]
                if name in packages and name not in seen:
                    todo.append(name)
                    break
    return sorted(seen)


def distributions(pkg: str) -> list[tuple[str, str]]:
    """(name, version) of the distributions whose metadata the Debian package ships."""
    found = []
    for path in dpkg("-L", pkg).splitlines():
        if not path.startswith(SITE) or "/" in path[len(SITE):]:
            continue
        meta = None
        if path.endswith(".dist-info"):
            meta = Path(path, "METADATA")
        elif path.endswith(".egg-info"):
            meta = Path(path, "PKG-INFO") if os.path.isdir(path) else Path(path)
        if meta is None or not meta.is_file():
            continue
        headers = email.parser.Parser().parsestr(meta.read_text(errors="replace"), headersonly=True)
        if headers.get("Name") and headers.get("Version"):
            found.append((headers["Name"], headers["Version"]))
    return found


def from_interpreter() -> list[tuple[str, str]]:
    """numpy, PyQt5 and PyQt5-sip as this interpreter imports them."""
    found = []
    try:
        import numpy
        found.append(("numpy", numpy.__version__))
    except ImportError:
        pass
    try:
        from PyQt5 import QtCore
        found.append(("PyQt5", QtCore.PYQT_VERSION_STR))
    except ImportError:
        pass
    try:
        from importlib.metadata import version  # the module's own SIP_VERSION_STR is sip's, not the wheel's
        found.append(("PyQt5-sip", version("PyQt5-sip")))
    except ImportError:
        pass
    return found


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints() -> str:
    pins: dict[str, tuple[str, str]] = {}
    packages = installed_python_packages()
    if "python3-qgis" not in packages:
        raise SystemExit("gen-constraints: python3-qgis is not installed (run `make apt` first)")
    for pkg in closure(packages):
        if packages[pkg][0] == "all":  # pure Python: nothing was compiled against it
            continue
        for name, version in distributions(pkg):
            if version.strip("0.") == "":  # a few Debian builds record 0.0.0: no real version to keep
                continue
            pins[normal(name)] = (name, version)
    for name, version in from_interpreter():  # the interpreter has the last word
        pins[normal(name)] = (name, version)
    lines = ["# Generated by tools/gen-constraints.py from this system's Debian packages: pip keeps these",
             "# at the versions Debian's QGIS was built and tested with. Do not edit; `make venv` rewrites it."]
    for _, (name, version) in sorted(pins.items()):
        op = "==" if PEP440.match(version) else "==="
        lines.append(f"{name}{op}{version}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    target = Path(argv[0])
    text = constraints()
    if target.exists() and target.read_text() == text:
        # Unchanged: only the file's time moves up to dpkg's database, so that make stops asking
        # (and the venv, installed after it, is not reinstalled for nothing).
        stamp = max(target.stat().st_mtime, os.stat(DPKG_STATUS).st_mtime)
        os.utime(target, (stamp, stamp))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(target)
    print(f"gen-constraints: wrote {target} ({text.count(chr(10)) - 2} pins)")


if __name__ == "__main__":
    main(sys.argv[1:])
