"""Closing evidence (issue 11, item 2): before and after photos with their shooting times, checked
against the case's timeline; the category decides refuse / override / none; every close records
its evidence (and an override its reason). Both backends (the PostGIS trigger: tests/store/test_gates_pg.py).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import update

from app.commands.evidence import check_closing
from app.domain.definitions import Action, CaseState
from app.services.attachments import PhotoInput
from app.services.cases import CaseSettings
from app.services.errors import ValidationError
from app.store.models import Category
from services.world import T0, draft, photo, service


def jpeg_taken(at: datetime) -> bytes:
    """A real JPEG whose EXIF DateTimeOriginal (in the Exif sub-IFD, as cameras write it) is ``at``."""
    exif = Image.Exif()
    exif[0x8769] = {36867: at.strftime("%Y:%m:%d %H:%M:%S")}
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 120, 30)).save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def checked(svc, world, clock, *, before: datetime | None = None, after: datetime | None = None,
            report_photo: bool = True, after_photo: bool = True, category: str = "event:06010"):
    """A supervisor's report walked to 待结案; photos stated with the given shooting times."""
    a = world.actors
    photos = (photo(taken_at=before),) if report_photo else ()
    r = svc.report(a["supervisor"], draft(category, photos=photos))
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    clock.advance(timedelta(minutes=10))
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    r = svc.accept(a["dept_jd"], r.case.id, r.version)
    clock.advance(timedelta(hours=1))
    r = svc.feedback(a["dept_jd"], r.case.id, r.version, text="已清理",
                     photos=(photo("after", "后.png", taken_at=after),) if after_photo else ())
    r = svc.send_check(a["acceptor"], r.case.id, r.version)
    return svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")


def _close_payload(svc, case_id: int) -> dict:
    return next(e for e in reversed(svc.events(case_id)) if e.action == Action.CLOSE.value).payload


def _set_mode(store, code: str, mode: str) -> None:
    with store.session() as s, s.begin():
        s.execute(update(Category).where(Category.kind == "event", Category.code == code)
                  .values(close_evidence=mode))


def test_a_complete_close_records_its_evidence(svc, world, clock):
    r = checked(svc, world, clock, before=T0, after=T0 + timedelta(minutes=50))
    assert svc.closing_evidence(r.case.id).complete
    closed = svc.close(world.actors["leader_shift"], r.case.id, r.version)
    assert closed.case.state is CaseState.CLOSED and closed.warnings == ()
    payload = _close_payload(svc, r.case.id)
    assert payload["evidence"] == {"before_at": "2026-03-02 09:00:00", "after_at": "2026-03-02 09:50:00",
                                   "missing": []}
    assert "override" not in payload


def test_an_after_photo_from_before_the_dispatch_needs_the_override_and_its_reason(svc, world, clock, store):
    a = world.actors
    r = checked(svc, world, clock, before=T0 - timedelta(hours=1), after=T0 + timedelta(minutes=5))  # dispatched at 09:10
    check = svc.closing_evidence(r.case.id)
    assert check.codes == ("after_after_dispatch",) and check.dispatched_at == T0 + timedelta(minutes=10)
    with pytest.raises(ValidationError) as err:
        svc.close(a["leader_shift"], r.case.id, r.version)
    assert err.value.field == "override" and "派遣之后拍摄的处置后照片" in str(err.value)
    with pytest.raises(ValidationError) as err:
        svc.close(a["leader_shift"], r.case.id, r.version, override=True, note="  ")
    assert err.value.field == "note"
    assert svc.get(r.case.id).state is CaseState.CHECKED and svc.get(r.case.id).version == r.version
    closed = svc.close(a["leader_shift"], r.case.id, r.version, override=True, note="现场核查时已确认整改完成")
    assert closed.case.state is CaseState.CLOSED and "结案证据不完整" in closed.warnings[0]
    payload = _close_payload(svc, r.case.id)
    assert payload["override"] is True and payload["evidence"]["missing"] == ["after_after_dispatch"]
    close_event = next(e for e in svc.events(r.case.id) if e.action == Action.CLOSE.value)
    assert close_event.reason == "现场核查时已确认整改完成"


