"""The working calendar, the limit table and deadlines in SQL (PostgreSQL): the database can compute a case's timer.

Functions (schema-qualified by search_path; invoker rights; EXECUTE for every GridHall group):
- ``gridhall_is_workday(d date) → boolean``: ``calendar_days`` override, else the statutory
  calendar (``statutory_days``, filled from chinesecalendar by app.store.sql_timers), else
  Monday–Friday — app.domain.calendar.WorkCalendar as app.services.calendar.load_calendar builds it.
- ``gridhall_workdays(d1 date, d2 date) → integer``: workdays in [d1, d2] (arithmetic on the
  weekdays plus the exceptions in range: no per-day loop).
- ``gridhall_basis_minutes(basis, a, b) → integer``: app.services.timers.basis_minutes.
- ``gridhall_deadline(basis, limit_minutes, started_at, paused_minutes, paused_since,
  extension_minutes) → timestamp``: app.domain.deadlines.deadline (null while paused).
- ``gridhall_limit(kind, category_id, level, stage, OUT minutes, OUT basis)``:
  app.domain.limits.LimitTable.lookup over ``time_limits`` as app.services.limits loads it
  (a bad row anywhere is refused as load_limits refuses it). One deliberate difference: an empty
  ``time_limits`` is refused, where a client falls back to the CSV it ships (the database has
  none, and clients of different versions may ship different ones).

The working windows, the enum spellings and the built-in default limits are generated here from
the Python definitions (app.domain.calendar.DEFAULT_WINDOWS, app.domain.definitions,
app.domain.limits.BUILTIN_DEFAULTS); tests/store/test_sql_timers.py checks SQL against Python.
SpatiaLite: nothing (the clients compute timers there; one file, one user).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Iterable

from datetime import time

import sqlalchemy as sa
from alembic import op

from app.domain.calendar import DEFAULT_WINDOWS, US_PER_MINUTE
from app.domain.definitions import Basis, Kind, Level, Stage, _Labelled
from app.domain.limits import BUILTIN_DEFAULTS
from app.store.security import GROUP_ROLES, group_role
from app.store.sql_timers import STATUTORY_TABLE, sync_statutory_days

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "gridhall_is_workday(date)",
    "gridhall_workdays(date, date)",
    "gridhall_basis_minutes(text, timestamp, timestamp)",
    "gridhall_deadline(text, integer, timestamp, integer, timestamp, integer)",
    "gridhall_limit(text, integer, text, text)",
)
LAST_DAY = "9999-12-31"  # WorkCalendar supports years 1–9999
#: A statutory day that differs from Monday–Friday (a holiday on a weekday, a 调休 weekend); a
#: partial index on it keeps the count over long ranges to the few exceptions.
STATUTORY_EXCEPTION = "{t}workday <> (extract(isodow FROM {t}day) < 6)"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one())


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


_WINDOWS = [(_us(s), _us(e)) for s, e in DEFAULT_WINDOWS]
DAY_US = sum(e - s for s, e in _WINDOWS)


def _worked(t: str) -> str:
    """Working microseconds of a workday before time-of-day ``t`` (µs): WorkCalendar.ordinal_us's loop."""
    return " + ".join(f"greatest(0, least({t}, {e}) - {s})" for s, e in _WINDOWS)


def _place(r: str) -> str:
    """Time of day (µs) at which ``r`` (0 < r ≤ DAY_US) working µs of a workday are reached (earliest instant)."""
    whens, before = [], 0
    for s, e in _WINDOWS:
        whens.append(f"WHEN {r} <= {before + e - s} THEN {s} + ({r} - {before})")
        before += e - s
    return f"CASE {' '.join(whens)} END"


def _in_window(t: str) -> str:
    return " OR ".join(f"{t} BETWEEN {s} AND {e}" for s, e in _WINDOWS)


def _next_opening(t: str) -> str:
    """The first window start after ``t`` on the same day (null after the last window)."""
    return "CASE " + " ".join(f"WHEN {t} < {s} THEN {s}" for s, _ in _WINDOWS) + " END"


