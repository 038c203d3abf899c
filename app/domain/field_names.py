"""Field names of base-data exchange files: GB/T 47678.5 abbreviations, legacy (CJ/T 214) names and
plain Chinese headers, mapped to GridHall's own field keys (``standards.md`` §2).

``resolve(kind, columns, overrides)`` finds, for each key, the source column that carries it
(case-insensitive, surrounding blanks ignored); ``--map FIELD=COLUMN`` overrides win. The export writes
``EXPORT_NAMES`` (the standard's abbreviations for components).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.domain.messages import Msg, MsgError

GRIDS, COMPONENTS, DEPARTMENTS, ROADS, CASES = "grids", "components", "departments", "roads", "cases"
KINDS = (GRIDS, COMPONENTS, DEPARTMENTS, ROADS, CASES)

#: key -> recognised column names (first: the name written on export).
GRID_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("DYWGBSM", "WGBSM", "BGID", "GridID", "grid_code", "code", "单元网格标识码", "单元网格编码",
             "网格编码", "网格标识码"),
    "community_code": ("SZSQDM", "CommCode", "community_code", "所在社区（村）代码", "所在社区代码", "社区代码"),
    "area_m2": ("MJ", "Area", "area_m2", "面积"),
}

COMPONENT_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("GLBJBSM", "ObjID", "code", "管理部件标识码", "部件标识码", "部件编码"),
    "name": ("GLBJMC", "ObjName", "name", "管理部件名称", "部件名称"),
    "authority_code": ("ZGBMDM", "DeptCode1", "主管部门代码"),
    "authority_name": ("ZGBMMC", "DeptName1", "主管部门名称", "主管部门"),
    "owner_code": ("QSDWDM", "DeptCode2", "权属单位代码"),
    "owner_name": ("QSDWMC", "DeptName2", "权属单位名称", "权属单位"),
    "maintainer_code": ("YHDWDM", "DeptCode3", "养护单位代码"),
    "maintainer_name": ("YHDWMC", "DeptName3", "养护单位名称", "养护单位"),
    "grid_code": ("SZDYWGBSM", "BGID", "grid_code", "所在单元网格标识码", "所在网格", "网格编码"),
    "status": ("GLBJZT", "ObjState", "status", "管理部件状态", "部件状态", "状态"),
    "initial_date": ("CSRQ", "ORDate", "initial_date", "初始日期"),
    "changed_date": ("BGRQ", "CHDate", "changed_date", "变更日期"),
    "data_source": ("SJLY", "DataSource", "data_source", "数据来源"),
    "note": ("BZ", "Note", "note", "备注"),
    "street_code": ("SZJDDM", "所在街道（镇、乡）代码", "所在街道代码"),
    "street_name": ("SZJDMC", "所在街道（镇、乡）名称", "所在街道名称"),
    "community_code": ("SZSQDM", "所在社区（村）代码", "所在社区代码"),
    "community_name": ("SZSQMC", "所在社区（村）名称", "所在社区名称"),
    # Not in the standard: the legacy 16-digit identifier a converted component came with.
    "legacy_code": ("YGLBJBSM", "legacy_code", "原管理部件标识码", "旧版部件标识码"),
}

# The standard defines no department, road or case exchange table: the first names below are GridHall's
# own, abbreviated from the Chinese as GB/T 47678.5 abbreviates (部门代码 → BMDM …).
DEPARTMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("BMDM", "DeptCode", "code", "部门代码", "部门编码"),
    "name": ("BMMC", "DeptName", "name", "部门名称"),
    "kind": ("BMLX", "DeptType", "kind", "部门类型"),
    "credit_code": ("TYSHXYDM", "CreditCode", "credit_code", "统一社会信用代码"),
    "parent": ("SJBMDM", "ParentCode", "parent", "上级部门代码"),
    "area": ("GXQYDM", "AreaCode", "area", "辖区代码", "管辖区域代码"),
    "phone": ("LXDH", "Phone", "phone", "联系电话"),
    "active": ("SFQY", "Active", "active", "是否启用"),
}

ROAD_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("DLMC", "RoadName", "name", "道路名称"),
    "kind": ("DLDJ", "RoadClass", "kind", "道路等级"),
    "width_m": ("DLKD", "Width", "width_m", "道路宽度", "宽度"),
}

#: a historical case: its facts and every timing field (the times its recorded states were reached).
CASE_FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("AJBH", "CaseNo", "number", "案卷编号", "案卷号"),
    "kind": ("AJLX", "CaseType", "kind", "案卷类型"),
    "category_code": ("LBDM", "TypeCode", "category_code", "类别代码", "类别编码"),
    "category_name": ("LBMC", "TypeName", "category_name", "类别名称"),
    "level": ("AJDJ", "CaseLevel", "level", "案卷等级"),
    "state": ("AJZT", "CaseState", "state", "案卷状态", "状态"),
    "source": ("AJLY", "CaseSource", "source", "案卷来源", "来源"),
    "grid_code": ("SZDYWGBSM", "BGID", "grid_code", "所在单元网格标识码", "网格编码"),
    "component_code": ("GLBJBSM", "ObjID", "component_code", "管理部件标识码", "部件标识码"),
    "address": ("DZMS", "Address", "address", "地址描述", "地址"),
    "description": ("WTMS", "Description", "description", "问题描述", "描述"),
    "department_code": ("CZBMDM", "DeptCode", "department_code", "处置部门代码"),
    "department_name": ("CZBMMC", "DeptName", "department_name", "处置部门名称"),
    "reported_at": ("SBSJ", "ReportTime", "reported_at", "上报时间"),
    "filed_at": ("LASJ", "FileTime", "filed_at", "立案时间"),
    "dispatched_at": ("PQSJ", "DispatchTime", "dispatched_at", "派遣时间"),
    "fed_back_at": ("FKSJ", "FeedbackTime", "fed_back_at", "处置反馈时间", "反馈时间"),
    "closed_at": ("JASJ", "CloseTime", "closed_at", "结案时间"),
    "handle_deadline_at": ("CZSX", "HandleDeadline", "handle_deadline_at", "处置时限", "处置截止时间"),
    "stage": ("JSJD", "Stage", "stage", "计时阶段"),
    "timer_basis": ("JSFS", "TimerBasis", "timer_basis", "计时方式"),
    "limit_minutes": ("SXFZ", "LimitMinutes", "limit_minutes", "时限分钟"),
    "timer_started_at": ("JSKS", "TimerStart", "timer_started_at", "计时开始时间"),
    "paused_since": ("ZTKS", "PausedSince", "paused_since", "暂停开始时间"),
    "paused_minutes": ("ZTFZ", "PausedMinutes", "paused_minutes", "暂停分钟"),
    "extension_minutes": ("YQFZ", "ExtensionMinutes", "extension_minutes", "延期分钟"),
    "deadline_at": ("DQJZ", "Deadline", "deadline_at", "当前截止时间"),
    "urge_count": ("DBCS", "UrgeCount", "urge_count", "督办次数"),
    "urge_level": ("DBJB", "UrgeLevel", "urge_level", "督办级别"),
    "urge_deadline_at": ("DBSX", "UrgeDeadline", "urge_deadline_at", "督办时限"),
    "rework_count": ("FGCS", "ReworkCount", "rework_count", "返工次数"),
}

FIELDS = {GRIDS: GRID_FIELDS, COMPONENTS: COMPONENT_FIELDS, DEPARTMENTS: DEPARTMENT_FIELDS, ROADS: ROAD_FIELDS,
          CASES: CASE_FIELDS}
#: keys a source must carry (else the import is refused before reading a row).
REQUIRED = {GRIDS: ("code",), COMPONENTS: ("code",), DEPARTMENTS: ("code", "name"), ROADS: ("name",),
            CASES: ("category_code", "reported_at")}
#: key -> column name written on export.
EXPORT_NAMES = {kind: {key: names[0] for key, names in fields.items()} for kind, fields in FIELDS.items()}


class MappingError(MsgError, ValueError):
    """A ``--map`` override or a source's columns cannot be mapped."""