@pytest.mark.parametrize("kw, codes", [
    (dict(report_photo=False, after_photo=False), ["before_photo", "after_photo"]),
    (dict(before=None, after=T0 + timedelta(hours=1)), ["before_time"]),
    (dict(before=T0, after=None), ["after_time"]),
    (dict(before=T0 + timedelta(hours=2), after=T0 + timedelta(hours=1)), ["after_after_before"]),
])
def test_each_missing_piece_is_named(svc, world, clock, kw, codes):
    r = checked(svc, world, clock, **kw)
    assert list(svc.closing_evidence(r.case.id).codes) == codes
    svc.close(world.actors["leader_shift"], r.case.id, r.version, override=True, note="值班长确认")
    assert _close_payload(svc, r.case.id)["evidence"]["missing"] == codes


def test_a_refusing_category_refuses_even_the_override(svc, world, clock, store):
    _set_mode(store, "06010", "refuse")
    r = checked(svc, world, clock, report_photo=False, after_photo=False)
    with pytest.raises(ValidationError) as err:
        svc.close(world.actors["leader_shift"], r.case.id, r.version, override=True, note="照片丢失")
    assert err.value.field == "photo" and "按规定不能结案" in str(err.value) and "返工" in str(err.value)
    assert svc.get(r.case.id).state is CaseState.CHECKED
    # the photos with their times are what it takes
    good = checked(svc, world, clock, before=clock.now(), after=clock.now() + timedelta(hours=2))
    assert svc.close(world.actors["leader_shift"], good.case.id, good.version).case.state is CaseState.CLOSED


def test_a_category_without_the_rule_closes_without_photos(svc, world, clock, store):
    _set_mode(store, "06010", "none")
    r = checked(svc, world, clock, report_photo=False, after_photo=False)
    closed = svc.close(world.actors["leader_shift"], r.case.id, r.version)
    assert closed.case.state is CaseState.CLOSED and closed.warnings == ()
    assert _close_payload(svc, r.case.id)["evidence"]["missing"] == []


def test_require_photos_to_close_makes_every_category_refuse(store, world, clock):
    assert CaseSettings.from_env({"GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE": "1"}).require_photos_to_close
    assert not CaseSettings.from_env({"GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE": "off"}).require_photos_to_close
    assert not CaseSettings.from_env({}).require_photos_to_close
    with pytest.raises(ValidationError, match="GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE"):
        CaseSettings.from_env({"GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE": "maybe"})
    _set_mode(store, "06010", "none")
    strict = service(store, clock, settings=CaseSettings.from_env({"GRIDHALL_REQUIRE_PHOTOS_TO_CLOSE": "yes"}))
    r = checked(strict, world, clock, report_photo=False, after_photo=False)
    assert strict.closing_evidence(r.case.id).refused
    with pytest.raises(ValidationError) as err:
        strict.close(world.actors["leader_shift"], r.case.id, r.version, override=True, note="x")
    assert err.value.field == "photo"


def test_the_exif_time_is_the_shooting_time_and_attachments_list_it(svc, world, clock):
    a = world.actors
    data = jpeg_taken(T0 - timedelta(minutes=30))
    r = svc.report(a["supervisor"], draft(photos=(PhotoInput("exif.jpg", data, "report"),)))
    listed = svc.attachments(r.case.id)
    assert len(listed) == 1
    row = listed[0]
    assert (row.kind, row.filename, row.mime, row.taken_at, row.size) == (
        "report", "exif.jpg", "image/jpeg", T0 - timedelta(minutes=30), len(data))
    assert len(row.sha256) == 64
    stated = svc.report(a["supervisor"], draft(photos=(PhotoInput("s.jpg", data, "report", T0),)))
    assert svc.attachments(stated.case.id)[0].taken_at == T0  # the handheld's stated time


def test_the_desk_precheck_is_the_service_rule(svc, world, clock):
    r = checked(svc, world, clock, before=T0, after=T0 + timedelta(minutes=5))  # before the 09:10 dispatch
    row = svc.get(r.case.id)
    check = check_closing(svc, row)
    assert check.codes == ("after_after_dispatch",) and not check.refused and check.times_known
    assert "派遣之后拍摄的处置后照片" in check.message()
