"""Alerts: a calm banner over the queue — grouped, rate-limited, acknowledged, with a history.

The model is Qt-free (``app/views/alerts.py``: ``AlertCenter`` raises alerts by the rules,
``AlertFeed`` coalesces them and keeps the history); this strip shows the feed's current group,
the number not yet acknowledged, a 确认提醒 button (Ctrl+K), the history list (click: select the
case) and a small dialog for the user's own rules, kept per user in the settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from qtpy.QtCore import Qt, QTimer
from qtpy.QtGui import QFont
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.definitions import Level
from app.i18n import Catalogue
from app.ui import plain
from app.views.alerts import (
    FLASH_MS,
    INTERVAL_RANGE,
    KINDS,
    MAX_KEPT,
    Alert,
    AlertCenter,
    AlertEntry,
    AlertFeed,
    AlertGroup,
    AlertRules,
    load_rules,
)
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

__all__ = ["ACK_SHORTCUT", "AlertBanner", "AlertCenter", "AlertRulesDialog", "rules_key"]

#: The key of 确认提醒 (registered as a window action by app/ui/work/install.py, so F1 lists it).
ACK_SHORTCUT = "Ctrl+K"

_KIND_STYLE = {
    "red": "background:#c62828; color:#ffffff;",
    "task": "background:#ad1457; color:#ffffff;",
    "yellow": "background:#f9a825; color:#1b1f24;",
    "new": "background:#1f5fa8; color:#ffffff;",
    "info": "background:#dde3ea; color:#1f3a5f;",
}
_KIND_LABEL = {"red": "红灯", "task": "核实/核查任务超时", "yellow": "黄灯", "new": "新上报"}


def rules_key(user: str | None) -> str:
    """The settings key of ``user``'s own alert rules (JSON of ``AlertRules.to_mapping``)."""
    return f"alerts/rules/{user or '_'}"


