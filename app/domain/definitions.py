"""Enumerations shared by every layer: states, actions, roles, levels, sources, lights.

Each member's value is the stable string stored in the database and used in the CLI;
``label`` is the Chinese name shown to users. Nothing here imports Qt, QGIS or SQL.
"""

from __future__ import annotations

from enum import Enum
from typing import Self


class _Labelled(str, Enum):  # noqa: UP042 (members carry a label; StrEnum adds nothing)
    """A string enum whose members carry a Chinese label."""

    label: str  # set per member by __new__ (an annotation only: not a member)

    # Builds the members from their (value, label) tuples. ``Kind("component")`` never reaches it
    # (the enum machinery looks the member up), hence the default: the call type-checks as a lookup.
    def __new__(cls, value: str, label: str = "") -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    def __str__(self) -> str:  # the stored value, not "Class.MEMBER"
        return self.value

    @classmethod
    def parse(cls, text: str) -> Self:
        """Member by value, name or Chinese label; ValueError naming the choices otherwise."""
        for m in cls:
            if text in (m.value, m.name, m.label):
                return m
        choices = ", ".join(f"{m.value} ({m.label})" for m in cls)
        raise ValueError(f"'{text}' is not a valid {cls.__name__}; choose one of: {choices}")


class Kind(_Labelled):
    """Whether a case (or category) is about a component (部件) or an event/matter (事件)."""

    COMPONENT = ("component", "部件")
    EVENT = ("event", "事件")


class Level(_Labelled):
    """Handling level of a case; each has its own time limit."""

    GENERAL = ("general", "一般")
    URGENT = ("urgent", "紧急")
    ENGINEERING = ("engineering", "工程")


class Role(_Labelled):
    """Roles of the closed loop (standards.md §3)."""

    ACCEPTOR = ("acceptor", "受理员")
    SHIFT_LEADER = ("shift_leader", "值班长")
    DISPATCHER = ("dispatcher", "派遣员")
    SUPERVISOR = ("supervisor", "监督员")
    DEPARTMENT = ("department", "专业部门操作员")
    LEADER = ("leader", "领导")
    ANALYST = ("analyst", "分析员")
    ADMIN = ("admin", "管理员")
    SYSTEM = ("system", "系统")


class Source(_Labelled):
    """Channel through which a report arrived."""

    SUPERVISOR = ("supervisor", "监督员上报")
    HOTLINE = ("hotline", "12319热线")
    PUBLIC = ("public", "公众举报")
    MEDIA = ("media", "媒体曝光")
    VIDEO = ("video", "视频巡查")
    POLICE = ("police", "110转办")
    LEADER = ("leader", "领导交办")
    DEPARTMENT = ("department", "部门上报")


class CaseState(_Labelled):
    """Every state a case can be in (standards.md §3)."""

    REPORTED = ("reported", "已上报")
    VERIFYING = ("verifying", "核实中")
    NOT_FILED = ("not_filed", "不予立案")
    FILED = ("filed", "待派遣")
    DISPATCHED = ("dispatched", "待接收")
    HANDLING = ("handling", "处置中")
    RETURN_REQUESTED = ("return_requested", "回退申请中")
    EXTENSION_REQUESTED = ("extension_requested", "延期申请中")
    DEFER_REQUESTED = ("defer_requested", "缓办申请中")
    SHELVE_REQUESTED = ("shelve_requested", "挂账申请中")
    DEFERRED = ("deferred", "缓办")
    SHELVED = ("shelved", "挂账")
    FED_BACK = ("fed_back", "待核查")
    CHECKING = ("checking", "核查中")
    CHECKED = ("checked", "待结案")
    CLOSED = ("closed", "已结案")
    VOID_REQUESTED = ("void_requested", "作废申请中")
    VOIDED = ("voided", "已作废")
    DISPUTED = ("disputed", "争议协调中")

    @property
    def is_terminal(self) -> bool:
        return self in (CaseState.CLOSED, CaseState.VOIDED, CaseState.NOT_FILED)


OPEN_STATES = frozenset(s for s in CaseState if not s.is_terminal)


class Action(_Labelled):
    """Every operation recorded as a case event."""

    REPORT = ("report", "上报")
    SEND_VERIFY = ("send_verify", "派发核实")
    VERIFY = ("verify", "核实回复")
    FILE = ("file", "立案")
    REJECT = ("reject", "不予立案")
    DISPATCH = ("dispatch", "派遣")
    ACCEPT = ("accept", "接收")
    REQUEST_RETURN = ("request_return", "申请回退")
    REQUEST_EXTENSION = ("request_extension", "申请延期")
    REQUEST_DEFER = ("request_defer", "申请缓办")
    REQUEST_SHELVE = ("request_shelve", "申请挂账")
    REQUEST_VOID = ("request_void", "申请作废")
    APPROVE = ("approve", "批准")
    REFUSE = ("refuse", "不批准")
    FEEDBACK = ("feedback", "处置反馈")
    SEND_CHECK = ("send_check", "派发核查")
    CHECK = ("check", "核查回复")
    CLOSE = ("close", "结案")
    REWORK = ("rework", "返工")
    VOID = ("void", "作废")
    URGE = ("urge", "督办")
    RESTORE = ("restore", "恢复")
    REPLY = ("reply", "回复举报人")
    LINK = ("link", "关联重复")
    EDIT = ("edit", "修改")
    DISPUTE = ("dispute", "职责争议")
    RULE = ("rule", "协调裁定")
    CALLBACK = ("callback", "回访")


class Stage(_Labelled):
    """Which timed stage a case's running timer belongs to."""

    ACCEPT = ("accept", "受理")
    VERIFY = ("verify", "核实")
    DISPATCH = ("dispatch", "立案派遣")
    HANDLE = ("handle", "处置")
    CHECK = ("check", "核查")
    CLOSE = ("close", "结案")


class Basis(_Labelled):
    """How a time limit is counted."""

    WORKING = ("working", "工作时间")
    NATURAL = ("natural", "自然时间")


class Light(_Labelled):
    """Traffic light of a running timer (green ≤ 80 %, yellow ≤ 100 %, red beyond)."""

    GREEN = ("green", "绿灯")
    YELLOW = ("yellow", "黄灯")
    RED = ("red", "红灯")
    NONE = ("none", "无计时")


class ComponentStatus(_Labelled):
    """管理部件状态 (GB/T 47678.5)."""

    INTACT = ("intact", "完好")
    DAMAGED = ("damaged", "破损")
    LOST = ("lost", "丢失")
    ABANDONED = ("abandoned", "废弃")
    REMOVED = ("removed", "移除")


class AreaLevel(_Labelled):
    """Level of an administrative area."""

    DISTRICT = ("district", "区")
    STREET = ("street", "街道")
    COMMUNITY = ("community", "社区")


class DepartmentKind(_Labelled):
    """Kind of a responsible department."""

    BUREAU = ("bureau", "市级部门")
    STREET_OFFICE = ("street_office", "街道办事处")
    UTILITY = ("utility", "公用事业单位")
    COMPANY = ("company", "养护企业")
    CENTRE = ("centre", "监督指挥中心")


#: The store's coordinate reference system: CGCS2000 / 3-degree Gauss-Kruger CM 120E.
STORE_SRID = 4549
