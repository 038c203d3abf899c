"""An in-memory :class:`CaseSource` and a deterministic sample queue (demos, screenshots, tests)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from app.domain.cases import CaseEventRecord, CaseSummary, TimerSpec
from app.domain.definitions import Basis, CaseState, Kind, Level, Source, Stage


class MemoryCaseSource:
    """A CaseSource over lists held in memory; counts calls so callers can check caching."""

    def __init__(self, cases: list[CaseSummary], events: dict[int, list[CaseEventRecord]] | None = None):
        self.cases = list(cases)
        self.timelines = dict(events or {})
        self.open_cases_calls = 0
        self.events_calls = 0
        self._lock = threading.Lock()  # called from worker threads

    def open_cases(self) -> list[CaseSummary]:
        with self._lock:
            self.open_cases_calls += 1
            return list(self.cases)

    def events(self, case_id: int) -> list[CaseEventRecord]:
        with self._lock:
            self.events_calls += 1
            return list(self.timelines.get(case_id, []))


# (category code, name, kind, department code, department name, street, community, address)
_SAMPLES = (
    ("06010", "暴露垃圾", Kind.EVENT, "D01", "区环卫所", "城东街道", "明珠社区", "人民路128号东侧"),
    ("01002", "污水井盖", Kind.COMPONENT, "D02", "区排水公司", "城东街道", "青年社区", "解放路与青年路交叉口"),
    ("07001", "非法小广告", Kind.EVENT, "D03", "城东街道办", "城东街道", "明珠社区", "明珠花园3幢楼道"),
    ("09005", "店外经营", Kind.EVENT, "D04", "区城管执法大队", "城西街道", "望湖社区", "望湖路56号"),
    ("06012", "道路不洁", Kind.EVENT, "D01", "区环卫所", "城西街道", "西园社区", "西园路中段"),
    ("06001", "私搭乱建", Kind.EVENT, "D04", "区城管执法大队", "城北街道", "北苑社区", "北苑新村12幢"),
    ("01004", "雨水箅子", Kind.COMPONENT, "D02", "区排水公司", "城北街道", "北苑社区", "北苑路公交站旁"),
    ("06028", "噪声扰民", Kind.EVENT, "D05", "区生态环境局", "城东街道", "青年社区", "青年路88号工地"),
    ("06013", "道路破损", Kind.EVENT, "D06", "区市政工程处", "城西街道", "望湖社区", "望湖路与湖滨路口"),
    ("07003", "违规户外广告", Kind.EVENT, "D03", "城东街道办", "城东街道", "明珠社区", "人民路200号楼顶"),
    ("06011", "积存垃圾渣土", Kind.EVENT, "D01", "区环卫所", "城北街道", "北苑社区", "北苑路东侧空地"),
    ("09001", "无照经营游商", Kind.EVENT, "D04", "区城管执法大队", "城西街道", "西园社区", "西园菜场门口"),
    ("01001", "供水井盖", Kind.COMPONENT, "D07", "市自来水公司", "城东街道", "青年社区", "青年路12号门前"),
    ("06029", "露天烧烤", Kind.EVENT, "D04", "区城管执法大队", "城北街道", "北苑社区", "北苑夜市"),
)
# (minutes the timer started before now, limit, basis, level, state, stage, urged, paused)
_TIMERS = (
    (600, 240, Basis.NATURAL, Level.URGENT, CaseState.HANDLING, Stage.HANDLE, 2, False),
    (200, 360, Basis.NATURAL, Level.URGENT, CaseState.DISPATCHED, Stage.HANDLE, 0, False),
    (90, 480, Basis.WORKING, Level.GENERAL, CaseState.HANDLING, Stage.HANDLE, 0, False),
    (35, 30, Basis.NATURAL, Level.GENERAL, CaseState.FILED, Stage.DISPATCH, 0, False),
    (100, 120, Basis.NATURAL, Level.GENERAL, CaseState.HANDLING, Stage.HANDLE, 1, False),
    (3000, 9600, Basis.NATURAL, Level.ENGINEERING, CaseState.DEFERRED, Stage.HANDLE, 0, True),
    (50, 360, Basis.NATURAL, Level.URGENT, CaseState.HANDLING, Stage.HANDLE, 0, False),
    (20, 60, Basis.NATURAL, Level.GENERAL, CaseState.CHECKING, Stage.CHECK, 0, False),
    (1500, 1440, Basis.NATURAL, Level.GENERAL, CaseState.HANDLING, Stage.HANDLE, 3, False),
    (10, 30, Basis.NATURAL, Level.GENERAL, CaseState.FILED, Stage.DISPATCH, 0, False),
    (400, 960, Basis.NATURAL, Level.GENERAL, CaseState.EXTENSION_REQUESTED, Stage.HANDLE, 0, False),
    (110, 120, Basis.NATURAL, Level.GENERAL, CaseState.FED_BACK, Stage.CHECK, 0, False),
    (5, 0, Basis.NATURAL, Level.GENERAL, CaseState.VERIFYING, Stage.VERIFY, 0, False),
    (300, 480, Basis.NATURAL, Level.GENERAL, CaseState.HANDLING, Stage.HANDLE, 1, False),
)
_SOURCES = (Source.SUPERVISOR, Source.HOTLINE, Source.SUPERVISOR, Source.PUBLIC, Source.VIDEO,
            Source.SUPERVISOR, Source.LEADER)


def sample_cases(now: datetime) -> list[CaseSummary]:
    """Fourteen open cases spread over lights, states and departments, timed relative to ``now``."""
    rows = []
    for i, (sample, timer) in enumerate(zip(_SAMPLES, _TIMERS, strict=True), start=1):
        code, name, kind, dept, dept_name, street, community, address = sample
        ago, limit, basis, level, state, stage, urged, paused = timer
        started = now - timedelta(minutes=ago)
        spec = None
        if limit:
            spec = TimerSpec(stage, basis, limit, started,
                             paused_since=started + timedelta(minutes=ago // 2) if paused else None)
        rows.append(CaseSummary(
            id=i,
            number=f"{'B' if kind is Kind.COMPONENT else 'S'}{code[:4]}{now:%Y%m%d}{i:04d}",
            kind=kind, category_code=code, category_name=name, level=level, state=state,
            source=_SOURCES[i % len(_SOURCES)], reported_at=started - timedelta(minutes=25),
            x=40_501_000.0 + 137.0 * i, y=3_551_000.0 + 91.0 * i,
            grid_code=f"320582{(i % 3) + 1:03d}{(i % 4) + 1:03d}{i:03d}",
            street_name=street, community_name=community, department_code=dept,
            department_name=dept_name, address=address,
            description=f"{address}发现{name}，请尽快处置。", urge_count=urged,
            rework_count=1 if i == 9 else 0, timer=spec,
        ))
    return rows


def sample_events(case: CaseSummary) -> list[CaseEventRecord]:
    """A plausible timeline for a sample case."""
    t = case.reported_at
    steps = [
        ("report", None, "reported", "李明", "supervisor", None, None),
        ("file", "reported", "filed", "王芳", "shift_leader", None, None),
        ("dispatch", "filed", "dispatched", "赵强", "dispatcher", None, "属地管理，派至责任部门"),
        ("accept", "dispatched", "handling", "孙丽", "department", case.department_name, None),
    ]
    events = [CaseEventRecord(n, t + timedelta(minutes=7 * n), a, f, to, actor, role, dept, reason)
              for n, (a, f, to, actor, role, dept, reason) in enumerate(steps, start=1)]
    if case.urge_count:
        events.append(CaseEventRecord(len(events) + 1, t + timedelta(minutes=40), "urge", "handling",
                                      "handling", "陈局长", "leader", None, "群众反映强烈，请加快处置"))
    return events


def case_row(
    case_id: int,
    now: datetime,
    *,
    limit_minutes: int | None = 100,
    started_minutes_ago: float = 0,
    basis: Basis = Basis.NATURAL,
    state: CaseState = CaseState.HANDLING,
    category: tuple[str, str] = ("06010", "暴露垃圾"),
    department: tuple[str, str] | None = ("D01", "区环卫所"),
    grid_code: str = "320582001001001",
    urge_count: int = 0,
    paused: bool = False,
) -> CaseSummary:
    """One queue row with a timer that started ``started_minutes_ago`` before ``now``."""
    started = now - timedelta(minutes=started_minutes_ago)
    timer = None
    if limit_minutes is not None:
        timer = TimerSpec(Stage.HANDLE, basis, limit_minutes, started, paused_since=now if paused else None)
    return CaseSummary(
        id=case_id, number=f"S{category[0][:4]}{now:%Y%m%d}{case_id:04d}", kind=Kind.EVENT,
        category_code=category[0], category_name=category[1], level=Level.GENERAL, state=state,
        source=Source.SUPERVISOR, reported_at=started, x=1000.0 + case_id, y=2000.0 + case_id,
        grid_code=grid_code, street_name="城东街道", community_name="明珠社区",
        department_code=department[0] if department else None,
        department_name=department[1] if department else None,
        address=f"人民路{case_id}号", urge_count=urge_count, timer=timer,
    )
