"""TaskRunner: results arrive on the GUI thread; superseded answers are dropped."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.neutral


def test_result_is_delivered_on_the_gui_thread(qtbot, runner):
    got = []
    runner.run_in_thread(lambda: threading.get_ident(),
                         lambda worker: got.append((worker, threading.get_ident())))
    qtbot.waitUntil(lambda: bool(got))
    worker, receiver = got[0]
    assert receiver == threading.main_thread().ident
    assert worker != receiver


def test_errors_go_to_on_error(qtbot, runner):
    errors = []
    runner.run_in_thread(lambda: 1 / 0, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ZeroDivisionError)


def test_a_newer_request_under_the_same_key_wins(qtbot, runner):
    gate = threading.Event()
    got = []

    def slow():
        gate.wait(5)
        return "old"

    runner.run_in_thread(slow, got.append, key="detail")
    runner.run_in_thread(lambda: "new", got.append, key="detail")
    qtbot.waitUntil(lambda: got == ["new"])
    gate.set()
    runner.wait()
    qtbot.waitUntil(lambda: not runner.is_busy())
    assert got == ["new"]


def test_cancel_drops_the_answer(qtbot, runner):
    got = []
    gate = threading.Event()
    runner.run_in_thread(lambda: gate.wait(5), got.append, key="queue")
    runner.cancel("queue")
    gate.set()
    runner.wait()
    qtbot.waitUntil(lambda: not runner.is_busy())
    assert got == []
