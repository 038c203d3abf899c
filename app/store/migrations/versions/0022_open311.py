"""The Open311 GeoReport v2 server (issue 16, item 3): API keys, tokens and its own database role.

- ``open311_keys(id, name, prefix, key_hash, rate_per_minute, created_at, revoked_at)``: the keys
  of the front ends allowed to POST requests; only the SHA-256 of a key is stored (a key is 32
  random bytes, so a fast hash is enough), ``prefix`` (its first 10 characters) names it in lists;
- ``open311_tokens(token, case_id, key_id, media_url, created_at)``: one row per request posted
  over Open311: the token handed back, which key posted it, the photo's address.

PostgreSQL: the NOLOGIN group ``gridhall_open311`` carries what a public intake may do and no more.
Its logins are members of ``gridhall_open311`` only; ``gridhall_open311`` is itself a member of
``gridhall_acceptor`` but NOINHERIT, so the workflow triggers accept its events as 受理员 events
while none of the acceptor's table privileges reach it. It may:

- read the reference tables a report needs (categories, grids, areas, roads, components,
  departments, the gazetteer, the calendar and limits) and the cases' public columns (never
  ``reporter_name`` / ``reporter_phone``), the events' public columns, attachments' metadata;
- INSERT a new case, its report event and its photos, and its token; read the keys (to check
  one) and nothing else of ``users`` but its own row;
- never UPDATE or DELETE a case, an event or an attachment (the derive trigger, SECURITY DEFINER,
  fills the case's columns), never write a key.

A trigger refuses, for a login of ``gridhall_open311``, every event but a ``report`` of source
``public`` (and the automatic replies the application records as 系统). What it may not read it gets
through two SECURITY DEFINER functions: ``gridhall_open311_reason`` (why a case ended) and
``gridhall_open311_replies`` (the reply to the reporter still in force, 两次回复).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.definitions import Role
from app.store.security import GROUP_PREFIX, GROUP_ROLES, group_role

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

GROUP = GROUP_PREFIX + "open311"

#: Tables the intake reads whole (reference data and the configuration the case service follows).
READ_TABLES = (
    "categories", "unit_grids", "admin_areas", "roads", "components", "departments", "routing_rules",
    "time_limits", "calendar_days", "source_rules", "road_segments", "house_numbers", "landmarks",
    "landmark_aliases", "alembic_version",
)
#: Public columns of cases (no reporter_name, reporter_phone).
CASE_COLUMNS = (
    "id", "number", "kind", "category_id", "level", "state", "source", "grid_id", "component_id", "address",
    "description", "department_id", "duplicate_of_id", "reported_at", "filed_at", "dispatched_at", "fed_back_at",
    "closed_at", "stage", "timer_basis", "limit_minutes", "timer_started_at", "paused_since", "paused_minutes",
    "extension_minutes", "deadline_at", "handle_deadline_at", "urge_count", "urge_level", "urge_deadline_at",
    "rework_count", "version", "updated_at", "geom",
)
def _spatialite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _existing(tables: tuple[str, ...]) -> list[str]:
    names = set(sa.inspect(op.get_bind()).get_table_names())
    return [t for t in tables if t in names]


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


GUARD = f"""
CREATE FUNCTION gridhall_open311_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = {{schema}}, pg_temp AS $$
BEGIN
  IF TG_TABLE_NAME <> 'case_events' THEN
    RAISE EXCEPTION 'gridhall_open311_guard: not for table %', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF pg_has_role(session_user, '{GROUP}', 'MEMBER') AND NOT pg_has_role(session_user, 'pg_database_owner', 'MEMBER') THEN
    IF NEW.role = 'system' AND NEW.action = 'reply' THEN
      RETURN NEW;
    END IF;
    IF NEW.action <> 'report' OR NEW.from_state IS NOT NULL
       OR (SELECT source FROM cases WHERE id = NEW.case_id) IS DISTINCT FROM 'public' THEN
      RAISE EXCEPTION 'an Open311 login records only new public reports (not %)', NEW.action
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END $$"""


# The one free text the public is told: why a case was not filed or voided (the event that ended it).
REASON = """
CREATE FUNCTION gridhall_open311_reason(p_case integer) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $$
  SELECT e.reason FROM case_events e JOIN cases c ON c.id = e.case_id
   WHERE e.case_id = p_case AND c.state IN ('not_filed', 'voided') AND e.to_state = c.state
     AND e.action IN ('reject', 'void', 'approve', 'link')
   ORDER BY e.seq DESC LIMIT 1
