"""The `gridhall` command line: run the client, manage the database, build the demo city.

Every failure prints one clear line to stderr and exits non-zero; nothing is half-written.
Heavy imports (QGIS, SQLAlchemy) happen inside the subcommands so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import typing
from collections.abc import Sequence

from app.config import default_db_url, redact

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
#: A job cancelled with Ctrl+C (the shell's convention for SIGINT); nothing was written.
EXIT_CANCELLED = 130


def _format_option(parser: argparse.ArgumentParser, json_doc: str) -> None:
    """``--format text|json`` of a read verb; ``json_doc`` documents the JSON's stable keys."""
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help=f"output format (default text); {json_doc}")


def _print_json(data: object) -> None:
    import json

    print(json.dumps(data, ensure_ascii=False, indent=2))


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1920x1080, not '{text}'") from None
    if not (200 <= w <= 10000 and 200 <= h <= 10000):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is out of range (200–10000 pixels per side)")
    return w, h


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, not '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must not be negative ({value})")
    return value


def _ui_scale(text: str) -> float | None:
    """--ui-scale / $GRIDHALL_UI_SCALE: "auto" (None: from the screen) or a factor 0.5–4."""
    if text.strip().lower() in ("", "auto"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"UI scale must be auto or a number such as 1.5, not '{text}'") from None
    if not 0.5 <= value <= 4.0:
        raise argparse.ArgumentTypeError(f"UI scale {value:g} is out of range (0.5–4)")
    return value


