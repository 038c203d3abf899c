"""Basic-data maintenance: retired unit grids and the base-data history (issue 15, item 4).

- ``unit_grids.retired_on`` (date, null while in use): a grid split or merged away is retired,
  never deleted, so the cases reported in it keep it (their ``grid_id``, its code and shape) and
  its code is never given again. A retired grid stays retired and a grid's code never changes
  (a trigger refuses both, on both backends).
- ``base_changes(seq, entity, key, action, before, after, actor, at, reason, prev_hash, hash)``:
  the append-only, hash-chained history of base-data changes (app.domain.base_history), the
  pattern of ``config_changes`` (0016): a trigger refuses UPDATE, DELETE and TRUNCATE and an
  INSERT that is not the next link.
- PostgreSQL: everyone reads ``base_changes``; only ``gridhall_admin`` inserts into it, and only
  under its own name (``actor`` = the session's user, unless the owner writes); the administrator
  may set ``unit_grids.retired_on`` (0010 granted the other columns column by column). Grids and
  components stay writable by the administrator's login alone (0002, 0010).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from app.domain.config_audit import GENESIS_HASH
from app.store.security import GROUP_ROLES, LOGIN_PREFIX, OWNER_ROLE, group_role

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

GUARD = "gridhall_base_changes_guard"
GRID_GUARD = "gridhall_unit_grids_guard"
_SQLITE_TRIGGERS = {
    "base_changes_no_update": """
CREATE TRIGGER base_changes_no_update BEFORE UPDATE ON base_changes
BEGIN SELECT RAISE(ABORT, 'base_changes is append-only: UPDATE is not allowed'); END""",
    "base_changes_no_delete": """
CREATE TRIGGER base_changes_no_delete BEFORE DELETE ON base_changes
BEGIN SELECT RAISE(ABORT, 'base_changes is append-only: DELETE is not allowed'); END""",
    "base_changes_chain_check": f"""
CREATE TRIGGER base_changes_chain_check BEFORE INSERT ON base_changes
BEGIN
  SELECT RAISE(ABORT, 'base_changes is append-only: seq must be the next link of the chain')
   WHERE NEW.seq IS NOT coalesce((SELECT seq FROM base_changes ORDER BY seq DESC LIMIT 1), 0) + 1;
  SELECT RAISE(ABORT, 'base_changes is append-only: prev_hash must be the hash of the last link')
   WHERE NEW.prev_hash IS NOT coalesce((SELECT hash FROM base_changes ORDER BY seq DESC LIMIT 1),
                                       '{GENESIS_HASH}');
END""",
    "unit_grids_code_fixed": """
CREATE TRIGGER unit_grids_code_fixed BEFORE UPDATE OF code ON unit_grids
 WHEN NEW.code IS NOT OLD.code
BEGIN SELECT RAISE(ABORT, 'unit_grids: a grid code never changes (retire the grid and add a new one)'); END""",
    "unit_grids_stay_retired": """
CREATE TRIGGER unit_grids_stay_retired BEFORE UPDATE OF retired_on ON unit_grids
 WHEN OLD.retired_on IS NOT NULL AND NEW.retired_on IS NOT OLD.retired_on
BEGIN SELECT RAISE(ABORT, 'unit_grids: a retired grid stays retired (its code is never reused)'); END""",
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one())


def _guard_function(schema: str) -> str:
    return f"""
CREATE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql SET search_path = {schema}, pg_temp AS $$
DECLARE
  last_seq integer;
  last_hash text;
