"""The case detail dock: header fields, live timer explanation and the event timeline."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.cases import CaseEventRecord, CaseSummary
from app.domain.definitions import Action, CaseState, Role
from app.domain.timeline import event_facts, urge_text
from app.i18n import Catalogue
from app.ui import plain
from app.ui.claim_banner import ClaimBanner
from app.ui.plain import PlainLabel
from app.ui.ports import CaseSource
from app.ui.queue_model import URGE_COLOUR, countdown_text
from app.ui.style import LIGHT_COLOURS
from app.ui.tasks import TaskRunner
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

EVENTS_KEY = "detail.events"
#: How much of each field the header shows (characters, lines); the rest is in the field's tooltip,
#: so a 3,000-character address cannot push the description out of view.
FIELD_LIMITS: dict[str, tuple[int, int]] = {
    "类别": (60, 2), "责任部门": (60, 2), "网格": (80, 2), "地址": (80, 3), "描述": (600, 10),
}
#: A timeline entry's note is shown up to this (characters, lines); the whole note is in its tooltip.
NOTE_LIMIT = (400, 8)
NAME_CHARS = 60


def event_text(event: CaseEventRecord, cat: Catalogue) -> str:
    """Two lines describing one timeline entry (names and the note as plain, clamped text)."""
    actor = plain.line(event.actor, NAME_CHARS)
    if event.role:
        actor = cat.tr("{name}（{role}）", name=actor, role=cat.label_of(Role, event.role))
    if event.department_name:
        actor += f" {plain.line(event.department_name, NAME_CHARS)}"
    first = f"{event.at:%m-%d %H:%M}  {cat.label_of(Action, event.action)}  {actor}"
    states = cat.label_of(CaseState, event.to_state)
    if event.from_state:
        states = f"{cat.label_of(CaseState, event.from_state)} → {states}"
    second = states + (f" · {plain.clamp(plain.clean(event.reason), *NOTE_LIMIT)[0]}" if event.reason else "")
    return plain.breakable("\n".join([first, second, *_facts(event, cat)]))


def _facts(event: CaseEventRecord, cat: Catalogue) -> list[str]:
    """Every fact of the event (app.domain.timeline, shared with the CLI), one clamped line each."""
    return [plain.line(cat.text(fact), NOTE_LIMIT[0]) for fact in event_facts(event)]


class CaseDetailDock(QWidget):
    """Shows the selected case of a :class:`QueueState`; the timeline loads in a worker."""

    def __init__(
        self,
        state: QueueState,
        source: CaseSource,
        runner: TaskRunner,
        catalogue: Catalogue | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("caseDetail")
        self.state = state
        self.source = source
        self.runner = runner
        self.cat = catalogue or Catalogue()
        tr = self.cat.tr

        # Case text is data: every label takes it as plain text (never HTML), wraps long runs and
        # clamps long fields (app/ui/plain.py). Only 计时 is rich text, made of our own words.
        self.title = PlainLabel(tr("未选择案卷"), max_chars=120, max_lines=2, objectName="detailTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setVerticalSpacing(3)
        for key in ("类别", "等级", "状态", "责任部门", "网格", "地址", "描述", "上报时间", "督办", "计时"):
            if key == "计时":
                label = QLabel(objectName=f"detail_{key}")
                label.setTextFormat(Qt.TextFormat.RichText)
                label.setWordWrap(True)
            else:
                max_chars, max_lines = FIELD_LIMITS.get(key, (200, 3))
                label = PlainLabel(max_chars=max_chars, max_lines=max_lines, objectName=f"detail_{key}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(tr(key), label)
        self.explanation = PlainLabel(objectName="timerExplanation")
        self.timeline_title = PlainLabel(tr("办理过程"), max_chars=200, max_lines=2, objectName="timelineTitle")
        self.timeline = QListWidget(objectName="timeline")
        self.timeline.setWordWrap(True)
        # wrapping only works when the list cannot scroll sideways
        self.timeline.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.timeline.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.timeline.setAlternatingRowColors(True)

        # Header and timeline share the height through a splitter; the header scrolls
        # rather than squashing its rows when the dock is short.
        header = QWidget(objectName="detailHeader")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(0, 0, 0, 0)
        header_layout.addWidget(self.title)
        header_layout.addLayout(form)
        header_layout.addWidget(self.explanation)
        header_layout.addStretch(1)
        scroll = QScrollArea(objectName="detailScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(header)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.timeline_title)
        lower_layout.addWidget(self.timeline, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(scroll)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        # who else is working on the shown case (filled by the desk's ClaimWatcher)
        self.claim_banner = ClaimBanner(self, self.cat)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.claim_banner)
        layout.addWidget(splitter)

        self._case_id: int | None = None
        ev = state.events
        self._subs = Subscriptions()
        self._subs.connect(ev.selection_changed, self.show_case)
        self._subs.connect(ev.tick, lambda _now: self._show_timer())
        self._subs.connect(ev.rows_changed, self._rows_changed)
        self._subs.connect(ev.case_event, self._case_event)

    def teardown(self) -> None:
        """Disconnect from the state and drop a pending timeline load."""
        self._subs.close()
        self.runner.cancel(EVENTS_KEY)

    @property
    def case_id(self) -> int | None:
        return self._case_id

    def show_case(self, case_id: int | None) -> None:
        """Show ``case_id`` (None clears) and load its timeline in the background."""
        if case_id != self._case_id:
            self.claim_banner.show_claim(None)  # another case's holder must not linger
        self._case_id = case_id
        self.timeline.clear()
        row = self.state.summary(case_id) if case_id is not None else None
        if row is None:
            self.runner.cancel(EVENTS_KEY)
            self.title.setText(self.cat.tr("未选择案卷"))
            for label in self.fields.values():
                label.clear()
            self.explanation.clear()
            return
        self._show_header(row)
        self._load_events(case_id)

    def show_claim(self, case_id: int, text: str | None) -> None:
        """Show who else holds ``case_id`` (None hides); ignored unless it is the shown case."""
        if case_id == self._case_id:
            self.claim_banner.show_claim(text)

    def _load_events(self, case_id: int) -> None:
        self.timeline_title.setText(self.cat.tr("正在加载办理过程…"))
        self.runner.run_in_thread(
            lambda: self.source.events(case_id),
            lambda events: self._show_events(case_id, events),
            lambda exc: self._events_failed(case_id, exc),
            key=EVENTS_KEY,
        )

    def _show_header(self, row: CaseSummary) -> None:
        cat = self.cat
        self.title.setText(f"{row.number}  {cat.label(row.kind)}")
        place = " / ".join(p for p in (row.street_name, row.community_name) if p)
        values = {
            "类别": f"{row.category_code} {row.category_name}",
            "等级": cat.label(row.level),
            "状态": cat.label(row.state),
            "责任部门": row.department_name or "—",
            "网格": " ".join(p for p in (row.grid_code, place) if p) or "—",
            "地址": row.address or f"{row.x:.1f}, {row.y:.1f}",
            "描述": row.description or "—",
            "上报时间": f"{row.reported_at:%Y-%m-%d %H:%M} · {cat.label(row.source)}",
            "督办": cat.tr("督办 {n} 次 · 返工 {m} 次", n=row.urge_count, m=row.rework_count),
        }
        urged = urge_text(row.urge_level, row.urge_deadline_at)
        if urged is not None:  # the 督办 level first, marked as in the queue: the case's priority
            values["督办"] = f"{cat.text(urged)} · {values['督办']}"
        self.fields["督办"].setStyleSheet(f"color: {URGE_COLOUR}; font-weight: bold" if urged is not None else "")
        for key, text in values.items():
            self.fields[key].setText(text)
        self._show_timer()

    def _show_timer(self) -> None:
        if self._case_id is None:
            return
        row = self.state.summary(self._case_id)
        reading = self.state.reading(self._case_id)
        if row is None or row.timer is None or reading is None:
            self.fields["计时"].setText(self.cat.tr("无计时"))
            self.explanation.clear()
            return
        colour = LIGHT_COLOURS[reading.light]
        self.fields["计时"].setText(
            f'<span style="color:{colour}; font-weight:bold">● {plain.html(self.cat.label(reading.light))}</span>'
            f"  {plain.html(self.cat.label(row.timer.stage))}  <b>{plain.html(countdown_text(reading, self.cat))}</b>"
        )
        self.explanation.setText(self.cat.text(self.state.explain(self._case_id)))

    def _show_events(self, case_id: int, events: list[CaseEventRecord]) -> None:
        if case_id != self._case_id:
            return
        self.timeline_title.setText(f"{self.cat.tr('办理过程')} ({len(events)})")
        self.timeline.clear()
        for event in events:
            item = QListWidgetItem(event_text(event, self.cat))
            item.setData(Qt.ItemDataRole.UserRole, event.seq)
            facts = [self.cat.text(fact) for fact in event_facts(event)]
            long_fact = any(len(text) > NOTE_LIMIT[0] or "\n" in text for text in facts)
            if (event.reason and plain.clamp(plain.clean(event.reason), *NOTE_LIMIT)[1]) or long_fact:
                # the whole note and facts (a long feedback text), as plain text
                item.setToolTip(plain.tooltip("\n".join([event.reason or "", *facts]).strip()))
            self.timeline.addItem(item)
        self.timeline.scrollToBottom()

    def _events_failed(self, case_id: int, exc: BaseException) -> None:
        if case_id == self._case_id:
            self.timeline_title.setText(self.cat.tr("加载失败：{error}", error=self.cat.error(exc)))

    def _rows_changed(self, ids: list[int]) -> None:
        if self._case_id in ids:
            row = self.state.summary(self._case_id)
            if row is not None:
                self._show_header(row)

    def _case_event(self, case_id: int, _action: str) -> None:
        # a new event was recorded for the shown case: reload its timeline
        if case_id == self._case_id and self.state.summary(case_id) is not None:
            self._load_events(case_id)
