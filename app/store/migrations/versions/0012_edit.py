"""修改 edit: a case's descriptive fields change only through a recorded ``edit`` event (issue 8).

Since migration 0006 a login never changes a column of ``cases`` directly; an ``edit`` event
is how an open case's address, description, reporter name and phone are corrected. Its payload
names each changed field with the value before and after:
``{"changes": {"address": ["before", "after"], ...}}``.

PostgreSQL
  ``workflow_transitions`` gets the rows of the new action (app.domain.workflow, synced again).
  ``case_events_changes`` (BEFORE INSERT on case_events; triggers fire in name order: after
  ``case_events_chain`` has checked the login, role, workflow step and reason, and before
  ``case_events_derive`` moves the case's version: migration 0002's deferred check refuses a
  change of a case row that its event's version bump does not follow) runs
  ``gridhall_case_events_edit()`` (SECURITY DEFINER: it writes the case row as the owner, which
  ``cases_unchanged`` lets through, as it does the derive trigger's). For every session but
  the owner's import path it
  * refuses ``changes`` in any event but an edit;
  * refuses an edit without changes, naming another field than the editable ones (loop columns
    included), whose values are not [before, after] text (or null), whose "before" is not the
    case's current value (a stale edit: someone changed the field meanwhile) or whose "after"
    equals it, a description left empty, a blank value (null clears an optional field) or
    control characters;
  * applies the "after" values to the case (the search index trigger of 0011 sees the change).
SpatiaLite
  nothing: app.services.cases.CaseService.edit writes the same change in Python.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from app.domain.definitions import Action
from app.store.security import sync_workflow_table

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: The fields an edit may change (the columns of ``cases`` of the same names).
EDITABLE = ("address", "description", "reporter_name", "reporter_phone")
#: Fields that may not be cleared.
REQUIRED = ("description",)
FUNCTION = "gridhall_case_events_edit()"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join(_lit(v) for v in values) + "]::text[]"


_EDIT = """
CREATE FUNCTION gridhall_case_events_edit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE
  p jsonb; ch jsonb; k text; v jsonb; cur text; c cases%ROWTYPE;
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'case_events' OR TG_OP <> 'INSERT' OR TG_LEVEL <> 'ROW' THEN
    RAISE EXCEPTION 'gridhall_case_events_edit() runs only as the BEFORE INSERT trigger of %.case_events', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF gridhall_exempt() AND pg_catalog.current_setting('gridhall.import', true) = 'on' THEN
    RETURN NEW;  -- the owner's import path: case columns are taken as they come
  END IF;
  p := CASE WHEN NEW.payload IS NULL OR pg_catalog.json_typeof(NEW.payload) <> 'object' THEN '{{}}'::jsonb
            ELSE NEW.payload::jsonb END;
  IF NEW.action <> {edit} THEN
    IF p ? 'changes' THEN
      RAISE EXCEPTION 'case_events: only an edit event changes fields (payload changes), not %', NEW.action
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  ch := p->'changes';
  IF ch IS NULL OR pg_catalog.jsonb_typeof(ch) <> 'object' OR ch = '{{}}'::jsonb THEN
    RAISE EXCEPTION 'case_events: an edit names its changes in payload changes: {{"field": [before, after], ...}}'
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT * INTO c FROM cases WHERE id = NEW.case_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NEW;  -- the foreign key refuses the event
  END IF;
  FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(ch) LOOP
    IF NOT k = ANY({editable}) THEN
      RAISE EXCEPTION 'case_events: an edit changes only %, not %', pg_catalog.array_to_string({editable}, ', '), k
        USING ERRCODE = 'check_violation';
    END IF;
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'array' OR pg_catalog.jsonb_array_length(v) <> 2
       OR pg_catalog.jsonb_typeof(v->0) NOT IN ('string', 'null')
       OR pg_catalog.jsonb_typeof(v->1) NOT IN ('string', 'null') THEN
      RAISE EXCEPTION 'case_events: an edit gives field % as [before, after] text (null: empty)', k
        USING ERRCODE = 'check_violation';
    END IF;
    cur := CASE k WHEN 'address' THEN c.address WHEN 'description' THEN c.description
                  WHEN 'reporter_name' THEN c.reporter_name WHEN 'reporter_phone' THEN c.reporter_phone END;
    IF (v->>0) IS DISTINCT FROM cur THEN
      RAISE EXCEPTION 'case_events: stale edit of case %: field % is no longer what the edit says it was', NEW.case_id, k
        USING ERRCODE = 'check_violation', HINT = 'read the case again and repeat the edit';
    END IF;
    IF (v->>1) IS NOT DISTINCT FROM cur THEN
      RAISE EXCEPTION 'case_events: the edit of field % changes nothing', k USING ERRCODE = 'check_violation';
    END IF;
    IF (v->>1) IS NULL AND k = ANY({required}) THEN
      RAISE EXCEPTION 'case_events: field % may not be emptied', k USING ERRCODE = 'check_violation';
    END IF;
    IF (v->>1) IS NOT NULL AND pg_catalog.btrim(v->>1, E' \\t\\r\\n\\u3000') = '' THEN
      RAISE EXCEPTION 'case_events: field % may not be blank (null empties an optional field)', k
        USING ERRCODE = 'check_violation';
    END IF;
    IF (v->>1) ~ (CASE WHEN k = 'description' THEN E'[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\u202a-\\u202e\\u2066-\\u2069]'
                       ELSE E'[\\x01-\\x1f\\x7f\\u202a-\\u202e\\u2066-\\u2069]' END) THEN
      RAISE EXCEPTION 'case_events: the new value of field % holds control characters', k
        USING ERRCODE = 'check_violation';
    END IF;
  END LOOP;
  UPDATE cases SET
    address = CASE WHEN ch ? 'address' THEN ch->'address'->>1 ELSE address END,
    description = CASE WHEN ch ? 'description' THEN ch->'description'->>1 ELSE description END,
    reporter_name = CASE WHEN ch ? 'reporter_name' THEN ch->'reporter_name'->>1 ELSE reporter_name END,
    reporter_phone = CASE WHEN ch ? 'reporter_phone' THEN ch->'reporter_phone'->>1 ELSE reporter_phone END
   WHERE id = c.id;
  RETURN NEW;
END $$"""


def function(schema: str) -> str:
    """The CREATE FUNCTION statement (``schema``: where the tables live)."""
    return _EDIT.format(path=f"SET search_path = {schema}, pg_temp", schema=_lit(schema),
                        edit=_lit(Action.EDIT.value), editable=_array(EDITABLE), required=_array(REQUIRED))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    bind = op.get_bind()
    schema = str(bind.exec_driver_sql("SELECT current_schema()").scalar_one())
    sync_workflow_table(bind)
    bind.exec_driver_sql(function(schema).replace("%", "%%"))
    op.execute(f"REVOKE EXECUTE ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute("CREATE TRIGGER case_events_changes BEFORE INSERT ON case_events FOR EACH ROW "
               f"EXECUTE FUNCTION {FUNCTION}")


def downgrade() -> None:
    if not _postgres():
        return
    op.execute("DROP TRIGGER IF EXISTS case_events_changes ON case_events")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}")
    op.execute(f"DELETE FROM workflow_transitions WHERE action = {_lit(Action.EDIT.value)}")
