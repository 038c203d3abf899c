"""Alerts as a Qt-free view model.

``AlertCenter`` watches the queue and raises an :class:`Alert` when a case is new or its light
turns yellow or red — only those its :class:`AlertRules` let through (which kinds, categories,
levels). A supervisor's verify or check task (a case in 核实中/核查中) turning red is a ``task``
alert where the rules ask for that kind (the acceptor's: they sent the task), a plain ``red``
one otherwise. ``AlertFeed`` turns those into a calm banner: what arrives within the rate limit is
coalesced into one :class:`AlertGroup` ("3 件案卷转红"), the banner changes at most every
``rules.interval_s`` seconds, one acknowledge clears the group shown, the unacknowledged count
stays visible, and every alert is kept in a history with its time and case. The clock is injected
(monotonic seconds), so all of this is tested without Qt and without waiting.

Rules are data: ``resources/alerts.toml`` holds the defaults and one table per role; a user's
own overrides (the GUI keeps them in QSettings) are laid over those with :func:`load_rules`.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from app.config import RESOURCES
from app.domain.definitions import Action, CaseState, Level, Light
from app.domain.messages import Msg
from app.i18n import Catalogue
from app.views.events import EventGroup, Signal, Subscriptions
from app.views.queue_state import QueueState

MAX_KEPT = 50
MAX_HISTORY = 200
GROUP_OVER = 3  # more lights than this turning in one tick become one alert
FLASH_MS = 8000
RULES_FILE = RESOURCES / "alerts.toml"

#: The kinds of alert a rule may name, most urgent first ("task": a supervisor's verify/check task went red).
KINDS = ("red", "task", "yellow", "new")
_SEVERITY = {"red": 0, "task": 1, "yellow": 2, "new": 3, "info": 4}
#: The states of a supervisor's task (as app.services.supervisors.TASK_STATES).
TASK_STATES = frozenset({CaseState.VERIFYING, CaseState.CHECKING})
INTERVAL_RANGE = (1.0, 600.0)


@dataclass(frozen=True)
class AlertRules:
    """Which alerts a desk gets and how: ``kinds`` (red | task | yellow | new), ``categories`` (category
    code prefixes; empty: every category), ``levels`` (Level values; empty: every level),
    ``sound`` (kinds that beep when the sound is on) and ``interval_s`` (the banner changes at
    most this often)."""

    kinds: frozenset[str] = frozenset({"red", "yellow", "new"})  # "task" where a role's rules ask for it
    categories: tuple[str, ...] = ()
    levels: frozenset[str] = frozenset()
    sound: frozenset[str] = frozenset({"red"})
    interval_s: float = 20.0

    def accepts(self, kind: str, category_code: str | None = None, level: str | None = None) -> bool:
        """Whether an alert of ``kind`` about a case of that category and level is wanted."""
        if kind == "info":
            return True  # the operator's own feedback is never filtered
        if kind not in self.kinds:
            return False
        if self.categories and not any((category_code or "").startswith(p) for p in self.categories):
            return False
        return not self.levels or (level or "") in self.levels

    def to_mapping(self) -> dict[str, Any]:
        """The rules as TOML-able data (what :meth:`from_mapping` reads; the per-user override)."""
        return {"kinds": [k for k in KINDS if k in self.kinds], "categories": list(self.categories),
                "levels": sorted(self.levels), "sound": [k for k in KINDS if k in self.sound],
                "interval_s": self.interval_s}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: AlertRules | None = None,
                     where: str = "") -> tuple[AlertRules, list[Msg]]:
        """``base`` with the keys of ``data`` laid over it; wrong entries are left out and named."""
        rules = base or cls()
        problems: list[Msg] = []
        where = where or "alerts"
        levels = {m.value for m in Level}

        def names(key: str, allowed: Iterable[str] | None) -> frozenset[str] | None:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(Msg("提醒规则 {where} 的 {key} 应是文字列表", where=where, key=key))
                return None
            if allowed is not None:
                wrong = [v for v in value if v not in allowed]
                if wrong:
                    problems.append(Msg("提醒规则 {where} 的 {key} 不认识：{values}（可用：{allowed}）", where=where,
                                        key=key, values="、".join(wrong), allowed="、".join(allowed)))
                    return None
            return frozenset(value)

        for key in data:
            if key not in ("kinds", "categories", "levels", "sound", "interval_s"):
                problems.append(Msg("提醒规则 {where} 有未知的设置 {key}", where=where, key=key))
        if "kinds" in data and (kinds := names("kinds", KINDS)) is not None:
            rules = replace(rules, kinds=kinds)
        if "sound" in data and (sound := names("sound", KINDS)) is not None:
            rules = replace(rules, sound=sound)
        if "levels" in data and (lv := names("levels", sorted(levels))) is not None:
            rules = replace(rules, levels=lv)
        if "categories" in data and (cats := names("categories", None)) is not None:
            kept = sorted({c.strip()[:32] for c in cats if c.strip()})
            if len(kept) > 50:
                problems.append(Msg("提醒规则 {where} 的 categories 最多 50 项", where=where))
            rules = replace(rules, categories=tuple(kept[:50]))
        if "interval_s" in data:
            value = data["interval_s"]
            low, high = INTERVAL_RANGE
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                problems.append(Msg("提醒规则 {where} 的 interval_s 应是 {low:g}–{high:g} 秒，不能是 {value}",
                                    where=where, low=low, high=high, value=str(value)[:40]))
            else:
                rules = replace(rules, interval_s=float(value))
        return rules, problems


def load_rules(role: str | None, override: Mapping[str, Any] | None = None,
               path: Path = RULES_FILE, stored: Mapping[str, Any] | None = None) -> tuple[AlertRules, list[Msg]]:
    """The rules of ``role``: the file's ``[default]``, its ``[roles.<role>]`` over that, then the
    administrator's ``stored`` override (``config_values`` ``alerts``: the same two tables), then
    the user's ``override``. A missing or malformed file gives the built-in defaults and a problem."""
    problems: list[Msg] = []
    data: dict[str, Any] = {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Msg("提醒规则文件 {path} 不存在，使用内置规则", path=path.name))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(Msg("提醒规则文件 {path} 无法读取（{error}），使用内置规则", path=path.name,
                            error=str(exc)[:200]))
    rules = AlertRules()
    default = data.get("default", {})
    roles = data.get("roles", {})
    layers: list[tuple[str, Any]] = [("default", default)]
    if role and isinstance(roles, Mapping) and role in roles:
        layers.append((f"roles.{role}", roles[role]))
    if stored:
        if isinstance(stored.get("default"), Mapping):
            layers.append(("stored.default", stored["default"]))
        stored_roles = stored.get("roles")
        if role and isinstance(stored_roles, Mapping) and isinstance(stored_roles.get(role), Mapping):
            layers.append((f"stored.roles.{role}", stored_roles[role]))
    if override:
        layers.append(("user", override))
    for where, layer in layers:
        if not isinstance(layer, Mapping):
            problems.append(Msg("提醒规则 {where} 应是一张表", where=where))
            continue
        rules, found = AlertRules.from_mapping(layer, rules, where)
        problems.extend(found)
    return rules, problems


