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
