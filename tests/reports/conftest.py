"""A freshly generated district demo store (once per session, in a temporary folder) for the
bulletin's tests; data/demo/district.sqlite is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _last_month() -> str:
    from datetime import date

    from app.services.bulletin import Month

    today = date.today()
    return str(Month(today.year, today.month).previous())


MONTH = _last_month()  # the demo's last complete month (the demo's clock is the machine's)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("bulletin") / "district.sqlite"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, "-m", "app", "demo", "--db", str(path), "--format", "json"], cwd=ROOT,
                   env=env, check=True, capture_output=True, timeout=600)
    return str(path)


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> str:
    """A private copy to edit."""
    target = tmp_path / "copy.sqlite"
    shutil.copyfile(demo_db, target)
    return str(target)
