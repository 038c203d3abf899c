"""Build a main window with the desk installed for one actor (no QGIS: the pick is a stub callback)."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def desk_window(qtbot, tmp_path, state, runner, desk, actor, pick=None):
    """A MainWindow with ``install_work`` for ``actor``; yields (window, Desk); tears down after."""
    from qtpy.QtCore import QSettings

    from app.ui.main_window import MainWindow
    from app.ui.work.install import install_work

    settings = QSettings(str(tmp_path / f"{getattr(actor, 'username', 'demo')}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, capabilities=("cases",))
    qtbot.addWidget(window)
    teardown = install_work(window, state, runner, desk, actor, pick=pick)
    try:
        yield window, teardown.desk
    finally:
        runner.wait()
        teardown()
        window.dock_registry.unregister_all()


def wait_idle(qtbot, runner, timeout=15000):
    """Wait until every submitted worker call has been delivered on the GUI thread."""
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=timeout)


def trigger(window, action) -> None:
    """Trigger the registered QAction of a case action (as its menu entry or shortcut would)."""
    from app.commands import command_id

    window.action_registry.action(command_id(action)).trigger()
