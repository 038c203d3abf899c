"""``gridhall exchange pull|push|replies|log`` (issue 16, items 4–5): an upper platform over Open311.

- ``pull``: the platform's new requests (GET requests.json, by date window from the cursor) become
  public reports (上报) of the hall, made by the ``--as`` acceptor's account as any intake;
- ``push``: hall cases sent up (``--send-new SOURCE``; POST requests.json) and the status changes
  and due replies of every linked case (POST servicerequestupdates.json, FixMyStreet's extension);
- ``replies``: the replies owed to reporters (两次回复), ``--mark-done EVENT`` records one delivered;
- ``log``: what the runs did.

Both runs are idempotent and resume after a failure (docs/exchange.md). The API key comes from
``--api-key`` or ``$GRIDHALL_EXCHANGE_KEY`` (which keeps it out of the process list).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from typing import Any

KEY_ENV = "GRIDHALL_EXCHANGE_KEY"


def _when(text: str) -> datetime:
    """A time of the command line as naive China Standard Time (the store's), in 2000–2099."""
    from datetime import timedelta, timezone

    try:
        value = datetime.fromisoformat(text.strip())
        if value.tzinfo is not None:
            value = value.astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"a date or time must look like 2026-03-02 or 2026-03-02T09:00, "
                                         f"not '{text}'") from None
    if not datetime(2000, 1, 1) <= value < datetime(2100, 1, 1):
        raise argparse.ArgumentTypeError(f"{text} is out of range (2000–2099)")
    return value


def _pair(text: str) -> tuple[str, str]:
    code, sep, category = text.partition("=")
    if not sep or not code.strip() or not category.strip():
        raise argparse.ArgumentTypeError(f"a service mapping must look like CODE=CATEGORY (e.g. 12=event:06010), "
                                         f"not '{text}'")
    return code.strip(), category.strip()


