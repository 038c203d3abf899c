"""`gridhall admin …`: the administrator's configuration verbs (issue 12); today the working calendar.

    gridhall admin calendar show YEAR --db URL --as USER [--format json]
    gridhall admin calendar set YEAR --db URL --as ADMIN [--holiday DATE[..DATE][=NAME] …]
                                [--workday DATE[..DATE] …] [--official] [--source TEXT] [--reason TEXT]
    gridhall admin calendar import FILE --db URL --as ADMIN [--official] [--source TEXT] [--reason TEXT]
    gridhall admin calendar estimate YEAR --db URL --as ADMIN [--reason TEXT]

``set`` enters a year from the State Council's notice: the holidays and 调休 workdays given
replace the stored ones (what is not given is kept), ``--official`` marks the year official,
``--source`` names the notice. ``import`` reads one year from a TOML or CSV file (format:
app/domain/calendar_file.py and docs/calendar.md). ``estimate`` stores the libraries' arrangement
(chinesecalendar's, else the ``holidays`` estimate); it never replaces an official year.
Every change is checked as a whole first (nothing written on any problem) and recorded in the
configuration history with who, when, before, after and why. Only administrators change the
calendar; on PostGIS ``--as`` connects as the user's own login (as ``gridhall case`` does), so
the database refuses anyone else too. The password: ``GRIDHALL_PASSWORD``, ~/.pgpass or a prompt.
"""

from __future__ import annotations

import argparse
import json
import sys

from app.domain.messages import Msg

EXIT_OK, EXIT_FAIL = 0, 1


