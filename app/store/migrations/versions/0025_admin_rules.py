"""The administrator's rules (issue 12): jurisdictions, area routing, users' roles following the login.

- ``department_areas(department_id, geom MULTIPOLYGON)``: a department's jurisdiction (辖区), drawn
  on the map or imported from an OGR file (app.services.config.ConfigService.set_jurisdiction).
- ``routing_areas(rule_id, kind, label, grid_codes, geom MULTIPOLYGON)``: a routing rule's area
  beyond an administrative area (street, community: ``routing_rules.admin_area_id`` as before):
  ``grids`` (a set of unit grids by code), ``polygon`` (a drawn polygon) or ``jurisdiction`` (the
  rule's department's own jurisdiction). app.store.config_areas holds the table definitions.
- The component owner/maintainer rules are a whole setting (``config_values`` ``component_routing``):
  no schema.
- Users' changes (role, department, retire, reactivate) are recorded in ``config_changes`` (entity
  ``user``): no schema.
- PostgreSQL: an AFTER INSERT trigger on ``config_changes`` sends ``NOTIFY gridhall_config`` (the
  new ``seq``, delivered at commit) for whoever saved it, so every workstation and the wall hear a
  saved change (app.store.config_feed); SpatiaLite clients poll (no schema needed).

PostgreSQL
  Everyone reads the two tables; only ``gridhall_admin`` inserts and updates them (no DELETE: an
  area is replaced, a rule retired). The login's group follows ``users.role``: an AFTER UPDATE OF
  role trigger (``gridhall_accounts.users_login_group``, SECURITY DEFINER of ``gridhall_usermgr``,
  guarded to run for ``<schema>.users`` only) revokes the login's GridHall groups, grants the new
  role's group and ends the login's open sessions (its desk logs in again with the new role). The
  department a department login acts for is already read from ``users.department_id``
  (``gridhall_username(session_user)``, migration 0002). Like 0007 this needs a superuser once
  (the function belongs to a role nobody can become).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from app.store.security import (
    ACCOUNTS_ROLE,
    ACCOUNTS_SCHEMA,
    GROUP_ROLES,
    LOGIN_PREFIX,
    OWNER_ROLE,
    group_role,
)

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

SRID = 4549
TABLES = ("department_areas", "routing_areas")
GROUP_FN = f"{ACCOUNTS_SCHEMA}.users_login_group()"
TRIGGER = "users_login_group"
NOTIFY_FN = "gridhall_config_notify()"
NOTIFY_TRIGGER = "config_changes_notify"


def _spatialite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _add_geom(table: str) -> None:
    bind = op.get_bind()
    if _spatialite():
        ok = bind.exec_driver_sql(f"SELECT AddGeometryColumn('{table}', 'geom', {SRID}, 'MULTIPOLYGON', 'XY')").scalar()
        ok = ok and bind.exec_driver_sql(f"SELECT CreateSpatialIndex('{table}', 'geom')").scalar()
        if not ok:
            raise RuntimeError(f"SpatiaLite refused to add or index {table}.geom")
        return
    op.execute(f"ALTER TABLE {table} ADD COLUMN geom geometry(MULTIPOLYGON, {SRID})")
    op.execute(f"CREATE INDEX idx_{table}_geom ON {table} USING gist (geom)")


def _group_function(schema: str) -> str:
    groups = "ARRAY[" + ",".join(_lit(group_role(r)) for r in GROUP_ROLES) + "]::text[]"
    s = ACCOUNTS_SCHEMA
    return f"""
