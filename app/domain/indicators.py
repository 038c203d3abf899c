"""Evaluation (考核评价, issue 13): the indicators of standards.md §5, computed from case events only.

Pure functions: no SQL, no Qt. The store (app.store.evaluation) hands over every case with an event
in the period as a :class:`CaseHistory` — its events up to the period's end and its facts (what the
report event records: kind, category, level, source, grid, community, street, component). Nothing
after the period's end is read, so a past period's figures never change as the history grows, and
nothing here reads a mutable case column or a rule that may be edited later except the weights
and bands of ``resources/evaluation.toml`` (named by version and hash in every result).

Definitions (``[start, end)`` is the period; "on time" = at or before the deadline in force, i.e.
the last ``deadline`` an event of the running stage recorded; a stage whose limit-recording
events set no deadline has no limit and is never late; on events older than that record (no
``limit_minutes`` anywhere in the case) a missing deadline is unknown: never on time, flagged
``no_deadline``):

Regions (grid, community, street, district — by the report's facts) and their cases = the cases
  filed (first 立案) in the period.
  立案数 = those; 应结案数 = 立案数 − voided by the end (− deferred if configured); 结案数 = closed by
  the end; 按期结案数 = closed with every timed stage from filing to closing ended on time (the
  same figure is 问题及时解决数: Hangzhou's 问题及时解决率 = it / 立案数); 监督举报数 = filed public
  reports (public sources of the rules) with a confirmed 核实.
Departments: each dispatch (or 协调裁定 to another department) in the period opens an assignment
  of the case to the department; an approved 回退 takes it back (not due). 应处置数 = assignments
  − returned; 处置数 = those fed back by the end; 按期处置数 = fed back on time; 结案数 = of them,
  the closed cases; 返工数 = failed checks of its assignments; 立案数 = distinct cases assigned.
Positions, by the user who recorded the event in the period:
  监督员 上报数 = its reports, 有效 = filed by the end (or voided after filing); 按时核实/核查 =
  核实/核查 tasks sent to it (the send event's ``supervisor``, else whoever answered) answered on
  time; 漏报 = cases filed in the period in its grids (``grid_supervisors``) first reported by the
  public, over the 立案数 in its grids.
  受理员 受理数 = reports it recorded; 核实/核查按时派发 = its 派发核实/派发核查 on time.
  值班长 按时立案 = its 立案 on time; 准确立案 = (立案 − later voided) / 立案; 按时结案 = its 结案 on time.
  派遣员 派遣数; 按时派遣 = its dispatches on time; 准确派遣 = (dispatches − later returned or
  reassigned) / dispatches.
Shares for regions and departments: 延期率, 回退率, 缓办 and 挂账 shares = requests of the kind on the
  subject's cases (assignments) / its cases (assignments) — the ledger counts requests the same
  way; average handling time = dispatch → feedback (natural minutes), average closing time =
  report → close.
Data-quality flags (case numbers per subject): ``quick_close`` (closed within N minutes of the
  latest dispatch), ``no_evidence`` (close payload ``evidence.missing`` not empty), ``override``
  (closed by the shift leader's override), ``reworked``, ``moved`` (returned or ruled to another
  department), ``no_deadline``. Older stores' close events carry no evidence: not flagged.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.domain.definitions import CaseState, Role
from app.domain.loop import REACHED_RESULTS, SATISFIED_RESULTS
from app.domain.workflow import stage_for

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "resources" / "evaluation.toml"

SUBJECTS = ("region", "department", "position")
LEVELS = ("grid", "community", "street", "district")
POSITIONS = (Role.SUPERVISOR.value, Role.ACCEPTOR.value, Role.SHIFT_LEADER.value, Role.DISPATCHER.value)
FACT_KEYS = ("kind", "category", "level", "source", "grid", "community", "street", "component")
FLAGS = ("quick_close", "no_evidence", "override", "reworked", "moved", "no_deadline")


# ---- rules -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grade:
    grade: str
    min: float
    colour: str


@dataclass(frozen=True)
class EvaluationRules:
    """The weights, bands and grades of ``resources/evaluation.toml``."""

    version: str
    digest: str
    min_cases: int
    quick_close_minutes: int
    public_sources: frozenset[str]
    close_rate_excludes_deferred: bool
    region_band_class: str
    grades: tuple[Grade, ...]
    bands: Mapping[str, tuple[tuple[int, int, float], ...]]
    weights: Mapping[str, Mapping[str, float]]
    inverse: Mapping[str, frozenset[str]]

    @classmethod
    def load(cls, path: str | Path | None = None) -> EvaluationRules:
        data = Path(path or DEFAULT_PATH).read_bytes()
        return cls.parse(data)

    @classmethod
    def parse(cls, data: bytes) -> EvaluationRules:
        """The rules of a TOML document; ValueError naming what is wrong."""
        try:
            doc = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"evaluation rules: {exc}") from exc
        general = doc.get("general", {})
        grades = tuple(sorted((Grade(str(g["grade"]), float(g["min"]), str(g["colour"])) for g in doc["grades"]),
                              key=lambda g: -g.min))
        bands = {k: tuple((int(lo), int(hi), float(s)) for lo, hi, s in v) for k, v in doc["bands"].items()}
        weights: dict[str, dict[str, float]] = {}
        inverse: dict[str, frozenset[str]] = {}
        for subject, table in doc["weights"].items():
            inverse[subject] = frozenset(table.get("inverse", ()))
            weights[subject] = {k: float(v) for k, v in table.items()
                                if k not in ("inverse", "source_sum") and isinstance(v, int | float)}
        band_class = str(general.get("region_band_class", "class_one"))
        if f"region_{band_class}" not in bands:
            raise ValueError(f"evaluation rules: no bands region_{band_class}")
        return cls(str(doc.get("version", "?")), hashlib.sha256(data).hexdigest(), int(general.get("min_cases", 5)),
                   int(general.get("quick_close_minutes", 10)),
                   frozenset(general.get("public_sources", ("public", "hotline", "media"))),
                   bool(general.get("close_rate_excludes_deferred", False)), band_class, grades, bands, weights,
                   inverse)

    def band_score(self, band: str, count: float) -> float:
        for lo, hi, score in self.bands[band]:
            if count >= lo and (hi < 0 or count <= hi):
                return score
        # between two integer bands (a per-grid average such as 2.5): the band below it
        eligible = [(lo, s) for lo, _hi, s in self.bands[band] if lo <= count]
        return max(eligible)[1] if eligible else 0.0

    def grade(self, score: float | None) -> Grade | None:
        if score is None:
            return None
        for g in self.grades:
            if score >= g.min:
                return g
        return self.grades[-1]


# ---- input -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """One case event as the evaluation reads it."""

    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    department_id: int | None
    at: datetime
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CaseHistory:
    """A case's events (seq order, none after the period's end) and its facts."""

    case_id: int
    number: str
    facts: Mapping[str, Any]
    events: Sequence[Event]


# ---- output ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """A rate with the counts behind it (``value`` None without a denominator)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    def record(self) -> dict[str, Any]:
        v = self.value
        return {"numerator": self.numerator, "denominator": self.denominator,
                "value": None if v is None else round(v, 6)}


