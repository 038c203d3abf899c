"""Statistics for the analyst (issue 13, item 2): the charts of a period with the cases behind every bar.

``compute(store, actor, start, end, today=…, feedback=…)`` reads, in a job's worker:

- 每日上报与结案: report and close events per day (app/store/statistics.py);
- 类别帕累托: the period's reports per category, most first, with the cumulative share (the
  categories making the first 80 % in red);
- 部门排名: :class:`app.services.evaluation.EvaluationService` (the same figures as ``Core.evaluate`` and
  ``gridhall evaluate``), bars = scores coloured by grade; behind a bar its assignments due
  (``handle_on_time_rate``'s denominator) and, as ``late``, those not handled on time;
- 上报渠道: the period's reports per source;
- 处置用时分布: feedback events by hours since the latest dispatch (natural time);
- 热点网格: the grids with most reports (and every grid's count: the map's density);
- 月度趋势: reports and closures per month for twelve months (counted in the database; the cases
  behind a month are read when it is clicked: :func:`month_cases`).

The region evaluation per grid (score, grade, colour) comes along for the map. Nothing is
computed twice: rates and scores are the evaluation's; this module only counts events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from app.domain.definitions import Source
from app.domain.messages import Msg
from app.domain.periods import months, trend_start
from app.services.actors import Actor
from app.services.case_source import read_scope
from app.services.evaluation import Evaluation, EvaluationService, parse_period
from app.store import statistics as store_stats
from app.store.engine import Store

CHARTS = ("daily", "pareto", "departments", "channels", "handling", "hotspots", "trend")
TITLES: dict[str, Msg] = {
    "daily": Msg("每日上报与结案"), "pareto": Msg("类别帕累托"), "departments": Msg("部门排名（综合得分）"),
    "channels": Msg("上报渠道"), "handling": Msg("处置用时分布"), "hotspots": Msg("热点网格"),
    "trend": Msg("月度趋势"),
}
#: Handling-time classes: (upper bound in hours or None, label).
HANDLING_BINS: tuple[tuple[float | None, Msg], ...] = (
    (1, Msg("1小时内")), (2, Msg("1–2小时")), (4, Msg("2–4小时")), (8, Msg("4–8小时")), (24, Msg("8–24小时")),
    (72, Msg("1–3天")), (None, Msg("3天以上")),
)
HOTSPOTS = 10
TREND_MONTHS = 12
REPORT_COLOUR, CLOSE_COLOUR = "#1f77b4", "#2ca02c"
PARETO_VITAL, PARETO_REST = "#d62728", "#f4a6a6"
NO_GRADE_COLOUR = "#9e9e9e"

Label = str | Msg | Source


class Feedback(Protocol):
    """What a job's feedback offers (app.jobs.Feedback): ``check()`` raises when cancelled."""

    def check(self) -> None: ...

    def progress(self, fraction: float, message: str = "") -> None: ...


@dataclass(frozen=True)
class Bar:
    """One bar or point: its value and the case numbers behind it (None: read on demand)."""

    key: str
    label: Label
    value: float
    cases: tuple[str, ...] | None = ()
    colour: str | None = None
    note: Msg | None = None  # tooltip (grade, cumulative share …)
    late: tuple[str, ...] = ()  # of ``cases``, those late (departments)
    query: tuple[str, date, date] | None = None  # (action, first, last day): the cases read on demand


@dataclass(frozen=True)
class Series:
    name: Msg
    bars: tuple[Bar, ...]
    colour: str = REPORT_COLOUR


@dataclass(frozen=True)
class Chart:
    key: str
    title: Msg
    series: tuple[Series, ...]
    horizontal: bool = False
    line: bool = False
    unit: Msg | None = None

    @property
    def empty(self) -> bool:
        return not any(b.value for s in self.series for b in s.bars)


@dataclass(frozen=True)
class GridFigure:
    """A grid's figures for the map: reports in the period, and its region score."""

    code: str
    reports: int = 0
    score: float | None = None
    grade: str | None = None
    colour: str | None = None
    cases: tuple[str, ...] = ()


@dataclass
class Statistics:
    start: date
    end: date
    partial: bool
    reports: int
    closures: int
    charts: dict[str, Chart] = field(default_factory=dict)
    grids: dict[str, GridFigure] = field(default_factory=dict)
    departments: Evaluation | None = None

    @property
    def empty(self) -> bool:
        return not self.reports and not self.closures and not (self.departments and self.departments.results)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


def _step(feedback: Feedback | None, fraction: float, message: str = "") -> None:
    if feedback is not None:
        feedback.check()
        feedback.progress(fraction, message)