def _layout_file(text: str) -> str:
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"layout file '{text}' does not exist")
    return text


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand (``argv``: for ``gridhall case``, the plugins'
    command hooks are loaded first unless ``--no-plugins``; see ``app.cli.case``)."""
    p = _Parser(prog="gridhall", description="GridHall 数字城管指挥大厅客户端")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also print the log (login failures, reconnects, plugin problems) to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="open the desktop client")
    run.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL "
                                                "(default: $GRIDHALL_DB or the demo district)")
    run.add_argument("--lang", choices=("zh_CN", "en"), default=None,
                     help="user interface language (default zh_CN; a refusal before the window opens "
                          "follows $GRIDHALL_LANG)")
    run.add_argument("--screenshot", metavar="PNG", help="render the window, save it as PNG and exit")
    run.add_argument("--size", type=_size, default=(1920, 1080), help="window size, e.g. 1920x1080")
    run.add_argument("--ui-scale", type=lambda text: _ui_scale(text) or "auto", default=None, metavar="FACTOR",
                     help="UI scale: auto (default: from the screen, 2 at 3840x2160) or a factor 0.5-4 "
                          "(also $GRIDHALL_UI_SCALE)")
    run.add_argument("--no-plugins", action="store_true", help="start without extension plugins")
    run.add_argument("--user", help="log in as USER with the password in $GRIDHALL_PASSWORD (no dialog)")
    run.add_argument("--no-login", action="store_true", help="read-only view without logging in")
    run.add_argument("--mode", choices=("desk", "analyst", "wall"), default="desk",
                     help="window mode: desk (per role, default), analyst (map and queue), wall (the video "
                          "wall, read-only: the same as gridhall wall --db …, docs/wall.md)")
    run.add_argument("--layout", type=_layout_file, metavar="FILE",
                     help="arrange the window by this layout file (TOML, see docs/layouts.md) instead of "
                          "the mode's built-in layout; a malformed file is reported and the built-in used")

    db = sub.add_parser("db", help="create, upgrade or verify a database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    for name, text in (("init", "create the schema and reference data"),
                       ("upgrade", "migrate the schema to the newest revision"),
                       ("verify-audit", "check the case-event hash chain"),
                       ("check", "diagnose the store: file integrity, SpatiaLite metadata, tables, revision")):
        c = db_sub.add_parser(name, help=text)
        c.add_argument("--db", required=True, help="SpatiaLite file or postgresql:// URL")
        if name == "check":
            c.description = ("Diagnose the store without changing it: a damaged file, missing SpatiaLite "
                             "metadata, a missing table or an old revision is reported with advice; exit 1 "
                             "when anything is wrong.")
            _format_option(c, 'json: {"ok": true|false, "findings": [{"problem": str, "advice": str}]}')
        if name == "verify-audit":
            c.description = ("Check the case-event hash chain as a job: a progress bar on stderr; Ctrl+C "
                             f"stops it (read-only, nothing to undo) and exits {EXIT_CANCELLED}.")
            _format_option(c, 'json: {"ok": true|false, "problem": null | {"chain_no": int|null, '
                              '"case_id": int|null, "message": str}}, with --seal also "seals": [{"file", '
                              '"ok", "status": "intact"|"rewritten"|"ahead"|"foreign", "chain_no", '
                              '"sealed_at", "copy", "message"}]; exit 1 when broken')
            c.add_argument("--seal", action="append", metavar="FILE", default=[],
                           help="also prove the history up to this seal (from `gridhall db seal`) was not "
                                "rewritten, even by the owner: the sealed link must still carry the sealed "
                                "hash (repeatable)")
    seal = db_sub.add_parser(
        "seal", help="write a dated seal of the audit chain's head (keep it off the server)",
        description="Verify the audit chain and write a dated seal of its head (JSON) as a job: a progress "
                    "bar on stderr; Ctrl+C stops it (read-only, no file written) and exits "
                    f"{EXIT_CANCELLED}. Keep the seal away from the server (print it, mail it to the "
                    "supervising authority, put it in the monthly bulletin); `gridhall db verify-audit "
                    "--seal FILE` later proves the history up to it was not rewritten.")
    seal.add_argument("--db", required=True, help="SpatiaLite file or postgresql:// URL")
    seal.add_argument("--out", metavar="FILE", help="the seal file, or a directory for the default name "
                                                    "(default: gridhall-seal-<db>-<chain_no>-<date>.json in "
                                                    "the current directory); never overwritten")

    demo = sub.add_parser(
        "demo", help="build the deterministic demo city",
        description="Build the deterministic demo city as a job: a progress bar on stderr; Ctrl+C "
                    "cancels, rolls everything back (the store stays as it was) and exits "
                    f"{EXIT_CANCELLED}.")
    demo.add_argument("--db", required=True, help="SpatiaLite file or postgresql:// URL")
    demo.add_argument("--seed", type=_seed, default=1)
    demo.add_argument("--scale", choices=("district", "city"), default="district")
    _format_option(demo, 'json: {"scale", "seed", "now" (ISO 8601), "streets", "communities", "grids", '
                         '"roads", "components", "departments", "users", "cases", "events", "open_cases", '
                         '"open_by_state": {state: n}, "open_by_light": {light: n}, "audit_hash", '
                         '"seconds", "demo_password", "demo_accounts": [username]}')

    from app.cli.case import add_case_commands, plugin_commands_wanted
    from app.cli.user import add_user_commands
    add_user_commands(sub)
    from app.cli.admin import add_admin_commands
    add_admin_commands(sub)
    add_case_commands(sub, plugins=plugin_commands_wanted(argv))
    from app.cli.tasks import add_task_commands
    add_task_commands(sub)
    from app.cli.ledger import add_ledger_command
    add_ledger_command(sub)
    from app.cli.evaluate import add_evaluate_command
    add_evaluate_command(sub)
    from app.cli.report import add_report_command
    add_report_command(sub)
    from app.cli.wall import add_wall_command
    add_wall_command(sub)
    from app.cli.geocode import add_gazetteer_command, add_geocode_command
    add_geocode_command(sub)
    add_gazetteer_command(sub)
    from app.cli.base_data import add_base_data_commands
    add_base_data_commands(sub)
    from app.cli.open311 import add_open311_commands
    add_open311_commands(sub)
    from app.cli.exchange import add_exchange_command
    add_exchange_command(sub)
    from app.cli.qgis_project import add_qgis_project_command
    add_qgis_project_command(sub)
    from app.cli.base_maint import add_base_maint_commands
    add_base_maint_commands(sub)
    return p


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error in one line (the option, the problem, where the help is),
    oversized input named by its size instead of echoed."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_clipped(message)} ({self.prog} --help)\n")


#: An argument longer than this is named by its size in a message, never echoed whole.
ECHO_LIMIT = 80


def _clipped(text: str) -> str:
    """``text`` with every long run (a quoted value, a long word) replaced by an excerpt."""
    import re

    from app.domain.text import excerpt

    def shorten(m: re.Match) -> str:
        return str(excerpt(m.group(0), ECHO_LIMIT // 2))

    return _printable(re.sub(rf"\S{{{ECHO_LIMIT},}}", shorten, text))


def _printable(line: str) -> str:
    """``line`` with control, escape and bidi-override characters shown as \\uXXXX (an echoed
    argument must not clear the terminal or reorder the line)."""
    from app.domain.text import excerpt

    return str(excerpt(line, len(line)))  # (a text within the width comes back escaped, not elided)


class ArgumentRefused(Exception):
    """An argument the command line refuses before doing anything (exit 2); ``msg`` says why."""

    def __init__(self, msg) -> None:
        super().__init__(msg)
        self.msg = msg


def _undecodable(argv: Sequence[str]) -> tuple[int, str | None] | None:
    """(position, option) of the first argument that is not valid UTF-8 (decoded by Python with
    surrogate escapes, e.g. a GBK script on a UTF-8 system), or None."""
    for i, arg in enumerate(argv):
        if any("\udc80" <= ch <= "\udcff" for ch in arg):
            if arg.startswith("--") and "=" in arg:
                return i + 1, arg.split("=", 1)[0]
            if arg.startswith("-"):
                return i + 1, None
            before = argv[i - 1] if i else ""
            return i + 1, before if before.startswith("-") and "=" not in before else None
    return None


def _say(cat, message) -> None:
    """One line on stderr: ``gridhall: <message in the user's language>``."""
    text = cat.text(message) if not isinstance(message, BaseException) else cat.error(message)
    text = " ".join(text.split()) if "\n" in text else text
    print(f"gridhall: {_printable(text)}", file=sys.stderr)


