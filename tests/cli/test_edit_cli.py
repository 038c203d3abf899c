"""`gridhall case edit` end to end, in-process, on both backends (on PostGIS as the users' own logins)."""

from __future__ import annotations

import json

from tests.cli.test_case_cli import cli  # noqa: F401  # the fixture


def test_edit_through_the_cli_and_the_timeline_shows_before_and_after(cli):  # noqa: F811
    code, out, err = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "event:06010",
                         "--source", "hotline", "--description", "路边暴露垃圾", "--address", "人民路12号",
                         "--phone", "13800138000", "--format", "json")
    assert code == 0, err
    number = json.loads(out)["case"]["number"]
    code, out, err = cli("edit", number, "--as", "acceptor", "--address", "人民路21号", "--reason", "地址笔误",
                         "--format", "json")
    assert code == 0, err
    view = json.loads(out)
    assert view["action"] == "edit" and view["case"]["address"] == "人民路21号"
    code, out, err = cli("show", number, "--as", "acceptor")
    assert code == 0, err
    assert "修改 → 已上报：地址笔误" in out and "地址：人民路12号 → 人民路21号" in out
    # Refused with the reason, nothing written: no reason, nothing to change, a department.
    code, _out, err = cli("edit", number, "--as", "acceptor", "--address", "别处")
    assert code != 0 and "--reason" in err
    code, _out, err = cli("edit", number, "--as", "acceptor", "--address", "人民路21号", "--reason", "再改")
    assert code != 0 and "没有要修改的内容" in err
    code, _out, err = cli("edit", number, "--as", "dept_jd", "--phone", "13900139000", "--reason", "改")
    assert code != 0 and err
    code, out, err = cli("show", number, "--as", "acceptor", "--format", "json")
    assert json.loads(out)["case"]["address"] == "人民路21号" and json.loads(out)["case"]["version"] == 2
