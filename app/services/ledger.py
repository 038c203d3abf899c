"""The request ledger (台账, issue 11 item 3): the use case over the store's event reads and the pure
pairing of ``app.domain.ledger``, and its exports (text, JSON, CSV with a BOM, xlsx).

``LedgerService.report(actor, start, end, kind=…, department=…)`` gives a :class:`LedgerReport`: the
entries requested on ``start`` … ``end`` (both days included) and the monthly shares per department
of that period. A department operator reads its own department's cases only (PostGIS: its login's
row-level security; SpatiaLite: :func:`app.services.case_source.read_scope`).

The exports are written to a temporary file in the target folder and renamed at the end: a failure
leaves no partial file. Texts go through ``tr`` (the edge's ``Catalogue.tr``; this layer knows no
catalogue), so headers and labels follow the user's language; JSON keys are stable English.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.domain.definitions import Action, Role
from app.domain.ledger import (
    SHARE_KINDS,
    LedgerEntry,
    LedgerKind,
    LedgerOutcome,
    ShareRow,
    in_period,
    monthly_shares,
    pair_requests,
)
from app.domain.messages import Msg, MsgError
from app.services.actors import Actor
from app.services.case_source import read_scope
from app.services.errors import NotFound, ValidationError
from app.store import ledger as store_ledger
from app.store.engine import Store

#: The longest period one report covers (days).
MAX_DAYS = 3 * 366
#: Export formats.
FORMATS = ("text", "json", "csv", "xlsx")

Translate = Callable[[Any], str]

RULINGS = {"upheld": Msg("维持原责任部门"), "reassigned": Msg("改派责任部门"), "remedial": Msg("指定部门代整改")}


class LedgerWriteError(MsgError, OSError):
    """An export could not be written (nothing was left behind)."""


@dataclass(frozen=True)
class LedgerReport:
    """The entries of a period (oldest request first) and its monthly shares per department."""

    start: date
    end: date
    kind: LedgerKind | None
    department: str | None
    entries: list[LedgerEntry]
    shares: list[ShareRow] = field(default_factory=list)


def parse_kind(value: LedgerKind | str | None) -> LedgerKind | None:
    """A kind from its value, name or Chinese label (None: every kind); ValidationError otherwise."""
    if value is None or isinstance(value, LedgerKind):
        return value
    try:
        return LedgerKind.parse(str(value).strip())
    except ValueError:
        raise ValidationError("kind", Msg("台账类型「{kind}」无效：应为 extension、return、defer、shelve、void 或 dispute",
                                          kind=str(value)[:40])) from None


class LedgerService:
    """Reads the ledger from the store's case events."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def report(self, actor: Actor | None, start: date, end: date, *, kind: LedgerKind | str | None = None,
               department: str | None = None) -> LedgerReport:
        """The ledger of ``start`` … ``end`` as ``actor`` may read it (None: unscoped, the store's own
        account), limited to ``kind`` and to the responsible ``department`` (a code)."""
        if start > end:
            raise ValidationError("period", Msg("开始日期 {start} 晚于结束日期 {end}", start=start.isoformat(),
                                                end=end.isoformat()))
        if (end - start).days >= MAX_DAYS:
            raise ValidationError("period", Msg("台账的时间段最长 {days} 天（{start} 至 {end} 太长）", days=MAX_DAYS,
                                                start=start.isoformat(), end=end.isoformat()))
        wanted = parse_kind(kind)
        scope = read_scope(self.store, actor)
        since, until = datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)
        with self.store.session() as session:
            dept_id = None
            if department:
                dept_id = store_ledger.department_id(session, department.strip())
                if dept_id is None:
                    raise NotFound(Msg("部门「{department}」不存在：请按部门代码选择", department=department[:40]))
            events = store_ledger.ledger_events(session, since, until, scope=scope)
            dispatched = store_ledger.dispatch_counts(session, since, until, scope=scope)
            names = store_ledger.department_names(session)
        entries = in_period(pair_requests(events), start, end, kind=wanted, department_id=dept_id)
        for x in entries:
            x.department, x.department_name = names.get(x.department_id, (None, None)) if x.department_id else (None, None)
            x.requester_department = names[x.requester_department_id][0] if x.requester_department_id in names else None
            x.ruled_department = names[x.ruled_department_id][0] if x.ruled_department_id in names else None
        counted = in_period(pair_requests(events), start, end, department_id=dept_id)  # every kind: the shares
        if dept_id is not None:
            dispatched = {k: n for k, n in dispatched.items() if k[1] == dept_id}
        if actor is not None and actor.role is Role.DEPARTMENT:
            # its cases' histories name other departments (a case returned from them): their shares
            # would count only what passed through this department's cases, so only its own row
            own = actor.department_id
            counted = [x for x in counted if x.department_id == own]
            dispatched = {k: n for k, n in dispatched.items() if k[1] == own}
        shares = [ShareRow(r.month, r.department_id, r.dispatched, r.counts, *names.get(r.department_id, (None, None)))
                  for r in monthly_shares(counted, dispatched)]
        return LedgerReport(start, end, wanted, department.strip() if department else None, entries, shares)


