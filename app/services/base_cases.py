"""Historical cases in and out (issue 15): the case export with every timing field, narrowed as the queue
or the archive search narrows, and the import of an old platform's closed cases INTO THE HISTORY.

Export
  ``export_rows(store, filters)``: one row per case (``app.domain.field_names.CASE_FIELDS``): number, kind,
  category, level, state, source, grid, component, address, description, department, and every time the
  case row keeps — reported, filed, dispatched, fed back, closed, the handling deadline, the running
  stage with its basis, limit, start, pause and extension, the current deadline, urges and reworks.
  ``filters``: ``query`` (the archive search's language, ``app.services.search``), ``states`` (the queue's
  state filter), ``ids`` (the rows a view shows), ``department_id`` (a department sees its own).

Import
  A historical case never becomes a case row written behind the history's back: each one is a report event
  and the events that reproduce its recorded times — 上报 at the report time, 立案 at the filing time,
  派遣 (with the handling limit and its deadline, as ``CaseService.dispatch`` records them) and 接收 at the
  dispatch time, 处置反馈 at the feedback time, 核查 and 结案 at the closing time (the close carries the
  importing administrator's override of the photo rule, since an old platform's photos are not imported) —
  or 不予立案 for a case that was not filed. Each event's payload is self-sufficient (the report's facts as
  codes; the department's code and name; the limit and deadline), and every event names the importing
  administrator and the file (``imported_from``). The case row's loop columns are those the events derive,
  written in the same transaction through the owner's import path (``app.store.audit.bulk_append``).
  Open cases are not imported: they are entered at the desk, where their timers run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from app.domain import base_rows
from app.domain.base_rows import Row
from app.domain.definitions import STORE_SRID, CaseState, Kind, Level, Source
from app.domain.field_names import CASES
from app.domain.messages import Msg, msg_of

#: the case columns exported, in order (their file names: ``field_names.CASE_FIELDS``).
EXPORT_KEYS = ["number", "kind", "category_code", "category_name", "level", "state", "source", "grid_code",
               "component_code", "address", "description", "department_code", "department_name", "reported_at",
               "filed_at", "dispatched_at", "fed_back_at", "closed_at", "handle_deadline_at", "stage",
               "timer_basis", "limit_minutes", "timer_started_at", "paused_since", "paused_minutes",
               "extension_minutes", "deadline_at", "urge_count", "urge_level", "urge_deadline_at", "rework_count"]
TIMES = ("reported_at", "filed_at", "dispatched_at", "fed_back_at", "closed_at", "handle_deadline_at",
         "timer_started_at", "paused_since", "deadline_at", "urge_deadline_at")
#: states a historical case may be imported in.
IMPORTABLE = (CaseState.CLOSED, CaseState.NOT_FILED)
CLOSE_REASON = "历史案卷导入：原平台的照片未导入"


def _ts(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


# -- export ---------------------------------------------------------------------------------------


def case_ids(store: Any, query: str, department_id: int | None = None) -> list[int]:
    """Every case the archive search's ``query`` finds (all pages)."""
    from app.services.base_import import ImportRefused
    from app.services.search import MAX_PAGE, CaseSearch, SearchError

    search = CaseSearch(store)
    ids: list[int] = []
    offset = 0
    while True:
        try:
            page = search.find(query, department_id=department_id, limit=MAX_PAGE, offset=offset)
        except SearchError as exc:
            raise ImportRefused(exc.msg) from None
        ids += [r.id for r in page.rows]
        if len(page.rows) < MAX_PAGE:
            return ids
        offset += MAX_PAGE


