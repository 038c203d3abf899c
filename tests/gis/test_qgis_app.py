"""The QgsApplication: one per process, a private profile, nothing global patched."""

from __future__ import annotations

import builtins
import os
import tempfile

import pytest

pytestmark = pytest.mark.qgis


def test_start_is_idempotent_and_uses_a_private_profile(qgis_app):
    from qgis.core import QgsApplication

    from app.gis.qgis_app import profile_path, start_qgis

    assert start_qgis() is qgis_app
    profile = profile_path()
    assert profile and os.path.realpath(profile).startswith(os.path.realpath(tempfile.gettempdir()))
    assert os.path.realpath(QgsApplication.qgisSettingsDirPath()).startswith(os.path.realpath(profile))
    assert ".local/share/QGIS" not in QgsApplication.qgisSettingsDirPath()


def test_qgis_does_not_replace_the_import_machinery(qgis_app):
    import sys

    assert "qgis.utils" not in sys.modules
    assert builtins.__import__.__module__ in (None, "builtins")
    assert not hasattr(builtins, "unicode")


def test_the_store_providers_are_there(qgis_app):
    from qgis.core import QgsProviderRegistry

    assert {"spatialite", "postgres", "memory"} <= set(QgsProviderRegistry.instance().providerList())