$$"""

# The replies to the public (两次回复, migration 0006's automatic 立案/结案/不予立案 replies, or one an acceptor wrote
# for a request posted over Open311) that still speak of the case's state: the newest per case, for an open case
# any, for an ended one only one written after it ended. Never another event's text or payload.
REPLIES = """
CREATE FUNCTION gridhall_open311_replies(p_cases integer[]) RETURNS TABLE (o_case integer, o_text text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT DISTINCT ON (e.case_id) e.case_id, e.payload ->> 'text'
    FROM case_events e JOIN cases c ON c.id = e.case_id
   WHERE e.case_id = ANY (p_cases[1:1000]) AND e.action = 'reply' AND coalesce(e.payload ->> 'text', '') <> ''
     AND (e.payload ->> 'auto' = 'true' OR EXISTS (SELECT 1 FROM open311_tokens t WHERE t.case_id = c.id))
     AND (c.state NOT IN ('closed', 'not_filed', 'voided')
          OR e.seq > (SELECT max(s.seq) FROM case_events s WHERE s.case_id = c.id AND s.to_state = c.state
                        AND s.from_state IS DISTINCT FROM s.to_state))
   ORDER BY e.case_id, e.seq DESC
$$"""


def upgrade() -> None:
    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False, server_default="60"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "open311_tokens",
        sa.Column("token", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False, unique=True),
        sa.Column("key_id", sa.Integer(), sa.ForeignKey("open311_keys.id"), nullable=True, index=True),
        sa.Column("media_url", sa.String(2000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    if _spatialite():
        return
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    admin = group_role(Role.ADMIN)
    op.execute("GRANT SELECT ON open311_tokens TO " + everyone)
    op.execute(f"GRANT SELECT ON open311_keys TO {admin}")
    op.execute(f"GRANT INSERT, UPDATE ON open311_keys TO {admin}")
    op.execute(f"GRANT USAGE ON SEQUENCE open311_keys_id_seq TO {admin}")
    # The group is cluster-wide (another database may have made it); making it needs the session's own
    # login (a superuser or the DBA with CREATEROLE), not the owner role the migrations run as.
    current = op.get_bind().exec_driver_sql("SELECT current_user").scalar()
    op.execute("SET LOCAL ROLE NONE")
    op.execute(f"""DO $$ BEGIN
  IF to_regrole('{GROUP}') IS NULL THEN
    BEGIN
      CREATE ROLE {GROUP} NOLOGIN NOINHERIT;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION '创建组角色 {GROUP} 需要 CREATEROLE 权限：请用超级用户运行 gridhall db upgrade，或请 DBA 先执行 CREATE ROLE {GROUP} NOLOGIN NOINHERIT';
    END;
  END IF;
END $$""")
    op.execute(f"""DO $$ BEGIN
  IF (SELECT rolinherit FROM pg_catalog.pg_roles WHERE rolname = '{GROUP}') THEN
    ALTER ROLE {GROUP} NOINHERIT;
  END IF;
  IF NOT pg_has_role('{GROUP}', '{group_role(Role.ACCEPTOR)}', 'MEMBER') THEN
    GRANT {group_role(Role.ACCEPTOR)} TO {GROUP};
  END IF;
END $$""")
    op.execute(f'SET LOCAL ROLE "{current}"')
    op.execute(f"GRANT USAGE ON SCHEMA {op.get_bind().execute(sa.text('SELECT current_schema()')).scalar()} TO {GROUP}")
    for table in _existing(READ_TABLES):
        op.execute(f"GRANT SELECT ON {table} TO {GROUP}")
    # The rest of what the case service reads for a report (configuration, calendar, limits, rules): every
    # table an acceptor reads whole, but none with people's data (a phone, a name, a password column).
    op.execute(f"""DO $$ DECLARE t record; BEGIN
  FOR t IN SELECT c.relname FROM pg_catalog.pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'p')
              AND has_table_privilege('{group_role(Role.ACCEPTOR)}', c.oid, 'SELECT')
              AND c.relname NOT IN ('users', 'cases', 'case_events', 'attachments', 'open311_keys', 'open311_tokens')
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                                AND (a.attname LIKE '%phone%' OR a.attname LIKE 'reporter%' OR a.attname LIKE '%password%'
                                     OR a.attname IN ('payload', 'data'))) LOOP
    EXECUTE pg_catalog.format('GRANT SELECT ON %I TO {GROUP}', t.relname);
  END LOOP;
