"""The wall's widgets: headline tiles, panels with a data-age stamp, banners, the playlist, the window.

Dark LED theme; every size derives from ``Theme.px`` (the layout's ``min_text_px`` at 1080
lines, scaled by the screen's height), so the smallest type stays legible from 10 m. Widgets
update in place (a label's text is set only when it changed: no flicker), show no cursor and
take no focus; nothing on the wall edits, asks or opens a dialog.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor, QPainter, QPen
from qtpy.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from app.domain.definitions import Action, Level
from app.domain.wall import Tile
from app.i18n import Catalogue
from app.views.wall.layout import Screen, WallLayout
from app.views.wall.model import Playlist, WallSnapshot

log = logging.getLogger(__name__)

BG, PANEL, EDGE, TEXT, DIM = "#05080f", "#0c1424", "#1d3557", "#e8f1ff", "#7d8ba6"
GOOD, BAD, WARN, ACCENT, STALE = "#33d17a", "#ff4d4f", "#ffc53d", "#38bdf8", "#596273"
TREND_COLOURS = ("#38bdf8", "#f472b6", "#facc15", "#34d399", "#a78bfa")
_catalogue = [Catalogue("zh_CN")]


def set_language(lang: str) -> None:
    """The wall's language (zh_CN by default; en)."""
    _catalogue[0] = Catalogue(lang)


def tr(text: str, **values: object) -> str:
    return _catalogue[0].tr(text, **values)


PANEL_TITLES = {"departments": "部门处置排行", "trend": "类别趋势（近7日上报）", "hotspots": "热点网格（近24小时）",
                "urged": "督办案卷", "latest": "最新动态"}


#: The map labels shown at the district's scale (street names, 15 pt) in pixels at 96 dpi.
MAP_LABEL_PX = 20.0


@dataclass(frozen=True)
class Theme:
    """Type sizes in pixels from the layout's minimum at 1080 lines and the screen's height."""

    min_px: int
    height: int

    @property
    def scale(self) -> float:
        return max(self.height, 480) / 1080

    def px(self, factor: float = 1.0) -> int:
        return max(1, round(self.min_px * self.scale * factor))

    @property
    def map_magnification(self) -> float:
        """The map's DPI factor: the labels it shows at the district's scale at the wall's minimum type
        (3 at 2160 lines: 60 px street names, case points 3 times the desk's)."""
        return self.px() / MAP_LABEL_PX


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


def _label(theme: Theme, factor: float = 1.0, colour: str = TEXT, bold: bool = False) -> QLabel:
    label = QLabel()
    label.setStyleSheet(f"color: {colour}; font-size: {theme.px(factor)}px; "
                        f"font-weight: {'700' if bold else '400'}; background: transparent;")
    label.setTextFormat(Qt.PlainText)
    _elastic(label)
    return label


def _elastic(label: QLabel) -> None:
    """A label that never widens the screen: long text is cut at the edge, not a wider window."""
    label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    label.setMinimumWidth(1)


