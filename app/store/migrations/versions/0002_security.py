"""Security enforced by the database: group roles, privileges, row-level security,
the audit chain and the state machine checked by triggers (PostgreSQL); on SpatiaLite the
append-only guard of audit_head and the chain linkage checks (docs/deploy.md explains).

Design (PostgreSQL):
- case_events BEFORE INSERT (``gridhall_case_events_chain``) takes the chain lock (the
  audit_head row), fills in or verifies chain_no, prev_hash, seq and hash (the same canonical
  JSON as app.domain.audit, computed in SQL), and for application logins checks the step
  against ``workflow_transitions`` (generated from app.domain.workflow.TRANSITIONS), the
  login's group role, its users row and the case's history. An AFTER statement trigger moves
  audit_head. Superusers and the owner are exempt from the workflow checks (they can drop
  triggers anyway) but not from the chain.
- cases: a state change needs a transition the login's role may take (immediate check);
  at commit every changed case must match its last event (deferred constraint triggers).
- audit_head may not be deleted or truncated, and at commit must name the last link.
- Row-level security: members of gridhall_department see and change only their
  department's cases (and those cases' events and attachments).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

from app.domain.definitions import Role
from app.store.security import (
    GROUP_ROLES,
    LOGIN_PREFIX,
    OPERATIONAL_ROLES,
    SYSTEM_ACTIONS_FOR_LOGINS,
    group_role,
    request_lists,
    sync_workflow_table,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
REFERENCE_TABLES = ("admin_areas", "unit_grids", "departments", "components", "categories", "time_limits",
                    "calendar_days", "routing_rules", "roads")
CASE_TABLES = ("cases", "case_events", "attachments")
USER_COLUMNS = ("id", "username", "display_name", "role", "department_id", "active", "failed_attempts",
                "locked", "phone", "created_at")
DEPARTMENT_GROUP = "gridhall_department"


def _spatialite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(values: Iterable[str]) -> str:
    return "ARRAY[" + ",".join(_lit(v) for v in values) + "]::text[]"


# --- SpatiaLite -----------------------------------------------------------------------------

# Index-only lookups (ORDER BY … LIMIT 1): max() inside an expression would scan the table.
_SQLITE_TRIGGERS = {
    "audit_head_no_delete": """
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head is append-only: DELETE is not allowed'); END""",
    "case_events_chain_check": f"""
CREATE TRIGGER case_events_chain_check BEFORE INSERT ON case_events
BEGIN
  SELECT RAISE(ABORT, 'case_events is append-only: chain_no must be the next link of the chain')
   WHERE NEW.chain_no IS NOT coalesce((SELECT chain_no FROM case_events ORDER BY chain_no DESC LIMIT 1), 0) + 1;
  SELECT RAISE(ABORT, 'case_events is append-only: prev_hash must be the hash of the last link')
   WHERE NEW.prev_hash IS NOT coalesce((SELECT hash FROM case_events ORDER BY chain_no DESC LIMIT 1),
                                       '{GENESIS_HASH}');
  SELECT RAISE(ABORT, 'case_events: seq must be the next event number of its case')
   WHERE NEW.seq IS NOT coalesce((SELECT seq FROM case_events WHERE case_id = NEW.case_id
                                    ORDER BY seq DESC LIMIT 1), 0) + 1;
END""",
}


# --- PostgreSQL: functions ------------------------------------------------------------------

