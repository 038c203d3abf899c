"""督办 raises priority, 职责争议 / 协调裁定 and 回访 (issue 11, items 5–7): columns and the database's derive.

Both backends
  ``cases.urge_level`` (integer NOT NULL, default 0: not urged; else the highest level of the
  case's urges, 1 一般督办 / 2 重点督办 / 3 挂牌督办) and ``cases.urge_deadline_at`` (the earliest
  deadline a leader set in an urge). Both stay on the record after the case closes: they say how
  the case was urged; a list of open cases reads them as the case's current priority. A case
  urged before this migration (its urges carry no level) gets level 1, the derive's default.
SpatiaLite
  nothing else: app.services.cases (urge, dispute, rule, callback) and
  app.services.timers.update_timer derive the same in Python.
PostgreSQL
  ``workflow_transitions`` is synced with app.domain.workflow (职责争议 dispute, 协调裁定 rule,
  回访 callback and the state 争议协调中 disputed). ``gridhall_case_events_derive()`` and
  ``gridhall_cases_unchanged()`` are edited *in place*: their current bodies (0006's, plus
  whatever a later migration changed) are read from the catalog and given anchored
  replacements, each anchor found exactly once (as migration 0010 inserts its guards), so a
  fresh database (0006 built from the current code, then this migration) and an upgraded one
  end with the same functions, and downgrade takes exactly these edits out again. The derive now
  * on ``urge``: takes payload ``urge_level`` (1–3; default 1, then added to the payload) and an
    optional ``urge_deadline`` ('YYYY-MM-DD HH:MM:SS', after the event's time), refusing anything
    else; the case keeps the highest level and the earliest urge deadline;
  * computes the running deadline as before and, **while the stage is 处置 (handle)**, replaces it
    by the urge deadline when that is earlier (also after a new dispatch, a ruling or a rework:
    the leader's deadline stands until the case leaves handling; during a 缓办/挂账 pause there
    is no running deadline to replace). A changed deadline is added to the payload (``deadline``),
    as every new deadline is; ``handle_deadline_at`` follows;
  * on ``rule``: the event's ``department_id`` is the department ruled responsible (or doing
    the 代整改 remedial work), as for a dispatch (the "an event names the login's own
    department" check lets a ruling name it); unknown or inactive departments are refused;
    payload ``ruling`` is upheld (the same department: its running timer goes on), reassigned
    (another department: a fresh handling limit, ``dispatched_at`` = the ruling) or remedial
    (either; optional ``responsible``: the code of the department responsible, another than the
    one doing the work); ``department`` and ``department_name`` are added to the payload;
  * on ``callback``: payload ``result`` is one of app.domain.loop.CALLBACK_RESULTS, ``note``
    text if given, and the case's source gets replies (app.domain.derived.REPLY_SOURCES);
    the case's department (the one evaluated) is added as ``department`` / ``department_name``.
  The new-case check of ``gridhall_cases_unchanged()`` also requires urge_level 0 and no urge
  deadline.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

from app.domain.definitions import Action, CaseState
from app.domain.derived import REPLY_SOURCES
from app.domain.loop import CALLBACK_RESULTS, RULINGS, URGE_LEVELS
from app.store.security import sync_workflow_table

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

DERIVE = "gridhall_case_events_derive"
UNCHANGED = "gridhall_cases_unchanged"
NEW_ACTIONS = (Action.DISPUTE, Action.RULE, Action.CALLBACK)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(values: Iterable[str]) -> str:
    return "ARRAY[" + ",".join(_lit(v) for v in values) + "]::text[]"


_URGE_ANCHOR = """      derived := derived || jsonb_build_object('urge_count', c.urge_count);
"""
_URGE = _URGE_ANCHOR + """      -- 督办 (0015): the urge's level (1-3, default 1) and optional deadline; the case keeps the
      -- highest level and the earliest deadline of its urges.
      ulvl := CASE WHEN NOT p ? 'urge_level' THEN 1
                   WHEN jsonb_typeof(p->'urge_level') = 'number' AND (p->>'urge_level') = ANY({levels})
                   THEN (p->>'urge_level')::integer END;
      IF ulvl IS NULL THEN
        IF NOT exempt THEN
          RAISE EXCEPTION 'case_events: an urge''s level (payload urge_level) is 1, 2 or 3, not %', p->'urge_level'
            USING ERRCODE = 'check_violation';
        END IF;
        ulvl := 1;
      END IF;
      derived := derived || jsonb_build_object('urge_level', ulvl);
      udl := NULL;
      IF p ? 'urge_deadline' THEN
        IF jsonb_typeof(p->'urge_deadline') = 'string'
           AND (p->>'urge_deadline') ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}$' THEN
          BEGIN
            udl := (p->>'urge_deadline')::timestamp;
          EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            udl := NULL;
          END;
        END IF;
        IF (udl IS NULL OR udl <= NEW.at) AND NOT exempt THEN
          RAISE EXCEPTION 'case_events: an urge''s deadline (payload urge_deadline) is a time after the event, YYYY-MM-DD HH:MM:SS, not %', p->'urge_deadline'
            USING ERRCODE = 'check_violation';
        END IF;
      END IF;
      c.urge_level := greatest(coalesce(c.urge_level, 0), ulvl);
      c.urge_deadline_at := least(c.urge_deadline_at, udl);
