"""`gridhall task list|position|suggest|assign`: supervisors' verify and check tasks (issue 11, item 4).

* ``task list [--supervisor NAME] [--overdue]``: the tasks (cases in 核实中/核查中 whose latest
  派发核实/派发核查 names the supervisor) with their light and time left; a supervisor sees only
  its own, the desk roles every supervisor's.
* ``task position --at X,Y [--off-duty]``: a supervisor's handheld reports where it is and
  whether the supervisor is on duty (without ``--at``: the last point is kept).
* ``task suggest CASE``: the supervisors suggested for the case (the grid's, then the nearest on duty).
* ``task assign GRID [SUPERVISOR]``: the administrator assigns a unit grid (no name: nobody).

Logging in works as ``gridhall case``: ``--as USER``, the password from ``GRIDHALL_PASSWORD``
or a prompt; on PostGIS the user's own database login. A refusal exits 1 with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK, EXIT_FAIL = 0, 1


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", default=None, help="SpatiaLite file or postgresql:// URL (default: $GRIDHALL_DB)")
    p.add_argument("--as", dest="user", required=True, metavar="USER", help="username to act as")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    return p


def add_task_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``task`` and its subcommands to the top-level subparsers."""
    from app.cli.case import _pair

    common = _common()
    task = subparsers.add_parser("task", help="supervisors' verify/check tasks, positions and suggestions")
    sub = task.add_subparsers(dest="task_command", required=True)
    ls = sub.add_parser("list", parents=[common],
                        help="verify/check tasks with light and time left (a supervisor: only its own); "
                             'json: {"tasks": [{"case", "number", "state", "stage", "supervisor", "sent_at", '
                             '"sent_by", "light", "remaining_minutes", "deadline", "overdue", …}]}')
    ls.add_argument("--supervisor", metavar="NAME", default=None, help="only this supervisor's tasks")
    ls.add_argument("--overdue", action="store_true", help="only tasks whose timer is red")
    pos = sub.add_parser("position", parents=[common], help="report a supervisor's position and duty")
    pos.add_argument("--at", type=_pair, default=None, metavar="X,Y",
                     help="position in the store's CRS (EPSG:4549); without it the last point is kept")
    pos.add_argument("--off-duty", action="store_true", help="the supervisor goes off duty (default: on duty)")
    sg = sub.add_parser("suggest", parents=[common], help="supervisors suggested for a case's verify/check task")
    sg.add_argument("case", help="case number or id")
    asg = sub.add_parser("assign", parents=[common], help="assign a unit grid to a supervisor (administrator)")
    asg.add_argument("grid", help="15-digit unit grid code")
    asg.add_argument("supervisor", nargs="?", default=None, help="username (none: the grid has no supervisor)")
    return task


