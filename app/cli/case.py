"""`gridhall case …`: every step of the closed loop from scripts, through the same services as the GUI.

The password comes from ``GRIDHALL_PASSWORD`` or a prompt. Without ``--expect-version`` the
command acts on the version it reads just before acting: the compare-and-set still refuses a
change made between that read and the write, but not one made before the read.
A refused action exits 1 with the reason on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
from datetime import date, datetime
from enum import Enum
from typing import Any

from app.domain.definitions import Action, CaseState, Role

EXIT_OK, EXIT_FAIL = 0, 1
REQUEST_TYPES = ("return", "extension", "defer", "shelve", "void")


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
    return p


def _on_case(sub, name: str, help_text: str, common) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text, parents=[common])
    p.add_argument("case", help="case number (e.g. S20260302-0001) or id")
    p.add_argument("--expect-version", type=int, default=None, metavar="N",
                   help="refuse unless the case is still at version N (default: the version read just before)")
    return p


def add_case_commands(subparsers) -> argparse.ArgumentParser:
    """Add the ``case`` command (and its subcommands) to the top-level subparsers."""
    common = _common()
    case = subparsers.add_parser("case", help="work on cases: report, dispatch, close, …")
    sub = case.add_subparsers(dest="case_command", required=True)

    r = sub.add_parser("report", help="上报 a new case", parents=[common])
    where = r.add_mutually_exclusive_group()
    where.add_argument("--at", type=_pair, metavar="X,Y", help="point in the store CRS (EPSG:4549)")
    where.add_argument("--lonlat", type=_pair, metavar="LON,LAT", help="CGCS2000/WGS84 longitude,latitude")
    where.add_argument("--component", metavar="CODE", help="17-digit (or legacy 16-digit) component id")
    r.add_argument("--address", metavar="TEXT", help="address; locates the case when no point is given")
    r.add_argument("--category", required=True, metavar="KIND:CODE", help="e.g. event:06010 or 06010")
    r.add_argument("--level", default="general", help="general|urgent|engineering (一般/紧急/工程)")
    r.add_argument("--source", default=None, help="supervisor|hotline|public|media|video|police|leader|department")
    r.add_argument("--description", default="", help="what is wrong")
    r.add_argument("--photo", action="append", default=[], metavar="FILE", help="photo (repeatable)")
    r.add_argument("--reporter", default=None, help="reporter's name")
    r.add_argument("--phone", default=None, help="reporter's phone")

    v = _on_case(sub, "verify", "派发核实 (--send) or 核实回复 (--result)", common)
    v.add_argument("--send", action="store_true", help="send the verify task (受理员)")
    v.add_argument("--result", default=None, help="the supervisor's finding")
    v.add_argument("--not-confirmed", action="store_true", help="the report was not confirmed on site")
    v.add_argument("--photo", action="append", default=[], metavar="FILE")
    f = _on_case(sub, "file", "立案", common)
    f.add_argument("--level", default=None)
    f.add_argument("--note", default=None)
    j = _on_case(sub, "reject", "不予立案 (or --duplicate-of: 关联重复)", common)
    j.add_argument("--reason", default=None)
    j.add_argument("--duplicate-of", default=None, metavar="CASE", help="link to this existing case instead")
    d = _on_case(sub, "dispatch", "派遣", common)
    d.add_argument("--department", required=True, help="department code, name or id")
    d.add_argument("--level", default=None)
    d.add_argument("--reason", default=None, help="required outside the suggestions")
    _on_case(sub, "accept", "接收", common)
    fb = _on_case(sub, "feedback", "处置反馈", common)
    fb.add_argument("--text", required=True)
    fb.add_argument("--photo", action="append", default=[], metavar="FILE", help="处置后照片 (repeatable)")
    fb.add_argument("--before", action="append", default=[], metavar="FILE", help="处置前照片 (repeatable)")
    q = _on_case(sub, "request", "申请回退/延期/缓办/挂账/作废", common)
    q.add_argument("--type", dest="request_type", required=True, choices=REQUEST_TYPES)
    q.add_argument("--reason", required=True)
    q.add_argument("--minutes", type=int, default=None, help="延期 length in basis minutes")
    a = _on_case(sub, "approve", "批准 the pending request", common)
    a.add_argument("--minutes", type=int, default=None, help="延期 granted (default: as requested)")
    a.add_argument("--note", default=None)
    _on_case(sub, "refuse", "不批准 the pending request", common).add_argument("--reason", required=True)
    c = _on_case(sub, "check", "派发核查 (--send) or 核查回复 (--outcome)", common)
    c.add_argument("--send", action="store_true")
    c.add_argument("--outcome", choices=("passed", "failed"), default=None)
    c.add_argument("--reason", default=None)
    c.add_argument("--photo", action="append", default=[], metavar="FILE")
    _on_case(sub, "close", "结案", common).add_argument("--note", default=None)
    _on_case(sub, "rework", "返工", common).add_argument("--reason", required=True)
    _on_case(sub, "void", "作废", common).add_argument("--reason", required=True)
    _on_case(sub, "urge", "督办", common).add_argument("--note", default=None)
    _on_case(sub, "restore", "恢复 a 缓办/挂账 case", common).add_argument("--note", default=None)
    lk = _on_case(sub, "link", "关联重复", common)
    lk.add_argument("--to", required=True, metavar="CASE")
    lk.add_argument("--reason", default=None)
    _on_case(sub, "reply", "回复举报人", common).add_argument("--text", required=True)
    sub.add_parser("show", help="show a case with its timeline", parents=[common]).add_argument("case")
    ls = sub.add_parser("list", help="list open cases", parents=[common])
    ls.add_argument("--state", action="append", default=None, help="only these states (repeatable)")
    ls.add_argument("--limit", type=int, default=50)
    return case


# --- running ------------------------------------------------------------------------------

def _password(user: str) -> str:
    env = os.environ.get("GRIDHALL_PASSWORD")
    if env is not None:
        return env
    return getpass.getpass(f"{user} 的密码：")


def run_case(args: argparse.Namespace, *, clock=None) -> int:
    """Run one ``gridhall case`` subcommand; returns the exit code (1 with the reason on stderr)."""
    from app.config import default_db_url
    from app.core import build_core
    from app.domain.clock import SystemClock
    from app.services.auth import AuthError, login
    from app.services.errors import ServiceError
    from app.store.engine import open_store
    from app.store.errors import StoreError

    clock = clock or SystemClock()
    store = None
    try:
        store = open_store(args.db or default_db_url())
        actor = login(store, args.user, _password(args.user), clock=clock)
        svc = build_core(store, clock).cases
        out = _dispatch(svc, actor, args)
    except (ServiceError, AuthError, StoreError) as exc:
        print(f"gridhall: {exc}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()
    print(json.dumps(out, ensure_ascii=False, indent=2, default=_json) if args.format == "json" else _text(out))
    return EXIT_OK


def _photos(paths, kind: str):
    from app.services.attachments import load_photo

    return [load_photo(p, kind) for p in paths or ()]


def _dispatch(svc, actor, args) -> dict[str, Any]:
    from app.domain.definitions import CaseState
    from app.services.errors import ValidationError
    from app.services.intake import ReportDraft
    from app.services.location import LocationInput

    cmd = args.case_command
    if cmd == "report":
        loc = LocationInput(x=args.at[0] if args.at else None, y=args.at[1] if args.at else None,
                            lon=args.lonlat[0] if args.lonlat else None, lat=args.lonlat[1] if args.lonlat else None,
                            component_code=args.component, address=args.address)
        draft = ReportDraft(category=args.category, description=args.description, location=loc, level=args.level,
                            source=args.source, reporter_name=args.reporter, reporter_phone=args.phone,
                            photos=tuple(_photos(args.photo, "report")))
        return _result(svc, svc.report(actor, draft))
    if cmd == "list":
        try:
            states = [CaseState.parse(s) for s in args.state] if args.state else None
        except ValueError as exc:
            raise ValidationError("state", str(exc)) from None
        return {"cases": [_case(c) for c in svc.list_cases(states=states, limit=args.limit)]}
    summary = svc.get(args.case)
    if cmd == "show":
        return _view(svc, summary, events=True)
    cid = summary.id
    ver = args.expect_version if args.expect_version is not None else summary.version
    call = {
        "verify": lambda: svc.send_verify(actor, cid, ver) if args.send else svc.verify(
            actor, cid, ver, result=args.result or "", confirmed=not args.not_confirmed,
            photos=_photos(args.photo, "other")),
        "file": lambda: svc.file(actor, cid, ver, level=args.level, note=args.note),
        "reject": lambda: svc.link(actor, cid, ver, original=args.duplicate_of, reason=args.reason)
        if args.duplicate_of else svc.reject(actor, cid, ver, reason=args.reason or ""),
        "dispatch": lambda: svc.dispatch(actor, cid, ver, department=args.department, level=args.level,
                                         reason=args.reason),
        "accept": lambda: svc.accept(actor, cid, ver),
        "feedback": lambda: svc.feedback(actor, cid, ver, text=args.text,
                                         photos=_photos(args.before, "before") + _photos(args.photo, "after")),
        "request": lambda: _request(svc, actor, cid, ver, args),
        "approve": lambda: svc.approve(actor, cid, ver, minutes=args.minutes, note=args.note),
        "refuse": lambda: svc.refuse(actor, cid, ver, reason=args.reason),
        "check": lambda: svc.send_check(actor, cid, ver) if args.send else svc.check(
            actor, cid, ver, outcome=args.outcome or "", reason=args.reason, photos=_photos(args.photo, "after")),
        "close": lambda: svc.close(actor, cid, ver, note=args.note),
        "rework": lambda: svc.rework(actor, cid, ver, reason=args.reason),
        "void": lambda: svc.void(actor, cid, ver, reason=args.reason),
        "urge": lambda: svc.urge(actor, cid, ver, note=args.note),
        "restore": lambda: svc.restore(actor, cid, ver, note=args.note),
        "link": lambda: svc.link(actor, cid, ver, original=args.to, reason=args.reason),
        "reply": lambda: svc.reply(actor, cid, ver, text=args.text),
    }[cmd]
    return _result(svc, call())


def _request(svc, actor, cid, ver, args):
    from app.services.errors import ValidationError

    kind = args.request_type
    if kind == "extension":
        if args.minutes is None:
            raise ValidationError("minutes", "申请延期需要 --minutes 给出延长的分钟数（1 个工作日 = 480 分钟）")
        return svc.request_extension(actor, cid, ver, minutes=args.minutes, reason=args.reason)
    if args.minutes is not None:
        raise ValidationError("minutes", f"只有延期申请需要 --minutes；申请「{kind}」不接受时长")
    return getattr(svc, f"request_{kind}")(actor, cid, ver, reason=args.reason)


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
    return view


def _result(svc, result) -> dict[str, Any]:
    view = _view(svc, result.case)
    details = {k: v for k, v in result.details.items() if k != "suggestions"}
    view.update({"action": result.action.value, "action_label": result.action.label, "version": result.version,
                 "warnings": list(result.warnings), "details": details})
    return view


def _label(enum, value: str) -> str:
    return enum(value).label if value in enum._value2member_map_ else value


def _text(out: dict[str, Any]) -> str:
    if "cases" in out:
        lines = [f"{c['number']}  {c['state_label']:<6} {c['category_name']}  {c.get('department_name') or '-'}  "
                 f"{c.get('grid_code') or '-'}" for c in out["cases"]]
        return "\n".join(lines) if lines else "（没有案卷）"
    c = out["case"]
    head = f"案卷 {c['number']}「{c['category_name']}」状态：{c['state_label']}（第 {c['version']} 版）"
    if "action_label" in out:
        head = f"已{out['action_label']}：" + head
    lines = [head, f"位置：{c.get('street_name') or ''} {c.get('community_name') or ''} "
                   f"网格 {c.get('grid_code') or '-'}（x={c['x']:.1f}, y={c['y']:.1f}）"]
    if c.get("department_name"):
        lines.append(f"责任部门：{c['department_name']}")
    lines.append(f"计时：{out['timer']['explanation']}")
    details = out.get("details") or {}
    if details.get("filing_standard"):
        lines.append(f"立案标准：{details['filing_standard']}")
    lines += [f"回复举报人：{t}" for t in details.get("replies", [])]
    for dup in details.get("duplicates", []):
        lines.append(f"疑似重复：{dup.case.number}（{'，'.join(dup.reasons)}）")
    lines += [f"注意：{w}" for w in out.get("warnings", [])]
    for s in out.get("suggestions", []) if c["state"] == "filed" else []:
        lines.append(f"派遣建议 {s.rank}：{s.name}（{s.code}）— {'；'.join(s.reasons)}")
    for e in out.get("events", []):
        why = f"：{e.reason}" if e.reason else ""
        lines.append(f"  {e.seq:>3} {e.at:%Y-%m-%d %H:%M} {e.actor}（{_label(Role, e.role)}）"
                     f"{_label(Action, e.action)} → {_label(CaseState, e.to_state)}{why}")
    return "\n".join(lines)


__all__ = ["add_case_commands", "run_case"]
