"""Stream a year of cases into the store day by day, events hash-chained in time order.

Cases are drawn per day and numbered by kind and day (S = 事件 event, B = 部件 component:
``S20261120-0042``: unique, sorted by date, easy to read over the phone). Their events go
into a heap and are chained and written once no later case can precede them, so the chain
order is the order in which things happened and memory stays bounded at city scale.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
from collections import defaultdict
from datetime import datetime, timedelta
from json.encoder import encode_basestring  # json.dumps(ensure_ascii=False)'s string encoder

from app.domain.audit import GENESIS_HASH
from app.domain.cases import TimerSpec
from app.domain.deadlines import deadline
from app.domain.definitions import Stage
from app.domain.workflow import stage_for
from app.services.timers import basis_minutes
from app.store.bulk import BulkLoad
from app.store.models import Case, CaseEvent
from data.democity.cases import CaseFactory
from data.democity.errors import CANCELLED, DemoCancelled
from data.democity.history import Clockwork, Draft

CASE_BATCH = 5000
EVENT_BATCH = 20000
CASE_COLUMNS = (
    "id", "number", "kind", "category_id", "level", "state", "source", "grid_id", "component_id", "address",
    "description", "reporter_name", "reporter_phone", "department_id", "duplicate_of_id", "reported_at",
    "filed_at", "dispatched_at", "fed_back_at", "closed_at", "stage", "timer_basis", "limit_minutes",
    "timer_started_at", "paused_since", "paused_minutes", "extension_minutes", "deadline_at",
    "handle_deadline_at", "urge_count", "rework_count", "version", "updated_at", "urge_level", "geom",
)
EVENT_COLUMNS = (
    "id", "chain_no", "case_id", "seq", "action", "from_state", "to_state", "actor", "role", "department_id",
    "at", "reason", "payload", "prev_hash", "hash",
)
_STAMPS = {"dispatch": "dispatched", "feedback": "fed_back", "close": "closed"}
#: 督办 levels drawn for the urges (1 一般 most often; app.domain.loop.URGE_LEVELS).
_URGE_LEVELS = (1, 1, 1, 1, 1, 1, 2, 2, 2, 3)


class CaseStream:
    """Generates and writes every case and event; counts what it wrote."""

    def __init__(self, load: BulkLoad, spec, factory: CaseFactory, clockwork: Clockwork, static,
                 cats: dict, now: datetime, rng: random.Random):
        self.load, self.spec, self.factory, self.clock = load, spec, factory, clockwork
        self.static, self.cats, self.now, self.rng = static, cats, now, rng
        self.cases = 0
        self.open_states: list[str] = []
        self.open_lights: list[str] = []
        self._heap: list = []
        self._case_rows: list[tuple] = []
        self._events: list[tuple] = []
        self._head = (0, GENESIS_HASH)

    def run(self, stop, report) -> tuple[int, str]:
        """Write all cases and events; returns the new audit head (chain_no, hash)."""
        spec, now = self.spec, self.now
        opened: dict = defaultdict(list)
        for d in self.factory.open_cases(spec.open_cases, now):
            opened[d.times[0].date()].append(d)
        first = now.date() - timedelta(days=spec.days - 1)
        day = min([first, *opened])
        per_day = max(0.0, (spec.cases - spec.open_cases) / spec.days)
        total_days = (now.date() - day).days + 1
        late = now - timedelta(minutes=10)
        for n in range(total_days):
            if stop():
                raise DemoCancelled(CANCELLED)
            drafts: list[Draft] = []
            if day >= first:
                factor = 1.12 if self.clock.cal.is_workday(day) else 0.72
                count = int(per_day * factor + self.rng.random())
                terminal = self.factory.terminal
                compact = spec.compact_closed
                for _ in range(count):
                    d = terminal(day, compact)
                    if d.times[-1] <= late:
                        drafts.append(d)
            drafts += opened.pop(day, [])
            drafts.sort(key=lambda d: d.times[0])
            self._number(day, drafts)
            day += timedelta(days=1)
            self._flush_events(datetime.combine(day, datetime.min.time()))
            if n % 5 == 0:
                report(n / total_days, f"生成案卷历史 {day:%Y-%m-%d}（{self.cases} 件）")
        self._flush_events(None)
        self._write_cases()
        self._write_events()
        return self._head

    def _number(self, day, drafts: list[Draft]) -> None:
        seq = {"event": 0, "component": 0}
        stamp = f"{day:%Y%m%d}"
        for d in drafts:
            seq[d.kind] += 1
            self.cases += 1
            number = f"{'B' if d.kind == 'component' else 'S'}{stamp}-{seq[d.kind]:04d}"
            self._add(self.cases, number, d)

    def _add(self, case_id: int, number: str, d: Draft) -> None:
        st = self.static
        rng = self.rng
        dept_id = st.dept_id
        dept_of = {"case": d.dept, "wrong": d.wrong_dept}
        current_dept = None
        prev = None
        stamps: dict[str, datetime] = {}
        heap = self._heap
        urge_level = 0
        timer: dict = {}  # the running limit as the live services keep it (stage, start, pauses, extension)
        for seq, (step, at) in enumerate(zip(d.steps, d.times, strict=True), start=1):
            key = dept_of.get(step.dept) if step.dept else None
            role = step.role
            if role == "supervisor":
                actor = st.grid_supervisor[d.grid]
            elif role == "department":
                actor = rng.choice(st.operators[key])
            else:
                actor = rng.choice(st.by_role[role])
            action = step.action
            payload = step.payload
            restart = action == "dispatch" or (action == "check" and step.to_state == "dispatched") \
                or (action == "rule" and key != current_dept)
            if action == "report":  # the case's facts, as CaseService.report records them
                payload = self._report_facts(d)
            elif action in ("approve", "refuse"):  # the request decided (as app.services.dispatch)
                payload = {"request": prev, **(payload or {})}
            if action == "dispatch":
                current_dept = key
                payload = self._department(key)  # code and name, as the services record them
            elif action == "urge":  # the payload CaseService.urge writes (level only: no urge deadline here)
                d.urges += 1
                level = _URGE_LEVELS[(case_id * 31 + seq) % len(_URGE_LEVELS)]
                urge_level = max(urge_level, level)
                payload = {"urge_count": d.urges, "urge_level": level}
            elif action == "rule":  # as CaseService.rule: the department ruled responsible (a new one: a new limit)
                if key != current_dept:
                    stamps["dispatched"] = at
                    payload = {**payload, **self._department(key), **self._handle_limit(d, at)}
                else:
                    payload = {**payload, **self._department(key)}
                current_dept = key
            elif action == "callback":  # as CaseService.callback: the department evaluated
                payload = {**payload, **self._department(current_dept)}
            elif action == "check" and step.to_state == "dispatched":
                d.reworks += 1
            elif action == "file":
                stamps.setdefault("filed", at)
            payload = self._timed(d, timer, action, prev, step.to_state, at, payload, restart)
            name = _STAMPS.get(action)
            if name:
                stamps[name] = at
            heapq.heappush(heap, (at, case_id, seq, (action, prev, step.to_state, actor, role,
                                                     dept_id[key] if key else None, at, step.reason,
                                                     payload or None)))
            prev = step.to_state
        timer = d.timer
        reporter = d.reporter
        x, y = d.point
        self._case_rows.append((
            case_id, number, d.kind, self.cats[("event", d.code)][0], d.level, prev, d.source, d.grid + 1,
            d.component, d.address, d.description, reporter[0] if reporter else None,
            reporter[1] if reporter else None, dept_id[current_dept] if current_dept else None, None,
            d.times[0], stamps.get("filed"), stamps.get("dispatched"), stamps.get("fed_back"), stamps.get("closed"),
            timer.stage.value if timer else None, timer.basis.value if timer else None,
            timer.limit_minutes if timer else None, timer.started_at if timer else None,
            timer.paused_since if timer else None, 0, timer.extension_minutes if timer else 0,
            self.clock.deadline_of(d) if timer else None, self.clock.handle_deadline(d), d.urges, d.reworks,
            len(d.steps), d.times[-1], urge_level, float(f"{x:.2f}"), float(f"{y:.2f}"),
        ))
        if timer:
            self.open_states.append(prev)
            paused = timer.paused_since is not None
            self.open_lights.append("paused" if paused else self.clock.light_of(d, self.now).value)
        if len(self._case_rows) >= CASE_BATCH:
            self._write_cases()

    def _department(self, key: str | None) -> dict:
        """A department as the live services name it in an event payload (code and name)."""
        names = getattr(self, "_dept_names", None)
        if names is None:
            names = self._dept_names = {d.key: (d.code, d.name) for d in self.static.depts}
        if key is None:
            return {}
        code, name = names[key]
        return {"department": code, "department_name": name}

    def _report_facts(self, d: Draft) -> dict:
        """The report payload of CaseService.report: location and the case's facts (codes)."""
        city = self.static.city
        grid = city.grids[d.grid]
        streets = getattr(self, "_street_of", None)
        if streets is None:
            streets = self._street_of = {c.code: c.parent_code for c in city.communities}
        x, y = d.point
        return {"location": "component" if d.component else "point", "grid": grid.code, "x": round(x, 2),
                "y": round(y, 2), "kind": d.kind, "category": d.code, "level": d.level, "source": d.source,
                "community": grid.community_code, "street": streets.get(grid.community_code),
                "component": self.static.component_code.get(d.component) if d.component else None}

    def _timed(self, d: Draft, timer: dict, action: str, prev: str | None, to: str, at: datetime,
               payload: dict | None, restart: bool) -> dict | None:
        """``payload`` with what app.services.timers.update_timer records: a new ``deadline``, and
        ``limit_minutes`` and ``basis`` when a limit starts (mirrors core._record)."""
        before = timer.get("due")
        if prev is not None and prev == to:
            stage = timer.get("stage")
        else:
            stage = stage_for(to, prev if to == "void_requested" else None)
        if stage is None:
            timer.clear()
            return payload
        started = False
        if restart or timer.get("stage") is not stage or "start" not in timer:
            minutes, basis = self.clock.limit(d.kind, d.code, d.level, stage)
            timer.clear()
            timer.update(stage=stage, minutes=minutes, basis=basis, start=at, paused=0, since=None, ext=0)
            started = True
        paused = to in ("deferred", "shelved") or (to == "void_requested" and timer["since"] is not None)
        if paused and timer["since"] is None:
            timer["since"] = at
        elif not paused and timer["since"] is not None:
            timer["paused"] += basis_minutes(timer["basis"], timer["since"], at, self.clock.cal)
            timer["since"] = None
        if action == "approve" and prev == "extension_requested":
            timer["ext"] += int((payload or {}).get("minutes") or 0)
        due = deadline(TimerSpec(timer["stage"], timer["basis"], timer["minutes"], timer["start"], timer["paused"],
                                 timer["since"], timer["ext"]), self.clock.cal)
        timer["due"] = due
        if due is None or due == before:
            return payload
        extra = {"deadline": f"{due:%Y-%m-%d %H:%M:%S}"}
        if started:
            extra.update(limit_minutes=timer["minutes"], basis=timer["basis"].value)
        return {**(payload or {}), **extra}

    def _handle_limit(self, d: Draft, start: datetime) -> dict:
        """A handling limit started at ``start`` as the payload records it (deadline, limit_minutes, basis)."""
        minutes, basis = self.clock.limit(d.kind, d.code, d.level, Stage.HANDLE)
        due = deadline(TimerSpec(Stage.HANDLE, basis, minutes, start), self.clock.cal)
        return {"deadline": f"{due:%Y-%m-%d %H:%M:%S}", "limit_minutes": minutes, "basis": basis.value} if due else {}

    def _flush_events(self, before: datetime | None) -> None:
        heap = self._heap
        pop = heapq.heappop
        events = self._events
        while heap and (before is None or heap[0][0] < before):
            _at, case_id, seq, ev = pop(heap)
            events.append((case_id, seq, ev))
            if len(events) >= EVENT_BATCH:
                self._write_cases()
                self._write_events()
                events = self._events

    def _write_cases(self) -> None:
        if self._case_rows:
            self.load.insert(Case.__table__, CASE_COLUMNS, self._case_rows, geometry="xy")
            self._case_rows = []

    def _write_events(self) -> None:
        if self._events:
            rows, self._head = chain(self._events, self._head)
            self.load.insert(CaseEvent.__table__, EVENT_COLUMNS, rows)
            self._events = []


