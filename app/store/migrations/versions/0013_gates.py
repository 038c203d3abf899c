"""Verification gates and closing evidence (issue 11, items 1 and 2).

``source_rules(source PK, verify_before_filing)``
  which report sources must be verified on site (核实) before they are filed (立案): public,
  hotline, media and police reports must; supervisor, video, leader and department reports
  may be filed directly (``SOURCE_RULES``).
``categories.close_evidence`` ('refuse' | 'override' | 'none', default 'override')
  what 结案 without its evidence (app.domain.evidence: before and after photos with their
  shooting time, the after photo taken after the latest dispatch and not before the before
  photo) means for the category: refused; allowed only as the shift leader's recorded
  override (payload ``"override": true`` and a reason); or not checked.
``reply_templates`` (PostgreSQL)
  the 不予立案 reply says 经审核 (reviewed), not 经核实: a report can be rejected without a
  verification on site (app.domain.derived.TEMPLATES has the same text).

PostgreSQL
  ``case_events_gates`` (BEFORE INSERT on case_events; triggers fire in name order: after
  ``case_events_chain`` has checked the login, role, workflow step and reason, and after
  ``case_events_derive``, which changes nothing this trigger reads: the case's source and
  category, its earlier events and attachments) runs ``gridhall_case_events_gates()`` (SECURITY
  DEFINER: it reads the case's events and attachments whatever the login's row-level
  security shows, and the rules). For every session but the owner's import path it
  * refuses ``file`` when the case's latest ``verify`` says not confirmed, and when the case's
    source needs verification and no ``verify`` was recorded;
  * refuses ``close`` when the evidence is incomplete and the category refuses, and when it
    is incomplete, the category asks for an override and the event carries no
    ``"override": true`` with a reason.
  Everyone reads ``source_rules``; only the administrator inserts rows and updates
  ``verify_before_filing`` (column-wise, as 0010's reference tables; nobody deletes); the
  administrator may update ``categories.close_evidence``.
SpatiaLite
  the table and the column: app.services.cases (``file``, ``close``) checks the same rules.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.definitions import Action, Source
from app.domain.evidence import CLOSE_EVIDENCE_MODES
from app.store.security import GROUP_ROLES, group_role

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: Sources verified on site before filing (True) or filed directly (False).
SOURCE_RULES = {
    Source.PUBLIC: True, Source.HOTLINE: True, Source.MEDIA: True, Source.POLICE: True,
    Source.SUPERVISOR: False, Source.VIDEO: False, Source.LEADER: False, Source.DEPARTMENT: False,
}
#: The actions after which the department works on the case: the after photo is taken after the latest.
DISPATCH_ACTIONS = ("dispatch", "rule")
FUNCTION = "gridhall_case_events_gates()"
#: 不予立案 reply before and after this revision (reply_templates on PostgreSQL).
REJECT_BEFORE = ("您好！您{when}反映的「{category}」问题（案卷号 {number}）经核实不予立案，原因：{reason}。"
                 "如有疑问，欢迎来电咨询。")
REJECT_AFTER = ("您好！您{when}反映的「{category}」问题（案卷号 {number}）经审核不予立案，原因：{reason}。"
                "如有疑问，欢迎来电咨询。")


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join(_lit(v) for v in values) + "]::text[]"


_GATES = """
CREATE FUNCTION gridhall_case_events_gates() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE
  p jsonb; c record; v jsonb; needs boolean; mode text; dispatched timestamp;
  has_before boolean; has_after boolean; before_at timestamp; after_at timestamp;
  untimed_before boolean; untimed_after boolean; missing text[] := ARRAY[]::text[];
