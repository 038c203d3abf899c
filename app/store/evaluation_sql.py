"""The evaluation's counts aggregated in SQL (issue 13, item 6): the same walk as
``app.domain.indicators.case_facts`` expressed with window functions over ``case_events``, then
GROUP BY the subject — on SpatiaLite (SQLite ≥ 3.25) and PostGIS alike.

What crosses into Python is one row per subject (its counts, minute totals and the case numbers
of its data-quality flags), not the events; ``app.domain.indicators`` still turns the counts
into rates, component scores, grades and ranks (``*_from_counts``), so the two paths share every
rule after the counting. ``tests/store/test_evaluation_sql.py`` checks that they give identical
results on generated histories on both stores.

How the walk maps to SQL (per case, events in ``seq`` order, none at or after the period's end):

* the stage after each event is the last state-changing event's stage (``_STAGES`` as a CASE;
  作废申请中 keeps the stage of the state it came from); "the last value among earlier rows" is a
  running ``MAX`` over ``lpad(seq) || value`` (the packed value of the latest such row);
* the deadline in force at an event is the value the latest *setter* before it recorded: an event
  that enters a new stage, restarts a limit (``limit_minutes``, a dispatch) or records a
  ``deadline``; entering no stage clears it. ``limitless``/``on time`` follow ``Timed.on_time``;
* assignments: a dispatch (or a 协调裁定 to another department than the current one) starts one;
  an approved 回退 ends the current one (returned); ``asg`` numbers them per case.

Payload keys are read with ``json_extract``/``json_type`` (SQLite) and ``->>``/``->`` (PostgreSQL);
a key present with a JSON null counts as present, as ``key in payload`` does in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.domain.definitions import CaseState, Role
from app.domain.indicators import FLAGS
from app.domain.loop import REACHED_RESULTS, SATISFIED_RESULTS
from app.domain.workflow import stage_for
from app.store.models import Case
from app.store.queries import department_scope


@dataclass
class Counted:
    """One subject's counts as the SQL returned them."""

    key: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    minutes: dict[str, tuple[int, int]] = field(default_factory=dict)  # average → (total, count)
    flags: dict[str, list[str]] = field(default_factory=dict)


class _Dialect:
    """The few fragments that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def get(self, key: str) -> str:
        return f"(e.pj ->> '{key}')" if self.pg else f"json_extract(e.payload, '$.{key}')"

    def has(self, key: str) -> str:
        return f"(e.pj -> '{key}' IS NOT NULL)" if self.pg else f"(json_type(e.payload, '$.{key}') IS NOT NULL)"

    def is_true(self, key: str) -> str:
        if self.pg:
            return f"(jsonb_typeof(e.pj -> '{key}') = 'boolean' AND (e.pj ->> '{key}') = 'true')"
        return f"(json_type(e.payload, '$.{key}') = 'true')"

    def missing(self) -> str:
        """``isinstance(evidence, Mapping) and evidence.get('missing')`` (a non-empty list, true or text)."""
        if self.pg:
            m = "(e.pj -> 'evidence' -> 'missing')"
            return (f"(jsonb_typeof(e.pj -> 'evidence') = 'object' AND CASE jsonb_typeof({m}) "
                    f"WHEN 'array' THEN jsonb_array_length({m}) > 0 WHEN 'boolean' THEN {m}::text = 'true' "
                    f"WHEN 'string' THEN length(e.pj -> 'evidence' ->> 'missing') > 0 ELSE false END)")
        return ("(json_type(e.payload, '$.evidence') = 'object' AND CASE json_type(e.payload, '$.evidence.missing') "
                "WHEN 'array' THEN json_array_length(e.payload, '$.evidence.missing') > 0 WHEN 'true' THEN 1 "
                "WHEN 'text' THEN length(json_extract(e.payload, '$.evidence.missing')) > 0 ELSE 0 END)")

    def at(self, col: str) -> str:
        """A timestamp as the comparisons use it (SQLite: text normalised to 'YYYY-MM-DD HH:MM:SS.ffffff')."""
        if self.pg:
            return col
        return (f"(CASE WHEN length({col}) = 26 AND substr({col}, 11, 1) = ' ' THEN {col} "
                f"WHEN length({col}) = 19 THEN replace({col}, 'T', ' ') || '.000000' ELSE replace({col}, 'T', ' ') END)")

    def deadline(self) -> str:
        """The payload's deadline (NULL when absent, null or not a time)."""
        raw = self.get("deadline")
        if self.pg:
            return (f"(CASE WHEN {raw} ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}[ T]\\d{{2}}:\\d{{2}}' "
                    f"THEN ({raw})::timestamp END)")
        return f"(CASE WHEN {raw} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN {self.at(raw)} END)"

    def pack(self, seq: str, value: str) -> str:
        if self.pg:
            return f"(lpad(({seq})::text, 10, '0') || COALESCE(({value})::text, '')) COLLATE \"C\""
        return f"(printf('%010d', {seq}) || COALESCE({value}, ''))"

    def unpack(self, packed: str) -> str:
        return f"NULLIF(substr({packed}, 11), '')"

    def stamp(self, packed_text: str) -> str:
        """Unpacked text back to a timestamp (PostgreSQL); SQLite keeps the text."""
        return f"({packed_text})::timestamp" if self.pg else packed_text

    def minutes(self, a: str, b: str) -> str:
        """``max(0, floor((b − a) / 1 min))``."""
        if self.pg:
            return f"GREATEST(0, floor(extract(epoch from ({b} - {a})) / 60))::bigint"
        return f"max(0, ({self._us(b)} - {self._us(a)}) / 60000000)"

    def within(self, a: str, b: str, minutes: int) -> str:
        """(b − a) ≤ ``minutes``."""
        if self.pg:
            return f"(({b}) - ({a}) <= interval '{int(minutes)} minutes')"
        return f"(({self._us(b)} - {self._us(a)}) <= {int(minutes) * 60_000_000})"

    @staticmethod
    def _us(x: str) -> str:
        return f"(CAST(strftime('%s', {x}) AS INTEGER) * 1000000 + CAST(substr({x}, 21, 6) AS INTEGER))"

    def concat(self, x: str) -> str:
        return f"string_agg({x}, ',')" if self.pg else f"group_concat({x}, ',')"

    def text(self, x: str) -> str:
        return f"({x})::text" if self.pg else f"CAST({x} AS TEXT)"


