"""`gridhall user add|passwd|disable|enable|unlock|list`: manage accounts from the command line.

Passwords come from ``$GRIDHALL_PASSWORD`` or a hidden prompt, never from the command line
(where the shell history and ``ps`` would show them). Heavy imports wait until a command runs.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from app.domain.messages import Msg

PASSWORD_ENV = "GRIDHALL_PASSWORD"
EXIT_OK, EXIT_FAIL = 0, 1


class PasswordUnavailable(Exception):
    """No password in the environment and no terminal to ask on."""


def read_password(*, confirm: bool = False, prompt: str = "密码：") -> str:
    """The password from $GRIDHALL_PASSWORD, else a hidden prompt (twice with ``confirm``)."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:  # an empty GRIDHALL_PASSWORD is no password (it would cost a login attempt)
        return from_env
    if not sys.stdin.isatty():
        raise PasswordUnavailable(Msg("没有可用的密码：请设置环境变量 {variable}，或在交互终端中运行以便输入密码", variable=PASSWORD_ENV))
    try:
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("再次输入密码：") != first:
            raise PasswordUnavailable(Msg("两次输入的密码不一致，未做任何修改"))
    except (EOFError, KeyboardInterrupt):
        raise PasswordUnavailable(Msg("已取消输入密码，未做任何修改")) from None
    return first


def add_user_commands(subparsers) -> argparse.ArgumentParser:
    """Add the ``user`` command and its subcommands to ``subparsers``; returns the ``user`` parser."""
    user = subparsers.add_parser("user", help="manage user accounts and roles")
    sub = user.add_subparsers(dest="user_command", required=True)

    def command(name: str, text: str, *, named: bool = True) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=text)
        if named:
            c.add_argument("name", metavar="NAME", help="username (a-z 0-9 _ . -)")
        c.add_argument("--db", required=True, help="SpatiaLite file or postgresql:// URL")
        return c

    add = command("add", f"create an account (password from ${PASSWORD_ENV} or a prompt)")
    add.add_argument("--role", required=True,
                     help="role: value, English name or Chinese label (e.g. dispatcher, 派遣员)")
    add.add_argument("--department", metavar="CODE", help="department code (required for role department)")
    add.add_argument("--display-name", metavar="TEXT", help="full name shown in the client (default: NAME)")
    add.add_argument("--phone", help="contact phone number")
    command("passwd", f"set a new password (from ${PASSWORD_ENV} or a prompt); also unlocks")
    command("disable", "stop an account from logging in")
    command("enable", "let a disabled account log in again")
    command("unlock", "lift the lock after repeated wrong passwords")
    put = command("set", "change an account's role and/or department (recorded in the configuration history)")
    put.add_argument("--role", help="the new role: value, English name or Chinese label")
    put.add_argument("--department", metavar="CODE", help="the new department code ('' clears it)")
    put.add_argument("--reason", metavar="TEXT", help="why (required; recorded)")
    for name, text in (("retire", "retire an account (停用, on the record; never deleted)"),
                       ("reactivate", "let a retired account log in again (on the record)")):
        command(name, text).add_argument("--reason", metavar="TEXT", help="why (required; recorded)")
    command("history", "the account's changes on the configuration record")
    ls = command("list", "list accounts", named=False)
    ls.add_argument("--format", choices=("text", "json"), default="text",
                    help='output format (default text); json: a list of {"id", "username", "display_name", '
                         '"role" (value), "role_label", "department_code", "department_name", "active", "locked", '
                         '"failed_attempts", "has_password", "phone", "created_at" (ISO 8601 or null), "status"} '
                         '(never a password hash)')
    return user


def run_user(args: argparse.Namespace) -> int:
    """Run a parsed ``user`` subcommand; prints one clear line on stderr and returns 1 on failure."""
    from app.services.auth import AuthError
    from app.services.users import UserError
    from app.store.errors import StoreError

    try:
        return _run(args)
    except (UserError, AuthError, StoreError, PasswordUnavailable) as exc:
        from app.i18n import Catalogue
        print(f"gridhall: {Catalogue.from_env().error(exc)}", file=sys.stderr)
        return EXIT_FAIL


def _run(args: argparse.Namespace) -> int:
    from app.services import users
    from app.store.engine import open_store

    cmd = args.user_command
    if cmd == "add":  # validate what we can before asking for a password
        users.check_username(args.name)
        role = users.parse_role(args.role)
    password = read_password(confirm=True, prompt=f"用户 {args.name} 的新密码：") if cmd in ("add", "passwd") else None
    store = open_store(args.db)
    try:
        if cmd == "add":
            info = users.add_user(store, args.name, role, display_name=args.display_name, password=password,
                                  department_code=args.department, phone=args.phone)
            dept = f"，部门 {info.department_name}（{info.department_code}）" if info.department_code else ""
            print(f"已创建用户 {info.username}（{info.display_name}，{info.role.label}{dept}）")
        elif cmd == "passwd":
            users.set_password(store, args.name, password)
            print(f"已为用户 {args.name} 设置新密码（失败计数已清零，锁定已解除）")
        elif cmd == "disable":
            users.disable_user(store, args.name)
            print(f"已停用用户 {args.name}")
        elif cmd == "enable":
            users.enable_user(store, args.name)
            print(f"已启用用户 {args.name}")
        elif cmd == "unlock":
            users.unlock_user(store, args.name)
            print(f"已解锁用户 {args.name}")
        elif cmd == "set":
            if args.role is None and args.department is None:
                raise users.UserError(Msg("请给出 --role 或 --department（或两者）"))
            info = users.change_user(store, args.name, role=args.role, department_code=args.department,
                                     reason=args.reason)
            dept = f"，部门 {info.department_name}（{info.department_code}）" if info.department_code else ""
            print(f"已修改用户 {info.username}：{info.role.label}{dept}")
        elif cmd in ("retire", "reactivate"):
            fn = users.retire_user if cmd == "retire" else users.reactivate_user
            info = fn(store, args.name, reason=args.reason)
            print(f"已{'停用' if cmd == 'retire' else '重新启用'}用户 {info.username}")
        elif cmd == "history":
            for h in users.user_history(store, args.name):
                before, after = json.loads(h["before"] or "null") or {}, json.loads(h["after"] or "null") or {}
                diffs = "；".join(f"{k}: {before.get(k)} → {after.get(k)}" for k in sorted(after)
                                 if before.get(k) != after.get(k))
                print(f"#{h['seq']} {h['at']:%Y-%m-%d %H:%M:%S} {h['actor']}：{diffs}（{h['reason']}）")
        elif cmd == "list":
            _print_list(users.list_users(store), args.format)
        else:  # argparse's required subcommand makes this unreachable from the command line
            raise users.UserError(Msg("未知的 user 子命令：{cmd}", cmd=cmd))
    finally:
        store.dispose()
    return EXIT_OK


def _print_list(infos, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([i.to_dict() for i in infos], ensure_ascii=False, indent=2))
        return
    if not infos:
        print("（还没有用户；用 gridhall user add 添加）")
        return
    rows = [("用户名", "姓名", "角色", "部门", "状态")]
    rows += [(i.username, i.display_name, i.role.label, i.department_name or "-", i.status) for i in infos]
    widths = [max(_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True)).rstrip())


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


__all__ = ["PASSWORD_ENV", "PasswordUnavailable", "add_user_commands", "read_password", "run_user"]
