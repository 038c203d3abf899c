"""The 基础数据 page of the administrator's workspace (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from qtpy.QtCore import QDate, Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.base_history import Action
from app.domain.definitions import ComponentStatus
from app.i18n import Catalogue
from app.ui.admin.common import MAX_REASON, AdminPage, fill, table
from app.ui.tasks import TaskRunner

BASE_PAGE_TITLE = "基础数据"
COMPONENT_HEADERS = ("标识码", "名称", "类别", "状态", "所在网格")
GRID_HEADERS = ("网格编码", "面积（平方米）", "注销日期")
HISTORY_HEADERS = ("序号", "时间", "操作人", "操作", "变更内容", "理由")
FIELD_LABELS = {"name": "名称", "authority": "主管部门", "owner": "权属单位", "maintainer": "养护单位",
                "data_source": "数据来源", "note": "备注"}
#: What the history calls the record's keys.
HISTORY_FIELDS = {**FIELD_LABELS, "status": "状态", "changed_date": "变更日期", "initial_date": "初始日期",
                  "grid": "所在网格", "retired_on": "注销日期", "area_m2": "面积（平方米）", "successors": "新网格",
                  "predecessors": "原网格", "supervisor_id": "监督员", "legacy_code": "旧版标识码"}
#: PickFn of the workspace: pick(callback(x, y, component code or None)).
PickFn = Callable[[Callable[[float, float, "str | None"], None]], None]


class MapTools(Protocol):
    """What the page needs from the map (app.gis.base_edit_tools.BaseEditTools)."""

    def draw_line(self, callback: Callable[[list[tuple[float, float]] | None], None]) -> None: ...

    def show(self, wkt: str | None) -> None: ...

    def changed(self) -> None: ...


_MAP_TOOLS: list[MapTools | None] = [None]


def set_map_tools(tools: MapTools | None) -> None:
    """The GUI root registers the map's line tools here (None: no map)."""
    _MAP_TOOLS[0] = tools


def map_tools() -> MapTools | None:
    return _MAP_TOOLS[0]


def _parse_line(text: str) -> list[tuple[float, float]] | None:
    try:
        points = [tuple(float(v) for v in part.replace(",", " ").split()) for part in text.split(";") if part.strip()]
    except ValueError:
        return None
    if len(points) < 2 or any(len(p) != 2 for p in points):
        return None
    return [(p[0], p[1]) for p in points]