def _stage_case(col_from: str, col_to: str) -> str:
    """The stage a change into ``col_to`` enters (作废申请中: the stage of ``col_from``)."""
    def table(col: str) -> str:
        arms = " ".join(f"WHEN '{s.value}' THEN '{st.value}'" for s in CaseState
                        if s is not CaseState.VOID_REQUESTED and (st := stage_for(s)) is not None)
        return f"CASE {col} {arms} END"

    return f"(CASE WHEN {col_to} = '{CaseState.VOID_REQUESTED.value}' THEN {table(col_from)} ELSE {table(col_to)} END)"


_W = "PARTITION BY cid ORDER BY seq"
_BEFORE = f"OVER ({_W} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
_UPTO = f"OVER ({_W} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
_AFTER = f"OVER ({_W} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"
_CASE = "OVER (PARTITION BY cid)"
_FACTS = ("grid", "community", "street", "source")
#: Where an older report event lacks a fact, the case row's (app.store.evaluation.case_row_facts).
_ROW_FACTS = {"grid": "g.code", "community": "cm.code", "street": "st.code", "source": "c.source"}


def _base(d: _Dialect, scope_sql: str | None, public: Iterable[str], quick_minutes: int) -> str:
    """The CTEs ``l4`` (every event with its walk), ``cs`` (one row per case), ``asg`` (one row per assignment)."""
    scoped = f" AND case_id IN ({scope_sql})" if scope_sql else ""
    facts = ", ".join(f"CASE WHEN e.action = 'report' AND {d.has(k)} THEN 1 ELSE 0 END AS h_{k}, "
                      f"CASE WHEN e.action = 'report' THEN {d.get(k)} END AS p_{k}" for k in _FACTS)
    pub = ", ".join(f"'{s}'" for s in sorted(public)) or "NULL"
    at = d.at("e.at")
    fs, ts = "e.from_state", "e.to_state"
    stb, curb = d.unpack("stb_p"), d.unpack("curb_p")
    sta = f"(CASE WHEN chg = 1 THEN rawstage ELSE {stb} END)"
    fact_cols = ", ".join(f"h_{k}, p_{k}" for k in _FACTS)
    if d.pg:  # each payload parsed once (jsonb), not once per key read (json); OFFSET 0 keeps the cast here
        source = ("(SELECT ce.*, ce.payload::jsonb AS pj FROM case_events ce WHERE ce.case_id IN "
                  "(SELECT case_id FROM touched) AND ce.at < :end OFFSET 0) e")
    else:
        source = "case_events e WHERE e.case_id IN (SELECT case_id FROM touched) AND e.at < :end"
    return f"""
touched AS (SELECT DISTINCT case_id FROM case_events WHERE at >= :start AND at < :end{scoped}),
l0 AS (
  SELECT e.case_id AS cid, e.seq AS seq, e.action AS act, {fs} AS fs, {ts} AS ts, e.actor AS actor, e.role AS role,
         e.department_id AS dept, {at} AS at,
         CASE WHEN {fs} = {ts} THEN 0 ELSE 1 END AS chg,
         {_stage_case(fs, ts)} AS rawstage,
         CASE WHEN {d.has('deadline')} THEN {d.deadline()} END AS dl,
         CASE WHEN {d.has('deadline')} THEN 1 ELSE 0 END AS hasdl,
         CASE WHEN {d.has('limit_minutes')} THEN 1 ELSE 0 END AS haslim,
         CASE WHEN e.department_id IS NOT NULL AND e.action IN ('dispatch', 'rule') THEN 1
              WHEN e.action = 'approve' AND {fs} = 'return_requested' THEN 2 ELSE 0 END AS ac,
         CASE WHEN e.action = 'verify' AND {d.is_true('confirmed')} THEN 1 ELSE 0 END AS conf,
         CASE WHEN e.action = 'close' AND {d.is_true('override')} THEN 1 ELSE 0 END AS ovr,
         CASE WHEN e.action = 'close' AND {d.missing()} THEN 1 ELSE 0 END AS miss,
         CASE WHEN e.action IN ('send_verify', 'send_check') THEN {d.get('supervisor')} END AS sup,
         CASE WHEN e.action = 'callback' THEN {d.get('result')} END AS cbres,
         CASE WHEN e.action = 'callback' THEN {d.get('department')} END AS cbdept,
         {facts}
  FROM {source}
),
l1 AS (
  SELECT l0.*,
    MAX(CASE WHEN chg = 1 THEN {d.pack('seq', 'rawstage')} END) {_BEFORE} AS stb_p,
    MAX(CASE WHEN ac = 1 THEN {d.pack('seq', d.text('dept'))} WHEN ac = 2 THEN {d.pack('seq', "'-'")} END)
      {_BEFORE} AS curb_p,
    MAX(haslim) {_CASE} AS rec,
    MIN(CASE WHEN act = 'report' THEN seq END) {_CASE} AS rseq,
    MIN(CASE WHEN act = 'file' THEN seq END) {_CASE} AS fseq,
    MAX(CASE WHEN act = 'close' THEN seq END) {_CASE} AS cseq
  FROM l0
),
l2 AS (
  SELECT l1.*, {stb} AS stb, {curb} AS curb,
    CASE WHEN {sta} IS NULL OR {stb} IS NULL OR {sta} <> {stb} OR haslim = 1 OR act = 'dispatch' OR hasdl = 1
         THEN 1 ELSE 0 END AS setter,
    CASE WHEN {sta} IS NULL THEN NULL ELSE dl END AS setval,
    CASE WHEN ac = 1 AND (act = 'dispatch' OR {curb} IS NULL OR {curb} = '-' OR {curb} <> {d.text('dept')})
         THEN 1 ELSE 0 END AS is_start,
    CASE WHEN ac = 1 AND act = 'rule' AND {curb} IS NOT NULL AND {curb} <> '-' AND {curb} <> {d.text('dept')}
         THEN 1 ELSE 0 END AS moved_start
  FROM l1
),
l3 AS (
  SELECT l2.*,
    {d.unpack(f"MAX(CASE WHEN setter = 1 THEN {d.pack('seq', d.text('setval'))} END) {_BEFORE}")} AS inforce_t,
    SUM(is_start) {_UPTO} AS asg
  FROM l2
),
l4 AS MATERIALIZED (
  SELECT cid, seq, act, fs, ts, actor, role, dept, at, ac, conf, ovr, miss, sup, cbres, cbdept, {fact_cols},
    fseq, cseq, rseq, is_start, moved_start, asg, incur,
    CASE WHEN inforce_t IS NULL THEN limitless WHEN at <= {d.stamp('inforce_t')} THEN 1 ELSE 0 END AS ontime,
    CASE WHEN seq > fseq AND seq <= cseq AND (fs IS NULL OR fs <> ts) AND role <> 'system'
              AND NOT (inforce_t IS NULL AND limitless = 1) AND (inforce_t IS NULL OR at > {d.stamp('inforce_t')})
         THEN 1 ELSE 0 END AS late,
    CASE WHEN seq > fseq AND seq <= cseq AND (fs IS NULL OR fs <> ts) AND role <> 'system'
              AND inforce_t IS NULL AND limitless = 0 THEN 1 ELSE 0 END AS nodl,
    CASE WHEN ac = 2 AND incur = 1 THEN 1 ELSE 0 END AS r_eff
  FROM (
    SELECT l3.*, CASE WHEN rec = 1 AND inforce_t IS NULL AND stb IS NOT NULL THEN 1 ELSE 0 END AS limitless,
      CASE WHEN curb IS NOT NULL AND curb <> '-' THEN 1 ELSE 0 END AS incur
    FROM l3
  ) l4a
),
asg0 AS (
  SELECT cid, asg,
    MAX(CASE WHEN is_start = 1 THEN dept END) AS dept,
    MAX(CASE WHEN is_start = 1 THEN at END) AS start_at,
    MAX(CASE WHEN is_start = 1 THEN moved_start END) AS start_moved,
    MAX(r_eff) AS returned,
    MIN(CASE WHEN act = 'feedback' AND incur = 1 THEN seq END) AS hseq,
    SUM(CASE WHEN act = 'check' AND ts = 'dispatched' AND incur = 1 THEN 1 ELSE 0 END) AS reworks,
    SUM(CASE WHEN act = 'request_extension' AND incur = 1 THEN 1 ELSE 0 END) AS q_extension,
    SUM(CASE WHEN act = 'request_return' AND incur = 1 THEN 1 ELSE 0 END) AS q_return,
    SUM(CASE WHEN act = 'request_defer' AND incur = 1 THEN 1 ELSE 0 END) AS q_defer,
    SUM(CASE WHEN act = 'request_shelve' AND incur = 1 THEN 1 ELSE 0 END) AS q_shelve
  FROM l4 WHERE asg > 0 GROUP BY cid, asg
),
asg AS MATERIALIZED (
  SELECT asg0.*, h.at AS handled_at, h.ontime AS handled_on,
    CASE WHEN LEAD(start_moved) OVER (PARTITION BY asg0.cid ORDER BY asg0.asg) = 1 THEN 1 ELSE 0 END AS moved,
    CASE WHEN h.seq IS NOT NULL THEN {d.minutes('start_at', 'h.at')} END AS hmin
  FROM asg0 LEFT JOIN l4 h ON h.cid = asg0.cid AND h.seq = asg0.hseq
),
cs0 AS (
  SELECT cid,
    MAX(fseq) AS fseq, MAX(cseq) AS cseq, MAX(rseq) AS rseq,
    MAX(CASE WHEN seq = fseq THEN at END) AS filed_at,
    MAX(CASE WHEN seq = cseq THEN at END) AS closed_at,
    MAX(CASE WHEN seq = rseq THEN at END) AS report_at,
    MAX(CASE WHEN seq = rseq THEN role END) AS report_role,
    MAX(CASE WHEN seq = cseq THEN ovr ELSE 0 END) AS ovr,
    MAX(CASE WHEN seq = cseq THEN miss ELSE 0 END) AS miss,
    {", ".join(f"MAX(CASE WHEN seq = rseq THEN h_{k} END) AS h_{k}, MAX(CASE WHEN seq = rseq THEN p_{k} END) AS p_{k}"
               for k in _FACTS)},
    MAX(CASE WHEN ts = 'voided' THEN 1 ELSE 0 END) AS voided,
    MAX(CASE WHEN ts = 'voided' THEN seq END) AS void_seq,
    MAX(CASE WHEN ts = 'deferred' THEN 1 ELSE 0 END) AS deferred,
    SUM(late) AS late_n, SUM(nodl) AS nodl_n, MAX(conf) AS conf,
    SUM(CASE WHEN act = 'request_extension' THEN 1 ELSE 0 END) AS q_extension,
    SUM(CASE WHEN act = 'request_return' THEN 1 ELSE 0 END) AS q_return,
    SUM(CASE WHEN act = 'request_defer' THEN 1 ELSE 0 END) AS q_defer,
    SUM(CASE WHEN act = 'request_shelve' THEN 1 ELSE 0 END) AS q_shelve,
    MAX(asg) AS nasg,
    {d.unpack(f"MAX(CASE WHEN act = 'dispatch' OR is_start = 1 THEN {d.pack('seq', d.text('at'))} END)")}
      AS lastdisp_t,
    MAX(CASE WHEN act = 'check' AND ts = 'dispatched' THEN 1 ELSE 0 END) AS reworked,
    MAX(CASE WHEN moved_start = 1 OR r_eff = 1 THEN 1 ELSE 0 END) AS moved
  FROM l4 GROUP BY cid
),
cs AS MATERIALIZED (
  SELECT cs0.*, c.number AS number,
    {", ".join(f"CASE WHEN cs0.h_{k} = 1 THEN cs0.p_{k} ELSE {row} END AS f_{k}" for k, row in _ROW_FACTS.items())},
    CASE WHEN cs0.fseq IS NOT NULL AND cs0.void_seq > cs0.fseq THEN 1 ELSE 0 END AS voided_after_filing,
    CASE WHEN cs0.cseq IS NOT NULL AND NOT (cs0.fseq IS NOT NULL AND cs0.late_n > 0) THEN 1 ELSE 0 END AS all_on_time,
    CASE WHEN cs0.cseq IS NOT NULL AND cs0.fseq IS NOT NULL AND cs0.nodl_n > 0 THEN 1 ELSE 0 END AS no_deadline,
    CASE WHEN cs0.cseq IS NOT NULL AND cs0.lastdisp_t IS NOT NULL
              AND {d.within(d.stamp('cs0.lastdisp_t'), 'cs0.closed_at', quick_minutes)} THEN 1 ELSE 0 END AS quick_close,
    CASE WHEN cs0.conf = 1 AND (CASE WHEN cs0.h_source = 1 THEN cs0.p_source ELSE c.source END) IN ({pub})
         THEN 1 ELSE 0 END AS verified_public
  FROM cs0 JOIN cases c ON c.id = cs0.cid
  LEFT JOIN unit_grids g ON g.id = c.grid_id
  LEFT JOIN admin_areas cm ON cm.id = g.community_id LEFT JOIN admin_areas st ON st.id = cm.parent_id
)"""


