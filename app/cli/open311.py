"""gridhall serve-open311 and open311 key add|list|revoke (issue 16, item 3; docs/open311.md)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.domain.messages import Msg

if TYPE_CHECKING:
    from app.i18n.catalogue import Catalogue


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a number 1–65535, not '{text[:20]}'") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number 1–65535, not {value}")
    return value


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size in bytes, not '{text[:20]}'") from None
    if not 1024 <= value <= 256 * 1024 * 1024:
        raise argparse.ArgumentTypeError(f"a size between 1024 and 268435456 bytes, not {value}")
    return value


def add_open311_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``serve-open311`` and ``open311 key add|list|revoke``."""
    from app.cli import _format_option

    p = sub.add_parser("serve-open311", help="serve the Open311 GeoReport v2 API (public reports over HTTP)",
                       description="Serve Open311 GeoReport v2 (services, requests, tokens; JSON and XML) over the "
                                   "store with uvicorn. POSTed requests become public reports (公众举报) that need "
                                   "verification before filing. On PostGIS run it as a login of gridhall_open311.")
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB or the demo)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8311, help="port (default 8311)")
    p.add_argument("--allow-media-host", action="append", default=[], metavar="HOST[:PORT]",
                   help="a host media_url may point at (repeatable; default: none, photos only as uploads)")
    p.add_argument("--max-body", type=_size, default=8 * 1024 * 1024, help="largest request body in bytes (8 MiB)")
    p.add_argument("--anonymous-rate", type=int, default=600, help="GETs per minute per client address without a key")
    p.add_argument("--jurisdiction", default="gridhall", help="the jurisdiction_id (default gridhall)")
    p.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="language of notes and errors")

    k = sub.add_parser("open311", help="Open311 API keys: key add|list|revoke",
                       description="Manage the API keys of the front ends allowed to POST requests. Only a hash of "
                                   "a key is stored; the key is printed once, when it is made.")
    ksub = k.add_subparsers(dest="open311_command", required=True, metavar="{key}")
    key = ksub.add_parser("key", help="add, list or revoke an API key")
    kk = key.add_subparsers(dest="key_command", required=True, metavar="{add,list,revoke}")
    add = kk.add_parser("add", help="make a key (printed once)")
    add.add_argument("name", help="a name for the front end (letters, digits, _.-)")
    add.add_argument("--rate", type=int, default=60, help="requests per minute allowed (default 60)")
    add.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL")
    _format_option(add, "JSON: {id, name, key, rate_per_minute}")
    lst = kk.add_parser("list", help="list the keys (never the keys themselves)")
    lst.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL")
    _format_option(lst, "JSON: a list of {id, name, prefix, rate_per_minute, created_at, revoked_at}")
    rev = kk.add_parser("revoke", help="revoke a key by its name")
    rev.add_argument("name", help="the key's name")
    rev.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL")


def run_open311(args: argparse.Namespace) -> int:
    """Run ``serve-open311`` or ``open311 key …``; one line on stderr for any refusal."""
    from app.config import default_db_url
    from app.i18n import Catalogue
    from app.store.errors import StoreError

    cat = Catalogue(args.lang) if getattr(args, "lang", None) else Catalogue.from_env()
    url = args.db or default_db_url()
    try:
        if args.command == "serve-open311":
            return _serve(args, url, cat)
        return _keys(args, url, cat)
    except StoreError as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1


def _serve(args: argparse.Namespace, url: str, cat: Catalogue) -> int:
    import socket

    from app.open311.server import make_app
    from app.open311.testing import serve

    if not 1 <= args.anonymous_rate <= 1_000_000:
        print("gridhall: --anonymous-rate must be 1–1000000", file=sys.stderr)
        return 2
    try:
        sock = socket.create_server((args.host, args.port))
    except OSError as exc:
        print(f"gridhall: {cat.text(Msg('无法监听 {host}:{port}：{error}', host=args.host, port=args.port, error=exc.strerror or str(exc)))}",
              file=sys.stderr)
        return 1
    app = make_app(url, allowed_media_hosts=tuple(args.allow_media_host), max_body_bytes=args.max_body,
                   anonymous_rate_per_minute=args.anonymous_rate, jurisdiction_id=args.jurisdiction,
                   lang=args.lang or cat.language)
    host, port = sock.getsockname()[:2]
    print(cat.text(Msg("Open311 服务已启动：http://{host}:{port}/services.json（Ctrl+C 停止）", host=host, port=port)),
          file=sys.stderr, flush=True)
    import logging

    served = logging.getLogger("app.open311")  # its warnings (the store unreachable, a token not written) are
    if served.getEffectiveLevel() > logging.WARNING:  # the operator's business even without -v: one line each
        served.setLevel(logging.WARNING)
    server = serve(app, sock, log_level="info")
    server.run(sockets=[sock])
    return 0


def _keys(args: argparse.Namespace, url: str, cat: Catalogue) -> int:
    from app.cli import _print_json
    from app.domain.clock import SystemClock
    from app.services import open311 as o3
    from app.store.engine import open_store

    store = open_store(url)
    try:
        now = SystemClock().now()
        if args.key_command == "add":
            made = o3.add_key(store, args.name, rate_per_minute=args.rate, now=now)
            if args.format == "json":
                _print_json({"id": made.id, "name": made.name, "key": made.key, "rate_per_minute": made.rate_per_minute})
            else:
                print(made.key)
                print(cat.text(Msg("密钥「{name}」已建立（每分钟 {rate} 次）；它只显示这一次，请妥善保存",
                                      name=made.name, rate=made.rate_per_minute)), file=sys.stderr)
            return 0
        if args.key_command == "list":
            rows = o3.list_keys(store)
            if args.format == "json":
                _print_json([{"id": r.id, "name": r.name, "prefix": r.prefix, "rate_per_minute": r.rate_per_minute,
                              "created_at": r.created_at.isoformat(timespec="seconds"),
                              "revoked_at": r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else None}
                             for r in rows])
            else:
                for r in rows:
                    state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
                    print(f"{r.id}\t{r.name}\t{r.prefix}…\t{r.rate_per_minute}/min\t{r.created_at:%Y-%m-%d %H:%M}\t{state}")
            return 0
        o3.revoke_key(store, args.name, now=now)
        print(cat.text(Msg("密钥「{name}」已吊销", name=args.name)), file=sys.stderr)
        return 0
    except o3.Open311Error as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
