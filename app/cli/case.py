"""`gridhall case …`: every step of the closed loop from scripts, through the same commands as the GUI.

The verbs are generated from the command registry (``app.commands``): each command's fields become
options, so a command registered there (built-in or a plugin's) is a verb here without touching
this file. ``show`` and ``list`` are the read verbs. The older combined forms stay as aliases
declared with the commands: ``verify --send``, ``check --send``, ``reject --duplicate-of``,
``request --type …``.

The password comes from ``GRIDHALL_PASSWORD`` or a prompt. On PostGIS ``--as X`` connects as X's
own database login ``gh_X`` (password from ``GRIDHALL_PASSWORD``, else the libpq password file
``~/.pgpass``, else a prompt): the account in the URL is never used, so a scripted action faces
the same privileges, row-level security and checks as X's workstation. Without ``--expect-version`` the
command acts on the version it reads just before acting: the compare-and-set still refuses a
change made between that read and the write, but not one made before the read.
A refused action exits 1 with the reason on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from app.commands import Command, CommandInputError, CommandRegistry, FieldKind, VerbGroup, default_registry
from app.domain.definitions import Action, CaseState, Role
from app.domain.messages import Msg
from app.domain.timeline import urge_text
from app.i18n import Catalogue

EXIT_OK, EXIT_FAIL = 0, 1
_CAT = Catalogue.from_env()  # Chinese by default; $GRIDHALL_LANG=en for English


def _bounded(low: int, high: int):
    """An argparse type: a whole number in ``low..high`` (a huge or negative one is refused here,
    not by the database)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_CAT.tr("应为整数，而不是「{text}」", text=text)) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(_CAT.tr("应在 {low} 到 {high} 之间（不是 {value}）", low=low,
                                                     high=high, value=value))
        return value

    return parse