class AlertBanner(QWidget):
    """The current alert group in a coloured strip; 确认, the unacknowledged count, the history.

    ``rules``: the rules to use; otherwise they are loaded for ``role`` from resources/alerts.toml
    with ``user``'s overrides from ``settings``. ``clock``: monotonic seconds (tests step it and
    call :meth:`poll`).
    """

    def __init__(self, center: AlertCenter, state: QueueState, catalogue: Catalogue | None = None,
                 status: Callable[[str, int], None] | None = None, parent=None, *,
                 rules: AlertRules | None = None, settings=None, user: str | None = None,
                 role: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.setObjectName("alertBanner")
        self.center, self.state = center, state
        self.cat = catalogue or Catalogue()
        self.status = status
        self.settings, self.user, self.role = settings, user, role
        self.stored: dict | None = None  # the administrator's stored rules (config_values 'alerts')
        self.problems: list[str] = []
        if rules is None:
            rules = self._load_rules()
        self.feed = AlertFeed(center, self.cat, rules, clock=clock)
        self.sound = False  # audible alerts are opt-in: a hall full of beeping desks helps nobody
        self.beeps = 0
        # one line, plain text (an alert or a refusal may quote case text), elided to the strip
        self.headline = plain.ElidedLabel(self.cat.tr("暂无提醒"), max_width=1200, objectName="alertHeadline")
        self._style("info")
        self.unacked = QLabel("", objectName="alertUnacknowledged")
        self.ack_button = QPushButton(self.cat.tr("确认提醒"), objectName="alertAcknowledge")
        self.ack_button.setToolTip(self.cat.tr("确认当前提醒（{key}）", key=ACK_SHORTCUT))
        self.ack_button.clicked.connect(self.acknowledge)
        self.show_button = QPushButton(self.cat.tr("查看"), objectName="alertShowCase")
        self.show_button.setToolTip(self.cat.tr("在队列中选中提醒的案卷"))
        self.show_button.clicked.connect(self.select_shown)
        self.sound_button = QPushButton(self.cat.tr("提示音：关"), objectName="alertSound")
        self.sound_button.setCheckable(True)
        self.sound_button.toggled.connect(self.set_sound)
        self.rules_button = QPushButton(self.cat.tr("规则…"), objectName="alertRules")
        self.rules_button.setToolTip(self.cat.tr("哪些提醒、哪些类别和级别、提示音、横幅最短间隔"))
        self.rules_button.clicked.connect(self.edit_rules)
        self.list = QListWidget(objectName="alertList")
        self.list.itemClicked.connect(self._clicked)
        self.list.setMaximumHeight(110)
        self.list.hide()  # one line by default: the map keeps its height; 历史 opens the list
        self.history_button = QPushButton(self.cat.tr("历史 (0)"), objectName="alertHistory")
        self.history_button.setCheckable(True)
        self.history_button.toggled.connect(self.list.setVisible)
        top = QHBoxLayout()
        top.addWidget(self.headline, 1)
        for w in (self.unacked, self.ack_button, self.show_button, self.history_button, self.sound_button,
                  self.rules_button):
            top.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list)
        self._calm = QTimer(self)
        self._calm.setSingleShot(True)
        self._calm.setInterval(FLASH_MS)
        self._calm.timeout.connect(self._settle)
        self._due = QTimer(self)  # shows what waits once the rate limit allows
        self._due.setSingleShot(True)
        self._due.timeout.connect(self.poll)
        self._subs = Subscriptions()
        self._subs.connect(self.feed.events.banner, self._show_group)
        self._subs.connect(self.feed.events.changed, self._refresh)
        self._refresh()

    # ---- rules -------------------------------------------------------------------------------
    def _override(self) -> dict:
        if self.settings is None:
            return {}
        raw = self.settings.value(rules_key(self.user), "")
        if not raw:
            return {}
        try:
            data = json.loads(str(raw))
        except ValueError:
            self.problems.append(self.cat.tr("个人提醒规则已损坏，已忽略"))
            return {}
        return data if isinstance(data, dict) else {}

    def set_stored(self, stored: dict | None) -> None:
        """The administrator's stored rules changed (a saved configuration change): apply them now,
        under this user's own rules."""
        if stored != self.stored:
            self.stored = stored
            self.feed.rules = self._load_rules()

    def _load_rules(self) -> AlertRules:
        rules, problems = load_rules(self.role, self._override(), stored=self.stored)
        self.problems.extend(self.cat.tr(p) for p in problems)
        return rules

    @property
    def rules(self) -> AlertRules:
        return self.feed.rules

    def set_rules(self, rules: AlertRules, *, save: bool = True) -> None:
        """Use ``rules`` from now on; ``save``: keep them as this user's own in the settings."""
        self.feed.rules = rules
        if save and self.settings is not None:
            self.settings.setValue(rules_key(self.user), json.dumps(rules.to_mapping(), ensure_ascii=False))
            self.settings.sync()

    def reset_rules(self) -> None:
        """Forget this user's own rules: back to the role's defaults."""
        if self.settings is not None:
            self.settings.remove(rules_key(self.user))
        self.feed.rules, problems = load_rules(self.role, stored=self.stored)
        self.problems.extend(self.cat.tr(p) for p in problems)

    def edit_rules(self) -> None:
        dialog = AlertRulesDialog(self.rules, self.cat, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            if dialog.reset_requested:
                self.reset_rules()
            else:
                self.set_rules(dialog.rules())

    # ---- the banner ----------------------------------------------------------------------------
    def teardown(self) -> None:
        self._subs.close()
        self.feed.teardown()
        self._calm.stop()
        self._due.stop()

    def set_sound(self, on: bool) -> None:
        self.sound = bool(on)
        self.sound_button.setText(self.cat.tr("提示音：开") if on else self.cat.tr("提示音：关"))

    def poll(self) -> None:
        """Show what waits if the rate limit allows, else come back when it does."""
        self.feed.poll()
        self._schedule()

    def _schedule(self) -> None:
        due = self.feed.due_in()
        if due is None:
            self._due.stop()
        elif not self._due.isActive():
            self._due.start(int(due * 1000) + 50)

    def show_alert(self, alert: Alert) -> None:
        """Hand one alert to the feed (shown now or with the next group)."""
        self.feed.push(alert)
        self._schedule()

    def notify(self, text: str) -> None:
        """An operator message (action done or refused) in the same strip, at once."""
        self.feed.push(Alert("info", None, "", text, self.state.now))

    def acknowledge(self) -> int:
        """Acknowledge the group shown (button or Ctrl+K)."""
        done = self.feed.acknowledge()
        if self.feed.shown is not None and self.feed.shown.acknowledged:
            self._style("info")
        return done

    def select_shown(self) -> None:
        group = self.feed.shown
        if group is not None and group.case_id is not None and self.state.summary(group.case_id) is not None:
            self.state.select(group.case_id)

    def _show_group(self, group: AlertGroup) -> None:
        line = plain.line(f"{group.at:%H:%M:%S}  {group.text}" if group.at else group.text, 500)
        self.headline.setText(line)
        self._style(group.kind)
        self.headline.setProperty("kind", group.kind)
        self.show_button.setEnabled(group.case_id is not None)
        if self.status is not None:
            self.status(plain.line(group.text, 500), FLASH_MS)
        if self.sound and group.beep:
            self.beeps += 1
            QApplication.beep()
        self._calm.start()
        self._refresh()

    def _style(self, kind: str) -> None:
        self.headline.setStyleSheet(f"QLabel {{ {_KIND_STYLE.get(kind, _KIND_STYLE['info'])} "
                                    "padding:4px 8px; font-weight:bold; }")

    def _refresh(self) -> None:
        """The unacknowledged count, the 确认 button and the history list."""
        n = self.feed.unacknowledged
        self.unacked.setText(self.cat.tr("未确认 {n}", n=n) if n else "")
        shown = self.feed.shown
        self.ack_button.setEnabled(shown is not None and not shown.acknowledged)
        self.list.clear()
        for entry in self.feed.history[:MAX_KEPT]:
            self.list.addItem(self._item(entry))
        self.history_button.setText(self.cat.tr("历史 ({n})", n=len(self.feed.history)))

    def _item(self, entry: AlertEntry) -> QListWidgetItem:
        alert = entry.alert
        line = plain.line(f"{alert.at:%H:%M:%S}  {alert.text}" if alert.at else alert.text, 500)
        item = QListWidgetItem(line)
        item.setData(Qt.ItemDataRole.UserRole, alert.case_id)
        item.setToolTip(plain.tooltip(line) if len(line) > plain.TOOLTIP_LINE else "")
        if not entry.acknowledged:
            font = QFont(item.font())
            font.setBold(True)
            item.setFont(font)
        return item

    def _settle(self) -> None:
        if self.feed.shown is None or self.feed.shown.acknowledged:
            self._style("info")

    def _clicked(self, item) -> None:
        case_id = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(case_id, int) and self.state.summary(case_id) is not None:
            self.state.select(case_id)


class AlertRulesDialog(QDialog):
    """The user's own alert rules: kinds, sound per kind, categories, levels, banner interval."""

    def __init__(self, rules: AlertRules, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.cat = cat = catalogue or Catalogue()
        self.setWindowTitle(cat.tr("提醒规则"))
        self.reset_requested = False
        form = QFormLayout(self)
        self.kind_boxes: dict[str, QCheckBox] = {}
        self.sound_boxes: dict[str, QCheckBox] = {}
        for kind in KINDS:
            row = QHBoxLayout()
            box = QCheckBox(cat.tr("提醒"), objectName=f"alertKind_{kind}")
            box.setChecked(kind in rules.kinds)
            beep = QCheckBox(cat.tr("提示音"), objectName=f"alertSound_{kind}")
            beep.setChecked(kind in rules.sound)
            row.addWidget(box)
            row.addWidget(beep)
            row.addStretch(1)
            self.kind_boxes[kind], self.sound_boxes[kind] = box, beep
            form.addRow(cat.tr(_KIND_LABEL[kind]), row)
        self.categories = QLineEdit(", ".join(rules.categories), objectName="alertCategories")
        self.categories.setPlaceholderText(cat.tr("类别代码前缀，用逗号分隔；留空为全部类别"))
        self.categories.setMaxLength(500)
        form.addRow(cat.tr("类别"), self.categories)
        levels = QHBoxLayout()
        self.level_boxes: dict[str, QCheckBox] = {}
        for level in Level:
            box = QCheckBox(cat.label(level), objectName=f"alertLevel_{level.value}")
            box.setChecked(not rules.levels or level.value in rules.levels)
            levels.addWidget(box)
            self.level_boxes[level.value] = box
        form.addRow(cat.tr("级别"), levels)
        self.interval = QDoubleSpinBox(objectName="alertInterval")
        self.interval.setRange(*INTERVAL_RANGE)
        self.interval.setDecimals(0)
        self.interval.setSuffix(cat.tr(" 秒"))
        self.interval.setValue(rules.interval_s)
        form.addRow(cat.tr("横幅最短间隔"), self.interval)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        reset = buttons.addButton(cat.tr("恢复默认"), QDialogButtonBox.ButtonRole.ResetRole)
        reset.clicked.connect(self._reset)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _reset(self) -> None:
        self.reset_requested = True
        self.accept()

    def rules(self) -> AlertRules:
        """The rules as entered (category prefixes: letters, digits, ':' only; others dropped)."""
        cats = [c.strip() for c in self.categories.text().replace("，", ",").split(",")]
        cats = [c for c in cats if c and all(ch.isalnum() or ch in ":_-" for ch in c)][:50]
        chosen = {lv for lv, box in self.level_boxes.items() if box.isChecked()}
        kinds = frozenset(k for k, b in self.kind_boxes.items() if b.isChecked()) if chosen else frozenset()
        return AlertRules(
            kinds=kinds,
            categories=tuple(sorted(set(cats))),
            levels=frozenset() if len(chosen) == len(self.level_boxes) else frozenset(chosen),
            sound=frozenset(k for k, b in self.sound_boxes.items() if b.isChecked()),
            interval_s=float(self.interval.value()),
        )
