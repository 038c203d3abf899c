"""Drive a case through the services to the states the 督办 / 争议 / 回访 tests start from."""

from __future__ import annotations

from datetime import timedelta

from app.services.attachments import PhotoInput
from services.world import draft, png_bytes


def shot(kind: str, clock, name: str = "现场.png") -> PhotoInput:
    """A photo of ``kind`` taken now (by ``clock``), as a handheld states its shooting time."""
    return PhotoInput(name, png_bytes(), kind, clock.now())


def handling(svc, world, clock, *, department: str = "JD001", source: str = "supervisor"):
    """A case 处置中 at ``department`` (reported by a supervisor: no verification needed before filing)."""
    a = world.actors
    who = a["supervisor"] if source == "supervisor" else a["acceptor"]
    r = svc.report(who, draft(source=source, reporter_name=None if source == "supervisor" else "市民甲",
                              photos=(shot("report", clock),)))
    if source != "supervisor":
        r = svc.send_verify(a["acceptor"], r.case.id, r.version)
        r = svc.verify(a["supervisor"], r.case.id, r.version, result="现场属实")
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department=department)
    dept_actor = a["dept_jd"] if department == "JD001" else a["dept_hw"]
    return svc.accept(dept_actor, r.case.id, r.version)


def closed(svc, world, clock, *, source: str = "public"):
    """A closed case of ``source`` with before and after photos, handled by JD001."""
    a = world.actors
    r = handling(svc, world, clock, source=source)
    clock.advance(timedelta(hours=1))
    r = svc.feedback(a["dept_jd"], r.case.id, r.version, text="已清运", photos=(shot("after", clock, "后.png"),))
    r = svc.send_check(a["acceptor"], r.case.id, r.version)
    r = svc.check(a["supervisor"], r.case.id, r.version, outcome="passed")
    return svc.close(a["leader_shift"], r.case.id, r.version)
