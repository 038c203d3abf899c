"""Work lists coalesce bursts of changes: one reload at once, one more when the burst ends."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.neutral


def test_a_burst_is_one_call_at_once_and_one_trailing_call(qtbot):
    from app.ui.work.throttle import Throttle

    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), interval_ms=150)
    throttle()
    assert calls == [1]  # the first change shows at once
    for _ in range(49):
        throttle()
    assert calls == [1] and throttle.pending()
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=2000)
    qtbot.wait(400)
    assert len(calls) == 2  # no more calls once the burst is over
    throttle()
    assert len(calls) == 3


def test_flush_and_cancel(qtbot):
    from app.ui.work.throttle import Throttle

    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), interval_ms=10000)
    throttle()
    throttle()
    throttle.flush()
    assert calls == [1, 1] and not throttle.pending()
    throttle()
    throttle.cancel()
    qtbot.wait(50)
    assert calls == [1, 1]
