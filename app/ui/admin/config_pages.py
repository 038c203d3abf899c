"""部门, 类别, 路由规则, 时限: the configuration editors of the administrator's workspace, over
app/services/config.py (ConfigService).

Every page works the same way: the records are read in a worker and listed; choosing a row fills the
form; 预览并保存… runs the editor as a dry run (``dry_run=True``: checked as a whole, nothing written)
— a refusal is shown in the user's language, no change says so — then the change dialog shows what
would change (before → after, with the service's warnings: overlapping rules, categories left
without a route) and asks why; only then does the editor run for real, recording the change and its
reason in the configuration history. The rules themselves (what is valid, what overlaps, where a
category goes) are the service's; the pages only collect the fields and show the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.definitions import Basis, DepartmentKind, Kind, Level, Stage
from app.domain.messages import Msg
from app.i18n import Catalogue
from app.services import config as service
from app.services.actors import Actor
from app.ui.admin.common import AdminPage, ask_change, fill, table
from app.ui.plain import PlainLabel
from app.ui.tasks import TaskRunner
from app.views.config_diff import diff_lines

#: The dry run needs a reason like every change; the real one is asked after the preview.
PREVIEW_REASON = "preview"
#: ``pick(callback)`` arms the map; callback(x, y, component_code or None) gets the click.
PickFn = Callable[[Callable[[float, float, "str | None"], None]], None]
#: The map's polygon drawing (app/gis/admin_draw.py through the GUI root): (draw(callback), show(wkt));
#: callback(wkt in the store's CRS, or None when cancelled).
DrawFns = tuple[Callable[[Callable[["str | None"], None]], None], Callable[["str | None"], None]]
EVIDENCE_LABELS = {"refuse": "无证据不能结案", "override": "无证据须说明理由", "none": "不要求证据"}


def _combo(name: str, items: Iterable[tuple[str, Any]], *, empty: str | None = None) -> QComboBox:
    box = QComboBox(objectName=name)
    if empty is not None:
        box.addItem(empty, None)
    for text, value in items:
        box.addItem(text, value)
    return box


def _set_combo(box: QComboBox, value: Any) -> None:
    index = box.findData(value)
    box.setCurrentIndex(index if index >= 0 else 0)


def _cell(value: Any, tr: Callable[..., str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return tr("是") if value else tr("否")
    return str(value)


class ConfigPage(AdminPage):
    """A list of records, a form, 新建 / 预览并保存… and a page-specific second action."""

    #: (record key, column header) of the list.
    columns: tuple[tuple[str, str], ...] = ()
    #: Record keys shown by a label (enum values).
    labelled: Mapping[str, Mapping[str, str]] = {}

    def __init__(self, config: service.ConfigService, actor: Actor, runner: TaskRunner, catalogue: Catalogue,
                 name: str, on_saved: Callable[[], None] | None = None, parent=None) -> None:
        super().__init__(runner, catalogue, name, parent)
        tr = self.tr
        self.config, self.actor, self.on_saved = config, actor, on_saved
        self.records: list[dict[str, Any]] = []
        self.filter = QLineEdit(objectName=f"{name}Filter")
        self.filter.setPlaceholderText(tr("筛选（代码、名称…）"))
        self.filter.setClearButtonEnabled(True)
        self.table = table(f"{name}Table", [tr(h) for _k, h in self.columns])
        self.form = QFormLayout()
        self.new_button = QPushButton(tr("新建"), objectName=f"{name}New")
        self.save_button = QPushButton(tr("预览并保存…"), objectName=f"{name}Save")
        self.refresh_button = QPushButton(tr("刷新"), objectName=f"{name}Refresh")
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.new_button)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.save_button)
        self.problems = PlainLabel(objectName=f"{name}Problems", max_chars=1500, max_lines=6)
        self.problems.setStyleSheet("color: #8a5300;")
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.refresh_button)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addWidget(self.problems)
        right = QWidget()
        self.right = QVBoxLayout(right)
        self.right.setContentsMargins(0, 0, 0, 0)
        self.right.addLayout(self.form)
        self.right.addStretch(1)
        self.right.addLayout(self.buttons)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([3000, 2000])  # shares: the list 60 %, the form 40 %
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.filter.textChanged.connect(lambda _t: self._fill())
        self.table.itemSelectionChanged.connect(self._chosen)
        self.new_button.clicked.connect(lambda: self.load_form(None))
        self.save_button.clicked.connect(lambda: self.save())
        self.refresh_button.clicked.connect(lambda: self.reload())
        self.shown: list[dict[str, Any]] = []

    def _busy_changed(self) -> None:
        for button in (self.save_button, self.refresh_button, self.new_button):
            button.setEnabled(not self.busy)

    # ---- reading ------------------------------------------------------------------
    def read(self) -> tuple[list[dict[str, Any]], list[Msg]]:
        """In a worker: the records and the stored configuration's problems."""
        raise NotImplementedError

    def reload(self, done: Callable[[Any], None] | None = None) -> None:
        self.say(Msg("正在读取…"))
        self.call("read", self.read, lambda answer: self._show(answer, done))

    def _show(self, answer: tuple[list[dict[str, Any]], list[Msg]], done: Callable[[Any], None] | None) -> None:
        self.records, problems = answer
        self.problems.setText("\n".join(self.cat.text(p) for p in problems))
        self._fill()
        self.say(Msg("共 {count} 条", count=len(self.records)))
        if done is not None:
            done(self.records)

    def key_of(self, record: Mapping[str, Any]) -> str:
        return "|".join(str(record.get(k)) for k, _h in self.columns[:2])

    def _fill(self) -> None:
        chosen = self.selected()
        needle = self.filter.text().strip().lower()
        tr = self.tr
        self.shown = [r for r in self.records
                      if not needle or any(needle in str(v).lower() for v in r.values() if v is not None)]
        rows = []
        for r in self.shown:
            rows.append([tr(self.labelled[k][r[k]]) if k in self.labelled and r.get(k) in self.labelled[k]
                         else _cell(r.get(k), tr) for k, _h in self.columns])
        fill(self.table, rows)
        if chosen is not None:
            self.select(self.key_of(chosen))

    def selected(self) -> dict[str, Any] | None:
        model = self.table.selectionModel()
        rows = model.selectedRows() if model is not None else []
        return self.shown[rows[0].row()] if rows and rows[0].row() < len(self.shown) else None

    def select(self, key: str) -> bool:
        for i, record in enumerate(self.shown):
            if self.key_of(record) == key:
                self.table.selectRow(i)
                return True
        return False

    def _chosen(self) -> None:
        record = self.selected()
        if record is not None:
            self.load_form(record)

    def load_form(self, record: Mapping[str, Any] | None) -> None:
        """Fill the form from ``record`` (None: an empty form for a new record)."""
        raise NotImplementedError

    # ---- changing -----------------------------------------------------------------
    def edit(self) -> Callable[[str, bool], service.ConfigResult]:
        """The editor call of the form's values: ``edit(reason, dry_run)`` (read on the GUI thread)."""
        raise NotImplementedError

    def save(self) -> None:
        self.run_change(Msg("保存修改"), self.edit())

    def run_change(self, title: Msg, edit: Callable[[str, bool], service.ConfigResult]) -> None:
        """Dry run, diff and reason, then the change for real."""
        self.say(Msg("正在检查…"))
        self.call("plan", lambda: edit(PREVIEW_REASON, True), lambda result: self._confirm(title, result, edit))

    def _confirm(self, title: Msg, result: service.ConfigResult,
                 edit: Callable[[str, bool], service.ConfigResult]) -> None:
        if not result.changes:
            self.say(Msg("没有变化，未保存"))
            return
        text = self.cat.text
        lines: list[str] = []
        for change in result.changes:
            label = service.ENTITY_LABELS.get(change.entity, change.entity)
            lines.append(text(Msg("{entity} {key}", entity=label, key=change.key)) + (
                text(Msg("（新建）")) if change.before is None else ""))
            lines += ["    " + text(x) for x in diff_lines(change.before, change.after)]
        if result.warnings:
            lines.append("")
            lines += [text(Msg("注意：{warning}", warning=w)) for w in result.warnings]
        ask_change(self, text(title), lines, lambda reason: self._apply(edit, reason))

    def _apply(self, edit: Callable[[str, bool], service.ConfigResult], reason: str) -> None:
        self.say(Msg("正在保存…"))

        def saved(result: service.ConfigResult) -> None:
            said = (Msg("已保存（配置变更第 {seqs} 条）", seqs=[str(s) for s in result.seqs]) if result.seqs
                    else Msg("没有变化，未保存"))
            if result.warnings:
                said = Msg("{said}；注意：{warnings}", said=said, warnings=list(result.warnings))
            self.say(said)
            self.reload(lambda _records: self.say(said))
            if self.on_saved is not None:
                self.on_saved()

        self.call("write", lambda: edit(reason, False), saved)


