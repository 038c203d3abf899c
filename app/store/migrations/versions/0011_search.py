"""Search over every case: the ``case_search`` index, kept by triggers on ``cases`` (issue 10, item 2).

The index's definition (document, bigram and run-suffix terms) is in ``app/store/search.py``;
this migration installs it on both backends and fills it for the cases already stored:

SpatiaLite
  ``search_positions(n)`` (1 … MAX_DOC + 1, the character positions the SQL walks), the FTS5
  table ``case_search(terms, doc UNINDEXED)`` (rowid = case id, ``unicode61`` over the
  space-separated terms, a prefix index of one character for one-character Chinese words) and three triggers on ``cases`` (insert; update of a searched column;
  delete).
PostgreSQL
  the same ``search_positions``; ``case_search(case_id, doc, terms tsvector)`` with a GIN index
  on ``terms``; the trigger function ``gridhall_cases_search()`` (SECURITY DEFINER: logins have
  no write grant on the index; it starts with a guard refusing any table but ``cases``) fired
  after an insert and after an update that changes a searched column (whoever updates: the
  database's own derive trigger included); ``gridhall_search_fill()`` for bulk loads that set
  triggers aside (owner only). ``case_search`` is readable by every application group under
  row-level security: staff see every row, a department the rows of the cases it sees.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from app.store.search import MAX_DOC, doc_sql, fill_missing, fill_statements, terms_sql
from app.store.security import GROUP_ROLES, group_role

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: The columns of ``cases`` the document is made of (an update of another column leaves the index).
SEARCHED = ("number", "reporter_phone", "address", "grid_id", "component_id", "category_id", "description")
DEPARTMENT_GROUP = group_role("department")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _positions() -> None:
    op.execute("CREATE TABLE search_positions (n INTEGER PRIMARY KEY)")
    # MAX_DOC characters plus the trailing separator the term SQL appends.
    op.execute("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < "
               f"{MAX_DOC + 1}) INSERT INTO search_positions (n) SELECT n FROM s")


def _changed(old: str, new: str) -> str:
    return " OR ".join(f"{old}.{c} IS NOT {new}.{c}" for c in SEARCHED)


def _sqlite_upgrade() -> None:
    _positions()
    op.execute("CREATE VIRTUAL TABLE case_search USING fts5(terms, doc UNINDEXED, tokenize = 'unicode61', prefix = '1')")
    # Two steps: the document is stored, then cut into terms from the stored column (a derived
    # document would be rebuilt at every reference in the term SQL).
    insert = (f"INSERT INTO case_search (rowid, doc, terms) VALUES (NEW.id, {doc_sql('sqlite', 'NEW')}, ''); "
              f"UPDATE case_search SET terms = {terms_sql('sqlite', 'case_search.doc')} WHERE rowid = NEW.id;")
    op.execute(f"CREATE TRIGGER cases_search_insert AFTER INSERT ON cases BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER cases_search_update AFTER UPDATE OF {', '.join(SEARCHED)} ON cases "
               f"WHEN {_changed('OLD', 'NEW')} BEGIN DELETE FROM case_search WHERE rowid = OLD.id; {insert} END")
    op.execute("CREATE TRIGGER cases_search_delete AFTER DELETE ON cases "
               "BEGIN DELETE FROM case_search WHERE rowid = OLD.id; END")
    fill_missing(op.get_bind())


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one())


def _postgres_upgrade() -> None:
    schema = _schema()
    path = f"SET search_path = {schema}, pg_temp"
    _positions()
    op.execute("""CREATE TABLE case_search (
        case_id integer PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
        doc text NOT NULL,
        terms tsvector NOT NULL)""")
    op.execute("CREATE INDEX ix_case_search_terms ON case_search USING gin (terms)")
    upsert = ("d := " + doc_sql("postgresql", "NEW") + ";\n  "
              "INSERT INTO case_search (case_id, doc, terms) VALUES (NEW.id, d, gridhall_search_terms(d)) "
              "ON CONFLICT (case_id) DO UPDATE SET doc = EXCLUDED.doc, terms = EXCLUDED.terms;")
    bind = op.get_bind()  # raw: the bodies hold % (RAISE) and :: casts, no bind parameters
    bind.exec_driver_sql(f"""
CREATE FUNCTION gridhall_search_terms(d text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE {path} AS $$
  SELECT {terms_sql("postgresql", "d")}
$$""".replace("%", "%%"))
    bind.exec_driver_sql(f"""
CREATE FUNCTION gridhall_cases_search() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE d text;
BEGIN
  IF TG_TABLE_SCHEMA IS DISTINCT FROM '{schema}' OR TG_TABLE_NAME IS DISTINCT FROM 'cases' THEN
    RAISE EXCEPTION 'trigger function gridhall_cases_search runs only on {schema}.cases, not on %.%',
      TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  {upsert}
  RETURN NULL;
END $$""".replace("%", "%%"))
    bind.exec_driver_sql(f"""
CREATE FUNCTION gridhall_search_fill() RETURNS integer LANGUAGE plpgsql {path} AS $$
DECLARE n integer;
BEGIN
  {fill_statements('postgresql', 'NOT EXISTS (SELECT 1 FROM case_search s WHERE s.case_id = c.id)')[0]};
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$""".replace("%", "%%"))
    for fn in ("gridhall_search_terms(text)", "gridhall_cases_search()", "gridhall_search_fill()"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
    op.execute("CREATE TRIGGER cases_search_insert AFTER INSERT ON cases "
               "FOR EACH ROW EXECUTE FUNCTION gridhall_cases_search()")
    op.execute("CREATE TRIGGER cases_search_update AFTER UPDATE ON cases FOR EACH ROW "
               f"WHEN ({' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in SEARCHED)}) "
               "EXECUTE FUNCTION gridhall_cases_search()")
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    staff = ", ".join(group_role(r) for r in GROUP_ROLES if r.value != "department")
    op.execute(f"GRANT SELECT ON case_search TO {everyone}")
    op.execute("ALTER TABLE case_search ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY case_search_staff ON case_search FOR SELECT TO {staff} USING (true)")
    op.execute(f"""CREATE POLICY case_search_department_read ON case_search FOR SELECT TO {DEPARTMENT_GROUP}
        USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_search.case_id))""")
    op.execute("SELECT gridhall_search_fill()")
    op.execute("ANALYZE case_search")


def upgrade() -> None:
    if _postgres():
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS cases_search_update ON cases")
        op.execute("DROP TRIGGER IF EXISTS cases_search_insert ON cases")
        op.execute("DROP FUNCTION IF EXISTS gridhall_search_fill()")
        op.execute("DROP FUNCTION IF EXISTS gridhall_cases_search()")
        op.execute("DROP FUNCTION IF EXISTS gridhall_search_terms(text)")
    else:
        for name in ("cases_search_delete", "cases_search_update", "cases_search_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS case_search")
    op.execute("DROP TABLE IF EXISTS search_positions")