def _year(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid year: {text[:20]!r} (e.g. 2027)") from None
    if not 1 <= value <= 9999:
        raise argparse.ArgumentTypeError(f"year {value} is outside 1–9999")
    return value


def add_admin_commands(subparsers) -> argparse.ArgumentParser:
    """Add ``admin`` and its groups to ``subparsers``; returns the ``admin`` parser."""
    admin = subparsers.add_parser("admin", help="administrator's configuration (working calendar)")
    groups = admin.add_subparsers(dest="admin_group", required=True)
    calendar = groups.add_parser("calendar", help="statutory holidays and 调休 workdays per year")
    sub = calendar.add_subparsers(dest="calendar_command", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=text)
        c.add_argument("--db", required=True, help="SpatiaLite file or postgresql:// URL")
        c.add_argument("--as", dest="user", required=True, metavar="USER",
                       help="username to act as (an administrator to change anything)")
        return c

    show = command("show", "show a year's holidays, 调休 workdays, status and change history")
    show.add_argument("year", type=_year, metavar="YEAR")
    show.add_argument("--format", choices=("text", "json"), default="text",
                      help='json: {"year", "status" (official|estimated|null), "source", "updated_at", "updated_by", '
                           '"holidays": {date: name}, "workdays": [date], "workday_count", "history": '
                           '[{"seq", "actor", "at", "reason", "before_status", "after_status"}]}')
    put = command("set", "enter a year's arrangement (the State Council's notice)")
    put.add_argument("year", type=_year, metavar="YEAR")
    put.add_argument("--holiday", nargs="+", action="extend", metavar="DATE[..DATE][=NAME]",
                     help="statutory days off (replace the stored list), e.g. 2027-02-05..2027-02-11=春节")
    put.add_argument("--workday", nargs="+", action="extend", metavar="DATE[..DATE]",
                     help="调休 working weekend days (replace the stored list), e.g. 2027-02-20")
    put.add_argument("--official", action="store_true", help="mark the year official (from the notice)")
    put.add_argument("--source", metavar="TEXT", help="the notice's title and number")
    put.add_argument("--reason", metavar="TEXT", help="why (recorded in the configuration history)")
    imp = command("import", "store one year from a TOML or CSV file (see docs/calendar.md)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--official", action="store_true", help="mark the year official (a CSV has no status)")
    imp.add_argument("--source", metavar="TEXT", help="the notice's title and number (overrides the file's)")
    imp.add_argument("--reason", metavar="TEXT", help="why (recorded in the configuration history)")
    est = command("estimate", "store the holiday libraries' arrangement of a year (marked estimated)")
    est.add_argument("year", type=_year, metavar="YEAR")
    est.add_argument("--reason", metavar="TEXT", help="why (recorded in the configuration history)")
    return admin


def run_admin(args: argparse.Namespace, *, clock=None) -> int:
    """Run one ``gridhall admin`` subcommand; 1 with one clear line on stderr when refused."""
    from app.cli.case import _login_as, _password
    from app.cli.user import PasswordUnavailable
    from app.domain.clock import SystemClock
    from app.i18n import Catalogue
    from app.services.auth import AuthError, login
    from app.services.errors import ServiceError
    from app.store.engine import open_store, parse_url
    from app.store.errors import StoreError, database_error

    clock = clock or SystemClock()
    store = None
    cat = Catalogue.from_env()
    try:
        if parse_url(args.db)[1] is None:  # PostGIS: as the user's own login
            store, actor = _login_as(args.db, args.user, clock)
        else:
            store = open_store(args.db)
            actor = login(store, args.user, _password(args.user), clock=clock)
        out = _calendar(store, actor, args, clock, cat)
    except (ServiceError, AuthError, StoreError, PasswordUnavailable) as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:  # a driver's refusal (privileges, locked file): one line
        refused = database_error(exc)
        if refused is None:
            raise
        print(f"gridhall: {cat.error(refused)}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()
    print(out)
    return EXIT_OK


def _changed(cat, year: int, change: int | None) -> str:
    if change is None:
        return cat.text(Msg("{year} 年的日历与已存的相同，未做修改", year=year))
    return cat.text(Msg("已保存 {year} 年的日历（配置变更第 {change} 条）", year=year, change=change))


def _calendar(store, actor, args, clock, cat) -> str:
    from app.services import calendar as service

    cmd = args.calendar_command
    if cmd == "show":
        view = service.show_year(store, args.year)
        if args.format == "json":
            return json.dumps(view.to_dict(), ensure_ascii=False, indent=2)
        return _show_text(view, cat)
    if cmd == "set":
        change = service.set_year(store, actor, args.year, holidays=args.holiday, workdays=args.workday,
                                  official=args.official, source=args.source, reason=args.reason, clock=clock)
        return _changed(cat, args.year, change)
    if cmd == "import":
        year, change = service.import_year(store, actor, args.file, official=args.official, source=args.source,
                                           reason=args.reason, clock=clock)
        return _changed(cat, year, change)
    if cmd == "estimate":
        seeded, change = service.estimate_year(store, actor, args.year, reason=args.reason, clock=clock)
        return _changed(cat, args.year, change)
    raise AssertionError(cmd)  # argparse's required subcommand


def _show_text(view, cat) -> str:
    from app.domain.statutory import STATUS_LABELS

    status = cat.tr(STATUS_LABELS[view.status]) if view.status else cat.tr("无数据（按周一至周五计算）")
    lines = [cat.text(Msg("{year} 年：{status}", year=view.year, status=status))]
    if view.source:
        lines.append(cat.text(Msg("来源：{source}", source=view.source)))
    if view.updated_by:
        lines.append(cat.text(Msg("最后修改：{who}，{at}", who=view.updated_by, at=view.updated_at)))
    lines.append(cat.text(Msg("工作日 {n} 天", n=view.workday_count)))
    if view.holidays:
        lines.append(cat.tr("节假日："))
        for d, name in sorted(view.holidays.items()):
            lines.append(f"  {d.isoformat()} {cat.tr(name) if name else ''}".rstrip())
    if view.workdays:
        lines.append(cat.tr("调休工作日："))
        lines.extend(f"  {d.isoformat()}" for d in view.workdays)
    if view.history:
        lines.append(cat.tr("变更记录："))
        for h in view.history:
            colon = ": " if cat.language == "en" else "："
            lines.append(f"  #{h['seq']} {h['at']:%Y-%m-%d %H:%M:%S} {h['actor']}"
                         + (f"{colon}{h['reason']}" if h["reason"] else ""))
    return "\n".join(lines)


__all__ = ["add_admin_commands", "run_admin"]