def _functions(schema: str, owner_table: str) -> list[str]:
    req_actions, req_states = request_lists()
    path = f"SET search_path = {schema}, pg_temp"
    return [
        # Superusers and the owner (members of the owning role) run migrations, imports, the demo.
        # No SET clause: it would stop inlining and this runs for every row (catalogs come first anyway).
        f"""
CREATE FUNCTION gridhall_exempt() RETURNS boolean LANGUAGE sql STABLE AS $$
  -- pg_database_owner: superusers and the database's owner, in about a microsecond.
  SELECT pg_has_role(session_user, 'pg_database_owner', 'MEMBER')
      OR pg_has_role(session_user, (SELECT relowner FROM pg_catalog.pg_class
                                     WHERE oid = {_lit(owner_table)}::regclass), 'MEMBER')
$$""",
        f"""
CREATE FUNCTION gridhall_username(login text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN left(login, {len(LOGIN_PREFIX)}) = {_lit(LOGIN_PREFIX)}
              THEN substr(login, {len(LOGIN_PREFIX) + 1}) ELSE login END
$$""",
        """
CREATE FUNCTION gridhall_has_role(role text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT to_regrole('gridhall_' || role) IS NOT NULL
     AND pg_has_role(session_user, 'gridhall_' || role, 'MEMBER')
$$""",
        # The department of the session's login, from its users row (null: none, inactive).
        f"""
CREATE FUNCTION gridhall_current_department() RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER {path} AS $$
  SELECT department_id FROM users
   WHERE username = gridhall_username(session_user) AND active IS NOT FALSE
$$""",
        f"""
CREATE FUNCTION gridhall_reported_by_me(p_case integer) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
{path} AS $$
  SELECT coalesce((SELECT department_id = gridhall_current_department() FROM case_events
                    WHERE case_id = p_case AND seq = 1), false)
$$""",
        # Whether a department operator may add an event or attachment to the case.
        f"""
CREATE FUNCTION gridhall_department_may_write(p_case integer) RETURNS boolean LANGUAGE sql STABLE
SECURITY DEFINER {path} AS $$
  SELECT coalesce((SELECT c.department_id = gridhall_current_department()
                       OR (c.department_id IS NULL
                           AND coalesce((SELECT e.department_id = gridhall_current_department()
                                           FROM case_events e WHERE e.case_id = c.id AND e.seq = 1), true))
                     FROM cases c WHERE c.id = p_case), false)
$$""",
        # Python's repr() of the float a JSON number token stands for (json.loads then json.dumps):
        # the shortest digits that round-trip, fixed notation for 1e-4 <= |x| < 1e16.
        """
CREATE FUNCTION gridhall_json_number(tok text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT
SET extra_float_digits = 1 AS $$
DECLARE f float8; s text; mant text; ex int := 0; d text; decpt int; n int; cand numeric; sign text := '';
BEGIN
  tok := btrim(tok);
  IF tok ~ '^-?(0|[1-9][0-9]*)$' THEN
    RETURN CASE WHEN tok = '-0' THEN '0' ELSE tok END;
  END IF;
  BEGIN
    f := tok::float8;
  EXCEPTION WHEN numeric_value_out_of_range THEN
    IF tok ~* 'e-' THEN RETURN CASE WHEN left(tok, 1) = '-' THEN '-0.0' ELSE '0.0' END; END IF;
    RETURN CASE WHEN left(tok, 1) = '-' THEN '-Infinity' ELSE 'Infinity' END;
  END;
  s := f::text;
  IF s IN ('Infinity', '-Infinity', 'NaN') THEN RETURN s; END IF;
  IF left(s, 1) = '-' THEN sign := '-'; s := substr(s, 2); END IF;
  mant := split_part(s, 'e', 1);
  IF position('e' IN s) > 0 THEN ex := split_part(s, 'e', 2)::int; END IF;
  d := split_part(mant, '.', 1) || split_part(mant, '.', 2);
  decpt := length(split_part(mant, '.', 1)) + ex;  -- value = 0.<d> * 10^decpt
  WHILE length(d) > 1 AND left(d, 1) = '0' LOOP d := substr(d, 2); decpt := decpt - 1; END LOOP;
  d := rtrim(d, '0');
  IF d = '' THEN RETURN sign || '0.0'; END IF;
  -- PostgreSQL prints some integral doubles with all their digits; Python prints the shortest.
  WHILE length(d) > 1 LOOP
    n := length(d);
    cand := round(d::numeric / 10);
    BEGIN
      EXIT WHEN (sign || cand::text || 'e' || (decpt - n + 1))::float8 <> f;
    EXCEPTION WHEN numeric_value_out_of_range THEN EXIT;  -- rounded past the largest double
    END;
    IF length(cand::text) = n THEN decpt := decpt + 1; END IF;  -- 99… rounded up to 100…
    d := rtrim(cand::text, '0');
  END LOOP;
  n := length(d);
  IF decpt > -4 AND decpt <= 16 THEN
    IF decpt <= 0 THEN RETURN sign || '0.' || repeat('0', -decpt) || d; END IF;
    IF decpt >= n THEN RETURN sign || d || repeat('0', decpt - n) || '.0'; END IF;
    RETURN sign || left(d, decpt) || '.' || substr(d, decpt + 1);
  END IF;
  RETURN sign || left(d, 1) || CASE WHEN n > 1 THEN '.' || substr(d, 2) ELSE '' END || 'e'  -- e+16, e-05, e-324
         || CASE WHEN decpt - 1 < 0 THEN '-' ELSE '+' END || CASE WHEN abs(decpt - 1) < 10 THEN '0' ELSE '' END
         || abs(decpt - 1)::text;
END $$""",
        # json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) in SQL.
        """
CREATE FUNCTION gridhall_canonical_json(j json) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE out text;
BEGIN
  IF j IS NULL THEN RETURN 'null'; END IF;
  CASE json_typeof(j)
  WHEN 'object' THEN
    SELECT '{' || coalesce(string_agg(to_json(d.k)::text || ':' || gridhall_canonical_json(d.v), ','
                                      ORDER BY d.k COLLATE "C"), '') || '}'
      INTO out
      FROM (SELECT DISTINCT ON (e.key) e.key AS k, e.value AS v
              FROM json_each(j) WITH ORDINALITY AS e(key, value, n)
             ORDER BY e.key, e.n DESC) d;  -- a repeated key: the last one wins, as in json.loads
    RETURN out;
  WHEN 'array' THEN
    SELECT '[' || coalesce(string_agg(gridhall_canonical_json(e.value), ',' ORDER BY e.n), '') || ']'
      INTO out FROM json_array_elements(j) WITH ORDINALITY AS e(value, n);
    RETURN out;
  WHEN 'string' THEN RETURN to_json(j #>> '{}')::text;
  WHEN 'number' THEN RETURN gridhall_json_number(j::text);
  WHEN 'boolean' THEN RETURN j #>> '{}';
  ELSE RETURN 'null';
  END CASE;
END $$""",
        # app.domain.audit.event_hash: sha256(prev_hash || canonical(event)) as hex.
        f"""
CREATE FUNCTION gridhall_event_hash(e case_events) RETURNS text LANGUAGE plpgsql STABLE {path} AS $$
DECLARE payload text;
BEGIN
  IF e.payload IS NULL OR json_typeof(e.payload) = 'null'
     OR (json_typeof(e.payload) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each(e.payload))) THEN
    payload := 'null';
  ELSE
    payload := gridhall_canonical_json(e.payload);
  END IF;
  RETURN encode(sha256(convert_to(e.prev_hash
    || '{{"action":' || coalesce(to_json(e.action)::text, 'null')
    || ',"actor":' || coalesce(to_json(e.actor)::text, 'null')
    || ',"at":' || coalesce(to_json(to_char(e.at, 'YYYY-MM-DD HH24:MI:SS'))::text, 'null')
    || ',"case_id":' || coalesce(e.case_id::text, 'null')
    || ',"chain_no":' || coalesce(e.chain_no::text, 'null')
    || ',"department_id":' || coalesce(e.department_id::text, 'null')
    || ',"from_state":' || coalesce(to_json(e.from_state)::text, 'null')
    || ',"payload":' || payload
    || ',"reason":' || coalesce(to_json(e.reason)::text, 'null')
    || ',"role":' || coalesce(to_json(e.role)::text, 'null')
    || ',"seq":' || coalesce(e.seq::text, 'null')
    || ',"to_state":' || coalesce(to_json(e.to_state)::text, 'null')
    || '}}', 'UTF8')), 'hex');
END $$""",
        # The state a pending request came from (app.domain.workflow.request_origin).
        f"""
CREATE FUNCTION gridhall_request_origin(p_case integer) RETURNS text LANGUAGE plpgsql STABLE {path} AS $$
DECLARE r record; stack text[] := '{{}}'; last text;
BEGIN
  FOR r IN SELECT action, from_state, to_state FROM case_events WHERE case_id = p_case ORDER BY seq LOOP
    IF r.action = ANY({_array(req_actions)}) AND r.from_state IS NOT NULL THEN
      stack := stack || r.from_state;
    ELSIF r.from_state = ANY({_array(req_states)}) AND r.to_state <> r.from_state
          AND cardinality(stack) > 0 THEN
      stack := stack[1:cardinality(stack) - 1];
    END IF;
    last := r.to_state;
  END LOOP;
  IF cardinality(stack) > 0 AND last = ANY({_array(req_states)}) THEN RETURN stack[cardinality(stack)]; END IF;
  RETURN NULL;
END $$""",
        _CHAIN_FUNCTION.format(path=path, genesis=GENESIS_HASH, system_actions=_array(SYSTEM_ACTIONS_FOR_LOGINS)),
        f"""
CREATE FUNCTION gridhall_case_events_advance_head() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
{path} AS $$
BEGIN
  UPDATE audit_head h SET chain_no = n.chain_no, hash = n.hash
    FROM (SELECT chain_no, hash FROM new_events ORDER BY chain_no DESC LIMIT 1) n
   WHERE h.id = 1 AND (h.chain_no, h.hash) IS DISTINCT FROM (n.chain_no, n.hash);
  RETURN NULL;
END $$""",
        f"""
CREATE FUNCTION gridhall_audit_head_guard() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'audit_head is append-only: % is not allowed', TG_OP
      USING HINT = 'audit_head records the last link of the case_events chain; it only moves forward';
  END IF;
  IF NEW.id <> OLD.id THEN
    RAISE EXCEPTION 'audit_head: the chain head row keeps id %', OLD.id;
  END IF;
  RETURN NEW;
END $$""",
        f"""
CREATE FUNCTION gridhall_audit_head_check() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE h record; l record;
BEGIN
  SELECT chain_no, hash INTO h FROM audit_head WHERE id = 1;
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT chain_no, hash INTO l FROM case_events ORDER BY chain_no DESC LIMIT 1;
  IF NOT FOUND THEN SELECT 0 AS chain_no, '{GENESIS_HASH}'::text AS hash INTO l; END IF;
  IF (h.chain_no, h.hash) IS DISTINCT FROM (l.chain_no, l.hash) THEN
    RAISE EXCEPTION 'audit_head must name the last link of case_events (link %), not link %', l.chain_no, h.chain_no
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$""",
        _CASE_FUNCTIONS.format(path=path),
    ]


