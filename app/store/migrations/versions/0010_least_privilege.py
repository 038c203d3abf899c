"""Least privilege throughout (PostgreSQL): fixed search_path, no PUBLIC EXECUTE, trigger guards, column grants, row-level security on every table with case data.

This is the last migration of issue 8, so its sweep covers every function of the schema,
whichever migration made it (0001–0009). Nothing changes on SpatiaLite (one file, one user).

- Every function of the schema (extensions' own excepted) gets ``SET search_path = <schema>,
  pg_temp`` and loses PUBLIC's EXECUTE. EXECUTE is granted back only to the groups that call a
  function directly, derived from the catalog: functions in row-level security policies go to
  the policy's roles, functions in trigger WHEN clauses, column defaults and check constraints
  to the groups that write the table, functions a SECURITY INVOKER function or trigger function
  calls to whoever may call or fire it, plus the few the client calls (``CLIENT_CALLS``).
  Grants other migrations made themselves are kept. Nobody but the owner can attach a trigger
  function to a table any more (CREATE TRIGGER needs EXECUTE).
- Every trigger function starts with a guard that refuses to run for any table but the ones it
  is attached to now (read from pg_trigger): attached to a temporary table it raises before
  touching anything. The guard is inserted into the function's *current* body (whatever 0002 or
  a later migration defined), so no body is copied here and none can drift; downgrade removes
  exactly the inserted text. The chain trigger's guard also refuses, before any check that
  names a case's state or history, an event a department may not write (the same message as
  row-level security), so no message reveals another department's case.
- Column grants instead of table-level UPDATE: ``cases`` ``UPDATE (version)`` only (the
  compare-and-set row lock; the database's triggers set the rest), no UPDATE on ``audit_head``
  (the chain lock is taken by the SECURITY DEFINER chain trigger or ``gridhall_lock_chain()``),
  ``case_claims`` no DELETE (a claim is released by expiring it) and UPDATE only of the columns a
  claim renews. With no table-level UPDATE, DELETE or TRUNCATE, ``LOCK TABLE`` beyond ROW
  EXCLUSIVE and ``SELECT … FOR UPDATE`` on audit_head are refused to every application group.
- Row-level security: ``case_claims`` (seen where the case is seen; written only as the login
  itself, for a case it sees; another's live claim is never rewritten); ``attachments`` only
  with an event of the same case recorded by the same login, and for a department only on a
  case dispatched to it or its own report (``gridhall_department_may_write``: a missing
  department, the login's or the case's, now means "no").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable

from alembic import op

from app.store.security import GROUP_ROLES, OPERATIONAL_ROLES, group_role

#: 0002's reference tables (written by gridhall_admin).
_REFERENCE_TABLES = importlib.import_module("app.store.migrations.versions.0002_security").REFERENCE_TABLES

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

GUARD_BEGIN = "-- gridhall 0010 guard: this trigger function runs only on its own tables"
GUARD_END = "-- end of the gridhall 0010 guard"
#: Functions the client itself calls (app/store/security.py, app/store/commands.py, audit.lock_head).
CLIENT_CALLS = {
    "gridhall_has_role": "all",
    "gridhall_current_department": "all",
    "gridhall_lock_chain": "operational",
}
#: Functions 0001–0003 created without a SET clause (downgrade resets their search_path).
_UNSET_BEFORE = ("case_events_append_only", "gridhall_exempt", "gridhall_username", "gridhall_has_role",
                 "gridhall_json_number", "gridhall_canonical_json", "gridhall_notify_ids",
                 "gridhall_notify_case_events", "gridhall_notify_cases", "gridhall_notify_claims")
#: Functions 0001–0003 created, with PUBLIC's default EXECUTE but for three (downgrade restores that).
_MADE_BEFORE = (*_UNSET_BEFORE, "gridhall_current_department", "gridhall_reported_by_me",
                "gridhall_department_may_write", "gridhall_event_hash", "gridhall_request_origin",
                "gridhall_case_events_chain", "gridhall_case_events_advance_head", "gridhall_audit_head_guard",
                "gridhall_audit_head_check", "gridhall_cases_guard", "gridhall_case_matches_events")
#: The columns a claim renews or takes over (app/services/claims.py); never case_id.
CLAIM_UPDATE_COLUMNS = ("holder", "role", "workstation", "action", "claimed_at", "expires_at")
#: The database's clock (naive China Standard Time, like every stored timestamp).
DB_NOW = "(now() AT TIME ZONE 'Asia/Shanghai')::timestamp(0)"
#: A claim may be taken over this long before it expires by the database's clock (client clocks drift).
CLAIM_SKEW = "interval '30 seconds'"
#: The longest claim (app.services.claims: ttl ≤ 3600 s) plus the same drift allowance.
CLAIM_LONGEST = "interval '3630 seconds'"

_POLICIES = (
    ("case_claims_read", "case_claims"), ("case_claims_insert", "case_claims"),
    ("case_claims_update", "case_claims"), ("attachments_recorded", "attachments"),
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _groups(roles: Iterable) -> str:
    return ", ".join(group_role(r) for r in roles)


def _rows(sql: str) -> list[tuple]:
    return [tuple(r) for r in op.get_bind().exec_driver_sql(sql).all()]


def _raw(sql: str) -> None:
    """Run DDL as it is: no bind-parameter or %-format processing of function bodies."""
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None  # an open migration connection
    cur = dbapi.cursor()
    try:
        cur.execute(sql)
    finally:
        cur.close()


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one())


def _functions_sql(schema: str) -> str:
    """(oid, regprocedure, name, is trigger function, SECURITY DEFINER, language, body) of the schema's own routines."""
    return f"""
SELECT p.oid, p.oid::regprocedure::text, p.proname, p.prorettype = 'pg_catalog.trigger'::regtype, p.prosecdef,
       l.lanname, p.prosrc
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = {_lit(schema)}::regnamespace AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                              AND d.deptype = 'e')
 ORDER BY p.proname, p.oid"""