# ---- tables ------------------------------------------------------------------------------------

#: (key, header) of the ledger table, in column order.
ENTRY_COLUMNS: tuple[tuple[str, Msg], ...] = (
    ("case_number", Msg("案卷号")), ("kind", Msg("类型")), ("requested_at", Msg("申请时间")),
    ("requested_by", Msg("申请人")), ("requester_role", Msg("申请人角色")), ("requester_department", Msg("申请部门")),
    ("department", Msg("责任部门")), ("reason", Msg("申请理由")), ("requested_minutes", Msg("申请延期（分钟）")),
    ("outcome", Msg("结果")), ("decided_at", Msg("审批时间")), ("decided_by", Msg("审批人")),
    ("decider_role", Msg("审批人角色")), ("decision_note", Msg("审批意见")), ("granted_minutes", Msg("批准延期（分钟）")),
    ("paused_from", Msg("暂停开始")), ("paused_until", Msg("暂停结束")), ("paused_minutes", Msg("暂停时长（分钟）")),
    ("ruling", Msg("裁定")), ("ruled_department", Msg("裁定责任部门")), ("resolved_by", Msg("终止于")),
)
_SHARE_HEADERS: dict[LedgerKind, tuple[Msg, Msg]] = {
    LedgerKind.EXTENSION: (Msg("延期申请数"), Msg("延期率")),
    LedgerKind.RETURN: (Msg("回退申请数"), Msg("回退率")),
    LedgerKind.DEFER: (Msg("缓办申请数"), Msg("缓办占比")),
    LedgerKind.SHELVE: (Msg("挂账申请数"), Msg("挂账占比")),
    LedgerKind.VOID: (Msg("作废数"), Msg("作废占比")),
    LedgerKind.DISPUTE: (Msg("职责争议数"), Msg("职责争议占比")),
}
#: (key, header) of the shares table: month, department, dispatches, then count and share per kind.
SHARE_COLUMNS: tuple[tuple[str, Msg], ...] = (
    ("month", Msg("月份")), ("department", Msg("部门")), ("department_name", Msg("部门名称")),
    ("dispatched", Msg("派遣数")),
    *((key, header) for kind in SHARE_KINDS
      for key, header in zip((f"{kind.value}_count", f"{kind.value}_share"), _SHARE_HEADERS[kind], strict=True)),
)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def _role(value: str | None, tr: Translate) -> str:
    if not value:
        return ""
    try:
        return tr(Role(value).label)
    except ValueError:
        return value


def _action(value: str | None, tr: Translate) -> str:
    if not value:
        return ""
    try:
        return tr(Action(value).label)
    except ValueError:
        return value


def entry_record(x: LedgerEntry) -> dict[str, Any]:
    """The entry as JSON: stable English keys, stored values (codes, ISO times), minutes as numbers."""
    return {
        "case_id": x.case_id, "case_number": x.case_number, "seq": x.seq, "kind": x.kind.value,
        "requested_at": _stamp(x.requested_at), "requested_by": x.requested_by, "requester_role": x.requester_role,
        "requester_department": x.requester_department, "department": x.department,
        "department_name": x.department_name, "reason": x.reason, "requested_minutes": x.requested_minutes,
        "outcome": x.outcome.value, "decided_at": _stamp(x.decided_at), "decided_by": x.decided_by,
        "decider_role": x.decider_role, "decision_note": x.decision_note, "granted_minutes": x.granted_minutes,
        "paused_from": _stamp(x.paused_from), "paused_until": _stamp(x.paused_until),
        "paused_minutes": x.paused_minutes, "pause_ended_by": x.pause_ended_by, "ruling": x.ruling,
        "ruled_department": x.ruled_department, "resolved_by": x.resolved_by,
    }


