"""Handles returned by registries so whoever registered something can remove it again."""

from __future__ import annotations

from collections.abc import Callable


class Registration:
    """Undoes one registration; ``remove()`` is idempotent."""

    def __init__(self, kind: str, id: str, undo: Callable[[], None]) -> None:
        self.kind = kind
        self.id = id
        self._undo: Callable[[], None] | None = undo

    @property
    def active(self) -> bool:
        return self._undo is not None

    def remove(self) -> None:
        """Undo the registration (a second call does nothing)."""
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    def __repr__(self) -> str:
        return f"<Registration {self.kind} {self.id!r}{'' if self.active else ' (removed)'}>"