_CHAIN_FUNCTION = """
CREATE FUNCTION gridhall_case_events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE
  last_no integer; last_hash text; last_seq integer; last_state text; computed text;
  login text := session_user; uname text := gridhall_username(session_user);
  u record; t record; origin text; exempt boolean;
BEGIN
  -- The chain lock: the same row lock app.store.audit.lock_head takes (once per transaction;
  -- the setting is transaction-local and undone with a rolled-back savepoint, like the lock).
  IF current_setting('gridhall.chain_locked', true) IS DISTINCT FROM txid_current()::text THEN
    PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'audit_head row 1 (the chain head) is missing: the audit chain was tampered with';
    END IF;
    PERFORM set_config('gridhall.chain_locked', txid_current()::text, true);
  END IF;
  exempt := gridhall_exempt();
  SELECT chain_no, hash INTO last_no, last_hash FROM case_events ORDER BY chain_no DESC LIMIT 1;
  IF NOT FOUND THEN last_no := 0; last_hash := '{genesis}'; END IF;
  NEW.chain_no := coalesce(NEW.chain_no, last_no + 1);
  IF NEW.chain_no <> last_no + 1 THEN
    RAISE EXCEPTION 'case_events: chain_no must be % (the next link of the chain), not %', last_no + 1, NEW.chain_no
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  NEW.prev_hash := coalesce(NEW.prev_hash, last_hash);
  IF NEW.prev_hash <> last_hash THEN
    RAISE EXCEPTION 'case_events: prev_hash must be the hash of link % (%), not %', last_no, last_hash, NEW.prev_hash
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  SELECT seq, to_state INTO last_seq, last_state FROM case_events WHERE case_id = NEW.case_id
   ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(NEW.seq, coalesce(last_seq, 0) + 1);
  IF NEW.seq <> coalesce(last_seq, 0) + 1 THEN
    RAISE EXCEPTION 'case_events: case % has % events, so the next seq is %, not %',
      NEW.case_id, coalesce(last_seq, 0), coalesce(last_seq, 0) + 1, NEW.seq
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  NEW.at := date_trunc('second', NEW.at);  -- the hash counts whole seconds
  IF NOT exempt THEN
    IF NEW.role = 'system' THEN
      IF NOT (NEW.action = ANY({system_actions}) AND NEW.actor = 'system'
              AND NEW.from_state IS NOT DISTINCT FROM NEW.to_state) THEN
        RAISE EXCEPTION 'login % may not record a system event (%): only automatic replies are allowed', login, NEW.action
          USING ERRCODE = 'insufficient_privilege';
      END IF;
    ELSE
      IF NOT gridhall_has_role(NEW.role) THEN
        RAISE EXCEPTION 'login % is not a member of gridhall_% and may not record an event as role %', login, NEW.role, NEW.role
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF NEW.actor IS DISTINCT FROM uname THEN
        RAISE EXCEPTION 'login % must record its events as actor %, not %', login, uname, NEW.actor
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      SELECT role, department_id, active INTO u FROM users WHERE username = uname;
      IF NOT FOUND OR u.active IS FALSE OR u.role <> NEW.role THEN
        RAISE EXCEPTION 'login % has no active users row with role % in this database', login, NEW.role
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF NEW.role = 'department' AND NEW.department_id IS DISTINCT FROM u.department_id THEN
        RAISE EXCEPTION 'a department operator records events for its own department (%), not %', u.department_id, NEW.department_id
          USING ERRCODE = 'insufficient_privilege';
      END IF;
    END IF;
    IF NEW.from_state IS DISTINCT FROM last_state THEN
      RAISE EXCEPTION 'case %: the event starts from state % but the case''s last recorded state is %',
        NEW.case_id, coalesce(NEW.from_state, '(new case)'), coalesce(last_state, '(new case)')
        USING ERRCODE = 'check_violation';
    END IF;
    SELECT needs_reason, relative INTO t FROM workflow_transitions
     WHERE action = NEW.action AND from_state IS NOT DISTINCT FROM NEW.from_state
       AND to_state = NEW.to_state AND role = NEW.role LIMIT 1;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'workflow: role % may not take action % from state % to state %',
        NEW.role, NEW.action, coalesce(NEW.from_state, '(new case)'), NEW.to_state
        USING ERRCODE = 'check_violation', HINT = 'the allowed steps are in table workflow_transitions';
    END IF;
    IF t.needs_reason AND coalesce(btrim(NEW.reason), '') = '' THEN
      RAISE EXCEPTION 'workflow: action % needs a reason', NEW.action USING ERRCODE = 'check_violation';
    END IF;
    IF t.relative = 'previous' THEN
      origin := gridhall_request_origin(NEW.case_id);
      IF origin IS DISTINCT FROM NEW.to_state THEN
        RAISE EXCEPTION 'workflow: % returns case % to the state before its request (%), not %',
          NEW.action, NEW.case_id, origin, NEW.to_state USING ERRCODE = 'check_violation';
      END IF;
    END IF;
  END IF;
  -- The owner's bulk writers (imports, the demo) supply hashes that verify-audit checks later.
  IF exempt AND NEW.hash IS NOT NULL THEN RETURN NEW; END IF;
  computed := gridhall_event_hash(NEW);
  NEW.hash := coalesce(NEW.hash, computed);
  IF NEW.hash <> computed THEN
    RAISE EXCEPTION 'case_events: hash % does not match the event''s content (expected %)', NEW.hash, computed
      USING ERRCODE = 'integrity_constraint_violation',
            HINT = 'leave chain_no, prev_hash, seq and hash empty and the database fills them in';
  END IF;
  RETURN NEW;
END $$"""