@dataclass(frozen=True)
class Average:
    """An average of minutes with its total and count."""

    total_minutes: int
    count: int

    @property
    def value(self) -> float | None:
        return None if self.count == 0 else self.total_minutes / self.count

    def record(self) -> dict[str, Any]:
        v = self.value
        return {"total_minutes": self.total_minutes, "count": self.count,
                "value_minutes": None if v is None else round(v, 2)}


@dataclass
class SubjectResult:
    """One region, department or position holder: counts, rates, score, grade, flags."""

    subject: str
    level: str  # grid | community | street | district | department | supervisor | acceptor …
    code: str
    name: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    rates: dict[str, Figure] = field(default_factory=dict)
    averages: dict[str, Average] = field(default_factory=dict)
    components: dict[str, float | None] = field(default_factory=dict)  # component scores
    weight_sum: float = 0.0  # of the components that could be computed
    score: float | None = None
    grade: str | None = None
    colour: str | None = None
    base: int = 0  # the cases behind the main rate
    insufficient: bool = False
    rank: int | None = None
    flags: dict[str, list[str]] = field(default_factory=dict)
    #: the case numbers behind each count (a case once per unit counted) and each rate's counts
    members: dict[str, list[str]] = field(default_factory=dict, repr=False)
    sources: dict[str, tuple[str, str, str | None]] = field(default_factory=dict, repr=False)

    def inc(self, key: str, number: str, n: int = 1) -> None:
        """Count ``n`` for ``key``, remembering the case behind it."""
        self.counts[key] = self.counts.get(key, 0) + n
        if n > 0:
            self.members.setdefault(key, []).extend([number] * n)

    def rate(self, key: str, numerator: str, denominator: str, minus: str | None = None) -> None:
        """The rate ``key`` = counts[numerator] (− counts[minus]) / counts[denominator]."""
        c = self.counts
        self.rates[key] = Figure(c.get(numerator, 0) - (c.get(minus, 0) if minus else 0), c.get(denominator, 0))
        self.sources[key] = (numerator, denominator, minus)

    def behind(self, key: str) -> tuple[list[str], list[str]]:
        """The case numbers behind rate or count ``key``: (numerator, denominator), sorted; a case
        appears as often as it was counted (two dispatches of one case: twice)."""
        if key not in self.sources:
            return sorted(self.members.get(key, [])), []
        numerator, denominator, minus = self.sources[key]
        top = Counter(self.members.get(numerator, []))
        if minus:
            top -= Counter(self.members.get(minus, []))
        return sorted(top.elements()), sorted(self.members.get(denominator, []))

    def record(self, *, cases: bool = False) -> dict[str, Any]:
        """As JSON; ``cases``: each rate also lists the case numbers behind its numerator and denominator."""
        rates = {k: v.record() for k, v in sorted(self.rates.items())}
        if cases:
            for k, figure in rates.items():
                top, bottom = self.behind(k)
                figure["cases"] = {"numerator": top, "denominator": bottom}
        return {
            "subject": self.subject, "level": self.level, "code": self.code, "name": self.name,
            "rank": self.rank, "score": None if self.score is None else round(self.score, 4), "grade": self.grade,
            "colour": self.colour, "insufficient": self.insufficient, "base": self.base,
            "counts": dict(sorted(self.counts.items())),
            "rates": rates,
            "averages": {k: v.record() for k, v in sorted(self.averages.items())},
            "components": {k: None if v is None else round(v, 4) for k, v in sorted(self.components.items())},
            "weight_sum": self.weight_sum,
            "flags": {k: {"count": len(v), "cases": v} for k, v in sorted(self.flags.items())},
        }


