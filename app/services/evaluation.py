"""Evaluation (考核评价, issue 13): the use case over the store's event reads and the pure indicators
of ``app.domain.indicators``, and its renderings (JSON with every count behind every rate, CSV with a
BOM, text).

``EvaluationService.evaluate(actor, subject, start, end, level=…)`` reads the cases with an event
on ``start`` … ``end`` (both days included; their events up to the end of ``end``, none later) and
returns an :class:`Evaluation`: one :class:`~app.domain.indicators.SubjectResult` per region,
department or position holder, ranked, with the rules' version and hash. The same database and
period give the same bytes (nothing in the result depends on when it was computed); a period that
has not ended yet says so (``partial``). A department operator reads its own department's cases
(PostGIS: row-level security; SpatiaLite: :func:`app.services.case_source.read_scope`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.domain.definitions import Role
from app.domain.indicators import (
    LEVELS,
    POSITIONS,
    SUBJECTS,
    CaseHistory,
    EvaluationRules,
    SubjectResult,
    evaluate_departments,
    evaluate_positions,
    evaluate_regions,
)
from app.domain.messages import Msg
from app.services.actors import Actor
from app.services.case_source import read_scope
from app.services.errors import NotFound, ValidationError
from app.store import evaluation as store_eval
from app.store.engine import Store

#: The longest period one evaluation covers (days).
MAX_DAYS = 3 * 366
FORMATS = ("json", "csv", "text")
Translate = Callable[[Any], str]

#: Labels of the figures (JSON keys stay English).
LABELS: dict[str, Msg] = {
    "close_rate": Msg("结案率"), "close_on_time_rate": Msg("按期结案率"), "timely_solved_rate": Msg("问题及时解决率"),
    "report_supervision_rate": Msg("监督举报率"), "extension_share": Msg("延期率"), "return_share": Msg("回退率"),
    "defer_share": Msg("缓办占比"), "shelve_share": Msg("挂账占比"), "handle_rate": Msg("处置率"),
    "handle_on_time_rate": Msg("按期处置率"), "rework_rate": Msg("返工率"), "valid_report_rate": Msg("有效上报率"),
    "missed_rate": Msg("漏报率"), "verify_on_time_rate": Msg("按时核实率"), "check_on_time_rate": Msg("按时核查率"),
    "verify_sent_on_time_rate": Msg("核实按时派发率"), "check_sent_on_time_rate": Msg("核查按时派发率"),
    "file_on_time_rate": Msg("按时立案率"), "file_accuracy_rate": Msg("准确立案率"),
    "dispatch_on_time_rate": Msg("按时派遣率"), "dispatch_accuracy_rate": Msg("准确派遣率"),
    "satisfied_share": Msg("回访满意率"),
}


@dataclass(frozen=True)
class Evaluation:
    """The ranked subjects of a period and what they were computed from."""

    subject: str
    level: str | None
    start: date
    end: date
    partial: bool  # the period has not ended yet
    cases: int  # cases with an event in the period
    rules_version: str
    rules_sha256: str
    results: list[SubjectResult] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.results


def parse_period(start: date, end: date, today: date) -> None:
    """ValidationError for a period that cannot be evaluated (reversed, future, too long)."""
    if start > end:
        raise ValidationError("period", Msg("开始日期 {start} 晚于结束日期 {end}", start=start.isoformat(),
                                            end=end.isoformat()))
    if start > today:
        raise ValidationError("period", Msg("时间段 {start} 至 {end} 尚未开始：无法考核未来的时间段",
                                            start=start.isoformat(), end=end.isoformat()))
    if (end - start).days >= MAX_DAYS:
        raise ValidationError("period", Msg("考核的时间段最长 {days} 天（{start} 至 {end} 太长）", days=MAX_DAYS,
                                            start=start.isoformat(), end=end.isoformat()))


def load_rules(store: Store, at: datetime | None = None) -> EvaluationRules:
    """The evaluation rules in force at ``at`` (None: now): the administrator's override as the
    configuration history (``config_changes``, setting 'evaluation'; app/services/config.py) had it
    then, else the shipped resources/evaluation.toml — so weights edited later never change a past
    period's scores. Every result names the rules' version and SHA-256."""
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from app.services.config import VALUE, dumps_toml, stored_setting
    from app.store.models import ConfigChange

    value = None
    try:
        if at is None:
            value = stored_setting(store, "evaluation")
        else:
            with store.engine.connect() as conn:
                row = conn.execute(select(ConfigChange.after)
                                   .where(ConfigChange.entity == VALUE, ConfigChange.key == "evaluation",
                                          ConfigChange.at < at)
                                   .order_by(ConfigChange.seq.desc()).limit(1)).first()
            value = json.loads(row[0]) if row is not None and row[0] else None
    except DBAPIError:  # a store without the configuration tables
        value = None
    if value is None:
        return EvaluationRules.load()
    return EvaluationRules.parse(dumps_toml(value).encode("utf-8"))


class EvaluationService:
    """Evaluates regions, departments and positions from the store's case events."""

    def __init__(self, store: Store, rules: EvaluationRules | None = None, *, today: Callable[[], date] | None = None):
        self.store = store
        self.rules = rules  # None: the rules in force at each period's end (load_rules)
        self._today = today or date.today

    def evaluate(self, actor: Actor | None, subject: str, start: date, end: date, *, level: str | None = None,
                 department: str | None = None, detail: bool = True,
                 histories: list[CaseHistory] | None = None) -> Evaluation:
        """The evaluation of ``subject`` (region|department|position) over ``start`` … ``end``.

        ``level``: for regions grid|community|street|district (default street); for positions one of
        supervisor|acceptor|shift_leader|dispatcher (default all four). ``department``: only that
        department (a code; subject department).

        ``detail`` (default): every event of the period's cases is walked in Python and each count
        remembers the cases behind it (``SubjectResult.behind``: drill-down, ``--cases``). Without it
        the counts are aggregated in SQL (``app.store.evaluation_sql``, one row per subject) — the same
        figures, but no case lists behind the counts (the flags keep theirs).

        ``histories``: the period's cases already read (``app.store.evaluation.histories`` for the
        same period and the actor's scope), so that several subjects of one period read the events
        once (the bulletin)."""
        if subject not in SUBJECTS:
            raise ValidationError("subject", Msg("考核对象「{subject}」无效：应为 region、department 或 position",
                                                 subject=str(subject)[:40]))
        if subject == "region":
            level = level or "street"
            if level not in LEVELS:
                raise ValidationError("level", Msg("区域层级「{level}」无效：应为 grid、community、street 或 district",
                                                   level=str(level)[:40]))
        elif subject == "position":
            if level is not None and level not in POSITIONS:
                raise ValidationError("level", Msg("岗位「{level}」无效：应为 supervisor、acceptor、shift_leader 或 dispatcher",
                                                   level=str(level)[:40]))
        elif level is not None:
            raise ValidationError("level", Msg("部门考核不分层级：请去掉 --level"))
        today = self._today()
        parse_period(start, end, today)
        scope = read_scope(self.store, actor)
        since, until = datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)
        rules = self.rules or load_rules(self.store, until)
        with self.store.session() as session:
            dept_id = None
            if department:
                dept_id = store_eval.department_id(session, department.strip())
                if dept_id is None:
                    raise NotFound(Msg("部门「{department}」不存在：请按部门代码选择", department=department[:40]))
            if not detail:
                results, count = self._aggregated(session, actor, subject, since, until, rules, level, dept_id, scope)
                return Evaluation(subject, level, start, end, end >= today, count, rules.version, rules.digest,
                                  results)
            cases = histories if histories is not None else store_eval.histories(session, since, until, scope=scope)
            if subject == "region":
                results = evaluate_regions(cases, since, until, rules, level=level or "street",
                                           grids=store_eval.grids_per_area(session),
                                           names=store_eval.area_names(session))
            elif subject == "department":
                if actor is not None and actor.role is Role.DEPARTMENT:
                    dept_id = actor.department_id  # its own row only (its cases name other departments too)
                results = evaluate_departments(cases, since, until, rules, names=store_eval.department_names(session),
                                               only=dept_id)
            else:
                results = evaluate_positions(cases, since, until, rules,
                                             grid_supervisors=store_eval.grid_supervisors(session), role=level,
                                             names=store_eval.user_names(session))
        return Evaluation(subject, level, start, end, end >= today, len(cases), rules.version, rules.digest, results)

    @staticmethod
    def _aggregated(session: Any, actor: Actor | None, subject: str, since: datetime, until: datetime,
                    rules: EvaluationRules, level: str | None, dept_id: int | None,
                    scope: int | None) -> tuple[list[SubjectResult], int]:
        """The results from counts aggregated in SQL, and the number of cases with an event in the period."""
        from app.domain.indicators import departments_from_counts, positions_from_counts, regions_from_counts
        from app.store import evaluation_sql as agg

        common: dict[str, Any] = {"public": rules.public_sources, "quick_minutes": rules.quick_close_minutes,
                                  "scope": scope}
        count = store_eval.touched_count(session, since, until, scope=scope)
        if subject == "region":
            rows = agg.region_counts(session, since, until, level=level or "street",
                                     excludes_deferred=rules.close_rate_excludes_deferred, **common)
            return regions_from_counts([(c.key[0], c.counts, c.minutes, c.flags) for c in rows], rules,
                                       level=level or "street", grids=store_eval.grids_per_area(session),
                                       names=store_eval.area_names(session)), count
        if subject == "department":
            if actor is not None and actor.role is Role.DEPARTMENT:
                dept_id = actor.department_id
            names = store_eval.department_names(session)
            rows, calls = agg.department_counts(session, since, until, only=dept_id, **common)
            callbacks = agg.resolve_callbacks(calls, {code: i for i, (code, _n) in names.items()}, dept_id)
            return departments_from_counts([(c.key[0], c.counts, c.minutes, c.flags) for c in rows], callbacks,
                                           rules, names=names), count
        people = agg.position_counts(session, since, until, **common)
        return positions_from_counts([(c.key[0], (c.key[1], c.counts, c.minutes, c.flags)) for c in people], rules,
                                     role=level, names=store_eval.user_names(session)), count