_CASE_FUNCTIONS = """
CREATE FUNCTION gridhall_cases_guard() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.state <> 'reported' OR NEW.version <> 0 THEN
      RAISE EXCEPTION 'a new case starts in state reported at version 0 (got %, version %)', NEW.state, NEW.version
        USING ERRCODE = 'check_violation';
    END IF;
  ELSIF NOT EXISTS (SELECT 1 FROM workflow_transitions w WHERE w.from_state = OLD.state
                    AND w.to_state = NEW.state AND w.role <> 'system' AND gridhall_has_role(w.role)) THEN
    RAISE EXCEPTION 'workflow: login % may not move case % from state % to state %', session_user, OLD.id, OLD.state, NEW.state
      USING ERRCODE = 'check_violation', HINT = 'the allowed steps are in table workflow_transitions';
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION gridhall_case_matches_events() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE cid integer; c record; l record;
BEGIN
  IF TG_TABLE_NAME = 'cases' THEN cid := NEW.id; ELSE cid := NEW.case_id; END IF;
  SELECT state, version INTO c FROM cases WHERE id = cid;
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT seq, to_state INTO l FROM case_events WHERE case_id = cid ORDER BY seq DESC LIMIT 1;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'case % has no events: a new case must be recorded by its report event in the same transaction', cid
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF c.version <> l.seq OR c.state <> l.to_state THEN
    RAISE EXCEPTION 'case % is at version % in state % but its last event (seq %) leaves it in state %: every change of a case is recorded as a case event in the same transaction',
      cid, c.version, c.state, l.seq, l.to_state USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'cases' THEN
    IF OLD IS DISTINCT FROM NEW AND c.version <= OLD.version THEN
      RAISE EXCEPTION 'case % was changed without a case event: every change of a case is recorded as a case event in the same transaction', cid
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;
  RETURN NULL;
END $$"""


