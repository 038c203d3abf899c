"""The text timeline of `gridhall case show` tells every fact of every event, `case show` lists the
attachments, and `case report --duplicate-of` links in the same call; on both backends.

The events are real: driven through the case services on the store, then read back through the CLI
(on PostGIS as the user's own login).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from services.world import INSIDE, PASSWORD, T0, build_world, draft, png_bytes, service
from sqlalchemy import func, select

from app.cli import build_parser
from app.cli.case import run_case
from app.domain.clock import FixedClock
from app.services import auth
from app.services.attachments import PhotoInput
from app.services.location import LocationInput
from app.store.models import Case


def _db_now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


@pytest.fixture
def desk(store, monkeypatch, capsys):
    """(run ``gridhall case …`` → (code, out, err), the world, a service on the store, its clock)."""
    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    if store.backend == "spatialite":
        world = build_world(store, password_hash=auth.hash_password(PASSWORD))
    else:
        from tests.store.hall import world_logins

        world = build_world(store)
        world_logins(store, world, PASSWORD)
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    # On PostGIS a login's event is dated by the database's clock: start the story there.
    clock = FixedClock(T0 if store.backend == "spatialite" else _db_now() - timedelta(hours=8))

    def run(*argv: str):
        try:
            args = build_parser().parse_args(["case", *argv, "--db", db])
        except SystemExit as exc:
            out = capsys.readouterr()
            return exc.code, out.out, out.err
        # a login's write is dated by the database's clock (within 5 minutes: migration 0006)
        code = run_case(args, clock=FixedClock(clock.now() if store.backend == "spatialite" else _db_now()))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run, world, service(store, clock), clock
    auth.configure_hasher()


def shot(kind: str, clock: FixedClock, name: str) -> PhotoInput:
    return PhotoInput(name, png_bytes(), kind, clock.now())


def _closed_public_case(svc, world, clock):
    """A public report through verification, filing, dispatch, an extension, an urge, feedback,
    check, close and the call-back; returns its number."""
    a = world.actors
    step = timedelta(minutes=20)
    r = svc.report(a["acceptor"], draft(source="public", reporter_name="市民甲", reporter_phone="13800000000",
                                        photos=(shot("report", clock, "上报.png"),)))
    clock.advance(step)
    r = svc.send_verify(a["acceptor"], r.case.id, r.version, supervisor="supervisor")
    clock.advance(step)
    r = svc.verify(a["supervisor"], r.case.id, r.version, result="现场属实，约两平方米", confirmed=True)
    clock.advance(step)
    r = svc.file(a["leader_shift"], r.case.id, r.version, level="urgent")
    clock.advance(step)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="HW")
    clock.advance(step)
    r = svc.accept(a["dept_hw"], r.case.id, r.version)
    clock.advance(step)
    r = svc.request_extension(a["dept_hw"], r.case.id, r.version, minutes=120, reason="需要吊车")
    clock.advance(step)
    r = svc.approve(a["dispatcher"], r.case.id, r.version, minutes=60)
    clock.advance(step)
    due = (clock.now() + timedelta(days=1)).replace(hour=17, minute=0, second=0)
    r = svc.urge(a["boss"], r.case.id, r.version, level=3, deadline=due.strftime("%Y-%m-%d %H:%M"), note="尽快")
    clock.advance(step)
    r = svc.feedback(a["dept_hw"], r.case.id, r.version, text="已清运\n现场已冲洗",
                     photos=(shot("after", clock, "处置后.png"),))
    clock.advance(step)
    r = svc.send_check(a["acceptor"], r.case.id, r.version, supervisor="supervisor")
    clock.advance(step)
    r = svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")
    clock.advance(step)
    r = svc.close(a["leader_shift"], r.case.id, r.version, note="结案")
    clock.advance(step)
    r = svc.callback(a["acceptor"], r.case.id, r.version, result="basically_satisfied", note="希望更快")
    return r.case.number, due


def _disputed_case(svc, world, clock):
    """A supervisor's report dispatched to JD001, edited, disputed, and ruled to HW."""
    a = world.actors
    step = timedelta(minutes=15)
    where = LocationInput(x=INSIDE[0], y=INSIDE[1], address="人民路 25 号")
    r = svc.report(a["supervisor"], draft(source="supervisor", location=where))
    clock.advance(step)
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    clock.advance(step)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    clock.advance(step)
    r = svc.edit(a["dispatcher"], r.case.id, r.version, reason="地址写错", address="人民路 27 号")
    clock.advance(step)
    r = svc.accept(a["dept_jd"], r.case.id, r.version)
    clock.advance(step)
    r = svc.dispute(a["dept_jd"], r.case.id, r.version, reason="属环卫职责")
    clock.advance(step)
    r = svc.rule(a["dispatcher"], r.case.id, r.version, department="HW", ruling="reassigned", reason="环卫负责")
    return r.case.number


