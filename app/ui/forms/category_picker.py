"""Category search by code or name (GB/T 47678.5 lists) with a short result list."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.domain.definitions import Kind
from app.domain.taxonomy import CategoryDef, Taxonomy
from app.i18n import Catalogue
from app.ui import plain

MAX_RESULTS = 30


class CategoryPicker(QWidget):
    """Type a code ("06010", "0601") or words ("井盖"); pick from the list (click or Enter).

    ``chosen`` is emitted with the value string ``kind:code`` when a category is picked
    (empty when the text was edited after a pick). The taxonomy is in memory, so the
    search runs on the GUI thread.
    """

    chosen = Signal(str)

    def __init__(self, taxonomy: Taxonomy, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("categoryPicker")
        self.taxonomy = taxonomy
        self.cat = catalogue or Catalogue()
        self.edit = QLineEdit(objectName="categorySearch")
        self.edit.setPlaceholderText(self.cat.tr("类别代码或名称，如 06010 / 井盖"))
        self.current_label = plain.ElidedLabel(max_width=400, objectName="categoryCurrent")
        self.current_label.setStyleSheet("QLabel { color:#1f3a5f; font-weight:bold; }")
        self.results = QListWidget(objectName="categoryResults")
        self.results.setMaximumHeight(110)
        self.results.hide()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.edit, 3)  # its hint (代码或名称，如 06010 / 井盖) is not cut
        top.addWidget(self.current_label, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.results)
        self._value = ""
        #: ``kind:code`` of the categories the city does not use (the administrator's configuration,
        #: kept current by the GUI root's configuration feed): not offered.
        self.hidden: frozenset[str] = frozenset()
        self.edit.textEdited.connect(self.search)
        self.edit.returnPressed.connect(self._take_first)
        self.results.itemActivated.connect(self._take)
        self.results.itemClicked.connect(self._take)

    @property
    def value(self) -> str:
        """``kind:code`` of the picked category, or "" when none is picked."""
        return self._value

    def search(self, text: str) -> list[CategoryDef]:
        """Show the categories matching ``text``; returns them."""
        if self._value:
            self._set_value(None)
        hits = self.taxonomy.search(text, limit=MAX_RESULTS + len(self.hidden))
        hits = [c for c in hits if f"{c.kind.value}:{c.code}" not in self.hidden][:MAX_RESULTS]
        self.results.clear()
        for c in hits:
            item = QListWidgetItem(plain.line(f"{self.cat.label(c.kind)} {c.code}  {c.name}  · {c.major_name}", 200))
            item.setData(Qt.ItemDataRole.UserRole, f"{c.kind.value}:{c.code}")
            self.results.addItem(item)
        self.results.setVisible(bool(hits))
        if hits:
            self.results.setCurrentRow(0)
        return hits

    def set_value(self, value: str) -> None:
        """Pick ``kind:code`` programmatically (e.g. from a picked component's category)."""
        kind, _, code = value.partition(":")
        found = self.taxonomy.find(Kind(kind), code)
        self._set_value(found)

    def clear(self) -> None:
        self.edit.clear()
        self.results.clear()
        self.results.hide()
        self._set_value(None)

    def _take_first(self) -> None:
        item = self.results.currentItem() or self.results.item(0)
        if item is not None:
            self._take(item)

    def _take(self, item: QListWidgetItem) -> None:
        self.set_value(item.data(Qt.ItemDataRole.UserRole))

    def _set_value(self, category: CategoryDef | None) -> None:
        if category is None:
            self._value = ""
            self.current_label.setText(self.cat.tr("未选择类别"))
        else:
            self._value = f"{category.kind.value}:{category.code}"
            self.current_label.setText(f"{category.kind.label} {category.code} {category.name}")
            self.edit.setText(category.code)
            self.results.hide()
        self.chosen.emit(self._value)