def _triggers() -> list[str]:
    return [
        "CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only()",
        "CREATE TRIGGER case_events_chain BEFORE INSERT ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION gridhall_case_events_chain()",
        "CREATE TRIGGER case_events_advance_head AFTER INSERT ON case_events "
        "REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION gridhall_case_events_advance_head()",
        "CREATE CONSTRAINT TRIGGER case_events_match_case AFTER INSERT ON case_events "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NOT gridhall_exempt()) "
        "EXECUTE FUNCTION gridhall_case_matches_events()",
        "CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION gridhall_audit_head_guard()",
        "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
        "FOR EACH STATEMENT EXECUTE FUNCTION gridhall_audit_head_guard()",
        # Only direct updates (depth 0) are checked: the chain trigger moves the head itself.
        "CREATE CONSTRAINT TRIGGER audit_head_names_last_link AFTER UPDATE ON audit_head "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (pg_trigger_depth() = 0) "
        "EXECUTE FUNCTION gridhall_audit_head_check()",
        "CREATE TRIGGER cases_new_state BEFORE INSERT ON cases "
        "FOR EACH ROW WHEN (NOT gridhall_exempt()) EXECUTE FUNCTION gridhall_cases_guard()",
        "CREATE TRIGGER cases_state_change BEFORE UPDATE OF state ON cases "
        "FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NOT gridhall_exempt()) "
        "EXECUTE FUNCTION gridhall_cases_guard()",
        "CREATE CONSTRAINT TRIGGER cases_match_events AFTER INSERT OR UPDATE ON cases "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NOT gridhall_exempt()) "
        "EXECUTE FUNCTION gridhall_case_matches_events()",
    ]


