"""A plugin's case commands through its manifest's Qt-free ``commands`` hook: declared once, offered by
the command line (``app.plugin.hooks``) and by the GUI (the PluginManager calls the same hook)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from pytestqt.qt_compat import qt_api

os.environ.setdefault("QT_API", getattr(qt_api, "pytest_qt_api", None) or "pyqt5")

import plugins  # noqa: E402
from app.commands import CommandRegistry, register_builtins  # noqa: E402
from app.domain.definitions import Role  # noqa: E402
from app.i18n import Catalogue  # noqa: E402
from app.plugin.hooks import HookError, load_plugin_commands, register_commands, resolve_hook  # noqa: E402
from app.plugin.manifest import ManifestError, parse_manifest  # noqa: E402
from plugins.duban_today.commands import NOTE_ID, NOTE_VERB  # noqa: E402

pytestmark = pytest.mark.neutral

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = 'id = "{id}"\nname = "{id}"\nversion = "1.0"\napi_version = "1.0"\n'

HOOK = """
from app.commands import Command, Field, FieldKind
from app.domain.definitions import Role

def _command(id, verb):
    return Command(id, "备注", lambda c, a, i, v, values: c.urge(a, i, v, note=values["text"]),
                   roles=frozenset({Role.LEADER}), verb=verb,
                   fields=(Field("text", FieldKind.LINE, "内容", required=True),))

def register(registry):
    return [registry.register(_command("{id}.note", "{id}-note"))]

def forgetful(registry):  # registers without returning the handle
    registry.register(_command("{id}.quiet", "{id}-quiet"))

def half(registry):  # registers one, then fails: the one must go again
    registry.register(_command("{id}.half", "{id}-half"))
    raise RuntimeError("the second command's table is missing")
