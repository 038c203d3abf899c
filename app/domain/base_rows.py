"""Pure checks of one base-data row (grid or component) read from an exchange file.

``grid_row`` / ``component_row`` take the mapped attribute values (``{key: value}``, see
``app.domain.field_names``) and return the row to store plus the problems (``Msg``) and notes (e.g.
"legacy id converted"). Nothing here reads the store: duplicates against it, departments, the district
and the grids a component lies in are the service's (``app.services.base_import``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from app.domain.codes import CodeError, ComponentId, GridCode, check_admin_code, normalize_component_id
from app.domain.definitions import ComponentStatus
from app.domain.messages import Msg, msg_of
from app.domain.taxonomy import Taxonomy
from app.domain.text import TextRefused, clean_text

#: a date before this is not a census date (the first digital-urban-management systems: 2004).
EARLIEST = date(1990, 1, 1)
_DIGITS17 = re.compile(r"[0-9]{17}")
_DATE_RE = re.compile(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})(?:[T ].*)?")
DATA_SOURCES = ("实测", "地形图", "基础地理数据", "其他")


@dataclass
class Row:
    """One source feature checked: ``values`` to store, ``problems`` (reject reasons), ``notes``."""

    number: int  # the feature's position in the source, from 1
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Msg] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def text(value: Any) -> str | None:
    """A cell as stripped text (None for empty); integral floats lose their ``.0`` (spreadsheets)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    return s or None


