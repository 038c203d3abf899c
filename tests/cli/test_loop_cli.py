"""`gridhall case urge --level --deadline`, `dispute`, `rule` and `callback` (issue 11, items 5–7), in-process, on both backends."""

from __future__ import annotations

import json
from datetime import timedelta

from services.world import T0
from sqlalchemy import select

from app.store.models import Case, CaseEvent
from tests.cli.test_case_cli import _db_now, cli  # noqa: F401  (the fixture)


def _ok(cli, *argv: str) -> dict:  # noqa: F811
    code, out, err = cli(*argv, "--format", "json")
    assert code == 0, (argv, err)
    return json.loads(out)


def _refused(cli, *argv: str) -> str:  # noqa: F811
    code, out, err = cli(*argv)
    assert code != 0 and out == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1, (argv, err)
    return err


def test_urge_dispute_rule_and_callback_from_the_command_line(cli, store):  # noqa: F811
    number = _ok(cli, "report", "--as", "supervisor", "--at", "557150,3464450", "--category", "event:06010",
                 "--description", "路边暴露垃圾", "--source", "supervisor")["case"]["number"]
    for argv in [("file", number, "--as", "leader_shift"),
                 ("dispatch", number, "--as", "dispatcher", "--department", "JD001"),
                 ("accept", number, "--as", "dept_jd")]:
        _ok(cli, *argv)
    now = T0 if store.backend == "spatialite" else _db_now()
    soon = (now + timedelta(hours=1)).replace(second=0)
    assert "督办时限" in _refused(cli, "urge", number, "--as", "boss", "--level", "2", "--deadline", "下周")
    _ok(cli, "urge", number, "--as", "boss", "--level", "2", "--deadline", f"{soon:%Y-%m-%d %H:%M}", "--note", "尽快")
    with store.session() as s:
        case = s.scalars(select(Case).where(Case.number == number)).one()
        assert (case.urge_level, case.urge_deadline_at, case.deadline_at) == (2, soon, soon)
    _refused(cli, "dispute", number, "--as", "dept_hw", "--reason", "不是我们的")  # another department's case
    _ok(cli, "dispute", number, "--as", "dept_jd", "--reason", "不属街道职责")
    _refused(cli, "rule", number, "--as", "dept_jd", "--department", "HW", "--ruling", "reassigned",
             "--reason", "自己裁定")
    assert "改由其他部门负责" in _refused(cli, "rule", number, "--as", "dispatcher", "--department", "JD001",
                                        "--ruling", "reassigned", "--reason", "裁定")
    ruled = _ok(cli, "rule", number, "--as", "dispatcher", "--department", "HW", "--ruling", "reassigned",
                "--reason", "属环卫所职责")
    assert ruled["case"]["state"] == "dispatched"
    with store.session() as s:
        event = s.scalars(select(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
                          .where(Case.number == number).order_by(CaseEvent.seq.desc()).limit(1)).one()
        assert (event.action, event.payload["ruling"], event.payload["department"]) == ("rule", "reassigned", "HW")
    err = _refused(cli, "callback", number, "--as", "acceptor", "--result", "satisfied")
    assert "已结案" in err
