"""`gridhall import|export|qgis-project` against hostile use (issue 15, an independent tester's
findings): a --rejects path that already holds a file (the store itself) and an export onto the store
are one line each and leave the store whole; a missing folder is one line in the user's language;
`gridhall qgis-project` on a machine without a display writes the project (Qt used to abort, exit 134)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from osgeo import ogr
from services.test_base_import import P6, component, count, point, write_layer
from services.world import PASSWORD, build_world

from app.cli import main
from app.services import auth
from app.store.models import Component, UnitGrid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(store, monkeypatch):
    """The tiny district on SpatiaLite with a login per user; (store, --db argument)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    build_world(store, password_hash=auth.hash_password(PASSWORD))
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    yield store, str(store.path)
    auth.configure_hasher()


def _run(capsys, *argv: str):
    code = main([*argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("backend", ["spatialite"])
def test_rejects_onto_the_store_and_export_onto_the_store_are_one_line(db, tmp_path, capsys):
    store, url = db
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002"),
                                            component("32059901002000003", GLBJZT="坏了")], [point(P6)] * 2)
    before = Path(url).stat().st_size
    code, out, err = _run(capsys, "import", "components", str(path), "--on-error", "skip", "--rejects", url,
                          "--db", url, "--as", "admin")
    assert code == 1 and err.count("\n") == 1 and "已存在" in err and "Traceback" not in err
    code, out, err = _run(capsys, "export", "grids", url, "--format", "gpkg", "--db", url, "--lang", "en")
    assert code == 1 and err.count("\n") == 1 and "database file" in err
    assert Path(url).stat().st_size >= before and count(store, Component) == 1 and count(store, UnitGrid) > 0
    code, out, err = _run(capsys, "export", "grids", str(tmp_path / "no" / "g.gpkg"), "--db", url)
    assert code == 1 and err.count("\n") == 1 and "不存在" in err
    code, out, err = _run(capsys, "import", "components", str(path), "--on-error", "skip", "--db", url,
                          "--as", "admin", "--lang", "en")
    assert code == 0 and "1 rows written" in out and (tmp_path / "c_rejects.gpkg").exists()
    ds = ogr.Open(str(tmp_path / "c_rejects.gpkg"))
    assert [f.GetField("REASON") for f in ds.GetLayer(0)][0].startswith("Component status")


@pytest.mark.parametrize("backend", ["spatialite"])
def test_qgis_project_without_a_display(db, tmp_path):
    store, url = db
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_RUNTIME_DIR")
           and not k.startswith(("PG", "GRIDHALL_"))}
    out = tmp_path / "p.qgz"
    done = subprocess.run([sys.executable, "-m", "app", "qgis-project", "--db", url, "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert out.exists() and "Traceback" not in done.stderr


@pytest.mark.parametrize("backend", ["spatialite"])
def test_ctrl_c_after_the_commit_says_the_rows_were_written(db, tmp_path, capsys, monkeypatch):
    """A Ctrl+C that lands after the transaction committed (while the report prints) must not claim
    that nothing was written."""
    import app.cli.base_data as cli

    store, url = db
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002")], [point(P6)])

    def interrupted(report, tr):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_text", interrupted)
    code, out, err = _run(capsys, "import", "components", str(path), "--db", url, "--as", "admin", "--lang", "en")
    assert code == 130 and count(store, Component) == 2
    assert err.count("\n") == 1 and "1 rows written" in err and "nothing" not in err


@pytest.mark.parametrize("backend", ["spatialite"])
def test_the_report_file_is_checked_first_and_never_replaces_the_store(db, tmp_path, capsys):
    store, url = db
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002")], [point(P6)])
    size = Path(url).stat().st_size
    for report in (url, str(path)):
        code, out, err = _run(capsys, "import", "components", str(path), "--report", report, "--db", url,
                              "--as", "admin")
        assert code == 1 and err.count("\n") == 1 and "报告文件" in err, err
    assert Path(url).stat().st_size >= size and count(store, Component) == 1
    code, out, err = _run(capsys, "import", "components", str(path), "--report", str(tmp_path / "no" / "r.json"),
                          "--db", url, "--as", "admin")
    assert code == 1 and err.count("\n") == 1 and count(store, Component) == 1  # refused before the write
    code, out, err = _run(capsys, "import", "components", str(path), "--report", str(tmp_path / "r.json"),
                          "--db", url, "--as", "admin")
    assert code == 0 and count(store, Component) == 2 and (tmp_path / "r.json").exists()
