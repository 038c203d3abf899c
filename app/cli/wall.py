"""``gridhall wall``: the video wall (docs/wall.md), full screen, read-only, live."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime


def _screens(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"screens must look like 0,1 not '{text}'") from None
    if not values or any(v < 0 or v > 15 for v in values) or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"screens must be distinct numbers 0-15, not '{text}'")
    return values


def _at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"time must look like 2026-11-20T10:30, not '{text}'") from None


def add_wall_command(sub) -> None:
    from app.cli import _size

    p = sub.add_parser("wall", help="open the video wall (read-only, full screen, live)",
                       description="The video wall: headline figures, the live map, rotating panels and alerts, "
                                   "full screen on each screen of the layout, read-only (docs/wall.md).")
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL of a read-only login "
                                             "(default: $GRIDHALL_DB or the demo district)")
    p.add_argument("--screens", type=_screens, default=None, metavar="0,1",
                   help="which screens get a wall window, in the layout's order (default: one per layout screen)")
    p.add_argument("--layout", default=None, metavar="FILE",
                   help="wall layout (TOML, docs/wall.md); a malformed file is reported and the default used")
    p.add_argument("--screenshot", metavar="PNG", help="render the wall offscreen, save it as PNG and exit")
    p.add_argument("--size", type=_size, default=(3840, 2160), help="screen size for --screenshot (3840x2160)")
    p.add_argument("--watchdog", action="store_true",
                   help="run the wall under a supervisor that restarts it when it exits, hangs or grows too big")
    p.add_argument("--max-rss-mb", type=float, default=2000.0, help="watchdog: memory limit of the wall (MB)")
    p.add_argument("--hang-s", type=float, default=30.0,
                   help="watchdog: restart when the wall's event loop has not answered for this long (s)")
    p.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="wall language (default zh_CN)")
    p.add_argument("--at", type=_at, default=None, metavar="TIME",
                   help="freeze the clock at TIME (demos and screenshots of the demo district's day)")


def run_wall(args: argparse.Namespace) -> int:
    from app.config import default_db_url
    from app.domain.clock import FixedClock, SystemClock
    from app.i18n import Catalogue
    from app.store.errors import StoreError
    from app.views.wall.layout import load_layout

    cat = Catalogue.from_env()
    if args.watchdog and not args.screenshot:
        from app.wall.watchdog import supervise

        wall_args = [f"--{k}={v}" for k, v in (("db", args.db), ("layout", args.layout), ("lang", args.lang))
                     if v is not None]
        if args.screens:
            wall_args.append("--screens=" + ",".join(str(i) for i in args.screens))
        if args.at:
            wall_args.append(f"--at={args.at.isoformat()}")
        return supervise(wall_args, max_rss_mb=args.max_rss_mb, hang_s=args.hang_s)
    layout, problem = load_layout(args.layout)
    if problem is not None:
        print(f"gridhall: {cat.text(problem)}", file=sys.stderr)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.gis.qgis_app import start_qgis
    from app.store.wall import open_wall_store

    try:
        store = open_wall_store(args.db or default_db_url())
    except StoreError as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1
    app = start_qgis()
    from app.ui.wall.widgets import set_language
    from app.wall import Wall

    set_language(args.lang or "zh_CN")

    clock = FixedClock(args.at) if args.at else SystemClock()
    if args.screenshot:
        width, height = args.size
        wall = Wall(store, clock, layout, height=height, screens=args.screens)
        try:
            wall.load_now()
            image = wall.grab(width, height)
            if not image.save(args.screenshot, "PNG"):
                print(f"gridhall: cannot write {args.screenshot}", file=sys.stderr)
                return 1
        finally:
            wall.close()
            store.dispose()
        return 0
    screens = app.screens()
    height = screens[0].geometry().height() if screens else 1080
    wall = Wall(store, clock, layout, height=height, screens=args.screens)
    _keep_screen_awake()
    wall.show(app, args.screens or range(len(wall.screens)))
    wall.resync()
    wall.start()
    try:
        return app.exec_()
    finally:
        wall.close()
        store.dispose()


def _keep_screen_awake() -> None:
    """Screen blanking off while the wall runs (X11: xset; best effort, silent when absent)."""
    import shutil
    import subprocess

    xset = shutil.which("xset")
    if xset and os.environ.get("DISPLAY"):
        for args in (["s", "off"], ["-dpms"], ["s", "noblank"]):
            subprocess.run([xset, *args], check=False, capture_output=True, timeout=5)