BEGIN
  IF TG_TABLE_SCHEMA IS DISTINCT FROM '{schema}' OR TG_TABLE_NAME <> 'base_changes' THEN
    RAISE EXCEPTION 'trigger function {GUARD} runs only on {schema}.base_changes, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'base_changes is append-only: % is not allowed', TG_OP
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'the base-data history only grows; a correction is a new change';
  END IF;
  IF NOT (pg_has_role(session_user, 'pg_database_owner', 'MEMBER') OR pg_has_role(session_user, '{OWNER_ROLE}', 'MEMBER'))
     AND NEW.actor IS DISTINCT FROM (CASE WHEN left(session_user, {len(LOGIN_PREFIX)}) = '{LOGIN_PREFIX}'
                                         THEN substr(session_user, {len(LOGIN_PREFIX) + 1}) ELSE session_user END) THEN
    RAISE EXCEPTION 'base_changes: a change is recorded under its own login''s name, not %', NEW.actor
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT c.seq, c.hash INTO last_seq, last_hash FROM base_changes c ORDER BY c.seq DESC LIMIT 1;
  IF NEW.seq IS DISTINCT FROM coalesce(last_seq, 0) + 1 THEN
    RAISE EXCEPTION 'base_changes is append-only: seq must be the next link of the chain (%)',
      coalesce(last_seq, 0) + 1 USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, '{GENESIS_HASH}') THEN
    RAISE EXCEPTION 'base_changes is append-only: prev_hash must be the hash of the last link'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$"""


def _grid_guard_function(schema: str) -> str:
    return f"""
CREATE FUNCTION {GRID_GUARD}() RETURNS trigger LANGUAGE plpgsql SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF TG_TABLE_SCHEMA IS DISTINCT FROM '{schema}' OR TG_TABLE_NAME <> 'unit_grids' THEN
    RAISE EXCEPTION 'trigger function {GRID_GUARD} runs only on {schema}.unit_grids, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.code IS DISTINCT FROM OLD.code THEN
    RAISE EXCEPTION 'unit_grids: a grid code never changes (retire the grid and add a new one)'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.retired_on IS NOT NULL AND NEW.retired_on IS DISTINCT FROM OLD.retired_on THEN
    RAISE EXCEPTION 'unit_grids: a retired grid stays retired (its code is never reused)'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$"""


def upgrade() -> None:
    postgres = _postgres()
    op.add_column("unit_grids", sa.Column("retired_on", sa.Date(), nullable=True))
    op.create_table(
        "base_changes",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_base_changes_entity_key", "base_changes", ["entity", "key"])
    if postgres:
        schema = _schema()
        bind = op.get_bind()
        bind.exec_driver_sql(_guard_function(schema).replace("%", "%%"))
        bind.exec_driver_sql(_grid_guard_function(schema).replace("%", "%%"))
        for fn in (GUARD, GRID_GUARD):
            op.execute(f"REVOKE EXECUTE ON FUNCTION {fn}() FROM PUBLIC")
        op.execute(f"CREATE TRIGGER base_changes_guard BEFORE INSERT OR UPDATE OR DELETE ON base_changes "
                   f"FOR EACH ROW EXECUTE FUNCTION {GUARD}()")
        op.execute(f"CREATE TRIGGER base_changes_no_truncate BEFORE TRUNCATE ON base_changes "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {GUARD}()")
        op.execute(f"CREATE TRIGGER unit_grids_guard BEFORE UPDATE OF code, retired_on ON unit_grids "
                   f"FOR EACH ROW EXECUTE FUNCTION {GRID_GUARD}()")
        everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
        admin = group_role("admin")
        op.execute(f"GRANT SELECT ON base_changes TO {everyone}")
        op.execute(f"GRANT INSERT ON base_changes TO {admin}")
        op.execute(f"GRANT UPDATE (retired_on) ON unit_grids TO {admin}")
    else:
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)


def downgrade() -> None:
    if _postgres():
        op.execute(f"REVOKE UPDATE (retired_on) ON unit_grids FROM {group_role('admin')}")
        op.execute("DROP TRIGGER IF EXISTS unit_grids_guard ON unit_grids")
        op.execute("DROP TRIGGER IF EXISTS base_changes_no_truncate ON base_changes")
        op.execute("DROP TRIGGER IF EXISTS base_changes_guard ON base_changes")
        op.execute(f"DROP FUNCTION IF EXISTS {GRID_GUARD}()")
        op.execute(f"DROP FUNCTION IF EXISTS {GUARD}()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_base_changes_entity_key", "base_changes")
    op.drop_table("base_changes")
    # SQLite >= 3.35 drops a column in place (a rebuilt table would lose its SpatiaLite geometry set-up).
    op.execute("ALTER TABLE unit_grids DROP COLUMN retired_on")
