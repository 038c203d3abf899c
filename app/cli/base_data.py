"""`gridhall import grids|components|departments|roads|cases FILE` and `gridhall export … FILE` (issue 15).

Import reads the file through GDAL/OGR (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, CSV with X/Y or WKT
columns), maps its fields (GB/T 47678.5 abbreviations, legacy CJ/T 214 names, Chinese headers, or
``--map FIELD=COLUMN``), reprojects to EPSG:4549, prints the validation report and then, unless
``--dry-run``: with ``--on-error abort`` (default) writes nothing if anything is wrong; with ``skip`` writes
the good rows and a reject file (the source's format, a REASON column). The rows go in one transaction:
a failure, a kill or Ctrl+C leaves the store as before. ``--as USER`` writes as that user (the
administrator; on PostGIS through the user's own database login, which alone holds the grants).
Departments go in through the configuration service (its history names the ``--as`` administrator);
historical cases through the append-only case history (a report event and the events that reproduce their
recorded times; on PostGIS appended on the URL's own account, the schema's owner, naming the ``--as``
administrator). Exit 0 when written (or a clean dry run), 1 when refused or anything was wrong, 2 for bad
arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.domain.messages import Msg

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
KINDS = ("grids", "components", "departments", "roads", "cases")


def add_base_data_commands(subparsers: Any) -> None:
    """Add ``import`` and ``export`` to the top-level subparsers."""
    imp = subparsers.add_parser(
        "import", help="import grids, components, departments, roads or historical cases from a GIS file or "
                       "spreadsheet (validation report first)",
        description=__doc__.split("\n\n", 1)[1])
    imp.add_argument("kind", choices=KINDS)
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--layer", default=None, help="the layer to read (default: the first)")
    imp.add_argument("--map", dest="mapping", action="append", default=[], metavar="FIELD=COLUMN",
                     help="read FIELD (code, name, grid_code, status, initial_date …) from COLUMN (repeatable)")
    imp.add_argument("--source-crs", type=int, default=None, metavar="EPSG",
                     help="the source's coordinate system (overrides the file's; required when it has none)")
    imp.add_argument("--encoding", default=None, metavar="ENC",
                     help="text encoding of a Shapefile's .dbf (default: its .cpg, else UTF-8 then GBK)")
    imp.add_argument("--dry-run", action="store_true", help="validate and report only; write nothing")
    imp.add_argument("--on-error", choices=("abort", "skip"), default="abort",
                     help="abort (default): write nothing if anything is wrong; skip: write the good rows and "
                          "a reject file with each bad row's reason")
    imp.add_argument("--rejects", default=None, metavar="FILE",
                     help="the reject file (default: FILE_rejects beside the source)")
    imp.add_argument("--report", default=None, metavar="FILE.json", help="also write the report as JSON")
    imp.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    imp.add_argument("--as", dest="user", default=None, metavar="USER", help="write as this user (administrator)")
    imp.add_argument("--reason", default=None, help="departments: the reason recorded in the configuration history")
    imp.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="language of the report")

    exp = subparsers.add_parser("export", help="export grids, components, departments, roads or cases to a GIS "
                                               "file or spreadsheet",
                                description="Write the store's grids, components (GB/T 47678.5 field names), "
                                            "departments, roads or cases (every timing field; --query narrows "
                                            "them as the archive search does) to GeoPackage, Shapefile (UTF-8 "
                                            "with .cpg), GeoJSON, CSV or xlsx, through a temporary file renamed "
                                            "at the end.")
    exp.add_argument("kind", choices=KINDS)
    exp.add_argument("file", metavar="FILE")
    exp.add_argument("--format", choices=("gpkg", "shp", "geojson", "csv", "xlsx", "fgb"), default=None,
                     help="output format (default: from the extension)")
    exp.add_argument("--query", default=None, metavar="TEXT",
                     help='cases: the archive search\'s query (e.g. "状态:已结案 时间:2026-11 部门:环卫")')
    exp.add_argument("--state", dest="states", action="append", default=[], metavar="STATE",
                     help="cases: only these states (value or Chinese label; repeatable), as the queue's filter")
    exp.add_argument("--include-retired", action="store_true",
                     help="grids: also the retired ones (split or merged away), with a retired_on field "
                          "(default: the grids in use)")
    exp.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    exp.add_argument("--as", dest="user", default=None, metavar="USER", help="read as this user")
    exp.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="language of the messages")


def _catalogue(args: argparse.Namespace) -> Any:
    from app.i18n import Catalogue

    return Catalogue(args.lang) if args.lang else Catalogue.from_env()


def _open(args: argparse.Namespace, *, write: bool) -> tuple[Any, Any]:
    from app.cli.ledger import _open as open_as
    from app.domain.definitions import Role
    from app.services.errors import ServiceError

    store, actor = open_as(args, None)
    if write and actor is not None and actor.role != Role.ADMIN:
        store.dispose()
        raise ServiceError(Msg("只有管理员可以导入基础数据（{user} 是{role}）", user=actor.username, role=actor.role))
    return store, actor


def run_import(args: argparse.Namespace) -> int:
    from app.cli.ledger import _line
    from app.cli.user import PasswordUnavailable
    from app.domain.field_names import MappingError, parse_overrides
    from app.services import base_import as bi
    from app.services.auth import AuthError
    from app.services.errors import ServiceError
    from app.store.errors import StoreError, database_error

    cat = _catalogue(args)
    store = None
    report = None
    try:
        overrides = parse_overrides(args.mapping, args.kind)
        if args.report:  # checked before anything is read or written (it is written last)
            _check_report(args)
        store, actor = _open(args, write=not args.dry_run)
        if args.kind == "cases" and store.backend == "postgis" and actor is not None:
            # Historical cases enter the case history through the owner's import path (as the demo's
            # cases do): the administrator logged in above is the one the events name; the events are
            # appended on the URL's own account, which must own the schema (else one refusal line).
            from app.config import default_db_url
            from app.store.engine import open_store

            store.dispose()
            store = None
            store = open_store(args.db or default_db_url())
        try:
            report = bi.import_file(store, args.file, args.kind, on_error=args.on_error, dry_run=args.dry_run,
                                    rejects=args.rejects, actor=actor, reason=args.reason, layer=args.layer,
                                    overrides=overrides, source_crs=args.source_crs, encoding=args.encoding,
                                    tr=cat.tr)
        except (bi.ImportRefused, MappingError, ServiceError, AuthError, StoreError):
            raise
        except Exception as exc:  # a refusal of the database (privileges, constraints): one line
            err = database_error(exc)
            if err is None:
                raise
            raise err from None
        wrong = not report.ok
        print(_text(report, cat.tr))
        if args.dry_run:
            print(cat.tr(Msg("试运行：未写入任何数据")))
        elif wrong and args.on_error == "abort":
            print(cat.tr(Msg("发现问题，未写入任何数据（可用 --on-error skip 只写入合格的 {n} 条）", n=len(report.good))))
        else:
            print(cat.tr(Msg("已写入 {n} 条", n=report.written)))
            if report.rejects_path is not None:
                print(cat.tr(Msg("未写入的 {n} 条及原因见 {path}", n=len(report.bad), path=str(report.rejects_path))))
        if args.report:  # after the lines above: a report that cannot be written never hides what was written
            bi.report_json(report, args.report, cat.tr)
        return EXIT_FAIL if wrong and (args.on_error == "abort" or args.dry_run) else EXIT_OK
    except (bi.ImportRefused, MappingError, ServiceError, AuthError, StoreError, PasswordUnavailable) as exc:
        print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        if report is not None and report.written:  # Ctrl+C after the commit: the rows ARE in the store
            print(f"gridhall: {cat.tr(Msg('已中断：导入在中断前已完成，已写入 {n} 条', n=report.written))}",
                  file=sys.stderr)
        else:
            print(f"gridhall: {cat.tr(Msg('已取消：未写入任何数据'))}", file=sys.stderr)
        return 130
    finally:
        _dispose(store)


def _check_report(args: argparse.Namespace) -> None:
    """--report names a writable file that is neither the source, the store nor the reject file."""
    from pathlib import Path

    from app.config import default_db_url
    from app.services import base_import as bi
    from app.store.engine import parse_url

    url = args.db or default_db_url()
    db_path = parse_url(url)[1]
    bi.report_target(args.report, protect=[Path(args.file)] + ([db_path] if db_path is not None else [])
                     + ([Path(args.rejects)] if args.rejects else []))


def _dispose(store: Any) -> None:
    """Close the store's connections. The command's work is done (committed or rolled back) by now: a
    Ctrl+C landing here changes nothing, and must not turn a finished import into a claim that nothing
    was written."""
    import contextlib

    if store is not None:
        with contextlib.suppress(KeyboardInterrupt):
            store.dispose()


def _text(report: Any, tr: Any) -> str:
    from app.cli.ledger import _inert

    return _inert(report.text(tr))


def run_export(args: argparse.Namespace) -> int:
    from app.cli.ledger import _line
    from app.cli.user import PasswordUnavailable
    from app.services import base_import as bi
    from app.services.auth import AuthError
    from app.services.errors import ServiceError
    from app.store.errors import StoreError

    cat = _catalogue(args)
    store = None
    try:
        fmt = bi.format_of(args.file, args.format)
        if (args.query or args.states) and args.kind != "cases":
            raise bi.ImportRefused(Msg("--query 和 --state 只用于导出案卷"))
        if args.include_retired and args.kind != "grids":
            raise bi.ImportRefused(Msg("--include-retired 只用于导出网格"))
        store, actor = _open(args, write=False)
        filters = {"query": args.query, "states": args.states,
                   "department_id": actor.department_id if actor is not None and actor.role == "department"
                   else None}
        n = bi.export(store, args.kind, args.file, fmt, filters=filters, include_retired=args.include_retired)
        print(cat.tr(Msg("已导出 {n} 条到 {path}", n=n, path=args.file)))
        return EXIT_OK
    except (bi.ImportRefused, ServiceError, AuthError, StoreError, PasswordUnavailable, OSError,
            RuntimeError) as exc:
        print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        _dispose(store)


__all__ = ["add_base_data_commands", "run_export", "run_import"]
