"""`gridhall evaluate`: the indicators of standards.md §5 for a period — regions (grid, community,
street, district), departments or positions (监督员, 受理员, 值班长, 派遣员) — ranked, graded A–E, with
every count behind every rate, computed from the case events only (app/services/evaluation.py).

Read-only. ``--as USER`` reads as that user exactly as ``gridhall ledger`` does (a department sees its
own cases and its own row). ``--out FILE`` is written through a temporary file and renamed at the
end. Bad input (an unknown subject or level, bad dates, a start after the end, a period in the
future, an unwritable path): one line on stderr, exit 2. A period without cases gives a valid,
empty result that says so.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.domain.clock import Clock
from app.domain.messages import Msg

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_evaluate_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``evaluate`` to the top-level subparsers."""
    p = subparsers.add_parser(
        "evaluate", help="evaluation (考核评价): indicators, scores and grades of regions, departments, positions",
        description="The indicators of CJ/T 292 / GB/T 30428.4 (standards.md §5) for a period, computed from the "
                    "case events: rates with their numerators and denominators, composite scores (weights in "
                    "resources/evaluation.toml), grades A-E, rankings (subjects with too few cases are not "
                    "ranked) and data-quality flags.")
    p.add_argument("--subject", required=True, metavar="SUBJECT", help="region, department or position")
    p.add_argument("--level", default=None, metavar="LEVEL",
                   help="region: grid, community, street (default) or district; position: supervisor, acceptor, "
                        "shift_leader or dispatcher (default: all four)")
    p.add_argument("--department", metavar="CODE", default=None, help="department subject: only this department")
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help="last day (included), YYYY-MM-DD")
    p.add_argument("--format", choices=("json", "csv", "text", "xlsx"), default="text",
                   help='output format (default text); json: {"subject", "level", "from", "to", "partial", '
                        '"empty", "note", "cases_in_period", "rules": {"version", "sha256"}, "count", "results": '
                        '[{"rank", "code", "name", "score", "grade", "colour", "insufficient", "base", "counts", '
                        '"rates": {KEY: {"numerator", "denominator", "value"}}, "averages", "components", '
                        '"weight_sum", "flags": {KEY: {"count", "cases"}}}]}; xlsx (needs --out): the CSV\'s table, '
                        'with --cases a second sheet of the cases behind each rate')
    p.add_argument("--cases", action="store_true",
                   help='json: each rate also lists the case numbers behind it ("cases": {"numerator", "denominator"})')
    p.add_argument("--out", metavar="FILE", default=None, help="write to FILE instead of standard output")
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    p.add_argument("--as", dest="user", default=None, metavar="USER", help="read as this user")
    p.add_argument("--lang", choices=("zh_CN", "en"), default=None,
                   help="language of the labels and messages (default: $GRIDHALL_LANG, else zh_CN)")
    return p


def run_evaluate(args: argparse.Namespace, *, clock: Clock | None = None) -> int:
    """Run ``gridhall evaluate``; returns the exit code (one line on stderr for every refusal)."""
    from app.cli import ArgumentRefused
    from app.cli.ledger import _catalogue, _date, _inert, _line, _open, _refuse_unwritable
    from app.cli.user import PasswordUnavailable
    from app.domain.clock import SystemClock
    from app.domain.indicators import SUBJECTS
    from app.services.auth import AuthError
    from app.services.errors import ServiceError, ValidationError
    from app.services.evaluation import EvaluationService, parse_period, render, write
    from app.services.ledger import LedgerWriteError
    from app.store.errors import StoreError

    cat = _catalogue(args)
    if args.subject not in SUBJECTS:
        raise ArgumentRefused(Msg("考核对象「{subject}」无效：应为 region、department 或 position",
                                  subject=str(args.subject)[:40]))
    start, end = _date(args.start), _date(args.end)
    clock = clock or SystemClock()
    today = clock.now().date()
    try:
        parse_period(start, end, today)
    except ValidationError as exc:
        raise ArgumentRefused(exc.msg) from None
    if args.format == "xlsx" and args.out is None:
        raise ArgumentRefused(Msg("xlsx 格式需要 --out 文件"))
    if args.out is not None:
        _refuse_unwritable(args.out)
    store = None
    try:
        store, actor = _open(args, clock)
        try:
            ev = EvaluationService(store, today=lambda: today).evaluate(
                actor, args.subject, start, end, level=args.level, department=args.department)
        except ValidationError as exc:
            raise ArgumentRefused(exc.msg) from None
        if args.out is not None:
            if args.format == "xlsx":
                from app.services.bulletin import export_evaluation

                path = export_evaluation(ev, args.out, "xlsx", cases=args.cases)
            else:
                path = write(ev, args.out, args.format, cat.tr, cases=args.cases)
            print(cat.tr(Msg("考核结果已导出到 {path}（{count} 个对象）", path=str(path), count=len(ev.results))))
            return EXIT_OK
    except (ServiceError, AuthError, StoreError, PasswordUnavailable, LedgerWriteError) as exc:
        print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()
    data = render(ev, args.format, cat.tr, cases=args.cases)
    if args.format == "csv":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(_inert(data.decode("utf-8")))
    return EXIT_OK


__all__ = ["add_evaluate_command", "run_evaluate"]