# ---- renderings -----------------------------------------------------------------------------------

def evaluation_record(ev: Evaluation, tr: Translate, *, cases: bool = False) -> dict[str, Any]:
    """The evaluation as JSON: stable English keys, every count behind every rate (``cases``: and the
    case numbers behind each rate's numerator and denominator)."""
    note = None
    if ev.empty:
        note = tr(Msg("该时间段没有可考核的案卷"))
    elif ev.partial:
        note = tr(Msg("时间段尚未结束：数字截至目前，之后还会变化"))
    return {"subject": ev.subject, "level": ev.level, "from": ev.start.isoformat(), "to": ev.end.isoformat(),
            "partial": ev.partial, "empty": ev.empty, "note": note, "cases_in_period": ev.cases,
            "rules": {"version": ev.rules_version, "sha256": ev.rules_sha256},
            "count": len(ev.results), "results": [r.record(cases=cases) for r in ev.results]}


def _columns(ev: Evaluation) -> tuple[list[str], list[str], list[str], list[str]]:
    counts = sorted({k for r in ev.results for k in r.counts})
    rates = sorted({k for r in ev.results for k in r.rates})
    averages = sorted({k for r in ev.results for k in r.averages})
    flags = sorted({k for r in ev.results for k in r.flags})
    return counts, rates, averages, flags


