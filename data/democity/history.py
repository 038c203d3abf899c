"""Case histories: legal paths through the workflow, timed by who acts and when.

A path is a list of steps (action, role, to_state, delay kind, extras) that the default
workflow accepts. Terminal cases run forward from their report; open cases are anchored
on "now": the event that started the running stage is placed so that the stage's timer
shows the wanted light, earlier steps end before it and later steps fall before now.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.cases import TimerSpec
from app.domain.deadlines import deadline, read_timer
from app.domain.definitions import Basis, CaseState, Light, Stage
from app.domain.limits import LimitTable
from app.domain.workflow import stage_for
from data.democity import texts
from data.democity.timing import Timing

# delay kind -> (actor kind, minutes low, high); "handle" and pauses are special.
DELAYS = {
    "desk": ("desk", 2, 25), "verify": ("supervisor", 15, 70), "file": ("desk", 3, 30),
    "dispatch": ("desk", 2, 25), "accept": ("department", 5, 90), "request": ("department", 30, 240),
    "approve": ("desk", 10, 120), "urge": ("leader", 60, 400), "check": ("supervisor", 20, 100),
    "close": ("desk", 5, 45), "reply": ("desk", 5, 40), "callback": ("desk", 240, 2400),
}
PAUSE_DAYS = {"defer": (2, 15), "shelve": (20, 100)}
EXTENSION_MINUTES = 480
OPEN_STATE_WEIGHTS = {
    "reported": 40, "verifying": 30, "filed": 40, "dispatched": 50, "handling": 120,
    "return_requested": 12, "extension_requested": 15, "defer_requested": 10, "shelve_requested": 8,
    "deferred": 20, "shelved": 20, "fed_back": 30, "checking": 30, "checked": 25, "void_requested": 10,
    "disputed": 8,
}
#: 回访 results of the public and hotline reporters called back after closing (shares).
CALLBACK_SHARES = (("satisfied", 0.70), ("basically_satisfied", 0.17), ("unsatisfied", 0.07), ("unreachable", 0.06))


@dataclass
class Step:
    """One step of a path; ``dept`` is 'case' (the handling department) or 'wrong' (before a return)."""

    action: str
    role: str
    to_state: str
    delay: str
    reason: str | None = None
    payload: dict | None = None
    dept: str | None = None


@dataclass
class Draft:
    """A case before it gets its id and number: fields plus timed events."""

    kind: str
    code: str  # event category code
    level: str
    source: str
    grid: int
    component: int | None
    point: tuple[float, float]
    address: str
    description: str
    dept: str
    wrong_dept: str
    reporter: tuple[str, str] | None
    steps: list[Step] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    urges: int = 0
    reworks: int = 0
    timer: TimerSpec | None = None


#: The close payload and reason of a demo case (no photos are generated): the evidence missing and
#: the shift leader's override, as CaseService.close records them (app/domain/evidence.py codes).
CLOSE_OVERRIDE = {"evidence": {"before_at": None, "after_at": None, "missing": ["before_photo", "after_photo"]},
                  "override": True}
CLOSE_OVERRIDE_REASON = "演示数据未附现场照片，值班长确认结案"
#: Report sources filed only after a confirmed 核实 (app/store/migrations/versions/0013_gates.py SOURCE_RULES).
VERIFY_BEFORE_FILING = frozenset({"public", "hotline", "media", "police"})


def variations(rng: random.Random) -> set[str]:
    """Detours of a closed case (standards-like shares: ~3 % rework, ~3 % extension, ~2 % return...)."""
    out = set()
    for name, p in (("return", 0.02), ("extension", 0.03), ("refuse", 0.008), ("defer", 0.006),
                    ("shelve", 0.003), ("rework", 0.03), ("urge", 0.025), ("dispute", 0.01)):
        if rng.random() < p:
            out.add(name)
    return out


def build_path(rng: random.Random, source: str, target: str, var: set[str], compact: bool = False) -> list[Step]:
    """A legal path from 上报 to ``target`` with the detours in ``var``."""
    steps: list[Step] = []

    def add(action, role, to, delay, reason=None, payload=None, dept=None):
        steps.append(Step(action, role, to, delay, reason and texts.reason(rng, reason), payload, dept))

    # sources verified on site before filing (source_rules, migration 0013) are, even in a compact history
    verified = source in VERIFY_BEFORE_FILING or (source != "supervisor" and not compact)
    add("report", "supervisor" if source == "supervisor" else "acceptor", "reported", "report")
    if verified:
        add("send_verify", "acceptor", "verifying", "desk")
        if target == "verifying":
            return steps
        if target == "not_filed" and rng.random() < 0.5:
            add("reject", "shift_leader", "not_filed", "file", "reject")
            return steps
        add("verify", "supervisor", "reported", "verify", payload={"confirmed": True})
    if target == "reported":
        return steps
    if target == "not_filed":
        add("reject", "shift_leader", "not_filed", "file", "reject")
        return steps
    add("file", "shift_leader", "filed", "file")
    if verified:
        add("reply", "acceptor", "filed", "reply")
    if target == "filed":
        return steps
    late_void = "late_void" in var
    if target in ("void_requested", "voided") and not late_void:
        add("request_void", "dispatcher", "void_requested", "desk", "void")
        if target == "voided":
            add("approve", "shift_leader", "voided", "approve")
        return steps
    returned = "return" in var or target == "return_requested"
    # 职责争议: the department disputes; the coordinator upholds it, or (half the closed ones, when
    # the case was not returned already) rules another department responsible.
    disputed = "dispute" in var or target == "disputed"
    away = disputed and target != "disputed" and not returned and rng.random() < 0.5
    add("dispatch", "dispatcher", "dispatched", "dispatch", dept="wrong" if returned or away else "case")
    if returned:
        add("request_return", "department", "return_requested", "accept", "return", dept="wrong")
        if target == "return_requested":
            return steps
        add("approve", "dispatcher", "filed", "approve")
        add("dispatch", "dispatcher", "dispatched", "dispatch", dept="case")
    if target == "dispatched":
        return steps
    add("accept", "department", "handling", "accept", dept="wrong" if away else "case")
    if disputed:
        add("dispute", "department", "disputed", "request", "dispute", dept="wrong" if away else "case")
        if target == "disputed":
            return steps
        ruling = "reassigned" if away else "upheld"
        add("rule", "dispatcher", "dispatched", "approve", f"rule_{ruling}", payload={"ruling": ruling}, dept="case")
        add("accept", "department", "handling", "accept", dept="case")
    if "urge" in var:
        add("urge", "leader", "handling", "urge")
    if "refuse" in var:
        add("request_extension", "department", "extension_requested", "request", "extension", dept="case")
        add("refuse", "dispatcher", "handling", "approve", "refuse")
    if "extension" in var or target == "extension_requested":
        add("request_extension", "department", "extension_requested", "request", "extension", dept="case")
        if target == "extension_requested":
            return steps
        add("approve", "dispatcher", "handling", "approve", payload={"minutes": EXTENSION_MINUTES})  # as the services
    for pause, paused in (("defer", "deferred"), ("shelve", "shelved")):
        if pause in var or target in (f"{pause}_requested", paused):
            add(f"request_{pause}", "department", f"{pause}_requested", "request", pause, dept="case")
            if target == f"{pause}_requested":
                return steps
            add("approve", "dispatcher", paused, "approve")
            if target == paused:
                return steps
            add("restore", "dispatcher", "handling", pause)
    if target == "handling":
        return steps
    if target == "void_requested":
        add("request_void", "dispatcher", "void_requested", "approve", "void")
        return steps
    if target == "voided":
        add("void", "shift_leader", "voided", "approve", "void")
        return steps
    add("feedback", "department", "fed_back", "handle", dept="case")
    if target == "fed_back":
        return steps
    add("send_check", "acceptor", "checking", "desk")
    if target == "checking":
        return steps
    if "rework" in var:
        add("check", "supervisor", "dispatched", "check", "check_failed", payload={"outcome": "failed"})
        add("accept", "department", "handling", "accept", dept="case")
        add("feedback", "department", "fed_back", "handle", dept="case")
        add("send_check", "acceptor", "checking", "desk")
    add("check", "supervisor", "checked", "check", payload={"outcome": "passed"})
    if target == "checked":
        return steps
    # the demo stores no photos: each close is the shift leader's recorded override (CaseService.close)
    steps.append(Step("close", "shift_leader", "closed", "close", CLOSE_OVERRIDE_REASON, dict(CLOSE_OVERRIDE)))
    if verified:
        add("reply", "acceptor", "closed", "reply")
    if source in ("public", "hotline") and not compact and rng.random() < 0.8:  # 回访 (app.domain.derived.REPLY_SOURCES)
        r, result = rng.random(), CALLBACK_SHARES[-1][0]
        for name, share in CALLBACK_SHARES:
            if r < share:
                result = name
                break
            r -= share
        add("callback", "acceptor", "closed", "callback", payload={"result": result})
    if target != "closed":
        raise ValueError(f"no path from a {source} report to {target}")
    return steps


def stages(steps: list[Step]) -> list[Stage | None]:
    """The timed stage after each step (作废申请中 keeps the stage before the request)."""
    out: list[Stage | None] = []
    prev_state: str | None = None
    for s in steps:
        if s.to_state == "void_requested":
            out.append(stage_for("void_requested", prev_state))
        else:
            out.append(stage_for(s.to_state))
        prev_state = s.to_state if s.to_state != "void_requested" else prev_state
    return out


def timer_start_index(steps: list[Step]) -> int:
    """Index of the step that started the running stage's timer."""
    st = stages(steps)
    k = 0
    for i in range(1, len(steps)):
        if st[i] != st[i - 1]:
            k = i
    return k