# ---- one case's walk -----------------------------------------------------------------------------

def _stamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


_STATES = {s.value: s for s in CaseState}


def _state(value: str | None) -> CaseState | None:
    """The state named ``value`` (None: none or not a state)."""
    return _STATES.get(value) if value else None


@dataclass
class Timed:
    """An event with the deadline in force when it happened (the running stage's)."""

    event: Event
    deadline: datetime | None  # None: no deadline known
    limitless: bool = False  # the running stage has no limit (recorded so): never late

    def on_time(self) -> bool:
        return self.limitless if self.deadline is None else self.event.at <= self.deadline


def walk(events: Sequence[Event]) -> list[Timed]:
    """Each event with the deadline of the stage it ends or continues (app.services.timers' rules:
    a new stage or a restart records a new deadline; an extension or a pause's end a later one)."""
    out: list[Timed] = []
    stage = None
    running: datetime | None = None
    # events that record every limit they start (migration 0017 on): a stage entered without a
    # deadline has no limit; older events recorded none, so there a missing deadline is unknown
    recorded = any("limit_minutes" in (e.payload or {}) for e in events)
    for e in events:
        out.append(Timed(e, running, recorded and running is None and stage is not None))
        payload = e.payload or {}
        to, before = _state(e.to_state), _state(e.from_state)
        if to is None:
            continue
        if before is not None and before == to:
            new_stage = stage
        else:
            new_stage = stage_for(to, before if to is CaseState.VOID_REQUESTED else None)
        restart = "limit_minutes" in payload or e.action == "dispatch"
        if new_stage is None:
            running = None
        elif new_stage != stage or restart or "deadline" in payload:
            running = _stamp(payload.get("deadline"))
        stage = new_stage
    return out


@dataclass
class Assignment:
    """A case sent to a department (dispatch or a ruling that moved it)."""

    department_id: int
    start: Timed
    returned: bool = False
    moved: bool = False
    handled: Timed | None = None  # the feedback that ended it
    reworks: int = 0
    requests: dict[str, int] = field(default_factory=dict)


@dataclass
class CaseFacts:
    """What one case's walk yields for every subject."""

    history: CaseHistory
    timed: list[Timed]
    report: Timed | None
    filed: Timed | None
    closed: Timed | None
    voided_after_filing: bool
    voided: bool
    deferred: bool
    all_on_time: bool
    no_deadline: bool
    verified_public: bool
    assignments: list[Assignment]
    requests: dict[str, int]
    flags: set[str]


_REQUESTS = {"request_extension": "extension", "request_return": "return", "request_defer": "defer",
             "request_shelve": "shelve"}
_PUBLIC_ORDER = ("report",)