def export_rows(store: Any, filters: dict[str, Any]) -> tuple[list[str], list[tuple[dict[str, Any], Any]]]:
    """(keys, [(values, point WKB)]) of the cases ``filters`` select (see the module's docstring)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import aliased

    from app.services.base_import import ImportRefused
    from app.store.models import Case, Category, Component, Department, UnitGrid

    states: list[str] = []
    for text in filters.get("states") or ():
        try:
            states.append(CaseState.parse(str(text).strip()).value)
        except ValueError:
            raise ImportRefused(Msg("案卷状态「{state}」无效：应为 {choices}", state=str(text)[:20],
                                    choices="、".join(s.label for s in CaseState))) from None
    dept_scope = filters.get("department_id")
    ids: list[int] | None = None
    if filters.get("query"):
        ids = case_ids(store, filters["query"], dept_scope)
    if filters.get("ids") is not None:
        wanted = [int(i) for i in filters["ids"]]
        ids = wanted if ids is None else sorted(set(ids) & set(wanted))
    d = aliased(Department)
    q = (select(Case.number, Case.kind, Category.code, Category.name, Case.level, Case.state, Case.source,
                UnitGrid.code, Component.code, Case.address, Case.description, d.code, d.name,
                *[getattr(Case, k) for k in EXPORT_KEYS[13:]], func.ST_AsBinary(Case.geom))
         .join(Category, Category.id == Case.category_id)
         .outerjoin(UnitGrid, UnitGrid.id == Case.grid_id)
         .outerjoin(Component, Component.id == Case.component_id)
         .outerjoin(d, d.id == Case.department_id).order_by(Case.id))
    if states:
        q = q.where(Case.state.in_(states))
    if dept_scope is not None:
        q = q.where(Case.department_id == dept_scope)
    labels = {**{s.value: s.label for s in CaseState}}
    out: list[tuple[dict[str, Any], Any]] = []
    with store.session() as s:
        chunks: list[Sequence[int] | None] = [None] if ids is None else [
            ids[i:i + 5000] for i in range(0, len(ids), 5000)]
        for chunk in chunks:
            part = q if chunk is None else q.where(Case.id.in_(chunk))
            for r in s.execute(part):
                v = dict(zip(EXPORT_KEYS, r[:-1], strict=True))
                v["kind"] = Kind(v["kind"]).label
                v["level"] = Level(v["level"]).label
                v["state"] = labels[v["state"]]
                v["source"] = Source(v["source"]).label
                for k in TIMES:
                    v[k] = _ts(v[k])
                out.append((v, r[-1]))
    return EXPORT_KEYS, out


# -- import ---------------------------------------------------------------------------------------


def case_row(number: int, values: dict[str, Any], taxonomy: Any, today: date) -> Row:
    """The pure checks of a historical case: state, source, level, category, times in order."""
    from app.domain.text import TextRefused, clean_text

    row = Row(number)
    v = row.values
    try:  # the case number the old platform gave (cases.number, VARCHAR(32)): the input policy's code rules
        v["number"] = clean_text("case", base_rows.text(values.get("number")))
    except TextRefused as exc:
        v["number"] = None
        row.problems.append(msg_of(exc))
    for key, enum, default in (("state", CaseState, CaseState.CLOSED), ("source", Source, Source.SUPERVISOR),
                               ("level", Level, Level.GENERAL)):
        raw = base_rows.text(values.get(key))
        try:
            v[key] = enum.parse(raw) if raw is not None else default
        except ValueError:
            row.problems.append(Msg("{what}「{value}」无效：应为 {choices}", what=_LABELS[key], value=raw[:20] if raw else "",
                                    choices="、".join(m.label for m in enum)))
    if "state" in v and v["state"] not in IMPORTABLE:
        row.problems.append(Msg("只导入已结案或不予立案的历史案卷（此条为「{state}」）：未办结的案卷请在受理台登记",
                                state=v["state"].label))
    code = base_rows.text(values.get("category_code"))
    kind_text = base_rows.text(values.get("kind"))
    kind = None
    if kind_text is not None:
        try:
            kind = Kind.parse(kind_text)
        except ValueError:
            row.problems.append(Msg("案卷类型「{value}」无效：应为 部件 或 事件", value=kind_text[:20]))
    if code is None:
        row.problems.append(Msg("类别代码为空"))
    else:
        found = [k for k in (Kind.COMPONENT, Kind.EVENT) if (kind is None or k is kind)
                 and taxonomy.find(k, code) is not None]
        if not found:
            row.problems.append(Msg("类别 {code} 不在分类中", code=code[:20]))
        else:
            v["kind"] = found[0]
    v["category_code"] = code
    times: dict[str, datetime | None] = {}
    for key in ("reported_at", "filed_at", "dispatched_at", "fed_back_at", "closed_at"):
        raw = values.get(key)
        times[key] = None
        if base_rows.text(raw) is None:
            continue
        try:
            times[key] = _parse_time(raw)
        except ValueError:
            row.problems.append(Msg("{what}「{value}」不是时间：应为 YYYY-MM-DD HH:MM:SS", what=_LABELS[key],
                                    value=str(raw)[:30]))
    v.update(times)
    if times["reported_at"] is None and not any(m for m in row.problems if "上报时间" in str(m)):
        row.problems.append(Msg("上报时间为空"))
    order = [k for k in ("reported_at", "filed_at", "dispatched_at", "fed_back_at", "closed_at") if times[k]]
    for a, b in zip(order, order[1:], strict=False):
        if times[b] < times[a]:  # type: ignore[operator]
            row.problems.append(Msg("{later}{t2} 早于{earlier}{t1}", later=_LABELS[b], t2=_ts(times[b]),
                                    earlier=_LABELS[a], t1=_ts(times[a])))
    if order and times[order[-1]].date() > today:  # type: ignore[union-attr]
        row.problems.append(Msg("{what} {at} 晚于今天", what=_LABELS[order[-1]], at=_ts(times[order[-1]])))
    if order and times[order[0]].date() < base_rows.EARLIEST:  # type: ignore[union-attr]
        row.problems.append(Msg("{what} {at} 不合理：应在 {first} 之后", what=_LABELS[order[0]],
                                at=_ts(times[order[0]]), first=base_rows.EARLIEST.isoformat()))
    if v.get("state") is CaseState.CLOSED:
        missing = [k for k in ("filed_at", "dispatched_at", "fed_back_at", "closed_at") if times[k] is None]
        if missing:
            row.problems.append(Msg("已结案的案卷缺少{what}", what="、".join(str(_LABELS[k]) for k in missing)))
    elif v.get("state") is CaseState.NOT_FILED and any(times[k] for k in ("filed_at", "dispatched_at", "closed_at")):
        row.problems.append(Msg("不予立案的案卷不应有立案、派遣或结案时间"))
    refused = set()
    for key in ("description", "address"):
        try:
            v[key] = clean_text(key, base_rows.text(values.get(key)))
        except TextRefused as exc:
            v[key] = None
            refused.add(key)
            row.problems.append(msg_of(exc))
    if v["description"] is None and "description" not in refused:
        row.problems.append(Msg("问题描述为空"))
    for key in ("grid_code", "component_code", "department_code"):
        v[key] = base_rows.text(values.get(key))
    if v.get("state") is CaseState.CLOSED and v["department_code"] is None:
        row.problems.append(Msg("已结案的案卷缺少处置部门代码"))
    for key in ("urge_count", "rework_count"):
        raw = base_rows.text(values.get(key))
        v[key] = int(float(raw)) if raw and raw.replace(".", "", 1).isdigit() else 0
    return row


_LABELS: dict[str, Msg] = {
    "state": Msg("案卷状态"), "source": Msg("案卷来源"), "level": Msg("案卷等级"), "reported_at": Msg("上报时间"),
    "filed_at": Msg("立案时间"), "dispatched_at": Msg("派遣时间"), "fed_back_at": Msg("处置反馈时间"),
    "closed_at": Msg("结案时间"),
}


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(text)


def import_file(store: Any, path: str | os.PathLike, *, on_error: str = "abort", dry_run: bool = False,
                rejects: str | os.PathLike | None = None, actor: Any = None,
                progress: Callable[[int, int], None] | None = None, tr: Callable[[Any], str] = str,
                **read_options: Any) -> Any:
    """Read, validate and (unless ``dry_run``, or ``abort`` with anything wrong) append the cases' events."""
    from app.services import base_import as bi

    source = bi.read_source(path, CASES, **read_options)
    report = validate(store, source)
    if dry_run or (not report.ok and on_error == "abort"):
        return report
    if on_error == "skip":
        bi.write_rejects(report, rejects, tr)
    with bi.discard_rejects_on_failure(report):
        write(store, report, actor, progress=progress)
    return report


