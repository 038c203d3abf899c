"""`gridhall component set|move|status|add|retire|show|history` and `gridhall grid split|merge|show|history`.

Basic-data maintenance (issue 15 item 4; docs/base-maintenance.md). Every change needs ``--as USER``
(the administrator: on PostGIS through the user's own database login, which alone holds the grants)
and ``--reason``; it is written with its history row in one transaction, or not at all.
Exit 0 when done, 1 when refused (one line on stderr, in the user's language), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from app.domain.messages import Msg

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
STATUSES = ("intact", "damaged", "lost", "abandoned", "removed", "完好", "破损", "丢失", "废弃", "移除")


def _common(p: argparse.ArgumentParser, *, change: bool = True) -> argparse.ArgumentParser:
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    p.add_argument("--as", dest="user", default=None, metavar="USER",
                   help="act as this user (the administrator; required for a change)")
    p.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="language of the messages")
    if change:
        p.add_argument("--reason", required=True, help="why (kept in the history)")
    return p


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.replace(",", " ").split())
    except ValueError:
        raise argparse.ArgumentTypeError(f"a point is 'X Y' in EPSG:4549 metres, not '{text[:40]}'") from None
    if not (math.isfinite(x) and math.isfinite(y)):  # float() takes "nan" and "inf"
        raise argparse.ArgumentTypeError(f"a point is 'X Y' in EPSG:4549 metres, not '{text[:40]}'")
    return x, y


def _line(text: str) -> list[tuple[float, float]]:
    points = [_point(p) for p in text.split(";") if p.strip()]
    if len(points) < 2:
        raise argparse.ArgumentTypeError("a line is at least two points 'X Y;X Y[;…]' in EPSG:4549 metres")
    return points


def add_base_maint_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``component`` and ``grid`` (basic-data maintenance)."""
    comp = sub.add_parser("component", help="maintain management components (administrator): set, move, status, "
                                            "add, retire, show, history",
                          description=__doc__.split("\n\n", 1)[1])
    cs = comp.add_subparsers(dest="component_command", required=True,
                             metavar="{set,move,status,add,retire,show,history}")
    p = _common(cs.add_parser("set", help="edit a component's attributes"))
    p.add_argument("code")
    for name in ("name", "authority", "owner", "maintainer", "data-source", "note", "initial-date"):
        p.add_argument(f"--{name}", default=None)
    p = _common(cs.add_parser("move", help="move a component to X Y (EPSG:4549); its grid follows"))
    p.add_argument("code")
    p.add_argument("x", type=float)
    p.add_argument("y", type=float)
    p = _common(cs.add_parser("status", help="change the status (完好/破损/丢失/废弃/移除) with its date"))
    p.add_argument("code")
    p.add_argument("status", choices=STATUSES)
    p.add_argument("--on", default=None, metavar="YYYY-MM-DD", help="the change date (default: today)")
    p = _common(cs.add_parser("add", help="add a component (its code: district + category + next serial)"))
    p.add_argument("--category", required=True, help="5-digit GB/T 47678.5 component category")
    p.add_argument("--name", required=True)
    p.add_argument("--at", dest="point", type=_point, required=True, metavar="'X Y'", help="position in EPSG:4549")
    p.add_argument("--status", choices=STATUSES, default="intact")
    for name in ("authority", "owner", "maintainer", "data-source", "note", "initial-date"):
        p.add_argument(f"--{name}", default=None)
    p = _common(cs.add_parser("retire", help="retire a component (status 移除; the code is never reused)"))
    p.add_argument("code")
    p.add_argument("--on", default=None, metavar="YYYY-MM-DD")
    for verb, text in (("show", "a component's record"), ("history", "a component's change history")):
        p = _common(cs.add_parser(verb, help=text), change=False)
        p.add_argument("code")
        p.add_argument("--format", choices=("text", "json"), default="text")

    grid = sub.add_parser("grid", help="maintain unit grids (administrator): split, merge, show, history",
                          description=__doc__.split("\n\n", 1)[1])
    gs = grid.add_subparsers(dest="grid_command", required=True, metavar="{split,merge,show,history}")
    p = _common(gs.add_parser("split", help="split a grid along a line into new grids (the old one is retired)"))
    p.add_argument("code")
    p.add_argument("--line", type=_line, required=True, metavar="'X Y;X Y[;…]'",
                   help="the cut, from one side of the grid's outline to the other (EPSG:4549)")
    p.add_argument("--on", default=None, metavar="YYYY-MM-DD")
    p = _common(gs.add_parser("merge", help="merge neighbouring grids of one community into a new grid"))
    p.add_argument("codes", nargs="+", metavar="CODE")
    p.add_argument("--on", default=None, metavar="YYYY-MM-DD")
    for verb, text in (("show", "a grid's record"), ("history", "a grid's change history")):
        p = _common(gs.add_parser(verb, help=text), change=False)
        p.add_argument("code")
        p.add_argument("--format", choices=("text", "json"), default="text")


