"""Start and stop the one QgsApplication of the process, with a private QGIS profile.

GridHall never reads or writes the user's own QGIS profile (~/.local/share/QGIS): QGIS gets
a profile folder of its own, either the one passed in or a temporary folder removed on stop.
Call ``start_qgis`` before any other QApplication is created; it is idempotent.
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

# qgis.utils (never imported by GridHall) would replace builtins.__import__ without this.
os.environ.setdefault("QGIS_NO_OVERRIDE_IMPORT", "1")

from qgis.core import QgsApplication, QgsProviderRegistry  # noqa: E402
from qgis.PyQt.QtCore import QCoreApplication  # noqa: E402

#: Debian installs QGIS under /usr (libraries in /usr/lib/qgis, resources in /usr/share/qgis).
DEFAULT_PREFIX = "/usr"

_app: QgsApplication | None = None
_temp_profile: str | None = None
_initialised = False



def headless_display() -> None:
    """No display (a server, a cron job, ssh): Qt's offscreen platform and a private runtime
    directory, set before QGIS starts (without them Qt aborts the process, exit 134)."""
    if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = os.path.join(tempfile.gettempdir(), f"gridhall-runtime-{os.getuid()}")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = runtime

def start_qgis(argv: list[str] | None = None, *, gui: bool = True,
               profile_dir: str | os.PathLike | None = None,
               prefix: str | None = None) -> QgsApplication:
    """Create (once) the QgsApplication with a private profile and initialise QGIS."""
    global _app, _temp_profile, _initialised
    if _app is not None:
        return _app
    existing = QCoreApplication.instance()
    if existing is not None and not isinstance(existing, QgsApplication):
        raise RuntimeError(
            "已有一个非 QGIS 的 QApplication 在运行：请在创建任何 QApplication 之前调用 start_qgis()。"
            " (A plain QApplication already exists; call start_qgis() first.)")
    if profile_dir is None:
        _temp_profile = tempfile.mkdtemp(prefix="gridhall-qgis-")
        atexit.register(shutil.rmtree, _temp_profile, True)  # also when stop_qgis is skipped
        profile = _temp_profile
    else:
        profile = str(Path(profile_dir))
        Path(profile).mkdir(parents=True, exist_ok=True)
    # QGIS also honours this variable in child code paths that read it directly.
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = profile
    prefix = prefix or os.environ.get("QGIS_PREFIX_PATH") or DEFAULT_PREFIX
    QgsApplication.setPrefixPath(prefix, True)
    if isinstance(existing, QgsApplication):
        app = existing  # whoever created it ran initQgis (running it twice re-registers providers)
    else:
        # QgsApplication's sip binding takes argv as bytes (it is a C char**).
        args = [a if isinstance(a, bytes) else os.fsencode(a) for a in (argv or sys.argv[:1] or ["gridhall"])]
        app = QgsApplication(args, gui, profile)
        app.initQgis()
        _initialised = True
    missing = {"spatialite", "memory"} - set(QgsProviderRegistry.instance().providerList())
    if missing:
        raise RuntimeError(
            f"QGIS 数据提供程序缺失：{', '.join(sorted(missing))}。请安装 Debian 软件包 qgis-providers"
            f"（前缀 {prefix}）。")
    _app = app
    return app


def qgis_app() -> QgsApplication | None:
    """The QgsApplication started by ``start_qgis``, or None."""
    return _app


def profile_path() -> str | None:
    """The private QGIS profile folder in use, or None before ``start_qgis``."""
    return os.environ.get("QGIS_CUSTOM_CONFIG_PATH") if _app is not None else None


def discard_temp_profile() -> None:
    """Remove the temporary QGIS profile now (a process ending without ``stop_qgis`` or atexit)."""
    global _temp_profile
    if _temp_profile:
        shutil.rmtree(_temp_profile, ignore_errors=True)
        _temp_profile = None


def stop_qgis() -> None:
    """Tear QGIS down (exitQgis) and remove the temporary profile; safe to call twice.

    Every layer must be gone first (``MapView.teardown``): a layer deleted after exitQgis
    crashes the process. Test sessions therefore simply end without calling this.
    """
    global _app, _temp_profile, _initialised
    if _app is None:
        return
    if _initialised:
        # Layers still waiting for the collector would be deleted after their providers.
        gc.collect()
        QgsApplication.exitQgis()
        _initialised = False
    _app = None
    if _temp_profile:
        shutil.rmtree(_temp_profile, ignore_errors=True)
        _temp_profile = None