def case_facts(h: CaseHistory, rules: EvaluationRules) -> CaseFacts:
    timed = walk(h.events)
    by_action: dict[str, list[Timed]] = defaultdict(list)
    for t in timed:
        by_action[t.event.action].append(t)
    report = by_action["report"][0] if by_action["report"] else None
    filed = by_action["file"][0] if by_action["file"] else None
    closes = by_action["close"]
    closed = closes[-1] if closes else None
    voids = [t for t in timed if t.event.to_state == CaseState.VOIDED.value]
    voided = bool(voids)
    voided_after_filing = bool(filed and any(v.event.seq > filed.event.seq for v in voids))
    deferred = any(t.event.to_state == CaseState.DEFERRED.value for t in timed)
    # every timed stage from filing to closing ended on time: each stage-ending event on time
    all_on_time, no_deadline = closed is not None, False
    if filed is not None and closed is not None:
        for t in timed:
            if t.event.seq <= filed.event.seq or t.event.seq > closed.event.seq:
                continue
            if t.event.from_state == t.event.to_state or t.event.role == Role.SYSTEM.value:
                continue
            if t.deadline is None and t.limitless:
                continue
            if t.deadline is None:
                no_deadline = True
                all_on_time = False
            elif t.event.at > t.deadline:
                all_on_time = False
    verified_public = h.facts.get("source") in rules.public_sources and any(
        (t.event.payload or {}).get("confirmed") is True for t in by_action["verify"])
    assignments: list[Assignment] = []
    requests: dict[str, int] = defaultdict(int)
    flags: set[str] = set()
    current: Assignment | None = None
    last_dispatch: Timed | None = None
    for t in timed:
        e = t.event
        if e.action == "dispatch" or (e.action == "rule" and e.department_id is not None
                                      and (current is None or e.department_id != current.department_id)):
            if current is not None and e.action == "rule":
                current.moved = True
                flags.add("moved")
            if e.department_id is not None:
                current = Assignment(e.department_id, t)
                assignments.append(current)
            last_dispatch = t
        elif e.action in _REQUESTS:
            requests[_REQUESTS[e.action]] += 1
            if current is not None:
                current.requests[_REQUESTS[e.action]] = current.requests.get(_REQUESTS[e.action], 0) + 1
        elif e.action == "approve" and e.from_state == CaseState.RETURN_REQUESTED.value and current is not None:
            current.returned = True
            flags.add("moved")
            current = None
        elif e.action == "feedback" and current is not None and current.handled is None:
            current.handled = t
        elif e.action == "check" and e.to_state == CaseState.DISPATCHED.value:
            flags.add("reworked")
            if current is not None:
                current.reworks += 1  # (its first feedback stays the one judged on time)
    if closed is not None:
        payload = closed.event.payload or {}
        if payload.get("override") is True:
            flags.add("override")
        evidence = payload.get("evidence")
        if isinstance(evidence, Mapping) and evidence.get("missing"):
            flags.add("no_evidence")
        if last_dispatch is not None and (closed.event.at - last_dispatch.event.at).total_seconds() \
                <= rules.quick_close_minutes * 60:
            flags.add("quick_close")
    if no_deadline:
        flags.add("no_deadline")
    return CaseFacts(h, timed, report, filed, closed, voided_after_filing, voided, deferred, all_on_time,
                     no_deadline, verified_public, assignments, dict(requests), flags)


def _in(t: Timed | None, start: datetime, end: datetime) -> bool:
    return t is not None and start <= t.event.at < end


