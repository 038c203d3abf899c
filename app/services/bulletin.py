"""The monthly bulletin (数字城管简报, issue 13 item 3): what it prints, gathered from the evaluation,
the ledger and the audit chain — never recomputed here.

:func:`gather` returns a :class:`Bulletin`: the district's figures for the month and the month
before (``EvaluationService``, region level district: the headline and its month-on-month change),
the department and street rankings with their grades, the ledger's monthly shares of
延期/回退/缓办/挂账 (``LedgerService``), the daily reports and closures, the categories, channels
and hotspot grids of the cases reported in the month (counted from the same case events the
evaluation reads), and the audit chain's link at the end of the month. The whole chain is verified
first (``app.store.seal.make_seal``): a broken chain refuses the bulletin (:class:`ChainBroken`); a
login that cannot read the whole history (a department's login on PostGIS, behind row-level
security) cannot verify it, and is refused as such (:class:`ChainUnverifiable`), never told the
chain is broken.

:func:`export_table` writes any table (headers + rows) to .xlsx or .csv through a temporary file
renamed at the end (the GUI's statistics dock and the CLI share it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.domain.clock import Clock
from app.domain.definitions import Source
from app.domain.indicators import SubjectResult
from app.domain.ledger import LedgerKind, ShareRow
from app.domain.messages import Msg, MsgError
from app.services.actors import Actor
from app.services.case_source import read_scope
from app.services.errors import NotFound, ValidationError
from app.services.evaluation import Evaluation, EvaluationService, parse_period
from app.services.ledger import LedgerService, LedgerWriteError, _atomic, check_writable
from app.store import bulletins as store_bul
from app.store import evaluation as store_eval
from app.store.engine import Store

Translate = Callable[[Any], str]
TABLE_FORMATS = ("xlsx", "csv")
#: Shares printed from the ledger (the issue's 延期/回退/缓办/挂账).
SHARE_KINDS = (LedgerKind.EXTENSION, LedgerKind.RETURN, LedgerKind.DEFER, LedgerKind.SHELVE)
TOP = 10


class ChainBroken(MsgError):
    """The audit chain does not verify: no bulletin is built from a history that may be rewritten."""


class ChainUnverifiable(MsgError):
    """This login cannot read the whole history (a department's login on PostGIS), so it cannot
    verify the audit chain: the report is refused — not because the chain is broken."""


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(text: str, today: date) -> Month:
    """``YYYY-MM``, ``last``/``previous`` (the month before ``today``) or ``current``;
    ValidationError otherwise or for a month that has not started."""
    value = str(text).strip().lower()
    here = Month(today.year, today.month)
    if value in ("last", "previous"):
        return here.previous()
    if value in ("current", "this"):
        return here
    try:
        y, m = value.split("-")
        if len(y) != 4 or len(m) != 2:
            raise ValueError(value)
        month = Month(int(y), int(m))
        month.start  # noqa: B018 - validates the month number
    except ValueError:
        raise ValidationError("month", Msg("月份「{text}」无效：应为 YYYY-MM（例如 2026-11）或 last", text=str(text)[:40])) from None
    if month.start > today:
        raise ValidationError("month", Msg("{month} 尚未开始：无法为未来的月份生成简报", month=str(month)))
    return month


def first_workday(month: Month, is_workday: Callable[[date], bool]) -> date:
    """The month's first working day (by the working calendar)."""
    d = month.start
    while not is_workday(d) and d.month == month.month:
        d += timedelta(days=1)
    return d


@dataclass
class Bulletin:
    """Everything one bulletin prints (a monthly one, or one department's)."""

    kind: str  # monthly | department
    month: Month
    partial: bool
    cases: int  # cases with an event in the month (the evaluation's count)
    headline: SubjectResult | None  # the district (or the department) this month
    previous: SubjectResult | None  # the same subject the month before
    previous_cases: int
    departments: Evaluation | None
    streets: Evaluation | None
    shares: list[ShareRow]
    daily: list[tuple[date, int, int]]  # day, reports, closures
    categories: list[tuple[str, str, int]]  # code, name, reports
    channels: list[tuple[str, int]]  # source code, reports
    hotspots: list[tuple[str, int]]  # grid code, reports
    reported_ids: list[int]  # the cases reported in the month (the map's points)
    chain: tuple[int, str] | None  # the audit chain's link at the end of the month
    sealed_head: tuple[int, str]  # the whole chain's head, verified when gathering
    rules: tuple[str, str]  # version, sha256
    district_name: str
    department: str | None = None
    department_name: str | None = None
    late_cases: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.cases == 0

    def figures(self) -> dict[str, Any]:
        """The headline numbers (what the tests compare with ``Core.evaluate``)."""
        r = self.headline
        out: dict[str, Any] = {"cases": self.cases}
        if r is not None:
            for key in ("filed", "closed", "closed_on_time", "dispatched"):
                out[key] = r.counts.get(key, 0)
            for key in ("close_rate", "close_on_time_rate", "timely_solved_rate"):
                f = r.rates.get(key)
                out[key] = None if f is None else f.value
            out["score"], out["grade"] = r.score, r.grade
        return out


def _district(ev: Evaluation) -> SubjectResult | None:
    return ev.results[0] if ev.results else None


def gather(store: Store, actor: Actor | None, month: Month, clock: Clock, *, department: str | None = None,
           verify: bool = True, feedback: Any = None) -> Bulletin:
    """The bulletin of ``month`` (``department``: that department's report). Raises ChainBroken when
    the audit chain does not verify, ValidationError for a month not started, NotFound for an unknown
    department. ``feedback`` (``progress(fraction, message)`` and ``check()``, e.g. an
    ``app.jobs.Feedback``) follows the chain's verification and can cancel it."""
    from app.store.seal import SealError, make_seal

    today = clock.now().date()
    parse_period(month.start, month.end, today)
    sealed: tuple[int, str] = (0, "")
    if verify:
        with store.session() as session:
            whole = store_eval.sees_whole_history(session)
        if not whole:
            raise ChainUnverifiable(Msg(
                "专业部门账户只能看到本部门的案卷事件，无法校验整条审计链，因此不能生成报告（报告必须先证明所依据的历史"
                "未被改动，审计链并未损坏）；请用值班长、领导、分析员或管理员账户生成，例如 gridhall report department "
                "{code} --month {month} --as <分析员账户>", code=department or "CODE", month=str(month)))
        try:
            seal = make_seal(store, clock, feedback)
        except SealError as exc:
            raise ChainBroken(Msg("审计链校验未通过，拒绝生成简报（历史记录可能被改动，请先运行 gridhall db verify-audit 查明原因）："
                                  "{problem}", problem=exc.msg)) from None
        sealed = (seal.chain_no, seal.head_hash)
    service = EvaluationService(store, today=lambda: today)
    prev = month.previous()
    since, until = datetime.combine(month.start, time.min), datetime.combine(month.end + timedelta(days=1), time.min)
    with store.session() as session:
        chain = store_bul.period_head(session, until)
        names = store_eval.area_names(session)
        categories = store_bul.category_names(session)
        histories = store_eval.histories(session, since, until, scope=read_scope(store, actor))
        dept_name = None
        if department is not None:
            dept_id = store_eval.department_id(session, department)
            if dept_id is None:
                raise NotFound(Msg("部门「{department}」不存在：请按部门代码选择", department=department[:40]))
            dept_name = store_eval.department_names(session).get(dept_id, (department, department))[1]
    if department is None:  # the month's events are read once (``histories``) for its three evaluations
        this = service.evaluate(actor, "region", month.start, month.end, level="district", histories=histories)
        before = service.evaluate(actor, "region", prev.start, prev.end, level="district")
        departments = service.evaluate(actor, "department", month.start, month.end, histories=histories)
        streets = service.evaluate(actor, "region", month.start, month.end, level="street", histories=histories)
        headline, previous = _district(this), _district(before)
    else:
        this = service.evaluate(actor, "department", month.start, month.end, department=department,
                                histories=histories)
        before = service.evaluate(actor, "department", prev.start, prev.end, department=department)
        departments = streets = None  # type: ignore[assignment]
        headline, previous = _district(this), _district(before)
        histories = [h for h in histories if any(e.department_id == dept_id for e in h.events
                                                 if e.action in ("dispatch", "rule"))]
    ledger = LedgerService(store).report(actor, month.start, month.end, department=department)
    shares = [r for r in ledger.shares if r.month == str(month)]
    shares.sort(key=lambda r: (-r.dispatched, r.department or ""))
    daily_reports: Counter[date] = Counter()
    daily_closes: Counter[date] = Counter()
    cats: Counter[str] = Counter()
    chans: Counter[str] = Counter()
    grids: Counter[str] = Counter()
    reported: list[int] = []
    for h in histories:
        for e in h.events:
            if not since <= e.at < until:
                continue
            if e.action == "report":
                daily_reports[e.at.date()] += 1
                reported.append(h.case_id)
                cats[str(h.facts.get("category") or "-")] += 1
                chans[str(h.facts.get("source") or "-")] += 1
                if h.facts.get("grid"):
                    grids[str(h.facts["grid"])] += 1
            elif e.action == "close":
                daily_closes[e.at.date()] += 1
    days = [month.start + timedelta(days=i) for i in range((month.end - month.start).days + 1)]
    late: list[str] = []
    late_key = "close_on_time_rate" if department is None else "handle_on_time_rate"
    if headline is not None and late_key in headline.rates:
        on_time, due = headline.behind(late_key)
        late = sorted((Counter(due) - Counter(on_time)).elements())
    ordered = sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))
    cases, previous_cases = this.cases, before.cases
    if department is not None:  # the department's own cases: those sent to it
        cases = headline.counts.get("assigned", 0) if headline else 0
        previous_cases = previous.counts.get("assigned", 0) if previous else 0
    return Bulletin(
        kind="monthly" if department is None else "department", month=month, partial=this.partial, cases=cases,
        headline=headline, previous=previous, previous_cases=previous_cases, departments=departments, streets=streets,
        shares=shares, daily=[(d, daily_reports[d], daily_closes[d]) for d in days],
        categories=[(c, categories.get(c, c), n) for c, n in ordered],
        channels=sorted(chans.items(), key=lambda kv: (-kv[1], kv[0])),
        hotspots=sorted(grids.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        reported_ids=sorted(set(reported)), chain=chain, sealed_head=sealed, rules=(this.rules_version, this.rules_sha256),
        district_name=names.get("district", "district"), department=department, department_name=dept_name,
        late_cases=late)


def channel_label(code: str, tr: Translate) -> str:
    try:
        return tr(Msg(Source.parse(code).label))
    except (ValueError, KeyError):
        return code


# ---- tables ----------------------------------------------------------------------------------

def _safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(value):
        return "'" + value
    return value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """CSV with a UTF-8 BOM (Excel opens Chinese correctly)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_safe_cell(h) for h in headers])
    for row in rows:
        w.writerow(["" if v is None else _safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


Sheet = tuple[str, Sequence[str], Sequence[Sequence[Any]]]  # title, headers, rows


def export_table(rows: Sequence[Sequence[Any]], path: str | os.PathLike[str], fmt: str | None = None, *,
                 headers: Sequence[str] = (), title: str = "Sheet1", more: Sequence[Sheet] = ()) -> Path:
    """Write ``headers`` + ``rows`` to ``path`` as xlsx or csv (``fmt`` None: from the suffix),
    through a temporary file renamed at the end (nothing is left behind on failure or Ctrl+C).
    ``more``: further sheets (xlsx only; a CSV holds the first table). Raises LedgerWriteError for
    a path that cannot be written, ValidationError for a format."""
    target = check_writable(path)
    fmt = (fmt or target.suffix.lstrip(".")).lower()
    if fmt not in TABLE_FORMATS:
        raise ValidationError("format", Msg("导出格式「{format}」无效：应为 xlsx 或 csv", format=str(fmt)[:20]))
    try:
        with _atomic(target) as temp:
            if fmt == "csv":
                Path(temp).write_bytes(table_csv(headers, rows))
            else:
                _write_xlsx(temp, [(title, headers, rows), *more])
    except OSError as exc:
        raise LedgerWriteError(Msg("无法导出：写入 {path} 失败（{error}）", path=str(target)[:200],
                                   error=exc.strerror or str(exc))) from None
    return target


def _write_xlsx(path: str, sheets: Sequence[Sheet]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for n, (title, headers, rows) in enumerate(sheets):
        ws = book.active if n == 0 else book.create_sheet()
        ws.title = (title or f"Sheet{n + 1}")[:31]
        if headers:
            ws.append(list(headers))
            for cell in ws[1]:
                cell.font = Font(bold=True)
            ws.freeze_panes = "A2"
        for row in rows:
            ws.append([_safe_cell(v) for v in row])
        width = len(headers) or max((len(r) for r in rows), default=0)
        for i in range(1, width + 1):
            sample = [str(headers[i - 1])] if headers else []
            sample += [str(r[i - 1]) for r in rows[:200] if len(r) >= i and r[i - 1] is not None]
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(
                60, max(8, max((len(s) for s in sample), default=4) * 1.6 + 2))
    book.save(path)


def _cell(text: str) -> Any:
    """A CSV cell back as a number where it is one (xlsx keeps numbers numeric)."""
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def evaluation_table(ev: Evaluation) -> tuple[list[str], list[list[Any]]]:
    """The evaluation's table exactly as its CSV (``app.services.evaluation.csv_bytes``), typed."""
    from app.services.evaluation import csv_bytes

    reader = csv.reader(io.StringIO(csv_bytes(ev).decode("utf-8-sig")))
    headers = next(reader)
    return headers, [[_cell(c) for c in row] for row in reader]


def behind_table(ev: Evaluation) -> tuple[list[str], list[list[Any]]]:
    """The cases behind every rate of every subject: (code, rate, side, case number) — a case
    listed as often as it was counted."""
    rows: list[list[Any]] = []
    for r in ev.results:
        for key in sorted(r.rates):
            top, bottom = r.behind(key)
            rows += [[r.code, key, "numerator", n] for n in top]
            rows += [[r.code, key, "denominator", n] for n in bottom]
    return ["code", "rate", "side", "case_number"], rows


def export_evaluation(ev: Evaluation, path: str | os.PathLike[str], fmt: str, *, cases: bool = False) -> Path:
    """``gridhall evaluate --format xlsx|csv --out``: the table, and with ``cases`` (xlsx) a second
    sheet with the cases behind each rate."""
    headers, rows = evaluation_table(ev)
    more: list[Sheet] = []
    if cases:
        h2, r2 = behind_table(ev)
        more.append(("cases", h2, r2))
    return export_table(rows, path, fmt, headers=headers, title=f"{ev.subject}-{ev.level or 'all'}", more=more)


def statistics_table(stats: Any, tr: Translate, label: Callable[[Any], str]) -> tuple[list[str], list[list[Any]]]:
    """Every chart of a :class:`app.services.statistics.Statistics` as one table: chart, series,
    item, value and the number of cases behind it (``label`` renders a bar's label)."""
    headers = [tr(Msg("图表")), tr(Msg("系列")), tr(Msg("项目")), tr(Msg("数值")), tr(Msg("案卷数"))]
    rows: list[list[Any]] = []
    for chart in stats.charts.values():
        for series in chart.series:
            for bar in series.bars:
                n = "" if bar.cases is None else len(bar.cases)
                value = int(bar.value) if float(bar.value).is_integer() else round(bar.value, 4)
                rows.append([tr(chart.title), tr(series.name), label(bar.label), value, n])
    return headers, rows


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def record_build(store: Store, bulletin: Bulletin, path: Path, pages: int, by: str, lang: str, clock: Clock) -> int:
    """Add the build to the history (migration 0019)."""
    with store.session() as session:
        new_id = store_bul.record_build(
            session, kind=bulletin.kind, month=str(bulletin.month), department=bulletin.department,
            built_at=clock.now().replace(microsecond=0, tzinfo=None), built_by=by[:64], file_name=str(path),
            sha256=sha256_file(path), chain_no=bulletin.chain[0] if bulletin.chain else None,
            head_hash=bulletin.chain[1] if bulletin.chain else None, pages=pages, lang=lang)
        session.commit()
    return new_id


def build_history(store: Store, month: str | None = None) -> list[store_bul.BuildRow]:
    with store.session() as session:
        return store_bul.build_history(session, month=month)


__all__ = ["SHARE_KINDS", "TABLE_FORMATS", "Bulletin", "ChainBroken", "ChainUnverifiable", "Month", "behind_table", "build_history",
           "channel_label", "evaluation_table", "export_evaluation", "export_table", "first_workday", "gather", "parse_month", "record_build", "sha256_file", "statistics_table", "table_csv"]
