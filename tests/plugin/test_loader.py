"""PluginManager: good plugins load, broken ones are reported and skipped, disable tears down."""

from __future__ import annotations

import os
import sys
import textwrap
import uuid

import pytest
from pytestqt.qt_compat import qt_api

# qtpy must use the binding pytest-qt started (see tests/ui/conftest.py).
os.environ.setdefault("QT_API", getattr(qt_api, "pytest_qt_api", None) or "pyqt5")

from app.domain.calendar import WorkCalendar  # noqa: E402
from app.domain.clock import FixedClock  # noqa: E402
from app.i18n import Catalogue  # noqa: E402
from app.plugin.api import AppServices  # noqa: E402
from app.plugin.loader import PluginManager, PluginState, PluginStateError  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.views.queue_state import QueueState  # noqa: E402

pytestmark = pytest.mark.neutral

MANIFEST = 'id = "{id}"\nname = "{id} 插件"\nversion = "1.0"\napi_version = "1.0"\n'

GOOD = """
from qtpy.QtWidgets import QLabel
from app.ui.actions import ActionSpec
from app.ui.docks import DockSpec

disabled = []

def enable(api):
    api.register_dock(DockSpec("good.dock", "好插件", "right", lambda: QLabel("好")))
    api.register_action(ActionSpec("good.hello", "问好", menu="plugins", callback=lambda: None))
    api.register_map_layer("good.layer", lambda: "layer object")
    api.register_report_section("good.section", "好章节", lambda ctx: "内容")
    api.subscribe_case_events(lambda case_id, action: None)

def disable():
    disabled.append(True)
"""

RAISING = """
from app.ui.actions import ActionSpec

def enable(api):
    api.register_action(ActionSpec("raising.half", "半截", menu="plugins", callback=print))
    raise RuntimeError("cannot reach the weather service")
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A fresh importable package of plugins: good, bad manifest, import error, raising, no enable."""
    package = f"gh_test_plugins_{uuid.uuid4().hex[:8]}"
    root = tmp_path / package
    root.mkdir()
    (root / "__init__.py").write_text("")
    plugins = {
        "good": (MANIFEST.format(id="good"), GOOD),
        "bad_manifest": ('id = "bad_manifest"\nname = "坏"\nversion = "1.0"\n', "def enable(api): pass"),
        "import_error": (MANIFEST.format(id="import_error"), "import no_such_module_here\n"),
        "raising": (MANIFEST.format(id="raising"), RAISING),
        "no_enable": (MANIFEST.format(id="no_enable"), "VALUE = 1\n"),
    }
    for name, (manifest, code) in plugins.items():
        folder = root / name
        folder.mkdir()
        (folder / "MANIFEST.toml").write_text(manifest, encoding="utf-8")
        (folder / "__init__.py").write_text(textwrap.dedent(code), encoding="utf-8")
    (root / "not_a_plugin").mkdir()  # neither manifest nor package: ignored
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root, package
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


@pytest.fixture
def services(qtbot, tmp_path):
    from qtpy.QtCore import QSettings

    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    state = QueueState(WorkCalendar())
    return AppServices(window.dock_registry, window.action_registry, state, FixedClock(None), Catalogue())


def test_broken_plugins_are_reported_and_skipped_while_a_good_one_loads(plugin_dir, services, caplog):
    root, package = plugin_dir
    manager = PluginManager(root, package, services)
    report = {row.id: row for row in manager.start()}
    assert set(report) == {"good", "bad_manifest", "import_error", "raising", "no_enable"}
    assert report["good"].state == "enabled" and report["good"].error == ""
    assert report["bad_manifest"].state == "failed"
    assert "missing required key(s) api_version" in report["bad_manifest"].error
    assert report["import_error"].state == "failed"
    assert "no_such_module_here" in report["import_error"].error
    assert report["raising"].state == "failed"
    assert "RuntimeError: cannot reach the weather service" in report["raising"].error
    assert "has no enable(api)" in report["no_enable"].error
    assert "good.dock" in services.docks.ids()
    assert "raising.half" not in services.actions.ids()  # its partial registration was undone
    assert f"{package}.import_error" not in sys.modules
    assert "failed and is skipped" in caplog.text


def test_disable_tears_down_everything_and_enable_again(plugin_dir, services):
    root, package = plugin_dir
    manager = PluginManager(root, package, services)
    manager.start()
    module = sys.modules[f"{package}.good"]
    assert len(services.queue.events.case_event) == 1
    manager.disable("good")
    assert module.disabled == [True]
    assert "good.dock" not in services.docks.ids()
    assert "good.hello" not in services.actions.ids()
    assert "good.layer" not in services.map_layers
    assert "good.section" not in services.report_sections
    assert len(services.queue.events.case_event) == 0
    assert manager.record("good").state is PluginState.DISABLED
    assert manager.enable("good")
    assert "good.dock" in services.docks.ids()
    manager.shutdown()
    assert services.docks.ids() == []


def test_illegal_transitions_are_refused(plugin_dir, services):
    root, package = plugin_dir
    manager = PluginManager(root, package, services)
    manager.start(skip=["good"])
    assert manager.record("good").state is PluginState.LOADED
    with pytest.raises(PluginStateError, match="not enabled"):
        manager.disable("good")
    with pytest.raises(PluginStateError, match="only a loaded or disabled"):
        manager.enable("raising")


def test_a_missing_plugin_directory_is_not_an_error(tmp_path, services):
    assert PluginManager(tmp_path / "nowhere", "nowhere", services).start() == []