def validate(store: Any, source: Any) -> Any:
    """The store's checks: number free, grid, component, department known; the point in the district."""
    from app.services.base_import import Report, quiet_gc

    with quiet_gc():
        return _validate(store, Report(source))


def _validate(store: Any, report: Any) -> Any:
    import shapely
    from sqlalchemy import func, select

    from app.services.base_import import DISTANCE_TOLERANCE_M
    from app.store.models import AdminArea, Case, Category, Component, Department, UnitGrid

    source = report.source
    good = [r for r in source.rows if r.ok]
    numbers = [r.values["number"] for r in good if r.values.get("number")]
    with store.session() as s:
        taken = set()
        for i in range(0, len(numbers), 5000):
            taken |= set(s.scalars(select(Case.number).where(Case.number.in_(numbers[i:i + 5000]))))
        # every grid, retired ones too: a past case lies in the grid of its day (0024: a grid split or
        # merged away is retired, and the cases reported in it keep it)
        grids = {code: (gid, cid, bytes(g)) for gid, code, cid, g in s.execute(
            select(UnitGrid.id, UnitGrid.code, UnitGrid.community_id, func.ST_AsBinary(UnitGrid.geom)))}
        retired = dict(s.execute(select(UnitGrid.code, UnitGrid.retired_on)
                                 .where(UnitGrid.retired_on.is_not(None))).all())
        components = dict(s.execute(select(Component.code, Component.id)).all())
        depts = {code: (did, name) for did, code, name in s.execute(
            select(Department.id, Department.code, Department.name))}
        cats = {(k, code): cid for cid, k, code in s.execute(select(Category.id, Category.kind, Category.code))}
        district = [shapely.from_wkb(bytes(g)) for g in s.scalars(
            select(func.ST_AsBinary(AdminArea.geom)).where(AdminArea.level == "district")) if g is not None]
        areas = {aid: (code, parent) for aid, code, parent in s.execute(
            select(AdminArea.id, AdminArea.code, AdminArea.parent_id))}
    area = shapely.union_all(district).buffer(DISTANCE_TOLERANCE_M) if district else None
    codes = list(grids)
    tree = shapely.STRtree([shapely.from_wkb(grids[c][2]) for c in codes]) if codes else None
    seen: dict[str, int] = {}
    for r in good:
        v = r.values
        number = v.get("number")
        if number in taken:
            r.problems.append(Msg("案卷 {number} 已在库中", number=number))
        if number:
            if number in seen:
                r.problems.append(Msg("案卷编号 {number} 重复（与第 {other} 条相同）", number=number, other=seen[number]))
            seen.setdefault(number, r.number)
        v["category_id"] = cats.get((v["kind"].value, v["category_code"]))
        if v["category_id"] is None:
            r.problems.append(Msg("类别 {code} 不在库中", code=v["category_code"]))
        shape = v.get("_shape")
        if area is not None and shape is not None and not area.covers(shape):
            r.problems.append(Msg("位于辖区之外（坐标系是否正确？）"))
        inside = None
        if tree is not None and shape is not None:
            hits = [codes[int(j)] for j in sorted(tree.query(shape, predicate="intersects"))]
            inside = _grid_of_the_day(hits, retired, v.get("reported_at"))
            if v["grid_code"] is not None and v["grid_code"] in hits:
                inside = v["grid_code"]  # the grid named, if the case lies in it (retired or not)
        grid = v["grid_code"] or inside
        if v["grid_code"] is not None and inside is not None and v["grid_code"] != inside:
            r.problems.append(Msg("所在网格编码 {given} 与其位置所在的网格 {actual} 不符", given=v["grid_code"],
                                  actual=inside))
        if grid is not None and grid not in grids:
            r.problems.append(Msg("所在网格 {given} 不在库中", given=grid))
            grid = None
        v["grid_code"] = grid
        v["grid_id"] = grids[grid][0] if grid else None
        community = areas.get(grids[grid][1]) if grid else None
        v["community"] = community[0] if community else None
        street = areas.get(community[1]) if community and community[1] else None
        v["street"] = street[0] if street else None
        comp = v["component_code"]
        v["component_id"] = components.get(comp) if comp else None
        if comp and v["component_id"] is None:
            r.problems.append(Msg("部件 {code} 不在库中", code=comp[:20]))
        dept = v["department_code"]
        v["department"] = depts.get(dept) if dept else None
        if dept and v["department"] is None:
            r.problems.append(Msg("处置部门代码 {code} 不在部门表中", code=dept[:30]))
    return report


