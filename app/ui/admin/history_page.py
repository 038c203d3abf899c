"""配置变更记录 (configuration history) page: every recorded change of the hall's rules, newest first —
who, when, what (entity and key), why — and, for the selected change, what it changed (before → after).

Read through app/services/config_history.py in a worker; the history is append-only and hash-chained
(app.domain.config_audit), so this page only reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout

from app.domain.messages import Msg
from app.i18n import Catalogue
from app.services import config_history as service
from app.store.engine import Store
from app.ui.admin.common import AdminPage, fill, table
from app.ui.tasks import TaskRunner
from app.views.config_diff import diff_lines

#: What each entity of the history is called (others by their own name).
ENTITY_LABELS = {"calendar_year": "工作日历", "department": "部门", "category": "类别", "route": "路由规则",
                 "routing_rule": "路由规则", "time_limit": "时限", "limit": "时限", "weights": "考核权重",
                 "user": "用户"}


class HistoryPage(AdminPage):
    """The changes table and the selected change's differences."""

    def __init__(self, store: Store, runner: TaskRunner, catalogue: Catalogue, parent=None) -> None:
        super().__init__(runner, catalogue, "adminHistory", parent)
        tr = self.tr
        self.store = store
        self.changes: list[service.ChangeView] = []
        self.table = table("historyTable", [tr("序号"), tr("时间"), tr("操作人"), tr("对象"), tr("键"), tr("原因")])
        self.detail = QPlainTextEdit(objectName="historyDetail")
        self.detail.setReadOnly(True)
        self.refresh_button = QPushButton(tr("刷新"), objectName="historyRefresh")
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.refresh_button.clicked.connect(lambda: self.reload())
        self.table.itemSelectionChanged.connect(self._show_detail)

    def _busy_changed(self) -> None:
        self.refresh_button.setEnabled(not self.busy)

    def reload(self, done: Callable[[Any], None] | None = None) -> None:
        store = self.store
        self.say(Msg("正在读取配置变更记录…"))
        self.call("read", lambda: service.history(store), lambda changes: self._show(changes, done))

    def entity_label(self, entity: str) -> str:
        return self.tr(ENTITY_LABELS[entity]) if entity in ENTITY_LABELS else entity

    def _show(self, changes: list[service.ChangeView], done: Callable[[Any], None] | None) -> None:
        self.changes = changes
        fill(self.table, [(c.seq, c.at.strftime("%Y-%m-%d %H:%M:%S"), c.actor, self.entity_label(c.entity), c.key,
                           c.reason or "") for c in changes])
        self.say(Msg("共 {count} 条配置变更", count=len(changes)))
        if changes:
            self.table.selectRow(0)
        else:
            self.detail.clear()
        if done is not None:
            done(changes)

    def _show_detail(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.changes):
            self.detail.clear()
            return
        change = self.changes[rows[0].row()]
        text = self.cat.text
        head = Msg("第 {seq} 条 · {at} · {actor} · {entity} {key}", seq=change.seq,
                   at=change.at.strftime("%Y-%m-%d %H:%M:%S"), actor=change.actor,
                   entity=self.entity_label(change.entity), key=change.key)
        lines = [text(head), text(Msg("原因：{reason}", reason=change.reason or Msg("（未填写）")))]
        if change.before is None:
            lines.append(text(Msg("新建的记录")))
        elif change.after is None:
            lines.append(text(Msg("删除的记录")))
        lines += [text(x) for x in diff_lines(change.before, change.after)] or [text(Msg("（没有差异）"))]
        self.detail.setPlainText("\n".join(lines))


__all__ = ["ENTITY_LABELS", "HistoryPage"]
