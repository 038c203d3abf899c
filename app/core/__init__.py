"""The one headless composition root: store, clock, calendar, limits, taxonomy, services, commands.

The CLI, benchmarks, reports and servers call :func:`open_core` / :func:`build_core`; the GUI
root (``app/bootstrap.py``) builds its window on the same :class:`Core`.
"""

from app.core.root import Core, build_core, default_workstation, open_core

__all__ = ["Core", "build_core", "default_workstation", "open_core"]
