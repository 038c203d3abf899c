"""The administrator's configuration as versioned, audited data (issue 12, items 1-5).

- ``time_limits`` gets ``valid_from`` / ``valid_to`` (null: since ever / still in force): a
  changed limit ends the old row and starts a new one, so a timer always uses the row in force
  when its stage started (app.domain.limit_versions; CaseService and the derive trigger), and
  editing a limit today leaves last month's deadlines alone. The scope key (0004) now includes
  ``valid_from``.
- ``categories`` gets ``enabled`` (the city uses the category) and ``closing_standard`` (结案标准,
  next to 0001's ``filing_standard`` 立案标准).
- ``routing_rules`` gets ``active``: a rule is retired, never deleted.
- ``config_values(name, value, updated_at, updated_by)``: whole settings stored as canonical JSON
  (the evaluation weights' and the alert rules' overrides of resources/*.toml).

PostgreSQL
  ``gridhall_limit(kind, category_id, level, stage, at timestamp)`` (new overload) is 0005's
  lookup over the rows in force at ``at``; 0005's four-argument ``gridhall_limit`` keeps its
  signature and asks the new one at the database's clock (``now()`` in China Standard Time).
  The derive trigger (0006, edited by 0015) passes the event's time ``NEW.at`` (one anchored
  replacement), so an event recorded now uses the limit in force now and the owner's import of
  old events is not affected (its path skips the derive). Only ``gridhall_admin`` writes the new
  columns and ``config_values`` (column-wise UPDATE as 0010 did; no DELETE for anyone).
SpatiaLite
  ``time_limits`` is rebuilt in batch mode (no geometry) for the new key.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import importlib

import sqlalchemy as sa
from alembic import op

from app.store.security import GROUP_ROLES, group_role

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_SQL_TIMERS = importlib.import_module("app.store.migrations.versions.0005_sql_timers")
_DERIVE_CLOCK = importlib.import_module("app.store.migrations.versions.0006_derive").CLOCK

OLD_KEY = "uq_time_limits_scope"
NEW_KEY = "uq_time_limits_scope_from"
OLD_INDEX = "uq_time_limits_scope_coalesced"
NEW_INDEX = OLD_INDEX  # the same name (tests/store/test_migrations knows it), valid_from added
DERIVE = "gridhall_case_events_derive"
LIMIT4 = "gridhall_limit(text, integer, text, text)"
LIMIT5 = "gridhall_limit(text, integer, text, text, timestamp without time zone)"
_SINCE_EVER = "'0001-01-01 00:00:00'"

_DERIVE_EDITS = [(
    "gridhall_limit(c.kind, c.category_id, coalesce(c.level, 'general'), stage);",
    "gridhall_limit(c.kind, c.category_id, coalesce(c.level, 'general'), stage, NEW.at);",
)]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one())


def _raw(sql: str) -> None:
    """Run DDL as it is: no bind-parameter or %-format processing of function bodies."""
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        cur.execute(sql)
    finally:
        cur.close()


def _edit(body: str, edits: list[tuple[str, str]], *, reverse: bool = False) -> str:
    pairs = [(new, old) for old, new in reversed(edits)] if reverse else edits
    for find, put in pairs:
        if body.count(find) != 1:
            raise RuntimeError(f"migration 0018: cannot locate (exactly once) the text {find.strip()[:80]!r}")
        body = body.replace(find, put, 1)
    return body


def _rewrite(name: str, edits: list[tuple[str, str]], *, reverse: bool = False) -> None:
    bind = op.get_bind()
    oid, src = bind.exec_driver_sql(
        "SELECT p.oid, p.prosrc FROM pg_proc p WHERE p.proname = %(n)s "
        "AND p.pronamespace = current_schema()::regnamespace", {"n": name}).one()
    (definition,) = bind.exec_driver_sql(f"SELECT pg_get_functiondef({int(oid)})").one()
    if definition.count(src) != 1:
        raise RuntimeError(f"migration 0018: cannot locate the body of {name}() in its definition")
    _raw(definition.replace(src, _edit(src, edits, reverse=reverse), 1))


def _limit_at_function(path: str) -> str:
    """0005's lookup, over the rows in force at ``$5`` (the timer's start)."""
    sql = _SQL_TIMERS._limit_function(path)
    return _edit(sql, [
        ("stage text,\n                               OUT minutes integer",
         "stage text, at timestamp,\n                               OUT minutes integer"),
        ("FROM time_limits r LEFT JOIN categories c ON c.id = r.category_id\n",
         "FROM time_limits r LEFT JOIN categories c ON c.id = r.category_id\n"
         f"     WHERE (r.valid_from IS NULL OR r.valid_from <= coalesce($5, {_DERIVE_CLOCK}))\n"
         f"       AND (r.valid_to IS NULL OR r.valid_to > coalesce($5, {_DERIVE_CLOCK}))\n"),
    ])


def _limit_now_function(path: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION gridhall_limit(kind text, category_id integer, level text, stage text,
                               OUT minutes integer, OUT basis text)
LANGUAGE plpgsql STABLE {path} AS $$
BEGIN
  -- the limit in force now (migration 0018: time_limits rows are versioned)
  SELECT l.minutes, l.basis INTO minutes, basis FROM gridhall_limit($1, $2, $3, $4, {_DERIVE_CLOCK}) l;
END
$$"""