_payload_text: dict[tuple, str] = {}


def _payload_json(payload: dict) -> str:
    try:
        key = tuple(payload.items())
        text = _payload_text.get(key)
    except TypeError:  # a nested value (the close's evidence): written out each time, not cached
        return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if text is None:
        text = _payload_text[key] = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text


def chain(events: list[tuple], head: tuple[int, str]) -> tuple[list[tuple], tuple[int, str]]:
    """Number and hash ``events`` after ``head``: rows in EVENT_COLUMNS order and the new head.

    ``events`` are (case_id, seq, (action, from_state, to_state, actor, role, department_id, at,
    reason, payload)) in chain order. The hash is app.domain.audit.event_hash written out for
    these plain fields (one f-string instead of a dict, _norm and json.dumps per event: ~8x
    faster, which matters for 7.5 million events); tests/democity/test_bulk.py checks both agree,
    and ``gridhall db verify-audit`` recomputes every hash with event_hash.
    """
    chain_no, prev = head
    enc = encode_basestring
    sha = hashlib.sha256
    out = []
    for case_id, seq, (action, from_state, to_state, actor, role, dept, at, reason, payload) in events:
        chain_no += 1
        body = (f'{{"action":{enc(action)},"actor":{enc(actor)},"at":"{at.isoformat(" ", "seconds")}",'
                f'"case_id":{case_id},"chain_no":{chain_no},'
                f'"department_id":{"null" if dept is None else dept},'
                f'"from_state":{"null" if from_state is None else enc(from_state)},'
                f'"payload":{"null" if payload is None else _payload_json(payload)},'
                f'"reason":{"null" if reason is None else enc(reason)},"role":{enc(role)},"seq":{seq},'
                f'"to_state":{enc(to_state)}}}')
        digest = sha((prev + body).encode()).hexdigest()
        out.append((chain_no, chain_no, case_id, seq, action, from_state, to_state, actor, role, dept, at,
                    reason, payload, prev, digest))
        prev = digest
    return out, (chain_no, prev)


__all__ = ["CASE_COLUMNS", "EVENT_COLUMNS", "CaseStream", "chain"]
