"""Address suggestions on the map's search box: fed off the GUI thread, stale answers dropped."""

from __future__ import annotations

import threading

import pytest
from qtpy.QtWidgets import QLineEdit

from app.services.geocode import GeocodeIndex
from app.ui.address_search import AddressSuggest
from bench.world import build_world


@pytest.fixture
def index(tmp_path):
    from app.store.commands import init_db

    store = init_db(tmp_path / "s.sqlite")
    build_world(store)
    yield GeocodeIndex.from_store(store)
    store.dispose()


def test_suggestions_come_from_a_worker_thread_and_a_pick_gives_the_point(qtbot, index):
    edit = QLineEdit()
    qtbot.addWidget(edit)
    threads = []

    def suggest(text):
        threads.append(threading.current_thread())
        return index.geocode(text)

    box = AddressSuggest(edit, suggest)
    edit.setFocus()
    edit.setText("人民10")  # QTest cannot type Chinese: what typing does, a text and textEdited
    edit.textEdited.emit("人民10")
    qtbot.waitUntil(lambda: box.model.rowCount() > 0, timeout=5000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    entry = box.model.stringList()[0]
    assert entry.startswith("人民路10号")
    with qtbot.waitSignal(box.picked, timeout=2000) as picked:
        box.completer.activated[str].emit(entry)
    label, x, y = picked.args
    assert label == "人民路10号" and edit.text() == "人民路10号"
    best = index.geocode("人民路10号")[0]
    assert (x, y) == pytest.approx((best.x, best.y))
    box.shutdown()


def test_an_answer_to_older_text_is_dropped_and_a_failing_geocoder_shows_nothing(qtbot, index):
    edit = QLineEdit()
    qtbot.addWidget(edit)
    box = AddressSuggest(edit, lambda text: 1 / 0)
    edit.setText("人民路")
    box._show("人", index.geocode("人民路"))  # an answer to what the box held before
    assert box.model.rowCount() == 0
    with qtbot.waitSignal(box.answered, timeout=3000) as answered:
        box._ask()
    assert answered.args == ["人民路", []] and box.model.rowCount() == 0
    box.shutdown()
