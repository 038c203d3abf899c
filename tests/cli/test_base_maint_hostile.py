"""`gridhall component|grid` against hostile coordinates (issue 15 item 4, an independent tester's
findings): "nan"/"inf" in --line or --at are a usage error (float() took them; a NaN cut printed a
RuntimeWarning and a misleading refusal), and a coordinate of 1e300 is one short line instead of a
300-digit number."""

from __future__ import annotations

import pytest
from services.world import MANHOLE, PASSWORD, build_world

from app.cli import main
from app.services import auth


@pytest.fixture
def db(store, monkeypatch):
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    build_world(store, password_hash=auth.hash_password(PASSWORD))
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    yield store, str(store.path)
    auth.configure_hasher()


def _run(capsys, *argv: str):
    try:
        code = main([*argv])
    except SystemExit as exc:  # argparse's usage error
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("backend", ["spatialite"])
def test_non_finite_and_absurd_coordinates(db, capsys):
    _, url = db
    code, out, err = _run(capsys, "grid", "split", "320599001001006", "--line", "557000 nan;557100 3464500",
                          "--reason", "x", "--as", "admin", "--db", url)
    assert code == 2 and err.count("\n") == 1 and "nan" in err and "Warning" not in err
    code, out, err = _run(capsys, "component", "add", "--category", "01002", "--name", "井盖", "--at", "inf 3464460",
                          "--reason", "x", "--as", "admin", "--db", url)
    assert code == 2 and err.count("\n") == 1
    code, out, err = _run(capsys, "component", "move", MANHOLE, "1e300", "3464450", "--reason", "x", "--as", "admin",
                          "--db", url, "--lang", "en")
    assert code == 1 and err.count("\n") == 1 and len(err) < 200 and "outside EPSG:4549" in err
