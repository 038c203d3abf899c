"""`gridhall report`: the monthly bulletin (数字城管简报) and a department's monthly report as PDF, and
the history of the bulletins built.

    gridhall report monthly --month YYYY-MM|last --out FILE.pdf [--db URL] [--as USER] [--lang en]
                            [--if-first-workday] [--no-map]
    gridhall report department CODE --month YYYY-MM --out FILE.pdf [...]
    gridhall report history [--month YYYY-MM] [--format text|json]

The figures come from the evaluation and the ledger (app/services/bulletin.py), never recomputed.
The whole audit chain is verified first: a broken chain refuses the bulletin (exit 1, nothing
written). The PDF is written through a temporary file renamed at the end and the build is recorded
(``bulletins``: month, when, by whom, the file's SHA-256, the chain head at the end of the month,
pages). ``--if-first-workday``: do nothing (exit 0) unless today is the first working day of the
month by the working calendar — for a daily systemd timer (docs/bulletin.md). Bad input (a month
in the future, an unknown department, an unwritable path): one line on stderr, exit 2; Ctrl+C:
exit 130 and no file left behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.domain.clock import Clock
from app.domain.messages import Msg

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _common(p: argparse.ArgumentParser, *, out: bool = True) -> None:
    if out:
        p.add_argument("--month", required=True, metavar="MONTH",
                       help="YYYY-MM, or last (the month before today)")
        p.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")
        p.add_argument("--no-map", action="store_true", help="leave out the map page (no QGIS)")
        p.add_argument("--no-record", action="store_true", help="do not record the build in the history")
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    p.add_argument("--as", dest="user", default=None, metavar="USER", help="read as this user")
    p.add_argument("--lang", choices=("zh_CN", "en"), default=None,
                   help="language of the bulletin and messages (default: $GRIDHALL_LANG, else zh_CN)")


def add_report_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``report`` to the top-level subparsers."""
    p = subparsers.add_parser("report", help="the monthly bulletin (数字城管简报) and department reports as PDF",
                              description="The monthly bulletin as a PDF: headline figures with month-on-month "
                                          "change, charts, rankings with grades, hotspots, a QGIS map page, the "
                                          "ledger's shares and the audit chain's head; a department's report; "
                                          "the build history.")
    sub = p.add_subparsers(dest="report_command", metavar="{monthly,department,history}", required=True)
    m = sub.add_parser("monthly", help="the district's monthly bulletin")
    _common(m)
    m.add_argument("--if-first-workday", action="store_true",
                   help="only build on the first working day of the current month (for a daily timer)")
    d = sub.add_parser("department", help="one department's monthly report")
    d.add_argument("code", metavar="CODE", help="the department's code")
    _common(d)
    h = sub.add_parser("history", help="the bulletins built, latest first")
    h.add_argument("--month", default=None, metavar="YYYY-MM", help="only this month")
    h.add_argument("--format", choices=("text", "json"), default="text")
    _common(h, out=False)
    return p


def run_report(args: argparse.Namespace, *, clock: Clock | None = None) -> int:
    """Run ``gridhall report``; returns the exit code."""
    from app.cli import ArgumentRefused
    from app.cli.ledger import _catalogue, _line, _open, _refuse_unwritable
    from app.cli.user import PasswordUnavailable
    from app.domain.clock import SystemClock
    from app.services.auth import AuthError
    from app.services.bulletin import build_history, first_workday, parse_month
    from app.services.errors import NotFound, ServiceError, ValidationError
    from app.services.ledger import LedgerWriteError
    from app.store.errors import StoreError

    cat = _catalogue(args)
    clock = clock or SystemClock()
    today = clock.now().date()
    month = None
    if args.report_command != "history":
        try:
            month = parse_month(args.month, today)
        except ValidationError as exc:
            raise ArgumentRefused(exc.msg) from None
        if not str(args.out).lower().endswith(".pdf"):
            raise ArgumentRefused(Msg("输出文件 {path} 应以 .pdf 结尾", path=str(args.out)[:200]))
        _refuse_unwritable(args.out)
    store = None
    try:
        store, actor = _open(args, clock)
        if args.report_command == "history":
            rows = build_history(store, args.month)
            if args.format == "json":
                print(json.dumps([r.record() for r in rows], ensure_ascii=False, indent=2))
            elif not rows:
                print(cat.tr(Msg("还没有生成过简报")))
            else:
                for r in rows:
                    print(f"{r.id}\t{r.kind}\t{r.month}\t{r.department or '-'}\t{r.built_at:%Y-%m-%d %H:%M:%S}\t"
                          f"{r.built_by}\t{r.pages}\t{r.sha256}\t{r.chain_no or '-'}\t{r.head_hash or '-'}\t{r.file_name}")
            return EXIT_OK
        assert month is not None
        if getattr(args, "if_first_workday", False):
            from app.services.bulletin import Month
            from app.services.calendar import load_calendar

            calendar = load_calendar(store)
            first = first_workday(Month(today.year, today.month), calendar.is_workday)
            if today != first:
                print(cat.tr(Msg("今天（{today}）不是本月第一个工作日（{first}）：不生成简报",
                                 today=today.isoformat(), first=first.isoformat())))
                return EXIT_OK
        from app.reports.build import build_bulletin

        department = args.code.strip() if args.report_command == "department" else None

        from app.jobs import Feedback

        shown: list[str] = []

        def progress(_fraction: float, message: str) -> None:
            if message and message not in shown and sys.stderr.isatty():
                shown.append(message)
                print(message, file=sys.stderr)

        try:
            built = build_bulletin(store, actor, month, args.out, clock, cat.tr, lang=args.lang or cat.language,
                                   department=department, with_map=not args.no_map,
                                   by=actor.username if actor else "gridhall", record=not args.no_record,
                                   feedback=Feedback(progress))
        except NotFound as exc:
            raise ArgumentRefused(exc.msg) from None
        b = built.bulletin
        chain = b.chain or (0, "-")
        print(cat.tr(Msg("简报已生成：{path}（{pages} 页，{cases} 件案卷；月末审计链第 {chain_no} 环 {head_hash}）",
                         path=str(built.path), pages=built.pages, cases=b.cases, chain_no=chain[0],
                         head_hash=chain[1])))
        if b.empty:
            print(cat.tr(Msg("注意：{month} 没有案卷，简报基本为空", month=str(month))))
        return EXIT_OK
    except (ServiceError, AuthError, StoreError, PasswordUnavailable, LedgerWriteError) as exc:
        print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()


__all__ = ["add_report_command", "run_report"]