class BaseMaintPage(AdminPage):
    """Components and unit grids: list, edit, status, add, retire, move, split, merge, history."""

    def __init__(self, service: Any, actor: Any, runner: TaskRunner, catalogue: Catalogue, *,
                 pick: PickFn | None = None, tools: MapTools | None = None, today: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(runner, catalogue, "baseMaint", parent)
        self.service, self.actor, self.pick, self.tools = service, actor, pick, tools
        self.today = today or date.today()
        tr = self.tr
        self.rows: list[dict[str, Any]] = []
        self.records = self.rows  # the workspace tests wait on ``records``
        self.current: dict[str, Any] | None = None
        self.history_rows: list[dict[str, Any]] = []

        self.mode = QComboBox(objectName="baseMode")
        self.mode.addItem(tr("部件"), "component")
        self.mode.addItem(tr("单元网格"), "grid")
        self.search = QLineEdit(objectName="baseSearch")
        self.search.setPlaceholderText(tr("编码或名称"))
        self.search.setMaxLength(64)
        self.find_button = QPushButton(tr("查找"), objectName="baseFind")
        self.list = table("baseList", [tr(h) for h in COMPONENT_HEADERS])

        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for key, label in FIELD_LABELS.items():
            edit = QLineEdit(objectName=f"baseField_{key}")
            edit.setMaxLength(1000 if key == "note" else 64)
            self.fields[key] = edit
            form.addRow(tr(label), edit)
        self.status_box = QComboBox(objectName="baseStatusBox")
        for member in ComponentStatus:
            self.status_box.addItem(self.cat.label(member), member.value)
        self.change_date = QDateEdit(objectName="baseChangeDate")
        self.change_date.setCalendarPopup(True)
        self.change_date.setDisplayFormat("yyyy-MM-dd")
        self.change_date.setDate(QDate(self.today.year, self.today.month, self.today.day))
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_box)
        status_row.addWidget(self.change_date)
        form.addRow(tr("状态与变更日期"), status_row)
        self.category = QLineEdit(objectName="baseCategory")
        self.category.setPlaceholderText(tr("新增部件的类别（5位，如 01002）"))
        self.category.setMaxLength(5)
        form.addRow(tr("类别"), self.category)
        self.line_edit = QLineEdit(objectName="baseLine")
        self.line_edit.setPlaceholderText(tr("分割线：X Y;X Y（或在地图上画）"))
        form.addRow(tr("分割线"), self.line_edit)
        self.reason = QLineEdit(objectName="baseReason")
        self.reason.setMaxLength(MAX_REASON)
        self.reason.setPlaceholderText(tr("修改原因（必填，记入基础数据变更记录）"))
        form.addRow(tr("理由"), self.reason)
        self.form_box = QGroupBox(tr("选中的要素"), objectName="baseForm")
        self.form_box.setLayout(form)

        self.save_button = QPushButton(tr("保存属性"), objectName="baseSave")
        self.status_button = QPushButton(tr("变更状态"), objectName="baseStatus")
        self.retire_button = QPushButton(tr("注销部件"), objectName="baseRetire")
        self.move_button = QPushButton(tr("在地图上移动"), objectName="baseMove")
        self.add_button = QPushButton(tr("在地图上新增部件"), objectName="baseAdd")
        self.split_button = QPushButton(tr("拆分网格"), objectName="baseSplit")
        self.merge_button = QPushButton(tr("合并选中的网格"), objectName="baseMerge")
        self.component_buttons = (self.save_button, self.status_button, self.retire_button, self.move_button,
                                  self.add_button)
        self.grid_buttons = (self.split_button, self.merge_button)
        buttons = QGridLayout()  # two rows: seven buttons in one made the admin dock ~990 px wide
        for i, b in enumerate((*self.component_buttons, *self.grid_buttons)):
            buttons.addWidget(b, i // 4, i % 4)
        buttons.setColumnStretch(4, 1)

        self.history = table("baseHistory", [tr(h) for h in HISTORY_HEADERS])

        top = QHBoxLayout()
        top.addWidget(self.mode)
        top.addWidget(self.search, 1)
        top.addWidget(self.find_button)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(top)
        lv.addWidget(self.list, 1)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.form_box)
        rv.addLayout(buttons)
        rv.addWidget(self.history, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.find_button.clicked.connect(self.reload)
        self.search.returnPressed.connect(self.reload)
        self.list.itemSelectionChanged.connect(self._selected)
        self.save_button.clicked.connect(self.save)
        self.status_button.clicked.connect(self.change_status)
        self.retire_button.clicked.connect(self.retire)
        self.move_button.clicked.connect(self.move_on_map)
        self.add_button.clicked.connect(self.add_on_map)
        self.split_button.clicked.connect(self.split)
        self.merge_button.clicked.connect(self.merge)
        self._mode_changed()

    # ------------------------------------------------------------------ state

    @property
    def kind(self) -> str:
        return str(self.mode.currentData())

    def _mode_changed(self) -> None:
        grid = self.kind == "grid"
        self.list.setColumnCount(len(GRID_HEADERS if grid else COMPONENT_HEADERS))
        self.list.setHorizontalHeaderLabels([self.tr(h) for h in (GRID_HEADERS if grid else COMPONENT_HEADERS)])
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if grid
                                   else QAbstractItemView.SelectionMode.SingleSelection)
        for edit in self.fields.values():
            edit.setEnabled(not grid)
        for w in (self.status_box, self.change_date, self.category):
            w.setEnabled(not grid)
        self.line_edit.setEnabled(grid)
        self.current = None
        self._busy_changed()
        if self.loaded:
            self.reload()

    def _busy_changed(self) -> None:
        grid = self.kind == "grid"
        for b in self.component_buttons:
            b.setVisible(not grid)
            b.setEnabled(not self.busy and (b is self.add_button or self.current is not None))
        for b in self.grid_buttons:
            b.setVisible(grid)
            b.setEnabled(not self.busy)
        self.move_button.setEnabled(self.move_button.isEnabled() and self.pick is not None)
        self.add_button.setEnabled(self.add_button.isEnabled() and self.pick is not None)

    def selected_codes(self) -> list[str]:
        rows = sorted({i.row() for i in self.list.selectedIndexes()})
        return [str(self.rows[r]["code"]) for r in rows if r < len(self.rows)]

    # ------------------------------------------------------------------ reading

    def reload(self) -> None:
        kind, text = self.kind, self.search.text()
        keep = self.current["code"] if self.current else None

        def read() -> list[dict[str, Any]]:
            return self.service.components(text) if kind == "component" else self.service.grids(text)

        def done(rows: list[dict[str, Any]]) -> None:
            if kind != self.kind:
                return
            self.rows[:] = rows
            if kind == "component":
                fill(self.list, ((r["code"], r["name"], r["category"], self.cat.label_of(ComponentStatus, r["status"]),
                                  r["grid"]) for r in rows))
            else:
                fill(self.list, ((r["code"], f"{r['area_m2']:.1f}", r["retired_on"] or "") for r in rows))
            if keep is not None:
                self.select(keep)

        self.call("list", read, done)

    def select(self, code: str) -> bool:
        """Select the row of ``code`` (shows its record and history); False when it is not listed."""
        for i, r in enumerate(self.rows):
            if r["code"] == code:
                self.list.clearSelection()
                self.list.selectRow(i)
                return True
        return False

    def _selected(self) -> None:
        codes = self.selected_codes()
        if len(codes) != 1:
            return
        code, kind = codes[0], self.kind

        def read() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            record = self.service.component(code) if kind == "component" else self.service.grid(code)
            return record, self.service.history(kind, code)

        def done(answer: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
            record, history = answer
            self.current = record
            self.history_rows = history
            if kind == "component":
                for key, edit in self.fields.items():
                    edit.setText(str(record.get(key) or ""))
                index = self.status_box.findData(record["status"])
                self.status_box.setCurrentIndex(max(index, 0))
            if self.tools is not None:
                self.tools.show(record.get("wkt") or (f"POINT({record['x']} {record['y']})"
                                                      if record.get("x") is not None else None))
            self._show_history(history)
            self._busy_changed()

        self.call("record", read, done)

    def _show_history(self, rows: list[dict[str, Any]]) -> None:
        def what(r: dict[str, Any]) -> str:
            parts = []
            for key in r["fields"]:
                if key == "wkt":
                    parts.append(self.tr("边界"))
                    continue
                before, after = (r["before"] or {}).get(key), (r["after"] or {}).get(key)
                if key == "status":
                    before = self.cat.label_of(ComponentStatus, before) if before else before
                    after = self.cat.label_of(ComponentStatus, after) if after else after
                name = self.tr(HISTORY_FIELDS[key]) if key in HISTORY_FIELDS else key
                parts.append(f"{name}: {'—' if before in (None, '') else before} → {'—' if after in (None, '') else after}")
            return "; ".join(parts)

        fill(self.history, ((r["seq"], f"{r['at']:%Y-%m-%d %H:%M}", r["actor"], self.tr(Action(r["action"]).label),
                             what(r), r["reason"] or "") for r in reversed(rows)))

    # ------------------------------------------------------------------ changes

    def _reason(self) -> str | None:
        reason = self.reason.text().strip()
        if not reason:
            self.say("请先填写修改原因", error=True)
            self.reason.setFocus()
            return None
        return reason

    def _run(self, key: str, fn: Callable[[], Any]) -> None:
        def done(change: Any) -> None:
            self.say(change.message)
            self.reason.clear()
            if self.tools is not None:
                self.tools.changed()
            if len(change.codes) == 1 and self.kind == "component":
                self.current = {"code": change.codes[0]}
            self.reload()

        self.call(key, fn, done)

    def save(self) -> None:
        reason, current = self._reason(), self.current
        if reason is None or current is None:
            return
        values = {k: e.text().strip() or None for k, e in self.fields.items()}
        changed = {k: v for k, v in values.items() if v != (current.get(k) or None)}
        self._run("save", lambda: self.service.set_component(self.actor, current["code"], reason=reason, **changed))

    def _day(self) -> str:
        return self.change_date.date().toString("yyyy-MM-dd")

    def change_status(self) -> None:
        reason, current = self._reason(), self.current
        if reason is None or current is None:
            return
        status, day = str(self.status_box.currentData()), self._day()
        self._run("status", lambda: self.service.set_status(self.actor, current["code"], status, on=day, reason=reason))

    def retire(self) -> None:
        reason, current = self._reason(), self.current
        if reason is None or current is None:
            return
        day = self._day()
        self._run("retire", lambda: self.service.retire_component(self.actor, current["code"], on=day, reason=reason))

    def move_on_map(self) -> None:
        reason, current = self._reason(), self.current
        if reason is None or current is None or self.pick is None:
            return
        self.say("在地图上点击部件的新位置")

        def picked(x: float, y: float, _code: str | None = None) -> None:
            self.apply_move(current["code"], x, y, reason)

        self.pick(picked)

    def apply_move(self, code: str, x: float, y: float, reason: str) -> None:
        self._run("move", lambda: self.service.move_component(self.actor, code, x, y, reason=reason))

    def add_on_map(self) -> None:
        reason = self._reason()
        if reason is None or self.pick is None:
            return
        self.say("在地图上点击新部件的位置")
        self.pick(lambda x, y, _code=None: self.apply_add(x, y, reason))

    def apply_add(self, x: float, y: float, reason: str) -> None:
        values = {k: e.text().strip() or None for k, e in self.fields.items()}
        category, status, day = self.category.text().strip(), str(self.status_box.currentData()), self._day()
        name = values.pop("name") or ""
        self._run("add", lambda: self.service.add_component(self.actor, category=category, name=name, x=x, y=y,
                                                            status=status, initial_date=day, reason=reason,
                                                            **values))

    def split(self) -> None:
        reason, codes = self._reason(), self.selected_codes()
        if reason is None:
            return
        if len(codes) != 1:
            self.say("请先在列表中选中一个要拆分的网格", error=True)
            return
        typed = self.line_edit.text().strip()
        if typed:
            points = _parse_line(typed)
            if points is None:
                self.say("分割线应为至少两个点：X Y;X Y", error=True)
                return
            self.apply_split(codes[0], points, reason)
        elif self.tools is not None:
            self.say("在地图上画分割线：单击加点，右键或回车结束，Esc 取消")
            self.tools.draw_line(lambda points: self.apply_split(codes[0], points, reason) if points
                                 else self.say("未修改（已取消）"))
        else:
            self.say("分割线应为至少两个点：X Y;X Y", error=True)

    def apply_split(self, code: str, points: list[tuple[float, float]], reason: str) -> None:
        self.line_edit.clear()
        day = self._day()
        self._run("split", lambda: self.service.split_grid(self.actor, code, points, on=day, reason=reason))

    def merge(self) -> None:
        reason, codes = self._reason(), self.selected_codes()
        if reason is None:
            return
        if len(codes) < 2:
            self.say("请先在列表中选中至少两个相邻的网格", error=True)
            return
        day = self._day()
        self._run("merge", lambda: self.service.merge_grids(self.actor, codes, on=day, reason=reason))


def make_base_page(store: Any, actor: Any, runner: TaskRunner, catalogue: Catalogue, clock: Any = None, *,
                   pick: PickFn | None = None) -> BaseMaintPage:
    """The page over the maintenance service, with the map tools the GUI root registered."""
    from app.services.base_maintenance import BaseMaintenance

    service = BaseMaintenance(store, clock)
    today = clock.now().date() if clock is not None else None
    return BaseMaintPage(service, actor, runner, catalogue, pick=pick, tools=map_tools(), today=today)


__all__ = ["BASE_PAGE_TITLE", "BaseMaintPage", "MapTools", "make_base_page", "map_tools", "set_map_tools"]