def entry_cells(x: LedgerEntry, tr: Translate) -> list[Any]:
    """The entry's cells under :data:`ENTRY_COLUMNS`, labels in ``tr``'s language (numbers stay numbers)."""
    department = f"{x.department} {x.department_name}" if x.department and x.department_name else (x.department or "")
    ruling = tr(RULINGS[x.ruling]) if x.ruling in RULINGS else (x.ruling or "")
    resolved = _action(x.resolved_by, tr) if x.outcome is LedgerOutcome.WITHDRAWN else ""
    pause_end = x.pause_ended_by if x.pause_ended_by != Action.RESTORE.value else None
    until = _stamp(x.paused_until) or ""
    if until and pause_end:
        until = f"{until} ({_action(pause_end, tr)})"
    return [x.case_number, tr(x.kind.label), _stamp(x.requested_at), x.requested_by, _role(x.requester_role, tr),
            x.requester_department or "", department, x.reason or "", x.requested_minutes,
            tr(x.outcome.label), _stamp(x.decided_at) or "", x.decided_by or "", _role(x.decider_role, tr),
            x.decision_note or "", x.granted_minutes, _stamp(x.paused_from) or "", until, x.paused_minutes,
            ruling, x.ruled_department or "", resolved]


def share_record(r: ShareRow) -> dict[str, Any]:
    """The share row as JSON: per kind ``<kind>_count`` and ``<kind>_share`` (null without dispatches)."""
    data: dict[str, Any] = {"month": r.month, "department": r.department, "department_name": r.department_name,
                            "dispatched": r.dispatched}
    for kind in SHARE_KINDS:
        share = r.share(kind)
        data[f"{kind.value}_count"] = r.counts.get(kind, 0)
        data[f"{kind.value}_share"] = None if share is None else round(share, 4)
    return data


def share_cells(r: ShareRow) -> list[Any]:
    data = share_record(r)
    return [data[key] for key, _header in SHARE_COLUMNS]


def report_record(report: LedgerReport, *, shares: bool = True) -> dict[str, Any]:
    """The whole report as JSON (keys: from, to, kind, department, count, entries[, shares])."""
    data: dict[str, Any] = {"from": report.start.isoformat(), "to": report.end.isoformat(),
                            "kind": report.kind.value if report.kind else None, "department": report.department,
                            "count": len(report.entries), "entries": [entry_record(x) for x in report.entries]}
    if shares:
        data["shares"] = [share_record(r) for r in report.shares]
    return data


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def report_text(report: LedgerReport, tr: Translate, *, shares: bool = False) -> str:
    """A terminal's view: one line per entry, then (``shares``) the monthly shares."""
    lines = [tr(Msg("台账 {start} 至 {end}：{count} 条", start=report.start.isoformat(), end=report.end.isoformat(),
                    count=len(report.entries)))]
    for x in report.entries:
        cells = dict(zip((k for k, _h in ENTRY_COLUMNS), entry_cells(x, tr), strict=True))
        line = (f"{cells['case_number']}  {cells['kind']}  {cells['requested_at']}  {x.requested_by}"
                f"（{cells['requester_role']}）  {cells['department'] or '-'}  {cells['outcome']}")
        if x.decided_at is not None and x.outcome is not LedgerOutcome.DIRECT:
            line += f"  {cells['decided_at']} {cells['decided_by']}"
        if x.requested_minutes is not None:
            line += "  " + tr(Msg("申请 {minutes} 分钟", minutes=x.requested_minutes))
        if x.granted_minutes is not None:
            line += "  " + tr(Msg("批准 {minutes} 分钟", minutes=x.granted_minutes))
        if x.paused_from is not None:
            line += "  " + (tr(Msg("暂停 {minutes} 分钟", minutes=x.paused_minutes)) if x.paused_minutes is not None
                            else tr(Msg("暂停中")))
        if cells["ruling"]:
            line += f"  {cells['ruling']} {cells['ruled_department']}".rstrip()
        if cells["resolved_by"]:
            line += "  " + tr(Msg("（因{action}终止）", action=cells["resolved_by"]))
        if x.reason:
            line += f"  {tr(Msg('理由'))}：{x.reason}"
        if x.decision_note:
            line += f"  {tr(Msg('意见'))}：{x.decision_note}"
        lines.append(line)
    if shares:
        lines.append(tr(Msg("月度占比（申请数 / 派遣数）")))
        for r in report.shares:
            parts = [f"{tr(h[0])} {r.counts.get(k, 0)}/{r.dispatched} = {_percent(r.share(k))}"
                     for k, h in _SHARE_HEADERS.items() if k in (LedgerKind.EXTENSION, LedgerKind.RETURN,
                                                                  LedgerKind.DEFER, LedgerKind.SHELVE)]
            lines.append(f"{r.month}  {r.department or '-'} {r.department_name or ''}  "
                         f"{tr(Msg('派遣数'))} {r.dispatched}  " + "  ".join(parts))
    return "\n".join(lines)