"""


@pytest.fixture
def hook_dir(tmp_path, monkeypatch):
    """An importable package of plugins whose hooks work, fail, point elsewhere or have a bad manifest."""
    package = f"gh_hook_plugins_{uuid.uuid4().hex[:8]}"
    root = tmp_path / package
    root.mkdir()
    (root / "__init__.py").write_text("")
    specs = {
        "good": "commands:register",
        "quiet": "commands:forgetful",
        "half": "commands:half",
        "elsewhere": None,  # filled below: a module outside its own package
        "missing": "commands:no_such_function",
    }
    for name, spec in specs.items():
        folder = root / name
        folder.mkdir()
        hook = f"{package}.{name}.{spec}" if spec else "os.path:join"
        (folder / "MANIFEST.toml").write_text(MANIFEST.format(id=name) + f'commands = "{hook}"\n', encoding="utf-8")
        (folder / "__init__.py").write_text("", encoding="utf-8")
        (folder / "commands.py").write_text(textwrap.dedent(HOOK.replace("{id}", name)), encoding="utf-8")
    broken = root / "broken"
    broken.mkdir()
    (broken / "MANIFEST.toml").write_text('id = "broken"\n', encoding="utf-8")
    plain = root / "plain"  # no commands hook: nothing to do for the command line
    plain.mkdir()
    (plain / "MANIFEST.toml").write_text(MANIFEST.format(id="plain"), encoding="utf-8")
    (plain / "__init__.py").write_text("def enable(api):\n    pass\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root, package
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def builtins_registry() -> CommandRegistry:
    registry = CommandRegistry()
    register_builtins(registry)
    return registry


# ---- the manifest key ---------------------------------------------------------------------

def test_the_manifest_names_its_commands_hook():
    text = MANIFEST.format(id="demo") + 'commands = "plugins.demo.commands:register"\n'
    assert parse_manifest(text, "demo").commands == "plugins.demo.commands:register"
    assert parse_manifest(MANIFEST.format(id="demo"), "demo").commands == ""
    with pytest.raises(ManifestError, match="module.path:function"):
        parse_manifest(MANIFEST.format(id="demo") + 'commands = "plugins/demo/commands.py"\n', "demo")


# ---- the hook, Qt-free --------------------------------------------------------------------

def test_hooks_register_and_a_failing_plugin_is_skipped_with_one_line(hook_dir):
    root, package = hook_dir
    registry = builtins_registry()
    before = len(registry)
    done = load_plugin_commands(root, package, registry)
    assert sorted(done.handles) == ["good", "quiet"]
    assert sorted(done.commands) == ["good.note", "quiet.quiet"]  # a forgotten handle is covered too
    assert "half.half" not in registry  # all or none: what a failing hook registered is gone
    reasons = dict(done.failures)
    assert sorted(reasons) == ["broken", "elsewhere", "half", "missing"]
    assert reasons["half"] == "RuntimeError: the second command's table is missing"
    assert "own package" in reasons["elsewhere"] and "no_such_function" in reasons["missing"]
    assert "missing required key" in reasons["broken"]
    assert all("\n" not in why for why in reasons.values())
    done.remove()
    assert len(registry) == before


def test_skip_leaves_a_plugin_out(hook_dir):
    root, package = hook_dir
    done = load_plugin_commands(root, package, builtins_registry(), skip={"good", "quiet"})
    assert done.handles == {}


def test_a_hook_must_return_handles(hook_dir):
    registry = builtins_registry()
    with pytest.raises(HookError, match="registration handles"):
        register_commands(lambda r: "done", registry)
    with pytest.raises(HookError, match="own package"):
        resolve_hook("app.commands:default_registry", "plugins.demo")


def test_the_command_line_imports_no_qt_for_the_plugins_commands():
    """The duban_today hook and the whole parser of ``gridhall case`` load without Qt (a fresh process)."""
    code = ("import sys\nfrom app.cli import build_parser\n"
            "p = build_parser(['case', 'list'])\n"
            "p.parse_args(['case', 'duban-note', 'S1', '--as', 'boss', '--text', 'x'])\n"
            "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('qtpy', 'PyQt5', 'PySide6', 'qgis'))\n"
            "assert not qt, qt\nprint('ok')\n")
    env = {k: v for k, v in os.environ.items() if k != "QT_API"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# ---- the GUI: the same hook, through the PluginManager -------------------------------------

def test_the_plugins_command_is_in_the_gui_while_the_plugin_is_enabled(qtbot, tmp_path, desk, login_as, queue,
                                                                         runner):
    from qtpy.QtCore import QSettings

    from app.plugin.api import AppServices
    from app.plugin.loader import PluginManager
    from app.ui.case_actions import CaseActions
    from app.ui.main_window import MainWindow

    desk.commands = builtins_registry()  # the Core's registry, private to this test
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), capabilities=("cases",))
    qtbot.addWidget(window)
    actions = CaseActions(window.action_registry, queue, runner, desk, login_as(Role.LEADER), window, Catalogue())
    services = AppServices(window.dock_registry, window.action_registry, queue, desk.clock, Catalogue(),
                           commands=desk.commands)
    manager = PluginManager(Path(plugins.__file__).parent, "plugins", services)
    try:
        assert NOTE_ID not in window.action_registry.ids()
        manager.start()
        assert manager.record("duban_today").state.value == "enabled", manager.record("duban_today").error
        assert NOTE_ID in desk.commands and desk.commands.by_verb(NOTE_VERB) is not None
        assert NOTE_ID in window.action_registry.ids()  # 督办备注 in the 办理 menu for a leader
        assert "duban_today.dock" in window.dock_registry.ids()
        manager.disable("duban_today")
        assert NOTE_ID not in desk.commands
        assert NOTE_ID not in window.action_registry.ids()
        manager.enable("duban_today")
        assert NOTE_ID in window.action_registry.ids()
    finally:
        manager.shutdown()
        actions.teardown()
        runner.wait()
    assert NOTE_ID not in window.action_registry.ids()


def test_a_commands_only_plugin_needs_no_enable(hook_dir, qtbot, tmp_path):
    from qtpy.QtCore import QSettings

    from app.domain.calendar import WorkCalendar
    from app.domain.clock import FixedClock
    from app.plugin.api import AppServices
    from app.plugin.loader import PluginManager
    from app.ui.main_window import MainWindow
    from app.views.queue_state import QueueState

    root, package = hook_dir
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    registry = builtins_registry()
    services = AppServices(window.dock_registry, window.action_registry, QueueState(WorkCalendar()),
                           FixedClock(None), Catalogue(), commands=registry)
    manager = PluginManager(root, package, services)
    report = {s.id: s for s in manager.start()}
    assert report["good"].state == "enabled" and "good.note" in registry
    assert report["half"].state == "failed" and "half.half" not in registry
    assert report["plain"].state == "enabled"
    manager.shutdown()
    assert "good.note" not in registry and "quiet.quiet" not in registry