def _text(edit: QLineEdit | QPlainTextEdit) -> str:
    return (edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text()).strip()


class DepartmentsPage(ConfigPage):
    """部门: code, name, kind, unified social credit code, parent, jurisdiction, contact; retire."""

    columns = (("code", "代码"), ("name", "名称"), ("kind", "类型"), ("credit_code", "统一社会信用代码"),
               ("parent", "上级"), ("area", "辖区"), ("phone", "联系电话"), ("active", "启用"))
    labelled = {"kind": {k.value: k.label for k in DepartmentKind}}

    def __init__(self, config, actor, runner, catalogue, on_saved=None, parent=None) -> None:
        super().__init__(config, actor, runner, catalogue, "adminDepartments", on_saved, parent)
        tr = self.tr
        self.code = QLineEdit(objectName="deptCode")
        self.name = QLineEdit(objectName="deptName")
        self.kind = _combo("deptKind", [(tr(k.label), k.value) for k in DepartmentKind])
        self.credit = QLineEdit(objectName="deptCredit")
        self.credit.setPlaceholderText(tr("18 位，可不填"))
        self.parent_code = QLineEdit(objectName="deptParent")
        self.area = QLineEdit(objectName="deptArea")
        self.area.setPlaceholderText(tr("行政区划代码，如街道 9 位"))
        self.phone = QLineEdit(objectName="deptPhone")
        self.active = QCheckBox(tr("启用"), objectName="deptActive")
        for label, widget in (("代码", self.code), ("名称", self.name), ("类型", self.kind),
                              ("统一社会信用代码", self.credit), ("上级部门代码", self.parent_code),
                              ("辖区", self.area), ("联系电话", self.phone), ("", self.active)):
            self.form.addRow(tr(label) if label else "", widget)
        self.retire_button = QPushButton(tr("停用部门…"), objectName="deptRetire")
        self.buttons.insertWidget(1, self.retire_button)
        self.retire_button.clicked.connect(lambda: self.retire())
        # the jurisdiction (辖区范围): drawn on the map, imported from a file, shown
        self._draw: DrawFns | None = None
        self.drawn_state = QLabel(objectName="deptJurisdiction")
        self.draw_button = QPushButton(tr("在地图上绘制辖区…"), objectName="deptDraw")
        self.import_button = QPushButton(tr("导入辖区…"), objectName="deptImportArea")
        self.show_button = QPushButton(tr("显示辖区"), objectName="deptShowArea")
        row = QHBoxLayout()
        for button in (self.draw_button, self.import_button, self.show_button):
            row.addWidget(button)
        self.form.addRow(tr("辖区范围"), self.drawn_state)
        self.form.addRow("", self._wrap(row))
        self.draw_button.clicked.connect(lambda: self.start_draw())
        self.import_button.clicked.connect(lambda: self.ask_import())
        self.show_button.clicked.connect(lambda: self.show_area())
        self.set_draw(None)
        self.load_form(None)

    @staticmethod
    def _wrap(layout) -> QWidget:
        widget = QWidget()
        layout.setContentsMargins(0, 0, 0, 0)
        widget.setLayout(layout)
        return widget

    def set_draw(self, draw: DrawFns | None) -> None:
        """The map's drawing seam (None: no map, drawing disabled)."""
        self._draw = draw
        self.draw_button.setEnabled(draw is not None)
        self.show_button.setEnabled(draw is not None)

    def _record(self) -> dict[str, Any] | None:
        code = _text(self.code)
        return next((r for r in self.records if r.get("code") == code), None) if code else None

    def start_draw(self) -> None:
        code = _text(self.code)
        if not code or self._draw is None:
            self.say(Msg("请先在列表中选择一个部门"), error=True)
            return
        self.say(Msg("请在地图上逐点点击辖区边界，右键或回车结束，Esc 取消"))
        self._draw[0](lambda wkt: self.set_jurisdiction(code, wkt))

    def _show(self, answer, done) -> None:
        super()._show(answer, done)
        record = self._record()  # the jurisdiction may have changed while the same row stays chosen
        if record is not None:
            self.drawn_state.setText(self.tr("已划定") if record.get("jurisdiction") else self.tr("未划定"))

    def set_jurisdiction(self, code: str, wkt: str | None) -> None:
        """Save ``wkt`` as ``code``'s jurisdiction (preview, reason, then saved); None: cancelled."""
        if wkt is None:
            self.say(Msg("未修改（已取消）"))
            return
        config, actor = self.config, self.actor
        self.run_change(Msg("部门 {code} 的辖区", code=code),
                        lambda reason, dry: config.set_jurisdiction(actor, code, wkt, reason=reason, dry_run=dry))

    def ask_import(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        code = _text(self.code)
        if not code:
            self.say(Msg("请先在列表中选择一个部门"), error=True)
            return
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("导入辖区"), "",
                                                    self.tr("矢量数据 (*.shp *.gpkg *.geojson *.json *.kml *.gml *.tab);;全部 (*)"))
        if path:
            self.import_file(code, path)

    def import_file(self, code: str, path: str) -> None:
        """Import ``code``'s jurisdiction from an OGR file (preview, reason, then saved)."""
        config, actor = self.config, self.actor
        self.run_change(Msg("部门 {code} 的辖区", code=code),
                        lambda reason, dry: config.import_jurisdiction(actor, code, path, reason=reason, dry_run=dry))

    def show_area(self) -> None:
        record = self._record()
        if self._draw is not None:
            self._draw[1](record.get("jurisdiction") if record else None)

    def read(self):
        config = self.config
        return config.departments(), []

    def load_form(self, record) -> None:
        record = record or {"kind": DepartmentKind.BUREAU.value, "active": True}
        self.code.setText(record.get("code") or "")
        self.code.setReadOnly(bool(record.get("code")))
        self.name.setText(record.get("name") or "")
        _set_combo(self.kind, record.get("kind"))
        self.credit.setText(record.get("credit_code") or "")
        self.parent_code.setText(record.get("parent") or "")
        self.area.setText(record.get("area") or "")
        self.phone.setText(record.get("phone") or "")
        self.active.setChecked(bool(record.get("active", True)))
        self.drawn_state.setText(self.tr("已划定") if record.get("jurisdiction") else self.tr("未划定"))

    def edit(self):
        config, actor, code = self.config, self.actor, _text(self.code)
        fields = {"name": _text(self.name), "kind": self.kind.currentData(), "credit_code": _text(self.credit),
                  "parent": _text(self.parent_code), "area": _text(self.area), "phone": _text(self.phone),
                  "active": self.active.isChecked()}
        return lambda reason, dry: config.set_department(actor, code, reason=reason, dry_run=dry, **fields)

    def retire(self) -> None:
        config, actor, code = self.config, self.actor, _text(self.code)
        if code:
            self.run_change(Msg("停用部门 {code}", code=code),
                            lambda reason, dry: config.retire_department(actor, code, reason=reason, dry_run=dry))


