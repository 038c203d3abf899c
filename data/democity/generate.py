"""``gridhall demo``: fill an empty store with a deterministic fictitious district of Suzhou.

Same seed and same ``now`` give identical database content, audit hashes included.
Everything is written in one transaction: a failure or a cancel leaves no partial demo. The
schema that ``init_db`` commits first on an empty target is undone too (data.democity.pristine):
a file made for the demo is removed, an empty file goes back to zero bytes, an empty PostgreSQL
database loses the tables, functions and types the init made.
"""

from __future__ import annotations

import logging
import random
import time as _time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.calendar import WorkCalendar
from app.domain.clock import Clock, SystemClock
from app.domain.limits import LimitTable
from app.jobs.feedback import Feedback
from app.store.bulk import BulkLoad
from app.store.engine import Store
from app.store.models import Category
from data.democity.cases import CaseFactory
from data.democity.errors import CANCELLED, DemoCancelled, DemoError
from data.democity.geography import City
from data.democity.history import Clockwork
from data.democity.params import DEFAULT_NOW, SCALES
from data.democity.pristine import Pristine
from data.democity.static import StaticWriter
from data.democity.stream import CaseStream
from data.democity.timing import Timing
from data.democity.writer import FILLED

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)


@dataclass
class DemoSummary:
    """What the demo generator wrote."""

    scale: str
    seed: int
    now: datetime
    streets: int = 0
    communities: int = 0
    grids: int = 0
    roads: int = 0
    components: int = 0
    departments: int = 0
    users: int = 0
    cases: int = 0
    events: int = 0
    open_by_state: dict[str, int] = field(default_factory=dict)
    open_by_light: dict[str, int] = field(default_factory=dict)
    audit_hash: str = ""
    seconds: float = 0.0

    @property
    def open_cases(self) -> int:
        return sum(self.open_by_state.values())

    def __str__(self) -> str:
        from app.domain.definitions import CaseState, Light

        states = "、".join(f"{CaseState(s).label} {n}" for s, n in sorted(self.open_by_state.items()))
        label = {m.value: m.label for m in Light} | {"paused": "暂停计时"}
        lights = "、".join(f"{label[k]} {n}" for k, n in sorted(self.open_by_light.items()))
        return (f"演示数据已生成（规模 {self.scale}，种子 {self.seed}，截至 {self.now:%Y-%m-%d %H:%M}，"
                f"用时 {self.seconds:.1f} 秒）：\n"
                f"  街道 {self.streets} 个，社区 {self.communities} 个，单元网格 {self.grids} 个，道路 {self.roads} 条\n"
                f"  部件 {self.components} 个，部门 {self.departments} 个，用户 {self.users} 人\n"
                f"  案卷 {self.cases} 件，案卷事件 {self.events} 条，在办 {self.open_cases} 件\n"
                f"  在办状态：{states}\n"
                f"  计时灯：{lights}\n"
                f"  审计链头：{self.audit_hash[:16]}…")


def generate(url, *, seed: int = 1, scale: str = "district", now: datetime | None = DEFAULT_NOW,
             clock: Clock | None = None, progress: Progress | None = None,
             cancel: Callable[[], bool] | None = None, feedback: Feedback | None = None) -> DemoSummary:
    """Create (if needed) and fill the store at ``url``; returns what was written.

    ``now`` is the demo's present (default 2026-11-20 10:30, a Friday); ``now=None`` takes
    it from ``clock`` (default the system clock) so open cases' lights spread at the real time.
    ``progress(fraction, message)`` is called along the way; ``cancel()`` returning True stops
    and rolls everything back. ``feedback`` (an app.jobs.Feedback) gets the same reports and
    its cancel works like ``cancel``; a cancel raises DemoCancelled (also an app.jobs.Cancelled).
    Raises DemoError (or another StoreError) with a clear message; a failed or cancelled
    generation leaves the store as it was: the data is one transaction (app.store.bulk) and on
    an empty target the schema init_db made is undone (data.democity.pristine).
    """
    if scale not in SCALES:
        raise DemoError(f"未知的演示规模 {scale!r}：可选 district（一个区，约 1.8 万件案卷）或 "
                        "city（全市基准测试规模，约 100 万件案卷，需数分钟）")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DemoError(f"随机种子必须是非负整数，收到 {seed!r}")
    if now is None:
        now = (clock or SystemClock()).now()
    now = now.replace(microsecond=0)
    started = _time.monotonic()

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)
        if feedback is not None:
            feedback.progress(fraction, message)

    def stop() -> bool:
        return bool((cancel is not None and cancel()) or (feedback is not None and feedback.cancelled))

    from app.store.commands import init_db

    if stop():  # before init_db commits anything
        raise DemoCancelled(CANCELLED)
    pristine = Pristine.capture(url)
    try:
        store = init_db(url)
    except BaseException as exc:
        _undo(pristine, exc)  # init_db removes a file it made; a database it made stays otherwise
        raise
    try:
        summary = _fill(store, SCALES[scale], seed, now, report, stop)
        from app.store.supervisors import place_at_their_grids  # supervisors on patrol (issue 11)
        place_at_their_grids(store, now)
    except BaseException as exc:
        store.dispose()
        _undo(pristine, exc)
        raise
    store.dispose()
    summary.seconds = _time.monotonic() - started
    report(1.0, "完成")
    return summary


