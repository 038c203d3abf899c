"""Stand-alone demo of the hall UI on sample data: ``python -m app.ui.demo [--lang en] [--screenshot P]``.

Also shows, in miniature, how the composition root wires state, source, docks and plugins.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from qtpy.QtCore import QSettings, Qt
from qtpy.QtWidgets import QApplication, QLabel

from app.domain.calendar import WorkCalendar
from app.domain.clock import FixedClock
from app.ui.builtin import builtin_docks, register_builtin_docks
from app.ui.controller import QueueController
from app.ui.i18n import Catalogue
from app.ui.main_window import MainWindow
from app.ui.queue_state import QueueState
from app.ui.sample import MemoryCaseSource, sample_cases, sample_events
from app.ui.style import apply_theme
from app.ui.tasks import TaskRunner

DEMO_NOW = datetime(2026, 11, 20, 10, 30)


def build(catalogue: Catalogue, settings: QSettings, clock: FixedClock, with_plugins: bool = True):
    """The demo window and its parts, as the real composition root would assemble them."""
    cases = sample_cases(clock.now())
    source = MemoryCaseSource(cases, {c.id: sample_events(c) for c in cases})
    state = QueueState(WorkCalendar())
    runner = TaskRunner()
    controller = QueueController(state, source, runner, clock)
    window = MainWindow(settings, catalogue, capabilities=("cases",))
    placeholder = QLabel("地图区域（QGIS 地图画布）", objectName="mapPlaceholder")
    placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
    placeholder.setStyleSheet("background:#dfe7ee; color:#5b6b7c; font-size:18pt;")
    window.set_central(placeholder)
    window.set_backend("SpatiaLite data/demo/district.sqlite")
    window.set_map_scale(5000)
    window.set_cursor_position(40_501_512.3, 3_551_833.9)
    window.bind_queue(state)
    register_builtin_docks(window.dock_registry, builtin_docks(state, source, runner, catalogue))
    window.commands["refresh"] = controller.refresh
    manager = None
    if with_plugins:
        from app.plugin.api import AppServices
        from app.plugin.loader import PluginManager

        services = AppServices(window.dock_registry, window.action_registry, state, clock, catalogue)
        manager = PluginManager(Path(__file__).resolve().parents[2] / "plugins", "plugins", services)
        manager.start()
        window.set_plugin_report(manager.report)
    return window, state, controller, runner, manager


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", default="zh_CN", choices=("zh_CN", "en"))
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    settings_dir = tempfile.mkdtemp(prefix="gridhall-demo-")
    settings = QSettings(str(Path(settings_dir) / "demo.ini"), QSettings.Format.IniFormat)
    clock = FixedClock(DEMO_NOW)
    window, state, controller, runner, _manager = build(Catalogue(args.lang), settings, clock)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.resizeDocks([window.dock_registry.dock("gridhall.queue")], [int(height * 0.45)],
                       Qt.Orientation.Vertical)
    right = [window.dock_registry.dock(i) for i in ("gridhall.detail", "duban_today.dock")
             if i in window.dock_registry.ids()]
    window.resizeDocks(right[:1], [int(width * 0.24)], Qt.Orientation.Horizontal)
    window.resizeDocks(right, [int(height * 0.62), int(height * 0.3)][: len(right)], Qt.Orientation.Vertical)
    controller.start()
    window.show()
    if args.screenshot:
        runner.wait()
        app.processEvents()  # deliver the queued load results before grabbing (demo only)
        state.select(state.visible_ids[0])
        runner.wait()
        app.processEvents()
        controller.tick_now()
        app.processEvents()
        window.grab().save(str(args.screenshot))
        controller.stop()
        return 0
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
