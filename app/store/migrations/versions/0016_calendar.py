"""The working calendar's years as data, and the configuration history (issue 12).

- ``calendar_years(year, status 'official'|'estimated', source, updated_at, updated_by)``: each
  year's statutory arrangement is official (the State Council's notice, entered or imported by
  an administrator, or copied by chinesecalendar) or estimated (the ``holidays`` library's rules).
- ``statutory_days`` (0005 made it on PostgreSQL; now on SpatiaLite too) gets ``name`` (the
  holiday's name) and holds every day of every year in ``calendar_years``; the Python calendar
  and the SQL timer functions of 0005 both read it, so they agree. Seeded here: chinesecalendar's
  years (official) and the years after it through two years past the current one (estimated).
- ``config_changes(seq, entity, key, before, after, actor, at, reason, prev_hash, hash)``: the
  append-only, hash-chained history of configuration changes (app.domain.config_audit); every
  calendar change (the seed included) is recorded there. A trigger refuses UPDATE, DELETE and
  TRUNCATE and an INSERT that is not the next link, on both backends.
- PostgreSQL: everyone reads the three tables; only ``gridhall_admin`` inserts and updates
  ``calendar_years`` and ``statutory_days`` and inserts into ``config_changes`` (no DELETE).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from app.domain.config_audit import GENESIS_HASH
from app.store.calendar_years import seed_calendar
from app.store.security import GROUP_ROLES, group_role

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

GUARD = "gridhall_config_changes_guard"
_SQLITE_TRIGGERS = {
    "config_changes_no_update": """
CREATE TRIGGER config_changes_no_update BEFORE UPDATE ON config_changes
BEGIN SELECT RAISE(ABORT, 'config_changes is append-only: UPDATE is not allowed'); END""",
    "config_changes_no_delete": """
CREATE TRIGGER config_changes_no_delete BEFORE DELETE ON config_changes
BEGIN SELECT RAISE(ABORT, 'config_changes is append-only: DELETE is not allowed'); END""",
    "config_changes_chain_check": f"""
CREATE TRIGGER config_changes_chain_check BEFORE INSERT ON config_changes
BEGIN
  SELECT RAISE(ABORT, 'config_changes is append-only: seq must be the next link of the chain')
   WHERE NEW.seq IS NOT coalesce((SELECT seq FROM config_changes ORDER BY seq DESC LIMIT 1), 0) + 1;
  SELECT RAISE(ABORT, 'config_changes is append-only: prev_hash must be the hash of the last link')
   WHERE NEW.prev_hash IS NOT coalesce((SELECT hash FROM config_changes ORDER BY seq DESC LIMIT 1),
                                       '{GENESIS_HASH}');
END""",
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
  IF TG_TABLE_SCHEMA IS DISTINCT FROM '{schema}' OR TG_TABLE_NAME <> 'config_changes' THEN
    RAISE EXCEPTION 'trigger function {GUARD} runs only on {schema}.config_changes, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'config_changes is append-only: % is not allowed', TG_OP
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'the configuration history only grows; a correction is a new change';
  END IF;
  SELECT c.seq, c.hash INTO last_seq, last_hash FROM config_changes c ORDER BY c.seq DESC LIMIT 1;
  IF NEW.seq IS DISTINCT FROM coalesce(last_seq, 0) + 1 THEN
    RAISE EXCEPTION 'config_changes is append-only: seq must be the next link of the chain (%)',
      coalesce(last_seq, 0) + 1 USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, '{GENESIS_HASH}') THEN
    RAISE EXCEPTION 'config_changes is append-only: prev_hash must be the hash of the last link'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$"""


def upgrade() -> None:
    postgres = _postgres()
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.CheckConstraint("status IN ('official', 'estimated')", name="ck_calendar_years_status"),
        sa.CheckConstraint("year BETWEEN 1 AND 9999", name="ck_calendar_years_year"),
    )
    if postgres:
        op.add_column("statutory_days", sa.Column("name", sa.String(64), nullable=True))
    else:
        op.create_table(
            "statutory_days",
            sa.Column("day", sa.Date(), primary_key=True),
            sa.Column("workday", sa.Boolean(), nullable=False),
            sa.Column("name", sa.String(64), nullable=True),
        )
    op.create_table(
        "config_changes",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_config_changes_entity_key", "config_changes", ["entity", "key"])
    if postgres:
        schema = _schema()
        op.get_bind().exec_driver_sql(_guard_function(schema).replace("%", "%%"))
        op.execute(f"REVOKE EXECUTE ON FUNCTION {GUARD}() FROM PUBLIC")
        op.execute(f"CREATE TRIGGER config_changes_guard BEFORE INSERT OR UPDATE OR DELETE ON config_changes "
                   f"FOR EACH ROW EXECUTE FUNCTION {GUARD}()")
        op.execute(f"CREATE TRIGGER config_changes_no_truncate BEFORE TRUNCATE ON config_changes "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {GUARD}()")
        everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
        admin = group_role("admin")
        op.execute(f"GRANT SELECT ON calendar_years, config_changes TO {everyone}")
        op.execute(f"GRANT INSERT, UPDATE ON calendar_years, statutory_days TO {admin}")
        op.execute(f"GRANT INSERT ON config_changes TO {admin}")
    else:
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)
    seed_calendar(op.get_bind())


def downgrade() -> None:
    postgres = _postgres()
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS config_changes_no_truncate ON config_changes")
        op.execute("DROP TRIGGER IF EXISTS config_changes_guard ON config_changes")
        op.execute(f"DROP FUNCTION IF EXISTS {GUARD}()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_config_changes_entity_key", "config_changes")
    op.drop_table("config_changes")
    op.drop_table("calendar_years")
    if postgres:
        from app.store.sql_timers import STATUTORY_TABLE, sync_statutory_days

        op.execute(f"REVOKE INSERT, UPDATE ON {STATUTORY_TABLE} FROM {group_role('admin')}")
        op.drop_column(STATUTORY_TABLE, "name")
        # back to 0005's table: exactly chinesecalendar's days (entered and estimated years go)
        sync_statutory_days(op.get_bind())
    else:
        op.drop_table("statutory_days")
