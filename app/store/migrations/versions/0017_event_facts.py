"""Self-sufficient events (issue 13, item 1): the report event records its case's facts.

Evaluation (app.domain.indicators) reads the append-only ``case_events`` only, never the cases'
mutable columns. So the report event carries what an indicator groups by: ``kind``,
``category`` (code), ``level``, ``source``, ``grid``, ``community``, ``street`` (codes) and
``component`` (code; null where the case names none) — written by ``CaseService.report`` and by
the demo generator — and every event that starts a time limit carries, with its ``deadline``,
the limit (``limit_minutes``, ``basis``).

PostgreSQL
  ``case_events_facts`` (BEFORE INSERT on case_events; triggers fire in name order: after
  ``case_events_chain`` numbered and hashed the event and after ``case_events_derive`` wrote
  the case row and its timer) runs ``gridhall_case_events_facts()`` (SECURITY DEFINER: it reads
  the case, its category, grid, areas and component whatever the login's row-level security
  shows). For every session but the owner's import path it
  * on a ``report`` event: refuses a fact that contradicts the case row (a login's word is not
    trusted: a lying category or grid would move the case to another subject's figures) and
    adds the facts left out;
  * on any event that starts a limit (the derive set a new ``deadline`` and restarted the timer at
    the event's time: a report, a dispatch, a ruling, a new stage): adds ``limit_minutes`` and
    ``basis`` from the case row (what the derive just set), refusing others;
  * hashes the event again when its payload changed (as 0006's derive does).
  The owner's exempt sessions outside the import path get the facts added, never refused.
SpatiaLite
  nothing: app.services writes the same payloads.

Events written before this revision carry no facts: app.store.evaluation falls back to the
case row for them (documented there).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from app.domain.definitions import CaseState
from app.domain.workflow import stage_for

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FUNCTION = "gridhall_case_events_facts()"
#: The facts a report event carries (payload keys).
REPORT_FACTS = ("kind", "category", "level", "source", "grid", "community", "street", "component")


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_FACTS = """
CREATE FUNCTION gridhall_case_events_facts() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE
  exempt boolean := gridhall_exempt(); p jsonb; f jsonb := '{{}}'::jsonb; k text; c record;
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'case_events' OR TG_OP <> 'INSERT' OR TG_LEVEL <> 'ROW' THEN
    RAISE EXCEPTION 'gridhall_case_events_facts() runs only as the BEFORE INSERT trigger of %.case_events', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF exempt AND pg_catalog.current_setting('gridhall.import', true) = 'on' THEN
    RETURN NEW;  -- the owner's import path brings its own history
  END IF;
  IF NEW.role = 'system' OR (NEW.payload IS NOT NULL AND pg_catalog.json_typeof(NEW.payload) NOT IN ('object', 'null')) THEN
    RETURN NEW;  -- the database's own events; a payload that is no object is refused by the derive
  END IF;
  p := CASE WHEN NEW.payload IS NULL OR pg_catalog.json_typeof(NEW.payload) = 'null' THEN '{{}}'::jsonb
            ELSE NEW.payload::jsonb END;
  IF NEW.action = 'report' THEN
    SELECT x.kind, x.level, x.source, cat.code AS category, g.code AS grid, com.code AS community,
           st.code AS street, comp.code AS component
      INTO c
      FROM cases x
      JOIN categories cat ON cat.id = x.category_id
      LEFT JOIN unit_grids g ON g.id = x.grid_id
      LEFT JOIN admin_areas com ON com.id = g.community_id
      LEFT JOIN admin_areas st ON st.id = com.parent_id
      LEFT JOIN components comp ON comp.id = x.component_id
     WHERE x.id = NEW.case_id;
    IF NOT FOUND THEN
      RETURN NEW;  -- the foreign key refuses the event
    END IF;
    f := pg_catalog.jsonb_build_object('kind', c.kind, 'category', c.category, 'level', c.level,
                                       'source', c.source, 'grid', c.grid, 'community', c.community,
                                       'street', c.street, 'component', c.component);
  END IF;
  IF p ? 'deadline' THEN  -- the derive set a new deadline: does a limit start here?
    SELECT x.limit_minutes, x.timer_basis, x.timer_started_at INTO c FROM cases x WHERE x.id = NEW.case_id;
    -- (a restart: a dispatch, a ruling, a report, a new stage; not a same-second extension or urge)
    IF FOUND AND c.timer_started_at = NEW.at AND c.limit_minutes IS NOT NULL
       AND (NEW.from_state IS NULL OR NEW.action IN ('dispatch', 'rule')
            OR (NEW.from_state <> 'void_requested' AND NEW.to_state <> 'void_requested'
                AND ({stage_from}) IS DISTINCT FROM ({stage_to}))) THEN
      f := f || pg_catalog.jsonb_build_object('limit_minutes', c.limit_minutes, 'basis', c.timer_basis);
    END IF;
  END IF;
  FOR k IN SELECT pg_catalog.jsonb_object_keys(f) LOOP
    IF exempt THEN
      IF p ? k THEN f := f - k; END IF;  -- what the owner wrote stands
    ELSIF p ? k AND p->k IS DISTINCT FROM f->k THEN
      RAISE EXCEPTION 'case_events: payload % = % contradicts the case, which says %', k, p->k, f->k
        USING ERRCODE = 'check_violation',
              HINT = 'leave the case''s facts out of the event: the database adds them from the case';
    END IF;
  END LOOP;
  IF NOT (p @> f) THEN
    NEW.payload := (p || f)::json;
    NEW.hash := gridhall_event_hash(NEW);  -- numbered by the chain trigger; the content changed
  END IF;
  RETURN NEW;
END $$"""


def _stage(column: str) -> str:
    """SQL of app.domain.workflow.stage_for(column) (作废申请中 excluded: the caller skips it)."""
    arms = " ".join(f"WHEN {_lit(s.value)} THEN {_lit(st.value) if (st := stage_for(s)) else 'NULL'}"
                    for s in CaseState if s is not CaseState.VOID_REQUESTED)
    return f"CASE {column} {arms} END"


def function(schema: str) -> str:
    """The CREATE FUNCTION statement (``schema``: where the tables live)."""
    return _FACTS.format(path=f"SET search_path = {schema}, pg_temp", schema=_lit(schema),
                         stage_from=_stage("NEW.from_state"), stage_to=_stage("NEW.to_state"))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    bind = op.get_bind()
    schema = str(bind.exec_driver_sql("SELECT current_schema()").scalar_one())
    bind.exec_driver_sql(function(schema).replace("%", "%%"))
    op.execute(f"REVOKE EXECUTE ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute("CREATE TRIGGER case_events_facts BEFORE INSERT ON case_events FOR EACH ROW "
               f"EXECUTE FUNCTION {FUNCTION}")


def downgrade() -> None:
    if not _postgres():
        return
    op.execute("DROP TRIGGER IF EXISTS case_events_facts ON case_events")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}")