def _catalogue(args: argparse.Namespace) -> Any:
    from app.i18n import Catalogue

    return Catalogue(args.lang) if args.lang else Catalogue.from_env()


def _fields(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _history_text(rows: list[dict[str, Any]], cat: Any) -> str:
    from app.cli.ledger import _line
    from app.domain.base_history import Action

    if not rows:
        return cat.tr(Msg("没有变更记录"))
    lines = []
    for r in rows:
        what = cat.tr(Action(r["action"]).label)
        lines.append(_line(f"#{r['seq']} {r['at']:%Y-%m-%d %H:%M:%S} {r['actor']} {what}"
                           + (f" — {r['reason']}" if r["reason"] else "")))
        for key in r["fields"]:
            before = (r["before"] or {}).get(key)
            after = (r["after"] or {}).get(key)
            if key == "wkt":
                continue
            lines.append("    " + _line(f"{key}: {before if before is not None else '—'} → "
                                          f"{after if after is not None else '—'}"))
    return "\n".join(lines)


def _record_text(record: dict[str, Any]) -> str:
    from app.cli.ledger import _line

    return "\n".join(_line(f"{k}: {'' if v is None else v}") for k, v in record.items() if k != "wkt")


def run_base_maint(args: argparse.Namespace, *, clock: Any = None) -> int:
    from app.cli.ledger import _line
    from app.cli.ledger import _open as open_as
    from app.cli.user import PasswordUnavailable
    from app.services.auth import AuthError
    from app.services.base_maintenance import BaseMaintenance
    from app.services.errors import ServiceError
    from app.store.errors import StoreError, database_error

    cat = _catalogue(args)
    verb = args.component_command if args.command == "component" else args.grid_command
    entity = "component" if args.command == "component" else "grid"
    store = None
    try:
        if verb not in ("show", "history") and not args.user:
            raise ServiceError(Msg("基础数据的变更要用 --as 指明管理员"))
        store, actor = open_as(args, clock)
        bm = BaseMaintenance(store, clock)
        if verb in ("show", "history"):
            data: Any = (bm.component(args.code) if entity == "component" else bm.grid(args.code)) if verb == "show" \
                else bm.history(entity, args.code.strip())
            if args.format == "json":
                print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
            else:
                print(_record_text(data) if verb == "show" else _history_text(data, cat))
            return EXIT_OK
        try:
            change = _change(bm, actor, entity, verb, args)
        except Exception as exc:  # a refusal of the database (privileges, triggers): one line
            if isinstance(exc, (ServiceError, StoreError)):
                raise
            err = database_error(exc)
            if err is None:
                raise
            raise err from None
        print(_line(cat.text(change.message)))
        return EXIT_OK
    except (ServiceError, AuthError, StoreError, PasswordUnavailable) as exc:
        print(f"gridhall: {_line(cat.error(exc))}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()


def _change(bm: Any, actor: Any, entity: str, verb: str, args: argparse.Namespace) -> Any:
    attrs = ("name", "authority", "owner", "maintainer", "data_source", "note", "initial_date")
    if entity == "grid":
        if verb == "split":
            return bm.split_grid(actor, args.code, args.line, on=args.on, reason=args.reason)
        return bm.merge_grids(actor, args.codes, on=args.on, reason=args.reason)
    if verb == "set":
        return bm.set_component(actor, args.code, reason=args.reason, **_fields(args, attrs))
    if verb == "move":
        return bm.move_component(actor, args.code, args.x, args.y, reason=args.reason)
    if verb == "status":
        return bm.set_status(actor, args.code, args.status, on=args.on, reason=args.reason)
    if verb == "retire":
        return bm.retire_component(actor, args.code, on=args.on, reason=args.reason)
    x, y = args.point
    return bm.add_component(actor, category=args.category, name=args.name, x=x, y=y, reason=args.reason,
                            status=args.status, **_fields(args, attrs[1:]))
