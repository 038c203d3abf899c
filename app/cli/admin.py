"""`gridhall admin …`: the administrator's configuration verbs (issue 12).

    gridhall admin export FILE | import FILE [--dry-run] | check            (docs/config.md)
    gridhall admin department list | set CODE … | retire CODE
    gridhall admin category list | set KIND:CODE …
    gridhall admin route list | set --scope S --department D … | retire KEY | explain KIND:CODE --x X --y Y
    gridhall admin limit list | set --level L --stage S --minutes N --basis B … | retire …
    (every change: --reason required, --dry-run shows the diff; app/services/config.py)

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
from typing import Any

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
    admin = subparsers.add_parser("admin", help="administrator's configuration (calendar, departments, categories, "
                                                "routes, limits, export/import)")
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
    add_config_commands(groups)
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
        out = (_calendar if args.admin_group == "calendar" else _config)(store, actor, args, clock, cat)
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


# ----------------------------------------------------------------------------- configuration verbs
# (issue 12: departments, categories, routing rules, time limits, export/import of the whole
# configuration; app/services/config.py does the work, docs/config.md describes the file)


def _yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value in ("yes", "true", "1", "on", "是"):
        return True
    if value in ("no", "false", "0", "off", "否"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, not {text[:20]!r}")


def add_config_commands(groups: Any) -> None:
    """The configuration groups under ``gridhall admin`` (next to ``calendar``)."""

    def common(parser: argparse.ArgumentParser, *, change: bool = False) -> argparse.ArgumentParser:
        parser.add_argument("--db", required=True, help="SpatiaLite file or postgresql:// URL")
        parser.add_argument("--as", dest="user", required=True, metavar="USER",
                            help="username to act as (an administrator to change anything)")
        if change:
            parser.add_argument("--reason", metavar="TEXT", help="why (required; recorded in the configuration history)")
            parser.add_argument("--dry-run", action="store_true", help="show what would change, save nothing")
        return parser

    exp = common(groups.add_parser("export", help="write the whole configuration as one TOML file (docs/config.md)"))
    exp.add_argument("file", metavar="FILE", help="the TOML file to write ('-': standard output)")
    imp = common(groups.add_parser("import", help="make the configuration what a TOML file says (one transaction)"),
                 change=True)
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--effective-at", metavar="TIME", help="changed time limits apply from TIME (default: now)")
    common(groups.add_parser("check", help="list the stored configuration's problems (overlapping routes, "
                                           "categories without any route)"))
    hist = common(groups.add_parser("history", help="the configuration history: who changed what, when and why"))
    hist.add_argument("--entity", help="department, category, route, time_limit, setting or calendar_year")
    hist.add_argument("--key", help="one record's key (as the history names it)")
    hist.add_argument("--format", choices=("text", "json"), default="text",
                      help='json: [{"seq", "entity", "key", "actor", "at", "reason", "before", "after"}]')

    dept = groups.add_parser("department", help="departments: list, add or change, retire (never delete)")
    sub = dept.add_subparsers(dest="config_command", required=True)
    common(sub.add_parser("list", help="every department"))
    put = common(sub.add_parser("set", help="add a department or change the fields given"), change=True)
    put.add_argument("code", metavar="CODE")
    put.add_argument("--name")
    put.add_argument("--kind", help="bureau, street_office, utility, company or centre")
    put.add_argument("--credit-code", help="unified social credit code (18 characters)")
    put.add_argument("--parent", metavar="CODE", help="the parent department's code")
    put.add_argument("--area", metavar="CODE", help="the jurisdiction's administrative area code")
    put.add_argument("--phone")
    put.add_argument("--active", type=_yes_no, metavar="yes|no")
    ret = common(sub.add_parser("retire", help="retire a department (its cases stay)"), change=True)
    ret.add_argument("code", metavar="CODE")
    jur = common(sub.add_parser("jurisdiction", help="set or clear a department's jurisdiction polygon"), change=True)
    jur.add_argument("code", metavar="CODE")
    how = jur.add_mutually_exclusive_group(required=True)
    how.add_argument("--file", metavar="FILE", help="any OGR vector file (Shapefile, GeoPackage, GeoJSON, KML, …)")
    how.add_argument("--wkt", metavar="WKT", help="a polygon in the store's CRS (EPSG:4549)")
    how.add_argument("--clear", action="store_true", help="remove the jurisdiction")
    jur.add_argument("--layer", help="the file's layer (default: the first)")
    jur.add_argument("--where", metavar="SQL", help="an OGR attribute filter, e.g. \"name = '平江街道'\"")

    cat = groups.add_parser("category", help="categories in use: list, change")
    sub = cat.add_subparsers(dest="config_command", required=True)
    lst = common(sub.add_parser("list", help="categories (all, or --enabled only)"))
    lst.add_argument("--enabled", action="store_true", help="only the categories the city uses")
    put = common(sub.add_parser("set", help="change a category (KIND:CODE, e.g. event:06010)"), change=True)
    put.add_argument("category", metavar="KIND:CODE")
    put.add_argument("--name")
    put.add_argument("--enabled", type=_yes_no, metavar="yes|no")
    put.add_argument("--filing-standard", metavar="TEXT", help="立案标准")
    put.add_argument("--closing-standard", metavar="TEXT", help="结案标准")
    put.add_argument("--close-evidence", choices=("refuse", "override", "none"),
                     help="before/after photos required to close: refuse, override (shift leader) or none")
    put.add_argument("--default-department", metavar="CODE")

    route = groups.add_parser("route", help="routing rules: list, add, retire, explain")
    sub = route.add_subparsers(dest="config_command", required=True)
    common(sub.add_parser("list", help="every routing rule (KEY scope@area>department)"))
    put = common(sub.add_parser("set", help="add a rule (or change its priority)"), change=True)
    put.add_argument("--scope", required=True,
                     help="all, kind:KIND, major:KIND:NN or category:KIND:CODE")
    put.add_argument("--department", required=True, metavar="CODE")
    put.add_argument("--area", metavar="AREA", help="street/community/district code, grids:NAME, polygon:NAME or "
                                                    "jurisdiction (the department's own; default: everywhere)")
    put.add_argument("--grids", metavar="CODES", help="grid codes, comma separated (with --area grids:NAME)")
    put.add_argument("--polygon", metavar="WKT", help="the area in the store's CRS (with --area polygon:NAME)")
    put.add_argument("--polygon-file", metavar="FILE", help="the area from an OGR file (with --area polygon:NAME)")
    put.add_argument("--priority", type=int, default=100, help="0-1000, lower wins (default 100)")
    ret = common(sub.add_parser("retire", help="retire a rule by its KEY (see list)"), change=True)
    ret.add_argument("key", metavar="KEY")
    exp = common(sub.add_parser("explain", help="where a category at a point goes, and why"))
    exp.add_argument("category", metavar="KIND:CODE")
    exp.add_argument("--x", type=float)
    exp.add_argument("--y", type=float)
    exp.add_argument("--lon", type=float)
    exp.add_argument("--lat", type=float)
    exp.add_argument("--component", metavar="CODE", help="the case names this component (its rule applies)")
    own = common(sub.add_parser("component", help="which of a named component's departments decides the route"),
                 change=True)
    own.add_argument("--scope", help="as a rule's scope (default: every component)")
    own.add_argument("--by", required=True, choices=("maintainer", "owner", "authority", "none"),
                     help="maintainer (养护), owner (权属), authority (主管) or none (the area rules decide)")

    limit = groups.add_parser("limit", help="time limits per category/major/kind, level and stage")
    sub = limit.add_subparsers(dest="config_command", required=True)
    lst = common(sub.add_parser("list", help="the limits in force (now, or --at TIME)"))
    lst.add_argument("--at", metavar="TIME")

    def scope(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--kind", help="component or event (none: every kind)")
        parser.add_argument("--code", help="5-digit category or 2-digit major code (none: the kind's default)")
        parser.add_argument("--level", required=True, help="general, urgent or engineering")
        parser.add_argument("--stage", required=True, help="accept, verify, dispatch, handle, check or close")
        parser.add_argument("--effective-at", metavar="TIME", help="from when (default: now; timers started "
                                                                    "earlier keep their limit)")

    put = common(sub.add_parser("set", help="set a limit (a new version from --effective-at)"), change=True)
    scope(put)
    put.add_argument("--minutes", type=int, required=True, help="basis minutes (1 working day = 480)")
    put.add_argument("--basis", required=True, help="working or natural")
    put.add_argument("--condition", metavar="TEXT")
    end = common(sub.add_parser("retire", help="end a limit (the broader rule applies after)"), change=True)
    scope(end)


def _result_text(cat: Any, result: Any) -> str:
    lines = [cat.text(m) for m in result.lines()]
    if not result.changes:
        lines.append(cat.tr("配置与已存的相同，未做修改"))
    elif not result.applied:
        lines.append(cat.text(Msg("预览：以上 {n} 项变更未保存（去掉 --dry-run 即保存）", n=len(result.changes))))
    else:
        lines.append(cat.text(Msg("已保存 {n} 项变更（配置变更第 {first}–{last} 条）", n=len(result.changes),
                                  first=min(result.seqs), last=max(result.seqs))))
    lines.extend(cat.text(Msg("注意：{warning}", warning=w)) for w in result.warnings)
    return "\n".join(lines)


def _history(rows: list[dict[str, Any]], fmt: str, cat: Any) -> str:
    from app.services.config import ConfigChange

    def record(text: str | None) -> Any:
        return json.loads(text) if text else None

    if fmt == "json":
        return json.dumps([{"seq": r["seq"], "entity": r["entity"], "key": r["key"], "actor": r["actor"],
                            "at": r["at"].isoformat(sep=" "), "reason": r["reason"], "before": record(r["before"]),
                            "after": record(r["after"])} for r in rows], ensure_ascii=False, indent=2)
    colon = ": " if cat.language == "en" else "："
    lines = []
    for r in rows:
        lines.append(f"#{r['seq']} {r['at']:%Y-%m-%d %H:%M:%S} {r['actor']}" + (f"{colon}{r['reason']}" if r["reason"] else ""))
        change = ConfigChange(r["entity"], r["key"], record(r["before"]), record(r["after"]))
        lines.append("  " + cat.text(change.describe()))
    return "\n".join(lines) if lines else cat.tr("没有配置变更记录")


def _row(record: dict, fields: tuple[str, ...]) -> str:
    return "  ".join("—" if record.get(f) is None else str(record.get(f)) for f in fields)


def _config(store: Any, actor: Any, args: argparse.Namespace, clock: Any, cat: Any) -> str:
    from app.services.config import ConfigService, dumps_toml, parse_time, route_key

    config = ConfigService(store, clock)
    group = args.admin_group
    cmd = getattr(args, "config_command", None)
    if group == "export":
        doc = config.export_document()
        text = (f"# GridHall configuration (docs/config.md), exported {doc['exported_at']} "
                f"at configuration version {doc['config_version']}\n" + dumps_toml(doc))
        if args.file == "-":
            return text.rstrip("\n")
        from pathlib import Path

        try:
            Path(args.file).write_text(text, encoding="utf-8")
        except OSError as exc:
            from app.services.errors import ValidationError

            raise ValidationError("file", Msg("无法写入 {name}：{detail}", name=args.file[-80:],
                                              detail=exc.strerror or type(exc).__name__)) from None
        return cat.text(Msg("已导出配置到 {path}（部门 {d} 个，类别 {c} 个，派遣规则 {r} 条，时限 {l} 条，日历 {y} 年）",
                            path=args.file, d=len(doc["departments"]), c=len(doc["categories"]),
                            r=len(doc["routes"]), l=len(doc["limits"]), y=len(doc["calendar"])))
    if group == "import":
        return _result_text(cat, config.import_config(actor, args.file, reason=args.reason, dry_run=args.dry_run,
                                                      effective_at=args.effective_at))
    if group == "history":
        return _history(config.history(args.entity, args.key), args.format, cat)
    if group == "check":
        problems = config.problems()
        return "\n".join(cat.text(p) for p in problems) if problems else cat.tr("配置检查：没有发现问题")
    if group == "department":
        if cmd == "list":
            return "\n".join(_row(d, ("code", "name", "kind", "parent", "area", "phone", "active"))
                             for d in config.departments())
        if cmd == "retire":
            return _result_text(cat, config.retire_department(actor, args.code, reason=args.reason,
                                                              dry_run=args.dry_run))
        if cmd == "jurisdiction":
            if args.file:
                return _result_text(cat, config.import_jurisdiction(actor, args.code, args.file, layer=args.layer,
                                                                    where=args.where, reason=args.reason,
                                                                    dry_run=args.dry_run))
            return _result_text(cat, config.set_jurisdiction(actor, args.code, None if args.clear else args.wkt,
                                                             reason=args.reason, dry_run=args.dry_run))
        return _result_text(cat, config.set_department(
            actor, args.code, reason=args.reason, dry_run=args.dry_run, name=args.name, kind=args.kind,
            credit_code=args.credit_code, parent=args.parent, area=args.area, phone=args.phone, active=args.active))
    if group == "category":
        if cmd == "list":
            return "\n".join(f"{c['kind']}:{c['code']}  {c['name']}  "
                             f"{'enabled' if c['enabled'] else 'disabled'}  {c['close_evidence']}  "
                             f"{c['default_department'] or '—'}" for c in config.categories(enabled_only=args.enabled))
        kind, _, code = args.category.partition(":")
        return _result_text(cat, config.set_category(
            actor, kind, code, reason=args.reason, dry_run=args.dry_run, name=args.name, enabled=args.enabled,
            filing_standard=args.filing_standard, closing_standard=args.closing_standard,
            close_evidence=args.close_evidence, default_department=args.default_department))
    if group == "route":
        if cmd == "list":
            return "\n".join(f"{route_key(r)}  priority={r['priority']}  {'active' if r['active'] else 'retired'}"
                             for r in config.routes())
        if cmd == "retire":
            return _result_text(cat, config.retire_route(actor, args.key, reason=args.reason, dry_run=args.dry_run))
        if cmd == "explain":
            return cat.text(config.explain_route(args.category, x=args.x, y=args.y, lon=args.lon, lat=args.lat,
                                                 component=args.component))
        if cmd == "component":
            return _result_text(cat, config.set_component_rule(actor, scope=args.scope, by=args.by, reason=args.reason,
                                                               dry_run=args.dry_run))
        polygon = args.polygon
        if args.polygon_file:
            from app.services.config_areas import read_polygons

            polygon = read_polygons(args.polygon_file)
        return _result_text(cat, config.set_route(actor, scope=args.scope, department=args.department, area=args.area,
                                                  priority=args.priority, grids=args.grids, polygon=polygon,
                                                  reason=args.reason, dry_run=args.dry_run))
    if group == "limit":
        if cmd == "list":
            rows = config.limits(parse_time(args.at, "--at"))
            return "\n".join(f"{r['kind'] or '*'}:{r['code'] or '*'}  {r['level']}  {r['stage']}  {r['minutes']} "
                             f"{r['basis']}  from {r['valid_from'] or '—'}" for r in rows)
        if cmd == "retire":
            return _result_text(cat, config.end_limit(actor, kind=args.kind, code=args.code, level=args.level,
                                                      stage=args.stage, effective_at=args.effective_at,
                                                      reason=args.reason, dry_run=args.dry_run))
        return _result_text(cat, config.set_limit(
            actor, kind=args.kind, code=args.code, level=args.level, stage=args.stage, minutes=args.minutes,
            basis=args.basis, condition=args.condition, effective_at=args.effective_at, reason=args.reason,
            dry_run=args.dry_run))
    raise AssertionError(group)

__all__ = ["add_admin_commands", "run_admin"]