def compute(store: Store, actor: Actor | None, start: date, end: date, *, today: date,
            feedback: Feedback | None = None, tr: Callable[[Msg], str] = str) -> Statistics:
    """Every chart of ``start`` … ``end`` (both included); raises Cancelled when ``feedback`` is cancelled."""
    parse_period(start, end, today)
    scope = read_scope(store, actor)
    since, until = _bounds(start, end)
    _step(feedback, 0.02, tr(Msg("正在读取上报与结案…")))
    with store.session() as session:
        reported = store_stats.reports(session, since, until, scope=scope)
        _step(feedback, 0.15)
        closed = store_stats.closures(session, since, until, scope=scope)
        _step(feedback, 0.22)
        handled = store_stats.handlings(session, since, until, scope=scope)
        _step(feedback, 0.30)
        first = trend_start(end, TREND_MONTHS)
        per_month = store_stats.monthly(session, _bounds(first, end)[0], until, scope=scope)
        categories = store_stats.category_names(session)
    _step(feedback, 0.35, tr(Msg("正在考核部门…")))
    evaluation = EvaluationService(store, today=lambda: today)
    departments = evaluation.evaluate(actor, "department", start, end)
    _step(feedback, 0.65, tr(Msg("正在考核网格…")))
    grids_ev = evaluation.evaluate(actor, "region", start, end, level="grid")
    _step(feedback, 0.95, tr(Msg("正在汇总…")))

    stats = Statistics(start, end, end >= today, len(reported), len(closed), departments=departments)
    charts = stats.charts
    charts["daily"] = _daily(start, end, reported, closed)
    charts["pareto"] = _pareto(reported, categories)
    charts["departments"] = _departments(departments)
    charts["channels"] = _channels(reported)
    charts["handling"] = _handling(handled)
    by_grid: dict[str, list[str]] = defaultdict(list)
    for _c, number, _at, facts in reported:
        if facts.get("grid"):
            by_grid[str(facts["grid"])].append(number)
    charts["hotspots"] = _hotspots(by_grid)
    charts["trend"] = _trend(first, end, per_month)
    grids = {code: GridFigure(code, len(numbers), cases=tuple(numbers)) for code, numbers in by_grid.items()}
    for r in grids_ev.results:
        g = grids.get(r.code, GridFigure(r.code))
        grids[r.code] = GridFigure(r.code, g.reports, r.score, r.grade, r.colour, g.cases)
    stats.grids = grids
    _step(feedback, 1.0, "")
    return stats


def _daily(start: date, end: date, reported: Any, closed: Any) -> Chart:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    rep: dict[date, list[str]] = defaultdict(list)
    clo: dict[date, list[str]] = defaultdict(list)
    for _c, number, at, _f in reported:
        rep[at.date()].append(number)
    for _c, number, at in closed:
        clo[at.date()].append(number)
    label = "%m-%d" if len(days) > 1 else "%Y-%m-%d"

    def bars(src: dict[date, list[str]]) -> tuple[Bar, ...]:
        return tuple(Bar(d.isoformat(), d.strftime(label), len(src[d]), tuple(src[d])) for d in days)

    return Chart("daily", TITLES["daily"], (Series(Msg("上报数"), bars(rep), REPORT_COLOUR),
                                            Series(Msg("结案数"), bars(clo), CLOSE_COLOUR)), unit=Msg("件"))


def _pareto(reported: Any, names: dict[str, str]) -> Chart:
    by: dict[str, list[str]] = defaultdict(list)
    for _c, number, _at, facts in reported:
        by[str(facts.get("category") or "?")].append(number)
    total = sum(len(v) for v in by.values())
    ordered = sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    bars, running = [], 0
    for code, numbers in ordered:
        vital = running / total < 0.8 if total else False
        running += len(numbers)
        bars.append(Bar(code, names.get(code, code), len(numbers), tuple(numbers),
                        PARETO_VITAL if vital else PARETO_REST, Msg("累计 {share}", share=f"{running / total:.0%}")))
    return Chart("pareto", TITLES["pareto"], (Series(Msg("上报数"), tuple(bars)),), horizontal=True, unit=Msg("件"))


