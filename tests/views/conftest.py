"""The view-model tests share the UI tests' fixtures (fixed clock, calendar, sample rows, binding)."""

from ui.conftest import NOW, calendar, clock, rows, runner  # noqa: F401  (fixtures re-exported)

__all__ = ["NOW"]