END $$""")
    op.execute(f"GRANT SELECT ({', '.join(c for c in CASE_COLUMNS if c in _columns('cases'))}) ON cases TO {GROUP}")
    # INSERT names every column (the ORM's insert); the derive trigger of 0006 sets the derived ones
    op.execute(f"GRANT INSERT ON cases TO {GROUP}")
    op.execute(f"GRANT USAGE ON SEQUENCE cases_id_seq TO {GROUP}")
    # The event's compare-and-set (app.store.audit: UPDATE cases SET version = version …) on its own new
    # public report only; the database's triggers keep version equal to the events' count at commit.
    op.execute(f"GRANT UPDATE (version) ON cases TO {GROUP}")
    op.execute(f"CREATE POLICY cases_u_o311 ON cases FOR UPDATE TO {GROUP} USING (source = 'public' AND version = 0) "
               "WITH CHECK (source = 'public' AND version = 0)")
    # Of the events it reads report events only (policy below; its own insert returns the payload the database
    # derived): an edit's payload carries the reporter's old and new phone. Never a reason (free text).
    event_cols = sorted(_columns("case_events") - {"reason"})
    op.execute(f"GRANT SELECT ({', '.join(event_cols)}) ON case_events TO {GROUP}")
    op.execute(f"CREATE POLICY case_events_s_o311 ON case_events FOR SELECT TO {GROUP} USING (action = 'report')")
    op.execute(f"GRANT INSERT ON case_events TO {GROUP}")
    op.execute(f"GRANT USAGE ON SEQUENCE case_events_id_seq TO {GROUP}")
    att_cols = sorted(_columns("attachments") - {"data"})
    op.execute(f"GRANT SELECT ({', '.join(att_cols)}) ON attachments TO {GROUP}")
    op.execute(f"GRANT INSERT ON attachments TO {GROUP}")
    op.execute(f"GRANT USAGE ON SEQUENCE attachments_id_seq TO {GROUP}")
    op.execute(f"GRANT SELECT ON open311_keys, open311_tokens TO {GROUP}")
    op.execute(f"GRANT INSERT ON open311_tokens TO {GROUP}")
    # A token names a case: each reader sees the tokens of the cases it may see (cases' own policies).
    op.execute("ALTER TABLE open311_tokens ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY open311_tokens_read ON open311_tokens FOR SELECT TO {everyone}, {GROUP} "
               "USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id))")
    op.execute(f"CREATE POLICY open311_tokens_add ON open311_tokens FOR INSERT TO {GROUP} "
               "WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id AND c.source = 'public'))")
    # Functions the application calls (gridhall_username, gridhall_has_role, …): those an acceptor may run
    # that are not SECURITY DEFINER (they run with the intake's own privileges), and of the SECURITY DEFINER
    # ones only the chain lock, the lock-timeout release and the search index a new case needs.
    op.execute(f"""DO $$ DECLARE f record; BEGIN
  FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace AND p.prokind = 'f'
              AND (NOT p.prosecdef OR p.proname IN ('gridhall_lock_chain', 'gridhall_release_blockers',
                                                    'gridhall_search_fill', 'gridhall_search_terms', 'gridhall_version'))
              AND p.prorettype <> 'trigger'::regtype
              AND has_function_privilege('{group_role(Role.ACCEPTOR)}', p.oid, 'EXECUTE')
              AND NOT has_function_privilege('public', p.oid, 'EXECUTE') LOOP
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO {GROUP}', f.sig);
  END LOOP;