def _undo(pristine: Pristine | None, exc: BaseException) -> None:
    """Put an empty target back as it was before init_db; never hides ``exc``."""
    if pristine is None:
        return
    try:
        pristine.restore()
    except Exception as undo_error:
        log.warning("demo: could not undo the schema made for the demo: %s", undo_error)
        exc.add_note(f"清理为演示建立的表结构失败：{undo_error}")


def _fill(store: Store, spec, seed: int, now: datetime, report: Progress, stop) -> DemoSummary:
    rng = random.Random(seed)
    summary = DemoSummary(spec.name, seed, now)
    with BulkLoad(store, separate_process=spec.writer_process) as load:
        have = load.nonempty(FILLED)
        if have:
            listed = "、".join(f"{t} {n} 行" for t, n in have.items())
            raise DemoError(f"数据库已有数据（{listed}），演示数据只能生成到空数据库，未写入任何内容。"
                            f"请换一个新的数据库文件（例如 --db data/demo/new.sqlite），或删除/重建该数据库后再试")
        cats = {(k, c): (i, n, m) for i, k, c, n, m in load.select(
            Category.__table__, ["id", "kind", "code", "name", "major_code"])}
        if not any(k == "event" for k, _ in cats):
            raise DemoError("categories 表为空：请先运行 gridhall db init 导入 GB/T 47678.5 分类")
        load.prepare()
        report(0.02, "生成地理底图")
        city = City(spec, rng)
        static = StaticWriter(load, city, spec, cats, rng, now)
        static.write_areas_and_org()
        summary.streets, summary.communities = len(city.streets), len(city.communities)
        summary.grids, summary.roads = len(city.grids), len(city.roads)
        summary.departments, summary.users = len(static.depts), len(static.people)
        if stop():
            raise DemoCancelled(CANCELLED)
        report(0.06, "布设部件")
        refs = static.write_components(stop, report)
        summary.components = len(refs)
        if stop():
            raise DemoCancelled(CANCELLED)
        report(0.12, "生成案卷历史")
        cal = WorkCalendar()
        clockwork = Clockwork(Timing(cal, rng), LimitTable.load())
        event_codes = {c: n for (k, c), (_i, n, _m) in cats.items() if k == "event"}
        factory = CaseFactory(city, refs, event_codes, event_codes, clockwork, rng)
        factory.all_depts = [d.key for d in static.depts if d.kind != "centre"]
        stream = CaseStream(load, spec, factory, clockwork, static, cats, now, rng)
        head = stream.run(stop, lambda f, m: report(0.12 + 0.78 * f, m))
        summary.cases, summary.events = stream.cases, head[0]
        summary.open_by_state = dict(sorted(Counter(stream.open_states).items()))
        summary.open_by_light = dict(sorted(Counter(stream.open_lights).items()))
        summary.audit_hash = head[1]
        report(0.90, "写入数据库")
        load.flush()

        def check() -> None:
            if stop():
                raise DemoCancelled(CANCELLED)

        check()
        load.finish(head, lambda f, m: report(0.92 + 0.07 * f, m or "提交事务"), check)
    return summary


__all__ = ["DemoCancelled", "DemoError", "DemoSummary", "generate"]
