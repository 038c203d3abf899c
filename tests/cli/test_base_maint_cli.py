"""`gridhall component …` and `gridhall grid …` (issue 15 item 4): changes as the administrator with a reason,
one line for a refusal in the user's language, the history as text and JSON (both backends)."""

from __future__ import annotations

import json

import pytest
from services.world import MANHOLE, PASSWORD, build_world

from app.cli import main
from app.services import auth


@pytest.fixture
def db(store, monkeypatch):
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    if store.backend == "spatialite":
        world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:
        from tests.store.hall import world_logins

        world = build_world(store)
        world_logins(store, world, PASSWORD)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    yield store, (str(store.path) if store.path else store.url.render_as_string(hide_password=False))
    auth.configure_hasher()
    if store.backend == "postgis":
        from app.store import security

        for name in world.actors:
            security.drop_login(store, name)


def _run(capsys, *argv: str):
    code = main([*argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_component_verbs_and_history(db, capsys):
    _, url = db
    code, out, err = _run(capsys, "component", "set", MANHOLE, "--name", "雨水井盖", "--note", "更正",
                          "--reason", "普查更正", "--as", "admin", "--db", url)
    assert code == 0, err
    assert MANHOLE in out
    assert _run(capsys, "component", "move", MANHOLE, "557050", "3464450", "--reason", "实测", "--as", "admin",
                "--db", url)[0] == 0
    assert _run(capsys, "component", "status", MANHOLE, "破损", "--on", "2026-03-01", "--reason", "巡查",
                "--as", "admin", "--db", url)[0] == 0
    code, out, _ = _run(capsys, "component", "add", "--category", "01002", "--name", "污水井盖",
                        "--at", "557160 3464460", "--reason", "新建", "--as", "admin", "--db", url)
    assert code == 0 and "32059901002000002" in out
    assert _run(capsys, "component", "retire", "32059901002000002", "--reason", "拆除", "--as", "admin",
                "--db", url)[0] == 0
    code, out, _ = _run(capsys, "component", "history", MANHOLE, "--db", url, "--lang", "en")
    assert code == 0
    assert "Edit attributes" in out and "Move" in out and "name: 污水井盖 → 雨水井盖" in out
    code, out, _ = _run(capsys, "component", "history", MANHOLE, "--db", url, "--format", "json")
    rows = json.loads(out)
    assert [r["action"] for r in rows] == ["set", "move", "status"] and rows[1]["after"]["grid"] == "320599001001002"
    code, out, _ = _run(capsys, "component", "show", "32059901002000002", "--db", url, "--format", "json")
    assert json.loads(out)["status"] == "removed"


def test_grid_split_merge_and_refusals(db, capsys):
    _, url = db
    code, out, err = _run(capsys, "grid", "split", "320599001001006", "--line", "557140 3464380;557140 3464520",
                          "--reason", "重新划分", "--as", "admin", "--db", url, "--lang", "en")
    assert code == 0, err
    assert "320599001001009" in out and "320599001001010" in out
    code, out, err = _run(capsys, "grid", "merge", "320599001001009", "320599001001010", "--reason", "合并",
                          "--as", "admin", "--db", url)
    assert code == 0 and "320599001001011" in out
    code, out, _ = _run(capsys, "grid", "history", "320599001001006", "--db", url)
    assert "拆分" in out
    # refusals: one line, nothing written
    code, _, err = _run(capsys, "grid", "split", "320599001001006", "--line", "557140 3464380;557140 3464520",
                        "--reason", "r", "--as", "admin", "--db", url, "--lang", "en")
    assert code == 1 and err.count("\n") == 1 and "retired" in err
    code, _, err = _run(capsys, "component", "set", MANHOLE, "--name", "x", "--reason", "r", "--as", "dispatcher",
                        "--db", url)
    assert code == 1 and err.count("\n") == 1 and "管理员" in err
    code, _, err = _run(capsys, "component", "set", MANHOLE, "--name", "x", "--reason", "r", "--db", url)
    assert code == 1 and "--as" in err
    with pytest.raises(SystemExit) as exc:
        main(["grid", "split", "320599001001001", "--line", "1 2", "--reason", "r", "--as", "admin", "--db", url])
    assert exc.value.code == 2 and "--line" in capsys.readouterr().err