#: Characters that drive a terminal (C0/C1 controls but newline and tab, DEL) or reorder a line (bidi).
_TERMINAL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


class _Inert:
    """A text stream that shows terminal-driving characters as ``\\uXXXX`` instead of passing them on.

    The case and user commands print what strangers typed (case text, names, numbers as given);
    stored or echoed text must not clear the screen or reverse a line of whoever reads it. In JSON
    output the escape is the same string (``\\u202e`` inside a JSON string decodes to U+202E).
    """

    def __init__(self, stream) -> None:
        import re

        self._stream = stream
        self._pattern = re.compile(_TERMINAL)

    def write(self, text: str) -> int:
        self._stream.write(self._pattern.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    Whatever happens, the user gets one line on stderr (never a traceback; the detail goes to
    the log, shown with ``-v``), a broken pipe on stdout ends quietly (exit 141, like a shell
    tool killed by SIGPIPE), and Ctrl+C says truthfully whether the step was committed.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if sys.stdin is None:  # started with stdin closed (`<&-`): reads see end of file, prompts refuse
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    for name in ("stdout", "stderr"):  # started with it closed (`>&-`): what it would show goes nowhere
        if getattr(sys, name) is None:  # (and the file opened takes the closed descriptor, not a database)
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    watch: list = []  # the CommitWatch of a command that writes, once installed
    try:
        code = _main(argv, watch)
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except KeyboardInterrupt:  # while parsing or loading, or in the one-line handlers themselves
        from app.i18n import Catalogue

        _say(Catalogue.from_env(), _interrupted(watch[0] if watch else None))
        return EXIT_CANCELLED


def _broken_pipe() -> int:
    """The reader of stdout went away (``gridhall case show … | head -1``): stop quietly."""
    import signal

    try:  # later writes (and the interpreter's final flush) go nowhere instead of failing again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 128 + signal.SIGPIPE


def _main(argv: list[str], watch_box: list) -> int:
    from app.domain.messages import Msg
    from app.i18n import Catalogue

    bad = _undecodable(argv)
    if bad is not None:
        cat = Catalogue("en") if "en" in argv and "--lang" in argv else Catalogue.from_env()
        position, option = bad
        _say(cat, Msg("参数 {option} 不是有效的 UTF-8 文本（可能来自 GBK 编码的脚本）；请把脚本或终端改为 UTF-8 后重试",
                      option=option or Msg("第 {position} 个", position=position)))
        return EXIT_USAGE
    args = build_parser(argv).parse_args(argv)
    # The user gets one clear line per failure; the log (warnings included) only on request.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # a Ctrl+C while a pooled connection closes is logged with a traceback there
        logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL)
    from app.domain.messages import MsgError

    cat = _cli_catalogue(args)
    streams = sys.stdout, sys.stderr
    if args.command in ("case", "user") and not isinstance(sys.stdout, _Inert):  # (no progress bars there)
        sys.stdout, sys.stderr = _Inert(sys.stdout), _Inert(sys.stderr)
    watch = None
    if args.command in ("case", "user", "demo"):
        from app.store.commit_watch import CommitWatch

        watch = CommitWatch().install()
        watch_box.append(watch)
    try:
        _preload(args.command)
        _check_arguments(args)
        return _run(args)
    except ArgumentRefused as exc:
        _say(cat, exc.msg)
        return EXIT_USAGE
    except MsgError as exc:  # StoreError and every other refusal that carries its message
        _say(cat, exc)
        return EXIT_FAIL
    except KeyboardInterrupt:
        _say(cat, _interrupted(watch))
        return EXIT_CANCELLED
    except BrokenPipeError:
        raise
    except EOFError:  # a prompt read from a closed stdin
        _say(cat, Msg("没有可用的输入：标准输入已关闭，无法询问密码；请设置环境变量 GRIDHALL_PASSWORD，或在交互终端中运行"))
        return EXIT_FAIL
    except Exception as exc:  # a driver's refusal (locked file, lost server) or a fault: one line
        from app.store.errors import database_error

        refused = database_error(exc)
        if refused is not None:
            _say(cat, refused)
            return EXIT_FAIL
        from app.config import redact_text

        logging.getLogger("app.cli").info("unexpected error: %s", redact_text(repr(exc)), exc_info=True)
        _say(cat, _fault(exc))
        return EXIT_FAIL
    finally:
        if watch is not None:
            watch.remove()  # (the verdict above was taken first)
        sys.stdout, sys.stderr = streams


