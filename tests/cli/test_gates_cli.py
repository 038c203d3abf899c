"""`gridhall case …` and the loop's gates (issue 11, items 1–2), in-process, on both backends.

A public report cannot be filed before 核实, a not-confirmed one is never filed (the reply after
不予立案 quotes the reason), and a close without its evidence needs ``--override`` with a note;
``--photo-time`` states when the photos were taken.
"""

from __future__ import annotations

import json

from services.world import T0, png_bytes
from sqlalchemy import select

from app.store.models import Attachment, Case
from tests.cli.test_case_cli import _db_now, cli  # noqa: F401  (the fixture)


def _report(cli, tmp_path, *extra: str) -> str:  # noqa: F811
    code, out, err = cli("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "event:06010",
                         "--description", "路边暴露垃圾", *extra, "--format", "json")
    assert code == 0, err
    return json.loads(out)["case"]["number"]


def test_a_public_report_is_verified_before_it_is_filed(cli, tmp_path):  # noqa: F811
    number = _report(cli, tmp_path, "--source", "public", "--phone", "13800138000")
    code, out, err = cli("file", number, "--as", "leader_shift")
    assert code == 1 and out == "" and "须先由监督员现场核实" in err and "派发核实" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert cli("verify", number, "--as", "acceptor", "--send")[0] == 0
    code, out, err = cli("verify", number, "--as", "supervisor", "--result", "现场未发现垃圾", "--not-confirmed")
    assert code == 0 and "不属实" in out + err
    code, out, err = cli("file", number, "--as", "leader_shift")
    assert code == 1 and "不属实" in err and "不予立案" in err
    code, out, err = cli("reject", number, "--as", "leader_shift", "--reason", "经现场核实，未发现暴露垃圾",
                         "--format", "json")
    assert code == 0, err
    replies = json.loads(out)["details"]["replies"]
    assert len(replies) == 1 and "不予立案" in replies[0] and "未发现暴露垃圾" in replies[0]
    assert "已立案" not in replies[0]


def test_a_close_without_evidence_needs_the_override_and_a_note(cli, tmp_path, store):  # noqa: F811
    pic = tmp_path / "现场.png"
    pic.write_bytes(png_bytes())
    number = _report(cli, tmp_path, "--source", "supervisor", "--photo", str(pic))  # no shooting time
    for argv in [("file", number, "--as", "leader_shift"),
                 ("dispatch", number, "--as", "dispatcher", "--department", "JD001"),
                 ("accept", number, "--as", "dept_jd"),
                 ("feedback", number, "--as", "dept_jd", "--text", "已清运", "--photo", str(pic)),
                 ("check", number, "--as", "acceptor", "--send"),
                 ("check", number, "--as", "supervisor", "--outcome", "passed")]:
        code, out, err = cli(*argv)
        assert code == 0, (argv, err)
    code, out, err = cli("close", number, "--as", "leader_shift")
    assert code == 1 and "处置前照片的拍摄时间" in err and "--override" in err
    code, out, err = cli("close", number, "--as", "leader_shift", "--override")
    assert code == 1 and "写明理由" in err
    code, out, err = cli("close", number, "--as", "leader_shift", "--override", "--note", "照片为旧手机所拍，无拍摄时间",
                         "--format", "json")
    assert code == 0, err
    closed = json.loads(out)
    assert closed["case"]["state"] == "closed" and "结案证据不完整" in closed["warnings"][0]


def test_photo_time_is_checked_and_stored(cli, tmp_path, store):  # noqa: F811
    pic = tmp_path / "现场.png"
    pic.write_bytes(png_bytes())
    code, out, err = cli("report", "--as", "supervisor", "--at", "557150,3464450", "--category", "06010",
                         "--description", "垃圾", "--photo", str(pic), "--photo-time", "昨天下午")
    assert code == 1 and "拍摄时间「昨天下午」无效" in err and "Traceback" not in err
    code, out, err = cli("report", "--as", "supervisor", "--at", "557150,3464450", "--category", "06010",
                         "--description", "垃圾", "--photo-time", "2026-03-02 08:30")
    assert code == 1 and "没有附照片" in err
    now = T0 if store.backend == "spatialite" else _db_now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    number = _report(cli, tmp_path, "--source", "supervisor", "--photo", str(pic), "--photo-time", stamp)
    with store.session() as s:
        taken = s.scalars(select(Attachment.taken_at).join(Case, Case.id == Attachment.case_id)
                          .where(Case.number == number)).all()
    assert [t.strftime("%Y-%m-%d %H:%M:%S") for t in taken] == [stamp]
