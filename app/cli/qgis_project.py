"""gridhall qgis-project (issue 15 item 5; docs/qgis-project.md).

Write a QGIS Desktop project (.qgz) with the client's layers, styles and labels, connected to the
live store. On PostGIS the project never holds a password: ``--service NAME`` names a libpq
service (pg_service.conf); otherwise the connection is host/port/database/user and libpq finds
the password in ~/.pgpass (or QGIS asks). Exit 0 when written, 1 when refused, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys


def add_qgis_project_command(sub: argparse._SubParsersAction) -> None:
    """Register ``qgis-project``."""
    p = sub.add_parser("qgis-project", help="write a QGIS Desktop project (.qgz) over the live store",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    p.add_argument("--out", required=True, metavar="FILE.qgz", help="the project file (.qgz or .qgs)")
    p.add_argument("--service", default=None, metavar="NAME",
                   help="PostGIS: connect through this libpq service (pg_service.conf) instead of host/port/db/user")
    p.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="language of layer names and messages")


def run_qgis_project(args: argparse.Namespace) -> int:
    from app.cli.ledger import _line, _refuse_unwritable
    from app.config import default_db_url
    from app.domain.messages import Msg
    from app.i18n import Catalogue
    from app.store.engine import open_store
    from app.store.errors import StoreError

    cat = Catalogue(args.lang) if args.lang else Catalogue.from_env()
    if not args.out.lower().endswith((".qgz", ".qgs")):
        print(f"gridhall: {cat.tr(Msg('项目文件应以 .qgz 或 .qgs 结尾：{path}', path=args.out))}", file=sys.stderr)
        return 2
    _refuse_unwritable(args.out)
    store = None
    try:
        store = open_store(args.db or default_db_url())
        _headless()
        from app.gis.qgis_app import start_qgis
        from app.gis.qgis_project import ProjectError, build_project

        start_qgis(gui=False)
        try:
            counts = build_project(store, args.out, tr=cat.tr, service=args.service)
        except ProjectError as exc:
            print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
            return 1
        print(cat.tr(Msg("已写入 QGIS 项目 {path}", path=args.out)))
        for name, n in counts.items():
            print(f"  {name}: {n}")
        return 0
    except StoreError as exc:
        print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.dispose()


def _headless() -> None:
    """No display: Qt's offscreen platform, as the bulletin's map does (app.gis.qgis_app)."""
    from app.gis.qgis_app import headless_display

    headless_display()