"""

_ARMS_ANCHOR = """    WHEN 'request_extension' THEN
"""
_ARMS = """    WHEN 'rule' THEN
      -- 协调裁定 (0015): the event names the department ruled responsible or doing the remedial work.
      SELECT id, code, name, active INTO d FROM departments WHERE id = NEW.department_id;
      IF NOT FOUND AND NOT exempt THEN
        RAISE EXCEPTION 'case_events: a ruling names its department in department_id'
          USING ERRCODE = 'check_violation';
      END IF;
      IF d.active IS FALSE AND NOT exempt THEN
        RAISE EXCEPTION 'case_events: department % is inactive and cannot be ruled responsible', d.code
          USING ERRCODE = 'check_violation';
      END IF;
      IF NOT exempt THEN
        IF jsonb_typeof(p->'ruling') IS DISTINCT FROM 'string' OR NOT (p->>'ruling') = ANY({rulings}) THEN
          RAISE EXCEPTION 'case_events: a ruling says % in payload ruling, not %', {rulings}, p->'ruling'
            USING ERRCODE = 'check_violation';
        END IF;
        IF p->>'ruling' = 'upheld' AND d.id IS DISTINCT FROM c.department_id THEN
          RAISE EXCEPTION 'case_events: an upheld ruling keeps the case''s department'
            USING ERRCODE = 'check_violation';
        END IF;
        IF p->>'ruling' = 'reassigned' AND d.id IS NOT DISTINCT FROM c.department_id THEN
          RAISE EXCEPTION 'case_events: a reassigning ruling names another department than the case''s'
            USING ERRCODE = 'check_violation';
        END IF;
        IF p ? 'responsible' AND (p->>'ruling' IS DISTINCT FROM 'remedial'
                                  OR jsonb_typeof(p->'responsible') IS DISTINCT FROM 'string'
                                  OR p->>'responsible' = d.code
                                  OR NOT EXISTS (SELECT 1 FROM departments x WHERE x.code = p->>'responsible')) THEN
          RAISE EXCEPTION 'case_events: payload responsible (remedial rulings only) is the code of the responsible department, not the one doing the work'
            USING ERRCODE = 'check_violation';
        END IF;
      END IF;
      IF d.id IS NOT NULL THEN
        derived := derived || jsonb_build_object('department', d.code, 'department_name', d.name);
        IF d.id IS DISTINCT FROM c.department_id THEN
          c.department_id := d.id;
          c.dispatched_at := NEW.at;
          restart := true;  -- another department: a fresh handling limit
        END IF;
      END IF;
    WHEN 'callback' THEN
      -- 回访 (0015): the reporter's satisfaction, for reports whose reporter gets replies.
      IF NOT exempt THEN
        IF jsonb_typeof(p->'result') IS DISTINCT FROM 'string' OR NOT (p->>'result') = ANY({results}) THEN
          RAISE EXCEPTION 'case_events: a call-back records payload result, one of %, not %', {results}, p->'result'
            USING ERRCODE = 'check_violation';
        END IF;
        IF p ? 'note' AND jsonb_typeof(p->'note') IS DISTINCT FROM 'string' THEN
          RAISE EXCEPTION 'case_events: a call-back''s note is text' USING ERRCODE = 'check_violation';
        END IF;
        IF NOT c.source = ANY({sources}) THEN
          RAISE EXCEPTION 'case_events: only reporters who get replies (sources %) are called back, not a % report', {sources}, c.source
            USING ERRCODE = 'check_violation';
        END IF;
      END IF;
      SELECT id, code, name INTO o FROM departments WHERE id = c.department_id;
      IF FOUND THEN
        derived := derived || jsonb_build_object('department', o.code, 'department_name', o.name);
      END IF;
""" + _ARMS_ANCHOR

_TIMER_ANCHOR = """      IF stage = 'handle' AND c.deadline_at IS NOT NULL THEN
        c.handle_deadline_at := c.deadline_at;