def test_every_fact_of_a_public_case_is_in_the_text_timeline(desk, monkeypatch):
    run, world, svc, clock = desk
    number, due = _closed_public_case(svc, world, clock)
    code, out, err = run("show", number, "--as", "boss")
    assert code == 0, err
    for fact in [
        "定位方式：坐标，网格 320599001001006",
        "派给监督员：supervisor",  # the verify and the check task
        "核实结果：现场属实，约两平方米", "问题属实",
        "等级改为：紧急",
        "自动回复（立案，由 leader_shift 的操作引起）：",
        "派往：区环境卫生管理所（HW）", "派遣建议第 1 位", "时限截止：",
        "申请延期 120 分钟", "批准延期 60 分钟", "原申请延期 120 分钟", "所涉申请：延期申请中",
        "督办级别：3 级（挂牌督办）", f"督办时限：{due:%Y-%m-%d %H:%M}", "第 1 次督办",
        "处置情况：已清运", "现场已冲洗", "附照片 1 张",
        "核查结论：通过",
        "处置前照片拍摄于：", "处置后照片拍摄于：", "结案证据齐全",
        "自动回复（结案，由 leader_shift 的操作引起）：",
        "回访结果：基本满意", "回访记录：希望更快",
    ]:
        assert fact in out, (fact, out)
    # attachments: kind, file name, size and shooting time
    assert "附件（2）：" in out
    assert "「上报.png」（上报照片）77 B，拍摄于 " in out and "「处置后.png」（处置后照片）" in out
    # no payload key is shown raw (each has its words); the state line keeps its shape
    assert "申请延期 → 延期申请中：需要吊车" in out
    assert "：{" not in out and "caused_by" not in out and "urge_level" not in out

    code, listed, err = run("list", "--as", "boss", "--state", "closed")
    assert code == 0 and f"{number}  已结案" in listed and listed.rstrip().endswith("督办 3 级"), (err, listed)

    monkeypatch.setenv("GRIDHALL_LANG", "en")
    code, out, err = run("show", number, "--as", "boss")
    assert code == 0, err
    for fact in ["Sent to supervisor: supervisor", "Verification result: 现场属实，约两平方米", "Problem confirmed",
                 "Dispatched to: 区环境卫生管理所 (HW)", "Extension asked: 120 min", "Extension granted: 60 min",
                 "Urge level: 3", "Handling: 已清运", "1 photo(s) attached", "Check result: Passed",
                 "Call-back result: Basically satisfied", "Attachments (2):", "(Department operator) Request extension "
                 "→ Extension requested: 需要吊车", "\"上报.png\" (photo with the report) 77 B, taken at "]:
        assert fact in out, (fact, out)


def test_a_dispute_a_ruling_and_an_edit_are_told(desk):
    run, world, svc, clock = desk
    number = _disputed_case(svc, world, clock)
    code, out, err = run("show", number, "--as", "dispatcher")
    assert code == 0, err
    for fact in ["地址：人民路 25 号 → 人民路 27 号", "派往：平江街道办事处（JD001）", "派遣建议第 2 位", "职责争议 → 争议协调中：属环卫职责",
                 "裁定由 区环境卫生管理所（HW） 负责", "裁定结果：改由其他部门负责", "附件：无"]:
        assert fact in out, (fact, out)


def test_report_duplicate_of_links_in_the_same_call(desk, store):
    run, world, svc, clock = desk
    first = svc.report(world.actors["acceptor"], draft(source="supervisor")).case.number
    code, out, err = run("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                         "--description", "同一堆垃圾", "--duplicate-of", first, "--format", "json")
    assert code == 0, err
    view = json.loads(out)
    assert view["action"] == "link" and view["case"]["state"] == "not_filed"
    code, out, err = run("show", view["case"]["number"], "--as", "acceptor")
    assert code == 0, err
    assert f"与案卷 {first} 重复" in out and "关联重复 → 不予立案" in out

    def cases() -> int:
        with store.session() as s:
            return s.scalar(select(func.count()).select_from(Case))

    before = cases()
    code, out, err = run("report", "--as", "acceptor", "--at", "557150,3464450", "--category", "06010",
                         "--description", "又一堆", "--duplicate-of", "S20990101-9999")
    assert code == 1 and out == "" and err.count("\n") == 1 and "S20990101-9999" in err, err
    assert cases() == before  # the report and its link are one transaction: nothing written


def test_show_as_json_lists_the_attachments_without_their_data(desk):
    run, world, svc, clock = desk
    a = world.actors
    r = svc.report(a["supervisor"], draft(source="supervisor", photos=(shot("report", clock, "现场.png"),)))
    code, out, err = run("show", r.case.number, "--as", "acceptor", "--format", "json")
    assert code == 0, err
    [photo] = json.loads(out)["attachments"]
    assert (photo["kind"], photo["filename"], photo["size"]) == ("report", "现场.png", len(png_bytes()))
    assert photo["taken_at"] == f"{clock.now():%Y-%m-%d %H:%M:%S}" and len(photo["sha256"]) == 64
    assert "data" not in photo