def _norm(name: str) -> str:
    return "".join(name.split()).casefold()


def parse_overrides(items: Iterable[str], kind: str) -> dict[str, str]:
    """``["code=编号", …]`` -> {key: column}; MappingError for an unknown key or a missing ``=``."""
    fields = FIELDS[kind]
    out: dict[str, str] = {}
    for item in items:
        key, sep, column = item.partition("=")
        key, column = key.strip(), column.strip()
        if not sep or not key or not column:
            raise MappingError(Msg("字段映射「{item}」应写成 字段=列名，例如 code=编号", item=item[:60]))
        if key not in fields:
            raise MappingError(Msg("字段映射「{item}」的字段 {key} 未知：可用 {choices}", item=item[:60], key=key[:40],
                                   choices=", ".join(fields)))
        out[key] = column
    return out


def resolve(kind: str, columns: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """{key: source column} for every key found; MappingError when an override names no column or a
    required key has no column."""
    columns = list(columns)
    by_norm = {_norm(c): c for c in columns}
    found: dict[str, str] = {}
    taken: set[str] = set()
    for key, column in (overrides or {}).items():
        real = by_norm.get(_norm(column))
        if real is None:
            raise MappingError(Msg("字段映射 {key}={column}：源文件没有列「{column}」（有：{columns}）", key=key,
                                   column=column[:60], columns=", ".join(columns)[:300]))
        found[key] = real
        taken.add(real)
    for key, names in FIELDS[kind].items():
        if key in found:
            continue
        for name in names:
            real = by_norm.get(_norm(name))
            if real is not None and real not in taken:
                found[key] = real
                taken.add(real)
                break
    missing = [k for k in REQUIRED[kind] if k not in found]
    if missing:
        raise MappingError(Msg("源文件缺少字段 {key}（可识别的列名：{names}）；请用 --map {key}=列名 指定（有：{columns}）",
                               key=missing[0], names=", ".join(FIELDS[kind][missing[0]]),
                               columns=", ".join(columns)[:300]))
    return found


__all__ = ["CASES", "CASE_FIELDS", "COMPONENTS", "COMPONENT_FIELDS", "DEPARTMENTS", "DEPARTMENT_FIELDS", "ROADS",
           "ROAD_FIELDS", "EXPORT_NAMES", "FIELDS", "GRIDS", "GRID_FIELDS", "KINDS",
           "MappingError", "REQUIRED", "parse_overrides", "resolve"]
