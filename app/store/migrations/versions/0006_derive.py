"""Case state derived from events in the database (PostgreSQL): the appended event sets every loop column of its case.

Design (PostgreSQL; SpatiaLite keeps the Python path of app.services, one desk per file):

- ``case_events_derive`` (BEFORE INSERT, fires after ``case_events_chain``: triggers fire in
  name order, so the chain's workflow and login checks speak first) runs
  ``gridhall_case_events_derive()`` (SECURITY DEFINER). For every session but the owner's
  import path (``SET LOCAL gridhall.import = 'on'`` by an exempt session) it
  * refuses an event time more than 5 minutes from the database's clock, and a locked or
    inactive user (application logins only);
  * derives the case's loop columns from the event exactly as app.services (prepare steps and
    app.services.timers.update_timer) do: state, version (= seq), department (dispatch names
    it in the event; an approved 回退 clears it), level, the step timestamps, the running timer
    (migration 0005's limit lookup, working calendar and deadline), extension and pause
    minutes, rework and urge counts, updated_at and the duplicate link;
  * adds what it derives to the event's payload (the new deadline, the minutes granted, the
    department …) and refuses a payload that says otherwise; when the payload changed it
    hashes the event again (the chain trigger already numbered it). A workstation with a
    stale calendar therefore sends no deadline at all and reads back what the database set;
  * writes the case row (as the owner: the only way a loop column changes).
  System events (automatic replies, the owner's own) move only version, state and
  updated_at, as app.store.audit.append_event does.
- ``case_events_author`` (BEFORE INSERT, non-definer): no login may insert a ``system`` event;
  only the database's own functions (running as the owner) may.
- ``case_events_reply`` (AFTER INSERT, per statement, after the head moved): the automatic
  replies (两次回复) to public and hotline reporters, written by the database in the same
  transaction from ``reply_templates`` (seeded from app.domain.derived), recording who caused
  them (``caused_by``) and after which action (``after``).
- ``cases_unchanged`` (BEFORE UPDATE, non-definer): an application login's UPDATE of a case
  must change nothing (the compare-and-set ``SET version = version`` takes the row lock);
  ``cases_new_defaults`` (BEFORE INSERT): a login's new case has its loop columns at their
  defaults (migration 0002 already requires state reported and version 0).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Iterable

from alembic import op

from app.domain.definitions import CaseState
from app.domain.derived import DEFAULT_REASON, MAX_EXTENSION_MINUTES, REPLY_SOURCES, TEMPLATES
from app.domain.text import FIELDS
from app.domain.workflow import TRANSITIONS, Relative, pauses_timer, stage_for

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: How far an application login's event time may be from the database's clock.
CLOCK_TOLERANCE = "5 minutes"
#: The database's clock: naive China Standard Time, whole seconds (as the clients record).
CLOCK = "(now() AT TIME ZONE 'Asia/Shanghai')::timestamp(0)"
#: Columns a login's new case must leave at their defaults, with the default.
NEW_CASE_DEFAULTS = (
    ("department_id", None), ("duplicate_of_id", None), ("filed_at", None), ("dispatched_at", None),
    ("fed_back_at", None), ("closed_at", None), ("stage", None), ("timer_basis", None),
    ("limit_minutes", None), ("timer_started_at", None), ("paused_since", None), ("deadline_at", None),
    ("handle_deadline_at", None), ("paused_minutes", 0), ("extension_minutes", 0), ("urge_count", 0),
    ("rework_count", 0), ("updated_at", None),
)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(values: Iterable[str]) -> str:
    return "ARRAY[" + ",".join(_lit(v) for v in values) + "]::text[]"


def _stage_case(state: str, previous: str) -> str:
    """SQL of app.domain.workflow.stage_for(state, previous)."""
    arms = []
    for s in CaseState:
        if s is CaseState.VOID_REQUESTED:
            continue
        stage = stage_for(s)
        arms.append(f"WHEN {_lit(s.value)} THEN {_lit(stage.value) if stage else 'NULL'}")
    inner = f"CASE {previous} {' '.join(arms)} END"
    return (f"CASE WHEN {state} = {_lit(CaseState.VOID_REQUESTED.value)} THEN {inner} "
            f"ELSE CASE {state} {' '.join(arms)} END END")


def _reworks() -> str:
    """SQL condition on NEW: the transition bumps the rework count (Transition.reworks)."""
    pairs = sorted({(t.action.value, t.to_state.value) for t in TRANSITIONS
                    if t.reworks and not isinstance(t.to_state, Relative)})
    return " OR ".join(f"(NEW.action = {_lit(a)} AND NEW.to_state = {_lit(s)})" for a, s in pairs) or "false"


def _paused_states() -> str:
    return _array(s.value for s in CaseState if pauses_timer(s))


_DERIVE = """
CREATE FUNCTION gridhall_case_events_derive() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE
  exempt boolean := gridhall_exempt(); clock timestamp; u record; c cases%ROWTYPE; d record; o record;
  p jsonb; derived jsonb := '{{}}'::jsonb; k text; stage text; paused boolean; restart boolean := false;
  lim record; ext integer := 0; asked integer; granted integer; old_deadline timestamp; lvl text;
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'case_events' OR TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'gridhall_case_events_derive() runs only as the BEFORE INSERT trigger of %.case_events', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF exempt AND current_setting('gridhall.import', true) = 'on' THEN
    RETURN NEW;  -- the owner's import path: case columns and times are taken as they come
  END IF;
  IF NOT exempt THEN
    IF NEW.role <> 'system' THEN  -- system events reach here only from the database's own functions
      SELECT active, locked INTO u FROM users WHERE username = gridhall_username(session_user);
      IF NOT FOUND OR u.active IS FALSE OR u.locked IS TRUE THEN
        RAISE EXCEPTION 'login % is disabled or locked in table users and may not record events', session_user
          USING ERRCODE = 'insufficient_privilege';
      END IF;
    END IF;
    clock := {clock};
    IF NEW.at IS NULL OR NEW.at < clock - interval {tolerance} OR NEW.at > clock + interval {tolerance} THEN
      RAISE EXCEPTION 'case_events: the event time % is more than {tolerance_text} from the database''s clock (%)', NEW.at, clock
        USING ERRCODE = 'check_violation',
              HINT = 'events are recorded at the time they happen; set the workstation''s clock right';
    END IF;
    IF length(NEW.reason) > {max_reason} OR octet_length(NEW.payload::text) > {max_payload} THEN
      RAISE EXCEPTION 'case_events: a reason holds at most {max_reason} characters and a payload at most {max_payload} bytes'
        USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.at < (SELECT e.at FROM case_events e WHERE e.case_id = NEW.case_id ORDER BY e.seq DESC LIMIT 1) THEN
      RAISE EXCEPTION 'case_events: the event time % is before the case''s last event', NEW.at
        USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.role <> 'system' AND NEW.payload IS NOT NULL AND json_typeof(NEW.payload) = 'object'
       AND (NEW.payload::jsonb -> 'auto' IS DISTINCT FROM NULL AND NEW.payload::jsonb -> 'auto' <> 'false'::jsonb
            OR NEW.payload::jsonb ? 'caused_by') THEN  -- a reply by hand says "auto": false
      RAISE EXCEPTION 'case_events: only the database marks an event as automatic (payload auto, caused_by)'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- A dispatch names the department it sends the case to; any other event names the login's own
    -- department or none (an event naming another department would show it to that department).
    IF NEW.role <> 'system' AND NEW.action <> 'dispatch' AND NEW.department_id IS NOT NULL
       AND NEW.department_id IS DISTINCT FROM (SELECT department_id FROM users
                                               WHERE username = gridhall_username(session_user)) THEN
      RAISE EXCEPTION 'case_events: an event names the department of the login that records it (or none)'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  IF NEW.payload IS NOT NULL AND json_typeof(NEW.payload) NOT IN ('object', 'null') THEN
    RAISE EXCEPTION 'case_events: the payload must be a JSON object' USING ERRCODE = 'check_violation';
  END IF;
  p := CASE WHEN NEW.payload IS NULL OR json_typeof(NEW.payload) = 'null' THEN '{{}}'::jsonb ELSE NEW.payload::jsonb END;
  SELECT * INTO c FROM cases WHERE id = NEW.case_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NEW;  -- the foreign key refuses the event
  END IF;
  c.version := NEW.seq;
  c.state := NEW.to_state;
  c.updated_at := NEW.at;
  IF NEW.role <> 'system' THEN
    CASE NEW.action
    WHEN 'report' THEN
      c.reported_at := NEW.at;
    WHEN 'file' THEN
      c.filed_at := NEW.at;
    WHEN 'dispatch' THEN
      SELECT id, code, name, active INTO d FROM departments WHERE id = NEW.department_id;
      IF NOT FOUND AND NOT exempt THEN
        RAISE EXCEPTION 'case_events: a dispatch names its department in department_id'
          USING ERRCODE = 'check_violation';
      END IF;
      IF d.active IS FALSE AND NOT exempt THEN
        RAISE EXCEPTION 'case_events: department % is inactive and cannot be dispatched to', d.code
          USING ERRCODE = 'check_violation';
      END IF;
      IF d.id IS NOT NULL THEN
        derived := derived || jsonb_build_object('department', d.code, 'department_name', d.name);
        c.department_id := d.id;
      END IF;
      c.dispatched_at := NEW.at;
      restart := true;
    WHEN 'feedback' THEN
      c.fed_back_at := NEW.at;
    WHEN 'close' THEN
      c.closed_at := NEW.at;
    WHEN 'urge' THEN
      c.urge_count := coalesce(c.urge_count, 0) + 1;
      derived := derived || jsonb_build_object('urge_count', c.urge_count);
    WHEN 'check' THEN
      derived := derived || jsonb_build_object('outcome',
        CASE WHEN NEW.to_state = {checked} THEN 'passed' ELSE 'failed' END);
    WHEN 'link' THEN
      IF p ? 'duplicate_of_id' THEN
        SELECT id, number, state INTO o FROM cases WHERE id = (p->>'duplicate_of_id')::integer;
      ELSE
        SELECT id, number, state INTO o FROM cases WHERE number = p->>'duplicate_of';
      END IF;
      IF o.id IS NULL OR o.id = c.id OR o.state IN ('not_filed', 'voided') THEN
        IF NOT exempt THEN
          RAISE EXCEPTION 'case_events: a link names a valid original case in payload duplicate_of_id'
            USING ERRCODE = 'check_violation';
        END IF;
      ELSE
        derived := derived || jsonb_build_object('duplicate_of', o.number, 'duplicate_of_id', o.id);
        c.duplicate_of_id := o.id;
      END IF;
    WHEN 'approve' THEN
      derived := derived || jsonb_build_object('request', NEW.from_state);
      IF NEW.from_state = 'return_requested' THEN
        derived := derived || jsonb_build_object('returned_by', c.department_id);
        c.department_id := NULL;  -- wrongly dispatched: the dispatcher picks again
      ELSIF NEW.from_state = 'extension_requested' THEN
        SELECT (e.payload->>'minutes')::integer INTO asked FROM case_events e
         WHERE e.case_id = NEW.case_id AND e.action = 'request_extension' ORDER BY e.seq DESC LIMIT 1;
        granted := coalesce((p->>'minutes')::integer, asked);
        IF (granted IS NULL OR granted <= 0 OR granted > {max_extension}) AND NOT exempt THEN
          RAISE EXCEPTION 'case_events: an approved extension grants 1 to {max_extension} minutes, not %', granted
            USING ERRCODE = 'check_violation';
        END IF;
        ext := coalesce(granted, 0);
        derived := derived || jsonb_build_object('minutes', granted);
        IF asked IS NOT NULL AND granted <> asked THEN
          derived := derived || jsonb_build_object('requested_minutes', asked);
        END IF;
      END IF;
    WHEN 'refuse' THEN
      derived := derived || jsonb_build_object('request', NEW.from_state);
    WHEN 'request_extension' THEN
      IF NOT exempt AND (jsonb_typeof(p->'minutes') IS DISTINCT FROM 'number'
                         OR (p->>'minutes')::numeric <> round((p->>'minutes')::numeric)
                         OR (p->>'minutes')::numeric NOT BETWEEN 1 AND {max_extension}) THEN
        RAISE EXCEPTION 'case_events: an extension request asks for 1 to {max_extension} minutes in payload minutes'
          USING ERRCODE = 'check_violation';
      END IF;
    ELSE
      NULL;
    END CASE;
    IF NEW.action IN ('file', 'dispatch') AND p ? 'level' THEN
      lvl := p->>'level';
      IF lvl IS NULL OR NOT lvl = ANY({levels}) THEN
        IF NOT exempt THEN
          RAISE EXCEPTION 'case_events: level % is not one of %', lvl, {levels} USING ERRCODE = 'check_violation';
        END IF;
      ELSE
        c.level := lvl;
      END IF;
    END IF;
    IF {reworks} THEN
      c.rework_count := coalesce(c.rework_count, 0) + 1;
      restart := true;
    END IF;
    -- app.services.timers.update_timer
    old_deadline := c.deadline_at;
    -- a same-state step (督办, 回复, 修改) keeps the stage, also on 作废申请中 (timers.update_timer)
    stage := CASE WHEN NEW.from_state = NEW.to_state THEN c.stage ELSE {stage_case} END;
    IF stage IS NULL THEN
      c.stage := NULL; c.timer_basis := NULL; c.limit_minutes := NULL; c.timer_started_at := NULL;
      c.paused_since := NULL; c.deadline_at := NULL; c.paused_minutes := 0; c.extension_minutes := 0;
    ELSE
      IF restart OR c.stage IS DISTINCT FROM stage OR c.timer_started_at IS NULL THEN
        SELECT * INTO lim FROM gridhall_limit(c.kind, c.category_id, coalesce(c.level, 'general'), stage);
        c.stage := stage; c.timer_basis := lim.basis; c.limit_minutes := lim.minutes; c.timer_started_at := NEW.at;
        c.paused_since := NULL; c.deadline_at := NULL; c.paused_minutes := 0; c.extension_minutes := 0;
      END IF;
      paused := NEW.to_state = ANY({paused_states})
                OR (NEW.to_state = 'void_requested' AND c.paused_since IS NOT NULL);
      IF paused AND c.paused_since IS NULL THEN
        c.paused_since := NEW.at;
      ELSIF NOT paused AND c.paused_since IS NOT NULL THEN
        c.paused_minutes := coalesce(c.paused_minutes, 0) + gridhall_basis_minutes(c.timer_basis, c.paused_since, NEW.at);
        c.paused_since := NULL;
      END IF;
      c.extension_minutes := coalesce(c.extension_minutes, 0) + ext;
      IF c.timer_basis IS NULL OR c.limit_minutes IS NULL THEN
        c.deadline_at := NULL;
      ELSE
        c.deadline_at := gridhall_deadline(c.timer_basis, c.limit_minutes, c.timer_started_at,
                                           coalesce(c.paused_minutes, 0), c.paused_since, c.extension_minutes);
      END IF;
      IF stage = 'handle' AND c.deadline_at IS NOT NULL THEN
        c.handle_deadline_at := c.deadline_at;
      END IF;
    END IF;
    IF c.deadline_at IS NOT NULL AND c.deadline_at IS DISTINCT FROM old_deadline THEN
      derived := derived || jsonb_build_object('deadline', to_char(c.deadline_at, 'YYYY-MM-DD HH24:MI:SS'));
    ELSIF p ? 'deadline' AND NOT exempt THEN
      RAISE EXCEPTION 'case_events: payload deadline % contradicts the database: this step sets no new deadline', p->>'deadline'
        USING ERRCODE = 'check_violation';
    END IF;
    -- What a login said must agree with what the database derives; what it left out is added
    -- (the owner's own writes are not refused: what it wrote stands in the payload).
    FOR k IN SELECT jsonb_object_keys(derived) LOOP
      IF exempt THEN
        IF p ? k THEN derived := derived - k; END IF;
      ELSIF p ? k AND p->k IS DISTINCT FROM derived->k THEN
        RAISE EXCEPTION 'case_events: payload % = % contradicts the database, which derives %', k, p->k, derived->k
          USING ERRCODE = 'check_violation',
                HINT = 'leave derived values (deadline, minutes, department, counts) out: the database adds them';
      END IF;
    END LOOP;
    IF NOT (p @> derived) THEN
      NEW.payload := (p || derived)::json;
      NEW.hash := gridhall_event_hash(NEW);  -- numbered by the chain trigger; the content changed
    END IF;
  END IF;
  UPDATE cases SET state = c.state, version = c.version, updated_at = c.updated_at, reported_at = c.reported_at,
         level = c.level, department_id = c.department_id, duplicate_of_id = c.duplicate_of_id,
         filed_at = c.filed_at, dispatched_at = c.dispatched_at, fed_back_at = c.fed_back_at,
         closed_at = c.closed_at, stage = c.stage, timer_basis = c.timer_basis, limit_minutes = c.limit_minutes,
         timer_started_at = c.timer_started_at, paused_since = c.paused_since, paused_minutes = c.paused_minutes,
         extension_minutes = c.extension_minutes, deadline_at = c.deadline_at,
         handle_deadline_at = c.handle_deadline_at, urge_count = c.urge_count, rework_count = c.rework_count
   WHERE id = c.id;
  RETURN NEW;
END $$"""

_AUTHOR = """
CREATE FUNCTION gridhall_case_events_author() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'case_events' THEN
    RAISE EXCEPTION 'gridhall_case_events_author() runs only as a trigger of %.case_events', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Not SECURITY DEFINER: current_user is the owner only inside the database's own functions.
  IF NEW.role = 'system' AND NOT gridhall_exempt()
     AND NOT pg_catalog.pg_has_role(current_user, (SELECT relowner FROM pg_catalog.pg_class
                                                   WHERE oid = {events}::regclass), 'MEMBER') THEN
    RAISE EXCEPTION 'login % may not record a system event (%): the database writes them itself', session_user, NEW.action
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$"""

_REPLY = """
CREATE FUNCTION gridhall_case_events_reply() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE r record; txt text;
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'case_events' OR TG_LEVEL <> 'STATEMENT' THEN
    RAISE EXCEPTION 'gridhall_case_events_reply() runs only as the statement trigger of %.case_events', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF gridhall_exempt() AND current_setting('gridhall.import', true) = 'on' THEN
    RETURN NULL;  -- imports bring their own history
  END IF;
  FOR r IN SELECT e.case_id, e.action, e.actor, e.to_state, e.at, e.reason, e.payload, t.template,
                  c.number, c.reported_at, g.name AS category
             FROM new_events e
             JOIN reply_templates t ON t.action = e.action
             JOIN cases c ON c.id = e.case_id
             JOIN categories g ON g.id = c.category_id
            WHERE e.role <> 'system' AND c.source = ANY({sources})
            ORDER BY e.chain_no LOOP
    txt := replace(replace(replace(replace(replace(r.template,
             '{{when}}', CASE WHEN r.reported_at IS NULL THEN ''
                              ELSE '于' || extract(month FROM r.reported_at)::int || '月'
                                   || extract(day FROM r.reported_at)::int || '日' END),
             '{{category}}', r.category),
             '{{number}}', r.number),
             '{{reason}}', coalesce(nullif(r.reason, ''), {default_reason})),
             '{{original}}', coalesce(r.payload->>'duplicate_of', ''));
    INSERT INTO case_events (case_id, action, from_state, to_state, actor, role, at, payload)
    VALUES (r.case_id, 'reply', r.to_state, r.to_state, 'system', 'system', r.at,
            json_build_object('after', r.action, 'auto', true, 'caused_by', r.actor, 'text', txt));
  END LOOP;
  RETURN NULL;
END $$"""

_CASES_UNCHANGED = """
CREATE FUNCTION gridhall_cases_unchanged() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'cases' THEN
    RAISE EXCEPTION 'gridhall_cases_unchanged() runs only as a trigger of %.cases', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Not SECURITY DEFINER: current_user is the owner only inside gridhall_case_events_derive().
  IF pg_catalog.pg_has_role(current_user, (SELECT relowner FROM pg_catalog.pg_class WHERE oid = {cases}::regclass),
                            'MEMBER') THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF {new_case_check} THEN
      RAISE EXCEPTION 'a new case starts with its department, link, timer, counts and step times empty: its events set them'
        USING ERRCODE = 'check_violation';
    END IF;
    IF length(NEW.description) > {max_description} THEN
      RAISE EXCEPTION 'a case description holds at most {max_description} characters' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.kind IS DISTINCT FROM (SELECT g.kind FROM categories g WHERE g.id = NEW.category_id) THEN
      RAISE EXCEPTION 'a new case''s kind is its category''s kind' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.kind = 'component' AND NEW.component_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM components m WHERE m.id = NEW.component_id AND m.category_id = NEW.category_id) THEN
      RAISE EXCEPTION 'a new component case names a component of its own category' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.grid_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM unit_grids u WHERE u.id = NEW.grid_id
                                                 AND NEW.geom IS NOT NULL AND ST_DWithin(u.geom, NEW.geom, 1.0)) THEN
      RAISE EXCEPTION 'a new case''s grid is the grid its location lies in' USING ERRCODE = 'check_violation';
    END IF;
  ELSIF NEW IS DISTINCT FROM OLD THEN
    RAISE EXCEPTION 'case % was changed without a case event: a login changes a case only by appending its case event (the database derives the case''s columns)', OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$"""

_ATTACHMENTS = """
CREATE FUNCTION gridhall_attachments_check() RETURNS trigger LANGUAGE plpgsql {path} AS $$
DECLARE x record;
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'attachments' OR TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'gridhall_attachments_check() runs only as the BEFORE INSERT trigger of %.attachments', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Stored with its event, in the transaction that records it: the event's row is visible here and
  -- its writer is still in progress, which for a row another transaction wrote cannot be.
  SELECT e.xmin::text::bigint AS xid INTO x FROM case_events e WHERE e.id = NEW.event_id AND e.case_id = NEW.case_id;
  IF NOT FOUND OR pg_catalog.txid_status(((pg_catalog.txid_current() >> 32) << 32) | x.xid)
                  IS DISTINCT FROM 'in progress' THEN
    RAISE EXCEPTION 'an attachment is stored with the event that records it, in the same transaction'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.data IS NULL OR NEW.size IS DISTINCT FROM octet_length(NEW.data)
     OR NEW.sha256 IS DISTINCT FROM encode(sha256(NEW.data), 'hex') THEN
    RAISE EXCEPTION 'an attachment''s size and sha256 are those of its data' USING ERRCODE = 'check_violation';
  END IF;
  IF octet_length(NEW.data) > {max_bytes} THEN
    RAISE EXCEPTION 'an attachment holds at most {max_bytes} bytes' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$"""

_TRIGGERS = (
    "CREATE TRIGGER attachments_check BEFORE INSERT ON attachments FOR EACH ROW WHEN (NOT gridhall_exempt()) "
    "EXECUTE FUNCTION gridhall_attachments_check()",
    "CREATE TRIGGER case_events_author BEFORE INSERT ON case_events FOR EACH ROW WHEN (NEW.role = 'system') "
    "EXECUTE FUNCTION gridhall_case_events_author()",
    "CREATE TRIGGER case_events_derive BEFORE INSERT ON case_events FOR EACH ROW "
    "EXECUTE FUNCTION gridhall_case_events_derive()",
    "CREATE TRIGGER case_events_reply AFTER INSERT ON case_events REFERENCING NEW TABLE AS new_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION gridhall_case_events_reply()",
    "CREATE TRIGGER cases_unchanged BEFORE UPDATE ON cases FOR EACH ROW WHEN (NOT gridhall_exempt()) "
    "EXECUTE FUNCTION gridhall_cases_unchanged()",
    "CREATE TRIGGER cases_new_defaults BEFORE INSERT ON cases FOR EACH ROW WHEN (NOT gridhall_exempt()) "
    "EXECUTE FUNCTION gridhall_cases_unchanged()",
)
_DROP = (
    "DROP TRIGGER IF EXISTS attachments_check ON attachments",
    "DROP FUNCTION IF EXISTS gridhall_attachments_check()",
    "DROP TRIGGER IF EXISTS cases_new_defaults ON cases",
    "DROP TRIGGER IF EXISTS cases_unchanged ON cases",
    "DROP TRIGGER IF EXISTS case_events_reply ON case_events",
    "DROP TRIGGER IF EXISTS case_events_derive ON case_events",
    "DROP TRIGGER IF EXISTS case_events_author ON case_events",
    "DROP FUNCTION IF EXISTS gridhall_cases_unchanged()",
    "DROP FUNCTION IF EXISTS gridhall_case_events_reply()",
    "DROP FUNCTION IF EXISTS gridhall_case_events_derive()",
    "DROP FUNCTION IF EXISTS gridhall_case_events_author()",
    "DROP TABLE IF EXISTS reply_templates",
)
FUNCTIONS = ("gridhall_case_events_derive()", "gridhall_case_events_author()", "gridhall_case_events_reply()",
             "gridhall_cases_unchanged()", "gridhall_attachments_check()")
#: The largest payload of a login's event (an edit of a long description fits many times over).
MAX_PAYLOAD_BYTES = 64 * 1024
#: The largest attachment the database stores (the client's default limit is 10 MB).
ATTACHMENT_MAX_BYTES = 64 * 1024 * 1024


def field_limit(field: str) -> int:
    """The input policy's limit of ``field`` (app/domain/text.py), enforced by the database too."""
    return FIELDS[field].limit