def _minutes(a: datetime, b: datetime) -> int:
    return max(0, int((b - a).total_seconds() // 60))


# ---- scores ----------------------------------------------------------------------------------------

def _score(result: SubjectResult, rules: EvaluationRules, subject_key: str,
           counts: Mapping[str, tuple[str, float]]) -> None:
    """Component scores, composite, grade. ``counts``: component → (band, count) for count scores."""
    weights = rules.weights.get(subject_key, {})
    inverse = rules.inverse.get(subject_key, frozenset())
    total = weighted = 0.0
    for name, weight in weights.items():
        if name in counts:
            band, n = counts[name]
            s: float | None = rules.band_score(band, n)
        else:
            figure = result.rates.get(name)
            value = figure.value if figure is not None else None
            s = None if value is None else ((1 - value) if name in inverse else value) * 100
        result.components[name] = s
        if s is not None:
            total += weight
            weighted += weight * s
    result.weight_sum = total
    result.score = weighted / total if total else None
    g = rules.grade(result.score)
    result.grade, result.colour = (g.grade, g.colour) if g else (None, None)


def rank(results: list[SubjectResult], rules: EvaluationRules) -> list[SubjectResult]:
    """Best score first; subjects with too few cases (or no score) after the others, unranked."""
    for r in results:
        r.insufficient = r.base < rules.min_cases
    ranked = sorted((r for r in results if not r.insufficient and r.score is not None),
                    key=lambda r: (-round(r.score or 0.0, 9), r.code))
    rest = sorted((r for r in results if r.insufficient or r.score is None), key=lambda r: r.code)
    for n, r in enumerate(ranked, start=1):
        r.rank = n
    return ranked + rest


def _flag(result: SubjectResult, facts: CaseFacts) -> None:
    for f in facts.flags:
        result.flags.setdefault(f, []).append(facts.history.number)


def _finish_flags(result: SubjectResult) -> None:
    for k in result.flags:
        result.flags[k] = sorted(set(result.flags[k]))


# ---- regions ------------------------------------------------------------------------------------------

def evaluate_regions(cases: Iterable[CaseHistory], start: datetime, end: datetime, rules: EvaluationRules, *,
                     level: str = "street", grids: Mapping[str, int] | None = None,
                     names: Mapping[str, str] | None = None) -> list[SubjectResult]:
    """The regions of ``level`` (their code from the report's facts; the district is one region).

    ``grids``: unit grids per region code (立案数 per grid for the count score; 1 for a grid)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    out: dict[str, SubjectResult] = {}
    for h in cases:
        f = case_facts(h, rules)
        if not _in(f.filed, start, end):
            continue
        code = "district" if level == "district" else h.facts.get(level)
        code = str(code) if code else "?"
        r = out.get(code)
        if r is None:
            r = out[code] = SubjectResult("region", level, code, (names or {}).get(code))
        _count_case(r, f, rules, end)
        r.inc("report_supervision", h.number, int(f.verified_public))
        _flag(r, f)
    for r in out.values():
        _finish_region(r, rules, level, grids)
    return rank(list(out.values()), rules)


def _finish_region(r: SubjectResult, rules: EvaluationRules, level: str, grids: Mapping[str, int] | None) -> None:
    """Rates, score and grade of a region from its counts."""
    _rates_of_cases(r)
    r.rate("report_supervision_rate", "report_supervision", "filed")
    r.rate("timely_solved_rate", "closed_on_time", "filed")  # 问题及时解决率
    per_grid = r.counts["filed"] / max(1, (grids or {}).get(r.code, 1) if level != "grid" else 1)
    r.base = r.counts["due_to_close"]
    _score(r, rules, "region", {"case_count": (f"region_{rules.region_band_class}", per_grid)})
    _finish_flags(r)


def _count_case(r: SubjectResult, f: CaseFacts, rules: EvaluationRules, end: datetime) -> None:
    c = r.counts
    for k in ("filed", "due_to_close", "closed", "closed_on_time", "voided", "deferred_cases", "dispatched",
              "extension", "return", "defer", "shelve"):
        c.setdefault(k, 0)
    no = f.history.number
    r.inc("filed", no)
    excluded = f.voided or (rules.close_rate_excludes_deferred and f.deferred and f.closed is None)
    r.inc("voided", no, int(f.voided))
    r.inc("deferred_cases", no, int(f.deferred))
    if not excluded:
        r.inc("due_to_close", no)
        if f.closed is not None:
            r.inc("closed", no)
            r.inc("closed_on_time", no, int(f.all_on_time))
    if f.assignments:
        r.inc("dispatched", no)
    for k, n in f.requests.items():
        r.inc(k, no, n)
    handled = [a for a in f.assignments if a.handled is not None and not a.returned]
    h_avg = r.averages.setdefault("handling", Average(0, 0))
    c_avg = r.averages.setdefault("closing", Average(0, 0))
    if handled:
        a = handled[-1]
        assert a.handled is not None
        r.averages["handling"] = Average(h_avg.total_minutes + _minutes(a.start.event.at, a.handled.event.at),
                                         h_avg.count + 1)
    if f.closed is not None and f.report is not None and not excluded:
        r.averages["closing"] = Average(c_avg.total_minutes + _minutes(f.report.event.at, f.closed.event.at),
                                        c_avg.count + 1)


def _rates_of_cases(r: SubjectResult) -> None:
    c = r.counts
    r.rate("close_rate", "closed", "due_to_close")
    r.rate("close_on_time_rate", "closed_on_time", "due_to_close")
    for k in ("extension", "return", "defer", "shelve"):
        c.setdefault(k, 0)
        r.rate(f"{k}_share", k, "dispatched")


# ---- departments -------------------------------------------------------------------------------------

def evaluate_departments(cases: Iterable[CaseHistory], start: datetime, end: datetime, rules: EvaluationRules, *,
                         names: Mapping[int, tuple[str, str]] | None = None,
                         only: int | None = None) -> list[SubjectResult]:
    """Every department with an assignment or a call-back in the period (``only``: that department id).

    回访: a case's latest call-back in the period counts for the department its payload names (else
    the case's last assignment before it); satisfied share = (satisfied + basically satisfied) /
    call-backs that reached the reporter (app.store.callbacks counts the same way)."""
    out: dict[int, SubjectResult] = {}
    seen: dict[int, set[int]] = defaultdict(set)
    by_code = {code: i for i, (code, _n) in (names or {}).items()}

    def subject(dept: int) -> SubjectResult:
        r = out.get(dept)
        if r is None:
            code, name = (names or {}).get(dept, (str(dept), None))
            r = out[dept] = SubjectResult("department", "department", code, name)
            for k in _DEPARTMENT_COUNTS:
                r.counts[k] = 0
        return r

    for h in cases:
        f = case_facts(h, rules)
        calls = [t.event for t in f.timed if t.event.action == "callback" and start <= t.event.at < end]
        if calls:
            last = calls[-1]
            payload = last.payload or {}
            dept = by_code.get(str(payload.get("department"))) if payload.get("department") else None
            if dept is None:
                before = [a.department_id for a in f.assignments if a.start.event.seq < last.seq]
                dept = before[-1] if before else None
            if dept is not None and (only is None or dept == only) and payload.get("result") in REACHED_RESULTS:
                r = subject(dept)
                r.inc("callbacks_reached", h.number)
                r.inc("satisfied", h.number, int(payload.get("result") in SATISFIED_RESULTS))
        for a in f.assignments:
            if not _in(a.start, start, end) or (only is not None and a.department_id != only):
                continue
            r = subject(a.department_id)
            no = h.number
            r.inc("assigned", no)
            if h.case_id not in seen[a.department_id]:
                seen[a.department_id].add(h.case_id)
                r.inc("cases", no)
                _flag(r, f)
            for k, n in a.requests.items():
                r.inc(k, no, n)
            if a.returned:
                r.inc("returned", no)
                continue
            r.inc("moved_away", no, int(a.moved))
            r.inc("due", no)
            r.inc("reworks", no, a.reworks)
            if a.handled is not None and a.handled.event.at < end:
                r.inc("handled", no)
                r.inc("handled_on_time", no, int(a.handled.on_time()))
                avg = r.averages.get("handling", Average(0, 0))
                r.averages["handling"] = Average(avg.total_minutes + _minutes(a.start.event.at, a.handled.event.at),
                                                 avg.count + 1)
                if f.closed is not None and f.closed.event.seq > a.handled.event.seq:
                    r.inc("closed", no)
    for r in out.values():
        _finish_department(r, rules)
    return rank(list(out.values()), rules)


_DEPARTMENT_COUNTS = ("assigned", "returned", "due", "handled", "handled_on_time", "closed", "reworks", "cases",
                      "extension", "return", "defer", "shelve", "moved_away", "callbacks_reached", "satisfied")


def _finish_department(r: SubjectResult, rules: EvaluationRules) -> None:
    """Rates, score and grade of a department from its counts."""
    c = r.counts
    r.rate("close_rate", "closed", "due")
    r.rate("handle_rate", "handled", "due")
    r.rate("handle_on_time_rate", "handled_on_time", "due")
    r.rate("rework_rate", "reworks", "handled")
    for k in ("extension", "defer", "shelve"):
        r.rate(f"{k}_share", k, "assigned")
    r.rate("return_share", "returned", "assigned")
    r.rate("satisfied_share", "satisfied", "callbacks_reached")  # 回访满意率 (not weighted)
    r.averages.setdefault("handling", Average(0, 0))
    r.base = c["due"]
    _score(r, rules, "department", {"case_count": ("department_cases", c["cases"])})
    _finish_flags(r)


# ---- positions ---------------------------------------------------------------------------------------

def _pos(out: dict[tuple[str, str], SubjectResult], role: str, who: str) -> SubjectResult:
    r = out.get((role, who))
    if r is None:
        r = out[(role, who)] = SubjectResult("position", role, who)
    return r


def _add(r: SubjectResult, key: str, number: str, n: int = 1) -> None:
    r.inc(key, number, n)


_POSITION_COUNTS = {
    Role.SUPERVISOR.value: ("reports", "valid_reports", "verify_tasks", "verify_on_time", "check_tasks",
                            "check_on_time", "grid_filed", "missed"),
    Role.ACCEPTOR.value: ("accepted", "verify_sent", "verify_sent_on_time", "check_sent", "check_sent_on_time"),
    Role.SHIFT_LEADER.value: ("filed", "filed_on_time", "filed_voided", "closed", "closed_on_time"),
    Role.DISPATCHER.value: ("dispatched", "dispatched_on_time", "redispatched"),
}


def evaluate_positions(cases: Iterable[CaseHistory], start: datetime, end: datetime, rules: EvaluationRules, *,
                       grid_supervisors: Mapping[str, str] | None = None, role: str | None = None,
                       names: Mapping[str, str] | None = None) -> list[SubjectResult]:
    """The holders of the four positions (or of ``role``) by what they recorded in the period."""
    out: dict[tuple[str, str], SubjectResult] = {}
    for h in cases:
        f = case_facts(h, rules)
        timed = f.timed
        for i, t in enumerate(timed):
            e = t.event
            if not (start <= e.at < end):
                continue
            if e.action == "report":
                if e.role == Role.SUPERVISOR.value:
                    r = _pos(out, e.role, e.actor)
                    _add(r, "reports", h.number)
                    _add(r, "valid_reports", h.number, int(f.filed is not None))
                    _flag(r, f)
                elif e.role == Role.ACCEPTOR.value:
                    _add(_pos(out, e.role, e.actor), "accepted", h.number)
            elif e.action in ("send_verify", "send_check") and e.role == Role.ACCEPTOR.value:
                kind = "verify" if e.action == "send_verify" else "check"
                r = _pos(out, e.role, e.actor)
                _add(r, f"{kind}_sent", h.number)
                _add(r, f"{kind}_sent_on_time", h.number, int(t.on_time()))
                answer = next((x for x in timed[i + 1:] if x.event.action == kind), None)
                who = (e.payload or {}).get("supervisor") or (answer.event.actor if answer else None)
                if who:
                    s = _pos(out, Role.SUPERVISOR.value, str(who))
                    _add(s, f"{kind}_tasks", h.number)
                    _add(s, f"{kind}_on_time", h.number, int(answer is not None and answer.event.at < end and answer.on_time()))
            elif e.action == "file" and e.role == Role.SHIFT_LEADER.value and f.filed is t:
                r = _pos(out, e.role, e.actor)
                _add(r, "filed", h.number)
                _add(r, "filed_on_time", h.number, int(t.on_time()))
                _add(r, "filed_voided", h.number, int(f.voided_after_filing))
            elif e.action == "close" and e.role == Role.SHIFT_LEADER.value:
                r = _pos(out, e.role, e.actor)
                _add(r, "closed", h.number)
                _add(r, "closed_on_time", h.number, int(t.on_time()))
                _flag(r, f)
            elif e.action == "dispatch" and e.role == Role.DISPATCHER.value:
                r = _pos(out, e.role, e.actor)
                _add(r, "dispatched", h.number)
                _add(r, "dispatched_on_time", h.number, int(t.on_time()))
                mine = next((a for a in f.assignments if a.start is t), None)
                _add(r, "redispatched", h.number, int(mine is not None and (mine.returned or mine.moved)))
        if grid_supervisors and _in(f.filed, start, end):
            sup = grid_supervisors.get(str(h.facts.get("grid")))
            if sup:
                r = _pos(out, Role.SUPERVISOR.value, sup)
                _add(r, "grid_filed", h.number)
                first = f.report.event if f.report else None
                _add(r, "missed", h.number, int(h.facts.get("source") in rules.public_sources
                                      and (first is None or first.role != Role.SUPERVISOR.value)))
    results = []
    for (who_role, _who), r in out.items():
        if role is not None and who_role != role:
            continue
        if who_role not in _POSITION_COUNTS:
            continue
        r.name = (names or {}).get(r.code)
        _finish_position(r, rules, who_role)
        results.append(r)
    return _rank_positions(results, rules)


def _rank_positions(results: list[SubjectResult], rules: EvaluationRules) -> list[SubjectResult]:
    ordered: list[SubjectResult] = []
    for position in POSITIONS:  # ranked within each position
        ordered += rank([r for r in results if r.level == position], rules)
    return ordered


def _finish_position(r: SubjectResult, rules: EvaluationRules, who_role: str) -> None:
    """Rates, score and grade of a position holder from its counts."""
    for k in _POSITION_COUNTS[who_role]:
        r.counts.setdefault(k, 0)
    c = r.counts
    if who_role == Role.SUPERVISOR.value:
        r.rate("valid_report_rate", "valid_reports", "reports")
        r.rate("missed_rate", "missed", "grid_filed")
        r.rate("verify_on_time_rate", "verify_on_time", "verify_tasks")
        r.rate("check_on_time_rate", "check_on_time", "check_tasks")
        r.base = c["reports"] + c["verify_tasks"] + c["check_tasks"]
        _score(r, rules, "supervisor", {})
    elif who_role == Role.ACCEPTOR.value:
        r.rate("verify_sent_on_time_rate", "verify_sent_on_time", "verify_sent")
        r.rate("check_sent_on_time_rate", "check_sent_on_time", "check_sent")
        r.base = c["accepted"] + c["verify_sent"] + c["check_sent"]
        _score(r, rules, "acceptor", {"accepted_count": ("handled", c["accepted"])})
    elif who_role == Role.SHIFT_LEADER.value:
        r.rate("file_on_time_rate", "filed_on_time", "filed")
        r.rate("file_accuracy_rate", "filed", "filed", minus="filed_voided")
        r.rate("close_on_time_rate", "closed_on_time", "closed")
        r.base = c["filed"] + c["closed"]
        _score(r, rules, "shift_leader", {})
    else:
        r.rate("dispatch_on_time_rate", "dispatched_on_time", "dispatched")
        r.rate("dispatch_accuracy_rate", "dispatched", "dispatched", minus="redispatched")
        r.base = c["dispatched"]
        _score(r, rules, "dispatcher", {"dispatch_count": ("handled", c["dispatched"])})
    _finish_flags(r)



# ---- from counts aggregated elsewhere (app.store.evaluation_sql) -------------------------------------

#: One subject's counts: (code, counts, minutes {average: (total, count)}, flags {flag: case numbers}).
Counts = tuple[str, Mapping[str, int], Mapping[str, tuple[int, int]], Mapping[str, Sequence[str]]]


def _from(subject: str, level: str, code: str, name: str | None, row: Counts) -> SubjectResult:
    _code, counts, minutes, flags = row
    r = SubjectResult(subject, level, code, name)
    r.counts.update(counts)
    for k, (total, count) in minutes.items():
        r.averages[k] = Average(total, count)
    r.flags = {k: list(v) for k, v in flags.items() if v}
    return r


def regions_from_counts(rows: Iterable[Counts], rules: EvaluationRules, *, level: str = "street",
                        grids: Mapping[str, int] | None = None,
                        names: Mapping[str, str] | None = None) -> list[SubjectResult]:
    """``evaluate_regions`` from counts made elsewhere (the same keys ``_count_case`` makes)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    out = []
    for row in rows:
        r = _from("region", level, row[0], (names or {}).get(row[0]), row)
        _finish_region(r, rules, level, grids)
        out.append(r)
    return rank(out, rules)


def departments_from_counts(rows: Iterable[Counts], callbacks: Mapping[int, tuple[int, int]],
                            rules: EvaluationRules, *, names: Mapping[int, tuple[str, str]] | None = None
                            ) -> list[SubjectResult]:
    """``evaluate_departments`` from counts keyed by department id (``row[0]`` its id as text) and
    ``callbacks`` {id: (call-backs that reached the reporter, satisfied)}."""
    by_id: dict[int, Counts] = {int(row[0]): row for row in rows}
    out = []
    for dept in {*by_id, *callbacks}:
        code, name = (names or {}).get(dept, (str(dept), None))
        r = _from("department", "department", code, name, by_id.get(dept, (code, {}, {}, {})))
        for k in _DEPARTMENT_COUNTS:
            r.counts.setdefault(k, 0)
        reached, satisfied = callbacks.get(dept, (0, 0))
        r.counts["callbacks_reached"], r.counts["satisfied"] = reached, satisfied
        _finish_department(r, rules)
        out.append(r)
    return rank(out, rules)


def positions_from_counts(rows: Iterable[tuple[str, Counts]], rules: EvaluationRules, *, role: str | None = None,
                          names: Mapping[str, str] | None = None) -> list[SubjectResult]:
    """``evaluate_positions`` from counts keyed by (role, username)."""
    results = []
    for who_role, row in rows:
        if (role is not None and who_role != role) or who_role not in _POSITION_COUNTS:
            continue
        r = _from("position", who_role, row[0], (names or {}).get(row[0]), row)
        _finish_position(r, rules, who_role)
        results.append(r)
    return _rank_positions(results, rules)

__all__ = ["DEFAULT_PATH", "FACT_KEYS", "FLAGS", "LEVELS", "POSITIONS", "SUBJECTS", "Average", "CaseFacts",
           "CaseHistory", "EvaluationRules", "Event", "Figure", "Grade", "SubjectResult", "Timed", "case_facts",
           "Counts", "departments_from_counts", "evaluate_departments", "evaluate_positions", "evaluate_regions",
           "positions_from_counts", "rank", "regions_from_counts", "walk"]