CREATE FUNCTION {GROUP_FN} RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE login text; wanted text; g text; login_oid oid;
BEGIN
  IF TG_TABLE_SCHEMA <> {_lit(schema)} OR TG_TABLE_NAME <> 'users' OR TG_OP <> 'UPDATE'
     OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'ROW' THEN
    RAISE EXCEPTION 'gridhall_accounts.users_login_group() runs only as the AFTER UPDATE row trigger of {schema}.users, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  login := {_lit(LOGIN_PREFIX)} || NEW.username;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = login) THEN
    RETURN NULL;  -- an account without a database login
  END IF;
  wanted := 'gridhall_' || NEW.role;
  IF NOT (wanted = ANY({groups})) THEN
    RAISE EXCEPTION 'gridhall_accounts: role % has no GridHall group', NEW.role USING ERRCODE = 'insufficient_privilege';
  END IF;
  login_oid := {s}.check_login(login);  -- by oid: a role name like gh_zhang.san is no regrole literal
  FOREACH g IN ARRAY {groups} LOOP
    IF g <> wanted AND EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r
                                   ON r.oid = m.roleid WHERE m.member = login_oid AND r.rolname = g) THEN
      EXECUTE pg_catalog.format('REVOKE %I FROM %I', g, login);
    END IF;
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
                  WHERE m.member = login_oid AND r.rolname = wanted) THEN
    EXECUTE pg_catalog.format('GRANT %I TO %I', wanted, login);
  END IF;
  -- never two groups: a grant this role could not revoke (made by another grantor) refuses the change
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
              WHERE m.member = login_oid AND r.rolname = ANY({groups}) AND r.rolname <> wanted) THEN
    RAISE EXCEPTION 'gridhall_accounts: login % keeps another GridHall group; a superuser must move it', login
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM {s}.end_sessions(login);  -- the desk logs in again, with the new role
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        "department_areas",
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), primary_key=True),
        sa.Column("source", sa.String(200), nullable=True),
    )
    op.create_table(
        "routing_areas",
        sa.Column("rule_id", sa.Integer(), sa.ForeignKey("routing_rules.id"), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("grid_codes", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('grids', 'polygon', 'jurisdiction')", name="ck_routing_areas_kind"),
    )
    for table in TABLES:
        _add_geom(table)
    if _spatialite():
        return
    bind = op.get_bind()
    schema = str(bind.exec_driver_sql("SELECT current_schema()").scalar())
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    admin = group_role("admin")
    for table in TABLES:
        op.execute(f"GRANT SELECT ON {table} TO {everyone}")
        op.execute(f"GRANT INSERT, UPDATE ON {table} TO {admin}")
    # every saved configuration change is a hint on gridhall_config (sent at commit), whoever wrote it
    op.execute(f"""
CREATE FUNCTION {NOTIFY_FN} RETURNS trigger LANGUAGE plpgsql SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF TG_TABLE_SCHEMA IS DISTINCT FROM '{schema}' OR TG_TABLE_NAME <> 'config_changes' THEN
    RAISE EXCEPTION 'trigger function gridhall_config_notify runs only on {schema}.config_changes, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_notify('gridhall_config', NEW.seq::text);
  RETURN NULL;
END $$""")
    op.execute(f"REVOKE ALL ON FUNCTION {NOTIFY_FN} FROM PUBLIC")
    op.execute(f"CREATE TRIGGER {NOTIFY_TRIGGER} AFTER INSERT ON config_changes FOR EACH ROW EXECUTE FUNCTION {NOTIFY_FN}")
    # the login's group follows users.role (a function of the role nobody can become: a superuser once)
    superuser = bind.exec_driver_sql("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user").scalar()
    if not superuser:
        raise RuntimeError("升级到第 0025 版需要 PostgreSQL 超级用户运行一次（它在 gridhall_accounts 中建立让登录的组角色"
                           "跟随用户角色的函数）：请由 DBA 以超级用户执行 gridhall db upgrade，见 docs/deploy.md")
    op.execute("SET LOCAL ROLE NONE")
    op.execute(_group_function(schema))
    op.execute(f"ALTER FUNCTION {GROUP_FN} OWNER TO {ACCOUNTS_ROLE}")
    op.execute(f"REVOKE ALL ON FUNCTION {GROUP_FN} FROM PUBLIC")
    op.execute(f"CREATE TRIGGER {TRIGGER} AFTER UPDATE OF role ON users FOR EACH ROW "
               f"WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION {GROUP_FN}")
    op.execute(f"SET LOCAL ROLE {OWNER_ROLE}")


def downgrade() -> None:
    if _spatialite():
        bind = op.get_bind()
        for table in TABLES:
            bind.exec_driver_sql(f"SELECT DisableSpatialIndex('{table}', 'geom')")
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS idx_{table}_geom")
            bind.exec_driver_sql(f"SELECT DiscardGeometryColumn('{table}', 'geom')")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {NOTIFY_TRIGGER} ON config_changes")
        op.execute(f"DROP FUNCTION IF EXISTS {NOTIFY_FN}")
        op.execute("SET LOCAL ROLE NONE")
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON users")
        op.execute(f"DROP FUNCTION IF EXISTS {GROUP_FN}")
        op.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
    op.drop_table("routing_areas")
    op.drop_table("department_areas")