def _flag_cols(d: _Dialect, prefix: str = "", *, number: str | None = None) -> str:
    cols = {"moved": "moved", "reworked": "reworked", "override": "ovr", "no_evidence": "miss",
            "quick_close": "quick_close", "no_deadline": "no_deadline"}
    assert set(cols) == set(FLAGS)
    number = number or f"{prefix}number"
    return ", ".join(f"{d.concat(f'CASE WHEN {prefix}{cols[k]} = 1 THEN {number} END')} AS flag_{k}"
                     for k in FLAGS)  # in FLAGS' order: the compound selects name their columns by position


def _run(session: Session, sql: str, start: datetime, end: datetime) -> list[Any]:
    if session.get_bind().dialect.name == "postgresql":
        params: dict[str, Any] = {"start": start, "end": end}
    else:  # compared with the normalised text of ``at`` (see _Dialect.at)
        params = {"start": start.strftime("%Y-%m-%d %H:%M:%S.%f"), "end": end.strftime("%Y-%m-%d %H:%M:%S.%f")}
    return list(session.execute(text(sql), params).mappings())


def _scope_sql(session: Session, scope: int | None) -> str | None:
    if scope is None:
        return None
    stmt = select(Case.id).where(department_scope(scope))
    return str(stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))


def _dialect(session: Session) -> _Dialect:
    return _Dialect(session.get_bind().dialect.name)