# --- functions this migration adds or corrects -----------------------------------------------

def _new_functions(schema: str) -> list[str]:
    path = f"SET search_path = {schema}, pg_temp"
    return [
        # The chain lock for a client that needs it before its first event (app.store.audit.lock_head:
        # case numbers are handed out under it). The same row lock and flag as the chain trigger.
        f"""
CREATE FUNCTION gridhall_lock_chain(OUT chain_no integer, OUT hash text) LANGUAGE plpgsql SECURITY DEFINER
{path} AS $$
BEGIN
  SELECT h.chain_no, h.hash INTO chain_no, hash FROM audit_head h WHERE h.id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_head row 1 (the chain head) is missing: the audit chain was tampered with';
  END IF;
  PERFORM set_config('gridhall.chain_locked', txid_current()::text, true);
END $$""",
        # A department writes to a case dispatched to it, to its own report not yet dispatched, or to
        # the case it is creating in this transaction (no event yet). Anything unknown means no.
        f"""
CREATE OR REPLACE FUNCTION gridhall_department_may_write(p_case integer) RETURNS boolean LANGUAGE sql STABLE
SECURITY DEFINER {path} AS $$
  SELECT coalesce((
    SELECT d.me IS NOT NULL AND CASE
             WHEN c.department_id IS NOT NULL THEN c.department_id = d.me
             ELSE EXISTS (SELECT 1 FROM case_events e
                           WHERE e.case_id = c.id AND e.seq = 1 AND e.department_id = d.me)
                  OR (c.version = 0 AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id))
           END
      FROM cases c, (SELECT gridhall_current_department() AS me) d
     WHERE c.id = p_case), false)
$$""",
    ]


