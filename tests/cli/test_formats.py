"""`--format text|json` on every read verb (except `case …`, documented with it): stable JSON."""

from __future__ import annotations

import argparse
import json

import pytest
from sqlalchemy import text

from app.cli import build_parser, main

#: The read verbs and the JSON keys their help promises.
READ_VERBS = {("db", "verify-audit"): ('"ok"', '"problem"'), ("demo",): ('"scale"', '"demo_accounts"'),
              ("user", "list"): ('"username"', '"role_label"', '"status"')}


def _subparser(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("path", list(READ_VERBS))
def test_every_read_verb_takes_format_json_and_documents_it(path):
    parser = _subparser(path)
    [fmt] = [a for a in parser._actions if "--format" in a.option_strings]
    assert fmt.choices == ("text", "json") and fmt.default == "text"
    help_text = parser.format_help()
    for key in READ_VERBS[path]:
        assert key in help_text


@pytest.fixture
def db(store):
    return str(store.path)


@pytest.mark.parametrize("backend", ["spatialite"])
def test_verify_audit_json_intact_then_broken(db, store, capsys):
    assert main(["db", "verify-audit", "--db", db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "problem": None}
    assert main(["db", "verify-audit", "--db", db]) == 0
    assert "审计链完整" in capsys.readouterr().out
    with store.engine.begin() as conn:  # the documented way to tamper on SpatiaLite: triggers off
        conn.execute(text("DROP TRIGGER audit_head_no_delete"))
        conn.execute(text("DELETE FROM audit_head"))
    assert main(["db", "verify-audit", "--db", db, "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and set(out["problem"]) == {"chain_no", "case_id", "message"}
    assert "audit_head" in out["problem"]["message"]


def test_verify_audit_json_on_a_missing_file_is_one_line(tmp_path, capsys):
    assert main(["db", "verify-audit", "--db", str(tmp_path / "none.sqlite"), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("gridhall: ") and captured.err.count("\n") == 1
