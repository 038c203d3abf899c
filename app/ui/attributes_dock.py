"""The identify panel: the attributes of the grid, component or case last clicked on the map."""

from __future__ import annotations

from enum import Enum

from qtpy.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from app.domain.definitions import CaseState, ComponentStatus, Kind, Level, Light, Source
from app.i18n import Catalogue
from app.ui import plain

#: Chinese captions of the columns the map reports, in display order; others follow as-is.
FIELD_LABELS = {
    "code": "编码", "number": "案卷号", "name": "名称", "category": "类别", "state": "状态",
    "light": "灯色", "level": "等级", "status": "状态", "area_m2": "面积(m²)",
    "community": "社区", "street": "街道", "grid_code": "网格", "legacy_code": "旧编码",
    "initial_date": "初始日期", "changed_date": "变更日期", "data_source": "数据来源", "note": "备注",
    "department": "处置部门", "address": "地址", "source": "来源",
    "authority_department": "主管部门", "owner_department": "权属部门", "maintainer_department": "养护部门",
    "case_id": "案卷ID", "id": "ID",
}
#: A value's cell shows at most this many characters (the cell elides; the tooltip has the rest).
VALUE_CHARS = 300
KIND_TITLES = {"grid": "单元网格", "component": "部件", "case": "案卷"}
#: Internal ids (the identify wiring shows what they name instead, e.g. the category's name).
HIDDEN = {"geom", "fid", "category_id", "grid_id", "community_id", "supervisor_id", "authority_department_id",
          "owner_department_id", "maintainer_department_id"}
#: Columns holding a stored enum value (``damaged``, ``red``, ``general``…): shown by their label.
VALUE_ENUMS: dict[str, type[Enum]] = {
    "state": CaseState, "status": ComponentStatus, "light": Light, "level": Level, "kind": Kind,
    "source": Source,
}


class AttributesPanel(QWidget):
    """A two-column table (field, value) filled by :meth:`show_feature`."""

    def __init__(self, catalogue: Catalogue | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("attributesPanel")
        self._cat = catalogue or Catalogue()
        # identified features carry data (names, notes, codes): plain text, clamped
        self.title = plain.PlainLabel(self._cat.tr("点击地图上的网格、部件或案卷查看属性"), max_chars=200, max_lines=2)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([self._cat.tr("字段"), self._cat.tr("值")])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.table)

    def show_feature(self, kind: str, attributes: dict) -> None:
        """Show one identified feature."""
        title = self._cat.tr(KIND_TITLES.get(kind, kind))
        key = attributes.get("code") or attributes.get("number") or ""
        self.title.setText(f"{title} {key}".strip())
        items = [(k, v) for k, v in attributes.items() if k not in HIDDEN]
        order = list(FIELD_LABELS)
        items.sort(key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        self.table.setRowCount(len(items))
        for row, (name, value) in enumerate(items):
            label = self._cat.tr(FIELD_LABELS.get(name, name))
            self.table.setItem(row, 0, QTableWidgetItem(plain.line(label, 80)))
            text = self.value_text(name, value)
            item = QTableWidgetItem(plain.line(text, VALUE_CHARS))
            item.setToolTip(plain.tooltip(text))  # a long value elides in its cell: the whole text here
            self.table.setItem(row, 1, item)

    def value_text(self, name: str, value) -> str:
        """A value as shown: enum values by their label in the interface language."""
        if value is None:
            return ""
        enum = VALUE_ENUMS.get(name)
        return self._cat.label_of(enum, str(value)) if enum is not None else str(value)

    def rows(self) -> list[tuple[str, str]]:
        """The (field, value) pairs shown, for tests and copy."""
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text())
                for r in range(self.table.rowCount())]
