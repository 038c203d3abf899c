"""gridhall open311 key add|list|revoke, gridhall serve-open311 as a real process, and migration 0022
down and up again on both backends."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app.cli import main
from app.services import open311 as o3

ROOT = Path(__file__).resolve().parents[2]


def test_keys_from_the_command_line(district, capsys):
    assert main(["open311", "key", "add", "fms", "--rate", "30", "--db", district, "--format", "json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["name"] == "fms" and made["rate_per_minute"] == 30 and made["key"].startswith("gh311_")
    assert made["key"].encode() not in Path(district.removeprefix("sqlite:///")).read_bytes()  # only its hash
    assert main(["open311", "key", "add", "fms", "--db", district]) == 1
    assert "fms" in capsys.readouterr().err
    assert main(["open311", "key", "add", "bad name!", "--db", district]) == 1
    assert main(["open311", "key", "list", "--db", district, "--format", "json"]) == 0
    listed = {k["name"]: k for k in json.loads(capsys.readouterr().out)}
    assert listed["fms"]["revoked_at"] is None and listed["fms"]["prefix"] == made["key"][:10]
    assert main(["open311", "key", "revoke", "fms", "--db", district]) == 0
    capsys.readouterr()
    assert main(["open311", "key", "revoke", "fms", "--db", district]) == 1
    assert "fms" in capsys.readouterr().err
    assert main(["open311", "key", "list", "--db", district]) == 0
    assert "revoked" in capsys.readouterr().out
    from app.store.engine import open_store

    store = open_store(district)
    with pytest.raises(o3.Open311Error) as refused:
        o3.check_key(store, made["key"])
    store.dispose()
    assert refused.value.status == 403


def test_serve_open311_runs_as_its_own_process(district):
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve-open311", "--db", district, "--port", "0",
                             "--lang", "en"], cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/services.json", timeout=30) as r:
            assert r.status == 200 and json.loads(r.read())
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/requests/X.json", timeout=30)
        except urllib.error.HTTPError as e:
            assert e.code == 404 and json.loads(e.read())[0]["description"] == "No service request “X”"
    finally:
        proc.terminate()
        assert proc.wait(20) is not None
    started = time.monotonic()
    busy = subprocess.run([sys.executable, "-m", "app", "serve-open311", "--db", district, "--port", str(port),
                           "--host", "256.1.1.1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert busy.returncode != 0 and len(busy.stderr.strip().splitlines()) == 1 and time.monotonic() - started < 60


@pytest.mark.parametrize("backend", ["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_migration_0022_goes_down_and_up_again(store_url):
    from alembic import command

    from app.store.commands import alembic_config, init_db

    store = init_db(store_url)
    try:
        postgres = store.engine.dialect.name == "postgresql"
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0021")
        with store.engine.begin() as conn:
            assert not {"open311_keys", "open311_tokens"} & set(inspect(conn).get_table_names())
            if postgres:
                assert conn.execute(text("SELECT count(*) FROM pg_policies WHERE right(policyname, 5) = '_o311' "
                                         "AND schemaname = current_schema()")).scalar_one() == 0
                assert not conn.execute(text("SELECT has_table_privilege('gridhall_open311', 'categories', "
                                             "'SELECT')")).scalar_one()
            command.upgrade(alembic_config(conn), "head")
        with store.engine.begin() as conn:
            assert {"open311_keys", "open311_tokens"} <= set(inspect(conn).get_table_names())
            if postgres:
                assert conn.execute(text("SELECT has_column_privilege('gridhall_open311', 'cases', 'reporter_phone', "
                                         "'SELECT')")).scalar_one() is False
                assert conn.execute(text("SELECT has_table_privilege('gridhall_open311', 'cases', 'INSERT')")
                                    ).scalar_one() is True
    finally:
        store.dispose()


def test_serve_open311_logs_its_warnings_as_one_line_each(district):
    """Without -v the server still tells the operator, in one line, of a request whose token could not be
    written (here a trigger refuses every token); the client gets the request's id."""
    import sqlite3
    import urllib.parse

    from services.world import T0

    from open311.conftest import inside_lonlat

    path = district.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER no_tokens_cli BEFORE INSERT ON open311_tokens "
                     "BEGIN SELECT RAISE(ABORT, 'no tokens today'); END")
    assert main(["open311", "key", "add", "warned", "--db", district, "--format", "json"]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve-open311", "--db", district, "--port", "0"],
                            cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stderr.readline()).group(1))
        from app.store.engine import open_store

        store = open_store(district)
        key = o3.add_key(store, "warned2", now=T0).key
        store.dispose()
        lat, long = inside_lonlat()
        body = urllib.parse.urlencode({"api_key": key, "service_code": "event:06010", "lat": lat, "long": long})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/requests.json", body.encode(), timeout=30) as r:
            doc = json.loads(r.read())
        assert doc[0]["token"] is None and doc[0]["service_request_id"]
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TRIGGER no_tokens_cli")
    warned = [line for line in err.splitlines() if "token was not recorded" in line]
    assert len(warned) == 1 and doc[0]["service_request_id"] in warned[0], err
    assert "Traceback" not in err