def _preload(command: str) -> None:
    """Import numpy from Python before the store's libraries import it from C.

    GeoAlchemy2 imports Shapely optionally, and Shapely's extension imports numpy through numpy's
    C API, which turns a Ctrl+C landing there into an ImportError after printing a traceback: the
    interrupt was lost (the step went on and committed) and a traceback was shown. Imported here,
    a Ctrl+C during the import is an ordinary KeyboardInterrupt with its one line.
    """
    if command in ("case", "user", "db", "demo"):
        import contextlib

        with contextlib.suppress(ImportError):  # (numpy comes with Shapely)
            import numpy  # noqa: F401


def _fault(exc: BaseException):
    from app.domain.messages import Msg

    if isinstance(exc, UnicodeError):
        return Msg("文本编码出错（{kind}），未完成操作；请使用 UTF-8 终端和脚本（gridhall -v … 可查看详情）",
                   kind=type(exc).__name__)
    if isinstance(exc, OverflowError):
        return Msg("数值过大，超出可处理的范围；未写入任何内容")
    if isinstance(exc, MemoryError):
        return Msg("内存不足，未完成操作；请检查输入的文件或数据是否过大")
    if isinstance(exc, OSError) and exc.strerror:
        return Msg("系统错误：{strerror}，未完成操作（gridhall -v … 可查看详情）", strerror=exc.strerror)
    return Msg("内部错误（{kind}），未完成操作；请用 gridhall -v … 重新运行查看详情，并报告这个问题",
               kind=type(exc).__name__)


def _interrupted(watch):
    """The truthful line after Ctrl+C: was the interrupted step committed, and what did it make?"""
    from app.domain.messages import Msg

    verdict = watch.verdict() if watch is not None else None
    if verdict is None or verdict.committed is False:
        return Msg("已中断：被中断的这一步没有提交，数据库未被改动")
    if verdict.committed is None:
        return Msg("已中断：无法确定这一步是否已提交；重新提交之前，请先用 gridhall case list 查看是否已有这件案卷")
    if verdict.numbers:
        return Msg("已中断，但这一步在中断前已经提交：案卷 {numbers}；不要重复提交，可用 gridhall case show {first} 查看",
                   numbers=", ".join(verdict.numbers), first=verdict.numbers[0])
    return Msg("已中断，但这一步在中断前已经提交；不要重复提交")


