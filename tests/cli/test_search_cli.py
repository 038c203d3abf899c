"""`gridhall case find …`: search every case from the command line (issue 10, item 2)."""

from __future__ import annotations

import json

try:  # the `gridhall case` runner over the tiny district, both backends
    from tests.cli.test_case_cli import cli  # noqa: F401
except ImportError:  # pragma: no cover
    raise


def _report(cli, description: str, *extra: str) -> str:
    code, out, err = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "event:06010",
                         "--description", description, "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)["case"]["number"]


def test_find_prints_the_cases_and_the_total(cli):
    first = _report(cli, "井盖松动有响声", "--phone", "13800138000")
    _report(cli, "人民路边有暴露垃圾")
    code, out, err = cli("find", "井盖", "--as", "dispatcher", "--format", "json")
    assert code == 0, err
    found = json.loads(out)
    assert found["total"] == 1 and [c["number"] for c in found["cases"]] == [first]
    assert found["cases"][0]["state_label"] == "已上报"
    code, out, _ = cli("find", first.rsplit("-", 1)[1], "--as", "dispatcher")
    assert code == 0 and out.splitlines()[0].startswith("共找到") and out.splitlines()[1].startswith(first)
    code, out, _ = cli("find", "13800138000", "--as", "dispatcher", "--format", "json")
    assert [c["number"] for c in json.loads(out)["cases"]] == [first]
    code, out, _ = cli("find", "--as", "dispatcher", "--limit", "1", "--offset", "1", "--format", "json")
    assert json.loads(out)["total"] == 2 and len(json.loads(out)["cases"]) == 1


def test_a_query_it_cannot_read_is_one_line(cli):
    code, out, err = cli("find", "状态:不存在", "--as", "dispatcher")
    assert code == 1 and out == "" and err.count("\n") == 1 and "状态" in err and "Traceback" not in err
    code, out, err = cli("find", '"NEAR(井', "*", "--as", "dispatcher")
    assert code == 0 and "共找到 0 件" in out