class CategoriesPage(ConfigPage):
    """类别: which categories the city uses, names, filing and closing standards, closing evidence."""

    columns = (("kind", "大类"), ("code", "代码"), ("name", "名称"), ("enabled", "启用"),
               ("close_evidence", "结案证据"), ("default_department", "默认处置部门"))
    labelled = {"kind": {k.value: k.label for k in Kind}, "close_evidence": EVIDENCE_LABELS}

    def __init__(self, config, actor, runner, catalogue, on_saved=None, parent=None) -> None:
        super().__init__(config, actor, runner, catalogue, "adminCategories", on_saved, parent)
        tr = self.tr
        self.which = QLabel(objectName="categoryWhich")
        self.which.setTextFormat(Qt.TextFormat.PlainText)
        self.name = QLineEdit(objectName="categoryName")
        self.enabled = QCheckBox(tr("本市使用该类别"), objectName="categoryEnabled")
        self.filing = QPlainTextEdit(objectName="categoryFiling")
        self.closing = QPlainTextEdit(objectName="categoryClosing")
        for edit in (self.filing, self.closing):
            edit.setTabChangesFocus(True)
        self.evidence = _combo("categoryEvidence", [(tr(t), v) for v, t in EVIDENCE_LABELS.items()])
        self.default = QLineEdit(objectName="categoryDefault")
        self.default.setPlaceholderText(tr("部门代码，可不填"))
        for label, widget in (("类别", self.which), ("名称", self.name), ("", self.enabled),
                              ("立案标准", self.filing), ("结案标准", self.closing), ("结案证据", self.evidence),
                              ("默认处置部门", self.default)):
            self.form.addRow(tr(label) if label else "", widget)
        self.new_button.hide()  # the categories are GB/T 47678.5's: enabled or changed, never invented
        self.current: dict[str, Any] | None = None
        self.load_form(None)

    def read(self):
        return self.config.categories(), []

    def load_form(self, record) -> None:
        self.current = dict(record) if record else None
        record = record or {}
        self.which.setText(f"{record.get('kind', '')}:{record.get('code', '')}" if record else "")
        self.name.setText(record.get("name") or "")
        self.enabled.setChecked(bool(record.get("enabled", True)))
        self.filing.setPlainText(record.get("filing_standard") or "")
        self.closing.setPlainText(record.get("closing_standard") or "")
        _set_combo(self.evidence, record.get("close_evidence") or "refuse")
        self.default.setText(record.get("default_department") or "")
        self.save_button.setEnabled(bool(record))

    def _busy_changed(self) -> None:
        super()._busy_changed()
        self.save_button.setEnabled(not self.busy and getattr(self, "current", None) is not None)

    def edit(self):
        config, actor, current = self.config, self.actor, self.current or {}
        fields = {"name": _text(self.name), "enabled": self.enabled.isChecked(),
                  "filing_standard": _text(self.filing), "closing_standard": _text(self.closing),
                  "close_evidence": self.evidence.currentData(), "default_department": _text(self.default)}
        kind, code = current.get("kind"), current.get("code")
        return lambda reason, dry: config.set_category(actor, kind, code, reason=reason, dry_run=dry, **fields)


