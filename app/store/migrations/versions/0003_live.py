"""Live sync and conflict control: case_claims, and NOTIFY on every committed case change.

PostgreSQL: statement-level AFTER triggers on case_events (INSERT) and cases (UPDATE) send
``pg_notify('gridhall_cases', json)`` with the changed case ids, once per statement (a bulk
import of thousands of rows costs a few notifications, not one per row). NOTIFY is delivered
only when the transaction commits, so clients never hear of a change that was rolled back.
Payloads (at most 400 ids each, under PostgreSQL's 8000-byte limit):

    {"ids": [3, 7], "action": "dispatch", "actor": "zhangsan"}   case_events
    {"ids": [3, 7]}                                                cases (no action known)
    {"resync": true, "action": …, "actor": …}                      more than 2000 cases at once
    {"claims": [3]}                                                case_claims changed

SpatiaLite has no NOTIFY: clients poll ``PRAGMA data_version`` (app/store/notify.py), so only
the table is added there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from app.store.security import GROUP_ROLES, OPERATIONAL_ROLES, group_role

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHANNEL = "gridhall_cases"
#: Case ids per notification (each id ≤ 11 bytes: 400 ids stay far below the 8000-byte limit).
IDS_PER_NOTIFY = 400
#: More cases than this in one statement: ask clients to reload everything instead.
RESYNC_ABOVE = 2000

_FUNCTIONS = f"""
CREATE FUNCTION gridhall_notify_ids(ids integer[], extra jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE n integer := coalesce(cardinality(ids), 0); i integer := 1;
BEGIN
  IF n = 0 THEN RETURN; END IF;
  IF n > {RESYNC_ABOVE} THEN
    PERFORM pg_notify('{CHANNEL}', (extra || '{{"resync": true}}'::jsonb)::text);
    RETURN;
  END IF;
  WHILE i <= n LOOP
    PERFORM pg_notify('{CHANNEL}', (extra || jsonb_build_object('ids', ids[i:i + {IDS_PER_NOTIFY - 1}]))::text);
    i := i + {IDS_PER_NOTIFY};
  END LOOP;
END $$;

CREATE FUNCTION gridhall_notify_case_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids integer[]; act text; who text;
BEGIN
  SELECT array_agg(DISTINCT case_id) INTO ids FROM new_events;
  -- The operator's step names the change, not the automatic reply recorded after it.
  SELECT action, actor INTO act, who FROM new_events ORDER BY (role = 'system'), chain_no DESC LIMIT 1;
  PERFORM gridhall_notify_ids(ids, jsonb_build_object('action', act, 'actor', who));
  RETURN NULL;
END $$;

CREATE FUNCTION gridhall_notify_cases() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids integer[];
BEGIN
  SELECT array_agg(DISTINCT id) INTO ids FROM new_cases;
  PERFORM gridhall_notify_ids(ids, '{{}}'::jsonb);
  RETURN NULL;
END $$;

CREATE FUNCTION gridhall_notify_claims() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', json_build_object(
    'claims', json_build_array(CASE WHEN TG_OP = 'DELETE' THEN OLD.case_id ELSE NEW.case_id END))::text);
  RETURN NULL;
END $$;
"""

_TRIGGERS = (
    "CREATE TRIGGER case_events_notify AFTER INSERT ON case_events REFERENCING NEW TABLE AS new_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION gridhall_notify_case_events()",
    "CREATE TRIGGER cases_notify AFTER UPDATE ON cases REFERENCING NEW TABLE AS new_cases "
    "FOR EACH STATEMENT EXECUTE FUNCTION gridhall_notify_cases()",
    "CREATE TRIGGER case_claims_notify AFTER INSERT OR UPDATE OR DELETE ON case_claims "
    "FOR EACH ROW EXECUTE FUNCTION gridhall_notify_claims()",
)
_DROP = (
    "DROP TRIGGER IF EXISTS case_claims_notify ON case_claims",
    "DROP TRIGGER IF EXISTS cases_notify ON cases",
    "DROP TRIGGER IF EXISTS case_events_notify ON case_events",
    "DROP FUNCTION IF EXISTS gridhall_notify_claims()",
    "DROP FUNCTION IF EXISTS gridhall_notify_cases()",
    "DROP FUNCTION IF EXISTS gridhall_notify_case_events()",
    "DROP FUNCTION IF EXISTS gridhall_notify_ids(integer[], jsonb)",
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "case_claims",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("workstation", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    if not _postgres():
        return
    bind = op.get_bind()
    bind.exec_driver_sql(_FUNCTIONS)  # raw: the array slice ids[i:…] is not a bind parameter
    for sql in _TRIGGERS:
        bind.exec_driver_sql(sql)
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    operational = ", ".join(group_role(r) for r in OPERATIONAL_ROLES)
    op.execute(f"GRANT SELECT ON case_claims TO {everyone}")
    # Claims are advisory (who is filling a form); taking over an expired one needs UPDATE/DELETE.
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON case_claims TO {operational}")


def downgrade() -> None:
    if _postgres():
        for sql in _DROP:
            op.execute(sql)
    op.drop_table("case_claims")
