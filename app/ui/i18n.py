"""Dict-based message catalogue: Chinese source strings, English on request (``--lang en``)."""

from __future__ import annotations

from enum import Enum

from app.domain.definitions import (
    Action,
    Basis,
    CaseState,
    Kind,
    Level,
    Light,
    Role,
    Source,
    Stage,
)

SUPPORTED_LANGUAGES = ("zh_CN", "en")

# Source strings are the Chinese texts themselves (gettext style), so the default
# language needs no table and a missing English entry still shows something readable.
_EN: dict[str, str] = {
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
    "来源": "Source", "上报时间": "Reported", "督办": "Urged",
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
        "void_requested": "Void requested", "voided": "Voided",
    },
    Action: {
        "report": "Report", "send_verify": "Send to verify", "verify": "Verified", "file": "File",
        "reject": "Not filed", "dispatch": "Dispatch", "accept": "Accept",
        "request_return": "Request return", "request_extension": "Request extension",
        "request_defer": "Request deferral", "request_shelve": "Request shelving",
        "request_void": "Request void", "approve": "Approve", "refuse": "Refuse",
        "feedback": "Feedback", "send_check": "Send to check", "check": "Checked", "close": "Close",
        "rework": "Rework", "void": "Void", "urge": "Urge", "restore": "Restore",
        "reply": "Reply to reporter", "link": "Link duplicate",
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
}


class Catalogue:
    """Translates user-visible strings and enum labels into one language."""

    def __init__(self, language: str = "zh_CN") -> None:
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(
                f"unsupported language '{language}'; choose one of: {', '.join(SUPPORTED_LANGUAGES)}"
            )
        self.language = language

    def tr(self, text: str, **values: object) -> str:
        """The translation of ``text`` with ``{name}`` placeholders filled from ``values``."""
        if self.language == "en":
            text = _EN.get(text, text)
        return text.format(**values) if values else text

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