def _restore_0002_may_write(schema: str) -> None:
    old = importlib.import_module("app.store.migrations.versions.0002_security")
    sql = next(s for s in old._functions(schema, f"{schema}.case_events")
               if "FUNCTION gridhall_department_may_write(" in s)
    op.execute(sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


# --- trigger guards ---------------------------------------------------------------------------

def _guard(schema: str, function: str, tables: list[str]) -> str:
    names = "ARRAY[" + ", ".join(_lit(t) for t in tables) + "]::text[]"
    own = ", ".join(tables) or "(none)"
    lines = [
        GUARD_BEGIN,
        f"  IF TG_TABLE_SCHEMA IS DISTINCT FROM {_lit(schema)} OR NOT (TG_TABLE_NAME = ANY ({names})) THEN",
        f"    RAISE EXCEPTION 'trigger function {function} runs only on {schema}.{own}, not on %.%',",
        "      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';",
        "  END IF;",
    ]
    if function == "gridhall_case_events_chain":
        # Row-level security is checked after BEFORE triggers: refuse here, before any check whose
        # message would name the state, history or department of a case the login may not see.
        lines += [
            "  IF NOT gridhall_exempt() AND gridhall_has_role('department')",
            "     AND NOT gridhall_department_may_write(NEW.case_id) THEN",
            "    RAISE EXCEPTION 'new row violates row-level security policy for table \"case_events\"'",
            "      USING ERRCODE = 'insufficient_privilege';",
            "  END IF;",
        ]
    lines.append("  " + GUARD_END)
    return "\n  " + "\n".join(lines) + "\n"


_FIRST_BEGIN = re.compile(r"\bBEGIN\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")


def _rewrite(oid: int, old_src: str, new_src: str) -> None:
    (definition,) = op.get_bind().exec_driver_sql(f"SELECT pg_get_functiondef({oid})").one()
    if definition.count(old_src) != 1:
        raise RuntimeError(f"cannot locate the body of function {oid} in its definition")
    _raw(definition.replace(old_src, new_src, 1))


def _add_guards(schema: str) -> None:
    attached = _rows(f"""
SELECT t.tgfoid, array_agg(DISTINCT c.relname ORDER BY c.relname)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = {_lit(schema)}::regnamespace
 GROUP BY t.tgfoid""")
    tables = dict(attached)
    for oid, _sig, name, is_trigger, _definer, language, src in _rows(_functions_sql(schema)):
        if not is_trigger or GUARD_BEGIN in src or "TG_TABLE_SCHEMA" in src:
            continue  # not a trigger function, already guarded, or guarded by its own migration
        if language != "plpgsql":
            raise RuntimeError(f"trigger function {name} is written in {language}: add its table guard by hand")
        begin = _FIRST_BEGIN.search(_COMMENT.sub(lambda m: " " * len(m.group()), src))  # offsets kept
        if begin is None:
            raise RuntimeError(f"trigger function {name} has no BEGIN")
        at = begin.end()
        _rewrite(oid, src, src[:at] + _guard(schema, name, list(tables.get(oid, []))) + src[at:])


def _remove_guards(schema: str) -> None:
    pattern = re.compile(r"\n  " + re.escape(GUARD_BEGIN) + r".*?" + re.escape(GUARD_END) + r"\n", re.DOTALL)
    for oid, _sig, _name, _trigger, _definer, _language, src in _rows(_functions_sql(schema)):
        if GUARD_BEGIN in src:
            _rewrite(oid, src, pattern.sub("", src, count=1))


# --- privileges -------------------------------------------------------------------------------

def _table_grants() -> None:
    operational = _groups(OPERATIONAL_ROLES)
    # cases: the compare-and-set row lock only (UPDATE … SET version = version WHERE … AND version = …).
    op.execute(f"REVOKE UPDATE ON cases FROM {operational}")  # also revokes column grants
    op.execute(f"GRANT UPDATE (version) ON cases TO {operational}")
    # audit_head: read only; the chain lock is the owner's (chain trigger, gridhall_lock_chain()).
    op.execute(f"REVOKE UPDATE ON audit_head FROM {operational}")
    # case_claims: claim, renew, take over an expired claim, release by expiring it.
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON case_claims FROM {operational}")
    op.execute(f"GRANT INSERT ON case_claims TO {operational}")
    op.execute(f"GRANT UPDATE ({', '.join(CLAIM_UPDATE_COLUMNS)}) ON case_claims TO {operational}")
    # Reference data: the administrator edits rows column by column and deletes none (rows are
    # retired, e.g. departments.active). A table-level UPDATE or DELETE would also allow
    # LOCK TABLE … ACCESS EXCLUSIVE on a table every case write reads (a frozen hall).
    admin = group_role("admin")
    for table in _REFERENCE_TABLES:
        columns = [name for (name,) in _rows(
            "SELECT attname FROM pg_attribute WHERE attrelid = "
            f"'{table}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")]
        op.execute(f"REVOKE UPDATE, DELETE ON {table} FROM {admin}")
        op.execute(f"GRANT UPDATE ({', '.join(columns)}) ON {table} TO {admin}")


def _restore_table_grants() -> None:
    operational = _groups(OPERATIONAL_ROLES)
    admin = group_role("admin")
    for table in _REFERENCE_TABLES:
        op.execute(f"REVOKE UPDATE ON {table} FROM {admin}")
        op.execute(f"GRANT UPDATE, DELETE ON {table} TO {admin}")
    op.execute(f"REVOKE UPDATE ON cases FROM {operational}")
    op.execute(f"GRANT UPDATE ON cases TO {operational}")
    op.execute(f"GRANT UPDATE (chain_no, hash) ON audit_head TO {operational}")
    op.execute(f"REVOKE INSERT, UPDATE ON case_claims FROM {operational}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON case_claims TO {operational}")


def _policies() -> None:
    everyone, operational = _groups(GROUP_ROLES), _groups(OPERATIONAL_ROLES)
    me = "(SELECT gridhall_username(session_user))"  # a subquery: evaluated once per query
    visible = "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_claims.case_id)"  # the cases' own policies
    valid = (f"holder = {me} AND gridhall_has_role(role) AND {visible} "
             f"AND expires_at <= {DB_NOW} + {CLAIM_LONGEST}")
    op.execute("ALTER TABLE case_claims ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY case_claims_read ON case_claims FOR SELECT TO {everyone} USING ({visible})")
    op.execute(f"CREATE POLICY case_claims_insert ON case_claims FOR INSERT TO {operational} WITH CHECK ({valid})")
    op.execute(f"""CREATE POLICY case_claims_update ON case_claims FOR UPDATE TO {operational}
        USING ({visible} AND (holder = {me} OR expires_at <= {DB_NOW} + {CLAIM_SKEW})) WITH CHECK ({valid})""")
    # Every attachment comes with an event of the same case that the same login recorded.
    op.execute(f"""CREATE POLICY attachments_recorded ON attachments AS RESTRICTIVE FOR INSERT TO {operational}
        WITH CHECK (EXISTS (SELECT 1 FROM case_events e WHERE e.id = attachments.event_id
                             AND e.case_id = attachments.case_id AND e.actor = {me}))""")


def _set_search_paths(schema: str) -> None:
    for _oid, sig, *_ in _rows(_functions_sql(schema)):
        op.execute(f"ALTER ROUTINE {sig} SET search_path = {schema}, pg_temp")
        op.execute(f"REVOKE EXECUTE ON ROUTINE {sig} FROM PUBLIC")


def _writers(table_oid: int, groups: dict[str, int]) -> set[str]:
    found = set()
    for name in groups:
        (ok,) = op.get_bind().exec_driver_sql(
            f"SELECT has_table_privilege({_lit(name)}, {table_oid}, 'INSERT, DELETE, TRUNCATE') "
            f"OR has_any_column_privilege({_lit(name)}, {table_oid}, 'UPDATE')").one()
        if ok:
            found.add(name)
    return found


def _needed_grants(schema: str) -> dict[int, set[str]]:
    """Which application groups must EXECUTE which function (oid → group names)."""
    names_sql = ", ".join(_lit(group_role(r)) for r in GROUP_ROLES)
    groups: dict[str, int] = dict(_rows(f"SELECT rolname, oid FROM pg_roles WHERE rolname IN ({names_sql})"))
    everyone = set(groups)
    operational = {group_role(r) for r in OPERATIONAL_ROLES}
    funcs = _rows(_functions_sql(schema))
    by_name: dict[str, list[int]] = {}
    for oid, _sig, name, *_ in funcs:
        by_name.setdefault(name, []).append(oid)
    need: dict[int, set[str]] = {oid: set() for oid, *_ in funcs}
    for name, who in CLIENT_CALLS.items():
        for oid in by_name.get(name, []):
            need[oid] |= everyone if who == "all" else operational
    # Expressions the querying login evaluates: policies, trigger WHEN clauses, defaults, checks.
    deps = _rows(f"""
SELECT d.refobjid,
       CASE d.classid WHEN 'pg_policy'::regclass THEN 'policy' ELSE 'table' END,
       CASE d.classid WHEN 'pg_policy'::regclass THEN (SELECT pol.polroles::oid[] FROM pg_policy pol WHERE pol.oid = d.objid)
                      ELSE NULL END,
       CASE d.classid WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)
                      WHEN 'pg_attrdef'::regclass THEN (SELECT a.adrelid FROM pg_attrdef a WHERE a.oid = d.objid)
                      WHEN 'pg_constraint'::regclass THEN (SELECT c.conrelid FROM pg_constraint c WHERE c.oid = d.objid)
       END
  FROM pg_depend d
 WHERE d.refclassid = 'pg_proc'::regclass
   AND d.classid IN ('pg_policy'::regclass, 'pg_trigger'::regclass, 'pg_attrdef'::regclass, 'pg_constraint'::regclass)
   AND d.refobjid IN (SELECT p.oid FROM pg_proc p WHERE p.pronamespace = {_lit(schema)}::regnamespace
                                              AND p.prorettype <> 'pg_catalog.trigger'::regtype)""")
    for fn, kind, roles, table in deps:
        if fn not in need:
            continue
        if kind == "policy":
            need[fn] |= everyone if 0 in roles else {g for g, o in groups.items() if o in roles}
        elif table is not None:
            need[fn] |= _writers(table, groups)
    # Invoker trigger functions run as whoever writes their table.
    fired = dict(_rows(f"""
SELECT t.tgfoid, array_agg(DISTINCT t.tgrelid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = {_lit(schema)}::regnamespace GROUP BY t.tgfoid"""))
    callers: dict[int, set[str]] = {}
    for oid, _sig, _name, is_trigger, definer, _lang, _src in funcs:
        if is_trigger and not definer:
            callers[oid] = set().union(*(_writers(t, groups) for t in fired.get(oid, [])))
    # What an invoker function calls, its callers must EXECUTE too (to a fixed point). Trigger
    # functions are never granted: they cannot be called, EXECUTE would only let one attach them.
    triggers = {oid for oid, _s, _n, t, *_ in funcs if t}
    calls = {oid: {n for n in by_name if re.search(rf"\b{re.escape(n)}\s*\(", _COMMENT.sub("", src))}
             for oid, *_, src in funcs}
    definer = {oid for oid, _s, _n, _t, d, *_ in funcs if d}
    changed = True
    while changed:
        changed = False
        for oid, *_ in funcs:
            if oid in definer:
                continue
            users = need[oid] | callers.get(oid, set())
            for name in calls[oid]:
                for callee in by_name[name]:
                    if callee != oid and callee not in triggers and not users <= need[callee]:
                        need[callee] |= users
                        changed = True
    return need


def _grant_execute(schema: str) -> None:
    need = _needed_grants(schema)
    for oid, sig, *_ in _rows(_functions_sql(schema)):
        if need.get(oid):
            op.execute(f"GRANT EXECUTE ON ROUTINE {sig} TO {', '.join(sorted(need[oid]))}")


# --- upgrade / downgrade ----------------------------------------------------------------------

def upgrade() -> None:
    if not _postgres():
        return
    schema = _schema()
    for sql in _new_functions(schema):
        _raw(sql)
    _table_grants()
    _policies()
    _add_guards(schema)
    _set_search_paths(schema)
    _grant_execute(schema)


def downgrade() -> None:
    if not _postgres():
        return
    schema = _schema()
    for name, table in _POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
    op.execute("ALTER TABLE case_claims DISABLE ROW LEVEL SECURITY")
    _restore_table_grants()
    _remove_guards(schema)
    op.execute("DROP FUNCTION IF EXISTS gridhall_lock_chain()")
    _restore_0002_may_write(schema)
    everyone = _groups(GROUP_ROLES)
    for _oid, sig, name, *_ in _rows(_functions_sql(schema)):
        if name in _UNSET_BEFORE:
            op.execute(f"ALTER ROUTINE {sig} RESET search_path")
        if name in _MADE_BEFORE:
            # 0002 granted these three to the groups; everything else had PUBLIC's default EXECUTE.
            op.execute(f"REVOKE EXECUTE ON ROUTINE {sig} FROM {everyone}")
            op.execute(f"GRANT EXECUTE ON ROUTINE {sig} TO PUBLIC")
    for fn in ("gridhall_current_department()", "gridhall_reported_by_me(integer)",
               "gridhall_department_may_write(integer)"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {everyone}")