def _enum(expr: str, enum: type[_Labelled]) -> str:
    """The stored value of ``expr`` read as _Labelled.parse does (value, name or Chinese label); null if none."""
    whens = [f"WHEN {_lit(text)} THEN {_lit(m.value)}"
             for m in enum for text in dict.fromkeys((m.value, m.name, m.label))]
    return f"(CASE {expr} {' '.join(whens)} END)"


def _builtin_values() -> str:
    return ", ".join(f"({_lit(stage.value)}, {_lit(level.value)}, {rule.minutes}, {_lit(rule.basis.value)})"
                     for (stage, level), rule in BUILTIN_DEFAULTS.items())


def _functions(schema: str) -> list[str]:
    path = f"SET search_path = {schema}, pg_temp"
    working, natural = _lit(Basis.WORKING.value), _lit(Basis.NATURAL.value)
    isodow = "extract(isodow FROM {d}) < 6"
    return [
        f"""
CREATE FUNCTION gridhall_is_workday(d date) RETURNS boolean LANGUAGE sql STABLE STRICT {path} AS $$
  SELECT coalesce((SELECT c.workday FROM calendar_days c WHERE c.day = d),
                  (SELECT s.workday FROM {STATUTORY_TABLE} s WHERE s.day = d),
                  {isodow.format(d="d")})
$$""",
        # Monday–Friday counted arithmetically (weeks from d1's weekday), corrected by the statutory
        # exceptions in the range, then by the local overrides there (each against the day's
        # statutory-or-weekday flag).
        f"""
CREATE FUNCTION gridhall_workdays(d1 date, d2 date) RETURNS integer LANGUAGE plpgsql STABLE STRICT {path} AS $$
DECLARE
  s integer := extract(isodow FROM d1)::integer - 1;  -- Monday 0
  n integer := d2 - d1 + 1;
BEGIN
  IF d2 < d1 THEN
    RETURN 0;
  END IF;
  RETURN ((s + n) / 7) * 5 + least((s + n) % 7, 5) - least(s, 5)
    + coalesce((SELECT sum(CASE WHEN s.workday THEN 1 ELSE -1 END)::integer FROM {STATUTORY_TABLE} s
                 WHERE s.day BETWEEN d1 AND d2 AND {STATUTORY_EXCEPTION.format(t="s.")}), 0)
    + coalesce((SELECT sum(c.workday::integer
                           - coalesce(s.workday, {isodow.format(d="c.day")})::integer)::integer
                  FROM calendar_days c LEFT JOIN {STATUTORY_TABLE} s ON s.day = c.day
                 WHERE c.day BETWEEN d1 AND d2), 0);
END
$$""",
        # Whole basis minutes from a to b, rounded half to even like Python's round() of the
        # float quotient (exact here: integer microseconds); 0 unless b is after a.
        f"""
CREATE FUNCTION gridhall_basis_minutes(basis text, a timestamp, b timestamp) RETURNS integer
LANGUAGE plpgsql STABLE STRICT {path} AS $$
DECLARE
  da date := a::date;
  db date := b::date;
  ta bigint := (extract(epoch FROM a::time) * 1000000)::bigint;
  tb bigint := (extract(epoch FROM b::time) * 1000000)::bigint;
  us bigint;
  q bigint;
  r bigint;
BEGIN
  IF basis NOT IN ({working}, {natural}) THEN
    RAISE EXCEPTION '计时方式“%”无效：应为 {Basis.WORKING.value} 或 {Basis.NATURAL.value}', basis
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF b <= a THEN
    RETURN 0;
  END IF;
  IF basis = {natural} THEN
    us := ((extract(epoch FROM b) - extract(epoch FROM a)) * 1000000)::bigint;
  ELSIF da = db THEN
    us := CASE WHEN gridhall_is_workday(da) THEN ({_worked("tb")}) - ({_worked("ta")}) ELSE 0 END;
  ELSE
    us := CASE WHEN gridhall_is_workday(da) THEN {DAY_US} - ({_worked("ta")}) ELSE 0 END
        + CASE WHEN gridhall_is_workday(db) THEN {_worked("tb")} ELSE 0 END
        + gridhall_workdays(da + 1, db - 1)::bigint * {DAY_US};
  END IF;
  q := us / {US_PER_MINUTE};
  r := us % {US_PER_MINUTE};
  IF 2 * r > {US_PER_MINUTE} OR (2 * r = {US_PER_MINUTE} AND q % 2 = 1) THEN
    q := q + 1;
  END IF;
  RETURN q;
END
$$""",
        # deadline(TimerSpec, calendar): null without a timer or while paused; natural time adds
        # wall minutes; working time is the earliest instant at which limit + extension + finished
        # pauses working minutes have passed (a window's end, not the next opening), found by a
        # binary search on gridhall_workdays (no per-day loop); zero minutes: the next working instant.
        f"""
CREATE FUNCTION gridhall_deadline(basis text, limit_minutes integer, started_at timestamp, paused_minutes integer,
                                  paused_since timestamp, extension_minutes integer) RETURNS timestamp
LANGUAGE plpgsql STABLE {path} AS $$
DECLARE
  total bigint;
  us bigint;
  d date;
  t bigint;
  rest bigint;
  need integer;
  lo date;
  hi date;
  mid date;
  span integer;
  result timestamp;
BEGIN
  IF basis IS NULL OR limit_minutes IS NULL OR started_at IS NULL OR paused_since IS NOT NULL THEN
    RETURN NULL;
  END IF;
  IF basis NOT IN ({working}, {natural}) THEN
    RAISE EXCEPTION '计时方式“%”无效：应为 {Basis.WORKING.value} 或 {Basis.NATURAL.value}', basis
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  total := limit_minutes::bigint + coalesce(extension_minutes, 0) + coalesce(paused_minutes, 0);
  IF basis = {natural} THEN
    result := started_at + make_interval(days => (total / 1440)::integer, mins => (total % 1440)::integer);
    IF result > '{LAST_DAY} 23:59:59.999999'::timestamp THEN
      RAISE EXCEPTION '截止时间超出 {LAST_DAY}（时限 % 分钟）', total USING ERRCODE = 'datetime_field_overflow';
    END IF;
    RETURN result;
  END IF;
  us := greatest(total, 0) * {US_PER_MINUTE};
  d := started_at::date;
  t := (extract(epoch FROM started_at::time) * 1000000)::bigint;
  IF us = 0 THEN  -- WorkCalendar.next_working_instant
    IF gridhall_is_workday(d) THEN
      IF {_in_window("t")} THEN
        RETURN started_at;
      END IF;
      rest := {_next_opening("t")};
      IF rest IS NOT NULL THEN
        RETURN d + rest * interval '1 microsecond';
      END IF;
    END IF;
    need := 1;
  ELSE
    IF gridhall_is_workday(d) THEN
      rest := {_worked("t")} + us;  -- the working µs of day d at which the deadline falls
      IF rest <= {DAY_US} THEN
        RETURN d + ({_place("rest")}) * interval '1 microsecond';
      END IF;
      us := rest - {DAY_US};
    END IF;
    need := ((us - 1) / {DAY_US} + 1)::integer;  -- the deadline falls on the need-th workday after d
  END IF;
  -- the smallest day D > d with gridhall_workdays(d + 1, D) >= need
  span := greatest(2 * need, 16);
  lo := d + 1;
  hi := least(d + span, '{LAST_DAY}'::date);
  WHILE gridhall_workdays(d + 1, hi) < need LOOP
    IF hi >= '{LAST_DAY}'::date THEN
      RAISE EXCEPTION '截止时间超出 {LAST_DAY}（时限 % 工作分钟）', total USING ERRCODE = 'datetime_field_overflow';
    END IF;
    lo := hi + 1;
    span := span * 2;
    hi := least(d + span, '{LAST_DAY}'::date);
  END LOOP;
  WHILE lo < hi LOOP
    mid := lo + (hi - lo) / 2;
    IF gridhall_workdays(d + 1, mid) >= need THEN
      hi := mid;
    ELSE
      lo := mid + 1;
    END IF;
  END LOOP;
  IF us = 0 THEN
    RETURN lo + {_WINDOWS[0][0]} * interval '1 microsecond';
  END IF;
  rest := us - (need - 1)::bigint * {DAY_US};
  RETURN lo + ({_place("rest")}) * interval '1 microsecond';
END
$$""",
        _limit_function(path),
    ]


