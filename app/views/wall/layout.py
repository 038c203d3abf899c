"""The wall's layout file (TOML, documented in docs/wall.md): what goes where on which screen.

```toml
format = 1
title = "城市运行监测大屏"
min_text_px = 30        # smallest type, in pixels of a 1080-line screen (scaled by the screen)
refresh_s = 30          # full re-read of every figure (besides the live changes)
alert_hold_s = 60       # how long an alert stays in the banner

[[screens]]             # one table per screen, in screen order
top = "tiles"           # tiles | ticker | none
main = "map"            # map | playlist | a panel name
side = "playlist"       # map | playlist | a panel name | none
bottom = "ticker"       # tiles | ticker | none

[playlist]
panels = ["departments", "trend", "hotspots", "urged", "latest"]
dwell_s = 20
```

:func:`load_layout` never raises: a missing or malformed file gives the built-in default and
one clear message (a :class:`Msg`) saying what is wrong and that the default is shown.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import RESOURCES
from app.domain.messages import Msg

FORMAT = 1
PANELS = ("departments", "trend", "hotspots", "urged", "latest")
BANDS = ("tiles", "ticker", "none")
MAIN = ("map", "playlist", *PANELS)
SIDE = (*MAIN, "none")
DEFAULT_FILE = RESOURCES / "wall" / "default.toml"

_TOP_KEYS = ("format", "title", "min_text_px", "refresh_s", "alert_hold_s", "screens", "playlist")
_SCREEN_KEYS = ("top", "main", "side", "bottom", "side_width")
_PLAYLIST_KEYS = ("panels", "dwell_s")


class WallLayoutError(ValueError):
    def __init__(self, msg: Msg) -> None:
        super().__init__(str(msg))
        self.msg = msg


@dataclass(frozen=True)
class Screen:
    top: str = "tiles"
    main: str = "map"
    side: str = "playlist"
    bottom: str = "ticker"
    side_width: int = 36  # percent of the screen's width

    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in (self.top, self.main, self.side, self.bottom) if p != "none")


@dataclass(frozen=True)
class WallLayout:
    title: str = "城市运行监测大屏"
    min_text_px: int = 30
    refresh_s: int = 30
    alert_hold_s: int = 60
    screens: tuple[Screen, ...] = (Screen(),)
    panels: tuple[str, ...] = PANELS
    dwell_s: int = 20
    source: str = field(default="", compare=False)


DEFAULT = WallLayout()


def _number(data: dict[str, Any], key: str, low: int, high: int, default: int, where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WallLayoutError(Msg("大屏布局 {where}.{key} 应为 {low}–{high} 的整数，而不是 {value!r}",
                                  where=where, key=key, low=low, high=high, value=value))
    return value


def _unknown(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise WallLayoutError(Msg("大屏布局 {where} 中有未知的键 {key}（可用：{allowed}）",
                                      where=where, key=key, allowed="、".join(allowed)))


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], default: str, where: str) -> str:
    value = data.get(key, default)
    if value not in allowed:
        raise WallLayoutError(Msg("大屏布局 {where}.{key} 不能是 {value!r}（可用：{allowed}）",
                                  where=where, key=key, value=value, allowed="、".join(allowed)))
    return str(value)


def parse_layout(data: dict[str, Any], source: str = "") -> WallLayout:
    """A checked :class:`WallLayout` from parsed TOML; raises :class:`WallLayoutError`."""
    _unknown(data, _TOP_KEYS, "顶层")
    if data.get("format", FORMAT) != FORMAT:
        raise WallLayoutError(Msg("大屏布局的格式版本 {value!r} 不受支持（应为 format = 1）", value=data.get("format")))
    title = data.get("title", DEFAULT.title)
    if not isinstance(title, str) or len(title) > 40:
        raise WallLayoutError(Msg("大屏布局的 title 应为不超过 40 字的文字"))
    raw_screens = data.get("screens", [{}])
    if not isinstance(raw_screens, list) or not raw_screens or not all(isinstance(s, dict) for s in raw_screens):
        raise WallLayoutError(Msg("大屏布局的 screens 应为至少一个表的数组（[[screens]]）"))
    if len(raw_screens) > 8:
        raise WallLayoutError(Msg("大屏布局最多 8 块屏幕，而文件写了 {n} 块", n=len(raw_screens)))
    screens = []
    for i, raw in enumerate(raw_screens):
        where = f"screens[{i}]"
        _unknown(raw, _SCREEN_KEYS, where)
        screens.append(Screen(top=_choice(raw, "top", BANDS, "tiles", where),
                              main=_choice(raw, "main", MAIN, "map", where),
                              side=_choice(raw, "side", SIDE, "playlist", where),
                              bottom=_choice(raw, "bottom", BANDS, "ticker", where),
                              side_width=_number(raw, "side_width", 15, 70, 36, where)))
    playlist = data.get("playlist", {})
    if not isinstance(playlist, dict):
        raise WallLayoutError(Msg("大屏布局的 playlist 应为表（[playlist]）"))
    _unknown(playlist, _PLAYLIST_KEYS, "playlist")
    panels = playlist.get("panels", list(PANELS))
    if not isinstance(panels, list) or not panels or not all(p in PANELS for p in panels):
        raise WallLayoutError(Msg("大屏布局 playlist.panels 应为面板名的列表（可用：{allowed}）",
                                  allowed="、".join(PANELS)))
    return WallLayout(title=title,
                      min_text_px=_number(data, "min_text_px", 12, 200, DEFAULT.min_text_px, "顶层"),
                      refresh_s=_number(data, "refresh_s", 5, 3600, DEFAULT.refresh_s, "顶层"),
                      alert_hold_s=_number(data, "alert_hold_s", 5, 3600, DEFAULT.alert_hold_s, "顶层"),
                      screens=tuple(screens), panels=tuple(panels),
                      dwell_s=_number(playlist, "dwell_s", 3, 3600, DEFAULT.dwell_s, "playlist"),
                      source=source)


def load_layout(path: str | Path | None = None) -> tuple[WallLayout, Msg | None]:
    """The layout of ``path`` (None: the shipped ``resources/wall/default.toml``) and a problem, if any.

    Never raises: an unreadable or malformed file gives the built-in default and the message.
    """
    path = Path(path) if path is not None else DEFAULT_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return DEFAULT, Msg("无法读取大屏布局文件 {path}（{exc}），已使用默认布局", path=str(path), exc=exc.strerror or exc)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return DEFAULT, Msg("大屏布局文件 {path} 不是 UTF-8 文本，已使用默认布局", path=str(path))
    except tomllib.TOMLDecodeError as exc:
        return DEFAULT, Msg("大屏布局文件 {path} 不是有效的 TOML（{exc}），已使用默认布局", path=str(path), exc=str(exc))
    try:
        return parse_layout(data, str(path)), None
    except WallLayoutError as exc:
        return DEFAULT, Msg("大屏布局文件 {path} 有误：{problem}；已使用默认布局", path=str(path), problem=exc.msg)


__all__ = ["BANDS", "DEFAULT", "DEFAULT_FILE", "MAIN", "PANELS", "SIDE", "Screen", "WallLayout", "WallLayoutError",
           "load_layout", "parse_layout"]
