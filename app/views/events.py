"""A tiny Qt-free signal mechanism so pure-Python models can notify their views."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Signal:
    """A list of callbacks called in connection order with the emitted arguments."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[[], None]:
        """Connect ``callback``; returns a function that disconnects it."""
        self._callbacks.append(callback)
        return lambda: self.disconnect(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Disconnect ``callback``; disconnecting twice is harmless (teardown may race)."""
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every callback; one failing view must not starve the others."""
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception:
                log.exception("callback %r of signal %s failed", callback, self.name)

    def __len__(self) -> int:
        return len(self._callbacks)


class EventGroup:
    """Named signals, accessed as attributes: ``events.tick.connect(...)``.

    A subclass declares its signals as annotations (``tick: Signal``), so the type checker
    knows them; each gets its own :class:`Signal`. Extra ``names`` add undeclared ones.
    """

    def __init__(self, *names: str) -> None:
        declared = [name for klass in reversed(type(self).__mro__) for name in vars(klass).get("__annotations__", {})]
        for name in dict.fromkeys([*declared, *names]):
            setattr(self, name, Signal(name))


class Subscriptions:
    """The connections a view holds, undone together by :meth:`close` (its teardown)."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def connect(self, signal: Signal, callback: Callable[..., Any]) -> Callable[[], None]:
        """Connect ``callback`` to ``signal`` (anything whose ``connect`` returns a disconnector)."""
        undo = signal.connect(callback)
        self._undo.append(undo)
        return undo

    def add(self, undo: Callable[[], None]) -> None:
        """Also call ``undo`` on close (e.g. what ``bus.subscribe`` returned)."""
        self._undo.append(undo)

    def close(self) -> None:
        """Disconnect everything (newest first); closing twice is harmless."""
        undo, self._undo = self._undo, []
        for fn in reversed(undo):
            try:
                fn()
            except Exception:  # one failing step must not leave the others connected
                log.exception("disconnecting %r failed", fn)

    def __len__(self) -> int:
        return len(self._undo)