def _departments(ev: Evaluation) -> Chart:
    bars = []
    for r in ev.results:
        due_top, due = r.behind("handle_on_time_rate")
        late = Counter(due) - Counter(due_top)
        rate = r.rates.get("handle_on_time_rate")
        share = "—" if rate is None or rate.value is None else f"{rate.value:.1%}"
        if r.insufficient:
            note = Msg("案卷太少，不参与排名；按期处置 {share}", share=share)
        elif r.grade is None:
            note = Msg("无得分；按期处置 {share}", share=share)
        else:
            note = Msg("第 {rank} 名，{grade} 级，得分 {score}；按期处置 {share}", rank=r.rank, grade=r.grade,
                       score=f"{r.score:.1f}", share=share)
        bars.append(Bar(r.code, r.name or r.code, round(r.score or 0.0, 2), tuple(due),
                        r.colour if r.grade and not r.insufficient else NO_GRADE_COLOUR, note,
                        tuple(sorted(late.elements()))))
    return Chart("departments", TITLES["departments"], (Series(Msg("得分"), tuple(bars)),), horizontal=True,
                 unit=Msg("分"))


def _channels(reported: Any) -> Chart:
    by: dict[str, list[str]] = defaultdict(list)
    for _c, number, _at, facts in reported:
        by[str(facts.get("source") or "?")].append(number)
    total = sum(len(v) for v in by.values())
    bars = []
    for code, numbers in sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        try:
            label: Label = Source(code)
        except ValueError:
            label = code
        bars.append(Bar(code, label, len(numbers), tuple(numbers), None,
                        Msg("占 {share}", share=f"{len(numbers) / total:.1%}")))
    return Chart("channels", TITLES["channels"], (Series(Msg("上报数"), tuple(bars)),), horizontal=True,
                 unit=Msg("件"))


def handling_bin(minutes: float) -> int:
    """The index in HANDLING_BINS of a handling time of ``minutes``."""
    for n, (hours, _label) in enumerate(HANDLING_BINS):
        if hours is not None and minutes < hours * 60:
            return n
    return len(HANDLING_BINS) - 1


def _handling(handled: Any) -> Chart:
    by: list[list[str]] = [[] for _ in HANDLING_BINS]
    for _c, number, dispatched, fed_back in handled:
        by[handling_bin((fed_back - dispatched).total_seconds() / 60)].append(number)
    total = sum(len(b) for b in by)
    bars = tuple(Bar(str(n), label, len(by[n]), tuple(by[n]), "#ff7f0e",
                     Msg("占 {share}", share=f"{len(by[n]) / total:.1%}") if total else None)
                 for n, (_h, label) in enumerate(HANDLING_BINS))
    return Chart("handling", TITLES["handling"], (Series(Msg("处置反馈"), bars, "#ff7f0e"),), horizontal=True,
                 unit=Msg("件"))


def _hotspots(by_grid: dict[str, list[str]]) -> Chart:
    top = sorted(by_grid.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:HOTSPOTS]
    # labelled by the short code (its last six digits, as the map labels grids), the full code in the note
    bars = tuple(Bar(code, code[-6:], len(numbers), tuple(numbers), "#8c564b", Msg("网格 {code}", code=code))
                 for code, numbers in top)
    return Chart("hotspots", TITLES["hotspots"], (Series(Msg("上报数"), bars, "#8c564b"),), horizontal=True,
                 unit=Msg("件"))


def _trend(first: date, end: date, per_month: dict[tuple[str, str], int]) -> Chart:
    series = []
    for action, name, colour in (("report", Msg("上报数"), REPORT_COLOUR), ("close", Msg("结案数"), CLOSE_COLOUR)):
        bars = []
        for m in months(first, end):
            key = m.strftime("%Y-%m")
            last = min(end, (m.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1))
            bars.append(Bar(key, m.strftime("%y-%m"), per_month.get((key, action), 0), None, colour, None, (),
                            (action, m, last)))
        series.append(Series(name, tuple(bars), colour))
    return Chart("trend", TITLES["trend"], tuple(series), line=True, unit=Msg("件"))


def month_cases(store: Store, actor: Actor | None, action: str, first: date, last: date) -> list[str]:
    """The case numbers behind a trend point: the ``action`` (report|close) events of ``first`` … ``last``."""
    since, until = _bounds(first, last)
    scope = read_scope(store, actor)
    with store.session() as session:
        if action == "report":
            return [no for _c, no, _at, _f in store_stats.reports(session, since, until, scope=scope)]
        return [no for _c, no, _at in store_stats.closures(session, since, until, scope=scope)]


def case_points(store: Store, actor: Actor | None, numbers: list[str]) -> list[tuple[str, float, float]]:
    """``(number, x, y)`` of the cases behind a figure (for the map's hits)."""
    with store.session() as session:
        return store_stats.case_points(session, list(numbers), scope=read_scope(store, actor))


__all__ = ["CHARTS", "HANDLING_BINS", "TITLES", "Bar", "Chart", "GridFigure", "Series", "Statistics",
           "case_points", "compute", "handling_bin", "month_cases"]
