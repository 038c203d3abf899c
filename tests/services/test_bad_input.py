"""Bad input gets a precise message and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.clock import FixedClock
from app.services.attachments import PhotoInput
from app.services.cases import CaseSettings
from app.services.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from app.services.location import LocationInput
from app.store.models import AdminArea, Attachment, Case, CaseEvent, Category, RoutingRule
from services.world import MANHOLE, OUTSIDE, T0, draft, photo, png_bytes, service


def _counts(store) -> tuple[int, int, int]:
    with store.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Case, CaseEvent, Attachment))


def _refused(store, call, field: str, *words: str):
    before = _counts(store)
    with pytest.raises(ValidationError) as err:
        call()
    assert err.value.field == field, str(err.value)
    for w in words:
        assert w in str(err.value), str(err.value)
    assert _counts(store) == before  # nothing half-written
    return err.value


@pytest.mark.parametrize("bad, field, words", [
    (dict(at=OUTSIDE), "location", ("位置不在本区任何单元网格内", "x=560000.0", "y=3470000.0")),
    (dict(location=LocationInput(component_code="32059901002999999")), "component", ("不存在",)),
    (dict(location=LocationInput(component_code="3205990100200000")), "component", ("旧版部件标识码",)),
    (dict(location=LocationInput(component_code="320599010020000X1")), "component", ("不是数字",)),
    (dict(location=LocationInput(address="火星大道 1 号")), "address", ("无法定位地址", "火星大道")),
    (dict(location=LocationInput(lon=31.3, lat=120.6)), "location", ("写反",)),
    (dict(location=LocationInput()), "location", ("缺少位置",)),
    (dict(description="   "), "description", ("问题描述不能为空",)),
    (dict(category="event:99999"), "category", ("未知",)),
    (dict(category="01002"), "category", ("部件和事件清单中都有", "component:01002", "event:01002")),
    (dict(category="event:06010", level="critical"), "level", ("等级「critical」无效", "urgent")),
    (dict(photos=(PhotoInput("a.jpg", b"%PDF-1.7 not a photo"),)), "photo", ("a.jpg", "不是图片")),
    (dict(photos=(PhotoInput("空.png", b""),)), "photo", ("空文件",)),
    (dict(photos=(PhotoInput("坏.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 20),)), "photo", ("已损坏",)),
])
def test_bad_report_is_refused(shared_store, bad, field, words):
    store, world = shared_store  # shared: a refused report writes nothing
    svc = service(store, FixedClock(T0))
    _refused(store, lambda: svc.report(world.actors["acceptor"], draft(**bad)), field, *words)


def test_photo_too_large(store, world):
    svc = service(store, FixedClock(T0), settings=CaseSettings(max_photo_bytes=200))
    big = PhotoInput("大图.png", png_bytes(64, 64, color=(1, 2, 3)) + b"\0" * 300)
    _refused(store, lambda: svc.report(world.actors["acceptor"], draft(photos=(big,))), "photo", "超过上限")


def test_component_category_must_match(svc, store, world):
    bad = draft("component:01001", location=LocationInput(component_code=MANHOLE))
    _refused(store, lambda: svc.report(world.actors["supervisor"], bad), "category", "污水井盖", "供水井盖")


def _filed(svc, world):
    r = svc.report(world.actors["supervisor"], draft())
    return svc.file(world.actors["leader_shift"], r.case.id, r.version)


def test_department_that_does_not_handle_the_category(svc, store, world):
    f = _filed(svc, world)
    d = world.actors["dispatcher"]
    err = _refused(store, lambda: svc.dispatch(d, f.case.id, f.version, department="YL"), "department",
                   "区园林绿化管理所", "不负责「暴露垃圾」", "区环境卫生管理所", "平江街道办事处")
    assert "reason" not in err.field
    _refused(store, lambda: svc.dispatch(d, f.case.id, f.version, department="OLD"), "department", "已停用")
    with pytest.raises(NotFound, match="部门「NOPE」不存在"):
        svc.dispatch(d, f.case.id, f.version, department="NOPE")


def test_dispatch_outside_the_suggestions_needs_a_reason(svc, store, world):
    with store.session() as s, s.begin():  # SZ handles 暴露垃圾 in another street only
        other = AdminArea(code="320599002", name="观前街道", level="street")
        s.add(other)
        s.flush()
        cat = s.scalars(select(Category).where(Category.kind == "event", Category.code == "06010")).one()
        s.add(RoutingRule(category_id=cat.id, admin_area_id=other.id, department_id=world.dept["SZ"]))
    f = _filed(svc, world)
    d = world.actors["dispatcher"]
    _refused(store, lambda: svc.dispatch(d, f.case.id, f.version, department="SZ"), "reason",
             "不在派遣建议中", "请填写派遣理由")
    r = svc.dispatch(d, f.case.id, f.version, department="SZ", reason="环卫所设备检修，临时由市政处理")
    assert r.case.department_code == "SZ"
    assert svc.events(r.case.id)[-1].payload["suggested_rank"] is None


def test_reasons_and_department_binding(svc, store, world):
    a = world.actors
    f = _filed(svc, world)
    _refused(store, lambda: svc.void(a["leader_shift"], f.case.id, f.version, reason=" "), "reason",
             "必须填写理由")
    r = svc.dispatch(a["dispatcher"], f.case.id, f.version, department="JD001")
    before = _counts(store)
    with pytest.raises(PermissionDenied, match="派遣给「平江街道办事处」"):
        svc.accept(a["dept_hw"], r.case.id, r.version)
    assert _counts(store) == before
    with pytest.raises(InvalidTransition, match="只有「待派遣」的案卷可以派遣"):
        svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], r.case.id, r.version)
    _refused(store, lambda: svc.request_extension(a["dept_jd"], r.case.id, r.version, minutes=0, reason="x"),
             "minutes", "正整数")
    _refused(store, lambda: svc.feedback(a["dept_jd"], r.case.id, r.version, text=""), "text", "不能为空")


def test_closing_without_photos_needs_the_override_or_is_refused(store, world, clock):
    strict = service(store, clock, settings=CaseSettings(require_photos_to_close=True))
    lax = service(store, clock)
    a = world.actors

    def checked(photos=()):
        r = lax.report(a["supervisor"], draft(photos=photos))
        r = lax.file(a["leader_shift"], r.case.id, r.version)
        r = lax.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
        r = lax.accept(a["dept_jd"], r.case.id, r.version)
        r = lax.feedback(a["dept_jd"], r.case.id, r.version, text="已清理",
                         photos=(photo("after", taken_at=clock.now()),) if photos else ())
        r = lax.send_check(a["acceptor"], r.case.id, r.version)
        return lax.check(a["supervisor"], r.case.id, r.version, outcome="passed")

    bare = checked()
    _refused(store, lambda: strict.close(a["leader_shift"], bare.case.id, bare.version), "photo",
             "缺少：处置前照片", "返工")
    _refused(store, lambda: lax.close(a["leader_shift"], bare.case.id, bare.version), "override", "--override")
    _refused(store, lambda: lax.close(a["leader_shift"], bare.case.id, bare.version, override=True), "note",
             "写明理由")
    warned = lax.close(a["leader_shift"], bare.case.id, bare.version, override=True, note="照片丢失，现场已核查")
    assert warned.case.state.value == "closed" and "结案证据不完整" in warned.warnings[0]
    full = checked(photos=(photo(taken_at=clock.now()),))
    assert strict.close(a["leader_shift"], full.case.id, full.version).warnings == ()
