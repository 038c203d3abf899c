"""Address suggestions as you type: a QCompleter on a line edit, fed off the GUI thread.

``AddressSuggest(edit, suggest)``: after a short pause in typing, ``suggest(text)`` (the geocoder:
text → candidates with ``label``, ``x``, ``y``, ``grid``) runs on a worker thread; its answer comes
back through a queued signal and fills the completer, unless the text changed meanwhile. Picking
a suggestion emits ``picked(label, x, y)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qtpy.QtCore import QObject, QStringListModel, Qt, QTimer, Signal
from qtpy.QtWidgets import QCompleter, QLineEdit

#: Milliseconds of quiet typing before asking the geocoder.
PAUSE_MS = 150


class AddressSuggest(QObject):
    """Suggestions for ``edit`` from ``suggest`` (called on a worker thread, never the GUI's)."""

    answered = Signal(str, object)  # text asked, candidates (from the worker: queued to the GUI thread)
    picked = Signal(str, float, float)  # label, x, y

    def __init__(self, edit: QLineEdit, suggest: Callable[[str], Sequence[Any]], limit: int = 8) -> None:
        super().__init__(edit)
        self.edit, self._suggest, self._limit = edit, suggest, limit
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="address-suggest")
        self._candidates: dict[str, Any] = {}
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        edit.setCompleter(self.completer)
        self._timer = QTimer(self, singleShot=True, interval=PAUSE_MS)
        self._timer.timeout.connect(self._ask)
        edit.textEdited.connect(lambda _text: self._timer.start())
        self.answered.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.completer.activated[str].connect(self._activated)
        edit.destroyed.connect(lambda *_: self._pool.shutdown(wait=False, cancel_futures=True))

    def _ask(self) -> None:
        text = self.edit.text().strip()
        if len(text) < 2:
            return
        self._pool.submit(self._work, text)

    def _work(self, text: str) -> None:  # worker thread
        try:
            found = list(self._suggest(text))[: self._limit]
        except Exception:  # noqa: BLE001 - a failed suggestion shows nothing; typing goes on
            found = []
        self.answered.emit(text, found)

    def _show(self, text: str, found: list) -> None:
        if text != self.edit.text().strip():
            return  # the user typed on: a newer answer is coming
        self._candidates = {f"{c.label}  {c.grid or ''}".strip(): c for c in found}
        self.model.setStringList(list(self._candidates))
        if self._candidates and self.edit.hasFocus():
            self.completer.complete()

    def _activated(self, entry: str) -> None:
        chosen = self._candidates.get(entry)
        if chosen is not None:
            self.edit.setText(chosen.label)
            self.picked.emit(chosen.label, float(chosen.x), float(chosen.y))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