def _flags(row: Mapping[str, Any]) -> dict[str, list[str]]:
    out = {}
    for k in FLAGS:
        v = row.get(f"flag_{k}")
        if v:
            out[k] = sorted(set(str(v).split(",")))
    return out


def region_counts(session: Session, start: datetime, end: datetime, *, level: str, public: Iterable[str],
                  quick_minutes: int, excludes_deferred: bool, scope: int | None = None) -> list[Counted]:
    """Per region of ``level`` (grid|community|street|district): the counts ``evaluate_regions`` makes."""
    d = _dialect(session)
    key = "'district'" if level == "district" else f"COALESCE(NULLIF({d.text('f_' + level)}, ''), '?')"
    excluded = f"(voided = 1 OR ({1 if excludes_deferred else 0} = 1 AND deferred = 1 AND cseq IS NULL))"
    sql = f"""WITH {_base(d, _scope_sql(session, scope), public, quick_minutes)},
r AS (
  SELECT cs.*, {key} AS rkey, CASE WHEN {excluded} THEN 1 ELSE 0 END AS excl, lh.last_hmin AS last_hmin
  FROM cs LEFT JOIN (
    SELECT a.cid AS hcid,
      {d.unpack(f"MAX(CASE WHEN a.hseq IS NOT NULL AND a.returned = 0 THEN {d.pack('a.asg', d.text('a.hmin'))} END)")}
      AS last_hmin
    FROM asg a GROUP BY a.cid
  ) lh ON lh.hcid = cs.cid
  WHERE cs.filed_at >= :start AND cs.filed_at < :end
)
SELECT rkey, COUNT(*) AS filed, SUM(voided) AS voided, SUM(deferred) AS deferred_cases,
  SUM(1 - excl) AS due_to_close,
  SUM(CASE WHEN excl = 0 AND cseq IS NOT NULL THEN 1 ELSE 0 END) AS closed,
  SUM(CASE WHEN excl = 0 AND cseq IS NOT NULL AND all_on_time = 1 THEN 1 ELSE 0 END) AS closed_on_time,
  SUM(CASE WHEN nasg > 0 THEN 1 ELSE 0 END) AS dispatched,
  SUM(q_extension) AS extension, SUM(q_return) AS return_, SUM(q_defer) AS defer, SUM(q_shelve) AS shelve,
  SUM(verified_public) AS report_supervision,
  SUM(CAST(last_hmin AS INTEGER)) AS handling_total, COUNT(last_hmin) AS handling_count,
  SUM(CASE WHEN excl = 0 AND cseq IS NOT NULL AND report_at IS NOT NULL
           THEN {d.minutes('report_at', 'closed_at')} END) AS closing_total,
  SUM(CASE WHEN excl = 0 AND cseq IS NOT NULL AND report_at IS NOT NULL THEN 1 ELSE 0 END) AS closing_count,
  {_flag_cols(d)}
FROM r GROUP BY rkey"""
    out = []
    for row in _run(session, sql, start, end):
        c = Counted((str(row["rkey"]),))
        for k in ("filed", "voided", "deferred_cases", "due_to_close", "closed", "closed_on_time", "dispatched",
                  "extension", "defer", "shelve", "report_supervision"):
            c.counts[k] = int(row[k] or 0)
        c.counts["return"] = int(row["return_"] or 0)
        c.minutes["handling"] = (int(row["handling_total"] or 0), int(row["handling_count"] or 0))
        c.minutes["closing"] = (int(row["closing_total"] or 0), int(row["closing_count"] or 0))
        c.flags = _flags(row)
        out.append(c)
    return out


