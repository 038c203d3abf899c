"""`gridhall ledger`: the request ledger (台账) of a period — every 延期/回退/缓办/挂账/作废 request, direct
作废 and 职责争议 with who asked, why, who decided and when, the time granted — and the monthly shares
per department (``--shares``), as text, JSON, CSV (UTF-8 with a BOM, for Excel) or xlsx.

Read-only. ``--as USER`` reads as that user (password from ``$GRIDHALL_PASSWORD``, else libpq's password
file on PostGIS, else a prompt; on PostGIS through the user's own database login, so row-level security
limits a department to its own cases; on SpatiaLite the service applies the same scope), exactly as
``gridhall case`` logs in. Without ``--as`` the store is read with the URL's own account (PostGIS) or
the file (SpatiaLite). ``--out FILE`` is written through a temporary file in the same folder and
renamed at the end; a failure leaves nothing behind. Bad dates, a start after the end or an
unwritable path: one line on stderr, exit 2, nothing read or written.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from typing import Any

from app.domain.messages import Msg

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
KINDS = ("extension", "return", "defer", "shelve", "void", "dispute")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_ledger_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``ledger`` to the top-level subparsers."""
    p = subparsers.add_parser(
        "ledger", help="the request ledger (台账): 延期/回退/缓办/挂账/作废 requests, disputes and monthly shares",
        description="The request ledger of a period, derived from the case events: every extension, return, "
                    "defer, shelve and void request, every direct void and every responsibility dispute, with "
                    "who asked, why, who approved or refused and when, the time granted and the outcome; "
                    "--shares adds the monthly shares per department (requests / dispatches).")
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help="last day (included), YYYY-MM-DD")
    p.add_argument("--kind", choices=KINDS, default=None, help="only this kind of entry")
    p.add_argument("--department", metavar="CODE", default=None,
                   help="only the cases this department was responsible for when the request was made")
    p.add_argument("--shares", action="store_true",
                   help="the monthly shares per department: with text and json added, with csv instead of the "
                        "entries (xlsx always has both sheets)")
    p.add_argument("--format", choices=("text", "json", "csv", "xlsx"), default="text",
                   help='output format (default text); json: {"from", "to", "kind", "department", "count", '
                        '"entries": [{"case_id", "case_number", "seq", "kind", "requested_at", "requested_by", '
                        '"requester_role", "requester_department", "department", "department_name", "reason", '
                        '"requested_minutes", "outcome" (pending|approved|refused|ruled|withdrawn|direct), '
                        '"decided_at", "decided_by", "decider_role", "decision_note", "granted_minutes", '
                        '"paused_from", "paused_until", "paused_minutes", "pause_ended_by", "ruling", '
                        '"ruled_department", "resolved_by"}], with --shares "shares": [{"month", "department", '
                        '"department_name", "dispatched", "<kind>_count", "<kind>_share"}]}; xlsx needs --out')
    p.add_argument("--out", metavar="FILE", default=None, help="write to FILE instead of standard output")
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    p.add_argument("--as", dest="user", default=None, metavar="USER",
                   help="read as this user (a department sees its own cases)")
    p.add_argument("--lang", choices=("zh_CN", "en"), default=None,
                   help="language of the headers, labels and messages (default: $GRIDHALL_LANG, else zh_CN)")
    return p


def _date(text: str) -> date:
    from app.cli import ArgumentRefused

    try:
        if not _DATE.fullmatch(text.strip()):
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ArgumentRefused(Msg("日期「{text}」无效：应为 YYYY-MM-DD，例如 2026-12-01", text=text[:40])) from None


def _catalogue(args: argparse.Namespace):
    from app.i18n import Catalogue

    return Catalogue(args.lang) if args.lang else Catalogue.from_env()


def run_ledger(args: argparse.Namespace, *, clock=None) -> int:
    """Run ``gridhall ledger``; returns the exit code (one line on stderr for every refusal)."""
    from app.cli import ArgumentRefused
    from app.cli.user import PasswordUnavailable
    from app.services.auth import AuthError
    from app.services.errors import ServiceError
    from app.services.ledger import LedgerWriteError, export, render, report_text
    from app.store.errors import StoreError

    cat = _catalogue(args)
    start, end = _date(args.start), _date(args.end)
    if start > end:
        raise ArgumentRefused(Msg("开始日期 {start} 晚于结束日期 {end}", start=start.isoformat(), end=end.isoformat()))
    if args.format == "xlsx" and not args.out:
        raise ArgumentRefused(Msg("xlsx 是二进制文件：请用 --out 给出文件路径"))
    if args.out is not None:
        _refuse_unwritable(args.out)
    store = None
    try:
        store, actor = _open(args, clock)
        from app.services.ledger import LedgerService

        report = LedgerService(store).report(actor, start, end, kind=args.kind, department=args.department)
        if args.out is not None:
            path = export(report, args.out, args.format, cat.tr, shares=args.shares)
            print(cat.tr(Msg("台账已导出到 {path}（{count} 条）", path=str(path), count=len(report.entries))))
            return EXIT_OK
    except (ServiceError, AuthError, StoreError, PasswordUnavailable, LedgerWriteError) as exc:
        print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()
    if args.format == "csv":
        sys.stdout.flush()
        sys.stdout.buffer.write(render(report, "csv", cat.tr, shares=args.shares))
        sys.stdout.buffer.flush()
        return EXIT_OK
    if args.format == "json":
        text = render(report, "json", cat.tr, shares=args.shares).decode("utf-8")
    else:
        text = report_text(report, cat.tr, shares=args.shares) + "\n"
    sys.stdout.write(_inert(text))
    return EXIT_OK


def _open(args: argparse.Namespace, clock):
    """(store, actor): as ``--as`` USER the way ``gridhall case`` logs in, else the store itself (actor None)."""
    from app.cli.case import _login_as, _password
    from app.config import default_db_url
    from app.domain.clock import SystemClock
    from app.services.auth import login
    from app.store.engine import open_store, parse_url

    url = args.db or default_db_url()
    if args.user is None:
        return open_store(url), None
    clock = clock or SystemClock()
    if parse_url(url)[1] is None:  # PostGIS: the user's own login, never the URL's account
        return _login_as(url, args.user, clock)
    store = open_store(url)
    try:
        return store, login(store, args.user, _password(args.user), clock=clock)
    except BaseException:
        store.dispose()
        raise


def _refuse_unwritable(path: str) -> None:
    """An output path the command cannot write is a usage error (exit 2) before any work is done."""
    from app.cli import ArgumentRefused
    from app.services.ledger import LedgerWriteError, check_writable

    try:
        check_writable(path)
    except LedgerWriteError as exc:
        raise ArgumentRefused(exc.msg) from None


def _line(text: str) -> str:
    return _inert(" ".join(text.split()))


def _inert(text: str) -> str:
    """``text`` with terminal-driving characters shown as ``\\uXXXX`` (what strangers typed must not
    clear the screen or reverse a line; in JSON the escape is the same string)."""
    from app.cli import _TERMINAL

    return re.sub(_TERMINAL, lambda m: f"\\u{ord(m.group(0)):04x}", text)


__all__ = ["add_ledger_command", "run_ledger"]
