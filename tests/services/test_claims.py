"""Conflict control: advisory claims, conflict explanations, and two processes losing no update."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.services.claims import ClaimService, explain_conflict
from app.services.errors import ConflictError, NotFound, ValidationError
from app.store.commands import verify_audit
from app.store.models import CaseEvent
from services.world import draft

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def claims(store, clock):
    return ClaimService(store, clock)


@pytest.fixture
def case(svc, world):
    r = svc.report(world.actors["supervisor"], draft())
    return svc.file(world.actors["leader_shift"], r.case.id, r.version)


def test_others_see_who_is_dispatching(claims, world, case):
    a = world.actors
    mine = claims.claim(a["dispatcher"], case.case.id, "席位 3", action="dispatch")
    assert mine.granted and mine.claim.holder == "dispatcher"
    other = claims.claim(a["dispatcher2"], case.case.id, "席位 5", action="dispatch")
    assert not other.granted
    assert other.claim.text == "张三（派遣员）正在派遣此案卷（工作站 席位 3）"
    assert claims.held_by_others(a["dispatcher2"], case.case.id).holder == "dispatcher"
    assert claims.held_by_others(a["dispatcher"], case.case.id) is None


def test_a_claim_is_renewed_and_expires_unless_renewed(claims, world, case, clock):
    a = world.actors
    first = claims.claim(a["dispatcher"], case.case.id, ttl=60).claim
    clock.advance(timedelta(seconds=50))
    renewed = claims.claim(a["dispatcher"], case.case.id, ttl=60).claim
    assert renewed.claimed_at == first.claimed_at and renewed.expires_at > first.expires_at
    clock.advance(timedelta(seconds=50))
    assert claims.holder(case.case.id).holder == "dispatcher"  # renewed: still held
    clock.advance(timedelta(seconds=11))
    assert claims.holder(case.case.id) is None  # the workstation went quiet: the claim lapsed
    taken = claims.claim(a["dispatcher2"], case.case.id)
    assert taken.granted and taken.claim.claimed_at == clock.now()


def test_release_frees_the_case_for_others(claims, world, case):
    a = world.actors
    claims.claim(a["dispatcher"], case.case.id)
    assert not claims.release(a["dispatcher2"], case.case.id)  # not theirs to release
    assert claims.release(a["dispatcher"], case.case.id)
    assert claims.holder(case.case.id) is None
    assert claims.claim(a["dispatcher2"], case.case.id).granted


def test_bad_claims_are_refused(claims, world, case):
    with pytest.raises(NotFound):
        claims.claim(world.actors["dispatcher"], 987654)
    with pytest.raises(ValidationError, match="占用时长"):
        claims.claim(world.actors["dispatcher"], case.case.id, ttl=0)
    with pytest.raises(ValidationError):
        claims.claim(world.actors["dispatcher"], case.case.id, action="飞行")


def test_conflict_explains_what_changed_since(svc, store, world, case):
    a = world.actors
    seen = case.version
    urged = svc.urge(a["boss"], case.case.id, seen, note="群众反映强烈")
    svc.dispatch(a["dispatcher2"], case.case.id, urged.version, department="JD001")
    with pytest.raises(ConflictError):
        svc.dispatch(a["dispatcher"], case.case.id, seen, department="HW")
    text = explain_conflict(store, case.case.id, seen)
    lines = text.splitlines()
    assert f"第 {seen} 版之后有 2 项变更" in lines[0]
    assert "刘局（领导）督办" in lines[1] and "群众反映强烈" in lines[1]
    assert "赵六（派遣员）派遣 → 待接收" in lines[2]
    assert "已保留" in lines[-1]
    assert "没有变化" in explain_conflict(store, case.case.id, svc.get(case.case.id).version)


HAMMER = """
import json, sys
from app.domain.clock import FixedClock
from app.services.actors import Actor
from app.services.errors import ConflictError
from app.store.engine import open_store
from services.world import T0, service
url, ids, n, kind = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
store = open_store(url)
svc = service(store, FixedClock(T0))
actor = Actor("boss", "刘局", "leader") if kind == "urge" else Actor("acceptor", "王芳", "acceptor")
done = conflicts = 0
for i in range(n):
    case_id = ids[i % len(ids)]
    while True:
        version = svc.get(case_id).version
        try:
            if kind == "urge":
                svc.urge(actor, case_id, version, note=f"第 {i} 次")
            else:
                svc.reply(actor, case_id, version, text=f"正在处理（{i}）")
            done += 1
            break
        except ConflictError:
            conflicts += 1
print(json.dumps({"done": done, "conflicts": conflicts}))
"""


def test_two_processes_hammering_the_same_cases_lose_no_update(svc, store, world):
    ids = [svc.report(world.actors["supervisor"], draft(description=f"暴露垃圾 {i}")).case.id for i in range(3)]
    url = str(store.path) if store.backend == "spatialite" else store.url.render_as_string(hide_password=False)
    n = 15
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])}
    procs = [subprocess.Popen([sys.executable, "-c", HAMMER, url, json.dumps(ids), str(n), kind],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for kind in ("urge", "reply")]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["done"] for r in results] == [n, n]
    with store.session() as s:
        for case_id in ids:
            events = s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
            # 1 (report) + every successful operation on it, no more and no less
            assert svc.get(case_id).version == events == 1 + 2 * n // len(ids)
    assert verify_audit(store) is None
