"""Window layouts as data: which dock goes where, parsed and checked without Qt.

A layout is a TOML file (``resources/layouts/*.toml``; the format is documented in
``docs/layouts.md``). It names docks by their registry id and puts them in *tab groups*; each
group sits in a side area (left/right/top/bottom), the groups of an area are split one after
the other, and sizes are pixels or percentages. ``app.ui.layouts`` applies a :class:`Layout`
to a QMainWindow; this module only parses, validates and plans.

A malformed file raises :class:`LayoutError` whose ``msg`` says what is wrong, in the user's
language (``Catalogue.error``); :func:`resolve_layout` falls back to the built-in layout.
Docks a layout names but the window does not have are skipped; docks the window has but the
layout does not name go to their own area (see :meth:`Layout.plan`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import RESOURCES
from app.domain.messages import Msg

#: The layout file format this version reads (``format = 1`` in every file).
FORMAT = 1
SIDES = ("left", "right", "top", "bottom")
#: What may fill the middle of the window.
CENTRALS = ("map",)
#: Window modes (``gridhall run --mode``); the desk's layout also depends on the role.
MODES = ("desk", "analyst", "wall")
SPLITS = ("vertical", "horizontal")
UNLISTED = ("show", "hide")
#: Each corner belongs to one of two sides.
CORNERS = {
    "top_left": ("top", "left"),
    "top_right": ("top", "right"),
    "bottom_left": ("bottom", "left"),
    "bottom_right": ("bottom", "right"),
}
#: Corners a layout leaves out: the top banner spans the width, the right column runs down to
#: the status bar and the bottom area (the queue) takes the lower left.
DEFAULT_CORNERS = {"top_left": "top", "top_right": "top", "bottom_left": "bottom", "bottom_right": "right"}
SCALE_RANGE = (0.5, 4.0)
LAYOUTS_DIR = RESOURCES / "layouts"

_DOCK_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_TOP_KEYS = ("format", "name", "title", "description", "central", "hidden", "unlisted", "scale",
             "window", "corners", "areas")
_WINDOW_KEYS = ("menubar", "statusbar", "toolbars")
_AREA_KEYS = ("size", "split", "groups")
_GROUP_KEYS = ("docks", "front", "size", "titlebar")

# Kinds of value named in type errors (ids of the message catalogue).
TEXT, FLAG, TEXTS, TABLE, TABLES, NUMBER = ("文字", "true 或 false", "文字列表", "表", "表的数组", "数字")


class LayoutError(ValueError):
    """A layout file cannot be used; ``msg`` explains it (a :class:`Msg`, rendered per language)."""

    def __init__(self, msg: Msg) -> None:
        super().__init__(str(msg))
        self.msg = msg


@dataclass(frozen=True)
class Size:
    """A length: ``value`` pixels, or ``value`` percent of a whole when ``percent``."""

    value: float
    percent: bool = False

    def pixels(self, whole: int) -> int:
        """This size in pixels, given the length of the whole."""
        return round(whole * self.value / 100) if self.percent else round(self.value)

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{self.value:g}"


@dataclass(frozen=True)
class Group:
    """Docks tabbed together in one ``area``; ``front`` is the tab shown first.

    ``size`` is the group's length along its area's split (percent of the area or pixels);
    ``titlebar`` False drops the docks' title bars (a thin banner needs no caption).
    """

    area: str
    docks: tuple[str, ...]
    front: str | None = None
    size: Size | None = None
    titlebar: bool = True


@dataclass(frozen=True)
class Plan:
    """A layout resolved against the docks a window has: every registered dock placed once."""

    groups: tuple[Group, ...]
    hidden: frozenset[str]

    def group_of(self, dock_id: str) -> Group | None:
        """The group ``dock_id`` is in (None if the window has no such dock)."""
        return next((g for g in self.groups if dock_id in g.docks), None)

    def in_area(self, area: str) -> list[Group]:
        """The groups of ``area`` in split order."""
        return [g for g in self.groups if g.area == area]

    def shown(self, group: Group) -> list[str]:
        """The docks of ``group`` that are not hidden."""
        return [d for d in group.docks if d not in self.hidden]


@dataclass(frozen=True)
class Layout:
    """A window layout (see the module docstring; every field has a neutral default)."""

    name: str
    title: str = ""
    central: str = "map"
    groups: tuple[Group, ...] = ()
    area_sizes: Mapping[str, Size] = field(default_factory=dict)
    splits: Mapping[str, str] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    unlisted: str = "show"
    corners: Mapping[str, str] = field(default_factory=dict)
    menubar: bool = True
    statusbar: bool = True
    toolbars: bool = True
    scale: float | None = None
    source: str = ""

    def named(self) -> list[str]:
        """Every dock id the layout places, in file order."""
        return [d for g in self.groups for d in g.docks]

    def corner(self, corner: str) -> str:
        """The side that owns ``corner`` ("top_left", …)."""
        return self.corners.get(corner) or DEFAULT_CORNERS[corner]

    def split(self, area: str) -> str:
        """How the groups of ``area`` follow each other: "vertical" (stacked) or "horizontal"."""
        return self.splits.get(area) or ("vertical" if area in ("left", "right") else "horizontal")

    def plan(self, registered: Mapping[str, str]) -> Plan:
        """Place the docks a window has; ``registered`` maps each dock id to its own area.

        Named docks the window lacks are skipped (a role without that dock, a missing plugin).
        A registered dock the layout does not name joins the last group of its own area as a
        background tab (or opens a group there), hidden when ``unlisted = "hide"``.
        """
        groups: list[Group] = []
        for group in self.groups:
            present = tuple(d for d in group.docks if d in registered)
            if present:
                groups.append(Group(group.area, present, group.front, group.size, group.titlebar))
        hidden = {d for d in registered if d in self.hidden}
        named = set(self.named())
        for dock_id, area in registered.items():
            if dock_id in named:
                continue
            if self.unlisted == "hide":
                hidden.add(dock_id)
            last = max((i for i, g in enumerate(groups) if g.area == area), default=None)
            if last is None:
                groups.append(Group(area, (dock_id,), dock_id))
            else:
                g = groups[last]
                groups[last] = Group(g.area, (*g.docks, dock_id), g.front or g.docks[0], g.size, g.titlebar)
        return Plan(tuple(_with_front(g, hidden) for g in groups), frozenset(hidden))


def _with_front(group: Group, hidden: set[str]) -> Group:
    """``group`` with a front tab it has and that is shown (the first shown one otherwise)."""
    shown = [d for d in group.docks if d not in hidden]
    front = group.front if group.front in group.docks and group.front not in hidden else None
    front = front or (shown[0] if shown else group.docks[0])
    return Group(group.area, group.docks, front, group.size, group.titlebar)


#: The last resort when no layout file can be read: every dock in its own area, tabbed there.
FALLBACK = Layout(name="fallback", source="<built-in fallback>")


# ---- screens ----------------------------------------------------------------------------------
def screen_bucket(width: int, height: int) -> str:
    """The key a user's arrangement is saved under for a screen of ``width``×``height`` device
    pixels: its resolution, odd sizes rounded to 8 px ("1920x1080", "3840x2160"), so one user
    keeps one arrangement for the hall's 1080p monitor and another for the 4K one."""
    return f"{max(1, round(width / 8)) * 8}x{max(1, round(height / 8)) * 8}"