def _limit_function(path: str) -> str:
    # Every row is read as app.services.limits._row_rule reads it (the first bad row, in id order,
    # is refused as load_limits refuses it; a scope given twice is refused at its second row), then
    # looked up most specific first: category → major → kind → global → built-in default.
    kind_of_row = _enum("nullif(r.kind, '')", Kind)
    kind_of_category = _enum("c.kind", Kind)
    major = r"nullif(btrim(r.major_code, E' \t\n\r\f\v'), '')"
    return f"""
CREATE FUNCTION gridhall_limit(kind text, category_id integer, level text, stage text,
                               OUT minutes integer, OUT basis text)
LANGUAGE plpgsql STABLE {path} AS $$
DECLARE
  v_kind text := {_enum("$1", Kind)};
  v_level text := {_enum("coalesce(nullif($3, ''), " + _lit(Level.GENERAL.value) + ")", Level)};
  v_stage text := {_enum("$4", Stage)};
  v_code text;
  v_rows integer;
  v_bad_id integer;
  v_bad text;
  v_minutes integer;
  v_basis text;
BEGIN
  IF v_kind IS NULL THEN
    RAISE EXCEPTION '案件类型“%”无效：应为 {" 或 ".join(m.value for m in Kind)}', $1 USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF v_level IS NULL THEN
    RAISE EXCEPTION '处置级别“%”无效：应为 {"、".join(m.value for m in Level)} 之一', $3
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF v_stage IS NULL THEN
    RAISE EXCEPTION '计时环节“%”无效：应为 {"、".join(m.value for m in Stage)} 之一', $4
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF $2 IS NOT NULL THEN
    SELECT nullif(c.code, '') INTO v_code FROM categories c WHERE c.id = $2;
    IF NOT FOUND THEN
      RAISE EXCEPTION '类别 % 不存在于 categories 表', $2 USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END IF;
  WITH raw AS MATERIALIZED (  -- each spelling read once per row
    SELECT r.id, r.kind AS kind_text, r.category_id AS category_given, r.major_code AS major_given,
           r.level AS level_text, r.stage AS stage_text, r.basis AS basis_text, r.minutes AS n_minutes,
           c.id AS category_found, c.code AS category_code, c.kind AS category_kind_text,
           {kind_of_row} AS row_kind, {kind_of_category} AS category_kind, {major} AS major,
           {_enum("r.level", Level)} AS n_level, {_enum("r.stage", Stage)} AS n_stage,
           {_enum("r.basis", Basis)} AS n_basis
      FROM time_limits r LEFT JOIN categories c ON c.id = r.category_id
  ), rules AS MATERIALIZED (
    SELECT w.id,
           CASE
             WHEN nullif(w.kind_text, '') IS NOT NULL AND w.row_kind IS NULL
               THEN format('kind 无效（%s）', w.kind_text)
             WHEN w.category_given IS NOT NULL AND w.major_given IS NOT NULL
               THEN 'category_id 与 major_code 只能填一个；请清空其中之一'
             WHEN w.category_given IS NOT NULL AND w.category_found IS NULL
               THEN format('category_id %s 不存在于 categories 表；请改正', w.category_given)
             WHEN w.category_found IS NOT NULL AND w.category_kind IS NULL
               THEN format('类别 %s 的 kind 无效（%s）', w.category_code, w.category_kind_text)
             WHEN w.category_found IS NOT NULL AND w.row_kind <> w.category_kind
               THEN format('kind 为 %s，但类别 %s 属于 %s；请改正 kind 或 category_id',
                           w.row_kind, w.category_code, w.category_kind)
             WHEN w.category_found IS NULL AND w.major IS NOT NULL
                  AND (w.row_kind IS NULL OR w.major !~ '^[0-9]{{2}}$')
               THEN format('major_code ''%s'' 须为两位数字，且须同时填写 kind', w.major)
             WHEN w.n_level IS NULL THEN format('level 无效（%s）', w.level_text)
             WHEN w.n_stage IS NULL THEN format('stage 无效（%s）', w.stage_text)
             WHEN w.n_basis IS NULL THEN format('basis 无效（%s）', w.basis_text)
             WHEN w.n_minutes IS NULL OR w.n_minutes <= 0 THEN format('minutes %s 须为正整数', w.n_minutes)
           END AS problem,
           CASE WHEN w.category_found IS NOT NULL THEN w.category_kind ELSE w.row_kind END AS n_kind,
           CASE WHEN w.category_found IS NOT NULL THEN w.category_code ELSE w.major END AS n_code,
           w.n_level, w.n_stage, w.n_minutes, w.n_basis
      FROM raw w
  ), checked AS (
    SELECT u.id, u.n_minutes, u.n_basis,
           coalesce(u.problem, CASE WHEN count(*) FILTER (WHERE u.problem IS NULL) OVER (
                                           PARTITION BY u.n_kind, u.n_code, u.n_level, u.n_stage ORDER BY u.id
                                           ROWS UNBOUNDED PRECEDING) > 1
                                    THEN '与前面的一行适用范围相同；请删除其中一行' END) AS fault,
           CASE WHEN u.n_level = v_level AND u.n_stage = v_stage THEN
             CASE WHEN v_code IS NOT NULL AND u.n_kind = v_kind AND u.n_code = v_code THEN 1
                  WHEN length(v_code) > 2 AND u.n_kind = v_kind AND u.n_code = left(v_code, 2) THEN 2
                  WHEN u.n_kind = v_kind AND u.n_code IS NULL THEN 3
                  WHEN u.n_kind IS NULL AND u.n_code IS NULL THEN 4
             END
           END AS rank
      FROM rules u
  )
  SELECT count(*)::integer,
         (array_agg(k.id ORDER BY k.id) FILTER (WHERE k.fault IS NOT NULL))[1],
         (array_agg(k.fault ORDER BY k.id) FILTER (WHERE k.fault IS NOT NULL))[1],
         (array_agg(k.n_minutes ORDER BY k.rank) FILTER (WHERE k.rank IS NOT NULL))[1],
         (array_agg(k.n_basis ORDER BY k.rank) FILTER (WHERE k.rank IS NOT NULL))[1]
    INTO v_rows, v_bad_id, v_bad, v_minutes, v_basis
    FROM checked k;
  IF v_rows = 0 THEN
    RAISE EXCEPTION 'time_limits 表为空：数据库没有时限规定；请运行 gridhall db init 从 time_limits.csv 重新填入'
      USING ERRCODE = 'data_exception';
  END IF;
  IF v_bad_id IS NOT NULL THEN
    RAISE EXCEPTION 'time_limits 表第 % 行：%', v_bad_id, v_bad USING ERRCODE = 'data_exception';
  END IF;
  IF v_minutes IS NULL THEN
    SELECT b.minutes, b.basis INTO v_minutes, v_basis
      FROM (VALUES {_builtin_values()}) AS b(stage, level, minutes, basis)
     WHERE b.stage = v_stage AND b.level = v_level;
  END IF;
  minutes := v_minutes;
  basis := v_basis;
END
$$"""


def _groups(roles: Iterable) -> str:
    return ", ".join(group_role(r) for r in roles)


def upgrade() -> None:
    if not _postgres():
        return
    op.create_table(
        STATUTORY_TABLE,
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("workday", sa.Boolean(), nullable=False),
    )
    op.execute(f"CREATE INDEX ix_{STATUTORY_TABLE}_exceptions ON {STATUTORY_TABLE} (day) "
               f"WHERE {STATUTORY_EXCEPTION.format(t='')}")
    sync_statutory_days(op.get_bind())
    everyone = _groups(GROUP_ROLES)
    op.execute(f"GRANT SELECT ON {STATUTORY_TABLE} TO {everyone}")
    for sql in _functions(_schema()):
        op.execute(sql)
    for fn in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {everyone}")


def downgrade() -> None:
    if not _postgres():
        return
    for fn in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.drop_table(STATUTORY_TABLE)
