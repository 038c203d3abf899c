"""Duplicate suggestions at intake and dispatch suggestions with their reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.definitions import CaseState, Stage
from app.services.errors import PermissionDenied, ValidationError
from app.services.location import LocationInput
from services.world import INSIDE, MANHOLE, MANHOLE_LEGACY, draft


def _near(dx: float, dy: float = 0.0) -> tuple[float, float]:
    return INSIDE[0] + dx, INSIDE[1] + dy


def test_duplicates_ranked_by_distance_category_and_time(svc, world, clock):
    a = world.actors["supervisor"]
    same = svc.report(a, draft(at=_near(10)))
    related = svc.report(a, draft("event:06012", at=_near(5)))  # 道路不洁: same major 市容环境
    svc.report(a, draft(at=_near(120)))  # too far
    svc.report(a, draft("event:09006", at=_near(3)))  # 占道经营: another major
    found = svc.suggest_duplicates(draft(at=_near(0)))
    assert [c.case.id for c in found] == [same.case.id, related.case.id]
    top = found[0]
    assert top.distance_m == pytest.approx(10, abs=0.1) and top.score > found[1].score
    assert "相距 10 米" in top.reasons and "同一类别「暴露垃圾」" in top.reasons
    assert any("同属大类「市容环境类」" in r for r in found[1].reasons)
    # the report itself lists its candidates too
    r = svc.report(a, draft(at=_near(0, 20)))
    assert same.case.id in [c.case.id for c in r.details["duplicates"]]


def test_recently_closed_cases_count_for_the_window_only(svc, world, clock):
    a = world.actors
    r = svc.report(a["supervisor"], draft())
    svc.void(a["leader_shift"], r.case.id, r.version, reason="测试作废")  # voided: never a candidate
    r = svc.report(a["supervisor"], draft())
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], r.case.id, r.version)
    r = svc.feedback(a["dept_jd"], r.case.id, r.version, text="好了")
    r = svc.send_check(a["acceptor"], r.case.id, r.version)
    r = svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")
    closed = svc.close(a["leader_shift"], r.case.id, r.version, override=True, note="无照片，值班长确认")
    clock.advance(timedelta(days=3))
    found = svc.suggest_duplicates(draft())
    assert [c.case.id for c in found] == [closed.case.id]
    assert any("天前结案" in reason for reason in found[0].reasons)
    clock.advance(timedelta(days=5))
    assert svc.suggest_duplicates(draft()) == []


def test_link_a_duplicate_to_the_original(svc, world):
    a = world.actors
    original = svc.report(a["supervisor"], draft())
    dup = svc.report(a["acceptor"], draft(at=_near(8), source="public"))
    r = svc.link(a["acceptor"], dup.case.id, dup.version, original=original.case.number)
    assert r.case.state is CaseState.NOT_FILED
    link = next(e for e in svc.events(dup.case.id) if e.action == "link")
    assert link.payload["duplicate_of"] == original.case.number
    assert original.case.number in r.details["replies"][0]  # the public reporter is told
    third = svc.report(a["acceptor"], draft(at=_near(9)))
    with pytest.raises(ValidationError, match=f"它是案卷 {original.case.number} 的重复"):
        svc.link(a["acceptor"], third.case.id, third.version, original=dup.case.number)
    with pytest.raises(ValidationError, match="不能把案卷关联到它自己"):
        svc.link(a["acceptor"], third.case.id, third.version, original=third.case.id)


def test_dispatch_suggestions_component_first_then_default(svc, world):
    r = svc.report(world.actors["supervisor"],
                   draft("component:01002", location=LocationInput(component_code=MANHOLE_LEGACY)))
    assert r.case.component_code == MANHOLE and "已转换为" in r.warnings[0]
    ranked = svc.dispatch_suggestions(r.case.id)
    assert [s.code for s in ranked] == ["PS", "SZ"]
    assert ranked[0].reasons == (f"部件 {MANHOLE} 的养护单位", f"部件 {MANHOLE} 的权属单位")
    assert f"部件 {MANHOLE} 的主管部门" in ranked[1].reasons
    assert "类别「污水井盖」的默认处置部门" in ranked[1].reasons


def test_dispatch_suggestions_rules_and_jurisdiction(svc, world):
    r = svc.report(world.actors["supervisor"], draft())
    ranked = svc.dispatch_suggestions(r.case.id)
    assert [(s.code, s.rank) for s in ranked] == [("HW", 1), ("JD001", 2)]
    assert "类别「暴露垃圾」的默认处置部门" in ranked[0].reasons
    assert ranked[1].reasons == ("路由规则：大类「市容环境类」，街道「平江街道」属地管理",)
    preview = svc.preview_deadline(r.case.id)
    assert preview.stage is Stage.HANDLE and preview.deadline is not None
    assert preview.limit_text in preview.explanation and "06010" in preview.source
    assert svc.filing_standard(r.case.id).startswith("垃圾暴露面积")


def test_address_and_lonlat_locate_the_report(svc, world):
    a = world.actors["acceptor"]
    by_road = svc.report(a, draft(location=LocationInput(address="人民路 25 号门前")))
    assert (by_road.case.x, by_road.case.y) == pytest.approx((557084.0, 3464500.0))
    assert "估算位置" in by_road.warnings[0] and by_road.case.address == "人民路 25 号门前"
    again = svc.report(a, draft(location=LocationInput(address="人民路 25 号门前")))
    assert "已有案卷" in again.warnings[0]
    by_lonlat = svc.report(a, draft(location=LocationInput(lon=120.6, lat=31.3)))
    assert (by_lonlat.case.x, by_lonlat.case.y) == pytest.approx((557122.87, 3464391.33), abs=0.05)
    assert by_lonlat.case.grid_code == "320599001001005"


def test_report_and_link_in_one_transaction(svc, world, store):
    a = world.actors
    original = svc.report(a["supervisor"], draft())
    r = svc.report(a["acceptor"], draft(at=_near(5), source="hotline"), link_to=original.case.number)
    assert r.case.state is CaseState.NOT_FILED and r.action.value == "link"
    assert [e.action for e in svc.events(r.case.id)] == ["report", "link", "reply"]
    before = len(svc.list_cases(states=list(CaseState)))
    with pytest.raises(ValidationError, match="不存在|不能作为原案卷"):
        svc.report(a["acceptor"], draft(), link_to=r.case.number)  # a duplicate is no original
    with pytest.raises(PermissionDenied):  # supervisors report but do not link
        svc.report(a["supervisor"], draft(), link_to=original.case.number)
    assert len(svc.list_cases(states=list(CaseState))) == before  # neither half was written


def test_duplicates_beyond_the_limit_keep_the_best_in_two_statements(svc, world, store, clock):
    from sqlalchemy import event, select

    from app.services.duplicates import find_duplicates
    from app.store.models import Category

    a = world.actors["supervisor"]
    metres = (14, 2, 9, 5, 11, 7, 3, 13, 1, 8, 12, 4)
    ids = [svc.report(a, draft(at=_near(d))).case.id for d in metres]
    svc.report(a, draft(at=_near(0, 51)))  # just outside the radius
    nearest = [i for _, i in sorted(zip(metres, ids, strict=True))]
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with store.session() as s:
        cat = s.scalars(select(Category).where(Category.kind == "event", Category.code == "06010")).one()
        event.listen(store.engine, "before_cursor_execute", count)
        try:
            top = find_duplicates(s, category=cat, x=INSIDE[0], y=INSIDE[1], now=clock.now(), limit=3)
        finally:
            event.remove(store.engine, "before_cursor_execute", count)
        full = find_duplicates(s, category=cat, x=INSIDE[0], y=INSIDE[1], now=clock.now(), limit=50)
    assert [c.case.id for c in top] == nearest[:3]
    assert [c.case.id for c in full] == nearest  # the one 51 m away is left out
    assert [c.score for c in full] == sorted((c.score for c in full), reverse=True)
    assert [c.distance_m for c in top] == [1.0, 2.0, 3.0]
    # One candidate query and one batched summary query, whatever the number of candidates.
    assert len(statements) == 2, statements