# ---- files -----------------------------------------------------------------------------------

def check_writable(path: str | os.PathLike[str]) -> Path:
    """``path`` as an absolute Path whose folder exists and can be written; LedgerWriteError otherwise."""
    target = Path(path).expanduser()
    if not str(path).strip() or target.is_dir():
        raise LedgerWriteError(Msg("导出路径 {path} 是目录或为空：请给出文件路径", path=str(path)[:200]))
    folder = target.absolute().parent
    if not folder.is_dir():
        raise LedgerWriteError(Msg("无法导出：目录 {folder} 不存在", folder=str(folder)[:200]))
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise LedgerWriteError(Msg("无法导出：没有写入 {path} 的权限", path=str(target)[:200]))
    return target.absolute()


@contextlib.contextmanager
def _atomic(target: Path) -> Iterator[str]:
    """A temporary file's path next to ``target``, renamed onto it when the block ends normally."""
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield temp
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """A CSV document with a UTF-8 BOM (Excel opens Chinese correctly)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _safe_cell(v) for v in row])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def _safe_cell(value: Any) -> Any:
    """A cell value that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def write_xlsx(path: str, report: LedgerReport, tr: Translate) -> None:
    """Two sheets: the ledger (台账) and the monthly shares (月度占比), headers bold, columns sized."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = tr(Msg("台账"))
    tables = ((sheet, [tr(h) for _k, h in ENTRY_COLUMNS], [entry_cells(x, tr) for x in report.entries]),
              (book.create_sheet(tr(Msg("月度占比"))), [tr(h) for _k, h in SHARE_COLUMNS],
               [share_cells(r) for r in report.shares]))
    for ws, headers, rows in tables:
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_safe_cell(v) for v in row])
        ws.freeze_panes = "A2"
        for i, header in enumerate(headers, start=1):
            width = max([len(str(header))] + [len(str(r[i - 1])) for r in rows[:200] if r[i - 1] is not None])
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(60, max(8, width * 1.6 + 2))
    shares_ws = tables[1][0]
    for row in shares_ws.iter_rows(min_row=2):
        for cell, (key, _h) in zip(row, SHARE_COLUMNS, strict=True):
            if key.endswith("_share") and cell.value is not None:
                cell.number_format = "0.0%"
    book.save(path)


def export(report: LedgerReport, path: str | os.PathLike[str], fmt: str, tr: Translate, *,
           shares: bool = False) -> Path:
    """Write ``report`` as ``fmt`` (json, csv, xlsx, text) to ``path`` through a temporary file.

    csv: the ledger, or with ``shares`` the shares table instead; json: the report (with ``shares``
    its shares too); xlsx: both sheets; text: what the terminal shows. Returns the file written.
    LedgerWriteError when it cannot be written (nothing is left behind).
    """
    target = check_writable(path)
    try:
        with _atomic(target) as temp:
            if fmt == "xlsx":
                write_xlsx(temp, report, tr)
            else:
                with open(temp, "wb") as out:
                    out.write(render(report, fmt, tr, shares=shares))
    except OSError as exc:
        if isinstance(exc, LedgerWriteError):
            raise
        raise LedgerWriteError(Msg("无法写入 {path}：{error}", path=str(target)[:200],
                                   error=exc.strerror or type(exc).__name__)) from exc
    return target


def render(report: LedgerReport, fmt: str, tr: Translate, *, shares: bool = False) -> bytes:
    """The bytes of a text, JSON or CSV export (xlsx is written by :func:`write_xlsx`)."""
    if fmt == "json":
        return (json.dumps(report_record(report, shares=shares), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "csv":
        if shares:
            return csv_bytes([tr(h) for _k, h in SHARE_COLUMNS], [share_cells(r) for r in report.shares])
        return csv_bytes([tr(h) for _k, h in ENTRY_COLUMNS], [entry_cells(x, tr) for x in report.entries])
    if fmt == "text":
        return (report_text(report, tr, shares=shares) + "\n").encode("utf-8")
    raise ValueError(f"unknown ledger format {fmt!r}")


__all__ = ["ENTRY_COLUMNS", "FORMATS", "MAX_DAYS", "SHARE_COLUMNS", "LedgerReport", "LedgerService",
           "LedgerWriteError", "check_writable", "csv_bytes", "entry_cells", "entry_record", "export", "parse_kind",
           "render", "report_record", "report_text", "share_cells", "share_record", "write_xlsx"]