def _pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.replace("，", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为两个用逗号分隔的数，例如 557150,3464450，而不是「{text}」") from None
    return a, b


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    p.add_argument("--as", dest="user", required=True, metavar="USER", help="username to act as")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.add_argument("--no-plugins", action="store_true",
                   help="offer only the built-in commands (skip the plugins' command hooks)")
    return p


def plugin_commands_wanted(argv: Sequence[str] | None) -> bool:
    """Whether ``gridhall <argv>`` is a ``case`` command that loads the plugins' command hooks
    (not with ``--no-plugins``; not without ``argv``, e.g. a parser built for a test)."""
    if argv is None:
        return False
    args = list(argv)
    command = next((a for a in args if not a.startswith("-")), None)
    return command == "case" and "--no-plugins" not in args


def with_plugin_commands(registry: CommandRegistry, plugins_dir: Path | None = None) -> CommandRegistry:
    """A copy of ``registry`` plus the commands of the plugins in ``plugins_dir`` (their manifests'
    ``commands`` hooks, which import no Qt); each plugin that fails is reported in one line on stderr."""
    from app.config import PLUGINS
    from app.plugin.hooks import load_plugin_commands, snapshot

    directory = Path(plugins_dir) if plugins_dir is not None else PLUGINS
    copy = snapshot(registry)
    for plugin_id, why in load_plugin_commands(directory, directory.name, copy).failures:
        print(f"gridhall: 插件「{plugin_id}」的命令未加载，已跳过：{why}", file=sys.stderr)
    return copy


def _on_case(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case number (e.g. S20260302-0001) or id")
    p.add_argument("--expect-version", type=_bounded(0, 2**31 - 1), default=None, metavar="N",
                   help="refuse unless the case is still at version N (default: the version read just before)")


def _opt(dest: str) -> str:
    return f"opt_{dest}"  # field values never collide with the common options


def _sel(dest: str) -> str:
    return f"sel_{dest}"


def _add_field(target, f, *, required: bool) -> None:
    """One field as an option of ``target`` (a parser or a mutually exclusive group)."""
    help_text = _CAT.tr(f.help or f.label)
    kw: dict[str, Any] = {"dest": _opt(f.dest), "default": None, "help": help_text}
    if f.kind is FieldKind.BOOL:
        kw["help"] = _CAT.tr("「{label}」为否" if f.default else "「{label}」为是", label=_CAT.tr(f.label))
        target.add_argument(f.cli_option, action="store_const", const=not bool(f.default), **kw)
        return
    if f.kind is FieldKind.PHOTOS:
        target.add_argument(f.cli_option, action="append", metavar="FILE", **kw)
        return
    kw["metavar"] = f.dest.upper()
    if f.kind is FieldKind.INT:
        kw["type"] = int
        kw["metavar"] = "N"
    elif f.kind is FieldKind.POINT:
        kw["type"] = _pair
        kw["metavar"] = "X,Y"
    elif f.kind is FieldKind.CHOICE and f.choices:
        kw["choices"] = [v for v, _label in f.choices]
    elif f.kind is FieldKind.CASE_REF:
        kw["metavar"] = "CASE"
    target.add_argument(f.cli_option, required=required, **kw)


def _add_verb(sub, group: VerbGroup, common: argparse.ArgumentParser) -> None:
    commands = group.commands
    titles = "/".join(_CAT.tr(c.title) for c in commands)
    p = sub.add_parser(group.verb, help=titles, description=titles, parents=[common])
    p.set_defaults(case_verb=group.verb)
    if any(c.on_case for c in commands):
        _on_case(p)
    single = not group.aliases
    choices: dict[str, list[str]] = {}
    for command, alias in group.aliases:
        if alias.value is not None:
            choices.setdefault(alias.option, []).append(alias.value)
        elif alias.field is not None:
            f = command.field(alias.field)
            p.add_argument(alias.option, dest=_sel(alias.dest), default=None, metavar="CASE",
                           help=_CAT.tr("{title}：{label}", title=_CAT.tr(command.title), label=_CAT.tr(f.label)))
        else:
            p.add_argument(alias.option, dest=_sel(alias.dest), action="store_true",
                           help=_CAT.tr(command.title))
    for option, values in choices.items():
        p.add_argument(option, dest=_sel(option.lstrip("-").replace("-", "_")), choices=values,
                       required=group.primary is None, default=None)
    seen: set[str] = set()
    exclusive: dict[str, Any] = {}
    for command in commands:
        filled = {a.field for c, a in group.aliases if c is command and a.field and command is not group.primary}
        for f in command.value_fields:
            if not f.cli or f.name in filled or f.cli_option in seen:
                continue
            seen.add(f.cli_option)
            target = p
            if f.group is not None:
                if f.group not in exclusive:
                    exclusive[f.group] = p.add_mutually_exclusive_group()
                target = exclusive[f.group]
            _add_field(target, f, required=single and f.required and f.group is None)


def add_case_commands(subparsers: Any, registry: CommandRegistry | None = None, *, plugins: bool = False,
                      plugins_dir: Path | None = None) -> argparse.ArgumentParser:
    """Add the ``case`` command to the top-level subparsers: a verb per command of ``registry``
    (default: the process's registry, built-ins and whatever is registered there) plus show/list.

    ``plugins``: first add the commands of the plugins in ``plugins_dir`` (default: the application's
    plugins folder) through their manifests' Qt-free ``commands`` hooks, to a copy of the registry;
    a plugin whose hook fails is skipped with one line on stderr.
    """
    registry = registry if registry is not None else default_registry()
    if plugins:
        registry = with_plugin_commands(registry, plugins_dir)
    common = _common()
    case = subparsers.add_parser("case", help="work on cases: report, dispatch, close, …",
                                 description="Work on cases through the same commands as the GUI. "
                                             "Read verbs (show, list) take --format json|text.")
    case.add_argument("--no-plugins", dest="case_no_plugins", action="store_true",
                      help="offer only the built-in commands (skip the plugins' command hooks)")
    case.set_defaults(case_registry=registry)
    sub = case.add_subparsers(dest="case_command", required=True)
    for group in registry.verbs().values():
        _add_verb(sub, group, common)
    sub.add_parser("show", help="show a case with its timeline", parents=[common]).add_argument("case")
    ls = sub.add_parser("list", help="list open cases", parents=[common])
    ls.add_argument("--state", action="append", default=None, help="only these states (repeatable)")
    ls.add_argument("--limit", type=_bounded(1, 10_000), default=50, help="at most this many cases (1–10000)")
    fd = sub.add_parser("find", parents=[common],
                        help="search every case in any state: number or part of it, serial, phone, words, codes, "
                             "状态:/来源:/类别:/部门:/网格:/部件: and dates (app/services/search.py)")
    fd.add_argument("query", nargs="*", help="what to look for, e.g. 0294, 井盖 人民路, 已结案 2026-12")
    fd.add_argument("--limit", type=_bounded(1, 500), default=50, help="cases per page (1–500)")
    fd.add_argument("--offset", type=_bounded(0, 10_000_000), default=0, help="skip this many (paging)")
    return case


# --- running ------------------------------------------------------------------------------

def _password(user: str) -> str:
    """$GRIDHALL_PASSWORD, else a hidden prompt; PasswordUnavailable without a terminal (no login
    attempt is spent on an empty password read from a pipe)."""
    from app.cli.user import read_password

    return read_password(prompt=f"{user} 的密码：")


def _login_as(url: str, user: str, clock):
    """(Store connected as ``user``'s login ``gh_<user>``, Actor) on PostGIS. The password is
    $GRIDHALL_PASSWORD, else libpq's password file, else a prompt (only on a terminal)."""
    import os

    from app.cli.user import PASSWORD_ENV
    from app.services.auth import AuthError
    from app.services.hall_login import NO_PASSWORD_MESSAGE, hall_login

    password = os.environ.get(PASSWORD_ENV) or None
    try:
        return hall_login(url, user, password, clock=clock)
    except AuthError as exc:
        if password is not None or str(exc) != NO_PASSWORD_MESSAGE:
            raise
    return hall_login(url, user, _password(user), clock=clock)  # a prompt, or PasswordUnavailable


def run_case(args: argparse.Namespace, *, clock=None) -> int:
    """Run one ``gridhall case`` subcommand; returns the exit code (1 with the reason on stderr)."""
    from app.cli.user import PasswordUnavailable
    from app.config import default_db_url
    from app.core import build_core
    from app.domain.clock import SystemClock
    from app.services.auth import AuthError, login
    from app.services.errors import ServiceError
    from app.store.engine import open_store, parse_url
    from app.store.errors import StoreError, database_error

    clock = clock or SystemClock()
    store = None
    try:
        url = args.db or default_db_url()
        if parse_url(url)[1] is None:  # PostGIS: as the user's own login, never the URL's account
            store, actor = _login_as(url, args.user, clock)
        else:
            store = open_store(url)
            actor = login(store, args.user, _password(args.user), clock=clock)
        # scoped to the user: a department operator reads only its cases (SpatiaLite; PostGIS: its login's RLS)
        core = build_core(store, clock, commands=getattr(args, "case_registry", None), actor=actor)
        out = _dispatch(core, actor, args)
    except CommandInputError as exc:
        print(f"gridhall: {_problems(exc)}", file=sys.stderr)
        return EXIT_FAIL
    except (ServiceError, AuthError, StoreError, PasswordUnavailable) as exc:
        print(f"gridhall: {Catalogue.from_env().error(exc)}", file=sys.stderr)  # $GRIDHALL_LANG
        return EXIT_FAIL
    except Exception as exc:  # a driver's refusal (locked file, lost server): one line, not a traceback
        refused = database_error(exc)
        if refused is None:
            raise
        print(f"gridhall: {Catalogue.from_env().error(refused)}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()
    print(json.dumps(out, ensure_ascii=False, indent=2, default=_json) if args.format == "json" else _text(out))
    return EXIT_OK


def _problems(exc: CommandInputError) -> str:
    options = getattr(exc, "options", {})
    cat = Catalogue.from_env()  # $GRIDHALL_LANG as it is now
    return cat.tr("；").join(cat.tr("{value}（{label}）", value=p.message(cat), label=options[p.field])
                            if p.field in options else p.message(cat) for p in exc.problems)


def _photos(paths, kind: str):
    from app.services.attachments import load_photo

    return [load_photo(p, kind) for p in paths or ()]


def _dispatch(core, actor, args) -> dict[str, Any]:
    from app.domain.definitions import CaseState
    from app.services.errors import ValidationError

    svc = core.cases
    cmd = args.case_command
    if cmd == "list":
        try:
            states = [CaseState.parse(s) for s in args.state] if args.state else None
        except ValueError as exc:
            raise ValidationError("state", str(exc)) from None
        return {"cases": [_case(c) for c in svc.list_cases(states=states, limit=args.limit)]}
    if cmd == "show":
        return _view(svc, svc.get(args.case), events=True)
    if cmd == "find":
        from app.services.search import SearchError

        try:
            found = core.find_cases(actor, " ".join(args.query), limit=args.limit, offset=args.offset)
        except SearchError as exc:
            raise ValidationError("query", exc.msg) from None
        return {"total": found.total, "more_than_total": found.capped, "offset": found.offset,
                "cases": [_case(c) for c in found.rows]}
    group = core.commands.verbs().get(args.case_verb)
    if group is None:  # the registry changed between parsing and running
        raise ValidationError("command", Msg("没有命令「{verb}」", verb=args.case_verb))
    command, values = _chosen(group, args)
    if not command.on_case:
        return _result(svc, _run(command, core, actor, None, None, values))
    summary = svc.get(args.case)
    ver = args.expect_version if args.expect_version is not None else summary.version
    return _result(svc, _run(command, core, actor, summary.id, ver, values))


def _run(command: Command, core, actor, case_id, version, values):
    try:
        return command.run(core, actor, case_id, version, values)
    except CommandInputError as exc:
        exc.options = {f.name: f.cli_option for f in command.value_fields if f.cli}  # type: ignore[attr-defined]
        raise


def _chosen(group: VerbGroup, args) -> tuple[Command, dict[str, Any]]:
    """The command the options select (an alias's selector, else the verb's own) and its values."""
    from app.services.errors import ValidationError

    values: dict[str, Any] = {}
    command = None
    for candidate, alias in group.aliases:
        if alias.value is not None:
            picked = getattr(args, _sel(alias.option.lstrip("-").replace("-", "_")), None) == alias.value
        else:
            given = getattr(args, _sel(alias.dest), None)
            picked = bool(given)
            if picked and alias.field is not None:
                values[alias.field] = given
        if picked:
            command = candidate
            break
    command = command or group.primary
    if command is None:
        raise ValidationError("command", Msg("请选择「{verb}」的类型", verb=group.verb))
    own = {f.cli_option for f in command.value_fields if f.cli}
    for other in group.commands:
        for f in other.value_fields:
            if f.cli and f.cli_option not in own and getattr(args, _opt(f.dest), None) is not None:
                raise ValidationError(f.name, Msg("「{title}」不接受 {option}", title=Msg(command.title),
                                                  option=f.cli_option))
    for f in command.value_fields:
        if not f.cli or f.name in values:
            continue
        raw = getattr(args, _opt(f.dest), None)
        values[f.name] = _photos(raw, f.photo_kind) if f.kind is FieldKind.PHOTOS else raw
    return command, values


# --- output -------------------------------------------------------------------------------

def _json(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, float) and value != value:  # NaN
        return None
    return str(value)


def _case(summary) -> dict[str, Any]:
    data = {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary) if f.name != "timer"}
    data["state_label"] = summary.state.label
    data["level_label"] = summary.level.label
    return data


def _view(svc, summary, *, events: bool = False) -> dict[str, Any]:
    view = {"case": _case(summary), "timer": svc.timer(summary.id)}
    if not summary.state.is_terminal:
        view["suggestions"] = svc.dispatch_suggestions(summary.id)
    if events:
        view["events"] = svc.events(summary.id)
        view["attachments"] = svc.attachments(summary.id)  # kind, file name, shooting time, size; no data
    return view


def _result(svc, result) -> dict[str, Any]:
    view = _view(svc, result.case)
    details = {k: v for k, v in result.details.items() if k != "suggestions"}
    view.update({"action": result.action.value, "action_label": result.action.label, "version": result.version,
                 "warnings": list(result.warnings), "details": details})
    return view


def _urge_mark(case: dict[str, Any], cat: Catalogue) -> str:
    """A listed case's 督办 mark (``  督办 3 级``), empty when it is not urged."""
    level = case.get("urge_level") or 0
    return "  " + cat.tr("督办 {level} 级", level=level) if level else ""


#: Continuation lines of a fact (a feedback text of several lines) are indented under it.
_FACT_INDENT = "      "


def _facts(event, cat: Catalogue) -> list[str]:
    """The event's facts (app.domain.timeline), one indented line each, in the user's language."""
    from app.domain.timeline import event_facts

    return [_FACT_INDENT + cat.text(fact).replace("\n", "\n" + _FACT_INDENT + "  ") for fact in event_facts(event)]


def _attachments(out: dict[str, Any], cat: Catalogue) -> list[str]:
    from app.domain.timeline import attachment_line

    files = out.get("attachments")
    if not files:
        return [cat.tr("附件：无")] if files is not None else []
    return [cat.tr("附件（{n}）：", n=len(files))] + [
        "  " + cat.text(attachment_line(a.kind, a.filename, a.taken_at, a.size)) for a in files]


def _text(out: dict[str, Any]) -> str:
    if "cases" in out:
        cat = Catalogue.from_env()
        lines = [f"{c['number']}  {c['state_label']:<6} {c['category_name']}  {c.get('department_name') or '-'}  "
                 f"{c.get('grid_code') or '-'}" + _urge_mark(c, cat) for c in out["cases"]]
        if "total" in out:  # find: how many, then the page
            more = "以上" if out["more_than_total"] else ""
            shown = f"，显示第 {out['offset'] + 1}–{out['offset'] + len(lines)} 件" if lines else ""
            lines.insert(0, f"共找到 {out['total']} 件{more}{shown}")
        return "\n".join(lines) if len(lines) > ("total" in out) else (lines[0] if lines else "（没有案卷）")
    c = out["case"]
    head = f"案卷 {c['number']}「{c['category_name']}」状态：{c['state_label']}（第 {c['version']} 版）"
    if "action_label" in out:
        head = f"已{out['action_label']}：" + head
    lines = [head, f"位置：{c.get('street_name') or ''} {c.get('community_name') or ''} "
                   f"网格 {c.get('grid_code') or '-'}（x={c['x']:.1f}, y={c['y']:.1f}）"]
    if c.get("department_name"):
        lines.append(f"责任部门：{c['department_name']}")
    lines.append(f"计时：{out['timer']['explanation']}")
    cat = Catalogue.from_env()  # $GRIDHALL_LANG as it is now
    urged = urge_text(c.get("urge_level") or 0, c.get("urge_deadline_at"))
    if urged is not None:
        lines.append(cat.tr("督办：{urge}", urge=urged))
    details = out.get("details") or {}
    if details.get("filing_standard"):
        lines.append(f"立案标准：{details['filing_standard']}")
    lines += [f"回复举报人：{t}" for t in details.get("replies", [])]
    for dup in details.get("duplicates", []):
        lines.append(f"疑似重复：{dup.case.number}（{'，'.join(dup.reasons)}）")
    lines += [f"注意：{w}" for w in out.get("warnings", [])]
    for s in out.get("suggestions", []) if c["state"] == "filed" else []:
        lines.append(f"派遣建议 {s.rank}：{s.name}（{s.code}）— {'；'.join(s.reasons)}")
    lines += _attachments(out, cat)
    for e in out.get("events", []):
        step = cat.tr("{actor}（{role}）{action} → {state}", actor=e.actor, role=cat.label_of(Role, e.role),
                      action=cat.label_of(Action, e.action), state=cat.label_of(CaseState, e.to_state))
        if e.reason:
            step = cat.tr("{line}：{reason}", line=step, reason=e.reason)
        lines.append(f"  {e.seq:>3} {e.at:%Y-%m-%d %H:%M} {step}")
        lines += _facts(e, cat)  # every fact of the event: department, minutes, results, texts, …
    return "\n".join(lines)


__all__ = ["add_case_commands", "plugin_commands_wanted", "run_case", "with_plugin_commands"]