_ALL_FUNCTIONS = (
    "gridhall_case_matches_events()", "gridhall_cases_guard()", "gridhall_audit_head_check()",
    "gridhall_audit_head_guard()", "gridhall_case_events_advance_head()", "gridhall_case_events_chain()",
    "gridhall_request_origin(integer)", "gridhall_event_hash(case_events)", "gridhall_canonical_json(json)",
    "gridhall_json_number(text)", "gridhall_department_may_write(integer)", "gridhall_reported_by_me(integer)",
    "gridhall_current_department()", "gridhall_has_role(text)", "gridhall_username(text)", "gridhall_exempt()",
)
_ALL_TRIGGERS = (
    ("cases_match_events", "cases"), ("cases_state_change", "cases"), ("cases_new_state", "cases"),
    ("audit_head_names_last_link", "audit_head"), ("audit_head_no_truncate", "audit_head"),
    ("audit_head_guard", "audit_head"), ("case_events_match_case", "case_events"),
    ("case_events_advance_head", "case_events"), ("case_events_chain", "case_events"),
    ("case_events_no_truncate", "case_events"),
)


# --- PostgreSQL: roles, privileges, policies --------------------------------------------------

def _create_groups() -> None:
    for role in GROUP_ROLES:
        name = group_role(role)
        # Roles are cluster-wide: another database of the cluster may have made them already.
        op.execute(f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_lit(name)}) THEN
    BEGIN
      CREATE ROLE {name} NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;  -- created concurrently
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION '创建组角色 {name} 需要 CREATEROLE 权限：请用超级用户运行 gridhall db init，或请 DBA 先执行 CREATE ROLE {name} NOLOGIN';
    END;
  END IF;
