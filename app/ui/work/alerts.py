"""Alerts: a case is new, turns yellow or turns red — a banner, a status-bar flash and an optional beep."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QApplication, QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.i18n import Catalogue
from app.ui import plain
from app.views.alerts import FLASH_MS, MAX_KEPT, Alert, AlertCenter
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

_KIND_STYLE = {
    "red": "background:#c62828; color:#ffffff;",
    "yellow": "background:#f9a825; color:#1b1f24;",
    "new": "background:#1f5fa8; color:#ffffff;",
    "info": "background:#dde3ea; color:#1f3a5f;",
}


class AlertBanner(QWidget):
    """The latest alert in a coloured strip, the recent ones below; clicking one selects its case."""

    def __init__(self, center: AlertCenter, state: QueueState, catalogue: Catalogue | None = None,
                 status: Callable[[str, int], None] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("alertBanner")
        self.center, self.state = center, state
        self.cat = catalogue or Catalogue()
        self.status = status
        self.sound = False  # audible alerts are opt-in: a hall full of beeping desks helps nobody
        self.beeps = 0
        # one line, plain text (an alert or a refusal may quote case text), elided to the strip
        self.headline = plain.ElidedLabel(self.cat.tr("暂无提醒"), max_width=1200, objectName="alertHeadline")
        self.headline.setStyleSheet(f"QLabel {{ {_KIND_STYLE['info']} padding:4px 8px; font-weight:bold; }}")
        self.sound_button = QPushButton(self.cat.tr("提示音：关"), objectName="alertSound")
        self.sound_button.setCheckable(True)
        self.sound_button.toggled.connect(self.set_sound)
        self.list = QListWidget(objectName="alertList")
        self.list.itemClicked.connect(self._clicked)
        self.list.setMaximumHeight(110)
        self.list.hide()  # one line by default: the map keeps its height; 历史 opens the list
        self.history_button = QPushButton(self.cat.tr("历史 (0)"), objectName="alertHistory")
        self.history_button.setCheckable(True)
        self.history_button.toggled.connect(self.list.setVisible)
        top = QHBoxLayout()
        top.addWidget(self.headline, 1)
        top.addWidget(self.history_button)
        top.addWidget(self.sound_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list)
        self._calm = QTimer(self)
        self._calm.setSingleShot(True)
        self._calm.setInterval(FLASH_MS)
        self._calm.timeout.connect(self._settle)
        self._subs = Subscriptions()
        self._subs.connect(center.events.alert, self.show_alert)

    def teardown(self) -> None:
        self._subs.close()
        self._calm.stop()

    def set_sound(self, on: bool) -> None:
        self.sound = bool(on)
        self.sound_button.setText(self.cat.tr("提示音：开") if on else self.cat.tr("提示音：关"))

    def show_alert(self, alert: Alert) -> None:
        """Flash the headline, prepend to the list, flash the status bar and beep if asked."""
        line = plain.line(f"{alert.at:%H:%M:%S}  {alert.text}" if alert.at else alert.text, 500)
        self.headline.setText(line)
        self.headline.setStyleSheet(f"QLabel {{ {_KIND_STYLE.get(alert.kind, _KIND_STYLE['info'])} "
                                    "padding:4px 8px; font-weight:bold; }")
        self.headline.setProperty("kind", alert.kind)
        self.list.insertItem(0, line)
        self.list.item(0).setData(Qt.ItemDataRole.UserRole, alert.case_id)
        self.list.item(0).setToolTip(plain.tooltip(line) if len(line) > plain.TOOLTIP_LINE else "")
        while self.list.count() > MAX_KEPT:
            self.list.takeItem(self.list.count() - 1)
        self.history_button.setText(self.cat.tr("历史 ({n})", n=self.list.count()))
        if self.status is not None:
            self.status(plain.line(alert.text, 500), FLASH_MS)
        if self.sound and alert.kind in ("new", "red", "yellow"):
            self.beeps += 1
            QApplication.beep()
        self._calm.start()

    def notify(self, text: str) -> None:
        """An operator message (action done or refused) in the same strip."""
        self.show_alert(Alert("info", None, "", text, self.state.now))

    def _settle(self) -> None:
        self.headline.setStyleSheet(f"QLabel {{ {_KIND_STYLE['info']} padding:4px 8px; font-weight:bold; }}")

    def _clicked(self, item) -> None:
        case_id = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(case_id, int) and self.state.summary(case_id) is not None:
            self.state.select(case_id)
