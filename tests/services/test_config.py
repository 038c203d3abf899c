"""The administrator's configuration service (issue 12) on both stores: every editor, the audit
trail, dry runs, validation, versioned limits (timers use the rule in force when they started)
and the live reload of a running CaseService."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import build_core
from app.domain.clock import FixedClock
from app.domain.definitions import CaseState
from app.services.config import ConfigService, dumps_toml
from app.services.errors import PermissionDenied, ValidationError
from app.store import calendar_years as years_store
from app.store.models import Case, Department, TimeLimit
from services.seed import seed_case
from services.world import T0, build_world, draft

INSIDE_XY = (557150.0, 3464450.0)
GARBAGE = {"kind": "event", "code": "06010", "level": "general", "stage": "handle"}


@pytest.fixture
def world(store):
    return build_world(store)


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def cfg(store, world, clock):
    return ConfigService(store, clock)


def admin(world):
    return world.actors["admin"]


def history(store):
    with store.engine.connect() as conn:
        return years_store.changes(conn)


# ----------------------------------------------------------------------------- departments


def test_department_add_edit_retire_recorded(cfg, world, store):
    result = cfg.set_department(admin(world), "CG", name="区城管执法局", kind="bureau", credit_code="11320500MB1234567X",
                                reason="新设执法局")
    assert result.applied and len(result.seqs) == 1
    last = history(store)[-1]
    assert (last["entity"], last["key"], last["actor"], last["reason"], last["before"]) == (
        "department", "CG", "admin", "新设执法局", None)
    assert json.loads(last["after"])["name"] == "区城管执法局"
    assert last["at"] == T0

    edited = cfg.set_department(admin(world), "CG", phone="0512-1234", reason="公布电话")
    assert [c.describe().text() for c in edited.changes] == ["~ 部门 CG：phone: — → 0512-1234"]
    assert json.loads(history(store)[-1]["before"])["phone"] is None

    retired = cfg.retire_department(admin(world), "CG", reason="机构改革")
    assert retired.applied and not retired.warnings
    with store.session() as s:
        row = s.scalars(select(Department).where(Department.code == "CG")).one()
        assert row.active is False  # kept, never deleted


def test_department_with_open_cases_is_retired_not_deleted(cfg, world, store):
    seed_case(store, world, CaseState.HANDLING, at=T0, department="JD001")
    with pytest.raises(ValidationError, match="1 件未办结的案卷，不能删除，只能停用"):
        cfg.delete_department(admin(world), "JD001")
    result = cfg.retire_department(admin(world), "JD001", reason="撤并")
    assert result.applied
    assert any("仍有 1 件未办结的案卷" in w for w in result.warnings)
    with store.session() as s:
        assert s.scalars(select(Case.department_id)).one() == world.dept["JD001"]  # its case stays


def test_only_admin_and_reason_required(cfg, world, store):
    before = len(history(store))
    with pytest.raises(PermissionDenied, match="只有管理员"):
        cfg.set_department(world.actors["dispatcher"], "CG", name="x", reason="r")
    with pytest.raises(ValidationError, match="修改原因"):
        cfg.set_department(admin(world), "CG", name="x", reason="  ")
    with pytest.raises(ValidationError, match="18 位"):
        cfg.set_department(admin(world), "CG", name="x", credit_code="123", reason="r")
    with pytest.raises(ValidationError, match="上级部门 NOPE 不存在"):
        cfg.set_department(admin(world), "CG", name="x", parent="NOPE", reason="r")
    cfg.set_department(admin(world), "SZ", parent="HW", reason="并入")
    with pytest.raises(ValidationError, match="将使上级关系成环"):
        cfg.set_department(admin(world), "HW", parent="SZ", reason="r")
    assert len(history(store)) == before + 1  # only the accepted change


def test_dry_run_returns_the_diff_and_writes_nothing(cfg, world, store):
    before = len(history(store))
    result = cfg.set_department(admin(world), "HW", name="区环卫处", reason="更名", dry_run=True)
    assert not result.applied
    assert [c.describe().text() for c in result.changes] == ["~ 部门 HW：name: 区环境卫生管理所 → 区环卫处"]
    assert len(history(store)) == before
    assert cfg.state().departments["HW"]["name"] == "区环境卫生管理所"


# ----------------------------------------------------------------------------- categories


def test_category_standards_enabled_and_evidence(cfg, world, store):
    result = cfg.set_category(admin(world), "event", "06010", closing_standard="清理干净、拍摄处理后照片",
                              close_evidence="refuse", reason="结案标准")
    assert result.applied
    c = cfg.state().categories["event:06010"]
    assert (c["closing_standard"], c["close_evidence"]) == ("清理干净、拍摄处理后照片", "refuse")
    assert c["filing_standard"].startswith("垃圾暴露面积")
    cid, _version = seed_case(store, world, CaseState.FED_BACK, at=T0)
    assert build_core(store, FixedClock(T0)).cases.closing_standard(cid) == "清理干净、拍摄处理后照片"
    cfg.set_category(admin(world), "event", "06010", enabled=False, reason="本市不用")
    assert cfg.state().categories["event:06010"]["enabled"] is False
    with pytest.raises(ValidationError, match="本市未启用，不能上报新案卷"):
        build_core(store, FixedClock(T0)).cases.report(world.actors["acceptor"], draft("event:06010"))
    with pytest.raises(ValidationError, match="结案证据要求「maybe」无效"):
        cfg.set_category(admin(world), "event", "06010", close_evidence="maybe", reason="r")
    with pytest.raises(ValidationError, match="event:99999 不存在"):
        cfg.set_category(admin(world), "event", "99999", name="x", reason="r")


# ----------------------------------------------------------------------------- routing


def test_routes_overlap_unrouted_and_explain(cfg, world, store):
    text = cfg.explain_route("event:06010", x=INSIDE_XY[0], y=INSIDE_XY[1])
    assert "派往 区环境卫生管理所（HW）" in text and "因为" in text and "路由规则：类别" in text

    added = cfg.set_route(admin(world), scope="category:event:06012", area="320599001", department="YL",
                          priority=10, reason="园林所试点")
    assert added.applied
    text = cfg.explain_route("event:06012", x=INSIDE_XY[0], y=INSIDE_XY[1])
    assert "派往 区园林绿化管理所（YL）" in text and "街道「平江街道」属地管理" in text
    assert "其次：平江街道办事处（JD001）、区环境卫生管理所（HW）" in text  # major rule, then the default

    with pytest.raises(ValidationError, match="派遣规则重叠"):
        cfg.set_route(admin(world), scope="category:event:06012", area="320599001", department="SZ", priority=10,
                      reason="r")
    with pytest.raises(ValidationError, match="部门 OLD 已停用"):
        cfg.set_route(admin(world), scope="kind:event", department="OLD", reason="r")

    # a category whose only route is retired would have none: refused
    cfg.set_category(admin(world), "event", "09001", enabled=True, reason="启用")
    keys = [k for k, r in cfg.state().routes.items() if r["scope"] == "major:event:09"]
    with pytest.raises(ValidationError, match="将没有任何派遣规则"):
        cfg.retire_route(admin(world), keys[0], reason="r")
    retired = cfg.retire_route(admin(world), "category:event:06012@320599001>YL", reason="试点结束")
    assert retired.applied
    text = cfg.explain_route("event:06012", x=INSIDE_XY[0], y=INSIDE_XY[1])
    assert "派往 平江街道办事处（JD001）" in text and "YL" not in text  # the retired rule routes nothing
    assert any("没有任何派遣规则或默认处置部门" in p for p in cfg.problems())  # the seed's unrouted categories


# ----------------------------------------------------------------------------- time limits


def _dispatch_case(core, world, store):
    cid, version = seed_case(store, world, CaseState.FILED, at=core.clock.now() - timedelta(minutes=1))
    result = core.cases.dispatch(world.actors["dispatcher"], cid, version, department="HW")
    return cid, result.case


def test_limit_zero_refused_and_limit_versions(cfg, world, store):
    with pytest.raises(ValidationError, match="时限须为正整数分钟"):
        cfg.set_limit(admin(world), **GARBAGE, minutes=0, basis="working", reason="r")
    major = {**GARBAGE, "code": "06"}
    result = cfg.set_limit(admin(world), **major, minutes=960, basis="working", reason="放宽")
    assert result.applied
    last = history(store)[-1]
    assert (last["entity"], last["key"]) == ("time_limit", "event:06:general:handle")
    assert json.loads(last["before"])["minutes"] == 480 and json.loads(last["before"])["valid_to"] == str(T0)
    assert json.loads(last["after"])["minutes"] == 960 and json.loads(last["after"])["valid_from"] == str(T0)
    with store.session() as s:
        rows = s.scalars(select(TimeLimit).where(TimeLimit.major_code == "06", TimeLimit.stage == "handle",
                                                 TimeLimit.level == "general").order_by(TimeLimit.id)).all()
        assert [(r.minutes, r.valid_from, r.valid_to) for r in rows] == [(480, None, T0), (960, T0, None)]
    ended = cfg.end_limit(admin(world), kind="event", code="06", level="general", stage="handle", reason="并入默认",
                          effective_at=T0 + timedelta(days=1))
    assert ended.applied and json.loads(history(store)[-1]["after"] or "null") is None
    assert cfg.state().limits.get("event:06:general:handle") is None


def test_timer_uses_the_rule_in_force_when_it_started(store, world, clock):
    """Editing a limit today does not change last month's deadlines; a change scheduled for later
    applies to timers started from then on; a running CaseService follows without a restart."""
    core = build_core(store, clock)
    cfg = ConfigService(store, clock)
    first, before = _dispatch_case(core, world, store)
    assert before.timer.limit_minutes == 240  # the shipped limit: half a working day

    clock.advance(timedelta(days=30))
    cfg.set_limit(admin(world), **GARBAGE, minutes=960, basis="working", reason="一个月后放宽",
                  effective_at=clock.now() + timedelta(days=1))
    second, scheduled_before = _dispatch_case(core, world, store)
    assert scheduled_before.timer.limit_minutes == 240  # not in force yet

    clock.advance(timedelta(days=2))
    third, after = _dispatch_case(core, world, store)  # the same running service: reloaded
    assert after.timer.limit_minutes == 960
    assert core.refresh_config() is False  # nothing new since
    assert core.configuration().limits(clock.now())[0] is not None
    with store.session() as s:
        deadlines = dict(s.execute(select(Case.id, Case.deadline_at)).all())
        limits = dict(s.execute(select(Case.id, Case.limit_minutes)).all())
    assert deadlines[first] == before.deadline_at and limits[first] == 240  # last month's: unchanged
    assert limits[second] == 240 and limits[third] == 960
    # the store's own reading of the versions agrees
    from app.domain.limit_versions import limits_at

    table = core.cases.limits
    assert limits_at(table, T0).lookup("event", "06010", "general", "handle").minutes == 240
    assert limits_at(table, clock.now()).lookup("event", "06010", "general", "handle").minutes == 960
    cfg.set_limit(admin(world), **GARBAGE, minutes=720, basis="working", reason="再放宽")
    assert core.cases.preview_deadline(third).rule.minutes == 720  # a preview follows at once too


def test_limit_cannot_start_in_the_past(cfg, world):
    with pytest.raises(ValidationError, match="早于现在"):
        cfg.set_limit(admin(world), **GARBAGE, minutes=960, basis="working", reason="r",
                      effective_at=T0 - timedelta(days=1))


# ----------------------------------------------------------------------------- settings, export/import


def test_evaluation_weights_setting_checked(cfg, world, store):
    import tomllib

    from app.domain.indicators import DEFAULT_PATH

    doc = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    doc["version"] = "city-2027"
    assert cfg.set_setting(admin(world), "evaluation", doc, reason="本市权重").applied
    from app.services.config import stored_setting

    assert stored_setting(store, "evaluation")["version"] == "city-2027"
    with pytest.raises(ValidationError, match="考核权重设置无效"):
        cfg.set_setting(admin(world), "evaluation", {"version": "x"}, reason="r")
    with pytest.raises(ValidationError, match="未知的设置"):
        cfg.set_setting(admin(world), "colours", {}, reason="r")


def test_export_import_round_trip_changes_nothing(cfg, world, store, tmp_path):
    cfg.set_limit(admin(world), **GARBAGE, minutes=960, basis="working", reason="r")
    path = tmp_path / "config.toml"
    path.write_text(dumps_toml(cfg.export_document()), encoding="utf-8")
    before = len(history(store))
    result = cfg.import_config(admin(world), path, reason="回导")
    assert result.changes == [] and not result.applied
    assert len(history(store)) == before

    text = path.read_text(encoding="utf-8").replace('name = "区环境卫生管理所"', 'name = "区环卫处"')
    path.write_text(text, encoding="utf-8")
    dry = cfg.import_config(admin(world), path, dry_run=True)
    assert [c.describe().text() for c in dry.changes] == ["~ 部门 HW：name: 区环境卫生管理所 → 区环卫处"]
    assert len(history(store)) == before
    applied = cfg.import_config(admin(world), path)
    assert applied.applied and len(history(store)) == before + 1
    assert history(store)[-1]["reason"] == "导入配置文件 config.toml"

    # new departments whose parents are new too (listed child first) are written parents first
    extra = ('\n[[departments]]\ncode = "CG2"\nname = "二中队"\nkind = "company"\nparent = "CG1"\n'
             '\n[[departments]]\ncode = "CG1"\nname = "一大队"\nkind = "bureau"\nparent = "CG"\n'
             '\n[[departments]]\ncode = "CG"\nname = "执法局"\nkind = "bureau"\n')
    path.write_text(path.read_text(encoding="utf-8").replace("\n[[categories]]", extra + "\n[[categories]]", 1),
                    encoding="utf-8")
    assert cfg.import_config(admin(world), path).applied
    with store.session() as s:
        rows = {d.code: d for d in s.scalars(select(Department))}
        assert rows["CG2"].parent_id == rows["CG1"].id and rows["CG1"].parent_id == rows["CG"].id
    cycle = path.read_text(encoding="utf-8").replace('name = "执法局"\nkind = "bureau"\n',
                                                     'name = "执法局"\nkind = "bureau"\nparent = "CG2"\n')
    path.write_text(cycle, encoding="utf-8")
    with pytest.raises(ValidationError, match="上级关系成环"):
        cfg.import_config(admin(world), path, dry_run=True)


def test_hostile_import_files_and_text_refused_with_one_message(cfg, world, store, tmp_path):
    """A deeply nested or non-UTF-8 file, a bidi or control character in a name or a reason:
    one clear refusal each (no RecursionError, no class name), nothing written."""
    before = len(history(store))
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="嵌套过深"):
        cfg.import_config(admin(world), deep, reason="r", dry_run=True)
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('format = 1\n# 配置\n'.encode("gbk"))
    with pytest.raises(ValidationError, match="不是 UTF-8 文本"):
        cfg.import_config(admin(world), gbk, reason="r", dry_run=True)
    with pytest.raises(ValidationError, match="含控制字符"):
        cfg.set_department(admin(world), "CG", name="执法\u202e局", kind="bureau", reason="r")
    with pytest.raises(ValidationError, match="含控制字符"):
        cfg.set_department(admin(world), "CG", name="执法\x85局", kind="bureau", reason="r")
    with pytest.raises(ValidationError, match="改变文字显示方向"):
        cfg.set_department(admin(world), "CG", name="执法局", kind="bureau", reason="新设\u202e")
    with pytest.raises(ValidationError, match="控制字符"):
        cfg.set_department(admin(world), "CG", name="执法局", kind="bureau", reason="新设\x1b[2J")
    assert len(history(store)) == before


def test_a_mistyped_key_is_refused_not_taken_as_clearing_its_field(cfg, world, store, tmp_path):
    """A record's key its section does not have (``phnoe`` for ``phone``) or an unknown top-level entry:
    one refusal naming it, nothing changed (the key was ignored and the phone cleared)."""
    code = next(iter(cfg.state().departments))
    cfg.set_department(admin(world), code, phone="0512-65551234", reason="登记电话")
    doc = cfg.export_document()
    dept = next(d for d in doc["departments"] if d["code"] == code)
    dept["phnoe"] = dept.pop("phone")
    path = tmp_path / "typo.toml"
    path.write_text(dumps_toml(doc), encoding="utf-8")
    before = (len(history(store)), cfg.state().departments[dept["code"]].get("phone"))
    with pytest.raises(ValidationError, match="不认识的字段 phnoe") as refused:
        cfg.import_config(admin(world), path, reason="改电话")
    assert "[[departments]]" in str(refused.value)
    for section, key in (("routes", "priorty"), ("limits", "minuts"), ("categories", "nmae")):
        typo = cfg.export_document()
        typo[section][0][key] = 1
        path.write_text(dumps_toml(typo), encoding="utf-8")
        with pytest.raises(ValidationError, match=f"不认识的字段 {key}"):
            cfg.import_config(admin(world), path, dry_run=True)
    top = cfg.export_document()
    top["departements"] = []
    path.write_text(dumps_toml(top), encoding="utf-8")
    with pytest.raises(ValidationError, match="不认识的项 departements"):
        cfg.import_config(admin(world), path, dry_run=True)
    assert (len(history(store)), cfg.state().departments[dept["code"]].get("phone")) == before
    path.write_text(dumps_toml(cfg.export_document()), encoding="utf-8")  # the export itself still goes back in
    assert not cfg.import_config(admin(world), path, reason="回导").changes
