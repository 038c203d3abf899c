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


def test_a_worker_at_the_loop_gate_goes_on_once_the_event_loop_came_round(qtbot):
    """LoopGate: the worker waits until the GUI thread has handled what was posted before it."""
    from qtpy.QtCore import QTimer

    from app.ui.tasks import LoopGate

    gate = LoopGate()
    assert gate.wait() is True  # on the GUI thread: at once
    order: list[str] = []
    QTimer.singleShot(0, lambda: order.append("gui"))  # posted before the worker asks

    def work():
        order.append("worker asks")
        answered = gate.wait(5.0)
        order.append(f"worker goes on {answered}")

    thread = threading.Thread(target=work)
    thread.start()
    qtbot.waitUntil(lambda: len(order) == 3, timeout=5000)
    thread.join(5)
    assert order[-1] == "worker goes on True"
    assert order.index("gui") < order.index("worker goes on True")


def test_a_gate_the_gui_does_not_answer_stops_holding_the_worker_up(qtbot):
    """A GUI thread that waits for the worker itself (a teardown) answers nothing: the worker waits
    once, for the timeout, and then passes the gate at once until the GUI answers again."""
    import time

    from app.ui.tasks import LoopGate

    gate = LoopGate()
    results: list[tuple[bool, float]] = []

    def work():
        for _ in range(3):
            t0 = time.perf_counter()
            results.append((gate.wait(0.3), time.perf_counter() - t0))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)  # the GUI thread blocks here: no event loop runs
    assert [ok for ok, _s in results] == [False, True, True]
    assert results[0][1] >= 0.25 and results[1][1] < 0.1 and results[2][1] < 0.1
    qtbot.waitUntil(lambda: not gate._stuck, timeout=3000)  # the late answer arrives: pacing again
    done: list[bool] = []
    thread = threading.Thread(target=lambda: done.append(gate.wait(5.0)))
    thread.start()
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    thread.join(5)
    assert done == [True]


def test_paced_reads_wait_at_the_gate_and_a_closed_gate_holds_nothing_up(qtbot):
    """PacedReads: each case read of a worker waits for the GUI's loop; everything else is the
    source's own. After close() (a teardown waiting for the worker) a read goes on at once."""
    import time

    from app.ui.tasks import LoopGate, PacedReads

    class Source:
        def case(self, case_id):
            return ("row", case_id)

        def open_cases(self):
            return ["all"]

    gate = LoopGate()
    paced = PacedReads(Source(), gate)
    assert paced.case(7) == ("row", 7)  # on the GUI thread: no wait
    assert paced.open_cases() == ["all"]
    got: list = []
    thread = threading.Thread(target=lambda: got.append(paced.case(8)))
    thread.start()
    qtbot.waitUntil(lambda: bool(got), timeout=5000)  # answered once the loop came round
    thread.join(5)
    assert got == [("row", 8)]
    gate.close()
    t0 = time.perf_counter()
    thread = threading.Thread(target=lambda: got.append(paced.case(9)))
    thread.start()
    thread.join(5)  # the GUI thread runs no loop here: a closed gate must not wait for it
    assert got[-1] == ("row", 9) and time.perf_counter() - t0 < 0.5