@dataclass(frozen=True)
class Alert:
    """One alert: ``kind`` is new | yellow | red | info; ``case_ids``: every case of a grouped one."""

    kind: str
    case_id: int | None
    number: str
    text: str
    at: datetime | None = None
    case_ids: tuple[int, ...] = ()

    @property
    def ids(self) -> tuple[int, ...]:
        """The cases this alert is about (one, several for a grouped one, none for info)."""
        return self.case_ids or ((self.case_id,) if self.case_id is not None else ())


class AlertEvents(EventGroup):
    """The signals of an :class:`AlertCenter`: ``alert(Alert)``."""

    alert: Signal


class AlertCenter:
    """Watches a QueueState and emits ``events.alert(Alert)`` on new cases and on lights turning worse.

    Qt-free: a tick's ``lights_changed`` ids are compared with the lights last seen; the first
    load is the baseline (no alert storm when the client starts). A case that joins the queue
    later is recorded with its light when it arrives, so its later turns are alerted too.
    ``rules`` (settable) decide which kinds, categories and levels are alerted at all.
    """

    def __init__(self, state: QueueState, catalogue: Catalogue | None = None,
                 rules: AlertRules | None = None) -> None:
        self.state = state
        self.cat = catalogue or Catalogue()
        self.rules = rules or AlertRules()
        self.events = AlertEvents()
        self.alerts: list[Alert] = []
        self._lights: dict[int, Light] | None = None
        ev = state.events
        self._subs = Subscriptions()
        self._subs.connect(ev.tick, self._tick)
        self._subs.connect(ev.rows_reset, self._reset)
        self._subs.connect(ev.rows_changed, self._rows_changed)
        self._subs.connect(ev.case_event, lambda case_id, action: self._case_event(case_id, action))
        self._subs.connect(ev.lights_changed, self._lights_changed)

    def teardown(self) -> None:
        self._subs.close()

    def _snapshot(self) -> dict[int, Light]:
        return {row.id: self._light(row.id) for row in self.state.rows}

    def _baseline(self) -> bool:
        """Take the first lights as the baseline once there are readings; True when just taken."""
        if self._lights is None and self.state.now is not None:
            self._lights = self._snapshot()
            return True
        return False

    def _reset(self) -> None:
        if self._baseline() or self._lights is None:
            return
        present = {row.id for row in self.state.rows}
        for case_id in [i for i in self._lights if i not in present]:
            del self._lights[case_id]  # gone: a case coming back is new again
        self._record(present)

    def _record(self, ids: Iterable[int]) -> None:
        """Remember the light of the ids not seen before (later turns are compared with it)."""
        lights = self._lights
        if lights is None:  # no baseline yet: nothing to compare with
            return
        for case_id in ids:
            if case_id not in lights:
                lights[case_id] = self._light(case_id)

    def _rows_changed(self, ids: list[int]) -> None:
        if self._baseline() or self._lights is None:
            return
        present = [i for i in ids if self.state.summary(i) is not None]
        for case_id in ids:
            if case_id not in present:
                self._lights.pop(case_id, None)  # removed: if it comes back, it is new again
        self._record(present)
        self._compare(present, self.state.now)  # a re-read row may show a worse light at once

    def _light(self, case_id: int) -> Light:
        reading = self.state.reading(case_id)
        return reading.light if reading is not None else Light.NONE

    def _tick(self, _now: datetime) -> None:
        self._baseline()

    def _lights_changed(self, ids: list[int]) -> None:
        if self._lights is not None:
            self._compare(ids, self.state.now)

    def _compare(self, ids: Iterable[int], now: datetime | None) -> None:
        lights = self._lights
        if lights is None:  # no baseline yet: nothing to compare with
            return
        turned: dict[str, list[int]] = {"red": [], "task": [], "yellow": []}
        for case_id in ids:
            light = self._light(case_id)
            before = lights.get(case_id)
            lights[case_id] = light
            if before is None or before == light:
                continue
            kind = self._red_kind(case_id) if light is Light.RED else "yellow"
            if not self._wanted(kind, case_id):
                continue
            if light is Light.RED:
                turned[kind].append(case_id)
            elif light is Light.YELLOW and before is Light.GREEN:
                turned["yellow"].append(case_id)
        for kind, what in (("red", self.cat.tr("超时（红灯）")), ("task", self.cat.tr("核实/核查任务超时（红灯）")),
                           ("yellow", self.cat.tr("即将超时（黄灯）"))):
            found = turned[kind]
            if len(found) > GROUP_OVER:
                # many at once (the workday starts, timers resume): one alert, not a storm
                self._emit_group(kind, found, what, now)
            else:
                for case_id in found:
                    self._emit(kind, case_id, self._task_text(case_id) if kind == "task" else what, now)

    def _case_event(self, case_id: int, action: str) -> None:
        if self._lights is not None and self.state.summary(case_id) is not None:
            self._record([case_id])
        if action == Action.REPORT.value and self._wanted("new", case_id):
            self._emit("new", case_id, self.cat.tr("新上报案卷"), self.state.now)

    def _task_text(self, case_id: int) -> str:
        row = self.state.summary(case_id)
        if row is not None and row.state is CaseState.VERIFYING:
            return self.cat.tr("核实任务超时（红灯）")
        if row is not None and row.state is CaseState.CHECKING:
            return self.cat.tr("核查任务超时（红灯）")
        return self.cat.tr("核实/核查任务超时（红灯）")

    def _red_kind(self, case_id: int) -> str:
        """"task" for a supervisor's verify/check task turning red where the rules want those, else "red"."""
        row = self.state.summary(case_id)
        if row is not None and row.state in TASK_STATES and "task" in self.rules.kinds:
            return "task"
        return "red"

    def _wanted(self, kind: str, case_id: int) -> bool:
        row = self.state.summary(case_id)
        if row is None:
            return self.rules.accepts(kind)
        return self.rules.accepts(kind, row.category_code, row.level.value)

    def _emit_group(self, kind: str, ids: list[int], what: str, now: datetime | None) -> None:
        numbers = [row.number for row in map(self.state.summary, ids[:3]) if row is not None]
        text = self.cat.tr("{n} 件案卷{what}：{numbers} 等", n=len(ids), what=what, numbers="、".join(numbers))
        alert = Alert(kind, ids[0], numbers[0] if numbers else "", text, now, tuple(ids))
        self.alerts.insert(0, alert)
        del self.alerts[MAX_KEPT:]
        self.events.alert.emit(alert)

    def _emit(self, kind: str, case_id: int, what: str, now: datetime | None) -> None:
        row = self.state.summary(case_id)
        number = row.number if row is not None else str(case_id)
        detail = f"{row.category_name} {row.street_name or ''}" if row is not None else ""
        alert = Alert(kind, case_id, number, self.cat.tr("{what}：{number} {detail}", what=what, number=number, detail=detail).strip(), now)
        self.alerts.insert(0, alert)
        del self.alerts[MAX_KEPT:]
        self.events.alert.emit(alert)


