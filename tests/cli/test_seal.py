"""`gridhall db seal` and `gridhall db verify-audit --seal FILE`: exit codes and one-line messages,
on both backends (the tiny demo city; the owner's rewrite as in tests/store/test_seal.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from store.sealing import TinyCities, break_link, drop_database, open_city, rewrite_history, truncate_history

from app.cli import EXIT_CANCELLED, EXIT_FAIL, EXIT_OK, _seal, build_parser, main
from app.jobs import JobListener, JobRunner


@pytest.fixture(scope="session")
def cli_cities(tmp_path_factory) -> TinyCities:
    return TinyCities(tmp_path_factory.mktemp("seal-cli-cities"))


@pytest.fixture
def city(backend, request, tmp_path, cli_cities, monkeypatch):
    """(store, URL) of a copy of the tiny demo city; the current directory is an empty folder."""
    cluster = request.getfixturevalue("pg_cluster") if backend == "postgis" else None
    url = cli_cities.url(backend, tmp_path, cluster)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    store = open_city(url)
    yield store, url
    drop_database(store, cluster)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def seal(url: str, capsys, *more: str) -> str:
    assert main(["db", "seal", "--db", url, *more]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line: where the seal went and what to do with it
    [path] = re.findall(r"已写入 (\S+?)；", out)
    assert "保存在服务器以外" in out and "月报" in out and "verify-audit --seal" in out
    return path


def test_seal_then_verify_then_the_owners_rewrite_is_caught(city, capsys, tmp_path):
    store, url = city
    path = seal(url, capsys)
    name = store.url.database if store.backend == "postgis" else "city-3"
    assert re.fullmatch(rf".*/work/gridhall-seal-{name}-2090-\d{{4}}-\d\d-\d\d\.json", path)
    if store.url.password:
        assert store.url.password not in Path(path).read_text(encoding="utf-8")  # the display URL only

    assert main(["db", "verify-audit", "--db", url, "--seal", path]) == EXIT_OK
    out = capsys.readouterr().out
    assert "审计链完整" in out and last_line(out).endswith("第 2090 环）相符：之前的历史未被改写")

    rewrite_history(store, 100)
    assert main(["db", "verify-audit", "--db", url]) == EXIT_OK  # the chain alone: "intact"
    capsys.readouterr()
    assert main(["db", "verify-audit", "--db", url, "--seal", path]) == EXIT_FAIL
    captured = capsys.readouterr()
    assert "审计链完整" in captured.out
    assert "之前的历史被改写：第 2090 环的哈希现为" in last_line(captured.err)

    assert main(["db", "verify-audit", "--db", url, "--seal", path, "--format", "json"]) == EXIT_FAIL
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["problem"] is None
    [check] = report["seals"]
    assert (check["status"], check["ok"], check["chain_no"], check["copy"]) == ("rewritten", False, 2090, False)


def test_messages_follow_gridhall_lang(city, capsys, monkeypatch):
    store, url = city
    path = seal(url, capsys, "--out", "month.json")
    assert path.endswith("month.json")
    truncate_history(store, 2050)
    monkeypatch.setenv("GRIDHALL_LANG", "en")
    assert main(["db", "verify-audit", "--db", url, "--seal", path]) == EXIT_FAIL
    err = last_line(capsys.readouterr().err)
    assert err.startswith("Seal month.json (") and "ends at link 2050: its tail was deleted (truncated)" in err


def test_refusals_are_one_line_each(city, capsys, tmp_path):
    store, url = city
    path = seal(url, capsys, "--out", str(tmp_path))  # a directory: the default name inside it
    assert path.startswith(str(tmp_path)) and "/work/" not in path
    before = Path(path).read_bytes()

    assert main(["db", "seal", "--db", url, "--out", path]) == EXIT_FAIL  # never overwritten
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "已存在，封印不会覆盖已有文件" in captured.err
    assert Path(path).read_bytes() == before

    damaged = tmp_path / "damaged.json"
    damaged.write_text(Path(path).read_text(encoding="utf-8").replace('"cases": 289', '"cases": 280'), encoding="utf-8")
    assert main(["db", "verify-audit", "--db", url, "--seal", str(damaged), "--seal", "missing.json"]) == EXIT_FAIL
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.splitlines() == [  # no chain check (no bar) was started
        f"gridhall: 封印 {damaged} 已损坏或被改动：内容与其摘要不符，不能作为凭据",
        "gridhall: 封印文件不存在：missing.json",
        "gridhall: 未校验审计链：请先改正封印文件"]

    break_link(store, 5)  # a broken chain: reported, and never sealed
    assert main(["db", "verify-audit", "--db", url, "--seal", path]) == EXIT_FAIL
    assert "审计链被破坏" in capsys.readouterr().err
    assert main(["db", "seal", "--db", url, "--out", "broken.json"]) == EXIT_FAIL
    captured = capsys.readouterr()
    assert last_line(captured.err).startswith("gridhall: 审计链已被破坏，不能封印") and "Traceback" not in captured.err
    assert not (tmp_path / "work" / "broken.json").exists()


@pytest.mark.parametrize("backend", ["spatialite"])
def test_a_seal_of_another_database_is_named_as_such(city, capsys, tmp_path, cli_cities):
    _store, url = city
    other = cli_cities.url("spatialite", tmp_path, seed=4)
    path = seal(other, capsys)
    assert main(["db", "verify-audit", "--db", url, "--seal", path]) == EXIT_FAIL
    assert "属于另一个数据库" in last_line(capsys.readouterr().err)


@pytest.mark.parametrize("backend", ["spatialite"])
def test_cancelling_a_seal_writes_nothing(city, capsys, tmp_path):
    _store, url = city
    runner = JobRunner(max_workers=1)
    runner.subscribe(JobListener(progress=lambda job, fraction, message: job.cancel()))
    try:
        code = _seal(build_parser().parse_args(["db", "seal", "--db", url]), runner=runner)
    finally:
        assert runner.shutdown(timeout=30)
    captured = capsys.readouterr()
    assert code == EXIT_CANCELLED and captured.out == ""
    assert last_line(captured.err) == "gridhall: 已取消封印审计链；未写入封印文件，数据库未被改动"
    assert list((tmp_path / "work").iterdir()) == []