END $$""")
    # Row-level security: the acceptor's policies do not reach a NOINHERIT member; the intake reads and
    # inserts under the same ones (its column privileges above keep the private columns out).
    op.execute(f"""DO $$ DECLARE p record; BEGIN
  FOR p IN SELECT * FROM pg_catalog.pg_policies
            WHERE schemaname = current_schema() AND '{group_role(Role.ACCEPTOR)}' = ANY(roles)
              AND cmd IN ('SELECT', 'INSERT', 'ALL')
              AND tablename IN ('cases', 'case_events', 'attachments', 'open311_tokens') LOOP
    IF p.cmd IN ('SELECT', 'ALL') AND p.tablename <> 'case_events' THEN
      EXECUTE pg_catalog.format('CREATE POLICY %I ON %I AS %s FOR SELECT TO {GROUP}%s', left(p.policyname, 45) || '_s_o311',
        p.tablename, p.permissive, CASE WHEN p.qual IS NOT NULL THEN ' USING (' || p.qual || ')' ELSE '' END);
    END IF;
    IF p.cmd IN ('INSERT', 'ALL') THEN
      EXECUTE pg_catalog.format('CREATE POLICY %I ON %I AS %s FOR INSERT TO {GROUP}%s', left(p.policyname, 45) || '_i_o311',
        p.tablename, p.permissive, CASE WHEN coalesce(p.with_check, p.qual) IS NOT NULL
                                        THEN ' WITH CHECK (' || coalesce(p.with_check, p.qual) || ')' ELSE '' END);
    END IF;
  END LOOP;
END $$""")
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar()
    op.execute(REASON.format(schema=schema))
    op.execute("REVOKE EXECUTE ON FUNCTION gridhall_open311_reason(integer) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION gridhall_open311_reason(integer) TO {GROUP}")
    op.execute(REPLIES.format(schema=schema))
    op.execute("REVOKE EXECUTE ON FUNCTION gridhall_open311_replies(integer[]) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION gridhall_open311_replies(integer[]) TO {GROUP}")
    op.execute(GUARD.format(schema=schema))
    op.execute("REVOKE EXECUTE ON FUNCTION gridhall_open311_guard() FROM PUBLIC")
    op.execute("CREATE TRIGGER case_events_open311 BEFORE INSERT ON case_events FOR EACH ROW "
               "EXECUTE FUNCTION gridhall_open311_guard()")


def downgrade() -> None:
    if not _spatialite():
        op.execute("""DO $$ DECLARE p record; BEGIN
  FOR p IN SELECT policyname, tablename FROM pg_catalog.pg_policies
            WHERE schemaname = current_schema() AND right(policyname, 5) = '_o311' LOOP
    EXECUTE pg_catalog.format('DROP POLICY %I ON %I', p.policyname, p.tablename);
  END LOOP;
END $$""")
        op.execute("DROP TRIGGER IF EXISTS case_events_open311 ON case_events")
        op.execute("DROP FUNCTION IF EXISTS gridhall_open311_reason(integer)")
        op.execute("DROP FUNCTION IF EXISTS gridhall_open311_replies(integer[])")
        op.execute("DROP POLICY IF EXISTS cases_u_o311 ON cases")
        op.execute("DROP FUNCTION IF EXISTS gridhall_open311_guard()")
    op.drop_table("open311_tokens")
    op.drop_table("open311_keys")
    if not _spatialite():
        op.execute(f"""DO $$ BEGIN
  IF to_regrole('{GROUP}') IS NOT NULL THEN
    EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA ' || quote_ident(current_schema()) || ' FROM {GROUP}';
    EXECUTE 'REVOKE ALL ON ALL SEQUENCES IN SCHEMA ' || quote_ident(current_schema()) || ' FROM {GROUP}';
    EXECUTE 'REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ' || quote_ident(current_schema()) || ' FROM {GROUP}';
    EXECUTE 'REVOKE USAGE ON SCHEMA ' || quote_ident(current_schema()) || ' FROM {GROUP}';
  END IF;
END $$""")