def parse_date(value: Any) -> date:
    """YYYYMMDD, YYYY-MM-DD (also / or .), a date or a datetime; ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = text(value) or ""
    m = _DATE_RE.fullmatch(s)
    if not m:
        raise ValueError(s)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _policy(row: Row, field: str, value: str | None, label: Msg) -> str | None:
    """``value`` through the one input policy (``app.domain.text``: no control or bidi characters, NFC,
    the field's length cap), as the GUI and the maintenance commands take it; a refusal is the row's
    problem (and None)."""
    if value is None:
        return None
    try:
        return clean_text(field, value, label=label)
    except TextRefused as exc:
        row.problems.append(msg_of(exc))
        return None


def _date_of(row: Row, key: str, label: Msg, value: Any, today: date) -> date | None:
    if text(value) is None:
        return None
    try:
        d = parse_date(value)
    except ValueError:
        row.problems.append(Msg("{label}「{value}」不是日期：应为 YYYYMMDD", label=label, value=str(value)[:30]))
        return None
    if d < EARLIEST or d > today:
        row.problems.append(Msg("{label} {date} 不合理：应在 {first} 与今天 {today} 之间", label=label,
                                date=d.isoformat(), first=EARLIEST.isoformat(), today=today.isoformat()))
        return None
    return d


@lru_cache(maxsize=65536)
def _grid_code(code: str) -> str:
    """The checked 15-digit grid code (cached: a file names the same grids again and again)."""
    return str(GridCode.parse(code))


@lru_cache(maxsize=4096)
def _admin_ok(admin: str) -> bool:
    try:
        check_admin_code(admin)
    except CodeError:
        return False
    return True


def _component_id(raw: str, taxonomy: Taxonomy) -> ComponentId:
    """``normalize_component_id`` with a fast path for the common case (17 ASCII digits, a valid admin
    code and category): the same answer, without building the messages a bad id would need."""
    if _DIGITS17.fullmatch(raw) and _admin_ok(raw[:6]) and "01" <= raw[6:8] <= "05" and raw[8:11] != "000" \
            and raw[11:] != "000000" and taxonomy.find("component", raw[6:11]) is not None:
        return ComponentId(raw[:6], raw[6:8], raw[8:11], raw[11:])
    return normalize_component_id(raw, taxonomy)


def grid_row(number: int, values: dict[str, Any]) -> Row:
    """A grid row: the 15-digit code (community from it unless given)."""
    row = Row(number)
    code = text(values.get("code"))
    try:
        grid = GridCode.parse(_grid_code(code or ""))
    except CodeError as exc:
        row.problems.append(msg_of(exc))
        return row
    row.values["code"] = str(grid)
    community = text(values.get("community_code"))
    if community is not None and community != grid.community_code:
        row.problems.append(Msg("网格 {code} 的社区代码 {community} 与编码中的 {expected} 不一致", code=str(grid),
                                community=community[:20], expected=grid.community_code))
    row.values["community_code"] = grid.community_code
    return row


def component_row(number: int, values: dict[str, Any], taxonomy: Taxonomy, today: date) -> Row:
    """A component row: the id (a 16-digit legacy one converted, the original kept), category from it,
    status, dates, departments' codes as given (resolved by the service)."""
    row = Row(number)
    raw = text(values.get("code"))
    legacy = text(values.get("legacy_code"))
    try:
        cid = _component_id(raw or "", taxonomy)
    except CodeError as exc:
        row.problems.append(msg_of(exc))
        return row
    if raw is not None and len(raw) == 16:
        legacy = raw
        row.notes.append(Msg("旧版标识码 {old} 已转换为 {new}（原码保留）", old=raw, new=str(cid)))
    elif legacy is not None:
        legacy = _policy(row, "code", legacy, Msg("旧版标识码"))
        if legacy is not None and len(legacy) > 16:
            row.problems.append(Msg("旧版标识码「{code}」过长（最多 16 个字符）", code=legacy[:30]))
    row.values.update(code=str(cid), legacy_code=legacy, category_code=cid.category_code)
    cat = taxonomy.find("component", cid.category_code)
    name = text(values.get("name"))
    refused = False
    if name is not None and len(name) <= 64:
        before = len(row.problems)
        name = _policy(row, "display_name", name, Msg("部件名称"))
        refused = len(row.problems) > before
    if name is None and not refused:
        name = cat.name if cat is not None else None
        if name is None:
            row.problems.append(Msg("部件 {code} 没有名称", code=str(cid)))
    elif name is not None and len(name) > 64:
        row.problems.append(Msg("部件 {code} 的名称过长（{n} 个字符，最多 64）", code=str(cid), n=len(name)))
    row.values["name"] = name
    grid = text(values.get("grid_code"))
    if grid is not None:
        try:
            grid = _grid_code(grid)
        except CodeError as exc:
            row.problems.append(msg_of(exc))
    row.values["grid_code"] = grid
    status = text(values.get("status"))
    if status is None:
        row.values["status"] = ComponentStatus.INTACT.value
    else:
        try:
            row.values["status"] = ComponentStatus.parse(status).value
        except ValueError:
            row.problems.append(Msg("部件状态「{status}」无效：应为 完好、破损、丢失、废弃或移除", status=status[:20]))
    initial = _date_of(row, "initial_date", Msg("初始日期"), values.get("initial_date"), today)
    changed = _date_of(row, "changed_date", Msg("变更日期"), values.get("changed_date"), today)
    if initial is not None and changed is not None and changed < initial:
        row.problems.append(Msg("变更日期 {changed} 早于初始日期 {initial}", changed=changed.isoformat(),
                                initial=initial.isoformat()))
    row.values.update(initial_date=initial, changed_date=changed)
    source = text(values.get("data_source"))
    if source is not None and len(source) > 16:
        row.problems.append(Msg("数据来源「{source}」过长（最多 16 个字符）", source=source[:30]))
    else:
        source = _policy(row, "display_name", source, Msg("数据来源"))
    row.values["data_source"] = source
    row.values["note"] = _policy(row, "note", text(values.get("note")), Msg("备注"))
    for key in ("authority_code", "owner_code", "maintainer_code"):
        row.values[key] = text(values.get(key))
    return row


_COMPONENT_KEYS = ("code", "legacy_code", "name", "grid_code", "status", "initial_date", "changed_date",
                   "data_source", "note", "authority_code", "owner_code", "maintainer_code")


_BAD = object()  # a cell the fast path cannot vouch for


def component_rows(columns: dict[str, list[Any]], count: int, taxonomy: Taxonomy, today: date) -> list[Row]:
    """``component_row`` for every row of a columnar source ({key: values}), the common case without
    per-row message building: each distinct grid code, status and date is checked once, and a row the
    fast path cannot vouch for goes through ``component_row`` (which then says what is wrong)."""
    from itertools import repeat

    def column(key: str) -> Any:
        if key not in columns:
            return repeat(None, count)
        return [(v.strip() or None) if type(v) is str else None if v is None else text(v) for v in columns[key]]

    code_col, name_col, grid_col, status_col, initial_col, changed_col, source_col = (
        column(k) for k in ("code", "name", "grid_code", "status", "initial_date", "changed_date", "data_source"))
    rest = [column(k) for k in ("legacy_code", "note", "authority_code", "owner_code", "maintainer_code")]
    names: dict[str, Any] = {}  # code[:11] -> category name, or _BAD

    def prefix(code: Any) -> Any:
        if code is None or len(code) != 17 or not (code.isascii() and code.isdigit()) or code[11:] == "000000":
            return _BAD
        head = code[:11]
        found = names.get(head)
        if found is None:
            ok = _admin_ok(code[:6]) and "01" <= code[6:8] <= "05" and code[8:11] != "000"
            cat = taxonomy.find("component", code[6:11]) if ok else None
            found = names[head] = cat.name if cat is not None else _BAD
        return found

    def grid(g: Any) -> Any:
        try:
            return _grid_code(g)
        except CodeError:
            return _BAD

    def status(v: Any) -> Any:
        try:
            return ComponentStatus.parse(v).value
        except ValueError:
            return _BAD

    def day(v: Any) -> Any:
        try:
            d = parse_date(v)
        except ValueError:
            return _BAD
        return d if EARLIEST <= d <= today else _BAD

    def mapped(col: Any, check: Callable[[Any], Any], default: Any = None) -> Any:
        if isinstance(col, repeat):
            return col if default is None else repeat(default, count)
        seen = {v: (check(v) if v is not None else default) for v in set(col)}
        return [seen[v] for v in col]

    def policy(field: str, limit: int) -> Callable[[Any], Any]:
        """The one input policy's answer for a distinct cell (``_BAD``: the slow path says why)."""
        def check(v: Any) -> Any:
            if len(v) > limit:
                return _BAD
            try:
                cleaned = clean_text(field, v)
            except TextRefused:
                return _BAD
            return _BAD if cleaned is None else cleaned
        return check

    intact = ComponentStatus.INTACT.value
    name_col = mapped(name_col, policy("display_name", 64))
    source_col = mapped(source_col, policy("display_name", 16))
    rest[0] = mapped(rest[0], policy("code", 16))  # legacy_code
    rest[1] = mapped(rest[1], policy("note", 1000))  # note
    grids = mapped(grid_col, grid)
    statuses = mapped(status_col, status, intact)
    initials, changes = mapped(initial_col, day), mapped(changed_col, day)
    out: list[Row] = []
    append = out.append
    for number, (code, name, g, st, d0, d1, source, legacy, note, auth, owner, maint) in enumerate(zip(
            code_col, name_col, grids, statuses, initials, changes, source_col, *rest, strict=False), 1):
        default = prefix(code)
        if (default is _BAD or g is _BAD or st is _BAD or d0 is _BAD or d1 is _BAD or name is _BAD
                or source is _BAD or legacy is _BAD or note is _BAD
                or (d0 is not None and d1 is not None and d1 < d0)):
            raw = {k: columns[k][number - 1] for k in _COMPONENT_KEYS if k in columns}
            append(component_row(number, raw, taxonomy, today))
            continue
        append(Row(number, {"code": code, "legacy_code": legacy, "category_code": code[6:11],
                            "name": default if name is None else name, "grid_code": g, "status": st,
                            "initial_date": d0, "changed_date": d1, "data_source": source, "note": note,
                            "authority_code": auth, "owner_code": owner, "maintainer_code": maint}))
    return out


#: road classes: stored value -> Chinese names recognised (the first is shown).
ROAD_KINDS = {"trunk": ("快速路", "主干道"), "main": ("主干路",), "secondary": ("次干路",), "branch": ("支路",),
              "lane": ("街巷", "小巷", "巷")}
_TRUE = {"1", "true", "t", "y", "yes", "是", "启用", "有效"}
_FALSE = {"0", "false", "f", "n", "no", "否", "停用", "无效"}


def department_row(number: int, values: dict[str, Any], taxonomy: Taxonomy | None = None,
                   today: date | None = None) -> Row:
    """A department row: code and name required; kind by value or Chinese label; active as yes/no.
    The rest (parent, jurisdiction area, credit code) is the configuration service's check."""
    from app.domain.definitions import DepartmentKind

    row = Row(number)
    code, name = text(values.get("code")), text(values.get("name"))
    if code is None:
        row.problems.append(Msg("部门代码为空"))
    elif len(code) > 32:
        row.problems.append(Msg("部门代码「{code}」过长（最多 32 个字符）", code=code[:40]))
    else:
        code = _policy(row, "department", code, Msg("部门代码")) or code
    if name is None:
        row.problems.append(Msg("部门 {code} 没有名称", code=code or ""))
    elif len(name) > 64:
        row.problems.append(Msg("部门 {code} 的名称过长（{n} 个字符，最多 64）", code=code or "", n=len(name)))
    else:
        name = _policy(row, "display_name", name, Msg("部门名称")) or name
    row.values.update(code=code, name=name)
    kind = text(values.get("kind"))
    try:
        row.values["kind"] = DepartmentKind.parse(kind).value if kind is not None else DepartmentKind.BUREAU.value
    except ValueError:
        row.problems.append(Msg("部门类型「{kind}」无效：应为 {choices}", kind=(kind or "")[:20],
                                choices="、".join(m.label for m in DepartmentKind)))
    active = text(values.get("active"))
    if active is None or active.casefold() in _TRUE:
        row.values["active"] = True
    elif active.casefold() in _FALSE:
        row.values["active"] = False
    else:
        row.problems.append(Msg("是否启用「{value}」无效：应为 是 或 否", value=active[:20]))
    for key in ("credit_code", "parent", "area", "phone"):
        row.values[key] = text(values.get(key))
    return row


def road_row(number: int, values: dict[str, Any], taxonomy: Taxonomy | None = None,
             today: date | None = None) -> Row:
    """A road row: name required, class by value or Chinese name (default 支路), width in metres."""
    row = Row(number)
    name = text(values.get("name"))
    if name is None:
        row.problems.append(Msg("道路没有名称"))
    elif len(name) > 64:
        row.problems.append(Msg("道路名称「{name}」过长（最多 64 个字符）", name=name[:40]))
    else:
        name = _policy(row, "display_name", name, Msg("道路名称")) or name
    row.values["name"] = name
    kind = text(values.get("kind"))
    found = "branch" if kind is None else next(
        (k for k, names in ROAD_KINDS.items() if kind.casefold() == k or kind in names), None)
    if found is None:
        row.problems.append(Msg("道路等级「{kind}」无效：应为 {choices}", kind=kind[:20] if kind else "",
                                choices="、".join(n[0] for n in ROAD_KINDS.values())))
    row.values["kind"] = found
    width = text(values.get("width_m"))
    try:
        row.values["width_m"] = 10.0 if width is None else float(width)
    except ValueError:
        row.problems.append(Msg("道路宽度「{value}」不是数字", value=width[:20] if width else ""))
        return row
    if not 0 < row.values["width_m"] <= 200:
        row.problems.append(Msg("道路宽度 {value} 米不合理：应在 0 与 200 之间", value=row.values["width_m"]))
    return row


def duplicates(rows: list[Row]) -> None:
    """Mark every row whose code an earlier row of the same file already has."""
    first: dict[str, int] = {}
    for row in rows:
        code = row.values.get("code")
        if code is None:
            continue
        if code in first:
            row.problems.append(Msg("编码 {code} 重复（与第 {other} 条相同）", code=code, other=first[code]))
        else:
            first[code] = row.number


__all__ = ["DATA_SOURCES", "EARLIEST", "ROAD_KINDS", "Row", "component_row", "component_rows", "department_row", "road_row", "duplicates", "grid_row", "parse_date", "text"]
