"""MANIFEST.toml of a plugin folder: parsing and validation with clear messages."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

#: The plugin API version this application implements ("major.minor").
API_VERSION = "1.0"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^\d+(\.\d+){0,2}([.-]?[A-Za-z0-9]+)?$")
_API = re.compile(r"^(\d+)\.(\d+)$")
#: ``commands``: "module.path:function" of a Qt-free module of the plugin's own package.
_HOOK = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
REQUIRED = ("id", "name", "version", "api_version")
OPTIONAL = ("description", "author", "commands")


class ManifestError(ValueError):
    """A manifest is missing, unreadable or invalid; the message says how to fix it."""


@dataclass(frozen=True)
class Manifest:
    """What a plugin declares about itself."""

    id: str
    name: str
    version: str
    api_version: str
    description: str = ""
    author: str = ""
    #: The plugin's case-command hook, "plugins.<id>.commands:register": a function of a module that
    #: imports no Qt, called with the CommandRegistry (by the GUI and by ``gridhall case``).
    commands: str = ""


def api_compatible(wanted: str, provided: str = API_VERSION) -> bool:
    """Same major version and a minor no newer than the application's."""
    w, p = _API.match(wanted), _API.match(provided)
    if not (w and p):
        return False
    return w.group(1) == p.group(1) and int(w.group(2)) <= int(p.group(2))


def parse_manifest(text: str, folder_name: str, source: str = "MANIFEST.toml") -> Manifest:
    """Validate manifest ``text`` of the plugin in folder ``folder_name``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{source}: not valid TOML ({exc}); fix the syntax") from None
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ManifestError(f"{source}: missing required key(s) {', '.join(missing)}; "
                            f"a manifest needs {', '.join(REQUIRED)}")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ManifestError(f"{source}: unknown key(s) {', '.join(unknown)}; "
                            f"allowed: {', '.join(REQUIRED + OPTIONAL)}")
    for key, value in data.items():
        if not isinstance(value, str):
            raise ManifestError(f"{source}: '{key}' must be a string in quotes, got {value!r}")
    if not _ID.match(data["id"]):
        raise ManifestError(f"{source}: id '{data['id']}' must be lower-case letters, digits and _ "
                            "starting with a letter")
    if data["id"] != folder_name:
        raise ManifestError(f"{source}: id '{data['id']}' must equal the folder name '{folder_name}'")
    if not data["name"].strip():
        raise ManifestError(f"{source}: name must not be empty")
    if not _VERSION.match(data["version"]):
        raise ManifestError(f"{source}: version '{data['version']}' is not like 1.0 or 1.2.3")
    if not _API.match(data["api_version"]):
        raise ManifestError(f"{source}: api_version '{data['api_version']}' must be 'major.minor', "
                            f"e.g. '{API_VERSION}'")
    if not api_compatible(data["api_version"]):
        raise ManifestError(f"{source}: plugin needs API {data['api_version']}, this GridHall provides "
                            f"{API_VERSION}; update the plugin or GridHall")
    if "commands" in data and not _HOOK.match(data["commands"]):
        raise ManifestError(f"{source}: commands '{data['commands']}' must be 'module.path:function', "
                            f"e.g. 'plugins.{data['id']}.commands:register'")
    return Manifest(**data)


def read_manifest(folder: Path) -> Manifest:
    """Read and validate ``folder/MANIFEST.toml``."""
    path = folder / "MANIFEST.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: no MANIFEST.toml; every plugin folder needs one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot be read ({exc})") from None
    return parse_manifest(text, folder.name, str(path))
