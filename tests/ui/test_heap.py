"""settle_heap: what exists when the window is built goes into the collector's permanent generation."""

from __future__ import annotations

import gc

import pytest

pytestmark = pytest.mark.neutral


def test_settle_heap_freezes_what_exists_and_later_garbage_is_still_collected():
    from app.ui.heap import settle_heap

    try:
        frozen = settle_heap()
        assert frozen == gc.get_freeze_count() > 1000  # the interpreter's and the tests' objects
        made = []
        made.append(made)  # a cycle made after the freeze
        del made
        assert gc.collect() >= 1  # found: only the start-up's objects are left alone
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