class RoutesPage(ConfigPage):
    """路由规则: scope × area → department with a priority; retire; and the test box."""

    columns = (("scope", "范围"), ("area", "区域"), ("department", "部门"), ("priority", "优先级"), ("active", "启用"))

    def __init__(self, config, actor, runner, catalogue, on_saved=None, pick: PickFn | None = None,
                 parent=None) -> None:
        super().__init__(config, actor, runner, catalogue, "adminRoutes", on_saved, parent)
        tr = self.tr
        self.scope = QLineEdit(objectName="routeScope")
        self.scope.setPlaceholderText(tr("all、kind:event、major:event:01 或 category:event:01001"))
        self.area = QLineEdit(objectName="routeArea")
        self.area.setPlaceholderText(tr("街道/社区代码、grids:名称、polygon:名称 或 jurisdiction；不填为全区"))
        self.grids = QLineEdit(objectName="routeGrids")
        self.grids.setPlaceholderText(tr("网格代码，逗号分隔（区域为 grids:名称 时）"))
        self.polygon: str | None = None
        self.polygon_state = QLabel(objectName="routePolygon")
        self.draw_button = QPushButton(tr("绘制区域…"), objectName="routeDraw")
        self._draw: DrawFns | None = None
        self.department = QLineEdit(objectName="routeDepartment")
        self.priority = QSpinBox(objectName="routePriority")
        self.priority.setRange(0, 1000)
        self.active = QCheckBox(tr("启用"), objectName="routeActive")
        drawn = QHBoxLayout()
        drawn.setContentsMargins(0, 0, 0, 0)
        drawn.addWidget(self.polygon_state, 1)
        drawn.addWidget(self.draw_button)
        drawn_row = QWidget()
        drawn_row.setLayout(drawn)
        for label, widget in (("范围", self.scope), ("区域", self.area), ("网格", self.grids), ("划定区域", drawn_row),
                              ("部门代码", self.department), ("优先级（越小越优先）", self.priority), ("", self.active)):
            self.form.addRow(tr(label) if label else "", widget)
        self.draw_button.clicked.connect(lambda: self.start_draw())
        self.draw_button.setEnabled(False)
        self.retire_button = QPushButton(tr("停用规则…"), objectName="routeRetire")
        self.buttons.insertWidget(1, self.retire_button)
        self.retire_button.clicked.connect(lambda: self.retire())
        # the test box: this category at this point goes to …, because …
        self._pick = pick
        self.test_category = QLineEdit(objectName="routeTestCategory")
        self.test_category.setPlaceholderText(tr("类别，如 event:01001"))
        self.test_x, self.test_y = QLineEdit(objectName="routeTestX"), QLineEdit(objectName="routeTestY")
        self.test_x.setPlaceholderText("x")
        self.test_y.setPlaceholderText("y")
        self.pick_button = QPushButton(tr("地图选点"), objectName="routeTestPick")
        self.pick_button.setEnabled(pick is not None)
        self.test_button = QPushButton(tr("测试"), objectName="routeTest")
        self.answer = PlainLabel(objectName="routeTestAnswer", max_chars=2000, max_lines=8)
        box = QHBoxLayout()
        box.addWidget(self.test_category, 2)
        box.addWidget(self.test_x, 1)
        box.addWidget(self.test_y, 1)
        box.addWidget(self.pick_button)
        box.addWidget(self.test_button)
        self.right.addWidget(QLabel(tr("测试：这一类别在这一点派往哪个部门、为什么")))
        self.right.addLayout(box)
        self.right.addWidget(self.answer)
        self.pick_button.clicked.connect(self.start_pick)
        self.test_component: str | None = None  # the component clicked by the last pick (its rule applies)
        for edit in (self.test_x, self.test_y):
            edit.textEdited.connect(lambda _text: setattr(self, "test_component", None))
        self.test_button.clicked.connect(lambda: self.test())
        self.load_form(None)

    def read(self):
        return self.config.routes(), self.config.problems()

    def key_of(self, record) -> str:
        return service.route_key(record)

    def load_form(self, record) -> None:
        record = record or {"priority": 100, "active": True}
        self.scope.setText(record.get("scope") or "")
        self.area.setText(record.get("area") or "")
        self.department.setText(record.get("department") or "")
        self.priority.setValue(int(record.get("priority", 100)))
        self.active.setChecked(bool(record.get("active", True)))
        self.grids.setText(",".join(record.get("grids") or []))
        self.set_polygon(record.get("polygon"))

    def set_draw(self, draw: DrawFns | None) -> None:
        """The map's drawing seam (None: no map, drawing disabled)."""
        self._draw = draw
        self.draw_button.setEnabled(draw is not None)

    def set_polygon(self, wkt: str | None) -> None:
        self.polygon = wkt
        self.polygon_state.setText(self.tr("已绘制") if wkt else self.tr("未绘制"))
        if wkt and not _text(self.area).startswith("polygon:"):
            self.area.setText("polygon:" + (_text(self.area).partition(":")[2] or "area1"))

    def start_draw(self) -> None:
        if self._draw is not None:
            self.say(Msg("请在地图上逐点点击区域边界，右键或回车结束，Esc 取消"))
            self._draw[0](lambda wkt: self.set_polygon(wkt) if wkt else self.say(Msg("未修改（已取消）")))

    def edit(self):
        config, actor = self.config, self.actor
        area = _text(self.area) or None
        values: dict[str, Any] = {"scope": _text(self.scope), "area": area, "department": _text(self.department),
                                  "priority": self.priority.value(), "active": self.active.isChecked()}
        if area and area.startswith("grids:"):
            values["grids"] = _text(self.grids)
        if area and area.startswith("polygon:"):
            values["polygon"] = self.polygon
        return lambda reason, dry: config.set_route(actor, reason=reason, dry_run=dry, **values)

    def retire(self) -> None:
        record = self.selected()
        if record is None:
            self.say(Msg("请先在列表中选择一条规则"), error=True)
            return
        config, actor, key = self.config, self.actor, service.route_key(record)
        self.run_change(Msg("停用规则 {key}", key=key),
                        lambda reason, dry: config.retire_route(actor, key, reason=reason, dry_run=dry))

    def start_pick(self) -> None:
        if self._pick is not None:
            self.answer.setText(self.tr("请在地图上点击要测试的位置"))
            self._pick(self.set_point)

    def set_point(self, x: float, y: float, _component: str | None = None) -> None:
        self.test_component = _component
        self.test_x.setText(f"{x:.2f}")
        self.test_y.setText(f"{y:.2f}")
        if _text(self.test_category):
            self.test()

    def test(self, done: Callable[[Any], None] | None = None) -> None:
        """Ask the service where the category at the point goes, and why (in a worker)."""
        category = _text(self.test_category)
        try:
            x, y = float(_text(self.test_x)), float(_text(self.test_y))
        except ValueError:
            self.answer.setText(self.tr("请填写坐标 x、y（或在地图上选点）"))
            self.answer.setStyleSheet("color: #b3261e;")
            return
        config = self.config

        def shown(text: Any) -> None:
            self.answer.setStyleSheet("")
            self.answer.setText(self.cat.text(text))
            if done is not None:
                done(text)

        def failed(exc: BaseException) -> None:
            self.answer.setStyleSheet("color: #b3261e;")
            self.answer.setText(self.cat.error(exc))
            if done is not None:
                done(exc)

        self.answer.setText(self.tr("正在查询…"))
        component = self.test_component
        if component:  # a component clicked: its owner/maintainer rule applies (its point is the component's)
            self.call("explain", lambda: config.explain_route(category, component=component), shown, failed)
            return
        self.call("explain", lambda: config.explain_route(category, x=x, y=y), shown, failed)


