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
    logins = p.add_mutually_exclusive_group()
    logins.add_argument("--add-login", metavar="NAME",
                        help="PostGIS: create the wall's read-only login gh_NAME in gridhall_wall (password from "
                             "$GRIDHALL_PASSWORD or a prompt; run with an administrator's login or a superuser in "
                             "--db) and exit")
    logins.add_argument("--disable-login", metavar="NAME", help="PostGIS: stop the wall login gh_NAME and exit")
    logins.add_argument("--enable-login", metavar="NAME", help="PostGIS: let the wall login gh_NAME in again and exit")


def run_wall(args: argparse.Namespace) -> int:
    from app.config import default_db_url
    from app.domain.clock import FixedClock, SystemClock
    from app.i18n import Catalogue
    from app.store.errors import StoreError
    from app.views.wall.layout import load_layout

    cat = Catalogue(args.lang) if args.lang else Catalogue.from_env()  # --lang en: its messages in English too
    if args.add_login or args.disable_login or args.enable_login:
        return _manage_login(args, cat)
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
    indexes = list(args.screens or range(len(wall.screens)))
    missing = missing_screens(indexes, len(screens))
    if missing is not None:  # else a wall whose every screen is missing runs with no window and no word
        print(f"gridhall: {cat.text(missing)}", file=sys.stderr)
    _keep_screen_awake()
    wall.show(app, indexes)
    wall.resync()
    wall.start()
    try:
        return app.exec_()
    finally:
        wall.close()
        store.dispose()


def run_wall_from_run(args: argparse.Namespace) -> int:
    """``gridhall run --mode wall``: the real wall (``gridhall wall``) over ``--db``, in ``--lang``,
    or its ``--screenshot`` at ``--size``. A desk layout file (``--layout``, docs/layouts.md) is not
    a wall layout: it is reported and the wall's default layout is used (``gridhall wall --layout``)."""
    from app.domain.messages import Msg
    from app.i18n import Catalogue

    if args.layout:
        print("gridhall: " + Catalogue.from_env().text(Msg(
            "run --mode wall 打开视频大屏；工作台布局文件 {path} 不适用于大屏，已使用大屏默认布局"
            "（大屏布局用 gridhall wall --layout，见 docs/wall.md）", path=args.layout)), file=sys.stderr)
    wall_args = argparse.Namespace(db=args.db, screens=None, layout=None, screenshot=args.screenshot,
                                   size=args.size, watchdog=False, max_rss_mb=2000.0, hang_s=30.0,
                                   lang=args.lang, at=None, add_login=None, disable_login=None,
                                   enable_login=None)
    return run_wall(wall_args)


def _manage_login(args: argparse.Namespace, cat) -> int:
    """``--add-login`` / ``--disable-login`` / ``--enable-login``: the wall's PostgreSQL logins
    (group ``gridhall_wall``, app/store/wall_role.py) through the account functions."""
    from app.cli.user import PasswordUnavailable, read_password
    from app.config import default_db_url
    from app.domain.messages import Msg
    from app.services.users import UserError, check_username
    from app.store import security
    from app.store.engine import open_store
    from app.store.errors import StoreError

    name = args.add_login or args.disable_login or args.enable_login
    try:
        name = check_username(name)
        store = open_store(args.db or default_db_url())
    except (UserError, StoreError) as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1
    try:
        if store.backend != "postgis":
            print("gridhall: " + cat.text(Msg("SpatiaLite 库没有数据库登录：大屏以只读方式打开文件（mode=ro），"
                                               "无需账户；未做任何修改")), file=sys.stderr)
            return 1
        if args.add_login:
            password = read_password(confirm=True, prompt=cat.text(Msg("大屏登录 {name} 的新密码：", name=name)))
            security.create_login(store, name, "wall", password)
            said = Msg("已建立大屏只读登录 {login}（组 gridhall_wall）", login=security.login_name(name))
        elif args.disable_login:
            security.disable_login(store, name)
            said = Msg("已停用大屏登录 {login}", login=security.login_name(name))
        else:
            security.enable_login(store, name)
            said = Msg("已启用大屏登录 {login}", login=security.login_name(name))
    except (PasswordUnavailable, StoreError) as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    print(cat.text(said))
    return 0


def missing_screens(indexes: list[int], count: int):
    """The line saying which of the wall's screens ``indexes`` are not plugged in (of ``count``), or None.
    Their windows appear when they are (``Wall.place`` on Qt's screenAdded)."""
    from app.domain.messages import Msg

    missing = [i for i in indexes if i >= count]
    if not missing:
        return None
    return Msg("大屏屏幕 {missing} 未接入（当前有 {count} 块屏幕，编号从 0 起）：接入后其窗口自动出现",
               missing=",".join(str(i) for i in missing), count=count)


def _keep_screen_awake() -> None:
    """Screen blanking off while the wall runs (X11: xset; best effort, silent when absent)."""
    import shutil
    import subprocess

    xset = shutil.which("xset")
    if xset and os.environ.get("DISPLAY"):
        for args in (["s", "off"], ["-dpms"], ["s", "noblank"]):
            subprocess.run([xset, *args], check=False, capture_output=True, timeout=5)