def _new_case_check() -> str:
    parts = [f"NEW.{col} IS NOT NULL" if default is None else f"coalesce(NEW.{col}, {default}) <> {default}"
             for col, default in NEW_CASE_DEFAULTS]
    return "\n       OR ".join(parts)


def functions(schema: str) -> list[str]:
    """The CREATE FUNCTION statements (``schema``: where the tables live)."""
    from app.domain.definitions import Level

    common = {"path": f"SET search_path = {schema}, pg_temp", "schema": _lit(schema)}
    return [
        _DERIVE.format(**common, clock=CLOCK, tolerance=_lit(CLOCK_TOLERANCE), tolerance_text=CLOCK_TOLERANCE,
                       checked=_lit(CaseState.CHECKED.value), max_extension=MAX_EXTENSION_MINUTES,
                       levels=_array(lv.value for lv in Level), reworks=_reworks(),
                       stage_case=_stage_case("NEW.to_state", "NEW.from_state"), paused_states=_paused_states(),
                       max_reason=field_limit("reason"), max_payload=MAX_PAYLOAD_BYTES),
        _AUTHOR.format(**common, events=_lit(f"{schema}.case_events")),
        _REPLY.format(**common, sources=_array(s.value for s in sorted(REPLY_SOURCES, key=lambda s: s.value)),
                      default_reason=_lit(DEFAULT_REASON)),
        _CASES_UNCHANGED.format(**common, cases=_lit(f"{schema}.cases"), new_case_check=_new_case_check(),
                                max_description=field_limit("description")),
        _ATTACHMENTS.format(**common, max_bytes=ATTACHMENT_MAX_BYTES),
    ]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    bind = op.get_bind()
    schema = str(bind.exec_driver_sql("SELECT current_schema()").scalar_one())
    op.execute("CREATE TABLE reply_templates (action varchar(24) PRIMARY KEY, template text NOT NULL)")
    for action, template in TEMPLATES.items():
        bind.exec_driver_sql("INSERT INTO reply_templates (action, template) VALUES (%s, %s)",
                             (action.value, template))
    for sql in functions(schema):
        bind.exec_driver_sql(sql.replace("%", "%%"))
    for sql in _TRIGGERS:
        op.execute(sql)
    for fn in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")


def downgrade() -> None:
    if not _postgres():
        return
    for sql in _DROP:
        op.execute(sql)
