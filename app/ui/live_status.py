"""The connection indicator of the status bar (在线/离线/重连中) and the offline banner."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.i18n import Catalogue

#: status value -> (label, colour); the values are app.store.notify.FeedStatus's.
STATUS_LOOK = {
    "online": ("在线", "#2e7d32"),
    "offline": ("离线", "#c62828"),
    "reconnecting": ("重连中", "#ef6c00"),
}
BANNER_TEXT = "数据库连接中断，操作已暂停，正在自动重连…"


def _look(status: str) -> tuple[str, str]:
    try:
        return STATUS_LOOK[str(status)]
    except KeyError:
        raise ValueError(f"unknown connection status {status!r}; expected one of {sorted(STATUS_LOOK)}") from None


class LiveStatusIndicator(QLabel):
    """A coloured dot and word for the status bar (``window.statusBar().addPermanentWidget``)."""

    def __init__(self, parent: QWidget | None = None, catalogue: Catalogue | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveStatus")
        self.cat = catalogue or Catalogue()
        self.status = ""
        self.set_status("online")

    def set_status(self, status: str) -> None:
        """Show ``status`` ('online' | 'offline' | 'reconnecting')."""
        text, colour = _look(status)
        text = self.cat.tr(text)
        self.status = str(status)
        self.setText(f'<span style="color:{colour}">●</span> {text}')
        self.setToolTip(self.cat.tr("数据库连接：{status}", status=text))


class OfflineBanner(QWidget):
    """A red strip over the work area while the database is unreachable; hidden when online."""

    def __init__(self, parent: QWidget | None = None, catalogue: Catalogue | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offlineBanner")
        self.label = QLabel((catalogue or Catalogue()).tr(BANNER_TEXT), self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("color: white; font-weight: bold; padding: 4px;")
        self.setStyleSheet("#offlineBanner { background: #c62828; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        self.setVisible(False)

    def set_status(self, status: str) -> None:
        """Shown for 'offline' and 'reconnecting', hidden for 'online'."""
        _look(status)
        self.setVisible(str(status) != "online")