def _grid_of_the_day(hits: list[str], retired: Mapping[str, date], reported_at: Any) -> str | None:
    """Of the grids a case lies in (codes in store order), the one it was reported in: the one retired
    earliest after the report's day, else the first in use (grids are only split or merged, so the
    grids at one place retire one after another)."""
    if not hits:
        return None
    day = reported_at.date() if isinstance(reported_at, datetime) else reported_at
    if isinstance(day, date):
        later = [(retired[c], i) for i, c in enumerate(hits) if c in retired and retired[c] > day]
        if later:
            return hits[min(later)[1]]
    in_use = [c for c in hits if c not in retired]
    return in_use[0] if in_use else hits[0]


def write(store: Any, report: Any, actor: Any, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Each good row as a case with the events of its recorded times, in ONE transaction."""
    from sqlalchemy import func, insert

    from app.domain.cases import TimerSpec
    from app.domain.deadlines import deadline
    from app.domain.definitions import Action, Basis, Role, Stage
    from app.domain.limit_versions import limits_at
    from app.services.base_import import ImportRefused
    from app.services.calendar import load_calendar
    from app.services.limits import load_limits
    from app.store.audit import bulk_append, import_path, lock_head
    from app.store.models import Case

    if actor is None:
        raise ImportRefused(Msg("导入历史案卷要记入案卷历史：请用 --as 指定管理员"))
    rows = report.good
    table = load_limits(store)
    calendar = load_calendar(store)
    in_force: dict[date, Any] = {}
    origin = {"imported_from": report.source.path.name[-120:], "imported_by": actor.username}
    total = len(rows)
    with store.session() as s, s.begin():
        import_path(s)
        lock_head(s)  # case numbers are handed out under the chain lock
        events: list[dict[str, Any]] = []
        for done, r in enumerate(rows, 1):
            v = r.values
            x, y = v["_shape"].x, v["_shape"].y
            kind, state = v["kind"], v["state"]
            number = v["number"] or _number(s, kind, v["reported_at"])
            dept = v["department"]
            handle_deadline = None
            steps: list[tuple[Any, ...]] = []  # (action, role, to_state, at, reason, payload, department id)
            facts = {"location": "import", "grid": v["grid_code"], "x": round(x, 2), "y": round(y, 2),
                     "kind": kind.value, "category": v["category_code"], "level": v["level"].value,
                     "source": v["source"].value, "community": v["community"], "street": v["street"],
                     "component": v["component_code"] if v["component_id"] else None, **origin}
            steps.append((Action.REPORT, Role.ACCEPTOR, CaseState.REPORTED, v["reported_at"], None, facts, None))
            if state is CaseState.NOT_FILED:
                steps.append((Action.REJECT, Role.SHIFT_LEADER, CaseState.NOT_FILED, v["reported_at"],
                              "历史案卷：原平台不予立案", dict(origin), None))
            else:
                day = v["dispatched_at"].date()
                if day not in in_force:  # the limits in force that day (versioned, migration 0018)
                    in_force[day] = limits_at(table, v["dispatched_at"])
                rule = in_force[day].lookup(kind, v["category_code"], v["level"], Stage.HANDLE)
                minutes, basis = rule.minutes, rule.basis
                due = deadline(TimerSpec(Stage.HANDLE, Basis(basis), minutes, v["dispatched_at"]), calendar)
                handle_deadline = due
                dep = {"department": v["department_code"], "department_name": dept[1]} if dept else {}
                limit = {"deadline": _ts(due), "limit_minutes": minutes, "basis": Basis(basis).value} if due else {}
                steps += [
                    (Action.FILE, Role.SHIFT_LEADER, CaseState.FILED, v["filed_at"], None, dict(origin), None),
                    (Action.DISPATCH, Role.DISPATCHER, CaseState.DISPATCHED, v["dispatched_at"], None,
                     {**dep, **limit, **origin}, dept[0] if dept else None),
                    (Action.ACCEPT, Role.DEPARTMENT, CaseState.HANDLING, v["dispatched_at"], None,
                     {**dep, **origin}, dept[0] if dept else None),
                    (Action.FEEDBACK, Role.DEPARTMENT, CaseState.FED_BACK, v["fed_back_at"], None,
                     {**dep, **origin}, dept[0] if dept else None),
                    (Action.SEND_CHECK, Role.ACCEPTOR, CaseState.CHECKING, v["closed_at"], None, dict(origin), None),
                    (Action.CHECK, Role.SUPERVISOR, CaseState.CHECKED, v["closed_at"], None,
                     {"outcome": "passed", **origin}, None),
                    (Action.CLOSE, Role.SHIFT_LEADER, CaseState.CLOSED, v["closed_at"], CLOSE_REASON,
                     {"override": CLOSE_REASON, "evidence": {"missing": ["photos"]}, **origin}, None)]
            case_values = {
                "number": number, "kind": kind.value, "category_id": v["category_id"], "level": v["level"].value,
                "state": state.value, "source": v["source"].value, "grid_id": v["grid_id"],
                "component_id": v["component_id"], "address": v["address"], "description": v["description"],
                "department_id": dept[0] if dept else None, "reported_at": v["reported_at"],
                "filed_at": v["filed_at"], "dispatched_at": v["dispatched_at"], "fed_back_at": v["fed_back_at"],
                "closed_at": v["closed_at"] if state is CaseState.CLOSED else None,
                "handle_deadline_at": handle_deadline, "urge_count": 0, "urge_level": 0, "rework_count": 0,
                "paused_minutes": 0, "extension_minutes": 0, "version": len(steps),
                "updated_at": steps[-1][3], "geom": func.ST_GeomFromText(f"POINT({x!r} {y!r})", STORE_SRID)}
            case_id = s.execute(insert(Case).values(case_values).returning(Case.id)).scalar_one()
            previous = None
            for seq, (action, role, to_state, at, reason, payload, dept_id) in enumerate(steps, 1):
                events.append({"case_id": case_id, "seq": seq, "action": action, "from_state": previous,
                               "to_state": to_state, "actor": actor.username, "role": role, "at": at,
                               "reason": reason, "payload": payload, "department_id": dept_id})
                previous = to_state
            if progress is not None and (done % 1000 == 0 or done == total):
                progress(done, total)
        events.sort(key=lambda e: (e["at"], e["case_id"], e["seq"]))
        bulk_append(s, events)
    report.written = total
    return total


def _number(session: Any, kind: Kind, at: datetime) -> str:
    from app.services import intake

    return str(intake.next_number(session, kind, at))


__all__ = ["EXPORT_KEYS", "IMPORTABLE", "case_ids", "case_row", "export_rows", "import_file", "validate", "write"]
