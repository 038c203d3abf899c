"""Theme: light colours, the application font and the hall stylesheet."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtGui import QColor, QFont
from qtpy.QtWidgets import QApplication

from app.domain.definitions import Light

STYLESHEET_DIR = Path(__file__).resolve().parents[2] / "resources" / "stylesheets"

#: Strong colours for dots and text; chosen to stay distinct on a projector and for most
#: colour-blind viewers (the light column also carries a text label).
LIGHT_COLOURS = {
    Light.GREEN: "#2e7d32",
    Light.YELLOW: "#f9a825",
    Light.RED: "#c62828",
    Light.NONE: "#9e9e9e",
}
#: Pale tints for the light cell's background so the table stays calm.
LIGHT_TINTS = {
    Light.GREEN: "#dcedc8",
    Light.YELLOW: "#fff3c4",
    Light.RED: "#ffcdd2",
    Light.NONE: "#eeeeee",
}
OVERDUE_TEXT = "#b71c1c"

#: Families tried in order; WenQuanYi Micro Hei is the Debian package fonts-wqy-microhei.
FONT_FAMILIES = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", "Microsoft YaHei",
                 "PingFang SC", "sans-serif")
BASE_POINT_SIZE = 11


def light_colour(light: Light) -> QColor:
    """The strong colour of ``light``."""
    return QColor(LIGHT_COLOURS[light])


def light_tint(light: Light) -> QColor:
    """The pale background tint of ``light``."""
    return QColor(LIGHT_TINTS[light])


def hall_font(point_size: int = BASE_POINT_SIZE) -> QFont:
    """The application font with Chinese fallbacks."""
    font = QFont()
    if hasattr(font, "setFamilies"):
        font.setFamilies(list(FONT_FAMILIES))
    else:  # Qt < 5.13
        font.setFamily(FONT_FAMILIES[1])
    font.setPointSize(point_size)
    return font


def load_stylesheet(name: str = "hall") -> str:
    """The text of ``resources/stylesheets/<name>.qss``."""
    path = STYLESHEET_DIR / f"{name}.qss"
    if not path.is_file():
        raise FileNotFoundError(f"stylesheet {path} is missing; reinstall GridHall or pass another theme")
    return path.read_text(encoding="utf-8")


def apply_theme(app: QApplication, name: str = "hall", point_size: int = BASE_POINT_SIZE) -> None:
    """Set the hall font and stylesheet on ``app``."""
    app.setFont(hall_font(point_size))
    app.setStyleSheet(load_stylesheet(name))


# ---- UI scale ------------------------------------------------------------------------------
#: The screen the default sizes are made for: fonts, rows and docks read well at 1920×1080.
REFERENCE_SCREEN = (1920, 1080)
#: The automatic UI scale stays within these bounds and moves in quarter steps.
UI_SCALE_RANGE = (1.0, 3.0)


def auto_ui_scale(width: int, height: int, logical_dpi: float = 96.0) -> float:
    """The UI scale for a screen of ``width``×``height`` pixels at ``logical_dpi``.

    Text should keep about the physical size it has at 1920×1080: a 3840×2160 screen (the same
    desk monitor, four times the pixels) gets 2, 2560×1440 gets 1.25. The smaller of the two
    ratios counts, so two 1080p monitors side by side (3840×1080) stay at 1. A screen whose
    logical DPI is already raised (Xft.dpi 192: the desktop scales fonts itself) is not scaled
    twice: the DPI's share is taken out. Rounded down to a quarter, within :data:`UI_SCALE_RANGE`.
    """
    ref_w, ref_h = REFERENCE_SCREEN
    by_size = min(width / ref_w, height / ref_h) if width > 0 and height > 0 else 1.0
    by_dpi = max(logical_dpi, 96.0) / 96.0
    low, high = UI_SCALE_RANGE
    return max(low, min(high, int(by_size / by_dpi * 4) / 4))


def parse_ui_scale(text: str) -> float | None:
    """``--ui-scale`` / $GRIDHALL_UI_SCALE: "auto" (None) or a factor 0.5–4; ValueError otherwise."""
    if text.strip().lower() in ("", "auto"):
        return None
    value = float(text)  # ValueError for words
    if not 0.5 <= value <= 4.0:
        raise ValueError(f"UI scale {value:g} is outside 0.5–4")
    return value


def probe_screen() -> tuple[int, int, float] | None:
    """The X11 screen's size in pixels and its logical DPI (Xft.dpi, else 96), before Qt starts.

    Qt takes its scale factor when the application is made, so the screen is asked directly
    (libX11 through ctypes). None when there is no X display (Wayland, Windows, offscreen): there
    Qt's own high-DPI scaling applies, or ``--ui-scale``.
    """
    import contextlib
    import ctypes
    import ctypes.util
    import os

    if not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM", "xcb") not in ("xcb", ""):
        return None
    name = ctypes.util.find_library("X11")
    if not name:
        return None
    try:
        x11 = ctypes.CDLL(name)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
        x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XResourceManagerString.restype = ctypes.c_char_p
        x11.XResourceManagerString.argtypes = [ctypes.c_void_p]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(None)
        if not display:
            return None
        try:
            screen = x11.XDefaultScreen(display)
            width, height = x11.XDisplayWidth(display, screen), x11.XDisplayHeight(display, screen)
            resources = (x11.XResourceManagerString(display) or b"").decode("latin-1")
        finally:
            x11.XCloseDisplay(display)
    except (OSError, AttributeError):
        return None
    dpi = 96.0
    for line in resources.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Xft.dpi":
            with contextlib.suppress(ValueError):
                dpi = float(value.strip())
    return width, height, dpi


def choose_ui_scale(override: float | None, layout_scale: float | None,
                    screen: tuple[int, int, float] | None) -> float:
    """The UI scale: ``override`` (--ui-scale), else the layout's ``scale``, else automatic."""
    if override is not None:
        return override
    if layout_scale is not None:
        return layout_scale
    return auto_ui_scale(*screen) if screen else 1.0
