"""``gridhall geocode TEXT`` / ``gridhall geocode --reverse X,Y``: the gazetteer from the terminal."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services.geocode import Candidate


def _xy(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a point must look like 557150,3464450 (store CRS), not '{text}'") from None
    return x, y


def add_geocode_command(sub: argparse._SubParsersAction) -> None:
    from app.cli import _format_option

    p = sub.add_parser("geocode", help="address text → point, grid, community and street (or --reverse X,Y)",
                       description="Forward geocoding of a (colloquial, partial, misspelt) address against the "
                                   "gazetteer, or reverse geocoding of a point in the store CRS (EPSG:4549).")
    p.add_argument("text", nargs="?", default=None, help="the address, e.g. 人民路友谊桥往南200米")
    p.add_argument("--reverse", type=_xy, default=None, metavar="X,Y", help="the nearest address to this point")
    p.add_argument("--limit", type=int, default=5, help="candidates to print (default 5)")
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB or the demo)")
    _format_option(p, "JSON: a list of {label, x, y, score, kind, road, number, landmark, grid, community, street}")


def _row(c: Candidate) -> dict[str, object]:
    return {"label": c.label, "x": round(c.x, 2), "y": round(c.y, 2), "score": c.score, "kind": c.kind,
            "road": c.road, "number": c.number, "landmark": c.landmark, "grid": c.grid,
            "community": c.community, "street": c.street}


def run_geocode(args: argparse.Namespace) -> int:
    from app.cli import _print_json
    from app.config import default_db_url
    from app.domain.messages import Msg
    from app.i18n import Catalogue
    from app.services.geocode import GeocodeIndex
    from app.store.engine import open_store
    from app.store.errors import StoreError

    cat = Catalogue.from_env()
    if (args.text is None or not args.text.strip()) == (args.reverse is None):
        print("gridhall: give either an address text or --reverse X,Y", file=sys.stderr)
        return 2
    if not 1 <= args.limit <= 100:
        print(f"gridhall: --limit must be 1–100, not {args.limit}", file=sys.stderr)
        return 2
    try:
        store = open_store(args.db or default_db_url())
    except StoreError as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1
    try:
        index = GeocodeIndex.for_store(store)
        found = [index.reverse(*args.reverse)] if args.reverse else index.geocode(args.text, args.limit)
        found = [c for c in found if c is not None]
    finally:
        store.dispose()
    if args.format == "json":
        _print_json([_row(c) for c in found])
        return 0 if found else 1
    if not found:
        problem = Msg("没有找到「{text}」对应的地址", text=args.text) if args.text else Msg("本库没有门牌")
        print(f"gridhall: {cat.text(problem)}", file=sys.stderr)
        return 1
    for c in found:
        print(f"{c.score:5.1f}  {c.label}  ({c.x:.1f}, {c.y:.1f})  网格 {c.grid or '—'}  "
              f"{c.community or '—'}  {c.street or '—'}")
    return 0


def add_gazetteer_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gazetteer", help="fill the gazetteer: generate (demo) or import FILE --kind roads|addresses|landmarks",
                       description="The gazetteer (road segments, house numbers, landmarks and aliases): generate it "
                                   "from the store's roads (deterministic), or import features from a file OGR reads.")
    p.add_argument("action", choices=("generate", "import"))
    p.add_argument("file", nargs="?", default=None, help="import: GeoJSON, GeoPackage, Shapefile, …")
    p.add_argument("--kind", choices=("roads", "addresses", "landmarks"), default=None)
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL of an administrator's login")


def run_gazetteer(args: argparse.Namespace) -> int:
    from app.config import default_db_url
    from app.domain.messages import Msg
    from app.i18n import Catalogue
    from app.services.geocode import GeocodeIndex
    from app.store.engine import open_store
    from app.store.errors import StoreError
    from app.store.gazetteer import import_file, write_gazetteer

    cat = Catalogue.from_env()
    if args.action == "import" and (not args.file or not args.kind):
        print("gridhall: gazetteer import needs FILE and --kind roads|addresses|landmarks", file=sys.stderr)
        return 2
    try:
        store = open_store(args.db or default_db_url())
    except StoreError as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1
    try:
        if args.action == "generate":
            GeocodeIndex._cache.clear()
            counts = write_gazetteer(store, GeocodeIndex.from_store(store).to_stored())
            print(cat.text(Msg("地名地址库：路段 {segments} 条，门牌 {houses} 个，地标 {landmarks} 个",
                               segments=counts[0], houses=counts[1], landmarks=counts[2])))
        else:
            count = import_file(store, args.file, args.kind)
            print(cat.text(Msg("已导入 {count} 条{kind}", count=count, kind=args.kind)))
    except StoreError as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    return 0