def run_task(args: argparse.Namespace, *, clock: Any = None) -> int:
    """Run one ``gridhall task`` subcommand; returns the exit code (1 with the reason on stderr)."""
    from app.cli.case import _login_as, _password
    from app.cli.user import PasswordUnavailable
    from app.config import default_db_url
    from app.core import build_core
    from app.domain.clock import SystemClock
    from app.i18n import Catalogue
    from app.services.auth import AuthError, login
    from app.services.errors import ServiceError
    from app.store.engine import open_store, parse_url
    from app.store.errors import StoreError, database_error

    clock = clock or SystemClock()
    store = None
    cat = Catalogue.from_env()
    try:
        url = args.db or default_db_url()
        if parse_url(url)[1] is None:  # PostGIS: the user's own login
            store, actor = _login_as(url, args.user, clock)
        else:
            store = open_store(url)
            actor = login(store, args.user, _password(args.user), clock=clock)
        core = build_core(store, clock)
        out = _dispatch(core, actor, args)
    except (ServiceError, AuthError, StoreError, PasswordUnavailable) as exc:
        print(f"gridhall: {cat.error(exc)}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:  # a driver's refusal: one line, not a traceback
        refused = database_error(exc)
        if refused is None:
            raise
        print(f"gridhall: {cat.error(refused)}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if store is not None:
            store.dispose()
    if args.format == "json":
        print(json.dumps(_plain(out, cat), ensure_ascii=False, indent=2))
    else:
        print(_text(out, cat))
    return EXIT_OK


def _dispatch(core: Any, actor: Any, args: argparse.Namespace) -> dict[str, Any]:
    from app.services.supervisors import SupervisorService

    service = SupervisorService(core.store, core.clock, core.calendar)
    cmd = args.task_command
    if cmd == "list":
        tasks = service.tasks(actor, supervisor=args.supervisor, overdue=args.overdue)
        return {"tasks": [_task(t) for t in tasks]}
    if cmd == "position":
        x, y = args.at if args.at is not None else (None, None)
        p = service.report_position(actor, x, y, not args.off_duty)
        return {"position": {"username": p.username, "on_duty": p.on_duty, "at": p.at, "x": p.x, "y": p.y}}
    if cmd == "suggest":
        case = core.cases.get(args.case)
        return {"case": case.number, "suggestions": [
            {"rank": s.rank, "username": s.username, "display_name": s.display_name, "assigned": s.assigned,
             "on_duty": s.on_duty, "distance_m": s.distance_m, "reasons": list(s.reasons)}
            for s in service.suggest_supervisors(case.id)]}
    assigned = service.assign(actor, args.grid, args.supervisor)
    return {"grid": args.grid.strip(), "supervisor": assigned}


def _task(t: Any) -> dict[str, Any]:
    c = t.case
    return {"case": c.id, "number": c.number, "state": c.state.value, "state_label": c.state.label,
            "stage": t.stage.value, "stage_label": t.stage.label, "category_name": c.category_name,
            "grid_code": c.grid_code, "address": c.address, "supervisor": t.supervisor, "sent_at": t.sent_at,
            "sent_by": t.sent_by, "note": t.note, "light": t.light.value, "light_label": t.light.label,
            "remaining_minutes": round(t.remaining_minutes, 1), "deadline": t.deadline, "overdue": t.overdue,
            "basis": c.timer.basis.value if c.timer is not None else None}


def _plain(value: Any, cat: Any) -> Any:
    """JSON-ready: datetimes as ISO text, messages in the catalogue's language."""
    from datetime import datetime

    from app.domain.messages import Msg

    if isinstance(value, dict):
        return {k: _plain(v, cat) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, cat) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Msg):
        return cat.text(value)
    return value


def _text(out: dict[str, Any], cat: Any) -> str:
    from app.domain.deadlines import format_remaining
    from app.domain.definitions import Basis

    tr = cat.tr
    if "tasks" in out:
        if not out["tasks"]:
            return tr("（没有任务）")
        lines = [tr("共 {count} 件任务", count=len(out["tasks"]))]
        for t in out["tasks"]:
            left = format_remaining(t["remaining_minutes"], Basis(t["basis"] or "natural"))
            due = t["deadline"].strftime("%m-%d %H:%M") if t["deadline"] else "-"
            lines.append(tr("{number}  {stage}  {light}  剩余 {left}  截止 {due}  监督员 {who}  {category}  网格 {grid}",
                            number=t["number"], stage=tr(t["stage_label"]), light=tr(t["light_label"]), left=left,
                            due=due, who=t["supervisor"] or tr("（未指定）"), category=t["category_name"],
                            grid=t["grid_code"] or "-"))
        return "\n".join(lines)
    if "position" in out:
        p = out["position"]
        duty = tr("在岗") if p["on_duty"] else tr("不在岗")
        where = f"{p['x']:.1f},{p['y']:.1f}" if p["x"] is not None else "-"
        return tr("{username}：{duty}，位置 {where}（{time}）", username=p["username"], duty=duty, where=where,
                  time=p["at"].strftime("%Y-%m-%d %H:%M:%S"))
    if "suggestions" in out:
        if not out["suggestions"]:
            return tr("案卷 {number}：没有可建议的监督员", number=out["case"])
        lines = [tr("案卷 {number} 的监督员建议：", number=out["case"])]
        for s in out["suggestions"]:
            reasons = tr("；").join(cat.text(r) for r in s["reasons"])
            lines.append(f"{s['rank']}. {s['display_name']}（{s['username']}）：{reasons}")
        return "\n".join(lines)
    who = out["supervisor"] or tr("（无）")
    return tr("网格 {grid} 的责任监督员：{who}", grid=out["grid"], who=who)


__all__ = ["add_task_commands", "run_task"]