class LimitsPage(ConfigPage):
    """时限: per category (or major class, kind, everything), level and stage; working or natural time;
    a change takes effect from a stated time (timers started before keep their limit)."""

    columns = (("kind", "大类"), ("code", "类别代码"), ("level", "级别"), ("stage", "环节"), ("minutes", "时限（分钟）"),
               ("basis", "计时方式"), ("condition", "条件"), ("valid_from", "生效"))
    labelled = {"kind": {k.value: k.label for k in Kind}, "level": {k.value: k.label for k in Level},
                "stage": {k.value: k.label for k in Stage}, "basis": {k.value: k.label for k in Basis}}

    def __init__(self, config, actor, runner, catalogue, on_saved=None, parent=None) -> None:
        super().__init__(config, actor, runner, catalogue, "adminLimits", on_saved, parent)
        tr = self.tr
        self.kind = _combo("limitKind", [(tr(k.label), k.value) for k in Kind], empty=tr("（全部）"))
        self.code = QLineEdit(objectName="limitCode")
        self.code.setPlaceholderText(tr("类别代码（5 位）或大类代码（2 位），可不填"))
        self.level = _combo("limitLevel", [(tr(k.label), k.value) for k in Level])
        self.stage = _combo("limitStage", [(tr(k.label), k.value) for k in Stage])
        self.minutes = QSpinBox(objectName="limitMinutes")
        self.minutes.setRange(0, service.MAX_LIMIT_MINUTES)
        self.basis = _combo("limitBasis", [(tr(k.label), k.value) for k in Basis])
        self.condition = QLineEdit(objectName="limitCondition")
        self.effective = QLineEdit(objectName="limitEffective")
        self.effective.setPlaceholderText(tr("YYYY-MM-DD HH:MM，不填为立即"))
        for label, widget in (("大类", self.kind), ("类别代码", self.code), ("级别", self.level), ("环节", self.stage),
                              ("时限（分钟）", self.minutes), ("计时方式", self.basis), ("条件", self.condition),
                              ("生效时间", self.effective)):
            self.form.addRow(tr(label), widget)
        self.end_button = QPushButton(tr("结束该时限…"), objectName="limitEnd")
        self.buttons.insertWidget(1, self.end_button)
        self.end_button.clicked.connect(lambda: self.end())
        self.load_form(None)

    def read(self):
        return self.config.limits(), []

    def key_of(self, record) -> str:
        return service.limit_key(record)

    def load_form(self, record) -> None:
        record = record or {"level": Level.GENERAL.value, "stage": Stage.HANDLE.value, "basis": Basis.WORKING.value,
                            "minutes": 0}
        _set_combo(self.kind, record.get("kind"))
        self.code.setText(record.get("code") or "")
        _set_combo(self.level, record.get("level"))
        _set_combo(self.stage, record.get("stage"))
        self.minutes.setValue(int(record.get("minutes") or 0))
        _set_combo(self.basis, record.get("basis"))
        self.condition.setText(record.get("condition") or "")
        self.effective.clear()

    def _scope(self) -> dict[str, Any]:
        return {"kind": self.kind.currentData(), "code": _text(self.code) or None,
                "level": self.level.currentData(), "stage": self.stage.currentData(),
                "effective_at": _text(self.effective) or None}

    def edit(self):
        config, actor = self.config, self.actor
        values = {**self._scope(), "minutes": self.minutes.value(), "basis": self.basis.currentData(),
                  "condition": _text(self.condition) or None}
        return lambda reason, dry: config.set_limit(actor, reason=reason, dry_run=dry, **values)

    def end(self) -> None:
        config, actor, scope = self.config, self.actor, self._scope()
        self.run_change(Msg("结束时限"), lambda reason, dry: config.end_limit(actor, reason=reason, dry_run=dry, **scope))


__all__ = ["CategoriesPage", "ConfigPage", "DepartmentsPage", "LimitsPage", "PREVIEW_REASON", "RoutesPage"]