"""
_TIMER = """      -- 督办 (0015): while the case is handled, an earlier urge deadline is its deadline
      IF stage = 'handle' AND c.deadline_at IS NOT NULL AND c.urge_deadline_at < c.deadline_at THEN
        c.deadline_at := c.urge_deadline_at;
      END IF;
""" + _TIMER_ANCHOR


def _derive_edits() -> list[tuple[str, str]]:
    """(anchor, replacement) pairs applied to the derive's current body, in order."""
    fmt = {"levels": _array(str(v) for v in URGE_LEVELS), "rulings": _array(RULINGS),
           "results": _array(CALLBACK_RESULTS),
           "sources": _array(s.value for s in sorted(REPLY_SOURCES, key=lambda s: s.value))}
    declare = "old_deadline timestamp; lvl text;"
    return [
        (declare, declare + " ulvl integer; udl timestamp;"),
        ("IF NEW.role <> 'system' AND NEW.action <> 'dispatch' AND NEW.department_id IS NOT NULL",
         "IF NEW.role <> 'system' AND NEW.action NOT IN ('dispatch', 'rule') AND NEW.department_id IS NOT NULL"),
        (_URGE_ANCHOR, _URGE.format(**fmt)),
        (_ARMS_ANCHOR, _ARMS.format(**fmt)),
        (_TIMER_ANCHOR, _TIMER),
        ("urge_count = c.urge_count, rework_count = c.rework_count",
         "urge_count = c.urge_count, rework_count = c.rework_count,\n"
         "         urge_level = c.urge_level, urge_deadline_at = c.urge_deadline_at"),
    ]


def _unchanged_edits() -> list[tuple[str, str]]:
    anchor = "NEW.updated_at IS NOT NULL THEN"
    return [(anchor, "NEW.updated_at IS NOT NULL\n       OR coalesce(NEW.urge_level, 0) <> 0 "
                     "OR NEW.urge_deadline_at IS NOT NULL THEN")]


def edit_body(body: str, edits: list[tuple[str, str]], *, reverse: bool = False) -> str:
    """Apply (or with ``reverse`` take out) ``edits``; each text to replace must occur exactly once."""
    pairs = [(new, old) for old, new in reversed(edits)] if reverse else edits
    for find, put in pairs:
        if body.count(find) != 1:
            raise RuntimeError(f"migration 0015: cannot locate (exactly once) the text {find.strip()[:80]!r}")
        body = body.replace(find, put, 1)
    return body


def _raw(sql: str) -> None:
    """Run DDL as it is: no bind-parameter or %-format processing of function bodies."""
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None  # an open migration connection
    cur = dbapi.cursor()
    try:
        cur.execute(sql)
    finally:
        cur.close()


def _rewrite(name: str, edits: list[tuple[str, str]], *, reverse: bool = False) -> None:
    bind = op.get_bind()
    oid, src = bind.exec_driver_sql(
        "SELECT p.oid, p.prosrc FROM pg_proc p WHERE p.proname = %(n)s "
        "AND p.pronamespace = current_schema()::regnamespace", {"n": name}).one()
    (definition,) = bind.exec_driver_sql(f"SELECT pg_get_functiondef({int(oid)})").one()
    if definition.count(src) != 1:
        raise RuntimeError(f"migration 0015: cannot locate the body of {name}() in its definition")
    _raw(definition.replace(src, edit_body(src, edits, reverse=reverse), 1))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:  # plain ALTER TABLE … ADD COLUMN on both backends
        batch.add_column(sa.Column("urge_level", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("urge_deadline_at", sa.DateTime(), nullable=True))
    # An urge recorded before 0015 carries no level: it was a 一般督办 (the derive's default level 1).
    op.execute("UPDATE cases SET urge_level = 1 WHERE urge_count > 0")
    if not _postgres():
        return
    sync_workflow_table(op.get_bind())
    _rewrite(DERIVE, _derive_edits())
    _rewrite(UNCHANGED, _unchanged_edits())


def downgrade() -> None:
    if _postgres():
        _rewrite(UNCHANGED, _unchanged_edits(), reverse=True)
        _rewrite(DERIVE, _derive_edits(), reverse=True)
        states = _array([CaseState.DISPUTED.value])
        op.execute(f"DELETE FROM workflow_transitions WHERE action = ANY({_array(a.value for a in NEW_ACTIONS)}) "
                   f"OR from_state = ANY({states}) OR to_state = ANY({states})")
        op.drop_column("cases", "urge_deadline_at")
        op.drop_column("cases", "urge_level")
        return
    # SQLite ≥ 3.35 drops a column in place (a rebuilt table would lose its SpatiaLite geometry set-up).
    op.execute("ALTER TABLE cases DROP COLUMN urge_deadline_at")
    op.execute("ALTER TABLE cases DROP COLUMN urge_level")