@dataclass(frozen=True)
class CallbackCount:
    """Latest call-backs in the period grouped by what decides their department and result."""

    department_code: str | None  # the payload's department
    fallback_department: int | None  # the case's last assignment before the call-back
    result: str | None
    n: int


def department_counts(session: Session, start: datetime, end: datetime, *, public: Iterable[str],
                      quick_minutes: int, only: int | None = None,
                      scope: int | None = None) -> tuple[list[Counted], list[CallbackCount]]:
    """Per department id: the assignment counts ``evaluate_departments`` makes; and the call-backs."""
    d = _dialect(session)
    base = _base(d, _scope_sql(session, scope), public, quick_minutes)
    only_sql = "" if only is None else f" AND a.dept = {int(only)}"
    counted = ("assigned", "cases", "extension", "return_", "defer", "shelve", "returned", "moved_away", "due",
               "reworks", "handled", "handled_on_time", "handling_total", "closed", *(f"flag_{k}" for k in FLAGS))
    sql = f"""WITH {base},
dep AS (
  SELECT a.dept AS dept, COUNT(*) AS assigned, COUNT(DISTINCT a.cid) AS cases,
    SUM(a.q_extension) AS extension, SUM(a.q_return) AS return_, SUM(a.q_defer) AS defer,
    SUM(a.q_shelve) AS shelve, SUM(a.returned) AS returned,
    SUM(CASE WHEN a.returned = 0 THEN a.moved ELSE 0 END) AS moved_away,
    SUM(1 - a.returned) AS due,
    SUM(CASE WHEN a.returned = 0 THEN a.reworks ELSE 0 END) AS reworks,
    SUM(CASE WHEN a.returned = 0 AND a.hseq IS NOT NULL THEN 1 ELSE 0 END) AS handled,
    SUM(CASE WHEN a.returned = 0 AND a.hseq IS NOT NULL THEN a.handled_on ELSE 0 END) AS handled_on_time,
    SUM(CASE WHEN a.returned = 0 AND a.hseq IS NOT NULL THEN a.hmin ELSE 0 END) AS handling_total,
    SUM(CASE WHEN a.returned = 0 AND a.hseq IS NOT NULL AND cs.cseq > a.hseq THEN 1 ELSE 0 END) AS closed,
    {_flag_cols(d, 'cs.')}
  FROM asg a JOIN cs ON cs.cid = a.cid
  WHERE a.start_at >= :start AND a.start_at < :end{only_sql}
  GROUP BY a.dept
),
cb AS (
  SELECT cid, MAX(seq) AS cbseq FROM l4 WHERE act = 'callback' AND at >= :start GROUP BY cid
),
calls AS (
  SELECT l4.cbdept AS code, a.dept AS fallback, l4.cbres AS result, COUNT(*) AS n
  FROM cb JOIN l4 ON l4.cid = cb.cid AND l4.seq = cb.cbseq
  LEFT JOIN asg a ON a.cid = cb.cid AND a.asg = l4.asg
  GROUP BY l4.cbdept, a.dept, l4.cbres
)
SELECT 'a' AS kind, dep.*, NULL AS code, NULL AS result FROM dep
UNION ALL
SELECT 'c' AS kind, fallback AS dept, n AS assigned, {", ".join(f"NULL AS {k}" for k in counted[1:])}, code, result
FROM calls"""
    out = []
    calls = []
    for row in _run(session, sql, start, end):
        if row["kind"] == "c":
            calls.append(CallbackCount(row["code"], int(row["dept"]) if row["dept"] is not None else None,
                                       row["result"], int(row["assigned"])))
            continue
        c = Counted((str(row["dept"]),))
        for k in ("assigned", "cases", "extension", "defer", "shelve", "returned", "moved_away", "due", "reworks",
                  "handled", "handled_on_time", "closed"):
            c.counts[k] = int(row[k] or 0)
        c.counts["return"] = int(row["return_"] or 0)
        c.minutes["handling"] = (int(row["handling_total"] or 0), c.counts["handled"])
        c.flags = _flags(row)
        out.append(c)
    return out, calls