BEGIN
  IF TG_TABLE_SCHEMA <> {schema} OR TG_TABLE_NAME <> 'case_events' OR TG_OP <> 'INSERT' OR TG_LEVEL <> 'ROW' THEN
    RAISE EXCEPTION 'gridhall_case_events_gates() runs only as the BEFORE INSERT trigger of %.case_events', {schema}
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.action NOT IN ({file}, {close}) THEN
    RETURN NEW;
  END IF;
  IF gridhall_exempt() AND pg_catalog.current_setting('gridhall.import', true) = 'on' THEN
    RETURN NEW;  -- the owner's import path brings its own history
  END IF;
  SELECT x.source, x.category_id INTO c FROM cases x WHERE x.id = NEW.case_id;
  IF NOT FOUND THEN
    RETURN NEW;  -- the foreign key refuses the event
  END IF;
  IF NEW.action = {file} THEN
    SELECT e.payload::jsonb INTO v FROM case_events e
     WHERE e.case_id = NEW.case_id AND e.action = {verify} ORDER BY e.seq DESC LIMIT 1;
    IF FOUND AND pg_catalog.jsonb_typeof(v) = 'object' AND (v->'confirmed') = 'false'::jsonb THEN
      RAISE EXCEPTION 'case_events: case % was verified as not confirmed: reject it (not filed) or send it to verify again, never file it', NEW.case_id
        USING ERRCODE = 'check_violation';
    END IF;
    IF NOT FOUND THEN
      SELECT r.verify_before_filing INTO needs FROM source_rules r WHERE r.source = c.source;
      IF coalesce(needs, false) THEN
        RAISE EXCEPTION 'case_events: a % report is verified on site before it is filed (source_rules): case % has no verification', c.source, NEW.case_id
          USING ERRCODE = 'check_violation';
      END IF;
    END IF;
    RETURN NEW;
  END IF;
  -- close: the closing evidence of app.domain.evidence.closing_evidence
  SELECT g.close_evidence INTO mode FROM categories g WHERE g.id = c.category_id;
  IF coalesce(mode, 'override') = 'none' THEN
    RETURN NEW;
  END IF;
  SELECT max(e.at) INTO dispatched FROM case_events e
   WHERE e.case_id = NEW.case_id AND e.action = ANY({dispatch_actions});
  SELECT bool_or(a.kind IN ('report', 'before')), bool_or(a.kind = 'after'),
         min(a.taken_at) FILTER (WHERE a.kind IN ('report', 'before')), max(a.taken_at) FILTER (WHERE a.kind = 'after'),
         bool_or(a.kind IN ('report', 'before') AND a.taken_at IS NULL), bool_or(a.kind = 'after' AND a.taken_at IS NULL)
    INTO has_before, has_after, before_at, after_at, untimed_before, untimed_after
    FROM attachments a WHERE a.case_id = NEW.case_id;
  IF NOT coalesce(has_before, false) THEN missing := missing || 'before_photo'::text; END IF;
  IF NOT coalesce(has_after, false) THEN missing := missing || 'after_photo'::text; END IF;
  IF coalesce(has_before, false) AND before_at IS NULL THEN missing := missing || 'before_time'::text; END IF;
  IF coalesce(has_after, false) AND after_at IS NULL THEN missing := missing || 'after_time'::text; END IF;
  IF after_at IS NOT NULL AND dispatched IS NOT NULL AND after_at < dispatched THEN
    missing := missing || 'after_after_dispatch'::text;
  END IF;
  IF before_at IS NOT NULL AND after_at IS NOT NULL AND after_at < before_at THEN
    missing := missing || 'after_after_before'::text;
  END IF;
  IF pg_catalog.cardinality(missing) = 0 THEN
    RETURN NEW;
  END IF;
  IF mode = 'refuse' THEN
    RAISE EXCEPTION 'case_events: case % lacks its closing evidence (%): its category refuses the close', NEW.case_id, pg_catalog.array_to_string(missing, ', ')
      USING ERRCODE = 'check_violation';
  END IF;
  p := CASE WHEN NEW.payload IS NULL OR pg_catalog.json_typeof(NEW.payload) <> 'object' THEN '{{}}'::jsonb
            ELSE NEW.payload::jsonb END;
  IF (p->'override') IS DISTINCT FROM 'true'::jsonb OR pg_catalog.btrim(coalesce(NEW.reason, '')) = '' THEN
    RAISE EXCEPTION 'case_events: case % lacks its closing evidence (%): a close needs the shift leader''s override ("override": true) with a reason', NEW.case_id, pg_catalog.array_to_string(missing, ', ')
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$"""


def function(schema: str) -> str:
    """The CREATE FUNCTION statement (``schema``: where the tables live)."""
    return _GATES.format(path=f"SET search_path = {schema}, pg_temp", schema=_lit(schema),
                         file=_lit(Action.FILE.value), close=_lit(Action.CLOSE.value),
                         verify=_lit(Action.VERIFY.value), dispatch_actions=_array(DISPATCH_ACTIONS))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    table = op.create_table(
        "source_rules",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("verify_before_filing", sa.Boolean(), nullable=False),
    )
    op.bulk_insert(table, [{"source": s.value, "verify_before_filing": v} for s, v in SOURCE_RULES.items()])
    modes = ", ".join(_lit(m) for m in CLOSE_EVIDENCE_MODES)
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("close_evidence", sa.String(16), nullable=False, server_default="override"))
    if not _postgres():
        return
    op.execute(f"ALTER TABLE categories ADD CONSTRAINT ck_categories_close_evidence CHECK (close_evidence IN ({modes}))")
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    admin = group_role("admin")
    op.execute(f"GRANT SELECT ON source_rules TO {everyone}")
    op.execute(f"GRANT INSERT, UPDATE (verify_before_filing) ON source_rules TO {admin}")
    op.execute(f"GRANT UPDATE (close_evidence) ON categories TO {admin}")
    bind = op.get_bind()
    schema = str(bind.exec_driver_sql("SELECT current_schema()").scalar_one())
    bind.exec_driver_sql(function(schema).replace("%", "%%"))
    op.execute(f"REVOKE EXECUTE ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute("CREATE TRIGGER case_events_gates BEFORE INSERT ON case_events FOR EACH ROW "
               f"EXECUTE FUNCTION {FUNCTION}")
    bind.exec_driver_sql("UPDATE reply_templates SET template = %s WHERE action = %s AND template = %s",
                         (REJECT_AFTER, Action.REJECT.value, REJECT_BEFORE))


def downgrade() -> None:
    if _postgres():
        bind = op.get_bind()
        bind.exec_driver_sql("UPDATE reply_templates SET template = %s WHERE action = %s AND template = %s",
                             (REJECT_BEFORE, Action.REJECT.value, REJECT_AFTER))
        op.execute("DROP TRIGGER IF EXISTS case_events_gates ON case_events")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}")
        op.execute("ALTER TABLE categories DROP CONSTRAINT IF EXISTS ck_categories_close_evidence")
    # SQLite ≥ 3.35 drops a plain column in place (a batch copy of categories would break the
    # foreign keys that point at it)
    op.execute("ALTER TABLE categories DROP COLUMN close_evidence")
    op.drop_table("source_rules")