def csv_bytes(ev: Evaluation) -> bytes:
    """One row per subject (UTF-8 with a BOM): every count, each rate's numerator, denominator, value."""
    counts, rates, averages, flags = _columns(ev)
    header = ["rank", "level", "code", "name", "score", "grade", "insufficient", "base", *counts]
    for k in rates:
        header += [f"{k}.numerator", f"{k}.denominator", f"{k}.value"]
    for k in averages:
        header += [f"{k}.total_minutes", f"{k}.count"]
    header += [f"flag.{k}" for k in flags]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for r in ev.results:
        row: list[Any] = [r.rank, r.level, _safe(r.code), _safe(r.name or ""),
                          "" if r.score is None else round(r.score, 4), r.grade or "", r.insufficient, r.base]
        row += [r.counts.get(k, "") for k in counts]
        for k in rates:
            f = r.rates.get(k)
            row += ["", "", ""] if f is None else [f.numerator, f.denominator,
                                                   "" if f.value is None else round(f.value, 6)]
        for k in averages:
            a = r.averages.get(k)
            row += ["", ""] if a is None else [a.total_minutes, a.count]
        row += [len(r.flags.get(k, ())) for k in flags]
        writer.writerow(["" if v is None else v for v in row])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def _safe(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def report_text(ev: Evaluation, tr: Translate) -> str:
    """What the terminal shows: a header, then per subject its score, grade and rates with their counts."""
    lines = [tr(Msg("考核 {subject} {level}：{start} 至 {end}，涉及案卷 {cases} 件，规则版本 {version}",
                    subject=ev.subject, level=ev.level or "", start=ev.start.isoformat(), end=ev.end.isoformat(),
                    cases=ev.cases, version=ev.rules_version))]
    if ev.empty:
        lines.append(tr(Msg("该时间段没有可考核的案卷")))
    elif ev.partial:
        lines.append(tr(Msg("时间段尚未结束：数字截至目前，之后还会变化")))
    for r in ev.results:
        rank = str(r.rank) if r.rank is not None else "-"
        score = "—" if r.score is None else f"{r.score:.1f}"
        head = f"{rank:>3}  {r.level} {r.code} {r.name or ''}  {score} {r.grade or ''}".rstrip()
        if r.insufficient:
            head += "  " + tr(Msg("（案卷太少，不参与排名）"))
        lines.append(head)
        parts = [f"{tr(LABELS.get(k, k))} {f.numerator}/{f.denominator} = {_percent(f.value)}"
                 for k, f in sorted(r.rates.items())]
        lines.append("     " + "  ".join(parts))
        if r.flags:
            lines.append("     " + tr(Msg("存疑记录")) + "：" + "  ".join(f"{k} {len(v)}" for k, v in sorted(r.flags.items())))
    return "\n".join(lines)


def render(ev: Evaluation, fmt: str, tr: Translate, *, cases: bool = False) -> bytes:
    if fmt == "json":
        record = evaluation_record(ev, tr, cases=cases)
        return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "csv":
        return csv_bytes(ev)
    if fmt == "text":
        return (report_text(ev, tr) + "\n").encode("utf-8")
    raise ValueError(f"unknown evaluation format {fmt!r}")


def write(ev: Evaluation, path: str | Path, fmt: str, tr: Translate, *, cases: bool = False) -> Path:
    """Write the rendering through a temporary file in the target folder (no partial file on failure)."""
    from app.services.ledger import LedgerWriteError, _atomic, check_writable

    target = check_writable(path)
    try:
        with _atomic(target) as temp, open(temp, "wb") as out:
            out.write(render(ev, fmt, tr, cases=cases))
    except OSError as exc:
        if isinstance(exc, LedgerWriteError):
            raise
        raise LedgerWriteError(Msg("无法写入 {path}：{error}", path=str(target)[:200],
                                   error=exc.strerror or type(exc).__name__)) from exc
    return target


__all__ = ["FORMATS", "LABELS", "MAX_DAYS", "Evaluation", "EvaluationService", "csv_bytes", "evaluation_record",
           "load_rules", "parse_period", "render", "report_text", "write"]