#: User and case names are short (users.username is VARCHAR(64); case numbers S20260302-0001).
MAX_NAME = 64
#: Projected coordinates of the store (metres) and longitudes/latitudes are far below this.
MAX_COORDINATE = 1e8


def _check_arguments(args: argparse.Namespace) -> None:
    """Refuse, before anything is opened, arguments no command can take (exit 2, one line)."""
    import math

    from app.domain.messages import Msg

    db = getattr(args, "db", None)
    if db is not None:  # an empty --db is an error, never a fallback to $GRIDHALL_DB or the demo store
        from app.store.engine import parse_url

        parse_url(db)
    elif args.command in ("run", "case") and os.environ.get("GRIDHALL_DB") is not None:
        env = os.environ["GRIDHALL_DB"]
        if env and any("\udc80" <= ch <= "\udcff" for ch in env):
            raise ArgumentRefused(Msg("环境变量 GRIDHALL_DB 不是有效的 UTF-8 文本"))
        if env:
            from app.store.engine import parse_url

            parse_url(env)
    for dest, option in (("user", "--as" if args.command == "case" else "--user"), ("case", "CASE"),
                         ("name", "NAME")):
        value = getattr(args, dest, None)
        if isinstance(value, str) and len(value) > MAX_NAME:
            raise ArgumentRefused(Msg("{option} 过长（{count:,} 个字符，最多 {limit} 个）", option=option,
                                      count=len(value), limit=MAX_NAME))
    for dest, value in vars(args).items():
        pair = isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, float) for v in value)
        if pair and not all(math.isfinite(v) and abs(v) < MAX_COORDINATE for v in value):
            option = "--" + dest.removeprefix("opt_").replace("_", "-")
            raise ArgumentRefused(Msg("{option} 的坐标超出范围：应为两个有限的数（投影坐标，米，例如 557150,3464450），"
                                      "不能是无穷大或 {limit:.0e} 以上的数", option=option, limit=MAX_COORDINATE))
    if args.command == "run" and args.ui_scale is None and os.environ.get("GRIDHALL_UI_SCALE"):
        try:
            _ui_scale(os.environ["GRIDHALL_UI_SCALE"])
        except argparse.ArgumentTypeError:
            raise ArgumentRefused(Msg("环境变量 GRIDHALL_UI_SCALE 应为 auto 或 0.5–4 之间的数，不能是 {value}",
                                      value=os.environ["GRIDHALL_UI_SCALE"][:40])) from None
    shot = getattr(args, "screenshot", None)
    if shot is not None:
        _check_screenshot(shot)