@dataclass
class AlertEntry:
    """An alert in the history: when it arrived (the alert's ``at``), whether it was acknowledged."""

    alert: Alert
    acknowledged: bool = False


@dataclass(frozen=True)
class AlertGroup:
    """What the banner shows: the alerts coalesced since the last change, under one line."""

    kind: str  # the most urgent kind among them
    entries: tuple[AlertEntry, ...]
    text: str
    at: datetime | None
    beep: bool = False

    @property
    def case_id(self) -> int | None:
        """The case a click on the banner selects: the first one of the most urgent kind."""
        for entry in self.entries:
            if entry.alert.kind == self.kind and entry.alert.ids:
                return entry.alert.ids[0]
        return None

    @property
    def case_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(i for e in self.entries for i in e.alert.ids))

    @property
    def acknowledged(self) -> bool:
        return all(e.acknowledged for e in self.entries)


class FeedEvents(EventGroup):
    """The signals of an :class:`AlertFeed`: ``banner(AlertGroup)`` when the banner changes,
    ``changed()`` when the history or the acknowledged count changes."""

    banner: Signal
    changed: Signal


class AlertFeed:
    """Alerts → a calm banner with a rate limit, grouping, acknowledge and a history (Qt-free).

    ``push(alert)`` records an alert (the center's ``alert`` signal is connected when a center
    is given). If the banner last changed at least ``rules.interval_s`` seconds ago it changes
    now; otherwise the alert waits and ``poll()`` — the GUI calls it after ``due_in()`` seconds —
    shows everything that arrived meanwhile as one group. An operator's own message (``info``)
    is shown at once: it answers what they just did. ``clock`` gives monotonic seconds.
    """

    def __init__(self, center: AlertCenter | None = None, catalogue: Catalogue | None = None,
                 rules: AlertRules | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.cat = catalogue or (center.cat if center is not None else Catalogue())
        self.center = center
        self._rules = rules or (center.rules if center is not None else AlertRules())
        if center is not None:
            center.rules = self._rules
        self.clock = clock
        self.events = FeedEvents()
        self.history: list[AlertEntry] = []  # newest first
        self.pending: list[AlertEntry] = []
        self.shown: AlertGroup | None = None
        self.banner_changes = 0
        self._last_change: float | None = None
        self._subs = Subscriptions()
        if center is not None:
            self._subs.connect(center.events.alert, self.push)

    @property
    def rules(self) -> AlertRules:
        return self._rules

    @rules.setter
    def rules(self, rules: AlertRules) -> None:
        self._rules = rules
        if self.center is not None:
            self.center.rules = rules

    def teardown(self) -> None:
        self._subs.close()

    @property
    def unacknowledged(self) -> int:
        """How many alerts in the history are not acknowledged yet (shown next to the banner)."""
        return sum(1 for e in self.history if not e.acknowledged and e.alert.kind != "info")

    def due_in(self) -> float | None:
        """Seconds until the waiting alerts may be shown (0: now), None when nothing waits."""
        if not self.pending:
            return None
        if self._last_change is None:
            return 0.0
        return max(0.0, self._last_change + self.rules.interval_s - self.clock())

    def push(self, alert: Alert) -> AlertGroup | None:
        """Record ``alert``; returns the group if the banner changed now."""
        entry = AlertEntry(alert, acknowledged=alert.kind == "info")
        if alert.kind == "info":
            self._show((entry,))
            return self.shown
        self.history.insert(0, entry)
        del self.history[MAX_HISTORY:]
        self.pending.append(entry)
        self.events.changed.emit()
        return self.poll()

    def poll(self) -> AlertGroup | None:
        """Show what waits if the rate limit allows; returns the new group or None."""
        if self.due_in() != 0.0:
            return None
        waiting, self.pending = tuple(self.pending), []
        self._show(waiting)
        return self.shown

    def _show(self, entries: tuple[AlertEntry, ...]) -> None:
        kind = min((e.alert.kind for e in entries), key=lambda k: _SEVERITY.get(k, 9))
        beep = any(e.alert.kind in self.rules.sound for e in entries)
        self.shown = AlertGroup(kind, entries, self.group_text(entries), entries[-1].alert.at, beep)
        self._last_change = self.clock()
        self.banner_changes += 1
        self.events.banner.emit(self.shown)

    def group_text(self, entries: Iterable[AlertEntry]) -> str:
        """One line for the alerts: the alert's own text when alone, else counts per kind
        ("3 件案卷转红，1 件新上报案卷：S0601…、S0601… 等")."""
        alerts = [e.alert for e in entries]
        if len(alerts) == 1:
            return alerts[0].text
        counts: dict[str, list[int]] = {}
        for alert in alerts:
            counts.setdefault(alert.kind, []).extend(alert.ids)
        parts = []
        for kind in sorted(counts, key=lambda k: _SEVERITY.get(k, 9)):
            n = len(dict.fromkeys(counts[kind])) or 1
            if kind == "red":
                parts.append(self.cat.tr("{n} 件案卷转红", n=n))
            elif kind == "task":
                parts.append(self.cat.tr("{n} 件核实/核查任务超时", n=n))
            elif kind == "yellow":
                parts.append(self.cat.tr("{n} 件案卷转黄", n=n))
            elif kind == "new":
                parts.append(self.cat.tr("{n} 件新上报案卷", n=n))
        numbers = list(dict.fromkeys(a.number for a in sorted(alerts, key=lambda a: _SEVERITY.get(a.kind, 9))
                                     if a.number))
        head = self.cat.tr("，").join(parts) if parts else alerts[-1].text
        if not numbers:
            return head
        more = self.cat.tr(" 等") if len(numbers) > 3 or sum(len(a.ids) for a in alerts) > len(numbers) else ""
        return self.cat.tr("{head}：{numbers}{more}", head=head, numbers="、".join(numbers[:3]), more=more)

    def acknowledge(self) -> int:
        """Acknowledge the group shown (the one key/button); returns how many were acknowledged."""
        if self.shown is None:
            return 0
        done = 0
        for entry in self.shown.entries:
            if not entry.acknowledged:
                entry.acknowledged = True
                done += 1
        if done:
            self.events.changed.emit()
        return done

    def acknowledge_all(self) -> int:
        """Acknowledge every alert in the history (and what waits)."""
        done = 0
        for entry in self.history:
            if not entry.acknowledged:
                entry.acknowledged = True
                done += 1
        if done:
            self.events.changed.emit()
        return done


__all__ = ["FLASH_MS", "GROUP_OVER", "KINDS", "MAX_HISTORY", "MAX_KEPT", "RULES_FILE", "TASK_STATES", "Alert", "AlertCenter",
           "AlertEntry", "AlertEvents", "AlertFeed", "AlertGroup", "AlertRules", "FeedEvents", "load_rules"]
