"""Basic-data maintenance (issue 15 item 4) on both backends: components, grid split/merge, history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from app.domain.clock import FixedClock
from app.domain.definitions import CaseState
from app.services.base_maintenance import BaseMaintenance, NotFound
from app.services.errors import PermissionDenied, ValidationError
from app.store.models import Case, Component, UnitGrid
from services.seed import seed_case
from services.world import INSIDE, MANHOLE, T0


@pytest.fixture
def bm(store, world):
    return BaseMaintenance(store, FixedClock(T0))


@pytest.fixture
def admin(world):
    return world.actors["admin"]


def test_only_the_administrator_maintains_base_data(bm, world):
    for who, actor in world.actors.items():
        if who == "admin":
            continue
        with pytest.raises(PermissionDenied):
            bm.set_component(actor, MANHOLE, name="x", reason="试")
        with pytest.raises(PermissionDenied):
            bm.split_grid(actor, "320599001001006", [(557150, 3464390), (557150, 3464510)], reason="试")
    assert bm.history() == []


def test_set_move_status_each_leave_one_history_row(bm, admin):
    before = bm.component(MANHOLE)
    change = bm.set_component(admin, MANHOLE, name="雨水井盖 2 号", note="改名", maintainer="HW", reason="普查更正")
    assert change.codes == (MANHOLE,)
    got = bm.component(MANHOLE)
    assert (got["name"], got["maintainer"], got["note"]) == ("雨水井盖 2 号", "HW", "改名")
    bm.move_component(admin, MANHOLE, 557050.0, 3464450.0, reason="实测位置")
    moved = bm.component(MANHOLE)
    assert (moved["x"], moved["y"], moved["grid"]) == (557050.0, 3464450.0, "320599001001002")
    bm.set_status(admin, MANHOLE, "破损", on="2026-03-01", reason="巡查发现")
    st = bm.component(MANHOLE)
    assert (st["status"], st["changed_date"]) == ("damaged", "2026-03-01")
    rows = bm.history("component", MANHOLE)
    assert [r["action"] for r in rows] == ["set", "move", "status"]
    assert rows[0]["before"] == before and rows[0]["fields"] == ["maintainer", "name", "note"]
    assert rows[1]["before"]["grid"] == "320599001001006" and rows[1]["after"]["grid"] == "320599001001002"
    assert rows[2]["fields"] == ["changed_date", "status"]
    assert {r["actor"] for r in rows} == {admin.username} and all(r["reason"] for r in rows)
    assert bm.verify() is None


@pytest.mark.parametrize("call, match", [
    (lambda bm, a: bm.set_component(a, MANHOLE, name="x", reason=""), "理由"),
    (lambda bm, a: bm.set_component(a, MANHOLE, name="", reason="r"), "名称"),
    (lambda bm, a: bm.set_component(a, MANHOLE, owner="NOPE", reason="r"), "NOPE"),
    (lambda bm, a: bm.set_component(a, MANHOLE, colour="red", reason="r"), "colour"),
    (lambda bm, a: bm.set_component(a, "32059901002999999", name="x", reason="r"), "不存在"),
    (lambda bm, a: bm.move_component(a, MANHOLE, 1.0, 2.0, reason="r"), "不在任何"),
    (lambda bm, a: bm.set_status(a, MANHOLE, "坏了", reason="r"), "完好"),
    (lambda bm, a: bm.set_status(a, MANHOLE, "完好", reason="r"), "已是"),
    (lambda bm, a: bm.set_status(a, MANHOLE, "破损", on="2027-01-01", reason="r"), "之后"),
    (lambda bm, a: bm.set_status(a, MANHOLE, "破损", on="2026-13-01", reason="r"), "有效日期"),
    (lambda bm, a: bm.add_component(a, category="99999", name="x", x=INSIDE[0], y=INSIDE[1], reason="r"), "99999"),
    (lambda bm, a: bm.split_grid(a, "320599001001006", [(557150, 3464420), (557150, 3464480)], reason="r"),
     "分成两部分"),
    (lambda bm, a: bm.split_grid(a, "320599001001006", [(557100.5, 3464390), (557100.5, 3464510)], reason="r"),
     "平方米"),
    (lambda bm, a: bm.merge_grids(a, ["320599001001006", "320599001002001"], reason="r"), "同一个社区"),
    (lambda bm, a: bm.merge_grids(a, ["320599001001001", "320599001001008"], reason="r"), "不相邻"),
    (lambda bm, a: bm.merge_grids(a, ["320599001001001"], reason="r"), "两个"),
])
def test_bad_input_is_one_message_and_nothing_written(bm, admin, store, call, match):
    before = bm.component(MANHOLE)
    with pytest.raises((ValidationError, NotFound), match=match):
        call(bm, admin)
    assert bm.component(MANHOLE) == before and bm.history() == []
    with store.session() as s:
        assert s.scalar(select(text("count(*)")).select_from(UnitGrid)) == 16


def test_add_and_retire_a_component_never_reuse_its_code(bm, admin, store):
    added = bm.add_component(admin, category="01002", name="污水井盖", x=557160.0, y=3464460.0, authority="SZ",
                             data_source="实测", reason="新建")
    code = added.codes[0]
    assert code == "32059901002000002"  # the district's next serial of 01002 (000001 is MANHOLE)
    rec = bm.component(code)
    assert (rec["grid"], rec["status"], rec["initial_date"], rec["authority"]) == (
        "320599001001006", "intact", "2026-03-02", "SZ")
    bm.retire_component(admin, code, reason="道路改造拆除")
    assert bm.component(code)["status"] == "removed"
    with pytest.raises(ValidationError, match="已注销"):
        bm.move_component(admin, code, *INSIDE, reason="r")
    # even a component row deleted behind the application's back keeps its code out of reach
    with store.session() as s, s.begin():
        s.execute(Component.__table__.delete().where(Component.code == code))
    again = bm.add_component(admin, category="01002", name="污水井盖", x=557160.0, y=3464460.0, reason="新建")
    assert again.codes == ("32059901002000003",)
    assert [r["action"] for r in bm.history("component", code)] == ["add", "retire"]


def test_split_retires_the_grid_numbers_the_parts_and_cases_keep_their_grid(bm, admin, store, world):
    case_id, _ = seed_case(store, world, CaseState.FILED, at=T0)
    old_id = world.grids["320599001001006"]
    # a vertical cut at x=557140: the manhole (557150) lies in the east part
    change = bm.split_grid(admin, "320599001001006", [(557140, 3464380), (557140, 3464520)], on="2026-03-01",
                           reason="道路拓宽后重新划分")
    assert change.codes == ("320599001001009", "320599001001010")  # after 001–008; west first in one row
    west, east = bm.grid(change.codes[0]), bm.grid(change.codes[1])
    assert (round(west["area_m2"]), round(east["area_m2"])) == (4000, 6000)
    assert bm.grid("320599001001006")["retired_on"] == "2026-03-01"
    assert bm.component(MANHOLE)["grid"] == "320599001001010"
    with store.session() as s:
        assert s.get(Case, case_id).grid_id == old_id  # the case keeps the grid it was reported in
    rows = bm.history("grid")
    assert [(r["key"], r["action"]) for r in rows] == [
        ("320599001001006", "split"), ("320599001001009", "add"), ("320599001001010", "add")]
    assert rows[0]["after"]["successors"] == list(change.codes)
    assert [r["action"] for r in bm.history("component", MANHOLE)] == ["regrid"]
    with pytest.raises(ValidationError, match="已于 2026-03-01 注销"):
        bm.split_grid(admin, "320599001001006", [(557150, 3464390), (557150, 3464510)], reason="r")
    # merging the parts again gives a new code, never 006 again
    merged = bm.merge_grids(admin, list(change.codes), reason="合并回去")
    assert merged.codes == ("320599001001011",)
    assert round(bm.grid("320599001001011")["area_m2"]) == 10000
    assert bm.component(MANHOLE)["grid"] == "320599001001011"
    assert [g["code"] for g in bm.grids("3205990010010")][-1] == "320599001001011"
    assert "320599001001006" not in [g["code"] for g in bm.grids()]
    assert bm.verify() is None


def test_retired_codes_and_grids_are_guarded_by_the_database(bm, admin, store):
    bm.merge_grids(admin, ["320599001001005", "320599001001006"], reason="合并")
    for sql in ("UPDATE unit_grids SET retired_on = NULL WHERE code = '320599001001005'",
                "UPDATE unit_grids SET code = '320599001001099' WHERE code = '320599001001001'",
                "UPDATE base_changes SET reason = 'x'", "DELETE FROM base_changes"):
        with pytest.raises(Exception, match="retired|never changes|append-only"), store.session() as s, s.begin():
            s.execute(text(sql))


def test_history_tampering_is_found(bm, admin, store):
    bm.set_component(admin, MANHOLE, name="甲", reason="r1")
    bm.set_component(admin, MANHOLE, name="乙", reason="r2")
    if store.backend != "spatialite":
        return  # on PostGIS the trigger refuses even the owner (tested above)
    with store.session() as s, s.begin():
        s.execute(text("DROP TRIGGER base_changes_no_update"))
        s.execute(text("UPDATE base_changes SET reason = 'forged' WHERE seq = 1"))
    assert "第 1 条" in str(bm.verify())
    assert date(2026, 3, 2) == T0.date()