def resolve_callbacks(calls: Iterable[CallbackCount], by_code: Mapping[str, int], only: int | None
                      ) -> dict[int, tuple[int, int]]:
    """``{department id: (reached, satisfied)}`` as ``evaluate_departments`` counts them."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for c in calls:
        dept = by_code.get(str(c.department_code)) if c.department_code else None
        if dept is None:
            dept = c.fallback_department
        if dept is None or (only is not None and dept != only) or c.result not in REACHED_RESULTS:
            continue
        out[dept][0] += c.n
        out[dept][1] += c.n if c.result in SATISFIED_RESULTS else 0
    return {k: (v[0], v[1]) for k, v in out.items()}


def position_counts(session: Session, start: datetime, end: datetime, *, public: Iterable[str],
                    quick_minutes: int, scope: int | None = None) -> list[Counted]:
    """Per (role, username): the counts ``evaluate_positions`` makes (grid supervisors: the current
    assignment, as ``app.store.evaluation.grid_supervisors`` reads it)."""
    d = _dialect(session)
    base = _base(d, _scope_sql(session, scope), public, quick_minutes)
    pub = ", ".join(f"'{s}'" for s in sorted(public)) or "NULL"
    sup, acc, lead, disp = (Role.SUPERVISOR.value, Role.ACCEPTOR.value, Role.SHIFT_LEADER.value,
                            Role.DISPATCHER.value)
    ans = {k: d.unpack(f"MIN(CASE WHEN act = '{k}' THEN {d.pack('seq', d.text('ontime') + ' || actor')} END) {_AFTER}")
           for k in ("verify", "check")}
    sql = f"""WITH {base},
