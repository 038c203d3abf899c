"""Case paths are legal for the workflow and open cases are timed to the wanted light."""

from __future__ import annotations

import itertools
import random
from datetime import datetime

import pytest

from app.domain.calendar import WorkCalendar
from app.domain.definitions import OPEN_STATES, Light
from app.domain.limits import LimitTable
from app.domain.workflow import WORKFLOW, stage_for
from data.democity.history import Clockwork, Draft, build_path, open_targets, timer_start_index
from data.democity.timing import Timing

DETOURS = ["return", "extension", "refuse", "defer", "shelve", "rework", "urge", "late_void", "dispute"]
NOW = datetime(2026, 11, 20, 10, 30)


def _steps(path):
    return [(s.action, s.role, (s.payload or {}).get("outcome")) for s in path]


TARGETS = sorted(OPEN_STATES | {"closed", "not_filed", "voided"})
# Supervisors' own reports are never sent back to them for verification.
PAIRS = [(src, t) for src in ("supervisor", "hotline") for t in TARGETS if (src, t) != ("supervisor", "verifying")]


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_every_path_replays_to_its_target(source, target):
    rng = random.Random(1)
    combos = [()] + [(d,) for d in DETOURS] + list(itertools.combinations(DETOURS, 2))
    for var in combos:
        path = build_path(rng, source, target, set(var))
        assert WORKFLOW.replay(_steps(path)).value == target
        state = None
        for s in path:  # each step also carries the reason the workflow demands
            if s.action != "refuse":  # 不批准 needs the pre-request state; replay checked it
                WORKFLOW.check(state, s.action, s.role, outcome=(s.payload or {}).get("outcome"), reason=s.reason)
            state = s.to_state


def test_a_detour_shows_in_the_path():
    path = build_path(random.Random(2), "public", "closed", {"rework", "extension", "return"})
    actions = [s.action for s in path]
    assert actions[:3] == ["report", "send_verify", "verify"]
    assert actions.count("dispatch") == 2 and "request_return" in actions
    assert any(s.action == "check" and s.payload == {"outcome": "failed"} for s in path)
    assert actions[-2:] == ["close", "reply"] or actions[-3:] == ["close", "reply", "callback"]  # 回访: 80 %


def test_disputes_and_call_backs_in_the_paths():
    rng = random.Random(5)
    paths = [build_path(rng, "public", "closed", {"dispute"}) for _ in range(40)]
    rulings = {s.payload["ruling"] for p in paths for s in p if s.action == "rule"}
    assert rulings == {"upheld", "reassigned"}
    for p in paths:
        actions = [s.action for s in p]
        i = actions.index("dispute")
        assert actions[i - 1:i + 3] == ["accept", "dispute", "rule", "accept"]
        rule = p[i + 1]
        assert rule.dept == "case" and p[i].dept == ("wrong" if rule.payload["ruling"] == "reassigned" else "case")
    results = [s.payload["result"] for p in paths for s in p if s.action == "callback"]
    assert 20 <= len(results) < 40 and set(results) <= {"satisfied", "basically_satisfied", "unsatisfied",
                                                         "unreachable"}
    assert not any(s.action == "callback" for s in build_path(rng, "supervisor", "closed", set()))
    assert [s.action for s in build_path(rng, "hotline", "disputed", set())][-2:] == ["accept", "dispute"]


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="no path"):
        build_path(random.Random(1), "supervisor", "verifying", set())


def test_open_targets_give_every_open_state_all_three_lights():
    pairs = open_targets(60, random.Random(1))
    by_state = {}
    for state, light in pairs:
        by_state.setdefault(state, set()).add(light)
    assert set(by_state) == {s.value for s in OPEN_STATES}
    assert all(lights == {Light.GREEN, Light.YELLOW, Light.RED} for lights in by_state.values())


@pytest.mark.parametrize("light", [Light.GREEN, Light.YELLOW, Light.RED])
@pytest.mark.parametrize("target", ["reported", "filed", "handling", "extension_requested", "checking",
                                    "void_requested", "deferred", "shelved"])
def test_open_case_is_timed_to_the_wanted_light(target, light):
    cal = WorkCalendar()
    rng = random.Random(5)
    clock = Clockwork(Timing(cal, rng), LimitTable.load())
    d = Draft("event", "06010", "general", "hotline", 0, None, (0.0, 0.0), "", "", "JD001", "CGJ", None)
    d.steps = build_path(rng, "hotline", target, set())
    clock.anchor_open(rng, d, NOW, light)
    assert clock.light_of(d, NOW) is light
    assert all(a < b for a, b in zip(d.times, d.times[1:], strict=False))
    assert d.times[-1] <= NOW
    k = timer_start_index(d.steps)
    assert d.timer.started_at == d.times[k]
    assert d.timer.stage == (stage_for(target) if target != "void_requested" else stage_for("filed"))
    assert (d.timer.paused_since is not None) == (target in ("deferred", "shelved"))
