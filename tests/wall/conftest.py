"""Wall fixtures: the tiny demo city (real SpatiaLite, demo logins) and QGIS offscreen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QGIS_NO_OVERRIDE_IMPORT", "1")
os.environ.setdefault("PYTEST_QT_API", "pyqt5")
os.environ.setdefault("QT_API", "pyqt5")

from ui.forms.world import desk, desk_store, desk_template, login_as  # noqa: E402, F401