p0 AS (
  SELECT l4.*, {ans['verify']} AS ans_verify, {ans['check']} AS ans_check,
    MAX(CASE WHEN ts = 'voided' THEN seq END) {_CASE} AS void_seq,
    MAX(CASE WHEN seq = cseq THEN ovr ELSE 0 END) {_CASE} AS f_ovr,
    MAX(CASE WHEN seq = cseq THEN miss ELSE 0 END) {_CASE} AS f_miss,
    MAX(CASE WHEN moved_start = 1 OR r_eff = 1 THEN 1 ELSE 0 END) {_CASE} AS f_moved,
    MAX(CASE WHEN act = 'check' AND ts = 'dispatched' THEN 1 ELSE 0 END) {_CASE} AS f_reworked,
    SUM(nodl) {_CASE} AS nodl_n,
    MAX(CASE WHEN seq = cseq THEN at END) {_CASE} AS closed_at,
    {d.unpack(f"MAX(CASE WHEN act = 'dispatch' OR is_start = 1 THEN {d.pack('seq', d.text('at'))} END) {_CASE}")}
      AS lastdisp_t
  FROM l4
),
p1 AS (
  SELECT p0.*,
    CASE WHEN fseq IS NOT NULL AND void_seq > fseq THEN 1 ELSE 0 END AS vaf,
    CASE WHEN fseq IS NOT NULL THEN 1 ELSE 0 END AS filed_case,
    CASE WHEN cseq IS NOT NULL AND fseq IS NOT NULL AND nodl_n > 0 THEN 1 ELSE 0 END AS f_no_deadline,
    CASE WHEN cseq IS NOT NULL AND lastdisp_t IS NOT NULL
              AND {d.within(d.stamp('lastdisp_t'), 'closed_at', quick_minutes)} THEN 1 ELSE 0 END AS f_quick_close
  FROM p0
),
p AS (
  SELECT p1.*, CASE WHEN f_moved = 1 OR f_reworked = 1 OR f_ovr = 1 OR f_miss = 1 OR f_quick_close = 1
                         OR f_no_deadline = 1 THEN 1 ELSE 0 END AS flagged
  FROM p1
),
pe AS MATERIALIZED (
  SELECT * FROM p WHERE at >= :start AND at < :end
),
rows AS (
  SELECT '{sup}' AS prole, actor AS who, 'reports' AS k, 1 AS n, cid FROM pe WHERE act = 'report' AND role = '{sup}'
  UNION ALL SELECT '{sup}', actor, 'valid_reports', filed_case, cid FROM pe WHERE act = 'report' AND role = '{sup}'
  UNION ALL SELECT '{acc}', actor, 'accepted', 1, cid FROM pe WHERE act = 'report' AND role = '{acc}'
  UNION ALL SELECT '{acc}', actor, CASE act WHEN 'send_verify' THEN 'verify_sent' ELSE 'check_sent' END, 1, cid
    FROM pe WHERE act IN ('send_verify', 'send_check') AND role = '{acc}'
  UNION ALL SELECT '{acc}', actor, CASE act WHEN 'send_verify' THEN 'verify_sent_on_time' ELSE 'check_sent_on_time' END,
    ontime, cid FROM pe WHERE act IN ('send_verify', 'send_check') AND role = '{acc}'
  UNION ALL SELECT '{sup}', who, CASE WHEN act = 'send_verify' THEN 'verify_tasks' ELSE 'check_tasks' END, 1, cid
    FROM (SELECT pe.*, COALESCE(NULLIF(sup, ''), substr(CASE act WHEN 'send_verify' THEN ans_verify ELSE ans_check END, 2))
          AS who FROM pe WHERE act IN ('send_verify', 'send_check') AND role = '{acc}') t WHERE who IS NOT NULL AND who <> ''
  UNION ALL SELECT '{sup}', who, CASE WHEN act = 'send_verify' THEN 'verify_on_time' ELSE 'check_on_time' END,
    CASE WHEN substr(CASE act WHEN 'send_verify' THEN ans_verify ELSE ans_check END, 1, 1) = '1' THEN 1 ELSE 0 END, cid
    FROM (SELECT pe.*, COALESCE(NULLIF(sup, ''), substr(CASE act WHEN 'send_verify' THEN ans_verify ELSE ans_check END, 2))
          AS who FROM pe WHERE act IN ('send_verify', 'send_check') AND role = '{acc}') t WHERE who IS NOT NULL AND who <> ''
  UNION ALL SELECT '{lead}', actor, 'filed', 1, cid FROM pe WHERE act = 'file' AND role = '{lead}' AND seq = fseq
  UNION ALL SELECT '{lead}', actor, 'filed_on_time', ontime, cid FROM pe WHERE act = 'file' AND role = '{lead}' AND seq = fseq
  UNION ALL SELECT '{lead}', actor, 'filed_voided', vaf, cid FROM pe WHERE act = 'file' AND role = '{lead}' AND seq = fseq
  UNION ALL SELECT '{lead}', actor, 'closed', 1, cid FROM pe WHERE act = 'close' AND role = '{lead}'
  UNION ALL SELECT '{lead}', actor, 'closed_on_time', ontime, cid FROM pe WHERE act = 'close' AND role = '{lead}'
  UNION ALL SELECT '{disp}', actor, 'dispatched', 1, cid FROM pe WHERE act = 'dispatch' AND role = '{disp}'
  UNION ALL SELECT '{disp}', actor, 'dispatched_on_time', ontime, cid FROM pe WHERE act = 'dispatch' AND role = '{disp}'
  UNION ALL SELECT '{disp}', pe.actor, 'redispatched',
    CASE WHEN pe.is_start = 1 AND (a.returned = 1 OR a.moved = 1) THEN 1 ELSE 0 END, pe.cid
    FROM pe LEFT JOIN asg a ON a.cid = pe.cid AND a.asg = pe.asg WHERE pe.act = 'dispatch' AND pe.role = '{disp}'
  UNION ALL SELECT '{sup}', u.username, 'grid_filed', 1, cs.cid
    FROM cs JOIN unit_grids g ON g.code = cs.f_grid JOIN users u ON u.id = g.supervisor_id
    WHERE cs.filed_at >= :start AND cs.filed_at < :end
  UNION ALL SELECT '{sup}', u.username, 'missed',
    CASE WHEN cs.f_source IN ({pub}) AND (cs.report_role IS NULL OR cs.report_role <> '{sup}') THEN 1 ELSE 0 END, cs.cid
    FROM cs JOIN unit_grids g ON g.code = cs.f_grid JOIN users u ON u.id = g.supervisor_id
    WHERE cs.filed_at >= :start AND cs.filed_at < :end
),
flagrows AS (
  SELECT '{sup}' AS prole, actor AS who, cid, f_moved AS moved, f_reworked AS reworked, f_ovr AS ovr, f_miss AS miss,
    f_quick_close AS quick_close, f_no_deadline AS no_deadline
    FROM pe WHERE act = 'report' AND role = '{sup}' AND flagged = 1
  UNION ALL SELECT '{lead}', actor, cid, f_moved, f_reworked, f_ovr, f_miss, f_quick_close, f_no_deadline
    FROM pe WHERE act = 'close' AND role = '{lead}' AND flagged = 1
)
SELECT prole, who, k, SUM(n) AS n, {", ".join(f"NULL AS flag_{k}" for k in FLAGS)}
FROM rows GROUP BY prole, who, k
UNION ALL
SELECT f.prole, f.who, 'flag', 0, {_flag_cols(d, 'f.', number='c.number')}
FROM flagrows f JOIN cases c ON c.id = f.cid
GROUP BY f.prole, f.who"""
    out: dict[tuple[str, str], Counted] = {}
    for row in _run(session, sql, start, end):
        key = (str(row["prole"]), str(row["who"]))
        c = out.get(key)
        if c is None:
            c = out[key] = Counted(key)
        if row["k"] == "flag":
            for k, v in _flags(row).items():
                c.flags[k] = sorted(set(c.flags.get(k, [])) | set(v))
        else:
            c.counts[str(row["k"])] = c.counts.get(str(row["k"]), 0) + int(row["n"] or 0)
    return list(out.values())


__all__ = ["CallbackCount", "Counted", "department_counts", "position_counts", "region_counts", "resolve_callbacks"]