def _check_screenshot(path_text: str) -> None:
    """A screenshot path that can be written, checked before the window is built."""
    from app.domain.messages import Msg

    path = os.path.abspath(path_text or ".")
    parent = os.path.dirname(path)
    if not path_text.strip() or os.path.isdir(path):
        raise ArgumentRefused(Msg("截图路径 {path} 是目录或为空：请给出 .png 文件的路径", path=path_text))
    if not os.path.isdir(parent):
        raise ArgumentRefused(Msg("截图无法保存：目录 {parent} 不存在", parent=parent))
    if not os.access(parent, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ArgumentRefused(Msg("截图无法保存：没有写入 {path} 的权限", path=path))


def _run(args: argparse.Namespace) -> int:
    if args.command == "run" and args.mode == "wall":
        from app.cli.wall import run_wall_from_run
        return run_wall_from_run(args)
    if args.command == "run":
        from app.bootstrap import run_client
        return run_client(db_url=args.db or default_db_url(), lang=args.lang or "zh_CN",
                          screenshot=args.screenshot, size=args.size,
                          plugins=not args.no_plugins, user=args.user,
                          password=os.environ.get("GRIDHALL_PASSWORD"), login=not args.no_login,
                          mode=args.mode, layout=args.layout,
                          ui_scale=_ui_scale(os.environ.get("GRIDHALL_UI_SCALE", "auto")) if args.ui_scale is None
                          else None if args.ui_scale == "auto" else args.ui_scale)
    if args.command == "db":
        return _db(args)
    if args.command == "demo":
        return _demo(args)
    if args.command == "case":
        from app.cli.case import run_case
        return run_case(args)
    if args.command == "user":
        from app.cli.user import run_user
        return run_user(args)
    if args.command == "admin":
        from app.cli.admin import run_admin
        return run_admin(args)
    if args.command == "task":
        from app.cli.tasks import run_task
        return run_task(args)
    if args.command == "ledger":
        from app.cli.ledger import run_ledger
        return run_ledger(args)
    if args.command == "evaluate":
        from app.cli.evaluate import run_evaluate
        return run_evaluate(args)
    if args.command == "report":
        from app.cli.report import run_report
        return run_report(args)
    if args.command == "wall":
        from app.cli.wall import run_wall
        return run_wall(args)
    if args.command == "geocode":
        from app.cli.geocode import run_geocode
        return run_geocode(args)
    if args.command == "gazetteer":
        from app.cli.geocode import run_gazetteer
        return run_gazetteer(args)
    if args.command in ("import", "export"):
        from app.cli.base_data import run_export, run_import
        return run_import(args) if args.command == "import" else run_export(args)
    if args.command in ("serve-open311", "open311"):
        from app.cli.open311 import run_open311
        return run_open311(args)
    if args.command == "exchange":
        from app.cli.exchange import run_exchange
        return run_exchange(args)
    if args.command in ("component", "grid"):
        from app.cli.base_maint import run_base_maint
        return run_base_maint(args)
    if args.command == "qgis-project":
        from app.cli.qgis_project import run_qgis_project
        return run_qgis_project(args)
    return EXIT_USAGE


def _db(args: argparse.Namespace) -> int:
    from app.store import commands

    if args.db_command == "init":
        store = commands.init_db(args.db)
        print(f"数据库已就绪：{redact(args.db)}（{store.backend}，版本 {commands.current_revision(store)}）")
        store.dispose()
        return EXIT_OK
    if args.db_command == "upgrade":
        store = commands.upgrade_db(args.db)
        print(f"数据库已升级到版本 {commands.current_revision(store)}：{redact(args.db)}")
        store.dispose()
        return EXIT_OK
    if args.db_command == "seal":
        return _seal(args)
    if args.db_command == "check":
        return _check(args)
    return _verify_audit(args)


def _check(args: argparse.Namespace) -> int:
    """`db check`: every finding with its advice (stderr), exit 1 when there is any."""
    from app.domain.messages import Msg
    from app.store.diagnose import check_store

    cat = _cli_catalogue(args)
    findings = check_store(args.db)
    if args.format == "json":
        _print_json({"ok": not findings, "findings": [{"problem": cat.text(f.problem), "advice": cat.text(f.advice)}
                                                      for f in findings]})
        return EXIT_FAIL if findings else EXIT_OK
    if not findings:
        print(cat.text(Msg("数据库检查通过：文件完整，SpatiaLite/PostGIS 元数据和全部数据表都在，表结构为最新版本")))
        return EXIT_OK
    for f in findings:
        print(f"gridhall: {cat.text(f.problem)} — {cat.text(f.advice)}", file=sys.stderr)
    return EXIT_FAIL


def _verify_audit(args: argparse.Namespace, *, runner=None) -> int:
    """`db verify-audit` as a job: a progress bar on stderr; Ctrl+C stops it (read-only) with exit 130."""
    from app.cli.progress import run_with_progress
    from app.jobs import Job, JobState
    from app.store import commands
    from app.store.engine import open_store

    if getattr(args, "seal", None):
        return _verify_seals(args, runner=runner)
    store = open_store(args.db)  # a bad URL or file: one line from main(), no bar
    try:
        job = run_with_progress(Job("校验审计链", lambda feedback: commands.verify_audit(store, feedback)),
                                runner=runner, cancelling="正在取消…")
    finally:
        store.dispose()
    if job.state is JobState.CANCELLED:
        print("gridhall: 已取消校验审计链；未得出结论，数据库未被改动", file=sys.stderr)
        return EXIT_CANCELLED
    problem = job.outcome()  # a failure raises its StoreError: one line in main()
    if args.format == "json":
        _print_json({"ok": problem is None, "problem": None if problem is None else {
            "chain_no": problem.chain_no, "case_id": problem.case_id, "message": problem.message}})
        return EXIT_OK if problem is None else EXIT_FAIL
    if problem is None:
        print("审计链完整：所有案卷事件的哈希链校验通过 (audit chain intact)")
        return EXIT_OK
    print(f"审计链被破坏 (audit chain broken): {problem}", file=sys.stderr)
    return EXIT_FAIL


def _cli_catalogue(args: argparse.Namespace):
    from app.i18n import Catalogue

    return Catalogue(args.lang) if getattr(args, "lang", None) else Catalogue.from_env()


def _seal(args: argparse.Namespace, *, runner=None) -> int:
    """`db seal`: verify the chain and write a seal of its head as a job (read-only; Ctrl+C: exit 130)."""
    from app.cli.progress import run_with_progress
    from app.domain.clock import SystemClock
    from app.domain.messages import Msg
    from app.jobs import Job, JobState
    from app.store.engine import open_store
    from app.store.seal import SealError, make_seal, write_seal

    cat = _cli_catalogue(args)
    if args.out and os.path.exists(args.out) and not os.path.isdir(args.out):  # before the chain is read
        raise SealError(Msg("{path} 已存在，封印不会覆盖已有文件；请用 --out 另选文件名", path=args.out))
    store = open_store(args.db)  # a bad URL or file: one line from main(), no bar
    try:
        job = run_with_progress(Job(cat.text(Msg("封印审计链")), lambda feedback: make_seal(store, SystemClock(), feedback)),
                                runner=runner, cancelling=cat.text(Msg("正在取消…")))
    finally:
        store.dispose()
    if job.state is JobState.CANCELLED:
        print(f"gridhall: {cat.text(Msg('已取消封印审计链；未写入封印文件，数据库未被改动'))}", file=sys.stderr)
        return EXIT_CANCELLED
    seal = job.outcome()  # a broken chain raises its SealError: one line in main()
    path = write_seal(seal, args.out)
    print(cat.text(Msg("审计链封印（第 {chain_no} 环，{sealed_at}）已写入 {path}；请把它保存在服务器以外："
                       "打印出来、寄给监督机构、登入月报，日后用 gridhall db verify-audit --seal {path} 核对",
                       chain_no=seal.chain_no, sealed_at=f"{seal.sealed_at:%Y-%m-%d %H:%M}", path=path)))
    return EXIT_OK


def _verify_seals(args: argparse.Namespace, *, runner=None) -> int:
    """`db verify-audit --seal FILE…`: the chain check plus each seal, in one read-only job."""
    from app.cli.progress import run_with_progress
    from app.domain.messages import Msg
    from app.jobs import Job, JobState
    from app.store.engine import open_store
    from app.store.seal import SealError, check_seals, read_seal

    cat = _cli_catalogue(args)
    seals, bad = [], []
    for name in args.seal:  # every seal file is read first: a typo costs no chain check
        try:
            seals.append((name, read_seal(name)))
        except SealError as exc:
            bad.append(cat.error(exc))
    if len(bad) == 1:  # one bad seal file: one line
        print(f"gridhall: {cat.text(Msg('{problem}；未校验审计链：请先改正封印文件', problem=bad[0]))}", file=sys.stderr)
        return EXIT_FAIL
    if bad:  # several: a line for each, then what was not done
        for line in bad:
            print(f"gridhall: {line}", file=sys.stderr)
        print(f"gridhall: {cat.text(Msg('未校验审计链：请先改正封印文件'))}", file=sys.stderr)
        return EXIT_FAIL
    store = open_store(args.db)
    try:
        job = run_with_progress(Job(cat.text(Msg("校验审计链")), lambda feedback: check_seals(store, seals, feedback)),
                                runner=runner, cancelling=cat.text(Msg("正在取消…")))
    finally:
        store.dispose()
    if job.state is JobState.CANCELLED:
        print("gridhall: 已取消校验审计链；未得出结论，数据库未被改动", file=sys.stderr)
        return EXIT_CANCELLED
    report = job.outcome()
    problem = report.problem
    if args.format == "json":
        _print_json({"ok": report.ok, "problem": None if problem is None else {
            "chain_no": problem.chain_no, "case_id": problem.case_id, "message": problem.message},
            "seals": [{"file": c.name, "ok": c.ok, "status": c.status.value, "chain_no": c.seal.chain_no,
                       "sealed_at": c.seal.sealed_at.isoformat(sep=" "), "copy": c.copy,
                       "message": cat.text(c.message)} for c in report.checks]})
        return EXIT_OK if report.ok else EXIT_FAIL
    if problem is None:
        print("审计链完整：所有案卷事件的哈希链校验通过 (audit chain intact)")
    else:
        print(f"审计链被破坏 (audit chain broken): {problem}", file=sys.stderr)
    for check in report.checks:
        print(cat.text(check.message), file=sys.stdout if check.ok else sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAIL


def demo_job(args: argparse.Namespace):
    """The demo generation (and its demo accounts) as a :class:`~app.jobs.Job`.

    The result is ``(summary, account names)``. A cancel before the data is committed raises
    :class:`~app.jobs.Cancelled` and leaves the store exactly as before (``generate`` writes in
    one transaction and removes a file it created); the accounts come after the commit, so
    from there on the job is no longer cancellable and finishes.
    """
    from app.config import DEMO_PASSWORD
    from app.domain.clock import SystemClock
    from app.jobs import Cancelled, Feedback, Job
    from app.services.users import create_demo_logins
    from app.store.engine import open_store
    from data.democity.generate import DemoCancelled, generate

    def work(feedback: Feedback):
        data = feedback.child(0.0, 0.95)
        try:
            summary = generate(args.db, seed=args.seed, scale=args.scale, now=SystemClock().now(),
                               **_feedback_arguments(generate, data))
        except DemoCancelled as exc:
            raise Cancelled(str(exc)) from exc
        feedback.progress(0.96, "创建演示账户")
        store = open_store(args.db)
        try:
            names = create_demo_logins(store, DEMO_PASSWORD)
        finally:
            store.dispose()
        feedback.progress(1.0, "完成")
        return summary, names

    return Job(f"生成演示数据（{args.scale}）", work)


def _feedback_arguments(generate, feedback) -> dict:
    """How ``generate`` takes progress and cancel: ``feedback=`` when it accepts a Feedback,
    else ``progress=`` (a Feedback is a progress callback) and ``cancel=`` (a predicate)."""
    import inspect

    if "feedback" in inspect.signature(generate).parameters:
        return {"feedback": feedback}
    return {"progress": feedback, "cancel": lambda: feedback.cancelled}


def _demo(args: argparse.Namespace, *, runner=None) -> int:
    from app.cli.progress import run_with_progress
    from app.config import DEMO_PASSWORD
    from app.jobs import JobState

    job = run_with_progress(demo_job(args), runner=runner)
    if job.state is JobState.CANCELLED:
        print("gridhall: 已取消生成演示数据；数据库保持原样，未写入任何数据", file=sys.stderr)
        return EXIT_CANCELLED
    summary, names = job.outcome()  # a failure raises its StoreError/DemoError: one line in main()
    if job.cancel_requested:
        print("gridhall: 取消来得太晚：演示数据已经提交", file=sys.stderr)
    if args.format == "json":
        _print_json({
            "scale": summary.scale, "seed": summary.seed, "now": summary.now.isoformat(timespec="seconds"),
            "streets": summary.streets, "communities": summary.communities, "grids": summary.grids,
            "roads": summary.roads, "components": summary.components, "departments": summary.departments,
            "users": summary.users, "cases": summary.cases, "events": summary.events,
            "open_cases": summary.open_cases, "open_by_state": summary.open_by_state,
            "open_by_light": summary.open_by_light, "audit_hash": summary.audit_hash,
            "seconds": round(summary.seconds, 3), "demo_password": DEMO_PASSWORD, "demo_accounts": names,
        })
        return EXIT_OK
    print(summary)
    print(f"  演示账户（密码 {DEMO_PASSWORD}）：{'、'.join(names)}")
    return EXIT_OK