class TileWidget(QFrame):
    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self.setStyleSheet(f"#tile {{ background: {PANEL}; border: 2px solid {EDGE}; border-radius: 8px; }}")
        box = QVBoxLayout(self)
        m = theme.px(0.4)
        box.setContentsMargins(m, m // 2, m, m // 2)
        box.setSpacing(0)
        self.title = _label(theme, 1.0, DIM)
        self.value = _label(theme, 2.3, TEXT, bold=True)
        self.delta = _label(theme, 1.0, DIM)
        # right-aligned: a delta wider than its tile is cut on the left, so its figure always shows
        self.delta.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.delta_px = theme.px(1.0)
        for w in (self.title, self.value, self.delta):
            box.addWidget(w)

    def show_tile(self, tile: Tile) -> None:
        _set(self.title, tr(tile.title))
        _set(self.value, tile.text)
        _set(self.delta, delta_text(tile))
        colour = {"good": GOOD, "bad": BAD}.get(tile.trend, DIM)
        style = f"color: {colour}; font-size: {self.delta_px}px; background: transparent;"
        if self.delta.styleSheet() != style:
            self.delta.setStyleSheet(style)


def delta_text(tile: Tile) -> str:
    """'较昨日同时 ▲3', '… ▼1.5点' (percentage points), '… 持平' or '… —' (nothing to compare)."""
    d = tile.delta
    if d is None:
        return tr("较昨日同时 —")
    if abs(d) < 0.05:
        return tr("较昨日同时 持平")
    arrow = "▲" if d > 0 else "▼"
    if tile.percent:
        return tr("较昨日同时 {arrow}{n}点", arrow=arrow, n=f"{abs(d):.1f}")
    return tr("较昨日同时 {arrow}{n}", arrow=arrow, n=f"{abs(d):.0f}")


class Panel(QFrame):
    """A titled panel with its own data-age stamp; greyed out when its data are stale."""

    def __init__(self, title: str, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setObjectName("panel")
        self.setStyleSheet(f"#panel {{ background: {PANEL}; border: 2px solid {EDGE}; border-radius: 8px; }}")
        box = QVBoxLayout(self)
        m = theme.px(0.5)
        box.setContentsMargins(m, m // 2, m, m // 2)
        head = QHBoxLayout()
        self.title = _label(theme, 1.0, ACCENT, bold=True)
        self.title.setText(tr(title))
        self.title.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)  # shrinks first, the stamp stays
        self.stamp = _label(theme, 1.0, DIM)
        self.stamp.setSizePolicy(QSizePolicy.Minimum, QSizePolicy.Preferred)
        self.stamp.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.stamp.setMinimumWidth(theme.px(1.0) * 9)
        head.addWidget(self.title, 1)
        head.addWidget(self.stamp)
        box.addLayout(head)
        self.body = QWidget()
        box.addWidget(self.body, 1)
        self.stale = False

    def set_age(self, as_of: datetime | None, stale: bool) -> None:
        text = "" if as_of is None else (tr("数据截至 {t}", t=f"{as_of:%H:%M}") if stale
                                         else tr("更新于 {t}", t=f"{as_of:%H:%M:%S}"))
        _set(self.stamp, text)
        if stale != self.stale:
            self.stale = stale
            self.setGraphicsEffect(None)
            if stale:
                from qtpy.QtWidgets import QGraphicsColorizeEffect

                effect = QGraphicsColorizeEffect(self)
                effect.setColor(QColor(STALE))
                effect.setStrength(1.0)
                self.setGraphicsEffect(effect)

    def show_snapshot(self, snapshot: WallSnapshot) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class TablePanel(Panel):
    """Rows of plain text (escaped) in a rich-text label, replaced only when they changed."""

    def __init__(self, key: str, theme: Theme, rows: Callable[[WallSnapshot], tuple[list[str], list[list[str]]]],
                 parent: QWidget | None = None) -> None:
        super().__init__(PANEL_TITLES[key], theme, parent)
        self.key = key
        self._rows = rows
        box = QVBoxLayout(self.body)
        box.setContentsMargins(0, 0, 0, 0)
        self.table = QLabel()
        self.table.setTextFormat(Qt.RichText)
        self.table.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        _elastic(self.table)
        self.table.setStyleSheet(f"color: {TEXT}; font-size: {theme.px(1.0)}px; background: transparent;")
        box.addWidget(self.table, 1)

    def show_snapshot(self, snapshot: WallSnapshot) -> None:
        head, rows = self._rows(snapshot)
        pad = self.theme.px(0.35)
        cells = "".join(f'<th align="left" style="color:{DIM}; padding:{pad}px;">{html.escape(tr(h))}</th>'
                        for h in head)
        body = "".join("<tr>" + "".join(f'<td style="padding:{pad}px;">{html.escape(c)}</td>' for c in row) + "</tr>"
                       for row in rows)
        if not rows:
            body = f'<tr><td style="color:{DIM}; padding:{pad}px;">{html.escape(tr("暂无"))}</td></tr>'
        text = f'<table width="100%" cellspacing="0"><tr>{cells}</tr>{body}</table>'
        if self.table.text() != text:
            self.table.setText(text)


def _departments(s: WallSnapshot) -> tuple[list[str], list[list[str]]]:
    return (["部门", "在办", "超期", "结案"],
            [[r.name, str(r.open), str(r.overdue), str(r.closed)] for r in s.departments[:8]])


def _hotspots(s: WallSnapshot) -> tuple[list[str], list[list[str]]]:
    return (["网格", "社区", "上报", "在办"], [[g.code[-6:], g.community, str(g.reports), str(g.open)] for g in s.hotspots[:8]])


def _urged(s: WallSnapshot) -> tuple[list[str], list[list[str]]]:
    return (["案卷", "级别", "督办时限", "部门"],
            [[u.number[-8:], tr("{n}级", n=u.level), f"{u.deadline:%m-%d %H:%M}" if u.deadline else "—", u.department]
             for u in s.urged[:8]])


def _label_of(enum, value: str) -> str:
    return _catalogue[0].label_of(enum, value)


def _latest(s: WallSnapshot) -> tuple[list[str], list[list[str]]]:
    return (["时间", "动作", "类别", "案卷"],
            [[f"{t.at:%H:%M}", _label_of(Action, t.action), t.category, t.number[-8:]] for t in s.ticker[:8]])





class TrendPanel(Panel):
    """Reports per day of the top categories, drawn as lines (repainted only on new data)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(PANEL_TITLES["trend"], theme, parent)
        self.key = "trend"
        self.data: tuple = ()
        self.days: tuple = ()
        self.body.paintEvent = self._paint  # type: ignore[method-assign]

    def show_snapshot(self, snapshot: WallSnapshot) -> None:
        if (snapshot.trend, snapshot.trend_days) != (self.data, self.days):
            self.data, self.days = snapshot.trend, snapshot.trend_days
            self.body.update()

    def _paint(self, _event) -> None:
        p = QPainter(self.body)
        p.setRenderHint(QPainter.Antialiasing)
        w, h = self.body.width(), self.body.height()
        t = self.theme
        font = p.font()
        font.setPixelSize(t.px(1.0))  # no type below the layout's minimum (min_text_px)
        p.setFont(font)
        legend_h = t.px(1.3) * ((len(self.data) + 1) // 2)
        left, bottom, top = t.px(1.6), t.px(1.3), t.px(0.4)
        plot_h = max(10, h - bottom - top - legend_h)
        peak = max([max(v) for _n, v in self.data] + [1])
        p.setPen(QPen(QColor(EDGE), 2))
        p.drawLine(left, top + plot_h, w - t.px(0.5), top + plot_h)
        p.setPen(QColor(DIM))
        p.drawText(0, top + t.px(0.7), str(peak))
        n = max(len(self.days), 2)
        step = (w - left - t.px(0.8)) / (n - 1)
        metrics = p.fontMetrics()
        for i, day in enumerate(self.days):
            if i % 2 and i != len(self.days) - 1:
                continue
            text = f"{day:%m-%d}"
            width = metrics.horizontalAdvance(text)
            x = min(max(0, int(left + i * step - width / 2)), w - width)
            p.drawText(x, top + plot_h + t.px(1.1), text)
        for k, (name, values) in enumerate(self.data):
            colour = QColor(TREND_COLOURS[k % len(TREND_COLOURS)])
            p.setPen(QPen(colour, max(3, t.px(0.12))))
            pts = [(left + i * step, top + plot_h - plot_h * v / peak) for i, v in enumerate(values)]
            for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False):
                p.drawLine(int(x1), int(y1), int(x2), int(y2))
            col, row = k % 2, k // 2
            lx, ly = left + col * (w - left) / 2, top + plot_h + t.px(1.5) + row * t.px(1.3)
            p.fillRect(int(lx), int(ly), t.px(0.8), t.px(0.4), colour)
            p.setPen(QColor(TEXT))
            p.drawText(int(lx + t.px(1.0)), int(ly + t.px(0.55)), f"{name} {sum(values)}")
        p.end()


def make_panel(key: str, theme: Theme) -> Panel:
    if key == "trend":
        return TrendPanel(theme)
    rows = {"departments": _departments, "hotspots": _hotspots, "urged": _urged, "latest": _latest}[key]
    return TablePanel(key, theme, rows)


class PlaylistStack(QStackedWidget):
    """The rotating panels: one shown at a time, moved on by the playlist's dwell time."""

    def __init__(self, playlist: Playlist, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playlist = playlist
        self.panels = {key: make_panel(key, theme) for key in dict.fromkeys(playlist.panels)}
        for panel in self.panels.values():
            self.addWidget(panel)
        self.setCurrentWidget(self.panels[playlist.current()])

    def advance(self, now: float) -> None:
        if self.playlist.advance(now):
            self.setCurrentWidget(self.panels[self.playlist.current()])


class Ticker(QLabel):
    """The latest cases in one line along the bottom."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.PlainText)
        _elastic(self)
        self.setStyleSheet(f"color: {TEXT}; background: {PANEL}; border-top: 2px solid {EDGE}; "
                           f"font-size: {theme.px(1.0)}px; padding: {theme.px(0.3)}px;")
        self.stale = False

    def show_snapshot(self, snapshot: WallSnapshot) -> None:
        items = []
        for t in snapshot.ticker[:6]:
            level = tr("【紧急】") if t.level == Level.URGENT.value else ""
            items.append(f"{t.at:%H:%M} {level}{_label_of(Action, t.action)} {t.category} {t.place}".strip())
        _set(self, tr("最新：{items}", items="　｜　".join(items)) if items else tr("最新：暂无"))

    def set_age(self, as_of: datetime | None, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self.setStyleSheet(self.styleSheet().replace(f"color: {TEXT}", f"color: {STALE}") if stale
                               else self.styleSheet().replace(f"color: {STALE}", f"color: {TEXT}"))


class TileStrip(QWidget):
    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(theme.px(0.4))
        self.tiles: dict[str, TileWidget] = {}
        from app.domain.wall import TILE_KEYS

        for key in TILE_KEYS:
            self.tiles[key] = TileWidget(theme)
            box.addWidget(self.tiles[key], 1)
        self.stale = False

    def show_snapshot(self, snapshot: WallSnapshot) -> None:
        for tile in snapshot.tiles:
            self.tiles[tile.key].show_tile(tile)

    def set_age(self, as_of: datetime | None, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            for w in self.tiles.values():
                w.setGraphicsEffect(None)
                if stale:
                    from qtpy.QtWidgets import QGraphicsColorizeEffect

                    effect = QGraphicsColorizeEffect(w)
                    effect.setColor(QColor(STALE))
                    w.setGraphicsEffect(effect)


class Banner(QLabel):
    """A full-width line: the alert (red) or the stale warning (amber); hidden when empty."""

    def __init__(self, theme: Theme, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.PlainText)
        self.setAlignment(Qt.AlignCenter)
        _elastic(self)
        self.setStyleSheet(f"color: #ffffff; background: {colour}; font-size: {theme.px(1.3)}px; font-weight: 700;"
                           f" padding: {theme.px(0.25)}px;")
        self.hide()

    def say(self, text: str) -> None:
        _set(self, text)
        self.setVisible(bool(text))


class WallScreen(QWidget):
    """One screen of the wall: a header (title, clock, banners), the bands and areas of its Screen."""

    def __init__(self, layout: WallLayout, screen: Screen, theme: Theme, playlist: Playlist,
                 map_widget: QWidget | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setObjectName("wall")
        self.setStyleSheet(f"#wall {{ background: {BG}; }}")
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor(BG))
        self.setPalette(pal)
        self.setCursor(Qt.BlankCursor)
        self.setFocusPolicy(Qt.NoFocus)
        self.parts: list[QWidget] = []  # everything that shows the snapshot and its age
        self.shown: dict[int, datetime | None] = {}  # id(part) → the as-of of its last good picture
        self.failed: dict[int, datetime | None] = {}  # id(part) → the same, while its last show failed
        box = QVBoxLayout(self)
        m = theme.px(0.4)
        box.setContentsMargins(m, m // 2, m, m // 2)
        box.setSpacing(m)
        head = QHBoxLayout()
        self.title = _label(theme, 1.6, TEXT, bold=True)
        self.title.setText(tr(layout.title))
        self.setWindowTitle(f"GridHall — {tr(layout.title)}")  # the task list's and a window manager's name for it
        self.clock = _label(theme, 1.3, ACCENT, bold=True)
        self.clock.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.clock.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        self.clock.setMinimumWidth(theme.px(1.3) * 12)
        head.addWidget(self.title, 1)
        head.addWidget(self.clock)
        box.addLayout(head)
        # The banners float over the header (alert) and the bottom edge (stale): showing one moves
        # nothing else, so the map is not resized and re-rendered and the screen is not repainted whole.
        self.alert = Banner(theme, "#b3141b", self)
        self.stale_banner = Banner(theme, "#8a5a00", self)
        self.playlist_stack: PlaylistStack | None = None
        if screen.top != "none":
            box.addWidget(self._band(screen.top))
        middle = QHBoxLayout()
        middle.setSpacing(m)
        main = self._area(screen.main, playlist, map_widget)
        middle.addWidget(main, 100 - screen.side_width)
        if screen.side != "none":
            middle.addWidget(self._area(screen.side, playlist, map_widget), screen.side_width)
        box.addLayout(middle, 1)
        if screen.bottom != "none":
            box.addWidget(self._band(screen.bottom))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        w, h = self.width(), self.height()
        height = max(self.alert.sizeHint().height(), self.title.sizeHint().height())
        self.alert.setGeometry(0, 0, w, height)
        self.stale_banner.setGeometry(0, h - height, w, height)
        self.alert.raise_()
        self.stale_banner.raise_()

    def _band(self, kind: str) -> QWidget:
        widget: QWidget = TileStrip(self.theme) if kind == "tiles" else Ticker(self.theme)
        self.parts.append(widget)
        return widget

    def _area(self, kind: str, playlist: Playlist, map_widget: QWidget | None) -> QWidget:
        if kind == "map":
            if map_widget is not None and map_widget.parent() is None:
                frame = QFrame()
                frame.setObjectName("mapframe")
                frame.setStyleSheet(f"#mapframe {{ border: 2px solid {EDGE}; border-radius: 8px; }}")
                lay = QVBoxLayout(frame)
                lay.setContentsMargins(2, 2, 2, 2)
                lay.addWidget(map_widget)
                self.map_frame = frame
                return frame
            kind = "hotspots"  # one map per wall: another screen asking for it gets the hotspot list
        if kind == "playlist":
            stack = PlaylistStack(playlist, self.theme)
            self.playlist_stack = stack
            self.parts.extend(stack.panels.values())
            return stack
        panel = make_panel(kind, self.theme)
        self.parts.append(panel)
        return panel

    def show_snapshot(self, snapshot: WallSnapshot) -> None:
        """Each part shows the snapshot on its own: a part that fails keeps its last picture, greyed
        with its own data-age stamp, and the others go on (a crash of one panel never takes the wall)."""
        for part in self.parts:
            try:
                part.show_snapshot(snapshot)  # type: ignore[attr-defined]
            except Exception:
                log.exception("wall panel %s failed to show the snapshot; it keeps its last picture",
                              type(part).__name__)
                self.failed[id(part)] = self.shown.get(id(part))
            else:
                self.failed.pop(id(part), None)
                self.shown[id(part)] = snapshot.as_of

    def set_age(self, as_of: datetime | None, stale: bool) -> None:
        for part in self.parts:
            failed = id(part) in self.failed
            try:
                part.set_age(self.failed[id(part)] if failed else as_of, stale or failed)  # type: ignore[attr-defined]
            except Exception:
                log.exception("wall panel %s failed to show its age", type(part).__name__)
        frame = getattr(self, "map_frame", None)
        if frame is not None and stale != (frame.graphicsEffect() is not None):
            frame.setGraphicsEffect(None)
            if stale:  # the map greys out with the panels: stale data must look stale
                from qtpy.QtWidgets import QGraphicsColorizeEffect

                effect = QGraphicsColorizeEffect(frame)
                effect.setColor(QColor(STALE))
                effect.setStrength(0.85)
                frame.setGraphicsEffect(effect)
        if stale and as_of:
            text = "⚠ " + tr("数据截至 {t}　数据库连接中断，正在重连…", t=f"{as_of:%H:%M}")
        else:
            text = "⚠ " + tr("数据库连接中断，正在重连…") if stale else ""
        self.stale_banner.say(text)

    def set_clock(self, now: datetime) -> None:
        _set(self.clock, f"{now:%Y-%m-%d %H:%M:%S}")


__all__ = ["Banner", "Panel", "PlaylistStack", "Theme", "TileStrip", "Ticker", "WallScreen", "make_panel"]