def clamp_rect(rect: tuple[int, int, int, int], available: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``rect`` (x, y, width, height) moved and shrunk to lie inside ``available`` (the screen's
    usable area): a window saved on a bigger or another screen never hangs off this one, so its
    title bar and status bar stay reachable."""
    x, y, w, h = rect
    ax, ay, aw, ah = available
    w, h = min(w, aw), min(h, ah)
    x = min(max(x, ax), ax + aw - w)
    y = min(max(y, ay), ay + ah - h)
    return x, y, w, h


# ---- parsing ---------------------------------------------------------------------------------
def parse_layout(text: str, name: str = "layout", source: str = "") -> Layout:
    """The layout in TOML ``text``; :class:`LayoutError` names the first problem found."""
    where = source or name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(Msg("布局 {source}：{problem}", source=where,
                              problem=Msg("不是有效的 TOML：{error}", error=str(exc)))) from None
    try:
        return _layout(data, name, where)
    except _Problem as problem:
        raise LayoutError(Msg("布局 {source}：{problem}", source=where, problem=problem.msg)) from None


def load_layout(path: str | Path) -> Layout:
    """The layout in the file at ``path`` (its name is the file's stem)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from a Windows editor is fine
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise LayoutError(Msg("布局 {source}：{problem}", source=str(path),
                              problem=Msg("无法读取文件（{error}）", error=reason))) from None
    return parse_layout(text, path.stem, str(path))


def builtin_names(mode: str, role: str | None = None) -> list[str]:
    """The built-in layout files tried for ``mode`` (and the role, in desk mode), best first."""
    if mode not in MODES:
        raise ValueError(f"unknown window mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "desk":
        return ([f"desk_{role}"] if role else []) + ["desk"]
    return [mode]


def builtin_layout(mode: str, role: str | None = None, folder: Path = LAYOUTS_DIR) -> tuple[Layout, list[Msg]]:
    """The built-in layout of ``mode`` for ``role``, with the problems met on the way.

    A broken built-in file is reported and the next candidate tried; if none is usable the
    :data:`FALLBACK` (every dock in its own area) is returned.
    """
    problems: list[Msg] = []
    for name in builtin_names(mode, role):
        path = folder / f"{name}.toml"
        if not path.is_file():
            continue
        try:
            return load_layout(path), problems
        except LayoutError as exc:
            problems.append(exc.msg)
    if not problems:
        problems.append(Msg("找不到 {mode} 模式的内置布局（{folder}），各面板放在默认位置",
                            mode=mode, folder=str(folder)))
    return FALLBACK, problems


def resolve_layout(mode: str, role: str | None = None, file: str | Path | None = None,
                   folder: Path = LAYOUTS_DIR) -> tuple[Layout, list[Msg]]:
    """The layout to use: ``file`` if given and valid, else the mode's built-in one.

    Returns the layout and the problems to tell the user (empty when all went well); a
    malformed ``file`` never stops the start: its problem is reported and the built-in used.
    """
    problems: list[Msg] = []
    if file is not None:
        try:
            return load_layout(file), problems
        except LayoutError as exc:
            problems.append(exc.msg)
    layout, more = builtin_layout(mode, role, folder)
    problems += more
    if file is not None:
        problems.append(Msg("已改用内置布局 {name}", name=layout.name))
    return layout, problems


class _Problem(Exception):
    def __init__(self, msg: Msg) -> None:
        super().__init__(str(msg))
        self.msg = msg


def _check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed = tuple(allowed)
    for key in table:
        if key not in allowed:
            raise _Problem(Msg("未知的键 {key}（可用：{allowed}）", key=f"{where}{key}", allowed=", ".join(allowed)))


def _typed(value: Any, kind: str, key: str) -> Any:
    ok = {
        TEXT: isinstance(value, str),
        FLAG: isinstance(value, bool),
        TEXTS: isinstance(value, list) and all(isinstance(v, str) for v in value),
        TABLE: isinstance(value, dict),
        TABLES: isinstance(value, list) and all(isinstance(v, dict) for v in value),
        NUMBER: isinstance(value, (int, float)) and not isinstance(value, bool),
    }[kind]
    if not ok:
        raise _Problem(Msg("{key} 必须是{kind}，不能是 {value}", key=key, kind=Msg(kind), value=_show(value)))
    return value


def _choice(value: Any, allowed: Iterable[str], key: str) -> str:
    allowed = tuple(allowed)
    _typed(value, TEXT, key)
    if value not in allowed:
        raise _Problem(Msg("{key} = {value} 不是 {allowed} 之一", key=key, value=_show(value),
                           allowed=", ".join(allowed)))
    return value


def _size(value: Any, key: str) -> Size:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 20000:
        return Size(value)
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match and 0 < float(match.group(1)) <= 100:
            return Size(float(match.group(1)), percent=True)
    raise _Problem(Msg("尺寸 {key} = {value} 无效：写像素数（如 320）或百分比（如 \"25%\"）",
                       key=key, value=_show(value)))


def _dock_ids(values: list[str], key: str) -> tuple[str, ...]:
    for dock_id in values:
        if not _DOCK_ID.match(dock_id):
            raise _Problem(Msg("{key}：面板编号 {dock} 无效（只允许字母、数字、点、下划线和连字符）",
                               key=key, dock=_show(dock_id)))
    return tuple(values)


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else repr(value)


def _layout(data: dict[str, Any], name: str, where: str) -> Layout:
    _check_keys(data, _TOP_KEYS, "")
    if "format" not in data:
        raise _Problem(Msg("缺少 format = {supported}（布局文件格式的版本）", supported=FORMAT))
    if data["format"] != FORMAT or isinstance(data["format"], bool):
        raise _Problem(Msg("format = {found} 不受支持，本版本读取 format = {supported}",
                           found=_show(data["format"]), supported=FORMAT))
    window = _typed(data.get("window", {}), TABLE, "window")
    _check_keys(window, _WINDOW_KEYS, "window.")
    flags = {k: _typed(window.get(k, True), FLAG, f"window.{k}") for k in _WINDOW_KEYS}
    corners = _typed(data.get("corners", {}), TABLE, "corners")
    _check_keys(corners, CORNERS, "corners.")
    corner_sides = {k: _choice(v, CORNERS[k], f"corners.{k}") for k, v in corners.items()}
    scale = data.get("scale")
    if scale is not None:
        _typed(scale, NUMBER, "scale")
        low, high = SCALE_RANGE
        if not low <= scale <= high:
            raise _Problem(Msg("scale = {value} 超出范围（{low}–{high}）", value=scale, low=low, high=high))
        scale = float(scale)
    areas = _typed(data.get("areas", {}), TABLE, "areas")
    _check_keys(areas, SIDES, "areas.")
    groups: list[Group] = []
    sizes: dict[str, Size] = {}
    splits: dict[str, str] = {}
    seen: set[str] = set()
    for side in SIDES:  # a fixed order, whatever the file's: the plan does not depend on it
        if side not in areas:
            continue
        key = f"areas.{side}"
        area = _typed(areas[side], TABLE, key)
        _check_keys(area, _AREA_KEYS, f"{key}.")
        if "size" in area:
            sizes[side] = _size(area["size"], f"{key}.size")
        if "split" in area:
            splits[side] = _choice(area["split"], SPLITS, f"{key}.split")
        for i, table in enumerate(_typed(area.get("groups", []), TABLES, f"{key}.groups"), start=1):
            gkey = f"{key}.groups[{i}]"
            _check_keys(table, _GROUP_KEYS, f"{gkey}.")
            docks = _dock_ids(_typed(table.get("docks", []), TEXTS, f"{gkey}.docks"), f"{gkey}.docks")
            if not docks:
                raise _Problem(Msg("{key}：组里没有面板（docks 为空）", key=gkey))
            for dock_id in docks:
                if dock_id in seen:
                    raise _Problem(Msg("面板 {dock} 在布局中出现了不止一次", dock=dock_id))
                seen.add(dock_id)
            front = table.get("front")
            if front is not None and _typed(front, TEXT, f"{gkey}.front") not in docks:
                raise _Problem(Msg("{key}：front = {dock} 不在该组的 docks 中", key=gkey, dock=_show(front)))
            size = _size(table["size"], f"{gkey}.size") if "size" in table else None
            titlebar = _typed(table.get("titlebar", True), FLAG, f"{gkey}.titlebar")
            groups.append(Group(side, docks, front, size, titlebar))
    hidden = _dock_ids(_typed(data.get("hidden", []), TEXTS, "hidden"), "hidden")
    _typed(data.get("description", ""), TEXT, "description")
    return Layout(
        name=_typed(data.get("name", name), TEXT, "name"),
        title=_typed(data.get("title", ""), TEXT, "title"),
        central=_choice(data.get("central", "map"), CENTRALS, "central"),
        groups=tuple(groups),
        area_sizes=sizes,
        splits=splits,
        hidden=frozenset(hidden),
        unlisted=_choice(data.get("unlisted", "show"), UNLISTED, "unlisted"),
        corners=corner_sides,
        menubar=flags["menubar"],
        statusbar=flags["statusbar"],
        toolbars=flags["toolbars"],
        scale=scale,
        source=where,
    )