def _everyone() -> str:
    return ", ".join(group_role(r) for r in GROUP_ROLES)


def upgrade() -> None:
    postgres = _postgres()
    # plain ALTER TABLE … ADD COLUMN on both backends (a rebuilt categories table would trip the
    # search triggers of 0011 on SQLite)
    op.add_column("categories", sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("categories", sa.Column("closing_standard", sa.Text(), nullable=True))
    op.add_column("routing_rules", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "config_values",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")
    if postgres:
        op.drop_constraint(OLD_KEY, "time_limits", type_="unique")
        op.add_column("time_limits", sa.Column("valid_from", sa.DateTime(), nullable=True))
        op.add_column("time_limits", sa.Column("valid_to", sa.DateTime(), nullable=True))
        op.create_unique_constraint(NEW_KEY, "time_limits",
                                    ["kind", "category_id", "major_code", "level", "stage", "valid_from"])
    else:
        with op.batch_alter_table("time_limits", recreate="always") as batch:
            batch.drop_constraint(OLD_KEY, type_="unique")
            batch.add_column(sa.Column("valid_from", sa.DateTime(), nullable=True))
            batch.add_column(sa.Column("valid_to", sa.DateTime(), nullable=True))
            batch.create_unique_constraint(NEW_KEY, ["kind", "category_id", "major_code", "level", "stage",
                                                     "valid_from"])
    op.execute(f"CREATE UNIQUE INDEX {NEW_INDEX} ON time_limits (coalesce(kind, ''), coalesce(category_id, 0), "
               f"coalesce(major_code, ''), level, stage, coalesce(valid_from, {_SINCE_EVER}))")
    if not postgres:
        return
    schema = _schema()
    path = f"SET search_path = {schema}, pg_temp"
    _raw(_limit_at_function(path))
    _raw(_limit_now_function(path))
    op.execute(f"REVOKE EXECUTE ON FUNCTION {LIMIT5} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {LIMIT5} TO {_everyone()}")
    _rewrite(DERIVE, _DERIVE_EDITS)
    admin = group_role("admin")
    op.execute(f"GRANT SELECT ON config_values TO {_everyone()}")
    op.execute(f"GRANT INSERT, UPDATE (value, updated_at, updated_by) ON config_values TO {admin}")
    op.execute(f"GRANT UPDATE (valid_from, valid_to) ON time_limits TO {admin}")
    op.execute(f"GRANT UPDATE (enabled, closing_standard) ON categories TO {admin}")
    op.execute(f"GRANT UPDATE (active) ON routing_rules TO {admin}")


def downgrade() -> None:
    postgres = _postgres()
    if postgres:
        schema = _schema()
        path = f"SET search_path = {schema}, pg_temp"
        _rewrite(DERIVE, _DERIVE_EDITS, reverse=True)
        _raw(_SQL_TIMERS._limit_function(path).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        op.execute(f"DROP FUNCTION IF EXISTS {LIMIT5}")
    # the versions go: only the rows in force now stay (the old key allows one row per scope)
    op.execute("DELETE FROM time_limits WHERE valid_to IS NOT NULL")
    op.execute(f"DROP INDEX IF EXISTS {NEW_INDEX}")
    if postgres:
        op.drop_constraint(NEW_KEY, "time_limits", type_="unique")
        op.drop_column("time_limits", "valid_to")
        op.drop_column("time_limits", "valid_from")
        op.create_unique_constraint(OLD_KEY, "time_limits", ["kind", "category_id", "major_code", "level", "stage"])
    else:
        with op.batch_alter_table("time_limits", recreate="always") as batch:
            batch.drop_constraint(NEW_KEY, type_="unique")
            batch.drop_column("valid_to")
            batch.drop_column("valid_from")
            batch.create_unique_constraint(OLD_KEY, ["kind", "category_id", "major_code", "level", "stage"])
    op.execute(f"CREATE UNIQUE INDEX {OLD_INDEX} ON time_limits "
               "(coalesce(kind, ''), coalesce(category_id, 0), coalesce(major_code, ''), level, stage)")
    op.drop_table("config_values")
    if postgres:
        op.drop_column("routing_rules", "active")
        op.drop_column("categories", "closing_standard")
        op.drop_column("categories", "enabled")
    else:
        op.execute("ALTER TABLE routing_rules DROP COLUMN active")
        op.execute("ALTER TABLE categories DROP COLUMN closing_standard")
        op.execute("ALTER TABLE categories DROP COLUMN enabled")
