"""`gridhall qgis-project` (issue 15 item 5): a separate PyQGIS process opens the written .qgz and finds
every layer valid with the store's feature counts, on SpatiaLite and on PostGIS (no password in the
project: libpq's password file, or a service file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from services.seed import seed_case
from services.world import T0, build_world
from sqlalchemy import text

from app.cli import main
from app.domain.clock import FixedClock
from app.domain.definitions import OPEN_STATES, CaseState
from app.gis.layers import LAYER_NAMES
from app.i18n import Catalogue
from app.services.base_maintenance import BaseMaintenance

PROBE = Path(__file__).with_name("qgis_project_probe.py")
NAMES = {name: table for table, zh in LAYER_NAMES.items() for name in (zh, Catalogue("en").tr(zh))}


def _store_counts(store) -> dict[str, int]:
    states = ", ".join(f"'{s.value}'" for s in OPEN_STATES)
    sql = {"cases": f"SELECT count(*) FROM cases WHERE state IN ({states})",
           "components": "SELECT count(*) FROM components", "admin_areas": "SELECT count(*) FROM admin_areas",
           "unit_grids": "SELECT count(*) FROM unit_grids WHERE retired_on IS NULL",
           "roads": "SELECT count(*) FROM roads"}
    with store.session() as s:
        return {k: int(s.execute(text(q)).scalar_one()) for k, q in sql.items()}


def _probe(path: Path, env: dict[str, str] | None = None) -> dict:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "GRIDHALL_"))}
    run_env.update(env or {})
    done = subprocess.run([sys.executable, str(PROBE), str(path)], capture_output=True, text=True, timeout=120,
                          env=run_env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def city(store, qgis_app):
    world = build_world(store)
    seed_case(store, world, CaseState.HANDLING, at=T0)
    seed_case(store, world, CaseState.FILED, at=T0)
    seed_case(store, world, CaseState.CLOSED, at=T0)
    bm = BaseMaintenance(store, FixedClock(T0))
    bm.split_grid(world.actors["admin"], "320599001001006", [(557140, 3464380), (557140, 3464520)], reason="拆分")
    return store


def _check(result: dict, counts: dict[str, int]) -> None:
    assert result["read"] and result["crs"] == "EPSG:4549"
    assert [NAMES[layer["name"]] for layer in result["layers"]] == ["cases", "components", "admin_areas",
                                                                     "unit_grids", "roads"]
    for layer in result["layers"]:
        assert layer["valid"], layer
        assert not layer["password"], layer
        assert layer["count"] == counts[NAMES[layer["name"]]], layer
    by = {NAMES[layer["name"]]: layer for layer in result["layers"]}
    assert by["roads"]["labels"] and by["admin_areas"]["labels"]  # the client's labels come along
    assert set(by["cases"]["lights"]) <= {"green", "yellow", "red", "none"} and by["cases"]["lights"]


@pytest.mark.parametrize("backend", ["spatialite"])
def test_spatialite_project_opens_in_another_process(city, tmp_path, capsys, backend):
    out = tmp_path / "分析.qgz"
    assert main(["qgis-project", "--db", str(city.path), "--out", str(out)]) == 0
    assert zipfile.is_zipfile(out) and not list(tmp_path.glob("*.part*"))
    counts = _store_counts(city)
    assert counts["unit_grids"] == 17 and counts["cases"] == 2  # the split grid is retired, the closed case out
    _check(_probe(out), counts)
    assert "单元网格: 17" in capsys.readouterr().out


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"])
def test_postgis_project_holds_no_password(city, tmp_path, backend, monkeypatch):
    url = city.url
    out = tmp_path / "analyst.qgz"
    assert main(["qgis-project", "--db", url.render_as_string(hide_password=False), "--out", str(out),
                 "--lang", "en"]) == 0
    with zipfile.ZipFile(out) as z:
        body = b"".join(z.read(n) for n in z.namelist() if n.endswith(".qgs"))
    assert str(url.password).encode() not in body and b"password=" not in body
    counts = _store_counts(city)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{url.host}:{url.port}:{url.database}:{url.username}:{url.password}\n")
    pgpass.chmod(0o600)
    result = _probe(out, {"PGPASSFILE": str(pgpass)})
    assert [layer["name"] for layer in result["layers"]][0] == "Cases"
    _check(result, counts)
    # the same through a libpq service: the project names only the service
    service_file = tmp_path / "pg_service.conf"
    service_file.write_text(f"[gridhall]\nhost={url.host}\nport={url.port}\ndbname={url.database}\n"
                            f"user={url.username}\n")
    out2 = tmp_path / "service.qgz"
    monkeypatch.setenv("PGSERVICEFILE", str(service_file))
    assert main(["qgis-project", "--db", url.render_as_string(hide_password=False), "--out", str(out2),
                 "--service", "gridhall"]) == 0
    with zipfile.ZipFile(out2) as z:
        body = b"".join(z.read(n) for n in z.namelist() if n.endswith(".qgs"))
    assert b"service=" in body and b"password=" not in body and f"port={url.port}".encode() not in body
    _check(_probe(out2, {"PGSERVICEFILE": str(service_file), "PGPASSFILE": str(pgpass)}), counts)


@pytest.mark.parametrize("backend", ["spatialite"])
def test_bad_output_is_one_line(city, tmp_path, capsys, backend):
    assert main(["qgis-project", "--db", str(city.path), "--out", str(tmp_path / "x.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".qgz" in err
