"""The intake form (上报登记): where, what, description, photos, with live duplicate suggestions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QShortcut,
    QVBoxLayout,
    QWidget,
)

from app.commands import Command, CommandInputError, Problem
from app.domain.definitions import Action, CaseState, Level, Source
from app.domain.workflow import WORKFLOW
from app.i18n import Catalogue
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from app.ui import plain
from app.ui.forms.action_dialogs import command_for
from app.ui.forms.category_picker import CategoryPicker
from app.ui.forms.common import Banner, FieldError, Submitter, error_field, error_text
from app.ui.forms.duplicates_panel import DuplicatesPanel
from app.ui.forms.photo_picker import PhotoPicker
from app.ui.tasks import TaskRunner

#: pick(callback) arms the map; callback(x, y, component_code or None) gets the click.
PickFn = Callable[[Callable[[float, float, str | None], None]], None]
LOOKUP_DELAY_MS = 350  # wait for typing to pause before asking the store
_FIELDS = ("category", "location", "component", "address", "description", "photo", "level", "source")
#: The 上报 command's field names the form shows under another name.
_FORM_FIELD = {"at": "location", "lonlat": "location", "photos": "photo"}


class IntakeForm(QWidget):
    """Collects a ReportDraft and reports it as ``actor``; typed work survives every failure."""

    reported = Signal(object)  # ActionResult of the new case (or of the link)

    def __init__(self, desk, actor, runner: TaskRunner, catalogue: Catalogue | None = None,
                 pick: PickFn | None = None, parent=None, unpick: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("intakeForm")
        self.desk, self.actor, self.runner = desk, actor, runner
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr
        self._pick = pick
        self._unpick = unpick  # takes the picked point's marker off the map (a report sent, the form emptied)
        self._location: LocationInput | None = None

        self.banner = Banner(self, "intakeBanner")
        self.errors = {name: FieldError(name, self) for name in _FIELDS}
        self.source = QComboBox(objectName="intakeSource")
        for s in Source:
            self.source.addItem(self.cat.label(s), s.value)
        self.level = QComboBox(objectName="intakeLevel")
        for lvl in Level:
            self.level.addItem(self.cat.label(lvl), lvl.value)
        self.category = CategoryPicker(desk.taxonomy, self.cat)
        self.pick_button = QPushButton(tr("地图选点"), objectName="pickOnMap")
        self.pick_button.setToolTip(tr("在地图上点击问题位置（点在部件上则同时选中该部件）"))
        self.pick_button.setEnabled(pick is not None)
        self.pick_button.clicked.connect(self.start_pick)
        self.component = QLineEdit(objectName="intakeComponent")
        self.component.setPlaceholderText(tr("部件标识码（16/17位）"))
        self.address = QLineEdit(objectName="intakeAddress")
        self.address.setPlaceholderText(tr("地址，如 人民路 25 号"))
        self.where = plain.PlainLabel(tr("未定位"), max_chars=400, max_lines=4, objectName="intakeWhere")
        self.description = QPlainTextEdit(objectName="intakeDescription")
        self.description.setPlaceholderText(tr("现场情况：什么问题、在哪里、影响多大"))
        self.description.setFixedHeight(72)
        self.reporter_name = QLineEdit(objectName="intakeReporterName")
        self.reporter_phone = QLineEdit(objectName="intakeReporterPhone")
        self.photos = PhotoPicker(self.cat)
        self.duplicates = DuplicatesPanel(self.cat)
        self.submit_button = QPushButton(tr("上报 (Ctrl+Enter)"), objectName="intakeSubmit")
        self.submit_button.setDefault(True)
        self.clear_button = QPushButton(tr("清空"), objectName="intakeClear")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)  # fields use the dock's width
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setVerticalSpacing(3)
        head = QHBoxLayout()
        head.addWidget(self.source, 2)
        head.addWidget(QLabel(tr("等级")))
        head.addWidget(self.level, 1)
        form.addRow(tr("来源"), head)
        form.addRow(tr("类别"), self._with_error(self.category, "category"))
        where = QHBoxLayout()
        where.addWidget(self.pick_button)
        where.addWidget(self.component, 1)
        form.addRow(tr("位置"), where)
        form.addRow(tr("地址"), self._with_error(self.address, "address"))
        form.addRow("", self._with_error(self.where, "location", "component"))
        form.addRow(tr("描述"), self._with_error(self.description, "description"))
        reporter = QHBoxLayout()
        reporter.addWidget(self.reporter_name, 1)
        reporter.addWidget(self.reporter_phone, 1)
        self.reporter_name.setPlaceholderText(tr("举报人（选填）"))
        self.reporter_phone.setPlaceholderText(tr("联系电话（选填）"))
        form.addRow(tr("举报人"), reporter)
        form.addRow(tr("照片"), self.photos)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.submit_button)
        body = QWidget()
        inner = QVBoxLayout(body)
        inner.setContentsMargins(6, 6, 6, 6)
        inner.addWidget(self.banner)
        inner.addLayout(form)
        inner.addWidget(self.duplicates)
        inner.addLayout(buttons)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.submitter = Submitter(runner, [self.submit_button, self.duplicates.link_button])
        self._lookup = QTimer(self)
        self._lookup.setSingleShot(True)
        self._lookup.setInterval(LOOKUP_DELAY_MS)
        self._lookup.timeout.connect(self.lookup_now)
        self.category.chosen.connect(lambda _v: self._schedule())
        self.component.editingFinished.connect(self._component_typed)
        self.address.editingFinished.connect(self._address_typed)
        self.submit_button.clicked.connect(self.submit)
        self.clear_button.clicked.connect(self.clear)
        self.duplicates.link_requested.connect(self.link_to)
        self._submit_key = QShortcut(QKeySequence("Ctrl+Return"), self)
        self._submit_key.activated.connect(self.submit)
        self.set_actor(actor)

    def _with_error(self, widget: QWidget, *names: str) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(widget)
        for name in names:
            layout.addWidget(self.errors[name])
        return box

    # ---- location ------------------------------------------------------------------
    def set_actor(self, actor) -> None:
        """Default the channel to the role's usual one (a supervisor reports as 监督员上报)."""
        self.actor = actor
        from app.services.intake import DEFAULT_SOURCE

        if actor is not None:
            source = DEFAULT_SOURCE.get(actor.role, Source.HOTLINE)
            self.source.setCurrentIndex(self.source.findData(source.value))
            self.duplicates.can_link = Action.LINK in WORKFLOW.actions(CaseState.REPORTED, actor.role)

    def start_pick(self) -> None:
        """Arm the map: the next click sets the location."""
        if self._pick is not None:
            self.banner.show_message(self.cat.tr("请在地图上点击问题位置…"), "info")
            self._pick(self.set_point)

    def set_point(self, x: float, y: float, component_code: str | None = None) -> None:
        """The location picked on the map (a picked component wins: its own point is used)."""
        if self.banner.kind == "info":
            self.banner.clear_message()
        if component_code:
            self.component.setText(component_code)
            self._location = LocationInput(component_code=component_code, address=self._address())
        else:
            self.component.clear()
            self._location = LocationInput(x=x, y=y, address=self._address())
        self.where.setText(self.cat.tr("正在查询网格… ({x}, {y})", x=f"{x:.1f}", y=f"{y:.1f}"))
        self.lookup_now()
        if not self._address() and hasattr(self.desk, "reverse_geocode"):  # the address from the point
            self.runner.run_in_thread(lambda: self.desk.reverse_geocode(x, y), self._address_from_point,
                                      lambda exc: None, key=f"intake.reverse.{id(self)}")

    def _address_from_point(self, found) -> None:
        loc = self._location
        if found is None or self._address() or loc is None or loc.x is None and not loc.component_code:
            return
        text = found.address
        self.address.setText(text)
        self._location = LocationInput(x=loc.x, y=loc.y, component_code=loc.component_code, address=text)

    def _address(self) -> str | None:
        return self.address.text().strip() or None

    def _component_typed(self) -> None:
        code = self.component.text().strip()
        if code and (self._location is None or self._location.component_code != code):
            self._location = LocationInput(component_code=code, address=self._address())
            self._schedule()

    def _address_typed(self) -> None:
        text = self._address()
        loc = self._location
        if loc is not None and (loc.x is not None or loc.component_code):
            self._location = LocationInput(x=loc.x, y=loc.y, component_code=loc.component_code, address=text)
        elif text and hasattr(self.desk, "geocode"):  # the point from the gazetteer, off the GUI thread
            self.runner.run_in_thread(lambda: self.desk.geocode(text, 1), lambda found: self._point_from_address(text, found),
                                      lambda exc: self._point_from_address(text, []), key=f"intake.geocode.{id(self)}")
        elif text:
            self._location = LocationInput(address=text)
            self._schedule()

    def _point_from_address(self, text: str, found) -> None:
        if text != self._address():
            return  # typed on since
        loc = self._location
        if loc is not None and (loc.x is not None or loc.component_code):
            return  # a point was picked meanwhile
        if found:
            self._location = LocationInput(x=found[0].x, y=found[0].y, address=text)
            self.lookup_now()
        else:  # not in the gazetteer: the location service's own guess (or its message)
            self._location = LocationInput(address=text)
            self._schedule()

    def _schedule(self) -> None:
        self._lookup.start()

    def lookup_now(self) -> None:
        """Resolve the location (grid, street, community) and refresh the duplicate suggestions."""
        self._lookup.stop()
        loc = self._location
        if loc is None:
            return
        self.runner.run_in_thread(lambda: self.desk.locate(loc), self._located, self._locate_failed,
                                  key=f"intake.locate.{id(self)}")

    def _located(self, where) -> None:
        for name in ("location", "component", "address"):
            self.errors[name].clear_error()
        place = " / ".join(p for p in (where.street_name, where.community_name) if p)
        comp = self.cat.tr(" · 部件 {code}", code=where.component_code) if where.component_code else ""
        notes = f"\n{self.cat.tr('；').join(self.cat.text(n) for n in where.notes)}" if where.notes else ""
        grid = self.cat.tr("网格 {code}", code=where.grid_code)
        self.where.setText(f"{grid}  {place}{comp}  ({where.x:.1f}, {where.y:.1f}){notes}")
        self.where.setProperty("grid_code", where.grid_code)
        if where.component_category_id is not None and not self.category.value:
            self._category_from_component(where.component_code)
        self._suggest()

    def _category_from_component(self, code: str | None) -> None:
        # a 17-digit component id carries its category (positions 7-11): offer it
        if code and len(code) == 17:
            value = f"component:{code[6:11]}"
            with contextlib.suppress(ValueError, KeyError):  # a code outside the lists: leave it to the operator
                self.category.set_value(value)

    def _locate_failed(self, exc: BaseException) -> None:
        field = error_field(exc) or "location"
        self.where.setText(self.cat.tr("未定位"))
        self.errors.get(field, self.errors["location"]).show_error(error_text(exc, self.cat))
        self.duplicates.show_candidates([])

    # ---- duplicates ----------------------------------------------------------------
    def _suggest(self) -> None:
        if self._location is None or not self.category.value:
            return
        draft = ReportDraft(category=self.category.value, description="-", location=self._location)
        self.runner.run_in_thread(lambda: self.desk.cases.suggest_duplicates(draft), self.duplicates.show_candidates,
                                  lambda exc: self.duplicates.show_note(error_text(exc, self.cat)),
                                  key=f"intake.dups.{id(self)}")

    # ---- submit --------------------------------------------------------------------
    def draft(self) -> ReportDraft:
        """The report as typed (not yet validated)."""
        return ReportDraft(
            category=self.category.value or self.category.edit.text().strip(),
            description=self.description.toPlainText(),
            location=self._location or LocationInput(),
            level=self.level.currentData(), source=self.source.currentData(),
            reporter_name=self.reporter_name.text(), reporter_phone=self.reporter_phone.text(),
            photos=self.photos.photos("report"),
        )

    def report_command(self) -> Command:
        """The 上报 command of the registry the desk reaches (a plugin may wrap or replace it)."""
        return command_for(self.desk, Action.REPORT)

    def values(self) -> dict:
        """What was typed, as the 上报 command's values (its declared field names)."""
        loc = self._location or LocationInput()
        return {
            "category": self.category.value or self.category.edit.text().strip(),
            "description": self.description.toPlainText(),
            "at": (loc.x, loc.y) if loc.x is not None and loc.y is not None else None,
            "lonlat": (loc.lon, loc.lat) if loc.lon is not None and loc.lat is not None else None,
            "component": loc.component_code, "address": loc.address,
            "level": self.level.currentData(), "source": self.source.currentData(),
            "reporter": self.reporter_name.text(), "phone": self.reporter_phone.text(),
            "photos": self.photos.photos("report"),
        }

    def submit(self) -> bool:
        """Run the registry's 上报 command in a worker; False when a request is already running or input
        is missing."""
        if self.actor is None:
            self.banner.show_message(self.cat.tr("演示模式未登录：不能上报。请以受理员、监督员等身份登录"))
            return False
        self._clear_errors()
        values = self.values()
        if not values["description"].strip():
            self._show_error("description", self.cat.tr("问题描述不能为空：请写明现场情况（什么问题、在哪里、影响多大）"))
            return False
        command, actor, desk = self.report_command(), self.actor, self.desk
        problems = command.problems(values)
        if problems:
            self._show_problems(problems)
            return False
        return self.submitter.submit(lambda: command.run(desk, actor, None, None, values), self._reported,
                                     self._failed)

    def link_to(self, case_id: int, number: str) -> bool:
        """Report what was typed and link it to ``number`` at once (one click, no second filing):
        the registry's 上报 command, then its 关联重复 command on the new case."""
        if self.actor is None or not self.duplicates.can_link:
            return False
        self._clear_errors()
        values, actor, desk = self.values(), self.actor, self.desk
        report, link = self.report_command(), command_for(desk, Action.LINK)
        problems = report.problems(values)
        if problems:
            self._show_problems(problems)
            return False

        def work():
            new = report.run(desk, actor, None, None, values)
            return link.run(desk, actor, new.case.id, new.version, {"original": number})

        return self.submitter.submit(work, self._reported, self._failed)

    def _reported(self, result) -> None:
        lines = [self.cat.tr("已登记：{number}（{state}）", number=result.case.number,
                             state=self.cat.label(result.case.state))]
        lines += [self.cat.text(w) for w in result.warnings]
        self.banner.show_message("\n".join(lines), "warn" if result.warnings else "info")
        self.clear(keep_banner=True)
        self.reported.emit(result)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, CommandInputError):  # the command refused the values (e.g. a wrapping plugin's check)
            self._show_problems(exc.problems)
            return
        field = _FORM_FIELD.get(error_field(exc) or "", error_field(exc))
        if field in self.errors:
            self._show_error(field, error_text(exc, self.cat))
        else:
            self.banner.show_message(error_text(exc, self.cat))

    def _show_problems(self, problems: list[Problem]) -> None:
        """Mark each refused value at its field (the banner says the first)."""
        for problem in reversed(problems):
            text = problem.message(self.cat)
            field = _FORM_FIELD.get(problem.field, problem.field)
            if field in self.errors:
                self._show_error(field, text)
            else:
                self.banner.show_message(self.cat.tr("未能上报：{message}", message=text))

    def _show_error(self, field: str, text: str) -> None:
        self.errors[field].show_error(text)
        self.banner.show_message(self.cat.tr("未能上报：{message}", message=text))

    def _clear_errors(self) -> None:
        self.banner.clear_message()
        for label in self.errors.values():
            label.clear_error()

    def clear(self, keep_banner: bool = False) -> None:
        """Empty the form for the next report (source and level stay)."""
        self.category.clear()
        self.component.clear()
        self.address.clear()
        self.description.clear()
        self.reporter_name.clear()
        self.reporter_phone.clear()
        self.photos.clear()
        self.duplicates.show_candidates([])
        self._location = None
        if self._unpick is not None:
            self._unpick()
        self.where.setText(self.cat.tr("未定位"))
        for label in self.errors.values():
            label.clear_error()
        if not keep_banner:
            self.banner.clear_message()
