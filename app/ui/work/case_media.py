"""Photos and replies of the selected case: thumbnails from its attachments, the 两次回复 texts."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QListWidget, QVBoxLayout, QWidget

from app.domain.definitions import Action
from app.i18n import Catalogue
from app.ui import plain
from app.ui.forms.photo_picker import PhotoStrip
from app.ui.tasks import TaskRunner
from app.views.events import Subscriptions
from app.views.queue_state import QueueState

MEDIA_KEY = "case_media.load"


def load_media(desk, case_id: int) -> tuple[list, list]:
    """(photos, replies) of a case; replies are the 回复举报人 events (automatic or by hand)."""
    photos = desk.photos(case_id)
    replies = [e for e in desk.cases.events(case_id) if e.action == Action.REPLY.value]
    return photos, replies


class CaseMediaDock(QWidget):
    """Follows the queue's selection; loads photos and replies in a worker."""

    def __init__(self, state: QueueState, desk, runner: TaskRunner, catalogue: Catalogue | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("caseMedia")
        self.state, self.desk, self.runner = state, desk, runner
        self.cat = catalogue or Catalogue()
        self.strip = PhotoStrip(self.cat, self)
        self.replies_title = plain.PlainLabel(self.cat.tr("回复举报人"), max_chars=300, max_lines=3,
                                              objectName="repliesTitle")
        self.replies = QListWidget(objectName="repliesList")
        self.replies.setWordWrap(True)
        self.replies.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # or it never wraps
        self.replies.setResizeMode(QListWidget.ResizeMode.Adjust)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.strip)
        layout.addWidget(self.replies_title)
        layout.addWidget(self.replies, 1)
        self.case_id: int | None = None
        ev = state.events
        self._subs = Subscriptions()
        self._subs.connect(ev.selection_changed, self.show_case)
        self._subs.connect(ev.case_event, self._case_event)

    def teardown(self) -> None:
        self._subs.close()
        self.runner.cancel(MEDIA_KEY)

    def show_case(self, case_id: int | None) -> None:
        self.case_id = case_id
        self.strip.show_photos([])
        self.replies.clear()
        if case_id is None:
            self.runner.cancel(MEDIA_KEY)
            return
        self.runner.run_in_thread(lambda: load_media(self.desk, case_id), lambda got: self._show(case_id, got),
                                  lambda exc: self.replies_title.setText(self.cat.tr("加载失败：{error}", error=exc)),
                                  key=MEDIA_KEY)

    def _show(self, case_id: int, got) -> None:
        if case_id != self.case_id:
            return
        photos, replies = got
        self.strip.show_photos(photos)
        self.replies.clear()
        for e in replies:
            how = self.cat.tr("自动") if e.payload.get("auto") else e.actor
            # a reply quotes what a person wrote: plain, clamped (the whole text in the tooltip)
            text = plain.clean(e.payload.get("text", ""))
            self.replies.addItem(plain.breakable(
                f"{e.at:%m-%d %H:%M} [{plain.line(how, 60)}] {plain.clamp(text, 400, 8)[0]}"))
            self.replies.item(self.replies.count() - 1).setToolTip(plain.tooltip(text))
        self.replies_title.setText(self.cat.tr("回复举报人 ({n})", n=len(replies)))

    def _case_event(self, case_id: int, _action: str) -> None:
        if case_id == self.case_id:
            self.show_case(case_id)
