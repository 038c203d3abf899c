"""Possible duplicates of the report being typed, with one click to link to one of them."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from app.i18n import Catalogue
from app.ui import plain


def candidate_text(candidate, cat: Catalogue) -> str:
    """Two lines: number, category and state; then the reasons it may be the same problem."""
    case = candidate.case
    head = f"{case.number}  {plain.line(case.category_name, 120)}  [{cat.label(case.state)}]  {round(candidate.score * 100)}%"
    return plain.display(f"{head}\n{cat.tr('；').join(cat.text(r) for r in candidate.reasons)}", 600, 6)


class DuplicatesPanel(QWidget):
    """Shows ranked DuplicateCandidates; ``link_requested(case_id, number)`` on 关联到此案卷."""

    link_requested = Signal(int, str)

    def __init__(self, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("duplicatesPanel")
        self.cat = catalogue or Catalogue()
        self.title = plain.PlainLabel(self.cat.tr("疑似重复：无"), max_chars=300, max_lines=3, objectName="duplicatesTitle")
        self.list = QListWidget(objectName="duplicatesList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # or it never wraps
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMaximumHeight(120)
        self.link_button = QPushButton(self.cat.tr("关联到此案卷（不重复立案）"), objectName="linkDuplicate")
        self.link_button.setEnabled(False)
        self.link_button.setToolTip(self.cat.tr("把这份上报关联到列表中选中的案卷，不另行立案（先在列表中选中一件）"))
        self.link_button.clicked.connect(self._link)
        self.list.currentRowChanged.connect(lambda row: self.link_button.setEnabled(row >= 0))
        self.list.itemDoubleClicked.connect(lambda _item: self._link())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addWidget(self.link_button, 0, Qt.AlignmentFlag.AlignRight)
        self.candidates: list = []
        self.can_link = True  # roles that may not 关联重复 see the candidates without the button

    def show_candidates(self, candidates) -> None:
        """Replace the list with ``candidates`` (best first)."""
        self.candidates = list(candidates)
        self.list.clear()
        for c in self.candidates:
            item = QListWidgetItem(candidate_text(c, self.cat))
            item.setData(Qt.ItemDataRole.UserRole, c.case.id)
            self.list.addItem(item)
        n = len(self.candidates)
        self.title.setText(self.cat.tr("疑似重复 {n} 件：核对后可直接关联", n=n) if n else self.cat.tr("疑似重复：无"))
        self.title.setStyleSheet("QLabel { color:#8e1b1b; font-weight:bold; }" if n else "")
        self.list.setVisible(bool(n))
        self.link_button.setVisible(bool(n) and self.can_link)
        self.link_button.setEnabled(False)

    def show_note(self, text: str) -> None:
        """A line instead of candidates (e.g. why they cannot be looked up yet)."""
        self.show_candidates([])
        self.title.setText(text)

    def _link(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.candidates):
            c = self.candidates[row]
            self.link_requested.emit(c.case.id, c.case.number)
