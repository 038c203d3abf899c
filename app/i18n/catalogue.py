"""Dict-based message catalogue: Chinese source strings, English on request (``--lang en``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import Enum

from app.domain.definitions import (
    Action,
    AreaLevel,
    Basis,
    CaseState,
    ComponentStatus,
    DepartmentKind,
    Kind,
    Level,
    Light,
    Role,
    Source,
    Stage,
)
from app.domain.messages import Msg, Seq, chinese
from app.domain.workflow import Outcome
from app.i18n.messages_admin_en import ADMIN_EN
from app.i18n.messages_base_data_en import BASE_DATA_EN
from app.i18n.messages_base_maint_en import BASE_MAINT_EN
from app.i18n.messages_desk_en import DESK_EN
from app.i18n.messages_en import MESSAGES_EN
from app.i18n.messages_exchange_en import EXCHANGE_EN
from app.i18n.messages_open311_en import OPEN311_EN
from app.i18n.messages_stats_en import STATS_EN
from app.i18n.messages_wall_en import WALL_EN

SUPPORTED_LANGUAGES = ("zh_CN", "en")

# Source strings are the Chinese texts themselves (gettext style), so the default
# language needs no table and a missing English entry still shows something readable.
_EN: dict[str, str] = {
    "道路": "Roads",
    "正在打开地图和案卷…": "Opening the map and the cases…",
    "刷新后重试": "Refresh and retry",
    "载入案卷的最新版本；已填写的内容不变，核对后再提交":
        "Load the case's latest version; what you typed stays — check it, then submit again",
    "正在查询其他工作站的变更…": "Looking up changes made at other workstations…",
    "已载入最新版本（第 {version} 版，{state}）；你填写的内容未改动，核对后可再次提交":
        "Latest version loaded (version {version}, {state}); what you typed is unchanged — check it and submit again",
    "GridHall 数字城管指挥大厅": "GridHall Digital Urban Management Command Hall",
    # menus
    "文件": "File", "视图": "View", "地图": "Map", "案卷": "Cases", "插件": "Plugins",
    "帮助": "Help", "面板": "Panels",
    # actions
    "全屏": "Full screen", "全图": "Zoom to full extent", "筛选案卷": "Filter cases",
    "刷新": "Refresh", "退出": "Quit", "关于": "About", "插件状态…": "Plugin status…",
    "关于 GridHall": "About GridHall",
    "GridHall 数字城管指挥大厅客户端\n版本 {version}":
        "GridHall digital urban management command hall client\nVersion {version}",
    "该功能当前不可用：{name}": "This function is not available right now: {name}",
    # docks
    "案卷队列": "Case queue", "案卷详情": "Case details", "图层": "Layers",
    # queue columns
    "灯": "Light", "剩余": "Remaining", "案卷号": "Case no.", "状态": "State", "类别": "Category",
    "等级": "Level", "网格": "Grid", "街道/社区": "Street/community", "责任部门": "Department",
    "来源": "Source", "上报时间": "Reported",
    # also the 督办 action's menu title, so the verb; the column shows the count of urgings
    "督办": "Urge",
    # filter bar
    "全部状态": "All states", "全部部门": "All departments", "类别/案卷号/地址": "Category/no./address",
    "网格编码": "Grid code", "清除": "Clear", "红 {n}": "Red {n}", "黄 {n}": "Yellow {n}",
    "绿 {n}": "Green {n}",
    "在办 {open} · 超时 {red} · 预警 {yellow} · 正常 {green} · 暂停 {paused} · 督办 {urged}":
        "Open {open} · Overdue {red} · Warning {yellow} · On time {green} · Paused {paused} · Urged {urged}",
    "显示 {shown} / {total}": "Showing {shown} / {total}",
    "正在加载案卷…": "Loading cases…", "加载失败：{error}": "Loading failed: {error}",
    "暂停": "paused", "超时": "overdue", "红": "R", "黄": "Y", "绿": "G",
    # detail dock
    "未选择案卷": "No case selected", "位置": "Location", "地址": "Address", "描述": "Description",
    "计时": "Timer", "办理过程": "Timeline", "正在加载办理过程…": "Loading timeline…",
    "无计时": "No timer", "部件编码": "Component", "次": "times",
    "督办 {n} 次 · 返工 {m} 次": "Urged {n}× · Reworked {m}×",
    # status bar
    "数据库：{backend}": "Database: {backend}", "用户：{user}": "User: {user}", "未登录/演示": "Not signed in/demo",
    "比例尺 1:{scale}": "Scale 1:{scale}", "坐标 {x}, {y}": "Coordinates {x}, {y}",
    # plugins
    "插件状态": "Plugin status", "标识": "Id", "名称": "Name", "版本": "Version", "错误": "Error",
    "已发现": "discovered", "已校验": "validated", "已加载": "loaded", "已启用": "enabled",
    "已停用": "disabled", "失败": "failed", "关闭": "Close",
    # duban plugin
    "今日督办": "Urged today", "今日": "today", "督办 {n} 次": "urged {n}×",
    "暂无督办案卷": "No urged cases",
    "督办备注": "Urge with a note", "督办要点": "Points urged",
    "督办要点（记入办理过程）": "What is urged (recorded in the case history)",
    "为选中的案卷记录督办要点": "Record what is urged on the selected case",
    # identify panel
    "要素属性": "Feature attributes",
    "点击地图上的网格、部件或案卷查看属性": "Click a grid cell, component or case on the map to see its attributes",
    "字段": "Field", "值": "Value", "编码": "Code", "灯色": "Light",
    "面积(m²)": "Area (m²)", "社区": "Community", "街道": "Street", "旧编码": "Legacy code",
    "初始日期": "Initial date", "变更日期": "Changed date", "数据来源": "Data source", "备注": "Note",
    "案卷ID": "Case ID", "ID": "ID", "单元网格": "Grid cell", "部件": "Component",
    # case actions
    "办理": "Handle", "请先在队列中选择一件案卷": "Select a case in the queue first",
    "{number}：{action}完成，现为「{state}」": "{number}: {action} done, now “{state}”",
    "{number} 未能{action}：{error}": "{number}: could not {action}: {error}",
    # action dialogs
    "取消": "Cancel", "理由": "Reason", "内容": "Text", "延期时长": "Extension", "核查结果": "Check result",
    "照片": "Photos", "核实": "Verified", "原案卷号": "Original case no.", "立案标准": "Filing standard",
    " 分钟（1 个工作日 = 480 分钟）": " minutes (1 working day = 480 minutes)",
    "通过（待结案）": "Passed (to be closed)", "不通过（返工）": "Failed (rework)", "问题属实": "Problem confirmed",
    "正在加载立案标准…": "Loading the filing standard…", "案卷号，如 SJ2026112000001": "Case no., e.g. SJ2026112000001",
    "{label}不能为空": "{label} must not be empty",
    "写明现场是否属实及情况": "State whether the report is true and what you found on site",
    "不予立案的理由（将回复举报人）": "Why the case is not filed (the reporter will be told)",
    "本条与哪件案卷重复": "Which case this one duplicates",
    "为什么不属于本部门职责": "Why this is not your department's responsibility",
    "需要延长多久、为什么": "How much longer you need, and why",
    "缓办期间计时暂停": "The timer pauses while the case is deferred",
    "长期无法解决的原因": "Why it cannot be solved for a long time",
    "需值班长批准": "Needs the shift leader's approval",
    "不批准的理由（案卷回到申请前的状态）": "Why it is refused (the case returns to its state before the request)",
    "处置情况；附处置后照片": "What was done; attach photos taken afterwards",
    "不通过时必须写明理由（返工给原部门）": "A failed check needs a reason (rework goes back to the department)",
    "处置不合格的原因": "Why the handling is not acceptable",
    "作废的原因（记录保留）": "Why the case is voided (the record is kept)",
    "回复举报人的内容": "The reply to the reporter",
    # category picker, dispatch form, duplicates
    "类别代码或名称，如 06010 / 井盖": "Category code or name, e.g. 06010 / 井盖", "未选择类别": "No category selected",
    "派遣": "Dispatch", "正在加载…": "Loading…", "派遣给建议以外的部门时必填": "Required when dispatching outside the suggestions",
    "其他部门": "Other department", "处置时限": "Time limit", "派遣理由": "Dispatch reason", "（按上方建议）": "(as suggested above)",
    "序": "#", "部门": "Department", "建议理由": "Why suggested", "派遣建议（按优先顺序）": "Dispatch suggestions (in order of preference)",
    "没有派遣建议：请选择其他部门并填写理由": "No dispatch suggestions: choose another department and give a reason",
    "请选择一个建议的部门，或在“其他部门”中选择": "Choose a suggested department, or pick one under “Other department”",
    "所选部门不在派遣建议中：请填写派遣理由": "The chosen department is not among the suggestions: give a dispatch reason",
    "<b>{limit}</b>，截止 <b>{deadline}</b>": "<b>{limit}</b>, due <b>{deadline}</b>",
    "疑似重复：无": "Possible duplicates: none", "关联到此案卷（不重复立案）": "Link to this case (do not file twice)",
    "疑似重复 {n} 件：核对后可直接关联": "{n} possible duplicates: check them and link directly",
    # intake form
    "地图选点": "Pick on map", "在地图上点击问题位置（点在部件上则同时选中该部件）":
        "Click the problem's location on the map (clicking a component selects it too)",
    "部件标识码（16/17位）": "Component id (16/17 digits)", "地址，如 人民路 25 号": "Address, e.g. 人民路 25 号",
    "未定位": "Not located", "现场情况：什么问题、在哪里、影响多大": "On site: what the problem is, where, how serious",
    "上报 (Ctrl+Enter)": "Report (Ctrl+Enter)", "清空": "Clear", "举报人（选填）": "Reporter (optional)",
    "联系电话（选填）": "Phone (optional)", "举报人": "Reporter", "正在查询网格… ({x}, {y})": "Looking up the grid… ({x}, {y})",
    "网格 {code}": "Grid {code}", " · 部件 {code}": " · component {code}",
    "已登记：{number}（{state}）": "Registered: {number} ({state})", "未能上报：{message}": "Could not report: {message}",
    "请在地图上点击问题位置…": "Click the problem's location on the map…",
    "演示模式未登录：不能上报。请以受理员、监督员等身份登录":
        "Demo mode is not signed in: you cannot report. Sign in as an acceptor, supervisor or similar",
    "问题描述不能为空：请写明现场情况（什么问题、在哪里、影响多大）":
        "The description must not be empty: say what the problem is, where, and how serious",
    # login
    "登录 GridHall": "Sign in to GridHall", "用户名": "User name", "密码": "Password", "登录": "Sign in",
    "正在登录…": "Signing in…", "请输入用户名和密码": "Enter your user name and password",
    # photos
    "添加照片…": "Add photos…", "移除": "Remove", "选择照片": "Choose photos",
    "照片 (*.jpg *.jpeg *.png *.webp);;所有文件 (*)": "Photos (*.jpg *.jpeg *.png *.webp);;All files (*)",
    "「{name}」超过 {mb} MB，请压缩后再添加": "“{name}” is larger than {mb} MB; compress it and add it again",
    "「{name}」不是 JPEG/PNG/WebP 照片": "“{name}” is not a JPEG/PNG/WebP photo",
    "照片 ({n})": "Photos ({n})", "照片：无": "Photos: none", "无法读取「{name}」：{error}": "Cannot read “{name}”: {error}",
    # work desk: alerts, approvals, bulk, media, my queue, timers, workbench
    "超时（红灯）": "Overdue (red)", "即将超时（黄灯）": "Nearly overdue (yellow)", "新上报案卷": "New case reported",
    "{n} 件案卷{what}：{numbers} 等": "{n} cases — {what}: {numbers} …", "{what}：{number} {detail}": "{what}: {number} {detail}",
    "提醒": "Alerts", "暂无提醒": "No alerts", "提示音": "Alert sound", "提示音：关": "Sound: off", "提示音：开": "Sound: on",
    "新案卷、黄灯、红灯时发出提示音（默认关闭）": "Play a sound for new cases and yellow or red lights (off by default)",
    "历史 (0)": "History (0)", "历史 ({n})": "History ({n})",
    "待审批": "Approvals", "批准": "Approve", "不批准": "Refuse", "待审批 {n} 件": "{n} awaiting approval",
    "批量{action}": "Bulk {action}", "已选 {n} / {total} 件": "Selected {n} / {total}", "正在处理 {n} 件…": "Processing {n}…",
    "按各案卷的首选建议": "Each case's first suggestion", "派遣给": "Dispatch to", "结案备注（选填）": "Closing note (optional)",
    "当前筛选下没有「{state}」的案卷": "No “{state}” cases under the current filter",
    "照片与回复": "Photos and replies", "回复举报人": "Replies to reporter", "回复举报人 ({n})": "Replies to reporter ({n})",
    "自动": "automatic",
    "待我办理": "My queue", "办理下一件": "Next case", "选中最紧急的一件并打开它的第一个待办操作":
        "Select the most urgent case and open its first pending action",
    "{role}待办 {n} 件": "{role}: {n} to do", "新上报": "New report", "上报登记": "Report intake",
    "时限监控": "Timers", "超时 {n}": "Overdue {n}", "{stage}  {n} 件": "{stage}  {n}",
    "计时中 {n} 件，超时 {late} 件（悬停查看时限说明）": "{n} timed, {late} overdue (hover for the time-limit explanation)",
    "部门工作台": "Department desk", "本部门在办 {n} 件 · 待接收 {w} · 处置中 {h}":
        "Department open {n} · to accept {w} · handling {h}",
    # connection status (app.ui.live_status tables)
    "在线": "Online", "离线": "Offline", "重连中": "Reconnecting",
    "数据库连接：{status}": "Database connection: {status}",
    "今日督办: {today} · 督办: {total}": "Urged today: {today} · Urged: {total}",
    "数据库连接中断，操作已暂停，正在自动重连…": "Database connection lost; operations are paused while reconnecting…",
    # background jobs (app.ui.jobs) and 文件 → 校验审计链
    "取消这项后台任务；已写入的内容会回滚": "Cancel this background job; what it wrote is rolled back",
    "{title}：正在取消…": "{title}: cancelling…", "已取消：{title}": "Cancelled: {title}",
    "{title}失败：{error}": "{title} failed: {error}",
    "校验审计链": "Verify the audit chain", "校验审计链…": "Verify the audit chain…",
    "在后台校验所有案卷事件的哈希链": "Check the hash chain of every case event in the background",
    "正在校验…": "Verifying…",
    "审计链完整：所有案卷事件的哈希链校验通过": "Audit chain intact: the hash chain of every case event verified",
    "审计链被破坏：{problem}": "Audit chain broken: {problem}",
    # case commands (app.commands): fields, problems, bulk runs, the command line's verbs
    "核实结果": "Verification result", "处置前照片": "Photos before handling",
    "批准的延期时长": "Extension granted", "坐标": "Coordinates", "经纬度": "Longitude/latitude",
    "部件标识码": "Component id", "联系电话": "Phone", "登记新上报的问题": "Register a newly reported problem",
    "存储坐标系（EPSG:4549）中的点 X,Y": "A point X,Y in the store CRS (EPSG:4549)",
    "CGCS2000/WGS84 经度,纬度": "CGCS2000/WGS84 longitude,latitude",
    "17 位（或旧 16 位）部件标识码": "17-digit (or legacy 16-digit) component id",
    "地址；没有坐标时按地址定位": "Address; locates the case when no point is given",
    "如 event:06010 或 06010": "e.g. event:06010 or 06010", "一般/紧急/工程": "general/urgent/engineering",
    "一般/紧急/工程（general/urgent/engineering）": "general/urgent/engineering",
    "部门代码、名称或 id": "Department code, name or id",
    "延长的分钟数（1 个工作日 = 480 分钟）": "Minutes to extend by (1 working day = 480 minutes)",
    "批准延期的分钟数（默认按申请）": "Minutes of extension granted (default: as requested)",
    "{label}应在 {minimum} 到 {maximum} 之间": "{label} must be between {minimum} and {maximum}",
    "{label}应为整数": "{label} must be a whole number", "{label}应为：{choices}": "{label} must be one of: {choices}",
    "核查不通过时{label}不能为空": "A failed check needs a {label}",
    "成功 {done} 件，失败 {failed} 件": "{done} done, {failed} failed", "（{department}）": " ({department})",
    "{action}完成，现为「{state}」": "{action} done, now “{state}”",
    "当前筛选下没有可{action}的案卷": "No case under the current filter can be given “{action}”",
    "没有命令「{verb}」": "No command “{verb}”", "请选择「{verb}」的类型": "Choose the type of “{verb}”",
    "「{title}」不接受 {option}": "“{title}” does not take {option}", "{title}：{label}": "{title}: {label}",
    "「{label}」为否": "“{label}”: no", "「{label}」为是": "“{label}”: yes",
    # window layouts (app.views.layouts, app.ui.layouts)
    "重置布局": "Reset layout", "恢复本窗口模式的内置布局": "Restore this window mode's built-in layout",
    "已恢复内置布局：{name}": "Built-in layout restored: {name}",
    "布局 {source}：{problem}": "Layout {source}: {problem}",
    "不是有效的 TOML：{error}": "not valid TOML: {error}",
    "无法读取文件（{error}）": "the file cannot be read ({error})",
    "缺少 format = {supported}（布局文件格式的版本）": "format = {supported} (the layout file format) is missing",
    "format = {found} 不受支持，本版本读取 format = {supported}":
        "format = {found} is not supported; this version reads format = {supported}",
    "未知的键 {key}（可用：{allowed}）": "unknown key {key} (allowed: {allowed})",
    "{key} 必须是{kind}，不能是 {value}": "{key} must be {kind}, not {value}",
    "文字": "text", "true 或 false": "true or false", "文字列表": "a list of texts", "表": "a table",
    "表的数组": "an array of tables", "数字": "a number",
    "{key} = {value} 不是 {allowed} 之一": "{key} = {value} is not one of {allowed}",
    "尺寸 {key} = {value} 无效：写像素数（如 320）或百分比（如 \"25%\"）":
        "size {key} = {value} is invalid: write pixels (e.g. 320) or a percentage (e.g. \"25%\")",
    "{key}：面板编号 {dock} 无效（只允许字母、数字、点、下划线和连字符）":
        "{key}: dock id {dock} is invalid (letters, digits, dots, underscores and hyphens only)",
    "{key}：组里没有面板（docks 为空）": "{key}: the group names no docks (docks is empty)",
    "面板 {dock} 在布局中出现了不止一次": "dock {dock} appears more than once in the layout",
    "{key}：front = {dock} 不在该组的 docks 中": "{key}: front = {dock} is not one of the group's docks",
    "scale = {value} 超出范围（{low}–{high}）": "scale = {value} is out of range ({low}–{high})",
    "找不到 {mode} 模式的内置布局（{folder}），各面板放在默认位置":
        "no built-in layout for the {mode} mode ({folder}); every dock goes to its default place",
    "已改用内置布局 {name}": "using the built-in layout {name} instead",
    # command line: bounded numbers
    "应为整数，而不是「{text}」": "must be a whole number, not '{text}'",
    "应在 {low} 到 {high} 之间（不是 {value}）": "must be between {low} and {high} (not {value})",
}

# English names of the domain enums (their ``.label`` is Chinese).
_ENUM_EN: dict[type[Enum], dict[str, str]] = {
    CaseState: {
        "reported": "Reported", "verifying": "Verifying", "not_filed": "Not filed",
        "filed": "Awaiting dispatch", "dispatched": "Awaiting acceptance", "handling": "Handling",
        "return_requested": "Return requested", "extension_requested": "Extension requested",
        "defer_requested": "Deferral requested", "shelve_requested": "Shelving requested",
        "deferred": "Deferred", "shelved": "Shelved", "fed_back": "Awaiting check",
        "checking": "Checking", "checked": "Awaiting closing", "closed": "Closed",
        "void_requested": "Void requested", "voided": "Voided", "disputed": "Disputed (coordinating)",
    },
    Action: {
        "report": "Report", "send_verify": "Send to verify", "verify": "Verified", "file": "File",
        "reject": "Not filed", "dispatch": "Dispatch", "accept": "Accept",
        "request_return": "Request return", "request_extension": "Request extension",
        "request_defer": "Request deferral", "request_shelve": "Request shelving",
        "request_void": "Request void", "approve": "Approve", "refuse": "Refuse",
        "feedback": "Feedback", "send_check": "Send to check", "check": "Checked", "close": "Close",
        "rework": "Rework", "void": "Void", "urge": "Urge", "restore": "Restore",
        "reply": "Reply to reporter", "link": "Link duplicate", "edit": "Edit",
        "dispute": "Dispute responsibility", "rule": "Coordinator's ruling", "callback": "Call-back",
    },
    Role: {
        "acceptor": "Acceptor", "shift_leader": "Shift leader", "dispatcher": "Dispatcher",
        "supervisor": "Field supervisor", "department": "Department operator", "leader": "Leader",
        "analyst": "Analyst", "admin": "Administrator", "system": "System",
    },
    Level: {"general": "General", "urgent": "Urgent", "engineering": "Engineering"},
    Kind: {"component": "Component", "event": "Event"},
    Source: {
        "supervisor": "Supervisor", "hotline": "12319 hotline", "public": "Public report",
        "media": "Media", "video": "Video patrol", "police": "110 transfer", "leader": "Leader",
        "department": "Department",
    },
    Stage: {
        "accept": "Acceptance", "verify": "Verification", "dispatch": "Filing & dispatch",
        "handle": "Handling", "check": "Check", "close": "Closing",
    },
    Basis: {"working": "working time", "natural": "natural time"},
    Light: {"green": "Green", "yellow": "Yellow", "red": "Red", "none": "No timer"},
    ComponentStatus: {
        "intact": "Intact", "damaged": "Damaged", "lost": "Lost", "abandoned": "Abandoned", "removed": "Removed",
    },
    AreaLevel: {"district": "District", "street": "Street", "community": "Community"},
    DepartmentKind: {
        "bureau": "City bureau", "street_office": "Street office", "utility": "Public utility",
        "company": "Maintenance company", "centre": "Supervision and command centre",
    },
    Outcome: {"passed": "Passed", "failed": "Failed"},
}

# Enum labels also reach tr() as plain text (case action titles are their labels), and so do the
# tooltips and bulk titles built from them; entries written out above take precedence.
for _enum, _names in _ENUM_EN.items():
    for _member in _enum:
        _EN.setdefault(_member.label, _names[_member.value])
for _action in Action:
    _english = _ENUM_EN[Action][_action.value]
    _EN.setdefault(f"{_action.label}（选中的案卷）", f"{_english} (selected case)")
    _EN.setdefault(f"批量{_action.label}…", f"Bulk {_english[:1].lower()}{_english[1:]}…")

# Messages of the services, the store and the domain (errors, explanations) live in their own table.
for _text, _english in (*MESSAGES_EN.items(), *ADMIN_EN.items(), *STATS_EN.items(), *WALL_EN.items(),
                        *BASE_DATA_EN.items(), *OPEN311_EN.items(), *EXCHANGE_EN.items(), *DESK_EN.items(),
                        *BASE_MAINT_EN.items()):
    _EN.setdefault(_text, _english)


class Catalogue:
    """Translates user-visible strings and enum labels into one language."""

    def __init__(self, language: str = "zh_CN") -> None:
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(
                f"unsupported language '{language}'; choose one of: {', '.join(SUPPORTED_LANGUAGES)}"
            )
        self.language = language

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Catalogue:
        """The command line's catalogue: ``$GRIDHALL_LANG`` (zh_CN or en), Chinese when unset.

        Only this variable counts (not ``$LANG``): a server's locale must not change the
        language of the messages operators and scripts read.
        """
        value = (os.environ if environ is None else environ).get("GRIDHALL_LANG", "").strip()
        return cls(value if value in SUPPORTED_LANGUAGES else "zh_CN")

    def tr(self, text: str | Msg, **values: object) -> str:
        """The translation of ``text`` with ``{name}`` placeholders filled from ``values``.

        ``text`` may be a ``Msg`` (its own parameters are used); values that are enum members,
        messages or lists are shown in this language too (see ``app.domain.messages``).
        """
        if isinstance(text, Msg):
            return self.text(text)
        if self.language == "en":
            text = _EN.get(text, text)
        return text.format(**{k: self._value(v) for k, v in values.items()}) if values else text

    def text(self, message: str | Msg) -> str:
        """A message (or a plain source string) in this language."""
        if not isinstance(message, Msg):
            return self.tr(message)
        return message.render(self._lookup, self._value)

    def error(self, exc: BaseException) -> str:
        """The user's message for an error: its ``msg`` (or a ``Msg`` argument) translated, else ``str(exc)``."""
        message = getattr(exc, "msg", None)
        if not isinstance(message, Msg) and exc.args and isinstance(exc.args[0], Msg):
            message = exc.args[0]  # e.g. RuntimeError(Msg(…))
        return self.text(message) if isinstance(message, Msg) else str(exc)

    def _lookup(self, text: str) -> str:
        return _EN.get(text, text) if self.language == "en" else text

    def _value(self, value: object) -> object:
        if self.language != "en":
            return chinese(value)
        if isinstance(value, Msg):
            return self.text(value)
        if isinstance(value, Enum):
            return self.label(value)
        if isinstance(value, Seq):
            return value.en.join(str(self._value(v)) for v in value)
        if isinstance(value, (list, tuple)):
            return ", ".join(str(self._value(v)) for v in value)
        return value

    def label(self, member: Enum | None) -> str:
        """The display name of an enum member: its Chinese ``label`` or the English name."""
        if member is None:
            return ""
        if self.language == "en":
            names = _ENUM_EN.get(type(member), {})
            if member.value in names:
                return names[member.value]
        return getattr(member, "label", str(member.value))

    def label_of(self, enum: type[Enum], value: str | None) -> str:
        """Like :meth:`label` for a stored value string; unknown values are shown as they are."""
        if value is None:
            return ""
        try:
            return self.label(enum(value))
        except ValueError:
            return value


def english_missing(texts: list[str]) -> list[str]:
    """The texts that have no English entry (used by tests to keep the catalogue complete)."""
    return [t for t in texts if t not in _EN]