END $$""")


def _groups(roles: Iterable[Role]) -> str:
    return ", ".join(group_role(r) for r in roles)


def _grants() -> None:
    everyone, operational, admin = _groups(GROUP_ROLES), _groups(OPERATIONAL_ROLES), group_role("admin")
    not_admin = _groups(r for r in GROUP_ROLES if r.value != "admin")
    op.execute(f"GRANT USAGE ON SCHEMA {_schema()} TO {everyone}")
    for table in REFERENCE_TABLES:
        op.execute(f"GRANT SELECT ON {table} TO {everyone}")
        op.execute(f"GRANT INSERT, UPDATE, DELETE ON {table} TO {admin}")
        if table != "calendar_days":  # keyed by its date, no sequence
            op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {admin}")
    op.execute(f"GRANT SELECT ON workflow_transitions, alembic_version TO {everyone}")
    for table in CASE_TABLES:
        op.execute(f"GRANT SELECT ON {table} TO {everyone}")
        op.execute(f"GRANT INSERT ON {table} TO {operational}")
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {operational}")
    op.execute(f"GRANT UPDATE ON cases TO {operational}")
    # FOR UPDATE (the chain lock) needs UPDATE; the head is then checked at commit.
    op.execute(f"GRANT SELECT ON audit_head TO {everyone}")
    op.execute(f"GRANT UPDATE (chain_no, hash) ON audit_head TO {operational}")
    op.execute(f"GRANT SELECT ({', '.join(USER_COLUMNS)}) ON users TO {not_admin}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON users TO {admin}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE users_id_seq TO {admin}")


def _policies() -> None:
    dept = DEPARTMENT_GROUP
    staff = _groups(r for r in GROUP_ROLES if r.value != "department")
    mine = "(SELECT gridhall_current_department())"  # a subquery: evaluated once per query, not per row
    for table in CASE_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_staff ON {table} TO {staff} USING (true) WITH CHECK (true)")
    # A department sees the cases dispatched to it, its own reports not yet dispatched, and a
    # case it is creating now (version 0: the INSERT … RETURNING of the report).
    op.execute(f"""CREATE POLICY cases_department_read ON cases FOR SELECT TO {dept} USING (
        department_id = {mine}
        OR (department_id IS NULL AND (version = 0 OR gridhall_reported_by_me(id))))""")
    op.execute(f"""CREATE POLICY cases_department_insert ON cases FOR INSERT TO {dept}
        WITH CHECK (department_id IS NULL OR department_id = {mine})""")
    op.execute(f"""CREATE POLICY cases_department_update ON cases FOR UPDATE TO {dept}
        USING (department_id = {mine} OR (department_id IS NULL AND version = 0))
        WITH CHECK (department_id = {mine} OR (department_id IS NULL AND version <= 1))""")
    op.execute(f"""CREATE POLICY case_events_department_read ON case_events FOR SELECT TO {dept} USING (
        department_id = {mine} OR EXISTS (SELECT 1 FROM cases c WHERE c.id = case_events.case_id))""")
    op.execute(f"""CREATE POLICY case_events_department_insert ON case_events FOR INSERT TO {dept}
        WITH CHECK (gridhall_department_may_write(case_id))""")
    op.execute(f"""CREATE POLICY attachments_department_read ON attachments FOR SELECT TO {dept} USING (
        EXISTS (SELECT 1 FROM cases c WHERE c.id = attachments.case_id))""")
    op.execute(f"""CREATE POLICY attachments_department_insert ON attachments FOR INSERT TO {dept}
        WITH CHECK (gridhall_department_may_write(case_id))""")


_POLICIES = (
    ("cases_staff", "cases"), ("case_events_staff", "case_events"), ("attachments_staff", "attachments"),
    ("cases_department_read", "cases"), ("cases_department_insert", "cases"),
    ("cases_department_update", "cases"), ("case_events_department_read", "case_events"),
    ("case_events_department_insert", "case_events"), ("attachments_department_read", "attachments"),
    ("attachments_department_insert", "attachments"),
)


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one())


def upgrade() -> None:
    if _spatialite():
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)
        return
    schema = _schema()
    op.create_table(
        "workflow_transitions",
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),  # null: a new case
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("needs_reason", sa.Boolean(), nullable=False),
        sa.Column("relative", sa.String(16), nullable=True),  # same | previous
    )
    op.create_index("ix_workflow_transitions_step", "workflow_transitions", ["action", "from_state", "role"])
    sync_workflow_table(op.get_bind())
    for sql in _functions(schema, f"{schema}.case_events"):
        op.execute(sql)
    for sql in _triggers():
        op.execute(sql)
    _create_groups()
    _grants()
    _policies()
    for fn in ("gridhall_current_department()", "gridhall_reported_by_me(integer)",
               "gridhall_department_may_write(integer)"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {_groups(GROUP_ROLES)}")


def downgrade() -> None:
    if _spatialite():
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    for name, table in _POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
    for table in CASE_TABLES:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for name, table in _ALL_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for fn in _ALL_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    groups = _groups(GROUP_ROLES)
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {_schema()} FROM {groups}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {_schema()} FROM {groups}")
    op.drop_table("workflow_transitions")
    # The group roles stay: they are cluster-wide and other databases may use them.
