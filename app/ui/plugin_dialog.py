"""Dialog listing every plugin with its state and, for failures, the reason."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.i18n import Catalogue
from app.ui import plain

_STATE_TITLES = {
    "discovered": "已发现", "validated": "已校验", "loaded": "已加载", "enabled": "已启用",
    "disabled": "已停用", "failed": "失败",
}


class PluginStatusRow(Protocol):
    """What the dialog shows of one plugin (see app.plugin.loader.PluginStatus)."""

    id: str
    name: str
    version: str
    state: str
    error: str


class PluginStatusDialog(QDialog):
    """A read-only table: id, name, version, state, error."""

    def __init__(self, rows: Iterable[PluginStatusRow], catalogue: Catalogue | None = None, parent=None):
        super().__init__(parent)
        cat = catalogue or Catalogue()
        self.setWindowTitle(cat.tr("插件状态"))
        rows = list(rows)
        self.table = QTableWidget(len(rows), 5, self)
        self.table.setHorizontalHeaderLabels([cat.tr(t) for t in ("标识", "名称", "版本", "状态", "错误")])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for r, row in enumerate(rows):
            state = cat.tr(_STATE_TITLES.get(row.state, row.state))
            for c, text in enumerate((row.id, row.name, row.version, state, row.error)):
                item = QTableWidgetItem(plain.line(text, 300))  # a plugin's manifest is data too
                item.setToolTip(plain.tooltip(text))
                if row.state == "failed":
                    item.setForeground(QBrush(QColor("#c62828")))
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setMaximumSectionSize(360)  # a long name cannot push 错误 off the dialog
        self.table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(820, 320)