class Clockwork:
    """Times the steps of drafts with plausible delays."""

    def __init__(self, timing: Timing, limits: LimitTable):
        self.timing = timing
        self.cal = timing.cal
        self.limits = limits
        self._limit_cache: dict[tuple, tuple[int, Basis]] = {}

    def limit(self, kind: str, code: str, level: str, stage: Stage) -> tuple[int, Basis]:
        key = (kind, code, level, stage)
        hit = self._limit_cache.get(key)
        if hit is None:
            rule = self.limits.lookup(kind, code, level, stage)
            hit = self._limit_cache[key] = (rule.minutes, rule.basis)
        return hit

    def delay(self, rng: random.Random, d: Draft, step: Step, t: datetime) -> datetime:
        """The time of ``step`` after the previous step at ``t``."""
        if step.delay in PAUSE_DAYS:
            lo, hi = PAUSE_DAYS[step.delay]
            return self.timing.within(t + timedelta(days=rng.uniform(lo, hi)), "desk")
        if step.delay == "handle":
            minutes, basis = self.limit(d.kind, d.code, d.level, Stage.HANDLE)
            spent = minutes * math.exp(rng.gauss(math.log(0.45), 0.65))  # ~85-90 % on time
            if basis is Basis.NATURAL:
                return t + timedelta(minutes=max(5.0, spent))
            return self.timing.after(t, "department", max(10.0, spent))
        if step.delay == "accept" and d.level == "urgent":  # urgent work is taken at once, day or night
            return t + timedelta(minutes=rng.uniform(5, 30))
        actor, lo, hi = DELAYS[step.delay]
        return self.timing.after(t, actor, rng.uniform(lo, hi))

    def forward(self, rng: random.Random, d: Draft, start: datetime, steps: list[Step]) -> list[datetime]:
        """Times of ``steps``: the first at ``start``, each later one after its delay."""
        times = [start]
        for step in steps[1:]:
            t = self.delay(rng, d, step, times[-1])
            times.append(max(t, times[-1] + timedelta(minutes=1)).replace(microsecond=0))
        return times

    # --- open cases -------------------------------------------------------------------

    def anchor_open(self, rng: random.Random, d: Draft, now: datetime, light: Light) -> None:
        """Time an open draft so its running timer shows ``light`` at ``now``."""
        steps = d.steps
        k = timer_start_index(steps)
        stage = stages(steps)[-1]
        paused = steps[-1].to_state in ("deferred", "shelved")
        anchor = now
        if paused:
            lo, hi = (1, 12) if steps[-1].to_state == "deferred" else (8, 80)
            anchor = self.timing.within(now - timedelta(days=rng.uniform(lo, hi)), "desk")
            anchor = min(anchor, now - timedelta(hours=1)).replace(microsecond=0)
        minutes, basis = self.limit(d.kind, d.code, d.level, stage)
        ext = EXTENSION_MINUTES if any(s.action == "approve" and s.payload and "minutes" in s.payload
                                       for s in steps[k:]) else 0
        frac = {Light.GREEN: rng.uniform(0.08, 0.72), Light.YELLOW: rng.uniform(0.84, 0.97),
                Light.RED: rng.uniform(1.15, 3.0)}[light]
        used = frac * (minutes + ext)
        if basis is Basis.WORKING:
            start = self.timing.back_working(anchor, used)
        else:
            start = anchor - timedelta(minutes=used)
        start = start.replace(microsecond=0)
        # Steps before the stage started: run forward from a guess and pull back until they fit.
        pre = steps[:k]
        sub_seed = rng.random()
        times: list[datetime] = []
        if pre:
            guess = start - timedelta(hours=2)
            for _ in range(8):
                times = self.forward(random.Random(sub_seed), d, guess, pre)
                if times[-1] < start - timedelta(minutes=1):
                    break
                guess -= (times[-1] - start) + timedelta(minutes=30)
            else:
                times = self.forward(random.Random(sub_seed), d, start - timedelta(days=3), pre)
            if times[-1] >= start:  # still no fit: one step every ten minutes up to the start
                times = [start - timedelta(minutes=10 * (len(pre) - n)) for n in range(len(pre))]
        times.append(start)
        # Steps after the stage started fall between its start and the anchor.
        post = steps[k + 1:]
        if post:
            later = self.forward(rng, d, start, [steps[k]] + post)[1:]
            if paused:
                later[-1] = anchor
            if later[-1] >= anchor or (paused and len(later) > 1 and later[-2] >= anchor):
                span = (anchor - start) / (len(post) + (0 if paused else 1))
                later = [(start + span * (n + 1)).replace(microsecond=0) for n in range(len(post))]
            times += later
        d.times = times
        d.timer = TimerSpec(stage=stage, basis=basis, limit_minutes=minutes, started_at=start,
                            paused_since=times[-1] if paused else None, extension_minutes=ext)

    def light_of(self, d: Draft, now: datetime) -> Light:
        """The light the draft's timer shows at ``now``."""
        return read_timer(d.timer, self.cal, now).light

    def deadline_of(self, d: Draft) -> datetime | None:
        """Deadline of the draft's running timer (None while paused)."""
        return deadline(d.timer, self.cal)

    def handle_deadline(self, d: Draft) -> datetime | None:
        """The last 处置 deadline of a case that was dispatched (for evaluation)."""
        last = None
        ext = 0
        for step, t in zip(d.steps, d.times, strict=True):
            if step.to_state == "dispatched" and (step.payload or {}).get("ruling") != "upheld":  # upheld: runs on
                last, ext = t, 0
            elif step.action == "approve" and step.payload and "minutes" in step.payload:
                ext += step.payload["minutes"]
        if last is None:
            return None
        minutes, basis = self.limit(d.kind, d.code, d.level, Stage.HANDLE)
        spec = TimerSpec(Stage.HANDLE, basis, minutes, last, extension_minutes=ext)
        return deadline(spec, self.cal)


def open_targets(count: int, rng: random.Random) -> list[tuple[str, Light]]:
    """``count`` (state, light) pairs covering every open state and, per state, all lights in turn."""
    total = sum(OPEN_STATE_WEIGHTS.values())
    states = list(OPEN_STATE_WEIGHTS)
    per = {s: max(3, round(count * w / total)) for s, w in OPEN_STATE_WEIGHTS.items()}
    lights = (Light.GREEN, Light.GREEN, Light.YELLOW, Light.RED, Light.GREEN, Light.RED, Light.YELLOW)
    out = []
    for s in states:
        offset = rng.randrange(len(lights))
        for n in range(per[s]):
            light = (Light.GREEN, Light.YELLOW, Light.RED)[n] if n < 3 else lights[(n + offset) % len(lights)]
            out.append((s, light))
    return out


__all__ = ["CaseState", "Clockwork", "Draft", "Step", "build_path", "open_targets", "variations"]