def _event_id(text: str) -> int:
    """A case event's id (the store's integer key: a year of a city has millions)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not '{text}'") from None
    if not 1 <= value <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range (1–{2**31 - 1})")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not '{text}'") from None
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{value} is out of range (1–100000)")
    return value


def add_exchange_command(sub: argparse._SubParsersAction) -> None:
    """Register ``gridhall exchange``."""
    from app.cli import _format_option

    p = sub.add_parser("exchange", help="exchange cases with an upper platform over Open311 (pull, push, replies, log)",
                       description="Cases in and out of an upper-level platform that speaks Open311 GeoReport v2, "
                                   "and the replies owed to public reporters (docs/exchange.md).")
    verbs = p.add_subparsers(dest="exchange_command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
        _format_option(q, "JSON: {direction, run_id, counts, cursor, error}")

    def remote(q: argparse.ArgumentParser) -> None:
        q.add_argument("--endpoint", required=True, help="the platform's Open311 base URL (…/requests.json below it)")
        q.add_argument("--api-key", default=None, help=f"the platform's API key (default: ${KEY_ENV})")
        q.add_argument("--jurisdiction-id", default=None, help="jurisdiction_id sent with every call")
        q.add_argument("--platform", default=None,
                       help="name of the platform in links and cursors (default: the endpoint; keep it when "
                            "the platform moves)")
        q.add_argument("--as", dest="user", required=True, metavar="USER",
                       help="the acceptor account the exchange acts as (password: $GRIDHALL_PASSWORD or a prompt)")
        q.add_argument("--map", dest="service_map", action="append", type=_pair, default=[], metavar="CODE=CATEGORY",
                       help="a platform service code and the hall's category (repeatable; default: the code itself)")
        q.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the platform (default 15)")

    pull = verbs.add_parser("pull", help="take the platform's new requests in as public reports")
    remote(pull)
    pull.add_argument("--since", type=_when, default=None,
                      help="look from this time (default: the cursor, else 90 days back); nothing is taken twice")
    pull.add_argument("--until", type=_when, default=None, help="look up to this time (default: now)")
    pull.add_argument("--allow-media-host", action="append", default=[], metavar="HOST[:PORT]",
                      help="fetch requests' media_url photos from this host (repeatable; default: none)")
    pull.add_argument("--max-per-call", type=_positive, default=1000,
                      help="a GET answer this long may be cut: its window is halved (default 1000)")
    common(pull)
    push = verbs.add_parser("push", help="send status changes and replies out (and new hall cases with --send-new)")
    remote(push)
    push.add_argument("--send-new", action="append", default=[], metavar="SOURCE",
                      help="also send the hall's own cases of this source up (repeatable: hotline, supervisor, …)")
    push.add_argument("--since", type=_when, default=None, help="with --send-new: cases reported since (default 90 days)")
    common(push)
    rep = verbs.add_parser("replies", help="replies owed to reporters (两次回复); --mark-done records one")
    rep.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    rep.add_argument("--channel", choices=("hotline", "public", "platform"), default=None, help="only this channel")
    rep.add_argument("--done", action="store_true", help="list the delivered replies instead of the owed ones")
    rep.add_argument("--mark-done", type=_event_id, default=None, metavar="EVENT",
                     help="record the reply to this event (the number in the list) as delivered")
    rep.add_argument("--as", dest="user", default=None, metavar="USER", help="with --mark-done: who delivered it")
    rep.add_argument("--note", default=None, help="with --mark-done: how (e.g. 已电话告知)")
    rep.add_argument("--limit", type=_positive, default=200, help="at most this many rows (default 200)")
    _format_option(rep, "JSON: a list of {case_id, number, event_id, after, at, due_at, overdue, channel, text, …}")
    lg = verbs.add_parser("log", help="what the exchange runs did, newest first")
    lg.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    lg.add_argument("--platform", default=None, help="only this platform (name or endpoint)")
    lg.add_argument("--limit", type=_positive, default=50, help="rows (default 50)")
    _format_option(lg, "JSON: a list of {id, run_id, at, endpoint, direction, remote_id, case_id, outcome, detail}")


def run_exchange(args: argparse.Namespace, *, clock: Any = None) -> int:
    """Run one ``gridhall exchange`` verb; the exit code (1 with one line on stderr when refused or failed)."""
    from app.cli import EXIT_FAIL
    from app.cli.user import PasswordUnavailable
    from app.i18n import Catalogue
    from app.services.auth import AuthError
    from app.services.errors import ServiceError
    from app.store.errors import StoreError, database_error

    cat = Catalogue.from_env()
    try:
        if args.exchange_command in ("pull", "push"):
            return _run(args, cat, clock)
        if args.exchange_command == "replies":
            return _replies(args, cat, clock)
        return _log(args, cat)
    except (ServiceError, AuthError, StoreError, PasswordUnavailable) as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:  # a driver's refusal (locked file, lost server): one line, not a traceback
        refused = database_error(exc)
        if refused is None:
            raise
        print(f"gridhall: {cat.error(refused)}", file=sys.stderr)
        return EXIT_FAIL


def _open_as(db: str | None, user: str, clock: Any) -> tuple[Any, Any]:
    """(store, actor) logged in as ``user`` (PostGIS: the user's own login)."""
    from app.cli.case import _login_as, _password
    from app.config import default_db_url
    from app.services.auth import login
    from app.store.engine import open_store, parse_url

    url = db or default_db_url()
    if parse_url(url)[1] is None:
        return _login_as(url, user, clock)
    store = open_store(url)
    try:
        return store, login(store, user, _password(user), clock=clock)
    except BaseException:
        store.dispose()
        raise


def _run(args: argparse.Namespace, cat: Any, clock: Any) -> int:
    from app.cli import EXIT_FAIL, EXIT_OK, _print_json
    from app.core import build_core
    from app.domain.clock import SystemClock
    from app.domain.messages import Msg
    from app.open311.client import Exchange, Open311Client
    from app.services.errors import ValidationError

    clock = clock or SystemClock()
    key = args.api_key or os.environ.get(KEY_ENV) or ""
    if not key.strip():
        raise ValidationError("api_key", Msg("缺少上级平台的 API 密钥：用 --api-key 或环境变量 {env} 给出", env=KEY_ENV))
    if not 0.5 <= args.timeout <= 600:
        raise ValidationError("timeout", Msg("--timeout 应在 0.5 到 600 秒之间"))
    if getattr(args, "until", None) is not None and args.since is not None and args.until < args.since:
        raise ValidationError("until", Msg("--until 早于 --since"))
    client = Open311Client(args.endpoint, key, jurisdiction_id=args.jurisdiction_id, timeout=args.timeout)
    store = None
    try:
        store, actor = _open_as(args.db, args.user, clock)
        core = build_core(store, clock, actor=actor)
        run = Exchange(core, actor, client, platform=args.platform, service_map=dict(args.service_map),
                       max_per_call=getattr(args, "max_per_call", 1000),
                       media_hosts=getattr(args, "allow_media_host", ()))
        try:
            if args.exchange_command == "pull":
                summary = run.pull(since=args.since, until=args.until)
            else:
                summary = run.push(send_new=_sources(args.send_new), since=args.since)
        except KeyboardInterrupt:  # each item commits on its own: say so, not "nothing was written"
            from app.cli import EXIT_CANCELLED

            print(f"gridhall: {cat.text(Msg('已中断：中断前完成的条目已保存；再次运行会从中断处继续，不会重复'))}",
                  file=sys.stderr)
            return EXIT_CANCELLED
        rows = run.book.log_rows(this_run=True, limit=10_000)
    finally:
        client.close()
        if store is not None:
            store.dispose()
    error = cat.error(summary.error) if summary.error is not None else None
    if args.format == "json":
        _print_json({"direction": summary.direction, "run_id": summary.run_id, "counts": summary.counts,
                     "cursor": summary.cursor, "error": error})
    else:
        for row in reversed(rows):
            print(_log_line(row, cat))
        counts = "，".join(f"{cat.text(Msg(OUTCOMES.get(k, k)))} {n}" for k, n in sorted(summary.counts.items()))
        print(cat.text(Msg("运行 {run_id}：{counts}；游标 {cursor}", run_id=summary.run_id,
                           counts=counts or cat.text(Msg("没有要交换的内容")), cursor=summary.cursor or "—")))
    if error is not None:
        print(f"gridhall: {error}", file=sys.stderr)
        print(f"gridhall: {cat.text(Msg('已完成的部分已保存；再次运行会从中断处继续'))}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def _sources(values: list[str]) -> list[str]:
    from app.domain.definitions import Source
    from app.domain.messages import Msg
    from app.services.errors import ValidationError

    out = []
    for value in values:
        try:
            out.append(Source.parse(value.strip()).value)
        except ValueError:
            raise ValidationError("source", Msg("来源「{value}」无效：应为 {choices}", value=value[:40],
                                                choices=", ".join(s.value for s in Source))) from None
    return out


#: What the outcomes of the log are called.
OUTCOMES = {"created": "新建案卷", "known": "已有", "refused": "拒收", "recovered": "补链", "sent": "已送上级",
            "updated": "已推送", "uncertain": "待确认", "failed": "失败"}


def _log_line(row: dict[str, Any], cat: Any) -> str:
    from app.domain.messages import Msg

    at = row["at"].isoformat(sep=" ", timespec="seconds") if row.get("at") else "—"
    outcome = cat.text(Msg(OUTCOMES.get(row["outcome"], row["outcome"])))
    return (f"{at}  {row['direction']:<4}  {outcome:<6}  {row.get('remote_id') or '—'}  "
            f"#{row.get('case_id') or '—'}  {row.get('detail') or ''}").rstrip()


def _replies(args: argparse.Namespace, cat: Any, clock: Any) -> int:
    from app.cli import EXIT_OK, _print_json
    from app.config import default_db_url
    from app.domain.clock import SystemClock
    from app.domain.definitions import Action
    from app.domain.messages import Msg
    from app.services import replies
    from app.services.errors import ValidationError
    from app.store.engine import open_store

    clock = clock or SystemClock()
    if args.mark_done is not None:
        if not args.user:
            raise ValidationError("user", Msg("登记回复需要 --as 用户名（受理员或值班长）"))
        store, actor = _open_as(args.db, args.user, clock)
        try:
            record = replies.mark_done(store, actor, args.mark_done, clock.now(), note=args.note)
        finally:
            store.dispose()
        print(cat.text(Msg("已登记：事件 {event_id} 的回复由 {user} 送达（记录 {id}）", event_id=args.mark_done,
                           user=args.user, id=record)))
        return EXIT_OK
    store = open_store(args.db or default_db_url())
    try:
        if args.done:
            rows: list[dict[str, Any]] = replies.delivered(store, limit=args.limit)
        else:
            now = clock.now()
            rows = [{**r.record(now), "shown": _reply_text(r, cat)}
                    for r in replies.due_replies(store, channel=args.channel)][:args.limit]
    finally:
        store.dispose()
    if args.format == "json":
        _print_json([{k: v for k, v in r.items() if k != "shown"} for r in rows])
        return EXIT_OK
    if not rows:
        print(cat.text(Msg("没有待回复的事项") if not args.done else Msg("还没有登记过回复")))
        return EXIT_OK
    for r in rows:
        if args.done:
            print(f"{r['done_at']:%Y-%m-%d %H:%M}  {r['number']}  {r['after']:<5}  {r['channel']:<8}  "
                  f"{r['done_by']}  {r.get('note') or ''}".rstrip())
        else:
            late = cat.text(Msg("已超时")) if r["overdue"] else ""
            who = " ".join(x for x in (r.get("reporter_name"), r.get("reporter_phone")) if x)
            print(f"[{r['event_id']}] {r['number']}  {cat.label_of(Action, r['after'])}  "
                  f"{cat.text(Msg('应于 {due} 前回复', due=r['due_at'][:16]))} {late}  {r['channel']}  {who}".rstrip())
            print(f"    {r.pop('shown')}")
    return EXIT_OK


def _reply_text(reply: Any, cat: Any) -> str:
    """The reply as stored (Chinese), or its template in the catalogue's language when that is not Chinese."""
    from app.domain.definitions import Action
    from app.services.replies import TEMPLATES

    template = TEMPLATES.get(Action(reply.after))
    english = cat.tr(template) if template is not None else None
    if english is None or english == template:
        return str(reply.text)
    values = reply.template_values()
    if reply.reported_at is not None:
        values["when"] = f" on {reply.reported_at:%Y-%m-%d}"
    return str(cat.tr(template, **values))


def _log(args: argparse.Namespace, cat: Any) -> int:
    from app.cli import EXIT_OK, _print_json
    from app.config import default_db_url
    from app.services.exchange import platform_key
    from app.store.engine import open_store
    from app.store.exchange import log_rows

    store = open_store(args.db or default_db_url())
    try:
        with store.session() as s:
            rows = log_rows(s, endpoint=platform_key(args.platform) if args.platform else None, limit=args.limit)
    finally:
        store.dispose()
    if args.format == "json":
        _print_json([{**r, "at": r["at"].isoformat(sep=" ", timespec="seconds")} for r in rows])
        return EXIT_OK
    for r in rows:
        print(_log_line(r, cat))
    return EXIT_OK


__all__ = ["KEY_ENV", "add_exchange_command", "run_exchange"]
